package crypto

import (
	"bytes"
	"errors"
	"testing"
)

func FuzzParsePublicKey(f *testing.F) {
	own := testIdentity(f, 1).Public().Bytes()
	f.Add(own)
	f.Add([]byte{})
	f.Add(make([]byte, PublicKeySize))
	f.Add(bytes.Repeat([]byte{0xFF}, PublicKeySize+1))
	sig, _ := testIdentity(f, 1).Sign("ctx", []byte("msg"))
	f.Fuzz(func(t *testing.T, b []byte) {
		pk, err := ParsePublicKey(b)
		if err != nil {
			if !errors.Is(err, ErrBadPublicKey) {
				t.Fatalf("err = %v, want ErrBadPublicKey", err)
			}
			return
		}
		if !bytes.Equal(pk.Bytes(), b) {
			t.Fatal("Bytes() does not round-trip")
		}
		err = pk.Verify("ctx", []byte("msg"), sig)
		if err == nil && !bytes.Equal(b, own) {
			t.Fatal("foreign key verified a signature")
		}
	})
}

func FuzzVerify(f *testing.F) {
	id := testIdentity(f, 1)
	sig, _ := id.Sign("ctx", []byte("msg"))
	f.Add("ctx", []byte("msg"), sig)
	f.Add("", []byte{}, []byte{})
	f.Add("ctx", []byte("msg"), sig[:Ed25519SignatureSize])
	f.Add("ctx", []byte("msg"), make([]byte, SignatureSize))
	pk := id.Public()
	f.Fuzz(func(t *testing.T, ctx string, msg, s []byte) {
		err := pk.Verify(ctx, msg, s)
		if err == nil {
			// Signing is deterministic, so the only valid signature the
			// fuzzer can find is the one Sign makes.
			want, serr := id.Sign(ctx, msg)
			if serr != nil || !bytes.Equal(s, want) {
				t.Fatalf("forged signature verified for %q", ctx)
			}
		} else if !errors.Is(err, ErrBadSignature) {
			t.Fatalf("err = %v, want ErrBadSignature", err)
		}
	})
}

func FuzzOpen(f *testing.F) {
	k := testKEMKey(f, 1)
	enc, ct, err := SealTo(k.PublicBytes(), hpkeInfo, hpkePSK, hpkePSKID, hpkeAAD, hpkeMsg, testReader(7))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(enc, ct)
	f.Add([]byte{}, []byte{})
	f.Add(make([]byte, EncapsulatedKeySize), make([]byte, 64))
	f.Add(enc[:EncapsulatedKeySize-1], ct)
	f.Fuzz(func(t *testing.T, e, c []byte) {
		pt, err := k.Open(e, c, hpkeInfo, hpkePSK, hpkePSKID, hpkeAAD)
		if err == nil {
			if !bytes.Equal(pt, hpkeMsg) {
				t.Fatal("forged HPKE message opened")
			}
		} else if !errors.Is(err, ErrDecrypt) {
			t.Fatalf("err = %v, want ErrDecrypt", err)
		}
	})
}
