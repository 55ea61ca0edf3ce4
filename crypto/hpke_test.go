package crypto

import (
	"bytes"
	"crypto/sha3"
	"errors"
	"testing"

	"github.com/cloudflare/circl/hpke"
	"github.com/cloudflare/circl/kem/xwing"
)

var (
	hpkeInfo  = []byte("lookout invite v1")
	hpkePSK   = bytes.Repeat([]byte{0x42}, MinPSKSize)
	hpkePSKID = []byte("invite-1")
	hpkeAAD   = []byte("zone header")
	hpkeMsg   = []byte("zone secret and role certificate")
)

func testSeal(t *testing.T, k *KEMKey) (enc, ct []byte) {
	t.Helper()
	enc, ct, err := SealTo(k.PublicBytes(), hpkeInfo, hpkePSK, hpkePSKID, hpkeAAD, hpkeMsg, testReader(7))
	if err != nil {
		t.Fatalf("SealTo: %v", err)
	}
	return enc, ct
}

func TestHPKERoundTrip(t *testing.T) {
	k := testKEMKey(t, 1)
	enc, ct := testSeal(t, k)
	if len(enc) != EncapsulatedKeySize || len(ct) != len(hpkeMsg)+HPKEOverhead {
		t.Fatalf("enc %d bytes, ct %d bytes", len(enc), len(ct))
	}
	pt, err := k.Open(enc, ct, hpkeInfo, hpkePSK, hpkePSKID, hpkeAAD)
	if err != nil || !bytes.Equal(pt, hpkeMsg) {
		t.Fatalf("Open = %q, %v", pt, err)
	}
	// Empty plaintext, nil info and aad, and the default randomness.
	enc, ct, err = SealTo(k.PublicBytes(), nil, hpkePSK, hpkePSKID, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := k.Open(enc, ct, nil, hpkePSK, hpkePSKID, nil); err != nil || len(pt) != 0 {
		t.Fatalf("empty Open = %q, %v", pt, err)
	}
}

func TestHPKEWrongInputs(t *testing.T) {
	k := testKEMKey(t, 1)
	enc, ct := testSeal(t, k)
	otherPSK := bytes.Repeat([]byte{0x43}, MinPSKSize)
	cases := map[string]func() ([]byte, error){
		"psk":    func() ([]byte, error) { return k.Open(enc, ct, hpkeInfo, otherPSK, hpkePSKID, hpkeAAD) },
		"psk id": func() ([]byte, error) { return k.Open(enc, ct, hpkeInfo, hpkePSK, []byte("invite-2"), hpkeAAD) },
		"info":   func() ([]byte, error) { return k.Open(enc, ct, []byte("other"), hpkePSK, hpkePSKID, hpkeAAD) },
		"aad":    func() ([]byte, error) { return k.Open(enc, ct, hpkeInfo, hpkePSK, hpkePSKID, nil) },
		"key":    func() ([]byte, error) { return testKEMKey(t, 2).Open(enc, ct, hpkeInfo, hpkePSK, hpkePSKID, hpkeAAD) },
	}
	for name, f := range cases {
		if _, err := f(); !errors.Is(err, ErrDecrypt) {
			t.Errorf("wrong %s: err = %v", name, err)
		}
	}
}

func TestHPKETampered(t *testing.T) {
	k := testKEMKey(t, 1)
	enc, ct := testSeal(t, k)
	// First and last bytes of the ML-KEM part, and the X25519 part.
	for _, i := range []int{0, 1, 500, 1087, 1088, 1100, EncapsulatedKeySize - 1} {
		if _, err := k.Open(flip(enc, i), ct, hpkeInfo, hpkePSK, hpkePSKID, hpkeAAD); !errors.Is(err, ErrDecrypt) {
			t.Errorf("flipped enc byte %d: err = %v", i, err)
		}
	}
	for i := range ct {
		if _, err := k.Open(enc, flip(ct, i), hpkeInfo, hpkePSK, hpkePSKID, hpkeAAD); !errors.Is(err, ErrDecrypt) {
			t.Errorf("flipped ct byte %d: err = %v", i, err)
		}
	}
	for _, e := range [][]byte{nil, {}, enc[:1], enc[:EncapsulatedKeySize-1], append(bytes.Clone(enc), 0), make([]byte, EncapsulatedKeySize)} {
		if _, err := k.Open(e, ct, hpkeInfo, hpkePSK, hpkePSKID, hpkeAAD); !errors.Is(err, ErrDecrypt) {
			t.Errorf("%d-byte enc: err = %v", len(e), err)
		}
	}
	for _, n := range []int{0, 1, HPKEOverhead - 1, HPKEOverhead, len(ct) - 1} {
		if _, err := k.Open(enc, ct[:n], hpkeInfo, hpkePSK, hpkePSKID, hpkeAAD); !errors.Is(err, ErrDecrypt) {
			t.Errorf("%d-byte ct: err = %v", n, err)
		}
	}
	if _, err := k.Open(enc, append(bytes.Clone(ct), 0), hpkeInfo, hpkePSK, hpkePSKID, hpkeAAD); !errors.Is(err, ErrDecrypt) {
		t.Errorf("extended ct: err = %v", err)
	}
}

func TestHPKEBadPSK(t *testing.T) {
	k := testKEMKey(t, 1)
	enc, ct := testSeal(t, k)
	for name, p := range map[string][2][]byte{
		"short psk": {hpkePSK[:MinPSKSize-1], hpkePSKID},
		"no psk":    {nil, hpkePSKID},
		"no psk id": {hpkePSK, nil},
	} {
		if _, _, err := SealTo(k.PublicBytes(), hpkeInfo, p[0], p[1], nil, hpkeMsg, testReader(1)); !errors.Is(err, ErrBadPSK) {
			t.Errorf("SealTo %s: err = %v", name, err)
		}
		if _, err := k.Open(enc, ct, hpkeInfo, p[0], p[1], hpkeAAD); !errors.Is(err, ErrBadPSK) {
			t.Errorf("Open %s: err = %v", name, err)
		}
	}
}

func TestHPKEBadPublicKey(t *testing.T) {
	good := testKEMKey(t, 1).PublicBytes()
	bad := [][]byte{
		nil, {}, good[:KEMPublicKeySize-1], append(bytes.Clone(good), 0),
		bytes.Repeat([]byte{0xFF}, KEMPublicKeySize), // ML-KEM coefficients >= q
	}
	for _, pub := range bad {
		if _, _, err := SealTo(pub, hpkeInfo, hpkePSK, hpkePSKID, nil, hpkeMsg, testReader(1)); !errors.Is(err, ErrBadKEMKey) {
			t.Errorf("%d-byte public key: err = %v", len(pub), err)
		}
	}
}

// TestCirclReceiverWrongEnc pins that circl v1.6.5's Receiver.SetupPSK
// returns an error, not a panic, for a wrong-length X-Wing enc; Open also
// checks the length itself.
func TestCirclReceiverWrongEnc(t *testing.T) {
	k := testKEMKey(t, 1)
	for _, n := range []int{0, 1, EncapsulatedKeySize - 1, EncapsulatedKeySize + 1} {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%d-byte enc: circl panicked: %v", n, r)
				}
			}()
			rcv, err := suite.NewReceiver(k.sk, hpkeInfo)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := rcv.SetupPSK(make([]byte, n), hpkePSK, hpkePSKID); err == nil {
				t.Errorf("%d-byte enc: SetupPSK succeeded", n)
			}
		}()
	}
}

