package protocol

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"lookout/crypto"
)

const b64url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// codeOf makes an invite code from raw payload bytes, appending a correct
// checksum: for putting arbitrary contents behind a valid checksum.
func codeOf(body []byte) string {
	sum := sha256.Sum256(body)
	return InviteCodePrefix + base64.RawURLEncoding.EncodeToString(append(bytes.Clone(body), sum[:checksumSize]...))
}

// rawInvite returns the payload of a code without its checksum.
func rawInvite(t *testing.T, code string) []byte {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(code, InviteCodePrefix))
	if err != nil {
		t.Fatal(err)
	}
	return raw[:len(raw)-checksumSize]
}

func sameInvite(a, b *Invite) bool {
	if a.Secret != b.Secret || !a.Expires.Equal(b.Expires) || len(a.Peers) != len(b.Peers) {
		return false
	}
	for i := range a.Peers {
		p, q := a.Peers[i], b.Peers[i]
		if !bytes.Equal(p.ID, q.ID) || len(p.Addrs) != len(q.Addrs) {
			return false
		}
		for j := range p.Addrs {
			if !bytes.Equal(p.Addrs[j], q.Addrs[j]) {
				return false
			}
		}
	}
	return true
}

func TestInviteRoundTrip(t *testing.T) {
	// The most a code can carry within MaxInviteCodeLen: 4 peers with 2
	// long addresses each.
	maxAddrs := testInvite()
	maxAddrs.Peers = nil
	for i := 0; i < MaxInvitePeers; i++ {
		p := PeerRecord{ID: bytes.Repeat([]byte{byte(7 + i)}, MaxPeerIDLen)}
		for j := 0; j < 2; j++ {
			p.Addrs = append(p.Addrs, bytes.Repeat([]byte{byte(i*8 + j + 1)}, MaxAddrLen))
		}
		maxAddrs.Peers = append(maxAddrs.Peers, p)
	}
	noAddrs := testInvite()
	noAddrs.Peers[0].Addrs = nil
	for _, c := range []struct {
		name string
		inv  *Invite
	}{
		{"typical", testInvite()},
		{"no addresses", noAddrs},
		{"largest", maxAddrs},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, err := c.inv.Code()
			if err != nil {
				t.Fatal(err)
			}
			if len(code) > MaxInviteCodeLen || !strings.HasPrefix(code, InviteCodePrefix) {
				t.Errorf("code is %d characters", len(code))
			}
			got, err := ParseInviteCode(code)
			if err != nil {
				t.Fatalf("ParseInviteCode: %v", err)
			}
			if !sameInvite(got, c.inv) {
				t.Errorf("round trip changed the invite")
			}
		})
	}
}

func TestInviteWhitespace(t *testing.T) {
	inv := testInvite()
	code, _ := inv.Code()
	wrap := func(n int, sep string) string {
		var b strings.Builder
		for i := 0; i < len(code); i += n {
			b.WriteString(code[i:min(i+n, len(code))])
			b.WriteString(sep)
		}
		return b.String()
	}
	for name, s := range map[string]string{
		"surrounding":         "  \t" + code + "\n\n",
		"wrapped at 76 LF":    wrap(76, "\n"),
		"wrapped at 20 CRLF":  wrap(20, "\r\n"),
		"mail quoting indent": strings.ReplaceAll(wrap(40, "\n"), "\n", "\n    "),
		"spaces inside":       code[:15] + " " + code[15:40] + "  " + code[40:],
		"break after prefix":  InviteCodePrefix + "\n" + code[len(InviteCodePrefix):],
		"NBSP":                code[:30] + "\u00a0" + code[30:],
	} {
		t.Run(name, func(t *testing.T) {
			got, err := ParseInviteCode(s)
			if err != nil {
				t.Fatalf("ParseInviteCode: %v", err)
			}
			if !sameInvite(got, inv) {
				t.Errorf("different invite")
			}
		})
	}
}

