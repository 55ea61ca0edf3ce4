package crypto

import "errors"

// Sentinel errors; returned errors wrap them, so test with errors.Is.
var (
	ErrBadSignature   = errors.New("signature does not verify")
	ErrBadPublicKey   = errors.New("malformed public key")
	ErrDecrypt        = errors.New("decryption failed") // AEAD or HPKE open failed
	ErrBadKEMKey      = errors.New("malformed KEM key")
	ErrBadSeed        = errors.New("malformed seed")
	ErrContextTooLong = errors.New("signature context too long")
	ErrBadNonce       = errors.New("malformed nonce")
	ErrBadKey         = errors.New("malformed key")
	ErrBadPSK         = errors.New("malformed pre-shared key")
	ErrBadMemberID    = errors.New("malformed member ID")
)
