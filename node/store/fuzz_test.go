package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"lookout/crypto"
)

var fuzzKEK = bytes.Repeat([]byte{7}, keySize)

func fuzzHeader(tb testing.TB, kdf KDFParams, duress bool) []byte {
	h := &header{kdf: kdf}
	copy(h.salt[:], "fuzz salt fuzz salt fuzz salt 32")
	if err := h.wrap(0, fuzzKEK, slotReal, bytes.Repeat([]byte{9}, keySize)); err != nil {
		tb.Fatal(err)
	}
	if duress {
		if err := h.wrap(1, bytes.Repeat([]byte{8}, keySize), slotDuress, make([]byte, keySize)); err != nil {
			tb.Fatal(err)
		}
	} else if err := h.randomSlot(1); err != nil {
		tb.Fatal(err)
	}
	return h.marshal()
}

// FuzzOpenHeader feeds arbitrary bytes as a key header: decoding,
// unwrapping and Open (with a key file, so no Argon2id) must never panic
// and must fail with one of the package's errors.
func FuzzOpenHeader(f *testing.F) {
	valid := fuzzHeader(f, testKDF, false)
	f.Add(valid)
	f.Add(fuzzHeader(f, DefaultKDF, true))
	f.Add(valid[:len(valid)-1])
	f.Add(append(bytes.Clone(valid), 0))
	f.Add([]byte{})
	f.Add([]byte(headerMagic))
	f.Add([]byte("LKST\x00\x02"))
	f.Add([]byte("LKST\xff\xff"))

	home := f.TempDir()
	kf := filepath.Join(f.TempDir(), "key")
	if err := os.WriteFile(kf, fuzzKEK, 0o600); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := parseHeader(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrNewerVersion) {
				t.Fatalf("parseHeader: unexpected error %v", err)
			}
		} else {
			if !h.kdf.valid() {
				t.Fatalf("parseHeader accepted KDF parameters %+v", h.kdf)
			}
			if !bytes.Equal(h.marshal(), b) {
				t.Fatal("header does not round-trip")
			}
			h.unwrap(fuzzKEK)
		}
		if err := os.WriteFile(filepath.Join(home, headerFile), b, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := Open(home, Secret{KeyFile: kf}, Options{FailureDelay: -1})
		if err == nil {
			s.Close()
			t.Fatal("Open succeeded without a database")
		}
		for _, want := range []error{ErrCorrupt, ErrNewerVersion, ErrWrongPassphrase} {
			if errors.Is(err, want) {
				return
			}
		}
		t.Fatalf("Open: unexpected error %v", err)
	})
}

// FuzzOpenRecord feeds arbitrary bytes as a sealed record value.
func FuzzOpenRecord(f *testing.F) {
	a, err := crypto.NewAEADKey(fuzzKEK)
	if err != nil {
		f.Fatal(err)
	}
	bn, rk := []byte("bucket-on-disk"), []byte("key-on-disk")
	for _, r := range []record{
		{bucket: "b", key: "k", value: []byte("v")},
		{bucket: "zones", key: "z", value: bytes.Repeat([]byte{1}, 300), expires: time.UnixMilli(1e12)},
		{bucket: "b", key: "k"},
	} {
		sealed, err := sealRecord(a, bn, rk, r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(sealed)
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := openRecord(a, bn, rk, b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrNewerVersion) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		sealed, err := sealRecord(a, bn, rk, r)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := openRecord(a, bn, rk, sealed)
		if err != nil || r2.bucket != r.bucket || r2.key != r.key || !bytes.Equal(r2.value, r.value) || !r2.expires.Equal(r.expires) {
			t.Fatalf("record does not round-trip: %v", err)
		}
	})
}
