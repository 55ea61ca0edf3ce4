package crypto

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"

	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
)

func TestSizes(t *testing.T) {
	if PublicKeySize != 1984 || SignatureSize != 3373 || MLDSAPublicKeySize != 1952 || MLDSASignatureSize != 3309 {
		t.Fatalf("sizes: pk %d sig %d", PublicKeySize, SignatureSize)
	}
	id := testIdentity(t, 1)
	if got := len(id.Public().Bytes()); got != PublicKeySize {
		t.Fatalf("public key is %d bytes", got)
	}
	sig, err := id.Sign("ctx", []byte("m"))
	if err != nil {
		t.Fatal(err)
	}
	if len(sig) != SignatureSize {
		t.Fatalf("signature is %d bytes", len(sig))
	}
}

func TestSignVerifyRoundTrip(t *testing.T) {
	id := testIdentity(t, 1)
	cases := []struct {
		ctx string
		msg []byte
	}{
		{"", nil},
		{"", []byte{}},
		{"alert", []byte("fire at the north gate")},
		{strings.Repeat("c", MaxContextSize), bytes.Repeat([]byte{0xAA}, 10000)},
	}
	for _, c := range cases {
		sig, err := id.Sign(c.ctx, c.msg)
		if err != nil {
			t.Fatalf("Sign(%q): %v", c.ctx, err)
		}
		if err := id.Public().Verify(c.ctx, c.msg, sig); err != nil {
			t.Fatalf("Verify(%q): %v", c.ctx, err)
		}
		// A parsed copy of the key verifies too.
		pk, err := ParsePublicKey(id.Public().Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if err := pk.Verify(c.ctx, c.msg, sig); err != nil {
			t.Fatalf("Verify with parsed key: %v", err)
		}
	}
}

func TestSignDeterministic(t *testing.T) {
	a, b := testIdentity(t, 1), testIdentity(t, 1)
	s1, _ := a.Sign("ctx", []byte("msg"))
	s2, _ := b.Sign("ctx", []byte("msg"))
	if !bytes.Equal(s1, s2) {
		t.Fatal("signatures differ for the same seed, context and message")
	}
}

// TestCompositeConstruction checks each half against the documented M'.
func TestCompositeConstruction(t *testing.T) {
	id := testIdentity(t, 1)
	ctx, msg := "lookout/alert", []byte("hello")
	sig, _ := id.Sign(ctx, msg)
	m := append([]byte("LOOKOUT-ED25519-MLDSA65-V1"), byte(len(ctx)))
	m = append(append(m, ctx...), msg...)
	pk := id.Public().Bytes()
	if !ed25519.Verify(ed25519.PublicKey(pk[:32]), m, sig[:64]) {
		t.Fatal("ed25519 half does not verify over M'")
	}
	var mpk mldsa65.PublicKey
	if err := mpk.UnmarshalBinary(pk[32:]); err != nil {
		t.Fatal(err)
	}
	if !mldsa65.Verify(&mpk, m, []byte("LOOKOUT-ED25519-MLDSA65-V1"), sig[64:]) {
		t.Fatal("ml-dsa-65 half does not verify over M' with the label as context")
	}
	if mldsa65.Verify(&mpk, m, nil, sig[64:]) {
		t.Fatal("ml-dsa-65 half verifies with an empty context")
	}
}

func TestVerifyRejectsEveryFlippedByte(t *testing.T) {
	id := testIdentity(t, 1)
	msg := []byte("msg")
	sig, _ := id.Sign("ctx", msg)
	pk := id.Public()
	for i := range sig {
		if err := pk.Verify("ctx", msg, flip(sig, i)); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("flipped byte %d: err = %v", i, err)
		}
	}
}

func TestVerifyRejectsWrongInputs(t *testing.T) {
	id, other := testIdentity(t, 1), testIdentity(t, 2)
	sig, _ := id.Sign("ctx", []byte("msg"))
	pk := id.Public()
	for name, err := range map[string]error{
		"context":       pk.Verify("ctx2", []byte("msg"), sig),
		"empty context": pk.Verify("", []byte("msg"), sig),
		"message":       pk.Verify("ctx", []byte("msh"), sig),
		"key":           other.Public().Verify("ctx", []byte("msg"), sig),
		// Context/message boundary is fixed by the length byte.
		"shifted": pk.Verify("ct", []byte("xmsg"), sig),
		"long":    pk.Verify(strings.Repeat("c", MaxContextSize+1), []byte("msg"), sig),
	} {
		if !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s: err = %v, want ErrBadSignature", name, err)
		}
	}
}

func TestVerifyWrongLength(t *testing.T) {
	id := testIdentity(t, 1)
	sig, _ := id.Sign("ctx", []byte("msg"))
	pk := id.Public()
	bad := [][]byte{
		nil, {}, {1}, sig[:Ed25519SignatureSize-1], sig[:Ed25519SignatureSize],
		sig[:SignatureSize-1], append(bytes.Clone(sig), 0), append(bytes.Clone(sig), sig...),
	}
	for _, s := range bad {
		if err := pk.Verify("ctx", []byte("msg"), s); !errors.Is(err, ErrBadSignature) {
			t.Errorf("%d-byte signature: err = %v", len(s), err)
		}
	}
}

