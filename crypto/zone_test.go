package crypto

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/hkdf"
)

func testZone(b byte) ZoneSecret {
	var s ZoneSecret
	copy(s[:], bytes.Repeat([]byte{b}, ZoneSecretSize))
	return s
}

// xhkdf is an independent HKDF-SHA256 (x/crypto) for cross-checking.
func xhkdf(t *testing.T, secret, info []byte, n int) []byte {
	t.Helper()
	out := make([]byte, n)
	if _, err := io.ReadFull(hkdf.New(sha256.New, secret, nil, info), out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestTopicName(t *testing.T) {
	s := testZone(1)
	name := s.TopicName(7)
	if !strings.HasPrefix(name, "lookout/4/") || len(name) != len("lookout/4/")+2*TopicIDSize {
		t.Fatalf("TopicName = %q", name)
	}
	want := "lookout/4/" + hex.EncodeToString(xhkdf(t, s[:], binary.BigEndian.AppendUint32([]byte("lookout topic v1"), 7), 16))
	if name != want {
		t.Fatalf("TopicName = %q, want %q", name, want)
	}
	if s.TopicName(7) != name {
		t.Fatal("TopicName not deterministic")
	}
	if s.TopicName(8) == name || testZone(2).TopicName(7) == name {
		t.Fatal("TopicName does not separate epochs or zones")
	}
}

func TestAlertKey(t *testing.T) {
	s := testZone(1)
	nonce := make([]byte, NonceSize)
	ct, err := s.AlertKey(3).Seal(nil, nonce, []byte("hi"), nil)
	if err != nil {
		t.Fatal(err)
	}
	// Cross-check the key against an independent HKDF.
	k, err := NewAEADKey(xhkdf(t, s[:], binary.BigEndian.AppendUint32([]byte("lookout alert key v1"), 3), 32))
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := k.Open(nil, nonce, ct, nil); err != nil || string(pt) != "hi" {
		t.Fatalf("independently derived key: %q, %v", pt, err)
	}
	for _, other := range []*AEADKey{s.AlertKey(4), testZone(2).AlertKey(3)} {
		if _, err := other.Open(nil, nonce, ct, nil); !errors.Is(err, ErrDecrypt) {
			t.Fatal("alert keys not separated by epoch or zone")
		}
	}
}

func TestDiscoveryKey(t *testing.T) {
	s := testZone(1)
	tz := time.FixedZone("UTC+10", 10*3600)
	morning := time.Date(2026, 3, 4, 0, 0, 1, 0, time.UTC)
	evening := time.Date(2026, 3, 4, 23, 59, 59, 0, time.UTC)
	local := time.Date(2026, 3, 5, 9, 0, 0, 0, tz) // 23:00 UTC on the 4th
	next := time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)
	k := s.DiscoveryKey(morning)
	if k != s.DiscoveryKey(evening) || k != s.DiscoveryKey(local) {
		t.Fatal("discovery key changes within a UTC day")
	}
	if k == s.DiscoveryKey(next) || k == testZone(2).DiscoveryKey(morning) {
		t.Fatal("discovery key does not separate days or zones")
	}
	if !bytes.Equal(k[:], xhkdf(t, s[:], []byte("lookout discovery v1"+"2026-03-04"), 32)) {
		t.Fatal("discovery key does not match its definition")
	}
}

func TestNewZoneSecret(t *testing.T) {
	a, err := NewZoneSecret(testReader(1))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewZoneSecret(testReader(2))
	if a == b || a == (ZoneSecret{}) {
		t.Fatal("zone secrets not distinct")
	}
	if _, err := NewZoneSecret(bytes.NewReader(make([]byte, ZoneSecretSize-1))); err == nil {
		t.Fatal("accepted a short reader")
	}
}

func TestAEAD(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33} {
		if _, err := NewAEADKey(make([]byte, n)); !errors.Is(err, ErrBadKey) {
			t.Errorf("%d-byte key: err = %v", n, err)
		}
	}
	k := testZone(1).AlertKey(0)
	nonce, pt, aad := testBytes(1, NonceSize), []byte("plaintext"), []byte("aad")
	ct, err := k.Seal([]byte("prefix"), nonce, pt, aad)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(ct, []byte("prefix")) || len(ct) != len("prefix")+len(pt)+Overhead {
		t.Fatalf("Seal output is %d bytes", len(ct))
	}
	ct = ct[len("prefix"):]
	got, err := k.Open(nil, nonce, ct, aad)
	if err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	for i := range ct {
		if _, err := k.Open(nil, nonce, flip(ct, i), aad); !errors.Is(err, ErrDecrypt) {
			t.Fatalf("flipped ciphertext byte %d: err = %v", i, err)
		}
	}
	for i := range nonce {
		if _, err := k.Open(nil, flip(nonce, i), ct, aad); !errors.Is(err, ErrDecrypt) {
			t.Fatalf("flipped nonce byte %d: err = %v", i, err)
		}
	}
	for _, bad := range [][]byte{nil, []byte("aae"), append(bytes.Clone(aad), 0)} {
		if _, err := k.Open(nil, nonce, ct, bad); !errors.Is(err, ErrDecrypt) {
			t.Fatalf("aad %q: err = %v", bad, err)
		}
	}
	for _, n := range []int{0, 12, NonceSize - 1, NonceSize + 1} {
		if _, err := k.Seal(nil, make([]byte, n), pt, nil); !errors.Is(err, ErrBadNonce) {
			t.Errorf("Seal with %d-byte nonce: err = %v", n, err)
		}
		if _, err := k.Open(nil, make([]byte, n), ct, aad); !errors.Is(err, ErrDecrypt) {
			t.Errorf("Open with %d-byte nonce: err = %v", n, err)
		}
	}
	for _, n := range []int{0, 1, Overhead - 1, Overhead} {
		if _, err := k.Open(nil, nonce, ct[:n], aad); !errors.Is(err, ErrDecrypt) {
			t.Errorf("Open of %d bytes: err = %v", n, err)
		}
	}
}
