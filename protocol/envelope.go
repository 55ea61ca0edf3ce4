package protocol

import (
	"encoding/binary"
	"fmt"
	"io"

	"lookout/crypto"
)

// Envelope layout (what gossipsub carries):
//
//	u8 version | u32 epoch | 24-byte nonce | XChaCha20-Poly1305 ciphertext
//
// The first EnvelopeHeaderSize bytes are the AEAD's additional data. The
// key is the zone's alert key for the epoch, so an envelope opens only in
// its own zone and epoch.

// Seal pads the signed alert and seals it for epoch under key.
func Seal(key *crypto.AEADKey, epoch uint32, s *Signed, rand io.Reader) ([]byte, error) {
	plain, err := s.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	plain = pad(plain)
	env := make([]byte, EnvelopeHeaderSize, EnvelopeHeaderSize+len(plain)+crypto.Overhead)
	env[0] = Version
	binary.BigEndian.PutUint32(env[1:5], epoch)
	if _, err := io.ReadFull(rand, env[5:EnvelopeHeaderSize]); err != nil {
		return nil, fmt.Errorf("seal: nonce: %w", err)
	}
	out, err := key.Seal(env, env[5:EnvelopeHeaderSize], plain, env[:EnvelopeHeaderSize])
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	if len(out) > MaxEnvelopeSize {
		return nil, fmt.Errorf("seal: %w: %d bytes", ErrTooLarge, len(out))
	}
	return out, nil
}

// EnvelopeEpoch reads the epoch of an envelope without opening it.
func EnvelopeEpoch(env []byte) (uint32, error) {
	if len(env) > MaxEnvelopeSize {
		return 0, fmt.Errorf("envelope: %w: %d bytes", ErrTooLarge, len(env))
	}
	if len(env) < EnvelopeHeaderSize+crypto.Overhead {
		return 0, fmt.Errorf("envelope: %w", ErrTruncated)
	}
	if env[0] != Version {
		return 0, fmt.Errorf("envelope: %w: %d", ErrVersion, env[0])
	}
	return binary.BigEndian.Uint32(env[1:5]), nil
}

// Open decrypts an envelope with key and decodes the signed alert inside.
// It verifies nothing but the AEAD tag and the structure.
func Open(key *crypto.AEADKey, env []byte) (*Signed, error) {
	return openCached(key, env, nil)
}

func openCached(key *crypto.AEADKey, env []byte, certs *CertCache) (*Signed, error) {
	if _, err := EnvelopeEpoch(env); err != nil {
		return nil, err
	}
	plain, err := key.Open(nil, env[5:EnvelopeHeaderSize], env[EnvelopeHeaderSize:], env[:EnvelopeHeaderSize])
	if err != nil {
		return nil, fmt.Errorf("envelope: %w", ErrDecrypt)
	}
	return parseSigned(plain, certs)
}
