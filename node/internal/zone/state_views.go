package zone

import (
	"slices"
	"sort"
	"strings"
	"time"

	"lookout/crypto"
	"lookout/node/api"
	"lookout/protocol"
)

// A zone's messages and views, read and changed under the State's lock:
// this member's standing, alerts and updates taken and added, the cards
// shown, the members listed.

// Label names a zone in its views (api.Alert's Zone and ZoneName): the
// stored record's ID and name.
type Label struct{ ID, Name string }

// NewStateFrom returns the state of a zone opened from its stored record
// (Record.Open): its epochs and secrets, this member's chain, role and
// removal, the founder's roster; no message held yet.
func NewStateFrom(m Membership) State {
	return State{Chain: m.Chain, Role: m.Role, Epoch: m.Epoch, Epochs: m.Epochs, Removed: m.Removed,
		Fold: NewFolded(m.Root.ID()), Msgs: NewMessages(), Gov: map[protocol.AlertID]*GovMsg{}, Pubkeys: map[crypto.MemberID]*crypto.PublicKey{}}
}

// AlertKey returns the alert key of epoch, false if its secret is not
// known. It takes the State's lock.
func (s *State) AlertKey(epoch uint32) (*crypto.AEADKey, bool) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	sec, ok := s.Epochs[epoch]
	if !ok {
		return nil, false
	}
	return sec.AlertKey(epoch), true
}

// MemberRemoved reports whether the roster removed the member id. It takes
// the State's lock.
func (s *State) MemberRemoved(id crypto.MemberID) bool {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	return s.Fold.Roster.Removed(id)
}

// Standing is this member's standing in a zone at one instant.
type Standing struct {
	Chain         protocol.Chain // this member's certificate chain
	Role          protocol.Role
	Epoch         uint32            // the epoch in use
	Secret        crypto.ZoneSecret // its secret
	Removed       bool
	RedeemedTwice int // invites seen redeemed by two members
}

// Standing returns this member's standing, read at once under the State's
// lock.
func (s *State) Standing() Standing {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	return Standing{Chain: s.Chain, Role: s.Role, Epoch: s.Epoch, Secret: s.Epochs[s.Epoch], Removed: s.Removed, RedeemedTwice: len(s.Fold.Twice)}
}

// Current returns the epoch in use and its secret. It takes the State's
// lock.
func (s *State) Current() (uint32, crypto.ZoneSecret) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	return s.Epoch, s.Epochs[s.Epoch]
}

// AlertsLocked lends the zone's alerts, settings, roster and links, named
// by l, to the views (Alerts). Callers hold the State's lock while they
// use the result.
func (s *State) AlertsLocked(l Label) Alerts {
	return Alerts{ZoneID: l.ID, ZoneName: l.Name, Roots: s.Msgs.Roots, Updates: s.Msgs.Updates,
		Settings: s.Fold.Settings(), Roster: &s.Fold.Roster, Links: s.Fold.Links}
}

// ViewOfLocked returns the view, as of now, of the card the alert id
// belongs to, false if there is none. Callers hold the State's lock.
func (s *State) ViewOfLocked(l Label, id protocol.AlertID, now time.Time) (api.Alert, bool) {
	c, ok := s.AlertsLocked(l).CardOf(id, now)
	return c.View, ok
}

// CardsLocked folds the zone's alerts into cards as of now (Alerts.Cards).
// Callers hold the State's lock.
func (s *State) CardsLocked(l Label, now time.Time) []Card { return s.AlertsLocked(l).Cards(now) }

// View returns the view, as of now, of the card the alert id belongs to,
// false if there is none. It takes the State's lock.
func (s *State) View(l Label, id protocol.AlertID, now time.Time) (api.Alert, bool) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	return s.ViewOfLocked(l, id, now)
}