func TestInviteRejects(t *testing.T) {
	inv := testInvite()
	code, _ := inv.Code()
	body := rawInvite(t, code)
	payload := code[len(InviteCodePrefix):]
	withBody := func(mut func(b []byte) []byte) string { return codeOf(mut(bytes.Clone(body))) }
	// Offsets in the payload.
	const offExpires, offPeers = 1 + InviteSecretSize, 1 + InviteSecretSize + 8
	const offPeerLen = offPeers + 1
	offAddrs := offPeerLen + 1 + len(inv.Peers[0].ID)

	cases := []struct {
		name string
		code string
		want error
	}{
		{"empty", "", ErrBadInvite},
		{"no prefix", payload, ErrBadInvite},
		{"wrong prefix", "lookout2:" + payload, ErrBadInvite},
		{"upper-case prefix", "LOOKOUT1:" + payload, ErrBadInvite},
		{"prefix only", InviteCodePrefix, ErrTruncated},
		{"4 bytes", InviteCodePrefix + "AAAAAA", ErrTruncated},
		{"not base64url", InviteCodePrefix + "abc+/def", ErrBadInvite},
		{"padding char", code + "=", ErrBadInvite},
		{"too long", InviteCodePrefix + strings.Repeat("A", MaxInviteCodeLen), ErrBadInvite},
		{"truncated by one char", code[:len(code)-1], ErrBadInvite},
		// Cut at a whole base64 group, so the rest decodes and only the checksum fails.
		{"truncated to whole groups", code[:len(InviteCodePrefix)+4*((len(code)-len(InviteCodePrefix))/4-1)], ErrChecksum},
		{"half", code[:len(InviteCodePrefix)+4*(len(payload)/8)], ErrChecksum},
		{"extra char", code + "A", ErrBadInvite},
		{"checksum only wrong", codeOf(body)[:len(code)-2] + "AA", ErrChecksum},
		{"version 3", withBody(func(b []byte) []byte { b[0] = 3; return b }), ErrVersion},
		{"no peers", withBody(func(b []byte) []byte { return append(b[:offPeers:offPeers], 0) }), ErrBadInvite},
		{"5 peers", withBody(func(b []byte) []byte { b[offPeers] = MaxInvitePeers + 1; return b }), ErrBadInvite},
		{"9 addresses", withBody(func(b []byte) []byte {
			b = b[:offAddrs]
			b = append(b, MaxInviteAddrs+1)
			for i := 0; i <= MaxInviteAddrs; i++ {
				b = append(b, 1, 0x04)
			}
			return b
		}), ErrBadInvite},
		{"address count larger than given", withBody(func(b []byte) []byte { b[offAddrs] = 3; return b }), ErrTruncated},
		{"trailing byte", withBody(func(b []byte) []byte { return append(b, 0) }), ErrTrailing},
		{"empty peer ID", withBody(func(b []byte) []byte {
			return append(append(b[:offPeerLen:offPeerLen], 0), b[offAddrs:]...)
		}), ErrMissing},
		{"peer ID too long", withBody(func(b []byte) []byte { b[offPeerLen] = MaxPeerIDLen + 1; return b }), ErrTooLong},
		{"empty address", withBody(func(b []byte) []byte { return append(b[:offAddrs:offAddrs], 1, 0) }), ErrMissing},
		{"expiry 0", withBody(func(b []byte) []byte { clear(b[offExpires : offExpires+8]); return b }), ErrMissing},
		{"expiry negative", withBody(func(b []byte) []byte { b[offExpires] = 0x80; return b }), ErrBadTime},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseInviteCode(c.code)
			if !errors.Is(err, c.want) || got != nil {
				t.Fatalf("ParseInviteCode = %v, want %v", err, c.want)
			}
			if !errors.Is(err, ErrBadInvite) {
				t.Errorf("error %v does not wrap ErrBadInvite", err)
			}
		})
	}

	// A damaged character anywhere after the prefix is reported as damage.
	// The replacement differs in the top bit of its 6-bit value, which is
	// always a data bit, even in the last character.
	for i := len(InviteCodePrefix); i < len(code); i++ {
		v := strings.IndexByte(b64url, code[i])
		damaged := code[:i] + string(b64url[v^0x20]) + code[i+1:]
		if _, err := ParseInviteCode(damaged); !errors.Is(err, ErrChecksum) {
			t.Errorf("character %d damaged: %v, want ErrChecksum", i, err)
		}
	}
	// Changing only the unused low bits of the last character gives the
	// same bytes; such non-canonical codes are refused.
	if (len(body)+checksumSize)%3 == 0 {
		t.Fatalf("the test invite encodes without unused bits; change its size")
	}
	{
		last := code[len(code)-1]
		v := strings.IndexByte(b64url, last)
		alt := code[:len(code)-1] + string(b64url[v^0x01])
		if _, err := ParseInviteCode(alt); !errors.Is(err, ErrBadInvite) {
			t.Errorf("non-canonical last character accepted: %v", err)
		}
	}
}

