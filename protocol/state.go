package protocol

import (
	"bytes"
	"sort"
	"time"

	"lookout/crypto"
)

// State is where an alert is in its lifecycle. Every node computes it with
// Fold from the same set of messages, in any order of arrival.
type State string

const (
	StateUnconfirmed  State = "unconfirmed"  // a sighting nobody else has confirmed yet
	StateCorroborated State = "corroborated" // enough distinct witnesses confirmed it in time
	StateVerified     State = "verified"     // a verifier or organizer confirmed it
	StateActive       State = "active"       // a callout in force
	StateCleared      State = "cleared"      // all clear, retraction, or end of a callout
	StateExpired      State = "expired"
)

// Settings are a zone's lifecycle parameters.
type Settings struct {
	// Corroborations is how many distinct members (the reporter counting
	// once) make a sighting corroborated.
	Corroborations int
	// CorroborationWindow is how long after a sighting confirmations count
	// towards corroboration.
	CorroborationWindow time.Duration
}

// DefaultSettings are used unless a zone says otherwise.
func DefaultSettings() Settings {
	return Settings{Corroborations: 2, CorroborationWindow: 20 * time.Minute}
}

// View is the folded state of a sighting or callout.
type View struct {
	Root       *Message
	State      State
	Confirmers []crypto.MemberID // distinct, reporter first; sightings only
	Verified   bool
	Responses  map[crypto.MemberID]Response // latest answer per member; callouts only
	Clear      *Message                     // the clear that ended it, if any
}

// Count returns how many members gave response r.
func (v *View) Count(r Response) int {
	n := 0
	for _, x := range v.Responses {
		if x == r {
			n++
		}
	}
	return n
}

// Fold computes the view of root from the updates that refer to it.
// Updates that do not count (wrong kind, wrong target, outside the alert's
// time, not allowed for the sender) are ignored. The result depends only
// on the set of messages, not on their order.
func Fold(root *Message, updates []*Message, s Settings, now time.Time) View {
	ups := make([]*Message, 0, len(updates))
	for _, u := range updates {
		// Practice and real messages never mix: an exercise confirm does
		// not corroborate a real sighting, nor the other way round.
		if u.Alert.Ref == root.ID && u.Alert.Zone == root.Alert.Zone && u.Alert.Status == root.Alert.Status &&
			!u.Alert.Sent.Before(root.Alert.Sent) && u.Alert.Sent.Before(root.Alert.Expires) {
			ups = append(ups, u)
		}
	}
	sort.Slice(ups, func(i, j int) bool {
		a, b := ups[i].Alert.Sent, ups[j].Alert.Sent
		if !a.Equal(b) {
			return a.Before(b)
		}
		return bytes.Compare(ups[i].ID[:], ups[j].ID[:]) < 0
	})

	v := View{Root: root}
	reporter := root.Alert.Sender
	for _, u := range ups {
		if u.Alert.Kind == KindClear && clearAllowed(root, u) {
			v.Clear = u
			break
		}
	}
	counts := func(u *Message) bool { return v.Clear == nil || u.Alert.Sent.Before(v.Clear.Alert.Sent) }

	switch root.Alert.Kind {
	case KindSighting:
		v.Confirmers = []crypto.MemberID{reporter}
		seen := map[crypto.MemberID]bool{reporter: true}
		inWindow := 1
		deadline := root.Alert.Sent.Add(s.CorroborationWindow)
		for _, u := range ups {
			if u.Alert.Kind != KindConfirm || !counts(u) {
				continue
			}
			if u.Role >= RoleVerifier && u.Alert.Sender != reporter {
				v.Verified = true
			}
			if seen[u.Alert.Sender] {
				continue
			}
			seen[u.Alert.Sender] = true
			v.Confirmers = append(v.Confirmers, u.Alert.Sender)
			if !u.Alert.Sent.After(deadline) {
				inWindow++
			}
		}
		switch {
		case v.Verified:
			v.State = StateVerified
		case inWindow >= s.Corroborations:
			v.State = StateCorroborated
		default:
			v.State = StateUnconfirmed
		}
	case KindCallout:
		v.Responses = make(map[crypto.MemberID]Response)
		for _, u := range ups {
			if u.Alert.Kind == KindRespond && counts(u) {
				v.Responses[u.Alert.Sender] = u.Alert.Response // sorted, so the latest wins
			}
		}
		v.State = StateActive
	}
	switch {
	case v.Clear != nil:
		v.State = StateCleared
	case !now.Before(root.Alert.Expires):
		v.State = StateExpired
	}
	return v
}

// clearAllowed: the sender may retract their own alert; verifiers and
// organizers may clear a sighting; only organizers may end a callout.
func clearAllowed(root, c *Message) bool {
	switch c.Alert.Reason {
	case ClearRetracted:
		return c.Alert.Sender == root.Alert.Sender
	case ClearAllClear:
		if root.Alert.Kind == KindCallout {
			return c.Role == RoleOrganizer
		}
		return c.Role >= RoleVerifier
	}
	return false
}
