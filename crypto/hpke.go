package crypto

import (
	"fmt"
	"io"

	"github.com/cloudflare/circl/hpke"
	"github.com/cloudflare/circl/kem"
	"github.com/cloudflare/circl/kem/xwing"
)

// KEM and HPKE sizes in bytes.
const (
	KEMPublicKeySize    = xwing.PublicKeySize
	KEMSeedSize         = 32
	EncapsulatedKeySize = xwing.CiphertextSize
	MinPSKSize          = 32 // RFC 9180 §5.1.2: PSKs need at least 32 bytes of entropy
	HPKEOverhead        = 16 // ChaCha20-Poly1305 tag on the HPKE ciphertext
)

// suite is Lookout's HPKE suite: X-Wing, HKDF-SHA256, ChaCha20-Poly1305.
var suite = hpke.NewSuite(hpke.KEM_XWING, hpke.KDF_HKDF_SHA256, hpke.AEAD_ChaCha20Poly1305)

// kemScheme is X-Wing with HPKE's DeriveKeyPair (SHAKE256 over the seed).
var kemScheme = hpke.KEM_XWING.Scheme()

// KEMKey is an X-Wing private key for receiving HPKE-sealed secrets. It is
// immutable and safe for concurrent use.
type KEMKey struct {
	seed [KEMSeedSize]byte
	sk   kem.PrivateKey
	pub  [KEMPublicKeySize]byte
}

// NewKEMKey creates a KEM key from KEMSeedSize bytes read from r (normally
// crypto/rand.Reader).
func NewKEMKey(r io.Reader) (*KEMKey, error) {
	var seed [KEMSeedSize]byte
	if _, err := io.ReadFull(r, seed[:]); err != nil {
		return nil, fmt.Errorf("new kem key: read seed: %w", err)
	}
	return KEMKeyFromSeed(seed[:])
}

// KEMKeyFromSeed deterministically derives a KEM key from a KEMSeedSize seed.
func KEMKeyFromSeed(seed []byte) (*KEMKey, error) {
	if len(seed) != KEMSeedSize {
		return nil, fmt.Errorf("kem key from seed: %w: %d bytes, want %d", ErrBadSeed, len(seed), KEMSeedSize)
	}
	k := new(KEMKey)
	copy(k.seed[:], seed)
	pk, sk := kemScheme.DeriveKeyPair(k.seed[:])
	pub, err := pk.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("kem key from seed: marshal public key: %w", err)
	}
	if len(pub) != KEMPublicKeySize {
		return nil, fmt.Errorf("kem key from seed: %w: public key is %d bytes, want %d", ErrBadKEMKey, len(pub), KEMPublicKeySize)
	}
	copy(k.pub[:], pub)
	k.sk = sk
	return k, nil
}

// Seed returns a copy of the seed the key was derived from, for storage.
func (k *KEMKey) Seed() []byte {
	s := make([]byte, KEMSeedSize)
	copy(s, k.seed[:])
	return s
}

// PublicBytes returns a copy of the KEMPublicKeySize-byte public key.
func (k *KEMKey) PublicBytes() []byte {
	b := make([]byte, KEMPublicKeySize)
	copy(b, k.pub[:])
	return b
}

// checkPSK enforces the PSK-mode input rules.
func checkPSK(psk, pskID []byte) error {
	if len(psk) < MinPSKSize {
		return fmt.Errorf("%w: %d bytes, want at least %d", ErrBadPSK, len(psk), MinPSKSize)
	}
	if len(pskID) == 0 {
		return fmt.Errorf("%w: empty psk id", ErrBadPSK)
	}
	return nil
}

// SealTo seals plaintext to the X-Wing public key pub with HPKE in PSK
// mode. It returns the encapsulated key (EncapsulatedKeySize bytes) and the
// ciphertext (len(plaintext)+HPKEOverhead bytes). r supplies the
// encapsulation randomness (nil means crypto/rand). A malformed pub gives
// an error wrapping ErrBadKEMKey.
func SealTo(pub, info, psk, pskID, aad, plaintext []byte, r io.Reader) (enc, ct []byte, err error) {
	if err := checkPSK(psk, pskID); err != nil {
		return nil, nil, fmt.Errorf("hpke seal: %w", err)
	}
	if len(pub) != KEMPublicKeySize {
		return nil, nil, fmt.Errorf("hpke seal: %w: %d bytes, want %d", ErrBadKEMKey, len(pub), KEMPublicKeySize)
	}
	pk, err := kemScheme.UnmarshalBinaryPublicKey(pub)
	if err != nil {
		return nil, nil, fmt.Errorf("hpke seal: %w: %w", ErrBadKEMKey, err)
	}
	sender, err := suite.NewSender(pk, info)
	if err != nil {
		return nil, nil, fmt.Errorf("hpke seal: new sender: %w", err)
	}
	enc, sealer, err := sender.SetupPSK(r, psk, pskID)
	if err != nil {
		return nil, nil, fmt.Errorf("hpke seal: setup: %w", err)
	}
	ct, err = sealer.Seal(plaintext, aad)
	if err != nil {
		return nil, nil, fmt.Errorf("hpke seal: encrypt: %w", err)
	}
	return enc, ct, nil
}

// Open opens an HPKE PSK-mode message sealed by SealTo to k. Any failure
// caused by enc or ct (wrong size, tampering, wrong info, psk, pskID or
// aad) gives an error wrapping ErrDecrypt; a psk or pskID that breaks the
// PSK rules gives one wrapping ErrBadPSK.
func (k *KEMKey) Open(enc, ct, info, psk, pskID, aad []byte) ([]byte, error) {
	if err := checkPSK(psk, pskID); err != nil {
		return nil, fmt.Errorf("hpke open: %w", err)
	}
	// circl's X-Wing Decapsulate checks the length too; this keeps Open
	// panic-free even if that changes.
	if len(enc) != EncapsulatedKeySize {
		return nil, fmt.Errorf("hpke open: %w: encapsulated key is %d bytes, want %d", ErrDecrypt, len(enc), EncapsulatedKeySize)
	}
	if len(ct) < HPKEOverhead {
		return nil, fmt.Errorf("hpke open: %w: ciphertext is %d bytes, want at least %d", ErrDecrypt, len(ct), HPKEOverhead)
	}
	receiver, err := suite.NewReceiver(k.sk, info)
	if err != nil {
		return nil, fmt.Errorf("hpke open: new receiver: %w", err)
	}
	opener, err := receiver.SetupPSK(enc, psk, pskID)
	if err != nil {
		return nil, fmt.Errorf("hpke open: setup: %w: %w", ErrDecrypt, err)
	}
	pt, err := opener.Open(ct, aad)
	if err != nil {
		return nil, fmt.Errorf("hpke open: decrypt: %w", ErrDecrypt)
	}
	return pt, nil
}