func TestKEMKey(t *testing.T) {
	for _, n := range []int{0, 1, KEMSeedSize - 1, KEMSeedSize + 1, 64} {
		if _, err := KEMKeyFromSeed(make([]byte, n)); !errors.Is(err, ErrBadSeed) {
			t.Errorf("%d-byte seed: err = %v", n, err)
		}
	}
	seed := testBytes(2, KEMSeedSize)
	a, err := KEMKeyFromSeed(seed)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewKEMKey(bytes.NewReader(seed))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.PublicBytes(), b.PublicBytes()) || !bytes.Equal(a.Seed(), seed) {
		t.Fatal("same seed gave different KEM keys")
	}
	if len(a.PublicBytes()) != KEMPublicKeySize {
		t.Fatalf("public key is %d bytes", len(a.PublicBytes()))
	}
	if _, err := NewKEMKey(bytes.NewReader(seed[:5])); err == nil {
		t.Fatal("NewKEMKey accepted a short reader")
	}
	// Documented derivation: X-Wing keygen from SHAKE256(seed, 32), so
	// not the raw X-Wing key for the same 32 bytes.
	_, pk := xwing.DeriveKeyPair(sha3.SumSHAKE256(seed, xwing.SeedSize))
	want, _ := pk.MarshalBinary()
	if !bytes.Equal(a.PublicBytes(), want) {
		t.Fatal("KEM key does not follow HPKE X-Wing DeriveKeyPair")
	}
	_, raw := xwing.DeriveKeyPair(seed)
	rawPub, _ := raw.MarshalBinary()
	if bytes.Equal(a.PublicBytes(), rawPub) {
		t.Fatal("KEM key equals raw X-Wing key; HPKE DeriveKeyPair changed")
	}
	if kem, kdf, aead := suite.Params(); kem != 0x647a || kdf != hpke.KDF_HKDF_SHA256 || aead != hpke.AEAD_ChaCha20Poly1305 {
		t.Fatalf("suite = %v", suite)
	}
}
