package protocol

import (
	"bufio"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"io"

	"lookout/crypto"
)

// Member-authenticated connections (docs/protocol.md, "Membership proof").
// On every new connection the two nodes exchange, at the same time and in
// this order:
//
//	hello  u8 version | 32-byte nonce
//	proof  MembershipSlots × 16-byte tag
//	ack    u8 MembershipAck
//
// A tag is HMAC-SHA256(proof key of one zone epoch, label | prover peer ID
// | verifier peer ID | prover nonce | verifier nonce)[:16]; the prover puts
// one tag per zone epoch it holds into random slots and fills the others
// with random bytes. To anyone without the key a proof is random bytes of
// a fixed size, whatever the number of zones.
const (
	// MembershipProtocol is the stream protocol ID. It names nothing
	// Lookout-specific: identify lists it to every peer.
	MembershipProtocol = "/auth/1.0.0"
	// MembershipVersion is the first byte of a hello.
	MembershipVersion = 1
	// MembershipNonceSize is the nonce each side sends in its hello.
	MembershipNonceSize = 32
	// MembershipHelloSize is the size of an encoded hello.
	MembershipHelloSize = 1 + MembershipNonceSize
	// MembershipTagSize is the size of one tag (truncated HMAC-SHA256).
	MembershipTagSize = 16
	// MembershipSlots is the fixed number of tags in a proof: the most zone
	// epochs a node can prove at once (a zone in rotation takes two).
	MembershipSlots = 64
	// MembershipProofSize is the size of an encoded proof.
	MembershipProofSize = MembershipSlots * MembershipTagSize
	// MembershipAckSize is the size of the ack, sent once a side has checked
	// the other's proof (whatever the result).
	MembershipAckSize = 1
	// MembershipAck is the only valid ack byte.
	MembershipAck = 0x01
	// membershipIDLenSize prefixes each peer ID inside a tag's input.
	membershipIDLenSize = 2

	membershipTagLabel = "lookout membership tag v1"
)

// MembershipTag is one tag of a proof: it proves to verifier that prover
// holds key, bound to both nonces of this run. Peer IDs are their bytes.
func MembershipTag(key [crypto.ProofKeySize]byte, prover, verifier []byte, proverNonce, verifierNonce [MembershipNonceSize]byte) [MembershipTagSize]byte {
	m := hmac.New(sha256.New, key[:])
	m.Write([]byte(membershipTagLabel))
	var l [membershipIDLenSize]byte
	binary.BigEndian.PutUint16(l[:], uint16(len(prover)))
	m.Write(l[:])
	m.Write(prover)
	binary.BigEndian.PutUint16(l[:], uint16(len(verifier)))
	m.Write(l[:])
	m.Write(verifier)
	m.Write(proverNonce[:])
	m.Write(verifierNonce[:])
	var t [MembershipTagSize]byte
	copy(t[:], m.Sum(nil))
	return t
}

// AppendMembershipHello appends the hello carrying nonce to dst.
func AppendMembershipHello(dst []byte, nonce [MembershipNonceSize]byte) []byte {
	dst = append(dst, MembershipVersion)
	return append(dst, nonce[:]...)
}

// ParseMembershipHello decodes a hello.
func ParseMembershipHello(b []byte) ([MembershipNonceSize]byte, error) {
	var n [MembershipNonceSize]byte
	if len(b) < MembershipHelloSize {
		return n, fmt.Errorf("membership hello: %w: %d bytes, want %d", ErrTruncated, len(b), MembershipHelloSize)
	}
	if len(b) > MembershipHelloSize {
		return n, fmt.Errorf("membership hello: %w: %d bytes, want %d", ErrTrailing, len(b), MembershipHelloSize)
	}
	if b[0] != MembershipVersion {
		return n, fmt.Errorf("membership hello: %w: %d, this node speaks %d (update the node)", ErrVersion, b[0], MembershipVersion)
	}
	copy(n[:], b[1:])
	return n, nil
}

// MembershipProof is a decoded proof: MembershipSlots tags.
type MembershipProof [MembershipSlots][MembershipTagSize]byte

// NewMembershipProof places tags in distinct random slots and fills the
// other slots with random bytes from r (nil: crypto/rand). It fails if
// there are more tags than slots.
func NewMembershipProof(tags [][MembershipTagSize]byte, r io.Reader) (*MembershipProof, error) {
	if len(tags) > MembershipSlots {
		return nil, fmt.Errorf("membership proof: %w: %d zone epochs, at most %d", ErrTooLarge, len(tags), MembershipSlots)
	}
	if r == nil {
		r = rand.Reader
	}
	// One read for the padding and, nearly always, the shuffle.
	r = bufio.NewReaderSize(r, MembershipProofSize+4*MembershipSlots)
	p := new(MembershipProof)
	for i := range p {
		if _, err := io.ReadFull(r, p[i][:]); err != nil {
			return nil, fmt.Errorf("membership proof: read random: %w", err)
		}
	}
	// Fisher–Yates over the slot order; the first len(tags) slots of the
	// permutation take the tags.
	var order [MembershipSlots]int
	for i := range order {
		order[i] = i
	}
	for i := MembershipSlots - 1; i > 0; i-- {
		j, err := uniform(r, i+1)
		if err != nil {
			return nil, fmt.Errorf("membership proof: read random: %w", err)
		}
		order[i], order[j] = order[j], order[i]
	}
	for i, t := range tags {
		p[order[i]] = t
	}
	return p, nil
}

// uniform returns a uniform integer in [0, n) for 0 < n ≤ 1<<16, by
// rejection sampling of 16-bit values read from r.
func uniform(r io.Reader, n int) (int, error) {
	limit := (1 << 16) / n * n
	var b [2]byte
	for {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return 0, err
		}
		if v := int(binary.BigEndian.Uint16(b[:])); v < limit {
			return v % n, nil
		}
	}
}

// MarshalBinary encodes the proof (MembershipProofSize bytes).
func (p *MembershipProof) MarshalBinary() []byte {
	out := make([]byte, 0, MembershipProofSize)
	for i := range p {
		out = append(out, p[i][:]...)
	}
	return out
}

// ParseMembershipProof decodes a proof.
func ParseMembershipProof(b []byte) (*MembershipProof, error) {
	if len(b) < MembershipProofSize {
		return nil, fmt.Errorf("membership proof: %w: %d bytes, want %d", ErrTruncated, len(b), MembershipProofSize)
	}
	if len(b) > MembershipProofSize {
		return nil, fmt.Errorf("membership proof: %w: %d bytes, want %d", ErrTrailing, len(b), MembershipProofSize)
	}
	p := new(MembershipProof)
	for i := range p {
		copy(p[i][:], b[i*MembershipTagSize:])
	}
	return p, nil
}

// Contains reports whether tag is in one of the proof's slots. It compares
// every slot in constant time, so its timing says nothing of where, or
// whether, the tag was found.
func (p *MembershipProof) Contains(tag [MembershipTagSize]byte) bool {
	found := 0
	for i := range p {
		found |= subtle.ConstantTimeCompare(p[i][:], tag[:])
	}
	return found == 1
}

// CheckMembershipAck checks the ack byte.
func CheckMembershipAck(b byte) error {
	if b != MembershipAck {
		return fmt.Errorf("membership ack: %w: 0x%02x", ErrEnum, b)
	}
	return nil
}
