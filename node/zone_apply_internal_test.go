package node

import (
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"lookout/node/api"
	core "lookout/node/internal/zone"
	"lookout/protocol"
)

// deliverFixture is a zone with no node behind it, and decoded alerts and
// updates of its members, for the zone's delivery methods (zone_apply.go).
type deliverFixture struct {
	*govFixture
	z    *zone
	now  time.Time
	next uint16 // message ID counter
}

func newDeliverFixture(t *testing.T) *deliverFixture {
	t.Helper()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	f := &deliverFixture{govFixture: newGovFixture(t, 3, now.Add(-time.Hour)), now: now}
	f.z = &zone{rec: zoneRecord{ID: "z", Name: "north"}, State: core.NewState(),
		watchers: map[chan api.Alert]struct{}{}}
	f.z.Fold = core.NewFolded(f.root.ID())
	return f
}

// message is a decoded message of member i, as the door returns it.
func (f *deliverFixture) message(i int, a *protocol.Alert) *protocol.Message {
	f.next++
	chain := f.chains[i][protocol.RoleMember]
	a.Zone, a.Sender, a.Status = f.zone, f.ids[i].ID(), protocol.StatusActual
	a.Expires = a.Sent.Add(time.Hour)
	return &protocol.Message{Signed: &protocol.Signed{Chain: chain, Alert: a, ID: protocol.AlertID{0xde, byte(f.next >> 8), byte(f.next)}},
		Role: protocol.RoleMember}
}

func (f *deliverFixture) sighting(i int, area string, sent time.Time) *protocol.Message {
	return f.message(i, &protocol.Alert{Kind: protocol.KindSighting, Sent: sent, Area: area, What: "two vans"})
}

func (f *deliverFixture) confirm(i int, ref protocol.AlertID, sent time.Time) *protocol.Message {
	return f.message(i, &protocol.Alert{Kind: protocol.KindConfirm, Sent: sent, Ref: ref})
}

func (f *deliverFixture) watch() chan api.Alert {
	w := make(chan api.Alert, 1)
	f.z.watchers[w] = struct{}{}
	return w
}

// anEnv stands for the envelope a message arrived in.
var anEnv = []byte("envelope")

// TestZoneAddShows: a new alert returns its card's view and the watchers
// to tell; its sender's key is recorded; adding it again changes nothing;
// without a view asked for, none is computed.
func TestZoneAddShows(t *testing.T) {
	f := newDeliverFixture(t)
	w := f.watch()
	root := f.sighting(0, "Main St", f.now)
	if seen, held, dropped := f.z.take(root, anEnv, f.now); seen || held || dropped {
		t.Fatalf("a new alert: seen %v, held %v, dropped %v", seen, held, dropped)
	}
	got := f.z.add(root, anEnv, f.now, true)
	if !got.ok || got.target != root.ID || !got.shown {
		t.Fatalf("added %+v; want new, shown, its own target", got)
	}
	if got.view.ID != root.ID.String() || got.view.Where != "Main St" || got.view.Kind != protocol.KindSighting.String() {
		t.Errorf("view %+v; want the sighting's card", got.view)
	}
	if !slices.Equal(got.watchers, []chan api.Alert{w}) {
		t.Errorf("watchers %v; want the zone's one", got.watchers)
	}
	if !f.z.Pubkeys[root.Alert.Sender].Equal(root.Chain.Leaf().Subject) {
		t.Error("the sender's key was not recorded")
	}
	if again := f.z.add(root, anEnv, f.now, true); again.ok || again.shown || again.watchers != nil {
		t.Errorf("a repeat: %+v; want nothing changed", again)
	}
	quiet := f.z.add(f.sighting(1, "Harbour Rd", f.now), anEnv, f.now, false)
	if !quiet.ok || quiet.shown || quiet.watchers != nil {
		t.Errorf("batch add: %+v; want new, no view, no watchers", quiet)
	}
}

// TestZoneTakeSeen: a message applied before is seen; governance never
// is (storeGov dedupes it), and add only marks it, once, with no view.
func TestZoneTakeSeen(t *testing.T) {
	f := newDeliverFixture(t)
	f.watch()
	root := f.sighting(0, "Main St", f.now)
	f.z.add(root, anEnv, f.now, false)
	if seen, held, _ := f.z.take(root, anEnv, f.now); !seen || held {
		t.Errorf("a duplicate alert: seen %v, held %v; want seen", seen, held)
	}
	own := f.confirm(1, root.ID, f.now.Add(time.Minute))
	f.z.add(own, nil, f.now, false)
	if seen, _, _ := f.z.take(own, nil, f.now); !seen {
		t.Error("a duplicate update was not seen")
	}
	g := f.announce(1, protocol.RoleMember, f.now, "bo", false).Msg
	first := f.z.add(g, anEnv, f.now, true)
	if !first.ok || first.shown || first.watchers != nil || !first.target.IsZero() {
		t.Errorf("governance added: %+v; want new, no card", first)
	}
	if !f.z.Msgs.Seen(g.ID) || len(f.z.Msgs.Roots) != 1 {
		t.Error("governance was not only marked seen")
	}
	if seen, held, _ := f.z.take(g, anEnv, f.now); seen || held {
		t.Errorf("governance applied before: seen %v, held %v; want neither", seen, held)
	}
	if again := f.z.add(g, anEnv, f.now, true); again.ok {
		t.Error("governance added twice was new twice")
	}
}

