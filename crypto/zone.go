package crypto

import (
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
)

// Zone and AEAD sizes in bytes.
const (
	ZoneSecretSize   = 32
	AEADKeySize      = chacha20poly1305.KeySize
	NonceSize        = chacha20poly1305.NonceSizeX
	Overhead         = chacha20poly1305.Overhead
	DiscoveryKeySize = 32
	TopicIDSize      = 16 // derived bytes in a topic name

	epochSize = 4 // uint32, big-endian, in HKDF info
)

// Zone derivation labels and formats.
const (
	TopicPrefix    = "lookout/4/"
	topicLabel     = "lookout topic v1"
	alertKeyLabel  = "lookout alert key v1"
	discoveryLabel = "lookout discovery v1"
	dayFormat      = "2006-01-02"
)

// derive returns n bytes of HKDF-SHA256(secret, salt=empty, info).
func derive(secret, info []byte, n int) ([]byte, error) {
	return hkdf.Key(sha256.New, secret, nil, string(info), n)
}

// mustDerive is derive for fixed, valid lengths, where HKDF cannot fail.
func mustDerive(secret, info []byte, n int) []byte {
	out, err := derive(secret, info, n)
	if err != nil {
		panic("crypto: hkdf with fixed length failed: " + err.Error())
	}
	return out
}

// epochInfo returns label || uint32be(epoch).
func epochInfo(label string, epoch uint32) []byte {
	return binary.BigEndian.AppendUint32(append(make([]byte, 0, len(label)+epochSize), label...), epoch)
}

// ZoneSecret is the secret shared by a zone's members.
type ZoneSecret [ZoneSecretSize]byte

// NewZoneSecret reads a fresh zone secret from r (normally crypto/rand.Reader).
func NewZoneSecret(r io.Reader) (ZoneSecret, error) {
	var s ZoneSecret
	if _, err := io.ReadFull(r, s[:]); err != nil {
		return ZoneSecret{}, fmt.Errorf("new zone secret: read: %w", err)
	}
	return s, nil
}

// TopicName returns the gossipsub topic for epoch. It is a pseudorandom
// function of the secret, so it reveals nothing about the zone.
func (s ZoneSecret) TopicName(epoch uint32) string {
	id := mustDerive(s[:], epochInfo(topicLabel, epoch), TopicIDSize)
	return TopicPrefix + hex.EncodeToString(id)
}

// AlertKey returns the key that seals the zone's alerts in epoch.
func (s ZoneSecret) AlertKey(epoch uint32) *AEADKey {
	k := mustDerive(s[:], epochInfo(alertKeyLabel, epoch), AEADKeySize)
	key, err := NewAEADKey(k)
	if err != nil {
		panic("crypto: alert key of fixed size rejected: " + err.Error())
	}
	return key
}

// DiscoveryKey returns the local-network discovery key for the UTC day
// containing day; it rotates daily.
func (s ZoneSecret) DiscoveryKey(day time.Time) [DiscoveryKeySize]byte {
	info := append([]byte(discoveryLabel), day.UTC().Format(dayFormat)...)
	var out [DiscoveryKeySize]byte
	copy(out[:], mustDerive(s[:], info, DiscoveryKeySize))
	return out
}

// SyncKey returns the key that proves membership of the zone in an epoch
// when two members' nodes ask each other for missed zone messages.
func (s ZoneSecret) SyncKey(epoch uint32) [SyncKeySize]byte {
	info := binary.BigEndian.AppendUint32([]byte(syncLabel), epoch)
	var out [SyncKeySize]byte
	copy(out[:], mustDerive(s[:], info, SyncKeySize))
	return out
}

// SyncKeySize is the size of a sync key (an HMAC-SHA256 key).
const SyncKeySize = 32

const syncLabel = "lookout sync v1"

// ProofKey returns the key with which a member's node proves membership of
// the zone in an epoch to a peer it connects to (node/membership).
func (s ZoneSecret) ProofKey(epoch uint32) [ProofKeySize]byte {
	var out [ProofKeySize]byte
	copy(out[:], mustDerive(s[:], epochInfo(proofLabel, epoch), ProofKeySize))
	return out
}

// ProofKeySize is the size of a proof key (an HMAC-SHA256 key).
const ProofKeySize = 32

const proofLabel = "lookout proof v1"

// AEADKey is an XChaCha20-Poly1305 key. It is safe for concurrent use.
// Nonces are NonceSize bytes and may be random: 24 bytes make collisions
// negligible.
type AEADKey struct {
	aead cipher.AEAD
}

// NewAEADKey makes an AEADKey from AEADKeySize bytes.
func NewAEADKey(key []byte) (*AEADKey, error) {
	if len(key) != AEADKeySize {
		return nil, fmt.Errorf("new aead key: %w: %d bytes, want %d", ErrBadKey, len(key), AEADKeySize)
	}
	a, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, fmt.Errorf("new aead key: %w", err)
	}
	return &AEADKey{aead: a}, nil
}

// Seal encrypts and authenticates plaintext and authenticates aad,
// appending the result (len(plaintext)+Overhead bytes) to dst. nonce must
// be NonceSize bytes and never reused with the same key. dst and plaintext
// must overlap exactly or not at all.
func (k *AEADKey) Seal(dst, nonce, plaintext, aad []byte) ([]byte, error) {
	if len(nonce) != NonceSize {
		return nil, fmt.Errorf("seal: %w: %d bytes, want %d", ErrBadNonce, len(nonce), NonceSize)
	}
	return k.aead.Seal(dst, nonce, plaintext, aad), nil
}

// Open authenticates and decrypts ciphertext, appending the plaintext to
// dst. Any failure, including a nonce that is not NonceSize bytes, gives an
// error wrapping ErrDecrypt. dst and ciphertext must overlap exactly or not
// at all.
func (k *AEADKey) Open(dst, nonce, ciphertext, aad []byte) ([]byte, error) {
	if len(nonce) != NonceSize {
		return nil, fmt.Errorf("open: %w: nonce is %d bytes, want %d", ErrDecrypt, len(nonce), NonceSize)
	}
	pt, err := k.aead.Open(dst, nonce, ciphertext, aad)
	if err != nil {
		return nil, fmt.Errorf("open: %w", ErrDecrypt)
	}
	return pt, nil
}
