package zone

import (
	"slices"
	"time"

	"lookout/protocol"
)

// PruneGrace is how long an alert is kept after it ended (expired, or was
// cleared), so late updates still find it; then it is forgotten in memory
// and deleted from the store.
const PruneGrace = 15 * time.Minute

// Messages is what a zone holds of its alerts and updates in memory: the
// alerts (sightings and callouts) by ID, the updates by the alert they
// refer to, the envelopes they arrived in (offered to members catching
// up), the updates still waiting for their alert, and the IDs of every
// message applied, governance included. It does no I/O and has no lock:
// the zone's lock guards it.
type Messages struct {
	Roots   map[protocol.AlertID]*protocol.Message   // sightings and callouts
	Updates map[protocol.AlertID][]*protocol.Message // by the alert they refer to
	envs    map[protocol.AlertID]Enveloped
	seen    map[protocol.AlertID]bool
	pending Pending
}

// Enveloped is an alert or update with the envelope it arrived in.
type Enveloped struct {
	Msg *protocol.Message
	Env []byte
}

// NewMessages returns an empty set.
func NewMessages() Messages {
	return Messages{Roots: map[protocol.AlertID]*protocol.Message{}, Updates: map[protocol.AlertID][]*protocol.Message{},
		envs: map[protocol.AlertID]Enveloped{}, seen: map[protocol.AlertID]bool{}}
}

// Seen reports whether the message id was applied.
func (m *Messages) Seen(id protocol.AlertID) bool { return m.seen[id] }

// MarkSeen records a governance message as applied; Forget undoes it when
// the message could not be kept.
func (m *Messages) MarkSeen(id protocol.AlertID) { m.seen[id] = true }

// Forget undoes MarkSeen.
func (m *Messages) Forget(id protocol.AlertID) { delete(m.seen, id) }

// Waits reports whether msg must wait for its alert: an update received
// from another node (env set) for an alert not held. It is then held
// (Pending) until Adopt, or dropped, reported by dropped, when MaxPending
// updates already wait. A node's own updates never wait: it holds the
// alerts it updates.
func (m *Messages) Waits(msg *protocol.Message, env []byte, now time.Time) (waits, dropped bool) {
	a := msg.Alert
	if env == nil || a.Kind.IsGovernance() || !a.IsUpdate() || m.Roots[a.Ref] != nil {
		return false, false
	}
	return true, !m.pending.Hold(msg, env, now)
}

// Adopt returns, and stops holding, the updates that waited for the alert
// root.
func (m *Messages) Adopt(root protocol.AlertID, now time.Time) []Held {
	return m.pending.Take(root, now)
}

// Waiting is how many updates wait for their alert.
func (m *Messages) Waiting() int { return m.pending.Len() }

// Add applies an alert or update (not governance). It reports the alert
// whose card it changes (target: the alert itself, or the one an update
// refers to) and whether it was new; a message seen before changes
// nothing. env, if set, is kept for catch-up.
func (m *Messages) Add(msg *protocol.Message, env []byte) (target protocol.AlertID, added bool) {
	if m.seen[msg.ID] {
		return protocol.AlertID{}, false
	}
	m.seen[msg.ID] = true
	if env != nil {
		m.envs[msg.ID] = Enveloped{Msg: msg, Env: env}
	}
	if msg.Alert.IsUpdate() {
		m.Updates[msg.Alert.Ref] = append(m.Updates[msg.Alert.Ref], msg)
		return msg.Alert.Ref, true
	}
	m.Roots[msg.ID] = msg
	return msg.ID, true
}

// Enveloped lists the alerts and updates held with their envelopes for
// which keep reports true.
func (m *Messages) Enveloped(keep func(Enveloped) bool) []Enveloped {
	var out []Enveloped
	for _, e := range m.envs {
		if keep(e) {
			out = append(out, e)
		}
	}
	return out
}

// Prune forgets alerts and updates whose messages expired more than
// PruneGrace before now and, of ended (the cards to consider; nil for
// none), every card that is cleared or expired with no activity for
// PruneGrace, with its updates. It returns the IDs forgotten, for the
// caller to delete from the store.
func (m *Messages) Prune(now time.Time, ended []Card) []protocol.AlertID {
	cutoff := now.Add(-PruneGrace)
	gone := map[protocol.AlertID]bool{}
	for id, r := range m.Roots {
		if r.Alert.Expires.Before(cutoff) {
			gone[id] = true
		}
	}
	for _, ups := range m.Updates {
		for _, u := range ups {
			if u.Alert.Expires.Before(cutoff) {
				gone[u.ID] = true
			}
		}
	}
	for _, c := range ended {
		if c.View.State != string(protocol.StateCleared) && c.View.State != string(protocol.StateExpired) {
			continue
		}
		var ids []protocol.AlertID
		last := time.Time{}
		for _, r := range c.Roots {
			ids = append(ids, r)
			if root := m.Roots[r]; root != nil {
				last = later(last, root.Alert.Sent)
			}
			for _, u := range m.Updates[r] {
				ids = append(ids, u.ID)
				last = later(last, u.Alert.Sent)
			}
		}
		if last.Before(cutoff) && (c.View.Expires.IsZero() || c.View.Expires.Before(cutoff) || c.View.State == string(protocol.StateCleared)) {
			for _, id := range ids {
				gone[id] = true
			}
		}
	}
	out := make([]protocol.AlertID, 0, len(gone))
	for id := range gone {
		out = append(out, id)
		delete(m.envs, id)
		delete(m.Roots, id)
		delete(m.seen, id)
	}
	for ref, ups := range m.Updates {
		kept := slices.DeleteFunc(ups, func(u *protocol.Message) bool { return gone[u.ID] })
		if _, ok := m.Roots[ref]; !ok && (len(kept) == 0 || gone[ref]) {
			delete(m.Updates, ref)
		} else {
			m.Updates[ref] = kept
		}
	}
	return out
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
