package protocol

import (
	"bytes"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
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

// Forward is what a message that crossed a link carries: the endorsement
// of the zone it came from. Sig is the endorser's signature over
// EndorsementBody of the message, so the receiving zone's relay cannot
// change what the other zone vouched for.
type Forward struct {
	Link   LinkID
	Digest Digest
	// Hops is how many links the alert may still cross, this one
	// included: 1 to MaxShareHops. Tallies carry 1.
	Hops uint8
	// Origin is the link name of the zone the alert was first shared from.
	Origin   string
	Endorser crypto.MemberID
	At       time.Time // when the endorser signed; later updates win
	Sig      []byte
}

func (f *Forward) encode(w *writer) {
	if f == nil {
		w.u8(0)
		return
	}
	w.u8(1)
	f.encodeBody(w)
	w.raw(f.Sig)
}

func (f *Forward) encodeBody(w *writer) {
	w.raw(f.Link[:])
	w.raw(f.Digest[:])
	w.u8(f.Hops)
	w.str(f.Origin)
	w.raw(f.Endorser[:])
	w.time(f.At)
}

func parseForwardBody(r *reader) *Forward {
	f := &Forward{}
	r.fixed(f.Link[:], "via link")
	r.fixed(f.Digest[:], "via digest")
	f.Hops = r.u8("via hops")
	f.Origin = r.str("via origin", MaxLinkNameLen)
	r.fixed(f.Endorser[:], "via endorser")
	f.At = r.time("via at")
	return f
}

// parseForward reads the optional trailer; required means it must be there.
func parseForward(r *reader, required bool) *Forward {
	switch r.u8("via") {
	case 0:
		if required {
			r.fail(&FieldError{Field: "via", Err: ErrMissing})
		}
		return nil
	case 1:
	default:
		r.fail(&FieldError{Field: "via", Err: ErrEnum})
		return nil
	}
	f := parseForwardBody(r)
	f.Sig = append([]byte(nil), r.take(crypto.SignatureSize, "via signature")...)
	return f
}

func (f *Forward) validate(sig bool) error {
	switch {
	case f.Link.IsZero():
		return &FieldError{Field: "via link", Err: ErrMissing}
	case f.Digest.IsZero():
		return &FieldError{Field: "via digest", Err: ErrMissing}
	case f.Hops < 1 || f.Hops > MaxShareHops:
		return &FieldError{Field: "via hops", Err: fmt.Errorf("%w: %d, 1 to %d", ErrHops, f.Hops, MaxShareHops)}
	case f.Origin == "" || len(f.Origin) > MaxLinkNameLen:
		return &FieldError{Field: "via origin", Err: ErrMissing}
	case f.Endorser.IsZero():
		return &FieldError{Field: "via endorser", Err: ErrMissing}
	case !validMilli(unixMilli(f.At)):
		return &FieldError{Field: "via at", Err: ErrBadTime}
	case sig && len(f.Sig) != crypto.SignatureSize:
		return &FieldError{Field: "via signature", Err: ErrMissing}
	}
	return checkText(f.Origin)
}

// carriesVia reports whether the kind's encoding ends with a Forward.
func carriesVia(k Kind) bool {
	return k == KindSighting || k == KindCallout || k == KindClear || k == KindTally
}

// Tally is how many members of a linked zone (and of the zones beyond it)
// answered a shared callout: totals, never names.
type Tally struct {
	EnRoute, OnScene, Cannot uint16
}

// AutoShare is what a zone's link end nodes share without being asked.
type AutoShare uint8

const (
	AutoShareNone     AutoShare = 0
	AutoShareVerified AutoShare = 1 // every verified sighting
	AutoShareCallouts AutoShare = 2 // every callout
	AutoShareAll      AutoShare = 3 // both
)

var autoShareNames = map[AutoShare]string{AutoShareNone: "none", AutoShareVerified: "verified", AutoShareCallouts: "callouts", AutoShareAll: "all"}

func (a AutoShare) String() string { return autoShareNames[a] }

// ParseAutoShare parses none, verified, callouts or all.
func ParseAutoShare(s string) (AutoShare, error) {
	for v, n := range autoShareNames {
		if n == s {
			return v, nil
		}
	}
	return 0, fmt.Errorf("%w: auto-share %q (use verified, callouts, all or none)", ErrEnum, s)
}

// Shares reports whether the policy shares a root of this kind.
func (a AutoShare) Shares(k Kind) bool {
	return (k == KindSighting && a&AutoShareVerified != 0) || (k == KindCallout && a&AutoShareCallouts != 0)
}

// validateLink checks the fields of linked zones and that kinds that do
// not use them leave them empty.
func (a *Alert) validateLink() error {
	if (a.Link != nil) != (a.Kind == KindLink) {
		if a.Link == nil {
			return &FieldError{Field: "link", Err: ErrMissing}
		}
		return &FieldError{Field: "link", Err: fmt.Errorf("%w: not used by %s", ErrEnum, a.Kind)}
	}
	if a.Link != nil {
		if err := a.Link.validate(); err != nil {
			return err
		}
	}
	if (a.Hops != 0) != (a.Kind == KindShare) || a.Hops > MaxShareHops {
		return &FieldError{Field: "hops", Err: fmt.Errorf("%w: 1 to %d, shares only", ErrHops, MaxShareHops)}
	}
	if a.Kind != KindTally && a.Tally != (Tally{}) {
		return &FieldError{Field: "tally", Err: fmt.Errorf("%w: not used by %s", ErrEnum, a.Kind)}
	}
	if a.Tally.EnRoute > MaxTally || a.Tally.OnScene > MaxTally || a.Tally.Cannot > MaxTally {
		return &FieldError{Field: "tally", Err: fmt.Errorf("%w: at most %d", ErrEnum, MaxTally)}
	}
	if a.Via == nil {
		if a.Kind == KindTally {
			return &FieldError{Field: "via", Err: ErrMissing}
		}
		return nil
	}
	if !carriesVia(a.Kind) {
		return &FieldError{Field: "via", Err: fmt.Errorf("%w: not used by %s", ErrEnum, a.Kind)}
	}
	if a.Kind == KindClear && a.Reason != ClearAllClear {
		return &FieldError{Field: "reason", Err: fmt.Errorf("%w: only an all clear crosses a link", ErrEnum)}
	}
	if a.Kind == KindSighting && a.Status == 0 {
		return &FieldError{Field: "status", Err: ErrEnum}
	}
	return a.Via.validate(true)
}

// EndorsementBody is what an endorser signs for a message that crosses a
// link: the kind, status and content of the alert, and the Forward without
// its signature. The sender, times, zone and ref of the message are the
// relaying zone's own and are not covered.
//
//	u8 version | u8 kind | u8 status | forward body | content by kind
//
// Content: a sighting's what, area, size, activity, uniform, equipment,
// observed, quick codes; a callout's title, area, when, need, bring, rights, expires;
// a clear's reason and note; a tally's three counts.
func EndorsementBody(a *Alert) ([]byte, error) {
	if a.Via == nil || !carriesVia(a.Kind) {
		return nil, fmt.Errorf("endorsement: %w: nothing to endorse", ErrMissing)
	}
	if err := a.Via.validate(false); err != nil {
		return nil, fmt.Errorf("endorsement: %w", err)
	}
	w := writer{b: make([]byte, 0, 256)}
	w.u8(Version)
	w.u8(uint8(a.Kind))
	w.u8(uint8(a.Status))
	a.Via.encodeBody(&w)
	switch a.Kind {
	case KindSighting:
		w.str(a.What)
		w.str(a.Area)
		w.u16(a.Size)
		w.str(a.Activity)
		w.str(a.Uniform)
		w.str(a.Equipment)
		w.time(a.Observed)
		a.Quick.encode(&w)
	case KindCallout:
		w.str(a.Title)
		w.str(a.Area)
		w.str(a.When)
		w.u16(a.Need)
		w.str(a.Bring)
		w.str(a.Rights)
		w.time(a.Expires)
	case KindClear:
		w.u8(uint8(a.Reason))
		w.str(a.Note)
	case KindTally:
		w.u16(a.Tally.EnRoute)
		w.u16(a.Tally.OnScene)
		w.u16(a.Tally.Cannot)
	}
	if len(w.b) > MaxBodySize {
		return nil, fmt.Errorf("endorsement: %w", ErrTooLarge)
	}
	return w.b, nil
}

// ParseEndorsement decodes an endorsement body received over a link into
// an alert template: kind, status, content and Via (without Sig). The
// receiving end fills in zone, sender, times and ref before signing.
func ParseEndorsement(b []byte) (*Alert, error) {
	if len(b) > MaxBodySize {
		return nil, fmt.Errorf("decode endorsement: %w", ErrTooLarge)
	}
	r := reader{b: b, where: "endorsement"}
	if v := r.u8("version"); r.err == nil && v != Version {
		return nil, fmt.Errorf("decode endorsement: %w: %d", ErrVersion, v)
	}
	a := &Alert{Kind: Kind(r.u8("kind")), Status: Status(r.u8("status"))}
	a.Via = parseForwardBody(&r)
	switch a.Kind {
	case KindSighting:
		a.What = r.str("what", MaxTextLen)
		a.Area = r.str("area", MaxPlaceLen)
		a.Size = r.u16("size")
		a.Activity = r.str("activity", MaxTextLen)
		a.Uniform = r.str("uniform", MaxTextLen)
		a.Equipment = r.str("equipment", MaxTextLen)
		a.Observed = r.time("observed")
		a.Quick = parseQuick(&r)
	case KindCallout:
		a.Title = r.str("title", MaxTitleLen)
		a.Area = r.str("area", MaxPlaceLen)
		a.When = r.str("when", MaxWhenLen)
		a.Need = r.u16("need")
		a.Bring = r.str("bring", MaxTextLen)
		a.Rights = r.str("rights", MaxRightsLen)
		a.Expires = r.time("expires")
	case KindClear:
		a.Reason = ClearReason(r.u8("reason"))
		a.Note = r.str("note", MaxTextLen)
	case KindTally:
		a.Tally.EnRoute = r.u16("enroute")
		a.Tally.OnScene = r.u16("onscene")
		a.Tally.Cannot = r.u16("cannot")
	default:
		if r.err == nil {
			return nil, fmt.Errorf("decode endorsement: %w: %d", ErrKind, a.Kind)
		}
	}
	if err := r.done(); err != nil {
		return nil, fmt.Errorf("decode endorsement: %w", err)
	}
	if err := a.Via.validate(false); err != nil {
		return nil, fmt.Errorf("decode endorsement: %w", err)
	}
	switch {
	case a.Status != StatusActual && a.Status != StatusExercise:
		return nil, fmt.Errorf("decode endorsement: %w", &FieldError{Field: "status", Err: ErrEnum})
	case a.Kind == KindClear && a.Reason != ClearAllClear:
		return nil, fmt.Errorf("decode endorsement: %w", &FieldError{Field: "reason", Err: fmt.Errorf("%w: only an all clear crosses a link", ErrEnum)})
	case a.Kind == KindSighting && a.What == "" && a.Quick.What == WhatNone:
		return nil, fmt.Errorf("decode endorsement: %w", &FieldError{Field: "what", Err: ErrMissing})
	case a.Quick.validate() != nil:
		return nil, fmt.Errorf("decode endorsement: %w", a.Quick.validate())
	case a.Kind == KindCallout && (a.Title == "" || a.Expires.IsZero()):
		return nil, fmt.Errorf("decode endorsement: %w", &FieldError{Field: "title", Err: ErrMissing})
	case a.Size > MaxCount || a.Need > MaxCount || a.Tally.EnRoute > MaxTally || a.Tally.OnScene > MaxTally || a.Tally.Cannot > MaxTally:
		return nil, fmt.Errorf("decode endorsement: %w", &FieldError{Field: "count", Err: ErrEnum})
	}
	return a, nil
}

// Endorse signs a's endorsement with id and sets a.Via.Endorser and Sig.
// It returns the signed body, which is what crosses the link.
func Endorse(id *crypto.Identity, a *Alert) ([]byte, error) {
	if a.Via == nil {
		return nil, fmt.Errorf("endorse: %w: no via", ErrMissing)
	}
	a.Via.Endorser = id.ID()
	a.Via.At = truncMilli(a.Via.At)
	a.Expires, a.Observed = truncMilli(a.Expires), truncMilli(a.Observed)
	body, err := EndorsementBody(a)
	if err != nil {
		return nil, err
	}
	sig, err := id.Sign(ContextEndorse, body)
	if err != nil {
		return nil, fmt.Errorf("endorse: %w", err)
	}
	a.Via.Sig = sig
	return body, nil
}

// VerifyEndorsement checks a.Via's signature with the endorser key the
// zone accepted for the link.
func VerifyEndorsement(endorser *crypto.PublicKey, a *Alert) error {
	if a.Via == nil {
		return fmt.Errorf("%w: no endorsement", ErrEndorser)
	}
	if endorser.ID() != a.Via.Endorser {
		return fmt.Errorf("%w: endorsed by %s", ErrEndorser, a.Via.Endorser)
	}
	body, err := EndorsementBody(a)
	if err != nil {
		return err
	}
	if err := endorser.Verify(ContextEndorse, body, a.Via.Sig); err != nil {
		return fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	return nil
}

// Link is a zone's view of one link, folded from its KindLink messages.
type Link struct {
	ID       LinkID
	Secret   [LinkSecretSize]byte
	Name     string // this zone's name over the link
	Peer     string // the other zone's name over the link
	PeerKey  *crypto.PublicKey
	PeerNode []byte
	// Endpoint is the organizer of this zone whose node relays over the
	// link: the sender of the counted accept.
	Endpoint crypto.MemberID
	// OfferedBy is the organizer who made the offer (zero in the
	// accepting zone); Until is when the offer code expires.
	OfferedBy crypto.MemberID
	Until     time.Time
	Since     time.Time // sent time of the counted accept
	Accepted  bool
	Ended     bool
	EndedAt   time.Time
}

// Active reports whether the link carries alerts.
func (l *Link) Active() bool { return l != nil && l.Accepted && !l.Ended }

// FoldLinks folds a zone's links from its messages, in (sent, ID) order:
// only actual KindLink messages from organizers not removed before they
// sent them count. The first offer of a link starts it; then the first
// accept makes it (in the offering zone its secret must match the
// offer's); an end ends it for good. Later offers or accepts of the same link are ignored, so a code
// works once. The result depends only on the set of messages.
func FoldLinks(msgs []*Message, removed func(crypto.MemberID, time.Time) bool) map[LinkID]*Link {
	var ms []*Message
	for _, m := range msgs {
		if usable(m) && m.Alert.Kind == KindLink && m.Alert.Link != nil && m.Role == RoleOrganizer && m.Alert.Status == StatusActual &&
			(removed == nil || !removed(m.Alert.Sender, m.Alert.Sent)) {
			ms = append(ms, m)
		}
	}
	slices.SortFunc(ms, func(a, b *Message) int {
		if c := a.Alert.Sent.Compare(b.Alert.Sent); c != 0 {
			return c
		}
		return bytes.Compare(a.ID[:], b.ID[:])
	})
	out := map[LinkID]*Link{}
	// Offers first, so an accept is always checked against its offer.
	for _, m := range ms {
		if r := m.Alert.Link; r.Op == LinkOffer && out[r.ID] == nil {
			out[r.ID] = &Link{ID: r.ID, Secret: r.Secret, Name: r.Name, OfferedBy: m.Alert.Sender, Until: r.Until}
		}
	}
	for _, m := range ms {
		r := m.Alert.Link
		l := out[r.ID]
		switch r.Op {
		case LinkAccept:
			if l != nil && (l.Accepted || l.Ended || l.Secret != r.Secret) {
				continue
			}
			pk, err := crypto.ParsePublicKey(r.PeerKey)
			if err != nil {
				continue
			}
			if l == nil {
				l = &Link{ID: r.ID}
				out[r.ID] = l
			}
			l.Secret, l.Name, l.Peer, l.PeerKey, l.PeerNode = r.Secret, r.Name, r.Peer, pk, slices.Clone(r.PeerNode)
			l.Endpoint, l.Since, l.Accepted = m.Alert.Sender, m.Alert.Sent, true
		case LinkEnd:
			if l != nil && !l.Ended {
				l.Ended, l.EndedAt = true, m.Alert.Sent
			}
		}
	}
	return out
}

// CheckAccept reports whether an offer may be accepted at now: offered by
// this zone, not yet accepted, not ended, not expired.
func CheckAccept(l *Link, now time.Time) error {
	switch {
	case l == nil || l.OfferedBy.IsZero():
		return fmt.Errorf("%w: no such offer", ErrLinkWrongEnd)
	case l.Accepted:
		return fmt.Errorf("%w: ask for a new one", ErrLinkUsed)
	case l.Ended:
		return fmt.Errorf("%w: the offer was withdrawn", ErrLinkUsed)
	case !now.Before(l.Until):
		return fmt.Errorf("%w at %s; ask for a new one", ErrLinkExpired, l.Until.UTC().Format(time.RFC3339))
	}
	return nil
}

// LinkKey derives the key that seals a link's frames.
func LinkKey(secret [LinkSecretSize]byte) (*crypto.AEADKey, error) {
	k, err := hkdf.Key(sha256.New, secret[:], nil, linkKeyLabel, crypto.AEADKeySize)
	if err != nil {
		return nil, fmt.Errorf("link key: %w", err)
	}
	return crypto.NewAEADKey(k)
}

// EncodeLinkNode encodes how to reach a link end's node:
//
//	u8 len | peer ID | u8 n | n × (u8 len | multiaddr)
func EncodeLinkNode(peer []byte, addrs [][]byte) ([]byte, error) {
	if len(peer) == 0 || len(peer) > MaxPeerIDLen {
		return nil, fmt.Errorf("encode link node: %w: peer ID", ErrEnum)
	}
	addrs = addrs[:min(len(addrs), MaxInviteAddrs)]
	w := writer{}
	w.bytes8(peer)
	w.u8(uint8(len(addrs)))
	for _, a := range addrs {
		if len(a) == 0 || len(a) > MaxAddrLen {
			return nil, fmt.Errorf("encode link node: %w: address length %d", ErrEnum, len(a))
		}
		w.bytes8(a)
	}
	return w.b, nil
}

// ParseLinkNode decodes EncodeLinkNode.
func ParseLinkNode(b []byte) (peer []byte, addrs [][]byte, err error) {
	if len(b) > MaxLinkNodeLen {
		return nil, nil, fmt.Errorf("decode link node: %w", ErrTooLarge)
	}
	r := reader{b: b, where: "link node"}
	peer = r.bytes8("peer", MaxPeerIDLen)
	n := int(r.u8("addresses"))
	if r.err == nil && n > MaxInviteAddrs {
		return nil, nil, fmt.Errorf("decode link node: %w: %d addresses", ErrTooLarge, n)
	}
	for i := 0; i < n && r.err == nil; i++ {
		a := r.bytes8("address", MaxAddrLen)
		if r.err == nil && len(a) == 0 {
			return nil, nil, fmt.Errorf("decode link node: %w: empty address", ErrMissing)
		}
		addrs = append(addrs, a)
	}
	if err := r.done(); err != nil {
		return nil, nil, fmt.Errorf("decode link node: %w", err)
	}
	if len(peer) == 0 {
		return nil, nil, fmt.Errorf("decode link node: %w: peer", ErrMissing)
	}
	return peer, addrs, nil
}

// LinkOfferCode is what a link offer code carries.
type LinkOfferCode struct {
	ID     LinkID
	Secret [LinkSecretSize]byte
	Name   string // the offering zone's name over the link
	Until  time.Time
	Key    []byte // the offering end's member public key
	Node   []byte // the offering end's node (EncodeLinkNode)
}

// Code encodes the offer as one line:
//
//	"lookoutlink2:" base64url(u8 version | 16 id | 32 secret | str name |
//	  i64 until ms | public key | u16 len | node | 4-byte checksum)
func (o *LinkOfferCode) Code() (string, error) {
	if err := o.validate(); err != nil {
		return "", fmt.Errorf("encode link code: %w", err)
	}
	w := writer{}
	w.u8(Version)
	w.raw(o.ID[:])
	w.raw(o.Secret[:])
	w.str(o.Name)
	w.time(o.Until)
	w.raw(o.Key)
	w.bytes16(o.Node)
	sum := sha256.Sum256(w.b)
	w.raw(sum[:checksumSize])
	return LinkCodePrefix + base64.RawURLEncoding.EncodeToString(w.b), nil
}

func (o *LinkOfferCode) validate() error {
	rec := LinkRecord{Op: LinkAccept, ID: o.ID, Secret: o.Secret, Name: o.Name, Peer: o.Name, PeerKey: o.Key, PeerNode: o.Node}
	if err := rec.validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrBadLinkCode, err)
	}
	if !validMilli(unixMilli(o.Until)) {
		return fmt.Errorf("%w: %w", ErrBadLinkCode, ErrBadTime)
	}
	return nil
}

