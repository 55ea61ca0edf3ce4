package discovery

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// testDayKey mimics the caller: a per-zone, per-UTC-day key from a secret.
func testDayKey(secret string) func(time.Time) [32]byte {
	return func(day time.Time) [32]byte {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte(utcDay(day).Format("2006-01-02")))
		return [32]byte(m.Sum(nil))
	}
}

// seededRand is a deterministic io.Reader for nonces.
type seededRand struct{ r *rand.ChaCha8 }

func newSeeded(seed byte) *seededRand {
	return &seededRand{rand.NewChaCha8([32]byte{seed})}
}
func (s *seededRand) Read(p []byte) (int, error) { return s.r.Read(p) }

func testPeerID(t testing.TB, seed byte) peer.ID {
	t.Helper()
	sk, _, err := crypto.GenerateEd25519Key(newSeeded(seed))
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPrivateKey(sk)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func addrs(t testing.TB, ss ...string) []ma.Multiaddr {
	t.Helper()
	out := make([]ma.Multiaddr, len(ss))
	for i, s := range ss {
		out[i] = ma.StringCast(s)
	}
	return out
}

var (
	day1 = time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC)
	day2 = day1.AddDate(0, 0, 1)
)

func sampleInfo(t testing.TB) peer.AddrInfo {
	return peer.AddrInfo{ID: testPeerID(t, 1), Addrs: addrs(t,
		"/ip4/192.168.1.20/tcp/4001",
		"/ip4/192.168.1.20/udp/4001/quic-v1",
		"/ip6/fd00::20/tcp/4001",
	)}
}

func equalInfo(a, b peer.AddrInfo) bool {
	if a.ID != b.ID || len(a.Addrs) != len(b.Addrs) {
		return false
	}
	for i := range a.Addrs {
		if !a.Addrs[i].Equal(b.Addrs[i]) {
			return false
		}
	}
	return true
}

func TestSealOpenRoundTrip(t *testing.T) {
	key := testDayKey("zone")(day1)
	ai := sampleInfo(t)
	txt, err := SealRecord(key, day1, ai, newSeeded(7))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range txt {
		if len(s) == 0 || len(s) > 255 {
			t.Fatalf("TXT string of %d bytes", len(s))
		}
		if strings.ContainsAny(s, "=+/ \"\\") {
			t.Fatalf("TXT string not raw base64url: %q", s)
		}
	}
	// Any time during the day names the same day.
	got, err := OpenRecord(key, day1.Add(23*time.Hour+59*time.Minute), txt)
	if err != nil {
		t.Fatal(err)
	}
	if !equalInfo(got, ai) {
		t.Fatalf("got %v, want %v", got, ai)
	}
	// The nonce is random: sealing again gives a different record.
	txt2, err := SealRecord(key, day1, ai, newSeeded(8))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(txt, "") == strings.Join(txt2, "") {
		t.Fatal("two seals with different nonces are identical")
	}
}

func TestSealMaxSizeSplits(t *testing.T) {
	key := testDayKey("zone")(day1)
	// Eight long addresses: forces several TXT strings.
	var ss []string
	for i := range MaxAddrs {
		ss = append(ss, "/ip6/fd00::"+strconv.Itoa(10+i)+"/udp/4001/quic-v1/webtransport")
	}
	ai := peer.AddrInfo{ID: testPeerID(t, 2), Addrs: addrs(t, ss...)}
	txt, err := SealRecord(key, day1, ai, newSeeded(1))
	if err != nil {
		t.Fatal(err)
	}
	if len(txt) < 2 || len(txt) > maxTXTStrings {
		t.Fatalf("%d TXT strings", len(txt))
	}
	for i, s := range txt {
		if len(s) > maxTXTString || (i < len(txt)-1 && len(s) != maxTXTString) {
			t.Fatalf("string %d has %d bytes", i, len(s))
		}
	}
	got, err := OpenRecord(key, day1, txt)
	if err != nil || !equalInfo(got, ai) {
		t.Fatalf("round trip: %v %v", got, err)
	}
}