func TestVerifyNeedsBothHalves(t *testing.T) {
	id := testIdentity(t, 1)
	msg := []byte("msg")
	sig, _ := id.Sign("ctx", msg)
	other, _ := id.Sign("ctx", []byte("other"))
	pk := id.Public()
	garbage := testBytes(9, SignatureSize)

	edOnly := append(bytes.Clone(sig[:Ed25519SignatureSize]), garbage[Ed25519SignatureSize:]...)
	mlOnly := append(bytes.Clone(garbage[:Ed25519SignatureSize]), sig[Ed25519SignatureSize:]...)
	zeroML := append(bytes.Clone(sig[:Ed25519SignatureSize]), make([]byte, MLDSASignatureSize)...)
	zeroEd := append(make([]byte, Ed25519SignatureSize), sig[Ed25519SignatureSize:]...)
	spliceA := append(bytes.Clone(sig[:Ed25519SignatureSize]), other[Ed25519SignatureSize:]...)
	spliceB := append(bytes.Clone(other[:Ed25519SignatureSize]), sig[Ed25519SignatureSize:]...)
	for name, s := range map[string][]byte{
		"ed25519 valid, ml-dsa garbage": edOnly, "ml-dsa valid, ed25519 garbage": mlOnly,
		"ml-dsa zero": zeroML, "ed25519 zero": zeroEd,
		"ml-dsa from other message": spliceA, "ed25519 from other message": spliceB,
	} {
		if err := pk.Verify("ctx", msg, s); !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestSignContextTooLong(t *testing.T) {
	id := testIdentity(t, 1)
	_, err := id.Sign(strings.Repeat("c", MaxContextSize+1), nil)
	if !errors.Is(err, ErrContextTooLong) {
		t.Fatalf("err = %v, want ErrContextTooLong", err)
	}
}

func TestIdentityFromSeed(t *testing.T) {
	for _, n := range []int{0, 1, SeedSize - 1, SeedSize + 1, 64} {
		if _, err := IdentityFromSeed(make([]byte, n)); !errors.Is(err, ErrBadSeed) {
			t.Errorf("%d-byte seed: err = %v", n, err)
		}
	}
	seed := testBytes(3, SeedSize)
	a, err := IdentityFromSeed(seed)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewIdentity(bytes.NewReader(seed))
	if err != nil {
		t.Fatal(err)
	}
	if !a.Public().Equal(b.Public()) || a.ID() != b.ID() {
		t.Fatal("same seed gave different keys")
	}
	got := a.Seed()
	if !bytes.Equal(got, seed) {
		t.Fatal("Seed() differs from input")
	}
	got[0] ^= 1
	if !bytes.Equal(a.Seed(), seed) {
		t.Fatal("Seed() is not a copy")
	}
	seed[0] ^= 1
	if !bytes.Equal(a.Seed(), b.Seed()) {
		t.Fatal("identity aliases the caller's seed")
	}
	if _, err := NewIdentity(bytes.NewReader(make([]byte, SeedSize-1))); err == nil {
		t.Fatal("NewIdentity accepted a short reader")
	}
	if testIdentity(t, 1).ID() == testIdentity(t, 2).ID() {
		t.Fatal("different seeds gave the same ID")
	}
}

func TestPublicKeyParseAndEqual(t *testing.T) {
	id := testIdentity(t, 1)
	raw := id.Public().Bytes()
	pk, err := ParsePublicKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !pk.Equal(id.Public()) || pk.ID() != id.ID() || !bytes.Equal(pk.Bytes(), raw) {
		t.Fatal("parsed key differs")
	}
	raw[0] ^= 1
	if bytes.Equal(pk.Bytes(), raw) {
		t.Fatal("parsed key aliases its input")
	}
	b := pk.Bytes()
	b[1] ^= 1
	if !bytes.Equal(pk.Bytes(), id.Public().Bytes()) {
		t.Fatal("Bytes() is not a copy")
	}
	if pk.Equal(testIdentity(t, 2).Public()) || pk.Equal(nil) {
		t.Fatal("Equal is too lenient")
	}
	var nilKey *PublicKey
	if !nilKey.Equal(nil) {
		t.Fatal("nil keys not equal")
	}
	want := sha256.Sum256(append([]byte("lookout member id v1"), id.Public().Bytes()...))
	if id.ID() != MemberID(want) {
		t.Fatal("member ID does not match its definition")
	}
}

func TestParsePublicKeyBad(t *testing.T) {
	for _, n := range []int{0, 1, Ed25519PublicKeySize, MLDSAPublicKeySize, PublicKeySize - 1, PublicKeySize + 1} {
		if _, err := ParsePublicKey(testBytes(4, n)); !errors.Is(err, ErrBadPublicKey) {
			t.Errorf("%d bytes: err = %v", n, err)
		}
	}
	// Right-size garbage decodes (every 1952-byte string is an ML-DSA-65
	// key) but verifies nothing.
	for _, b := range [][]byte{testBytes(5, PublicKeySize), make([]byte, PublicKeySize), bytes.Repeat([]byte{0xFF}, PublicKeySize)} {
		pk, err := ParsePublicKey(b)
		if err != nil {
			continue
		}
		sig, _ := testIdentity(t, 1).Sign("", nil)
		if err := pk.Verify("", nil, sig); !errors.Is(err, ErrBadSignature) {
			t.Errorf("garbage key verified: %v", err)
		}
	}
}

func TestMemberID(t *testing.T) {
	id := testIdentity(t, 1).ID()
	s := id.String()
	if len(s) != 64 || strings.ToLower(s) != s {
		t.Fatalf("String() = %q", s)
	}
	for _, in := range []string{s, strings.ToUpper(s)} {
		got, err := ParseMemberID(in)
		if err != nil || got != id {
			t.Fatalf("ParseMemberID(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", s[:63], s + "0", s[:62] + "zz", s[:63] + " ", " " + s[1:], "0x" + s[2:]} {
		if _, err := ParseMemberID(in); !errors.Is(err, ErrBadMemberID) {
			t.Errorf("ParseMemberID(%q): err = %v", in, err)
		}
	}
	if id.IsZero() || !(MemberID{}).IsZero() {
		t.Fatal("IsZero wrong")
	}
}
