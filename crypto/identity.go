package crypto

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"sync"

	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
)

// Key, signature and ID sizes in bytes.
const (
	SeedSize             = 32
	Ed25519PublicKeySize = ed25519.PublicKeySize
	MLDSAPublicKeySize   = mldsa65.PublicKeySize
	PublicKeySize        = Ed25519PublicKeySize + MLDSAPublicKeySize
	Ed25519SignatureSize = ed25519.SignatureSize
	MLDSASignatureSize   = mldsa65.SignatureSize
	SignatureSize        = Ed25519SignatureSize + MLDSASignatureSize
	MemberIDSize         = sha256.Size
	MaxContextSize       = 255 // longest signature context string

	ed25519SeedSize = ed25519.SeedSize
	mldsaSeedSize   = mldsa65.SeedSize
)

// Domain-separation labels.
const (
	compositeLabel    = "LOOKOUT-ED25519-MLDSA65-V1"
	memberIDLabel     = "lookout member id v1"
	ed25519SeedLabel  = "lookout identity ed25519 v1"
	mldsaSeedLabel    = "lookout identity ml-dsa-65 v1"
	memberIDHexLength = 2 * MemberIDSize
)

// MemberID names a member: SHA-256("lookout member id v1" || public key).
type MemberID [MemberIDSize]byte

// String returns m as 64 lower-case hex characters.
func (m MemberID) String() string { return hex.EncodeToString(m[:]) }

// IsZero reports whether m is the zero ID (no member).
func (m MemberID) IsZero() bool { return m == MemberID{} }

// ParseMemberID parses exactly 64 hex characters (either case).
func ParseMemberID(s string) (MemberID, error) {
	var m MemberID
	if len(s) != memberIDHexLength {
		return m, fmt.Errorf("parse member id: %w: %d characters, want %d", ErrBadMemberID, len(s), memberIDHexLength)
	}
	if _, err := hex.Decode(m[:], []byte(s)); err != nil {
		return MemberID{}, fmt.Errorf("parse member id: %w: %w", ErrBadMemberID, err)
	}
	return m, nil
}

// PublicKey is a member's hybrid Ed25519 + ML-DSA-65 public key. It is
// immutable and safe for concurrent use.
type PublicKey struct {
	ed  ed25519.PublicKey
	raw [PublicKeySize]byte
	id  MemberID
	// ml is unpacked from raw on first use (mldsa): unpacking expands
	// the key's matrix, which costs far more than parsing, and most parsed
	// keys (certificates folded into a roster) never verify anything.
	mlOnce sync.Once
	ml     *mldsa65.PublicKey
	mlErr  error
}

// ParsePublicKey decodes an encoded public key (Ed25519 || ML-DSA-65). Any
// 1952-byte string is a well-formed ML-DSA-65 key, and Ed25519 points are
// only checked by Verify, so the length is what is enforced here.
func ParsePublicKey(b []byte) (*PublicKey, error) {
	if len(b) != PublicKeySize {
		return nil, fmt.Errorf("parse public key: %w: %d bytes, want %d", ErrBadPublicKey, len(b), PublicKeySize)
	}
	p := &PublicKey{}
	copy(p.raw[:], b)
	p.init()
	return p, nil
}

// newPublicKey copies ed and caches the encoding and member ID.
func newPublicKey(ed ed25519.PublicKey, ml *mldsa65.PublicKey) *PublicKey {
	p := &PublicKey{}
	copy(p.raw[:Ed25519PublicKeySize], ed)
	var mlRaw [MLDSAPublicKeySize]byte
	ml.Pack(&mlRaw)
	copy(p.raw[Ed25519PublicKeySize:], mlRaw[:])
	p.mlOnce.Do(func() { p.ml = ml })
	p.init()
	return p
}

// init sets ed and the member ID from raw.
func (p *PublicKey) init() {
	p.ed = ed25519.PublicKey(p.raw[:Ed25519PublicKeySize:Ed25519PublicKeySize])
	h := sha256.New()
	h.Write([]byte(memberIDLabel))
	h.Write(p.raw[:])
	h.Sum(p.id[:0])
}

// mldsa returns the unpacked ML-DSA-65 key.
func (p *PublicKey) mldsa() (*mldsa65.PublicKey, error) {
	p.mlOnce.Do(func() {
		ml := new(mldsa65.PublicKey)
		if err := ml.UnmarshalBinary(p.raw[Ed25519PublicKeySize:]); err != nil {
			p.mlErr = fmt.Errorf("ml-dsa-65: %w: %w", ErrBadPublicKey, err)
			return
		}
		p.ml = ml
	})
	return p.ml, p.mlErr
}

// Bytes returns a copy of the PublicKeySize-byte encoding.
func (p *PublicKey) Bytes() []byte {
	b := make([]byte, PublicKeySize)
	copy(b, p.raw[:])
	return b
}

