package protocol

import (
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"lookout/crypto"
)

// Frames of the link stream protocol: sealing, hello, endorsement, end.

// Frame types of the link stream protocol.
const (
	FrameAccept  uint8 = 1 // the accepting end introduces itself
	FrameEndorse uint8 = 2 // an endorsement
	FrameEnd     uint8 = 3 // the sending zone ended the link
)

// linkFrameHeader is version, type and link ID: the frame's AAD with the nonce.
const linkFrameHeader = 1 + 1 + LinkIDSize

// SealLinkFrame seals a frame of the link stream protocol:
//
//	u8 version | u8 type | 16 link ID | 24-byte nonce | XChaCha20-Poly1305(payload)
//
// The key is LinkKey(secret); the header before the nonce is the AAD.
func SealLinkFrame(secret [LinkSecretSize]byte, typ uint8, id LinkID, payload []byte, rand io.Reader) ([]byte, error) {
	key, err := LinkKey(secret)
	if err != nil {
		return nil, err
	}
	out := make([]byte, linkFrameHeader+crypto.NonceSize, linkFrameHeader+crypto.NonceSize+len(payload)+crypto.Overhead)
	out[0], out[1] = Version, typ
	copy(out[2:], id[:])
	if _, err := io.ReadFull(rand, out[linkFrameHeader:]); err != nil {
		return nil, fmt.Errorf("seal link frame: nonce: %w", err)
	}
	out, err = key.Seal(out, out[linkFrameHeader:], payload, out[:linkFrameHeader])
	if err != nil {
		return nil, fmt.Errorf("seal link frame: %w", err)
	}
	if len(out) > MaxLinkFrameSize {
		return nil, fmt.Errorf("seal link frame: %w", ErrTooLarge)
	}
	return out, nil
}

// LinkFrameHeader reads a frame's type and link ID without opening it.
func LinkFrameHeader(b []byte) (uint8, LinkID, error) {
	var id LinkID
	if len(b) > MaxLinkFrameSize {
		return 0, id, fmt.Errorf("link frame: %w", ErrTooLarge)
	}
	if len(b) < linkFrameHeader+crypto.NonceSize+crypto.Overhead {
		return 0, id, fmt.Errorf("link frame: %w", ErrTruncated)
	}
	if b[0] != Version {
		return 0, id, fmt.Errorf("link frame: %w: %d", ErrVersion, b[0])
	}
	if b[1] < FrameAccept || b[1] > FrameEnd {
		return 0, id, fmt.Errorf("link frame: %w: type %d", ErrEnum, b[1])
	}
	copy(id[:], b[2:linkFrameHeader])
	return b[1], id, nil
}

// OpenLinkFrame opens a frame with the link's secret.
func OpenLinkFrame(secret [LinkSecretSize]byte, b []byte) (typ uint8, payload []byte, err error) {
	typ, _, err = LinkFrameHeader(b)
	if err != nil {
		return 0, nil, err
	}
	key, err := LinkKey(secret)
	if err != nil {
		return 0, nil, err
	}
	n := linkFrameHeader + crypto.NonceSize
	payload, err = key.Open(nil, b[linkFrameHeader:n], b[n:], b[:linkFrameHeader])
	if err != nil {
		return 0, nil, fmt.Errorf("link frame: %w", ErrDecrypt)
	}
	return typ, payload, nil
}

// LinkHello is the payload of FrameAccept: the accepting end's key, its
// zone's name over the link and its node, signed by that key.
//
//	public key | str name | u16 len | node | i64 sent | signature
type LinkHello struct {
	Key  []byte
	Name string
	Node []byte
	Sent time.Time
	Sig  []byte
}

func (h *LinkHello) body(id LinkID) []byte {
	w := writer{}
	w.raw(id[:])
	w.raw(h.Key)
	w.str(h.Name)
	w.bytes16(h.Node)
	w.time(h.Sent)
	return w.b
}

// SignLinkHello builds and signs the accepting end's hello for link id.
func SignLinkHello(id *crypto.Identity, link LinkID, name string, node []byte, now time.Time) (*LinkHello, error) {
	h := &LinkHello{Key: id.Public().Bytes(), Name: name, Node: node, Sent: truncMilli(now)}
	rec := LinkRecord{Op: LinkAccept, ID: link, Name: name, Peer: name, PeerKey: h.Key, PeerNode: node}
	if err := rec.validate(); err != nil {
		return nil, fmt.Errorf("link hello: %w", err)
	}
	sig, err := id.Sign(ContextLink, h.body(link))
	if err != nil {
		return nil, fmt.Errorf("link hello: %w", err)
	}
	h.Sig = sig
	return h, nil
}