// Active returns the views as of now of the cards neither cleared nor
// expired, newest first (by sent time, then ID); empty, not nil, if none.
// It takes the State's lock.
func (s *State) Active(l Label, now time.Time) []api.Alert {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	out := []api.Alert{}
	for _, c := range s.CardsLocked(l, now) {
		v := c.View
		if v.State == string(protocol.StateCleared) || v.State == string(protocol.StateExpired) {
			continue
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Sent.Equal(out[j].Sent) {
			return out[i].Sent.After(out[j].Sent)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Confirmed reports whether member has confirmed the alert root. It takes
// the State's lock.
func (s *State) Confirmed(root protocol.AlertID, member crypto.MemberID) bool {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	for _, u := range s.Msgs.Updates[root] {
		if u.Alert.Kind == protocol.KindConfirm && u.Alert.Sender == member {
			return true
		}
	}
	return false
}

// Prune forgets alerts and updates whose messages expired more than
// PruneGrace ago and, if ended, every alert that ended (expired or
// cleared) with no activity for PruneGrace, with its updates
// (Messages.Prune). It returns the IDs forgotten. It takes the State's
// lock.
func (s *State) Prune(now time.Time, ended bool) []protocol.AlertID {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	var cards []Card
	if ended {
		cards = s.CardsLocked(Label{}, now) // the label is not read
	}
	return s.Msgs.Prune(now, cards)
}

// Take decides, at now, what becomes of a message arriving with env
// before it is saved: seen if it was applied before (never for governance,
// which the node's governance log dedupes); held if it is an update
// received from another node for an alert not held, which then waits for
// its alert (Messages.Waits), or is dropped, reported by dropped, when too
// many wait. It takes the State's lock.
func (s *State) Take(msg *protocol.Message, env []byte, now time.Time) (seen, held, dropped bool) {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	if s.Msgs.Seen(msg.ID) && !msg.Alert.Kind.IsGovernance() {
		return true, false, false
	}
	held, dropped = s.Msgs.Waits(msg, env, now)
	return false, held, dropped
}

// Added is what adding a message to a zone changed.
type Added struct {
	OK     bool             // the message is new to the zone
	Target protocol.AlertID // the alert whose card it changes; zero for governance
	View   api.Alert        // that card as of the add, if shown
	Shown  bool             // View is set: asked for, and the card exists and counts
}

// Add applies msg at now and records its sender's key. An alert or update
// joins the zone's messages, env kept for catch-up; a governance message
// is only marked seen (the node's governance log keeps it). With wantView,
// Add returns the view of the card, named by l, that a new alert or update
// changes, unless its alert is not held or nothing in the card counts. It
// takes the State's lock.
func (s *State) Add(l Label, msg *protocol.Message, env []byte, now time.Time, wantView bool) Added {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	var got Added
	if msg.Alert.Kind.IsGovernance() {
		got.OK = !s.Msgs.Seen(msg.ID)
		s.Msgs.MarkSeen(msg.ID)
		s.Pubkeys[msg.Alert.Sender] = msg.Chain.Leaf().Subject
		return got
	}
	got.Target, got.OK = s.Msgs.Add(msg, env)
	if !got.OK {
		return got
	}
	s.Pubkeys[msg.Alert.Sender] = msg.Chain.Leaf().Subject
	if !wantView {
		return got
	}
	got.View, got.Shown = s.ViewOfLocked(l, got.Target, now)
	return got
}

// ChangedViews returns the views as of now of the cards that hold any of
// the alerts targets, each card once. It takes the State's lock.
func (s *State) ChangedViews(l Label, targets map[protocol.AlertID]bool, now time.Time) []api.Alert {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	var views []api.Alert
	for _, c := range s.CardsLocked(l, now) {
		if slices.ContainsFunc(c.Roots, func(id protocol.AlertID) bool { return targets[id] }) {
			views = append(views, c.View)
		}
	}
	return views
}

// Adopt returns, and stops holding, the updates that waited for the alert
// id and are still within PendingTTL at now. It takes the State's lock.
func (s *State) Adopt(id protocol.AlertID, now time.Time) []Held {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	return s.Msgs.Adopt(id, now)
}

// MembersLocked lists everyone who can send in the zone: the roster
// (members who announced themselves or were granted a role, sorted as
// Roster.Sorted) and then anyone else whose alerts or updates are held (a
// member whose announcement was refused, say), by role, highest first,
// then ID, so that every sender can be seen and removed. Callers hold the
// State's lock.
func (s *State) MembersLocked() []*protocol.MemberInfo {
	out := s.Fold.Roster.Sorted()
	extra := map[string]*protocol.MemberInfo{}
	add := func(m *protocol.Message) {
		id := m.Alert.Sender
		if s.Fold.Roster.Members[id] != nil {
			return
		}
		mi := extra[id.String()]
		if mi == nil {
			mi = &protocol.MemberInfo{ID: id}
			extra[id.String()] = mi
		}
		mi.Role = max(mi.Role, m.Role)
	}
	for _, m := range s.Msgs.Roots {
		add(m)
	}
	for _, us := range s.Msgs.Updates {
		for _, m := range us {
			add(m)
		}
	}
	var more []*protocol.MemberInfo
	for _, mi := range extra {
		more = append(more, mi)
	}
	slices.SortFunc(more, func(a, b *protocol.MemberInfo) int {
		if a.Role != b.Role {
			return int(b.Role) - int(a.Role)
		}
		return strings.Compare(a.ID.String(), b.ID.String())
	})
	return append(out, more...)
}
