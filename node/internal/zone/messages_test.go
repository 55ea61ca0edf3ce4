package zone

import (
	"slices"
	"testing"
	"time"

	"lookout/protocol"
)

// TestMessagesAdd: an alert and its updates are applied once each; a
// repeat changes nothing; envelopes are kept for catch-up only when given.
func TestMessagesAdd(t *testing.T) {
	f := newFixture(t)
	ada := f.identity(2)
	crt := f.cert(f.founder, ada, protocol.RoleMember)
	root := f.sighting(ada, crt, "Main St", f.now)
	confirm := f.update(protocol.KindConfirm, ada, crt, protocol.RoleMember, root.ID, f.now.Add(time.Minute))
	m := NewMessages()
	if target, added := m.Add(root, []byte("root")); !added || target != root.ID {
		t.Fatalf("alert: target %x, added %v", target, added)
	}
	if target, added := m.Add(confirm, nil); !added || target != root.ID {
		t.Fatalf("update: target %x, added %v; want its alert", target, added)
	}
	if _, added := m.Add(confirm, []byte("again")); added {
		t.Error("a repeated update was applied twice")
	}
	if len(m.Updates[root.ID]) != 1 || m.Roots[root.ID] != root || !m.Seen(root.ID) || !m.Seen(confirm.ID) {
		t.Errorf("held: roots %d, updates %d", len(m.Roots), len(m.Updates[root.ID]))
	}
	all := m.Enveloped(func(Enveloped) bool { return true })
	if len(all) != 1 || all[0].Msg != root || string(all[0].Env) != "root" {
		t.Errorf("envelopes kept: %+v, want only the alert's", all)
	}
	// Governance is only marked, and a failed save forgets it.
	gov := f.grant(crt, f.now, false)
	m.MarkSeen(gov.ID)
	if !m.Seen(gov.ID) || len(m.Roots) != 1 {
		t.Error("marking governance seen added it to the alerts")
	}
	m.Forget(gov.ID)
	if m.Seen(gov.ID) {
		t.Error("a forgotten governance message is still seen")
	}
}

// TestMessagesWaits: an update from another node for an alert not held
// waits until its alert comes; this node's own updates, updates whose alert
// is held, and governance never wait; past MaxPending they are dropped.
func TestMessagesWaits(t *testing.T) {
	f := newFixture(t)
	ada := f.identity(2)
	crt := f.cert(f.founder, ada, protocol.RoleMember)
	root := f.sighting(ada, crt, "Main St", f.now)
	early := f.update(protocol.KindConfirm, ada, crt, protocol.RoleMember, root.ID, f.now.Add(time.Minute))
	m := NewMessages()
	if waits, _ := m.Waits(early, nil, f.now); waits {
		t.Error("this node's own update waited")
	}
	if waits, dropped := m.Waits(early, []byte("env"), f.now); !waits || dropped {
		t.Fatalf("an update before its alert: waits %v, dropped %v", waits, dropped)
	}
	if waits, _ := m.Waits(f.grant(crt, f.now, false), []byte("env"), f.now); waits {
		t.Error("governance waited")
	}
	m.Add(root, []byte("root"))
	held := m.Adopt(root.ID, f.now.Add(time.Minute))
	if len(held) != 1 || held[0].Msg != early || m.Waiting() != 0 {
		t.Fatalf("adopted %d updates, %d still waiting; want the early confirm", len(held), m.Waiting())
	}
	if waits, _ := m.Waits(early, []byte("env"), f.now); waits {
		t.Error("an update whose alert is held waited")
	}
	dropped := 0
	for i := range MaxPending + 10 {
		u := f.update(protocol.KindConfirm, ada, crt, protocol.RoleMember, protocol.AlertID{7, byte(i), byte(i >> 8)}, f.now)
		if _, d := m.Waits(u, []byte("env"), f.now); d {
			dropped++
		}
	}
	if dropped != 10 || m.Waiting() != MaxPending {
		t.Errorf("dropped %d, %d waiting; want 10 and %d", dropped, m.Waiting(), MaxPending)
	}
}

// TestMessagesPrune: expired messages go PruneGrace after expiry; an
// ended card goes PruneGrace after its last activity, with its updates;
// an active card stays.
func TestMessagesPrune(t *testing.T) {
	f := newFixture(t)
	ada, bo := f.identity(2), f.identity(3)
	adaC, boC := f.cert(f.founder, ada, protocol.RoleMember), f.cert(f.founder, bo, protocol.RoleMember)
	s := protocol.DefaultSettings()
	cleared := f.sighting(ada, adaC, "Main St", f.now)
	clear := f.update(protocol.KindClear, ada, adaC, protocol.RoleMember, cleared.ID, f.now.Add(time.Minute))
	clear.Alert.Reason = protocol.ClearRetracted
	active := f.sighting(bo, boC, "Harbour Rd", f.now.Add(time.Minute))
	active.Alert.Expires = f.now.Add(48 * time.Hour)
	m := NewMessages()
	for _, msg := range []*protocol.Message{cleared, clear, active} {
		m.Add(msg, []byte("env"))
	}
	cards := func(now time.Time) []Card {
		return Alerts{ZoneID: "z", ZoneName: "north", Roots: m.Roots, Updates: m.Updates, Settings: s}.Cards(now)
	}
	// Within the grace, nothing goes.
	at := f.now.Add(time.Minute + PruneGrace - time.Second)
	if gone := m.Prune(at, cards(at)); len(gone) != 0 {
		t.Fatalf("pruned %d within the grace", len(gone))
	}
	// After it, the cleared incident and its clear go; without ended cards
	// only expiry counts.
	at = f.now.Add(time.Minute + PruneGrace + time.Second)
	if gone := m.Prune(at, nil); len(gone) != 0 {
		t.Fatalf("pruned %d by expiry before anything expired", len(gone))
	}
	gone := m.Prune(at, cards(at))
	want := []protocol.AlertID{cleared.ID, clear.ID}
	slices.SortFunc(gone, func(a, b protocol.AlertID) int { return slices.Compare(a[:], b[:]) })
	slices.SortFunc(want, func(a, b protocol.AlertID) int { return slices.Compare(a[:], b[:]) })
	if !slices.Equal(gone, want) {
		t.Fatalf("pruned %x, want the cleared incident and its clear %x", gone, want)
	}
	if m.Seen(cleared.ID) || m.Roots[cleared.ID] != nil || len(m.Updates[cleared.ID]) != 0 || m.Roots[active.ID] == nil {
		t.Error("prune left the cleared incident or took the active one")
	}
	if envs := m.Enveloped(func(Enveloped) bool { return true }); len(envs) != 1 || envs[0].Msg != active {
		t.Errorf("%d envelopes left, want the active alert's", len(envs))
	}
	// The active alert goes PruneGrace after it expires.
	at = active.Alert.Expires.Add(PruneGrace + time.Second)
	if gone := m.Prune(at, nil); len(gone) != 1 || gone[0] != active.ID {
		t.Errorf("pruned %x after expiry, want the active alert", gone)
	}
}