// MarshalBinary encodes the hello (its link ID is in the frame header).
func (h *LinkHello) MarshalBinary() ([]byte, error) {
	var zero LinkID
	b := h.body(zero)[LinkIDSize:]
	return append(b, h.Sig...), nil
}

// ParseLinkHello decodes a hello and verifies its signature for link id.
func ParseLinkHello(link LinkID, b []byte) (*LinkHello, *crypto.PublicKey, error) {
	r := reader{b: b, where: "link hello"}
	h := &LinkHello{}
	h.Key = append([]byte(nil), r.take(crypto.PublicKeySize, "key")...)
	h.Name = r.str("name", MaxLinkNameLen)
	h.Node = r.bytes16("node", MaxLinkNodeLen)
	h.Sent = r.time("sent")
	h.Sig = append([]byte(nil), r.take(crypto.SignatureSize, "signature")...)
	if err := r.done(); err != nil {
		return nil, nil, fmt.Errorf("decode link hello: %w", err)
	}
	rec := LinkRecord{Op: LinkAccept, ID: link, Name: h.Name, Peer: h.Name, PeerKey: h.Key, PeerNode: h.Node}
	if err := rec.validate(); err != nil {
		return nil, nil, fmt.Errorf("decode link hello: %w", err)
	}
	pk, err := crypto.ParsePublicKey(h.Key)
	if err != nil {
		return nil, nil, fmt.Errorf("decode link hello: %w", err)
	}
	if err := pk.Verify(ContextLink, h.body(link), h.Sig); err != nil {
		return nil, nil, fmt.Errorf("decode link hello: %w: %w", ErrBadSignature, err)
	}
	return h, pk, nil
}

// EncodeEndorsement is the payload of FrameEndorse: u16 len | body | signature.
func EncodeEndorsement(body, sig []byte) []byte {
	w := writer{}
	w.bytes16(body)
	w.raw(sig)
	return w.b
}

// ParseEndorsementFrame decodes a FrameEndorse payload into an alert
// template whose Via carries the signature (not yet verified).
func ParseEndorsementFrame(b []byte) (*Alert, error) {
	r := reader{b: b, where: "endorsement frame"}
	body := r.bytes16("body", MaxBodySize)
	sig := append([]byte(nil), r.take(crypto.SignatureSize, "signature")...)
	if err := r.done(); err != nil {
		return nil, fmt.Errorf("decode endorsement frame: %w", err)
	}
	a, err := ParseEndorsement(body)
	if err != nil {
		return nil, err
	}
	a.Via.Sig = sig
	return a, nil
}

// LinkEndBody is what the ending side signs in a FrameEnd payload:
// link ID and the sent time; the payload is i64 sent | signature.
func linkEndBody(link LinkID, sent time.Time) []byte {
	w := writer{}
	w.raw([]byte("end"))
	w.raw(link[:])
	w.time(sent)
	return w.b
}

// SignLinkEnd builds a FrameEnd payload.
func SignLinkEnd(id *crypto.Identity, link LinkID, now time.Time) ([]byte, error) {
	now = truncMilli(now)
	sig, err := id.Sign(ContextLink, linkEndBody(link, now))
	if err != nil {
		return nil, fmt.Errorf("link end: %w", err)
	}
	return append(binary.BigEndian.AppendUint64(nil, uint64(unixMilli(now))), sig...), nil
}

// VerifyLinkEnd checks a FrameEnd payload against the other end's key.
func VerifyLinkEnd(pk *crypto.PublicKey, link LinkID, b []byte) error {
	r := reader{b: b, where: "link end"}
	sent := r.time("sent")
	sig := r.take(crypto.SignatureSize, "signature")
	if err := r.done(); err != nil {
		return fmt.Errorf("decode link end: %w", err)
	}
	if err := pk.Verify(ContextLink, linkEndBody(link, sent), sig); err != nil {
		return fmt.Errorf("decode link end: %w: %w", ErrBadSignature, err)
	}
	return nil
}
