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

// AlertKey returns the alert key of epoch, false if its secret is not
// known. It takes the State's lock.
func (s *State) AlertKey(epoch uint32) (*crypto.AEADKey, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec, ok := s.epochs[epoch]
	if !ok {
		return nil, false
	}
	return sec.AlertKey(epoch), true
}

// MemberRemoved reports whether the roster removed the member id. It takes
// the State's lock.
func (s *State) MemberRemoved(id crypto.MemberID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fold.Roster.Removed(id)
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
	s.mu.Lock()
	defer s.mu.Unlock()
	return Standing{Chain: s.chain, Role: s.role, Epoch: s.epoch, Secret: s.epochs[s.epoch], Removed: s.removed, RedeemedTwice: len(s.fold.Twice)}
}

// Current returns the epoch in use and its secret. It takes the State's
// lock.
func (s *State) Current() (uint32, crypto.ZoneSecret) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.epoch, s.epochs[s.epoch]
}

// alertsLocked lends the zone's alerts, settings, roster and links, named
// by its label, to the views (Alerts). Callers hold the State's lock
// while they use the result.
func (s *State) alertsLocked() Alerts {
	return Alerts{ZoneID: s.label.ID, ZoneName: s.label.Name, Roots: s.msgs.Roots, Updates: s.msgs.Updates,
		Settings: s.fold.Settings(), Roster: &s.fold.Roster, Links: s.fold.Links}
}

// viewOfLocked returns the view, as of now, of the card the alert id
// belongs to, false if there is none. Callers hold the State's lock.
func (s *State) viewOfLocked(id protocol.AlertID, now time.Time) (api.Alert, bool) {
	c, ok := s.alertsLocked().CardOf(id, now)
	return c.View, ok
}

// cardsLocked folds the zone's alerts into cards as of now (Alerts.Cards).
// Callers hold the State's lock.
func (s *State) cardsLocked(now time.Time) []Card { return s.alertsLocked().Cards(now) }

// View returns the view, as of now, of the card the alert id belongs to,
// false if there is none. It takes the State's lock.
func (s *State) View(id protocol.AlertID, now time.Time) (api.Alert, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.viewOfLocked(id, now)
}

// Active returns the views as of now of the cards neither cleared nor
// expired, newest first (by sent time, then ID); empty, not nil, if none.
// It takes the State's lock.
func (s *State) Active(now time.Time) []api.Alert {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []api.Alert{}
	for _, c := range s.cardsLocked(now) {
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
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range s.msgs.Updates[root] {
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
	s.mu.Lock()
	defer s.mu.Unlock()
	var cards []Card
	if ended {
		cards = s.cardsLocked(now)
	}
	return s.msgs.Prune(now, cards)
}

// Take decides, at now, what becomes of a message arriving with env
// before it is saved: seen if it was applied before (never for governance,
// which the node's governance log dedupes); held if it is an update
// received from another node for an alert not held, which then waits for
// its alert (Messages.Waits), or is dropped, reported by dropped, when too
// many wait. It takes the State's lock.
func (s *State) Take(msg *protocol.Message, env []byte, now time.Time) (seen, held, dropped bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.msgs.Seen(msg.ID) && !msg.Alert.Kind.IsGovernance() {
		return true, false, false
	}
	held, dropped = s.msgs.Waits(msg, env, now)
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
// Add returns the view of the card that a new alert or update
// changes, unless its alert is not held or nothing in the card counts. It
// takes the State's lock.
func (s *State) Add(msg *protocol.Message, env []byte, now time.Time, wantView bool) Added {
	s.mu.Lock()
	defer s.mu.Unlock()
	var got Added
	if msg.Alert.Kind.IsGovernance() {
		got.OK = !s.msgs.Seen(msg.ID)
		s.msgs.MarkSeen(msg.ID)
		s.pubkeys[msg.Alert.Sender] = msg.Chain.Leaf().Subject
		return got
	}
	got.Target, got.OK = s.msgs.Add(msg, env)
	if !got.OK {
		return got
	}
	s.pubkeys[msg.Alert.Sender] = msg.Chain.Leaf().Subject
	if !wantView {
		return got
	}
	got.View, got.Shown = s.viewOfLocked(got.Target, now)
	return got
}

// ChangedViews returns the views as of now of the cards that hold any of
// the alerts targets, each card once. It takes the State's lock.
func (s *State) ChangedViews(targets map[protocol.AlertID]bool, now time.Time) []api.Alert {
	s.mu.Lock()
	defer s.mu.Unlock()
	var views []api.Alert
	for _, c := range s.cardsLocked(now) {
		if slices.ContainsFunc(c.Roots, func(id protocol.AlertID) bool { return targets[id] }) {
			views = append(views, c.View)
		}
	}
	return views
}

// Adopt returns, and stops holding, the updates that waited for the alert
// id and are still within PendingTTL at now. It takes the State's lock.
func (s *State) Adopt(id protocol.AlertID, now time.Time) []Held {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.msgs.Adopt(id, now)
}

// membersLocked lists everyone who can send in the zone: the roster
// (members who announced themselves or were granted a role, sorted as
// Roster.Sorted) and then anyone else whose alerts or updates are held (a
// member whose announcement was refused, say), by role, highest first,
// then ID, so that every sender can be seen and removed. Callers hold the
// State's lock.
func (s *State) membersLocked() []*protocol.MemberInfo {
	out := s.fold.Roster.Sorted()
	extra := map[string]*protocol.MemberInfo{}
	add := func(m *protocol.Message) {
		id := m.Alert.Sender
		if s.fold.Roster.Members[id] != nil {
			return
		}
		mi := extra[id.String()]
		if mi == nil {
			mi = &protocol.MemberInfo{ID: id}
			extra[id.String()] = mi
		}
		mi.Role = max(mi.Role, m.Role)
	}
	for _, m := range s.msgs.Roots {
		add(m)
	}
	for _, us := range s.msgs.Updates {
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