func TestSealRejects(t *testing.T) {
	key := testDayKey("zone")(day1)
	id := testPeerID(t, 1)
	many := make([]string, MaxAddrs+1)
	for i := range many {
		many[i] = "/ip4/10.0.0.1/tcp/" + strconv.Itoa(1+i)
	}
	// A single huge multiaddr (a long unix path) cannot fit.
	huge := ma.StringCast("/unix/" + strings.Repeat("x", 1000))
	cases := []struct {
		name string
		ai   peer.AddrInfo
		want error
	}{
		{"no addrs", peer.AddrInfo{ID: id}, ErrNoAddrs},
		{"too many addrs", peer.AddrInfo{ID: id, Addrs: addrs(t, many...)}, ErrTooLarge},
		{"huge addr", peer.AddrInfo{ID: id, Addrs: []ma.Multiaddr{huge}}, ErrTooLarge},
		{"empty id", peer.AddrInfo{Addrs: addrs(t, "/ip4/10.0.0.1/tcp/1")}, nil},
		{"bad id", peer.AddrInfo{ID: peer.ID("nope"), Addrs: addrs(t, "/ip4/10.0.0.1/tcp/1")}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			txt, err := SealRecord(key, day1, c.ai, newSeeded(1))
			if err == nil {
				t.Fatalf("sealed %d strings, want error", len(txt))
			}
			if c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
	// Too many bytes in total, even with few enough addresses.
	var big []ma.Multiaddr
	for i := range MaxAddrs {
		big = append(big, ma.StringCast("/unix/"+strings.Repeat(string(rune('a'+i)), 150)))
	}
	if _, err := SealRecord(key, day1, peer.AddrInfo{ID: id, Addrs: big}, newSeeded(1)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversize total: err = %v", err)
	}
	// A failing random source is an error, not a zero nonce.
	if _, err := SealRecord(key, day1, sampleInfo(t), bytes.NewReader(nil)); err == nil {
		t.Fatal("sealed with an empty random source")
	}
}

func TestOpenWrongKeyOrDay(t *testing.T) {
	dk := testDayKey("zone")
	ai := sampleInfo(t)
	txt, err := SealRecord(dk(day1), day1, ai, newSeeded(3))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenRecord(dk(day1), day2, txt); err == nil {
		t.Fatal("opened with the right key but the wrong day")
	}
	if _, err := OpenRecord(dk(day2), day2, txt); err == nil {
		t.Fatal("opened with the next day's key")
	}
	if _, err := OpenRecord(testDayKey("other zone")(day1), day1, txt); err == nil {
		t.Fatal("opened with another zone's key")
	}
	if _, err := OpenRecord([32]byte{}, day1, txt); err == nil {
		t.Fatal("opened with the zero key")
	}
}

func TestOpenTampered(t *testing.T) {
	key := testDayKey("zone")(day1)
	txt, err := SealRecord(key, day1, sampleInfo(t), newSeeded(4))
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := b64.DecodeString(strings.Join(txt, ""))
	if err != nil {
		t.Fatal(err)
	}
	split := func(b []byte) []string {
		s := b64.EncodeToString(b)
		var out []string
		for len(s) > 0 {
			n := min(len(s), maxTXTString)
			out, s = append(out, s[:n]), s[n:]
		}
		return out
	}
	// Flip one bit in every byte position in turn: nonce, ciphertext, tag.
	for i := range sealed {
		b := bytes.Clone(sealed)
		b[i] ^= 0x01
		if _, err := OpenRecord(key, day1, split(b)); err == nil {
			t.Fatalf("opened with byte %d flipped", i)
		}
	}
	// Truncated, extended, reordered.
	if _, err := OpenRecord(key, day1, split(sealed[:len(sealed)-1])); err == nil {
		t.Fatal("opened truncated record")
	}
	if _, err := OpenRecord(key, day1, split(append(bytes.Clone(sealed), 0))); err == nil {
		t.Fatal("opened extended record")
	}
	if len(txt) > 1 {
		rev := []string{txt[1], txt[0]}
		rev = append(rev, txt[2:]...)
		if _, err := OpenRecord(key, day1, rev); err == nil {
			t.Fatal("opened reordered record")
		}
	}
	if _, err := OpenRecord(key, day1, txt[:len(txt)-1]); err == nil {
		t.Fatal("opened record missing its last string")
	}
}

func TestOpenGarbage(t *testing.T) {
	key := testDayKey("zone")(day1)
	long := strings.Repeat("A", 256)
	inputs := [][]string{
		nil,
		{},
		{""},
		{"", ""},
		{"txtvers=1"},
		{"dnsaddr=/ip4/1.2.3.4/tcp/1/p2p/QmFoo"},
		{"!!!!"},
		{long},
		{strings.Repeat("A", 255), strings.Repeat("A", 255), strings.Repeat("A", 255),
			strings.Repeat("A", 255), strings.Repeat("A", 255), "A"},
		{strings.Repeat("A", 1<<20)},
		make([]string, 1<<16),
		{strings.Repeat("A", 200)}, // decodes, fails to open
		{strings.Repeat("_", 255), strings.Repeat("-", 255)},
		{"AAAA="},
		{"\x00\xff\xfe"},
	}
	for i, in := range inputs {
		if ai, err := OpenRecord(key, day1, in); err == nil {
			t.Errorf("input %d opened: %v", i, ai)
		}
	}
	// Random bytes of every plausible length.
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 1000; n++ {
		b := make([]byte, r.IntN(1000))
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		if _, err := OpenRecord(key, day1, []string{b64.EncodeToString(b)[:min(255, b64.EncodedLen(len(b)))]}); err == nil {
			t.Fatal("random record opened")
		}
	}
}

func TestParsePlainRejects(t *testing.T) {
	id := []byte(testPeerID(t, 1))
	a := ma.StringCast("/ip4/10.0.0.1/tcp/1").Bytes()
	build := func(f func(b []byte) []byte) []byte {
		b := f(nil)
		for len(b)%padBlock != 0 {
			b = append(b, 0)
		}
		return b
	}
	good := func(b []byte) []byte {
		b = append(b, byte(len(id)))
		b = append(b, id...)
		b = append(b, 1, 0, byte(len(a)))
		return append(b, a...)
	}
	if _, err := parsePlain(build(good)); err != nil {
		t.Fatalf("good plaintext: %v", err)
	}
	bad := map[string][]byte{
		"empty":       nil,
		"unpadded":    good(nil),
		"zero id":     build(func(b []byte) []byte { return append(b, 0) }),
		"no addrs":    build(func(b []byte) []byte { return append(append(append(b, byte(len(id))), id...), 0) }),
		"nonzero pad": append(build(good)[:padBlock-1], 1),
		"nine addrs":  build(func(b []byte) []byte { return append(append(append(b, byte(len(id))), id...), 9) }),
		"bad addr": build(func(b []byte) []byte {
			b = append(append(append(b, byte(len(id))), id...), 1, 0, 3)
			return append(b, 0xff, 0xff, 0xff)
		}),
	}
	for name, pt := range bad {
		if _, err := parsePlain(pt); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

var serviceShape = regexp.MustCompile(`^_[0-9a-f]{12}\._udp$`)

func TestServiceName(t *testing.T) {
	dk := testDayKey("zone")
	n1, n2 := ServiceName(dk(day1)), ServiceName(dk(day2))
	other := ServiceName(testDayKey("other")(day1))
	for _, n := range []string{n1, n2, other} {
		if !serviceShape.MatchString(n) {
			t.Fatalf("service name %q has the wrong shape", n)
		}
	}
	if n1 == n2 {
		t.Fatal("same service name on two days")
	}
	if n1 == other {
		t.Fatal("same service name for two zones")
	}
	if ServiceName(dk(day1.Add(13*time.Hour))) != n1 {
		t.Fatal("service name changed within a day")
	}
	// Fixed vector, so an accidental change of derivation is noticed.
	if got, want := ServiceName([32]byte{}), "_"+hmacHex([32]byte{}, "service")[:12]+"._udp"; got != want {
		t.Fatalf("ServiceName(zero) = %q, want %q", got, want)
	}
}

func hmacHex(key [32]byte, msg string) string {
	m := hmac.New(sha256.New, key[:])
	m.Write([]byte(msg))
	const hexdigits = "0123456789abcdef"
	var sb strings.Builder
	for _, b := range m.Sum(nil) {
		sb.WriteByte(hexdigits[b>>4])
		sb.WriteByte(hexdigits[b&15])
	}
	return sb.String()
}

func TestLANAddrs(t *testing.T) {
	in := addrs(t,
		"/ip4/127.0.0.1/tcp/1",
		"/ip4/8.8.8.8/tcp/1",
		"/ip4/192.168.0.5/tcp/1",
		"/ip4/10.1.2.3/udp/1/quic-v1",
		"/ip4/172.16.0.9/tcp/1",
		"/ip4/169.254.3.3/tcp/1",
		"/ip6/::1/tcp/1",
		"/ip6/2001:db8::1/tcp/1",
		"/ip6/fd12::1/tcp/1",
		"/ip6/fe80::1/tcp/1",
		"/dns4/example.com/tcp/1",
		"/ip4/192.168.0.5/tcp/1/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN/p2p-circuit",
		"/ip4/192.168.0.5/tcp/1", // duplicate
		"/ip4/100.64.0.1/tcp/1",  // CGNAT: not a LAN
		"/ip4/10.0.0.1",          // no transport
	)
	got := lanAddrs(in)
	want := addrs(t,
		"/ip4/192.168.0.5/tcp/1",
		"/ip4/10.1.2.3/udp/1/quic-v1",
		"/ip4/172.16.0.9/tcp/1",
		"/ip4/169.254.3.3/tcp/1",
		"/ip6/fd12::1/tcp/1",
		"/ip6/fe80::1/tcp/1",
		"/ip4/127.0.0.1/tcp/1",
		"/ip6/::1/tcp/1",
	)
	if !equalInfo(peer.AddrInfo{Addrs: got}, peer.AddrInfo{Addrs: want}) {
		t.Fatalf("lanAddrs:\n got %v\nwant %v", got, want)
	}
	var many []ma.Multiaddr
	for i := range 20 {
		many = append(many, ma.StringCast("/ip4/10.0.0.1/tcp/"+strconv.Itoa(1000+i)))
	}
	if n := len(lanAddrs(many)); n != MaxAddrs {
		t.Fatalf("lanAddrs kept %d addresses, want %d", n, MaxAddrs)
	}
}

func FuzzOpenRecord(f *testing.F) {
	key := testDayKey("zone")(day1)
	txt, err := SealRecord(key, day1, sampleInfo(f), newSeeded(9))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(strings.Join(txt, "\n"))
	f.Add("")
	f.Add("a\nb\nc")
	f.Add(strings.Repeat("A", 300))
	f.Fuzz(func(t *testing.T, joined string) {
		parts := strings.Split(joined, "\n")
		ai, err := OpenRecord(key, day1, parts)
		if err == nil && ai.ID == "" {
			t.Fatal("opened a record without a peer ID")
		}
	})
}

// FuzzParsePlain covers the parser behind the AEAD, which the open fuzzer
// can reach only with the seed record.
func FuzzParsePlain(f *testing.F) {
	id := []byte(testPeerID(f, 1))
	a := ma.StringCast("/ip4/10.0.0.1/tcp/1").Bytes()
	seed := append([]byte{byte(len(id))}, id...)
	seed = append(seed, 1, 0, byte(len(a)))
	seed = append(seed, a...)
	f.Add(seed)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		for len(b)%padBlock != 0 {
			b = append(b, 0)
		}
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("parsePlain panicked: %v", r)
				}
			}()
			_, _ = parsePlain(b)
		}()
	})
}