// ParseLinkCode decodes a link offer code line. White space is ignored.
// It does not check expiry.
func ParseLinkCode(code string) (*LinkOfferCode, error) {
	if len(code) > MaxLinkCodeLen {
		return nil, fmt.Errorf("%w: too long (%d characters)", ErrBadLinkCode, len(code))
	}
	code = strings.Join(strings.Fields(code), "")
	if !strings.HasPrefix(code, LinkCodePrefix) {
		return nil, fmt.Errorf("%w: it must start with %q", ErrBadLinkCode, LinkCodePrefix)
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(code[len(LinkCodePrefix):])
	if err != nil {
		return nil, fmt.Errorf("%w: not base64url; copy the whole line again", ErrBadLinkCode)
	}
	if len(raw) < 1+checksumSize {
		return nil, fmt.Errorf("%w: %w", ErrBadLinkCode, ErrTruncated)
	}
	body, sum := raw[:len(raw)-checksumSize], raw[len(raw)-checksumSize:]
	want := sha256.Sum256(body)
	if !hmac.Equal(sum, want[:checksumSize]) {
		return nil, fmt.Errorf("%w: %w: the code was damaged in copying; copy the whole line again", ErrBadLinkCode, ErrChecksum)
	}
	r := reader{b: body, where: "link code"}
	if v := r.u8("version"); r.err == nil && v != Version {
		return nil, fmt.Errorf("%w: %w %d: update Lookout", ErrBadLinkCode, ErrVersion, v)
	}
	o := &LinkOfferCode{}
	r.fixed(o.ID[:], "id")
	r.fixed(o.Secret[:], "secret")
	o.Name = r.str("name", MaxLinkNameLen)
	o.Until = r.time("until")
	o.Key = append([]byte(nil), r.take(crypto.PublicKeySize, "key")...)
	o.Node = r.bytes16("node", MaxLinkNodeLen)
	if err := r.done(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadLinkCode, err)
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	return o, nil
}

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