// ID returns the member ID of p.
func (p *PublicKey) ID() MemberID { return p.id }

// Equal reports whether p and q are the same key; two nils are equal.
func (p *PublicKey) Equal(q *PublicKey) bool {
	if p == nil || q == nil {
		return p == q
	}
	return p.raw == q.raw
}

// Verify checks a composite signature over msg under context. It returns
// nil only if both the Ed25519 and the ML-DSA-65 halves verify; otherwise
// the error wraps ErrBadSignature.
func (p *PublicKey) Verify(context string, msg, sig []byte) error {
	if len(context) > MaxContextSize {
		return fmt.Errorf("verify: %w: %w", ErrBadSignature, ErrContextTooLong)
	}
	if len(sig) != SignatureSize {
		return fmt.Errorf("verify: %w: %d bytes, want %d", ErrBadSignature, len(sig), SignatureSize)
	}
	ml, err := p.mldsa()
	if err != nil {
		return fmt.Errorf("verify: %w: %w", ErrBadSignature, err)
	}
	m := compositeMessage(context, msg)
	edOK := ed25519.Verify(p.ed, m, sig[:Ed25519SignatureSize])
	mlOK := mldsa65.Verify(ml, m, []byte(compositeLabel), sig[Ed25519SignatureSize:])
	if !edOK || !mlOK {
		return fmt.Errorf("verify: %w", ErrBadSignature)
	}
	return nil
}

// compositeMessage returns M' = label || byte(len(context)) || context || msg.
// The caller has checked len(context) <= MaxContextSize.
func compositeMessage(context string, msg []byte) []byte {
	m := make([]byte, 0, len(compositeLabel)+1+len(context)+len(msg))
	m = append(m, compositeLabel...)
	m = append(m, byte(len(context)))
	m = append(m, context...)
	return append(m, msg...)
}

// Identity holds a member's private signing keys. It is immutable and safe
// for concurrent use.
type Identity struct {
	seed [SeedSize]byte
	ed   ed25519.PrivateKey
	ml   *mldsa65.PrivateKey
	pub  *PublicKey
}

// NewIdentity creates an identity from SeedSize bytes read from r
// (normally crypto/rand.Reader).
func NewIdentity(r io.Reader) (*Identity, error) {
	var seed [SeedSize]byte
	if _, err := io.ReadFull(r, seed[:]); err != nil {
		return nil, fmt.Errorf("new identity: read seed: %w", err)
	}
	return IdentityFromSeed(seed[:])
}

// IdentityFromSeed deterministically derives an identity from a master seed.
func IdentityFromSeed(seed []byte) (*Identity, error) {
	if len(seed) != SeedSize {
		return nil, fmt.Errorf("identity from seed: %w: %d bytes, want %d", ErrBadSeed, len(seed), SeedSize)
	}
	id := new(Identity)
	copy(id.seed[:], seed)

	edSeed, err := derive(seed, []byte(ed25519SeedLabel), ed25519SeedSize)
	if err != nil {
		return nil, fmt.Errorf("identity from seed: derive ed25519 seed: %w", err)
	}
	id.ed = ed25519.NewKeyFromSeed(edSeed)

	mlSeed, err := derive(seed, []byte(mldsaSeedLabel), mldsaSeedSize)
	if err != nil {
		return nil, fmt.Errorf("identity from seed: derive ml-dsa-65 seed: %w", err)
	}
	var mlSeedArr [mldsaSeedSize]byte
	copy(mlSeedArr[:], mlSeed)
	mlPub, mlPriv := mldsa65.NewKeyFromSeed(&mlSeedArr)
	id.ml = mlPriv

	id.pub = newPublicKey(id.ed.Public().(ed25519.PublicKey), mlPub)
	return id, nil
}

// Seed returns a copy of the master seed.
func (id *Identity) Seed() []byte {
	s := make([]byte, SeedSize)
	copy(s, id.seed[:])
	return s
}

// Public returns the identity's public key.
func (id *Identity) Public() *PublicKey { return id.pub }

// ID returns the identity's member ID.
func (id *Identity) ID() MemberID { return id.pub.id }

// Sign returns a deterministic composite signature over msg under context
// (at most MaxContextSize bytes).
func (id *Identity) Sign(context string, msg []byte) ([]byte, error) {
	if len(context) > MaxContextSize {
		return nil, fmt.Errorf("sign: %w: %d bytes, max %d", ErrContextTooLong, len(context), MaxContextSize)
	}
	m := compositeMessage(context, msg)
	sig := make([]byte, SignatureSize)
	copy(sig, ed25519.Sign(id.ed, m))
	if err := mldsa65.SignTo(id.ml, m, []byte(compositeLabel), false, sig[Ed25519SignatureSize:]); err != nil {
		return nil, fmt.Errorf("sign: ml-dsa-65: %w", err)
	}
	return sig, nil
}
