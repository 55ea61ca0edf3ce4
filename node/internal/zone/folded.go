package zone

import (
	"fmt"
	"time"

	"lookout/crypto"
	"lookout/protocol"
)

// Folded is what a zone's governance messages say, folded (Refold), with
// the admission rules that use it (Check): the roster and settings, the
// links, the zone documents, the role grants and the rate limits, and the
// invites seen redeemed twice. It does no I/O and has no lock: the zone's
// lock guards it.
type Folded struct {
	Roster protocol.Roster
	Links  map[protocol.LinkID]*protocol.Link
	Docs   Docs  // zone cards and safe places
	Rules  Rules // superseded certificates, rate limits
	// Twice marks the invites this node has seen redeemed by two members.
	Twice map[[protocol.InviteIDSize]byte]bool
}

// NewFolded returns the state of a zone with no governance yet: its
// founder (root) alone, default settings.
func NewFolded(root crypto.MemberID) Folded {
	return Folded{Roster: protocol.FoldRoster(nil, root, protocol.DefaultSettings())}
}

// Refold recomputes everything from a zone's governance messages, in any
// order. It reports how many invites were newly seen redeemed twice.
func (f *Folded) Refold(msgs []*protocol.Message, root crypto.MemberID) (newTwice int) {
	f.Roster = protocol.FoldRoster(msgs, root, protocol.DefaultSettings())
	f.Links = protocol.FoldLinks(msgs, func(m crypto.MemberID, sent time.Time) bool {
		mi := f.Roster.Members[m]
		return mi != nil && mi.Removed && mi.RemovedAt.Before(sent)
	})
	f.Rules.FoldGrants(msgs)
	f.Docs.Fold(msgs)
	for id, inv := range f.Roster.Invites {
		if len(inv.Redeemers) > 1 && !f.Twice[id] {
			if f.Twice == nil {
				f.Twice = map[[protocol.InviteIDSize]byte]bool{}
			}
			f.Twice[id] = true
			newTwice++
		}
	}
	return newTwice
}

// Settings are the zone's settings in force.
func (f *Folded) Settings() protocol.Settings { return f.Roster.Settings }

// ErrInviteRedeemed rejects a message from a member certified by an
// invite key that admitted another member first.
var ErrInviteRedeemed = fmt.Errorf("%w: certified by an invite that admitted another member", protocol.ErrChain)

// Check applies the zone's stateful rules to a message protocol.Validator
// accepted, arriving at arrival, in a zone whose current epoch is epoch
// (shared: whether a root with a share digest is held, for
// Rules.Check), and records it against the limits if it passes:
//   - zone documents within their caps (Docs.CheckDoc);
//   - a member certified by an invite key may announce itself (the
//     announcement records the redemption, and a second redeemer's is kept
//     so organizers see it); anything else it sends is refused once the
//     invite is known to have admitted another member first
//     (protocol.Roster.Redeemer); before any redeemer's announcement is
//     held it is admitted;
//   - the rules by arrival (Rules.Check).
func (f *Folded) Check(msg *protocol.Message, arrival time.Time, epoch uint32, shared func(protocol.Digest) bool) error {
	if err := f.Docs.CheckDoc(msg.Alert); err != nil {
		return err
	}
	if key, ok := msg.Chain.InviteKey(); ok && msg.Alert.Kind != protocol.KindMember {
		if r, ok := f.Roster.Redeemer(protocol.InviteIDOf(key.Subject)); ok && r != msg.Alert.Sender {
			return ErrInviteRedeemed
		}
	}
	return f.Rules.Check(msg, arrival, epoch, f.Roster.Settings, shared)
}