func TestInviteCodeRejects(t *testing.T) {
	for _, c := range []struct {
		name string
		mut  func(inv *Invite)
	}{
		{"no peers", func(inv *Invite) { inv.Peers = nil }},
		{"5 peers", func(inv *Invite) {
			for len(inv.Peers) <= MaxInvitePeers {
				inv.Peers = append(inv.Peers, inv.Peers[0])
			}
		}},
		{"empty peer ID", func(inv *Invite) { inv.Peers[0].ID = nil }},
		{"peer too long", func(inv *Invite) { inv.Peers[0].ID = make([]byte, MaxPeerIDLen+1) }},
		{"too many addresses", func(inv *Invite) {
			for len(inv.Peers[0].Addrs) <= MaxInviteAddrs {
				inv.Peers[0].Addrs = append(inv.Peers[0].Addrs, testAddr4)
			}
		}},
		{"empty address", func(inv *Invite) { inv.Peers[0].Addrs = append(inv.Peers[0].Addrs, nil) }},
		{"address too long", func(inv *Invite) { inv.Peers[0].Addrs = [][]byte{make([]byte, MaxAddrLen+1)} }},
		{"code too long", func(inv *Invite) {
			inv.Peers = nil
			for i := 0; i < MaxInvitePeers; i++ {
				p := PeerRecord{ID: make([]byte, MaxPeerIDLen)}
				for j := 0; j < MaxInviteAddrs; j++ {
					p.Addrs = append(p.Addrs, make([]byte, MaxAddrLen))
				}
				inv.Peers = append(inv.Peers, p)
			}
		}},
		{"no expiry", func(inv *Invite) { inv.Expires = time.Time{} }},
		{"expiry before 1970", func(inv *Invite) { inv.Expires = time.Unix(-1, 0) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			inv := testInvite()
			c.mut(inv)
			if code, err := inv.Code(); !errors.Is(err, ErrBadInvite) {
				t.Errorf("Code = %q, %v; want ErrBadInvite", code, err)
			}
		})
	}
}

func TestInviteCheck(t *testing.T) {
	inv := testInvite()
	for _, c := range []struct {
		name string
		now  time.Time
		want error
	}{
		{"long before", t0, nil},
		{"1ms before expiry", inv.Expires.Add(-time.Millisecond), nil},
		{"at expiry", inv.Expires, ErrInviteExpired},
		{"after expiry", inv.Expires.Add(time.Hour), ErrInviteExpired},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := inv.Check(c.now); !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Errorf("Check = %v, want %v", err, c.want)
			}
		})
	}
}

func TestJoinRequestSignature(t *testing.T) {
	j := goldenJoinRequest(t)
	key := testInviteKey().Public()
	p, err := ParseJoinRequest(j.MarshalBinary())
	if err != nil {
		t.Fatal(err)
	}
	wrong := testInvite().Secret
	wrong[31] ^= 0x80
	otherKey, err := InviteIdentity(wrong)
	if err != nil {
		t.Fatal(err)
	}
	forged, err := NewJoinRequest(otherKey, fx(t).member.Public(), mustKEM(0x09).PublicBytes())
	if err != nil {
		t.Fatal(err)
	}
	other := mustIdentity(0x0c)
	cases := []struct {
		name string
		req  func() *JoinRequest
		key  *crypto.PublicKey
		ok   bool
	}{
		{"right key", func() *JoinRequest { return p }, key, true},
		{"other invite's key", func() *JoinRequest { return p }, otherKey.Public(), false},
		{"signed by another invite, naming this one", func() *JoinRequest { x := *forged; x.Invite = p.Invite; return &x }, key, false},
		{"other invite ID", func() *JoinRequest { x := *p; x.Invite[0] ^= 1; return &x }, key, false},
		{"member key swapped", func() *JoinRequest { x := *p; x.Member = other.Public(); return &x }, key, false},
		{"KEM key swapped", func() *JoinRequest { x := *p; x.KEM = mustKEM(0x0d).PublicBytes(); return &x }, key, false},
		{"signature flipped", func() *JoinRequest { x := *p; x.Sig = flip(p.Sig, 0); return &x }, key, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.req().Verify(c.key); (err == nil) != c.ok || (err != nil && !errors.Is(err, ErrBadSignature)) {
				t.Errorf("Verify = %v, want ok %v", err, c.ok)
			}
		})
	}
	// Any byte changed on the wire breaks the signature (or the parse).
	b := j.MarshalBinary()
	for _, i := range []int{0, 1, 16, 17, 17 + crypto.PublicKeySize, joinBodySize - 1, joinBodySize, JoinRequestSize - 1} {
		p, err := ParseJoinRequest(flip(b, i))
		if err == nil && p.Verify(key) == nil {
			t.Errorf("byte %d flipped: signature still verifies", i)
		}
	}
}

