package protocol

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"lookout/crypto"
)

// Linked zones (version 2). A link joins two zones without merging them.
// Each zone records the link in its own governance (KindLink): the link's
// secret, the name the zone goes by over it, the other zone's name and the
// public key of the other zone's end: the one organizer whose node relays
// for that zone. Only those two nodes talk to each other, over the link
// stream protocol, in frames sealed with a key derived from the link
// secret. What crosses is an endorsement: the shared alert's content,
// without its sender, witnesses or anything else about the zone's members,
// signed by the sending end. The receiving end publishes it in its zone as
// its own message carrying the endorsement (Forward), which every node of
// that zone checks against the key its organizers accepted.

// Errors of linked zones.
var (
	ErrLink         = errors.New("not an active link of this zone")
	ErrEndorser     = errors.New("endorser not accepted by this zone")
	ErrHops         = errors.New("hop count out of range")
	ErrBadLinkCode  = errors.New("invalid link code")
	ErrLinkUsed     = errors.New("link code already used")
	ErrLinkExpired  = errors.New("link code expired")
	ErrLinkWrongEnd = errors.New("link code belongs to another zone")
)

// Signing contexts of links.
const (
	ContextEndorse = "lookout/v2/endorse"
	ContextLink    = "lookout/v2/link"
)

// LinkCodePrefix starts every link offer code line.
const LinkCodePrefix = "lookoutlink2:"

const (
	linkKeyLabel = "lookout link key v2"
	digestLabel  = "lookout share digest v2"
)

// LinkID names a link; both zones use the same ID.
type LinkID [LinkIDSize]byte

func (l LinkID) String() string { return hex.EncodeToString(l[:]) }
func (l LinkID) IsZero() bool   { return l == LinkID{} }

// Digest names a shared alert on every link it crosses.
type Digest [DigestSize]byte

func (d Digest) String() string { return hex.EncodeToString(d[:]) }
func (d Digest) IsZero() bool   { return d == Digest{} }

// ShareDigest is the digest of an alert first shared from its own zone:
// SHA-256(label || alert ID). It says nothing about the alert's sender.
func ShareDigest(id AlertID) Digest {
	h := sha256.New()
	h.Write([]byte(digestLabel))
	h.Write(id[:])
	var d Digest
	copy(d[:], h.Sum(nil))
	return d
}

// LinkOp is what a KindLink message does.
type LinkOp uint8

const (
	LinkOffer  LinkOp = 1 // this zone offers a link (the code is out)
	LinkAccept LinkOp = 2 // the link is made: names the other side's end
	LinkEnd    LinkOp = 3 // this zone ends the link
)

// LinkRecord is the body of a KindLink message.
type LinkRecord struct {
	Op     LinkOp
	ID     LinkID
	Secret [LinkSecretSize]byte // offer, accept
	Name   string               // offer, accept: the name this zone goes by over the link
	Until  time.Time            // offer: when the code expires
	Peer   string               // accept: the other zone's link name
	// PeerKey is the public key of the other zone's end (accept).
	PeerKey []byte
	// PeerNode is how to reach the other end's node (accept): see EncodeLinkNode.
	PeerNode []byte
}

func (l *LinkRecord) encode(w *writer) {
	w.u8(uint8(l.Op))
	w.raw(l.ID[:])
	switch l.Op {
	case LinkOffer:
		w.raw(l.Secret[:])
		w.str(l.Name)
		w.time(l.Until)
	case LinkAccept:
		w.raw(l.Secret[:])
		w.str(l.Name)
		w.str(l.Peer)
		w.raw(l.PeerKey)
		w.bytes16(l.PeerNode)
	}
}

func parseLinkRecord(r *reader) *LinkRecord {
	l := &LinkRecord{Op: LinkOp(r.u8("link op"))}
	r.fixed(l.ID[:], "link id")
	switch l.Op {
	case LinkOffer:
		r.fixed(l.Secret[:], "link secret")
		l.Name = r.str("link name", MaxLinkNameLen)
		l.Until = r.time("until")
	case LinkAccept:
		r.fixed(l.Secret[:], "link secret")
		l.Name = r.str("link name", MaxLinkNameLen)
		l.Peer = r.str("peer name", MaxLinkNameLen)
		l.PeerKey = append([]byte(nil), r.take(crypto.PublicKeySize, "peer key")...)
		l.PeerNode = r.bytes16("peer node", MaxLinkNodeLen)
	case LinkEnd:
	default:
		r.fail(&FieldError{Field: "link op", Err: ErrEnum})
	}
	return l
}

func (l *LinkRecord) validate() error {
	if l.ID.IsZero() {
		return &FieldError{Field: "link id", Err: ErrMissing}
	}
	named := func(field, s string) error {
		if s == "" || len(s) > MaxLinkNameLen || strings.ContainsAny(s, "\n\t") {
			return &FieldError{Field: field, Err: fmt.Errorf("%w: 1 to %d bytes on one line", ErrEnum, MaxLinkNameLen)}
		}
		return checkText(s)
	}
	switch l.Op {
	case LinkOffer:
		if err := named("link name", l.Name); err != nil {
			return err
		}
		if !validMilli(unixMilli(l.Until)) {
			return &FieldError{Field: "until", Err: ErrBadTime}
		}
		if l.Peer != "" || l.PeerKey != nil || l.PeerNode != nil {
			return &FieldError{Field: "peer", Err: fmt.Errorf("%w: not used by an offer", ErrEnum)}
		}
	case LinkAccept:
		if err := named("link name", l.Name); err != nil {
			return err
		}
		if err := named("peer name", l.Peer); err != nil {
			return err
		}
		if _, err := crypto.ParsePublicKey(l.PeerKey); err != nil {
			return &FieldError{Field: "peer key", Err: err}
		}
		if _, _, err := ParseLinkNode(l.PeerNode); err != nil {
			return &FieldError{Field: "peer node", Err: err}
		}
		if !l.Until.IsZero() {
			return &FieldError{Field: "until", Err: fmt.Errorf("%w: not used by an accept", ErrEnum)}
		}
	case LinkEnd:
		if l.Secret != [LinkSecretSize]byte{} || l.Name != "" || !l.Until.IsZero() || l.Peer != "" || l.PeerKey != nil || l.PeerNode != nil {
			return &FieldError{Field: "link", Err: fmt.Errorf("%w: an end names only the link", ErrEnum)}
		}
	default:
		return &FieldError{Field: "link op", Err: ErrEnum}
	}
	return nil
}