// TestZoneUpdateWaits: an update from another node before its alert is
// held, not applied; the alert's arrival hands it back (adopt) and it then
// changes the alert's card. The node's own updates never wait.
func TestZoneUpdateWaits(t *testing.T) {
	f := newDeliverFixture(t)
	root := f.sighting(0, "Main St", f.now)
	early := f.confirm(1, root.ID, f.now.Add(time.Minute))
	if seen, held, dropped := f.z.take(early, anEnv, f.now); seen || !held || dropped {
		t.Fatalf("an update before its alert: seen %v, held %v, dropped %v; want held", seen, held, dropped)
	}
	if f.z.Msgs.Seen(early.ID) || len(f.z.Msgs.Updates) != 0 {
		t.Error("a held update was applied")
	}
	if _, held, _ := f.z.take(f.confirm(2, root.ID, f.now), nil, f.now); held {
		t.Error("this node's own update waited")
	}
	if got := f.z.adopt(protocol.AlertID{0x99}, f.now); len(got) != 0 {
		t.Errorf("another alert adopted %d updates", len(got))
	}
	f.watch()
	f.z.add(root, anEnv, f.now, true)
	held := f.z.adopt(root.ID, f.now.Add(time.Minute))
	if len(held) != 1 || held[0].Msg != early || string(held[0].Env) != string(anEnv) {
		t.Fatalf("adopted %+v; want the early confirm with its envelope", held)
	}
	if again := f.z.adopt(root.ID, f.now.Add(time.Minute)); len(again) != 0 {
		t.Errorf("adopted %d a second time", len(again))
	}
	if seen, waits, _ := f.z.take(early, anEnv, f.now); seen || waits {
		t.Fatalf("the adopted update: seen %v, held %v; want it taken", seen, waits)
	}
	got := f.z.add(early, anEnv, f.now.Add(2*time.Minute), true)
	if !got.ok || got.target != root.ID || !got.shown || got.view.ID != root.ID.String() {
		t.Fatalf("the adopted update: %+v; want the alert's card", got)
	}
	// The reporter and the confirmer.
	if c := got.view.Confirmations; c == nil || *c != 2 {
		t.Errorf("view %+v; want 2 confirmations", got.view)
	}
}

// TestZoneTooManyWaiting: past core.MaxPending waiting updates, one more
// is held by nobody: dropped, and still not applied.
func TestZoneTooManyWaiting(t *testing.T) {
	f := newDeliverFixture(t)
	for i := range core.MaxPending {
		u := f.confirm(1, protocol.AlertID{0x77, byte(i), byte(i >> 8)}, f.now)
		if _, held, dropped := f.z.take(u, anEnv, f.now); !held || dropped {
			t.Fatalf("update %d: held %v, dropped %v", i, held, dropped)
		}
	}
	u := f.confirm(1, protocol.AlertID{0x78}, f.now)
	seen, held, dropped := f.z.take(u, anEnv, f.now)
	if seen || !held || !dropped {
		t.Fatalf("one too many: seen %v, held %v, dropped %v; want dropped", seen, held, dropped)
	}
	if f.z.Msgs.Seen(u.ID) || f.z.Msgs.Waiting() != core.MaxPending {
		t.Errorf("%d waiting, dropped one seen %v", f.z.Msgs.Waiting(), f.z.Msgs.Seen(u.ID))
	}
	if got := f.z.adopt(protocol.AlertID{0x78}, f.now); len(got) != 0 {
		t.Errorf("a dropped update was adopted")
	}
}

// TestZoneChangedViews: a batch's touched alerts give each card they
// touch once (two reports of one incident and an update of it: one view),
// and no card they do not touch.
func TestZoneChangedViews(t *testing.T) {
	f := newDeliverFixture(t)
	w := f.watch()
	first := f.sighting(0, "Main St", f.now)
	second := f.sighting(1, "main st", f.now.Add(time.Minute))
	confirm := f.confirm(2, first.ID, f.now.Add(2*time.Minute))
	other := f.sighting(2, "Harbour Rd", f.now)
	for _, m := range []*protocol.Message{first, second, confirm, other} {
		f.z.add(m, anEnv, f.now, false)
	}
	views, watchers := f.z.changedViews(map[protocol.AlertID]bool{first.ID: true, second.ID: true}, f.now.Add(3*time.Minute))
	if len(views) != 1 || views[0].ID != first.ID.String() || len(views[0].Reports) != 2 {
		t.Fatalf("views %+v; want the one incident of two reports", views)
	}
	if !slices.Equal(watchers, []chan api.Alert{w}) {
		t.Errorf("watchers %v; want the zone's one", watchers)
	}
	views, _ = f.z.changedViews(map[protocol.AlertID]bool{first.ID: true, other.ID: true}, f.now.Add(3*time.Minute))
	ids := []string{}
	for _, v := range views {
		ids = append(ids, v.ID)
	}
	slices.Sort(ids)
	want := []string{first.ID.String(), other.ID.String()}
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Errorf("views %v; want %v", ids, want)
	}
	if views, _ := f.z.changedViews(map[protocol.AlertID]bool{{0x99}: true}, f.now); len(views) != 0 {
		t.Errorf("an alert not held gave %d views", len(views))
	}
}

// TestTell: every view goes to every watcher; one whose buffer is full
// loses the view, counted, and tell never blocks.
func TestTell(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	roomy, full := make(chan api.Alert, 2), make(chan api.Alert, 1)
	full <- api.Alert{ID: "old"}
	if dropped := tell(log, []chan api.Alert{roomy, full}, api.Alert{ID: "a"}, api.Alert{ID: "b"}); dropped != 2 {
		t.Errorf("dropped %d; want 2 (both views, for the full watcher)", dropped)
	}
	if a, b := <-roomy, <-roomy; a.ID != "a" || b.ID != "b" {
		t.Errorf("the roomy watcher got %q, %q", a.ID, b.ID)
	}
	if old := <-full; old.ID != "old" {
		t.Errorf("the full watcher's view was replaced: %q", old.ID)
	}
}
