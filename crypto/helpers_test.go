package crypto

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"
)

// testReader returns a deterministic byte stream keyed by b.
func testReader(b byte) io.Reader {
	var seed [32]byte
	for i := range seed {
		seed[i] = b
	}
	return rand.NewChaCha8(seed)
}

// testBytes returns n deterministic bytes keyed by b.
func testBytes(b byte, n int) []byte {
	out := make([]byte, n)
	if _, err := io.ReadFull(testReader(b), out); err != nil {
		panic(err)
	}
	return out
}

// testIdentity returns the identity for the seed 32 copies of b.
func testIdentity(t testing.TB, b byte) *Identity {
	t.Helper()
	id, err := IdentityFromSeed(bytes.Repeat([]byte{b}, SeedSize))
	if err != nil {
		t.Fatalf("IdentityFromSeed: %v", err)
	}
	return id
}

// testKEMKey returns the KEM key for the seed 32 copies of b.
func testKEMKey(t testing.TB, b byte) *KEMKey {
	t.Helper()
	k, err := KEMKeyFromSeed(bytes.Repeat([]byte{b}, KEMSeedSize))
	if err != nil {
		t.Fatalf("KEMKeyFromSeed: %v", err)
	}
	return k
}

// flip returns a copy of b with byte i xored with 0x01.
func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x01
	return c
}