func TestJoinRequestRejects(t *testing.T) {
	b := goldenJoinRequest(t).MarshalBinary()
	for _, c := range []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"short", b[:JoinRequestSize-1], ErrTruncated},
		{"long", append(bytes.Clone(b), 0), ErrTruncated},
		{"version", flip(b, 0), ErrVersion},
	} {
		t.Run(c.name, func(t *testing.T) {
			if j, err := ParseJoinRequest(c.b); !errors.Is(err, c.want) || j != nil {
				t.Errorf("ParseJoinRequest = %v, want %v", err, c.want)
			}
		})
	}
	if _, err := NewJoinRequest(testInviteKey(), fx(t).member.Public(), make([]byte, 10)); err == nil {
		t.Errorf("NewJoinRequest with a short KEM key succeeded")
	}
}

func TestGrantRejects(t *testing.T) {
	g := goldenGrant(t)
	b, err := g.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	offName := 1 + ZoneIDSize
	offChain := offName + 2 + len(g.Name) + crypto.PublicKeySize + 4 + crypto.ZoneSecretSize
	offPeers := offChain + 1 + len(g.Chain)*(2+CertSize)
	with := func(off int, v byte) []byte { c := bytes.Clone(b); c[off] = v; return c }
	cut := func(n int, tail ...byte) []byte { return append(bytes.Clone(b[:n]), tail...) }
	cases := []struct {
		name string
		b    []byte
		want error
	}{
		{"version", with(0, 3), ErrVersion},
		{"name too long", with(offName, 2), ErrTooLong}, // 512+ bytes
		{"chain length 0", with(offChain, 0), ErrChain},
		{"chain length 4", with(offChain, MaxChainLen), ErrChain},
		{"cert role", with(offChain+1+2+certOffRole, 9), ErrEnum},
		{"17 peers", with(offPeers, MaxGrantPeers+1), ErrTooLarge},
		{"no peers", cut(offPeers, 0), nil},
		{"empty peer ID", cut(offPeers, 1, 0, 0), ErrMissing},
		{"peer with 9 addresses", cut(offPeers, 1, 1, 7, MaxInviteAddrs+1), ErrTooLarge},
		{"empty address", cut(offPeers, 1, 1, 7, 1, 0), ErrMissing},
		{"trailing", append(bytes.Clone(b), 0), ErrTrailing},
		{"empty", nil, ErrTruncated},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseGrant(c.b)
			if c.want == nil {
				if err != nil {
					t.Fatalf("ParseGrant: %v", err)
				}
				if again, err := got.MarshalBinary(); err != nil || !bytes.Equal(again, c.b) {
					t.Errorf("re-encoding differs: %v", err)
				}
				return
			}
			if !errors.Is(err, c.want) || got != nil {
				t.Fatalf("ParseGrant = %v, want %v", err, c.want)
			}
		})
	}
	for i := 0; i < len(b); i += 53 {
		if _, err := ParseGrant(b[:i]); !errors.Is(err, ErrTruncated) {
			t.Errorf("truncated to %d: %v, want ErrTruncated", i, err)
		}
	}

	for _, c := range []struct {
		name string
		mut  func(g *Grant)
		want error
	}{
		{"name too long", func(g *Grant) { g.Name = strings.Repeat("n", MaxZoneNameLen+1) }, ErrTooLong},
		{"name with escape", func(g *Grant) { g.Name = "\x1b[31m" }, ErrTooLong},
		{"no chain", func(g *Grant) { g.Chain = nil }, ErrTooLarge},
		{"17 peers", func(g *Grant) {
			for len(g.Peers) <= MaxGrantPeers {
				g.Peers = append(g.Peers, g.Peers[0])
			}
		}, ErrTooLarge},
		{"empty peer ID", func(g *Grant) { g.Peers = []PeerRecord{{}} }, ErrTooLarge},
		{"empty address", func(g *Grant) { g.Peers = []PeerRecord{{ID: []byte{1}, Addrs: [][]byte{{}}}} }, ErrTooLarge},
	} {
		t.Run("marshal/"+c.name, func(t *testing.T) {
			x := *goldenGrant(t)
			c.mut(&x)
			if _, err := x.MarshalBinary(); !errors.Is(err, c.want) {
				t.Errorf("MarshalBinary = %v, want %v", err, c.want)
			}
		})
	}
}
