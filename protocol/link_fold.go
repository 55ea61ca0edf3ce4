package protocol

import (
	"bytes"
	"fmt"
	"slices"
	"time"

	"lookout/crypto"
)

// A zone's links, folded from its KindLink governance messages.

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
	// accepting zone); Offered is when; Until is when the offer code
	// expires.
	OfferedBy crypto.MemberID
	Offered   time.Time
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
			out[r.ID] = &Link{ID: r.ID, Secret: r.Secret, Name: r.Name, OfferedBy: m.Alert.Sender, Offered: m.Alert.Sent, Until: r.Until}
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
