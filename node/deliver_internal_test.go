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
// updates of its members, for the zone's delivery methods (deliver.go);
// the State's part is tested in the zone core (state_views_test.go).
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
	f.z = &zone{State: core.NewStateFrom(core.Membership{Zone: f.Zone, Root: f.Root.Public()}, core.Record{ID: "z", Name: "north"}),
		watchers: map[chan api.Alert]struct{}{}}
	return f
}

// message is a decoded message of member i, as the door returns it.
func (f *deliverFixture) message(i int, a *protocol.Alert) *protocol.Message {
	f.next++
	chain := f.Chains[i][protocol.RoleMember]
	a.Zone, a.Sender, a.Status = f.Zone, f.IDs[i].ID(), protocol.StatusActual
	a.Expires = a.Sent.Add(time.Hour)
	return &protocol.Message{Signed: &protocol.Signed{Chain: chain, Alert: a, ID: protocol.AlertID{0xde, byte(f.next >> 8), byte(f.next)}},
		Role: protocol.RoleMember}
}

func (f *deliverFixture) sighting(i int, area string, sent time.Time) *protocol.Message {
	return f.message(i, &protocol.Alert{Kind: protocol.KindSighting, Sent: sent, Area: area, What: "two vans"})
}

func (f *deliverFixture) watch() chan api.Alert {
	w := make(chan api.Alert, 1)
	f.z.watchers[w] = struct{}{}
	return w
}

// anEnv stands for the envelope a message arrived in.
var anEnv = []byte("envelope")

// TestZoneAddShows: a new alert returns its card's view, named by the
// zone's record, and the watchers to tell; a repeat, governance, or an add
// with no view asked for tells nobody.
func TestZoneAddShows(t *testing.T) {
	f := newDeliverFixture(t)
	w := f.watch()
	root := f.sighting(0, "Main St", f.now)
	got := f.z.add(root, anEnv, f.now, true)
	if !got.OK || got.Target != root.ID || !got.Shown {
		t.Fatalf("added %+v; want new, shown, its own target", got)
	}
	if got.View.ID != root.ID.String() || got.View.Zone != "z" || got.View.ZoneName != "north" {
		t.Errorf("view %+v; want the sighting's card in zone north", got.View)
	}
	if !slices.Equal(got.watchers, []chan api.Alert{w}) {
		t.Errorf("watchers %v; want the zone's one", got.watchers)
	}
	if again := f.z.add(root, anEnv, f.now, true); again.OK || again.Shown || again.watchers != nil {
		t.Errorf("a repeat: %+v; want nothing changed", again)
	}
	quiet := f.z.add(f.sighting(1, "Harbour Rd", f.now), anEnv, f.now, false)
	if !quiet.OK || quiet.Shown || quiet.watchers != nil {
		t.Errorf("batch add: %+v; want new, no view, no watchers", quiet)
	}
	g := f.announce(1, protocol.RoleMember, f.now, "bo", false).Msg
	if gov := f.z.add(g, anEnv, f.now, true); !gov.OK || gov.Shown || gov.watchers != nil {
		t.Errorf("governance added: %+v; want new, no card, no watchers", gov)
	}
}

// TestZoneChangedViews: a batch's touched cards come with the zone's
// watchers.
func TestZoneChangedViews(t *testing.T) {
	f := newDeliverFixture(t)
	w := f.watch()
	first := f.sighting(0, "Main St", f.now)
	f.z.add(first, anEnv, f.now, false)
	views, watchers := f.z.changedViews(map[protocol.AlertID]bool{first.ID: true}, f.now.Add(time.Minute))
	if len(views) != 1 || views[0].ID != first.ID.String() || views[0].ZoneName != "north" {
		t.Fatalf("views %+v; want the sighting's card in zone north", views)
	}
	if !slices.Equal(watchers, []chan api.Alert{w}) {
		t.Errorf("watchers %v; want the zone's one", watchers)
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
