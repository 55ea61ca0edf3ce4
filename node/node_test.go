package node_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	"go.uber.org/goleak"

	"lookout/node"
	"lookout/node/api"
	"lookout/node/sim"
	lp "lookout/protocol"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// mocknet opens the remote half of a stream in a goroutine
		// (conn.openStream: go rconn.remoteOpenedStream(sr)). When the
		// connection is torn down first, that half is never reset and its
		// transport goroutine blocks forever. It is a mocknet defect, not
		// a node leak: real transports have no such goroutine.
		goleak.IgnoreTopFunction("github.com/libp2p/go-libp2p/p2p/net/mock.(*stream).transport"),
	)
}

// testTimeout bounds every test's context: generous, so a slow -race run on
// two cores never flakes, while a hang still fails rather than stalls.
const testTimeout = 90 * time.Second

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// t0 is the fixed start of every fake clock.
var t0 = time.Date(2031, time.March, 14, 9, 26, 53, 0, time.UTC)

// fakeClock is a node clock (Node.Now) that only moves when told to.
type fakeClock struct{ ns atomic.Int64 }

func newClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(t0.UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// startNet starts n nodes sharing clock on a mocknet and closes them when
// the test ends.
func startNet(t *testing.T, ctx context.Context, n int, clock *fakeClock) *sim.Network {
	t.Helper()
	dir := t.TempDir() // before the Cleanup below, so removed after the nodes close
	nw, err := sim.Start(ctx, sim.Config{Nodes: n, Dir: dir, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeNet(t, nw) })
	return nw
}

// startNetClocks is startNet with one clock per node, for tests where
// nodes disagree about the time. The network works with sim's helpers.
func startNetClocks(t *testing.T, ctx context.Context, clocks ...*fakeClock) *sim.Network {
	t.Helper()
	dir := t.TempDir()
	nw := &sim.Network{Mocknet: mocknet.New()}
	t.Cleanup(func() { closeNet(t, nw) })
	for i, c := range clocks {
		home := filepath.Join(dir, fmt.Sprintf("n%d", i))
		if _, err := node.Init(home, node.InitOptions{Name: fmt.Sprintf("node%d", i), Secret: sim.Secret, Store: sim.StoreOptions}); err != nil {
			t.Fatal(err)
		}
		h, err := nw.Mocknet.GenPeer()
		if err != nil {
			t.Fatal(err)
		}
		n := &node.Node{Home: home, Secret: sim.Secret, StoreOptions: sim.StoreOptions, Host: h, Now: c.Now}
		if err := n.Start(ctx); err != nil {
			t.Fatal(err)
		}
		nw.Nodes = append(nw.Nodes, n)
		nw.Homes = append(nw.Homes, home)
	}
	if err := nw.Mocknet.LinkAll(); err != nil {
		t.Fatal(err)
	}
	return nw
}

func closeNet(t *testing.T, nw *sim.Network) {
	if err := nw.Close(); err != nil {
		t.Errorf("close network: %v", err)
	}
}

// formZone has node 0 found a zone and invite the others with roles, then
// waits until every node sees every other on the zone's topic.
func formZone(t *testing.T, ctx context.Context, nw *sim.Network, name string, roles map[int]string) api.Zone {
	t.Helper()
	z, err := nw.FormZone(ctx, name, roles)
	if err != nil {
		t.Fatal(err)
	}
	if err := nw.WaitMesh(ctx, z.ID, len(nw.Nodes)-1); err != nil {
		t.Fatalf("mesh did not form: %v", err)
	}
	return z
}

// Roles of the standard five-node zone used by the alert tests.
const (
	org0   = 0 // founder, organizer
	org1   = 1 // organizer
	ver2   = 2 // verifier
	mem3   = 3 // member
	mem4   = 4 // member
	nRoles = 5
)

var standardRoles = map[int]string{org1: "organizer", ver2: "verifier", mem3: "member", mem4: "member"}

// collector records the latest view of every alert a node's Watch
// delivers, including cleared ones, which Alerts leaves out.
type collector struct {
	mu     sync.Mutex
	latest map[string]api.Alert
	count  map[string]int
	done   chan struct{}
}

func watchAll(t *testing.T, ctx context.Context, nw *sim.Network, zone string) []*collector {
	t.Helper()
	ctx, stop := context.WithCancel(ctx)
	var cs []*collector
	for i, n := range nw.Nodes {
		ch, err := n.Watch(ctx, zone)
		if err != nil {
			t.Fatalf("node %d: watch: %v", i, err)
		}
		c := &collector{latest: map[string]api.Alert{}, count: map[string]int{}, done: make(chan struct{})}
		go func() {
			defer close(c.done)
			for a := range ch {
				c.mu.Lock()
				c.latest[a.ID] = a
				c.count[a.ID]++
				c.mu.Unlock()
			}
		}()
		cs = append(cs, c)
	}
	t.Cleanup(func() {
		// End the watches and wait for the goroutines, so goleak does not
		// see them.
		stop()
		for _, c := range cs {
			<-c.done
		}
	})
	return cs
}

func (c *collector) get(id string) (api.Alert, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, ok := c.latest[id]
	return a, ok
}

// waitViews waits until every collector's latest view of id satisfies ok.
func waitViews(t *testing.T, ctx context.Context, cs []*collector, id string, ok func(api.Alert) bool) {
	t.Helper()
	err := sim.WaitFor(ctx, func() bool {
		for _, c := range cs {
			if a, found := c.get(id); !found || !ok(a) {
				return false
			}
		}
		return true
	})
	if err != nil {
		for i, c := range cs {
			a, found := c.get(id)
			t.Logf("node %d: found=%v view=%+v", i, found, a)
		}
		t.Fatalf("alert %s: views never matched: %v", id, err)
	}
}

// waitListed waits until every node's Alerts(zone) lists id (or, with
// listed false, does not list it) and returns the last lists.
func waitListed(t *testing.T, ctx context.Context, nw *sim.Network, zone, id string, listed bool) [][]api.Alert {
	t.Helper()
	lists := make([][]api.Alert, len(nw.Nodes))
	errs := make([]error, len(nw.Nodes))
	err := sim.WaitFor(ctx, func() bool {
		ok := true
		for i, n := range nw.Nodes {
			lists[i], errs[i] = n.Alerts(zone)
			if errs[i] != nil || hasAlert(lists[i], id) != listed {
				ok = false
			}
		}
		return ok
	})
	if err != nil {
		for i := range lists {
			t.Logf("node %d: %+v (error %v)", i, lists[i], errs[i])
		}
		t.Fatalf("alert %s listed=%v not reached everywhere: %v", id, listed, err)
	}
	return lists
}

func hasAlert(as []api.Alert, id string) bool {
	for _, a := range as {
		if a.ID == id {
			return true
		}
	}
	return false
}

// barrier publishes a fresh sighting from node from and waits until every
// node lists it. Gossip over the same links delivers anything published
// before it first, so afterwards "never arrived" is a fair conclusion. The
// place is the text, so it starts an incident of its own (same-place
// reports merge into one incident, whose ID is already listed).
func barrier(t *testing.T, ctx context.Context, nw *sim.Network, zone string, from int, what string) {
	t.Helper()
	b, err := nw.Nodes[from].Report(ctx, api.ReportRequest{Zone: zone, What: what, Where: what})
	if err != nil {
		t.Fatalf("barrier: %v", err)
	}
	waitListed(t, ctx, nw, zone, b.ID, true)
}

// wantErr checks that err is not nil, wraps every sentinel in want, and
// has a one-line message containing every string in contains.
func wantErr(t *testing.T, err error, want []error, contains ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one wrapping %v", want)
	}
	for _, w := range want {
		if !errors.Is(err, w) {
			t.Errorf("error %q does not wrap %q", err, w)
		}
	}
	msg := err.Error()
	if strings.ContainsAny(msg, "\r\n") {
		t.Errorf("error is not one line: %q", msg)
	}
	for _, s := range contains {
		if !strings.Contains(msg, s) {
			t.Errorf("error %q does not mention %q", msg, s)
		}
	}
}

// expect is wantErr for table rows where no sentinels means success.
func expect(t *testing.T, err error, want []error, contains ...string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	wantErr(t, err, want, contains...)
}

// zoneRecord mirrors the fields of a stored zone record the tests look at.
type zoneRecord struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Epoch   uint32    `json:"epoch"`
	Secret  []byte    `json:"secret"`
	Root    []byte    `json:"root"`
	Chain   [][]byte  `json:"chain"`
	Peers   []string  `json:"peers"`
	Created time.Time `json:"created"`
}

// readZones returns the zone records in a node's store.
func readZones(t *testing.T, n *node.Node) []zoneRecord {
	t.Helper()
	raw, err := node.StoredZones(n)
	if err != nil {
		t.Fatalf("stored zones: %v", err)
	}
	var recs []zoneRecord
	for _, b := range raw {
		var r zoneRecord
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatalf("stored zone: %v", err)
		}
		recs = append(recs, r)
	}
	return recs
}

// writeZones replaces the zone records in a node's store; they take effect
// when it restarts.
func writeZones(t *testing.T, n *node.Node, recs []zoneRecord) {
	t.Helper()
	var raw [][]byte
	for _, r := range recs {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		raw = append(raw, b)
	}
	if err := node.ReplaceStoredZones(n, raw); err != nil {
		t.Fatalf("write zones: %v", err)
	}
}

// zonesOf returns a node's zones, turning a panic into a test failure so
// one broken node does not abort the whole test binary.
func zonesOf(t *testing.T, n *node.Node) (zs []api.Zone) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("Zones() panicked: %v", r)
			zs = nil
		}
	}()
	return n.Zones()
}

// assertZoneIDs checks that node i is in exactly the zones ids, both in
// memory and in its store.
func assertZoneIDs(t *testing.T, nw *sim.Network, i int, ids ...string) {
	t.Helper()
	var got []string
	for _, z := range zonesOf(t, nw.Nodes[i]) {
		got = append(got, z.ID)
	}
	var onDisk []string
	for _, r := range readZones(t, nw.Nodes[i]) {
		onDisk = append(onDisk, r.ID)
	}
	if !sameSet(got, ids) {
		t.Errorf("node %d is in zones %v, want %v", i, got, ids)
	}
	if !sameSet(onDisk, ids) {
		t.Errorf("node %d stores zones %v, want %v", i, onDisk, ids)
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, s := range a {
		m[s]++
	}
	for _, s := range b {
		m[s]--
	}
	for _, v := range m {
		if v != 0 {
			return false
		}
	}
	return true
}

func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// --- Init and Start -------------------------------------------------------

func TestInit(t *testing.T) {
	t.Run("creates a private identity", func(t *testing.T) {
		home := filepath.Join(t.TempDir(), "home")
		id, err := node.Init(home, testInit("Ada"))
		if err != nil {
			t.Fatal(err)
		}
		if id == "" {
			t.Error("Init returned an empty member ID")
		}
		if m := mode(t, home); m != 0o700 {
			t.Errorf("home mode %v, want 0700", m)
		}
		entries, err := os.ReadDir(home)
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]bool{}
		for _, e := range entries {
			names[e.Name()] = true
			if m := mode(t, filepath.Join(home, e.Name())); m != 0o600 {
				t.Errorf("%s mode %v, want 0600", e.Name(), m)
			}
		}
		for _, f := range []string{"store.keys", "store.db", "CACHEDIR.TAG"} {
			if !names[f] {
				t.Errorf("Init did not create %s (have %v)", f, names)
			}
		}
		if len(names) != 3 {
			t.Errorf("Init left %d files (%v), want only the store's store.keys, store.db and CACHEDIR.TAG (no temporary files)", len(names), names)
		}
	})

	t.Run("refuses a second init", func(t *testing.T) {
		home := filepath.Join(t.TempDir(), "home")
		if _, err := node.Init(home, testInit("Ada")); err != nil {
			t.Fatal(err)
		}
		before, err := os.ReadFile(filepath.Join(home, "store.keys"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = node.Init(home, testInit("Eve"))
		wantErr(t, err, nil, "already initialised", home)
		after, err := os.ReadFile(filepath.Join(home, "store.keys"))
		if err != nil {
			t.Fatal(err)
		}
		if string(before) != string(after) {
			t.Error("a refused second Init replaced the identity")
		}
	})

	t.Run("makes an existing home private", func(t *testing.T) {
		home := filepath.Join(t.TempDir(), "home")
		if err := os.Mkdir(home, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(home, 0o755); err != nil { // whatever the umask
			t.Fatal(err)
		}
		if _, err := node.Init(home, testInit("Ada")); err != nil {
			t.Fatal(err)
		}
		if m := mode(t, home); m != 0o700 {
			t.Errorf("home mode after Init %v, want 0700: the identity lives in a directory others can list", m)
		}
	})

	bad := []struct {
		name, display string
	}{
		{"65 bytes", strings.Repeat("a", 65)},
		{"newline", "Ada\nLovelace"},
		{"carriage return", "Ada\rLovelace"},
		{"NUL", "Ada\x00"},
	}
	for _, tc := range bad {
		t.Run("rejects name with "+tc.name, func(t *testing.T) {
			home := filepath.Join(t.TempDir(), "home")
			_, err := node.Init(home, testInit(tc.display))
			wantErr(t, err, nil, "name")
			if _, err := os.Stat(filepath.Join(home, "store.keys")); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("a rejected Init left an identity (stat: %v)", err)
			}
		})
	}

	t.Run("accepts 64 bytes", func(t *testing.T) {
		if _, err := node.Init(filepath.Join(t.TempDir(), "home"), testInit(strings.Repeat("a", 64))); err != nil {
			t.Fatal(err)
		}
	})
}

// testInit returns Init options for a test profile: the simulated
// members' secret and cheap key derivation.
func testInit(name string) node.InitOptions {
	return node.InitOptions{Name: name, Secret: sim.Secret, Store: sim.StoreOptions}
}

func TestStartWithoutIdentity(t *testing.T) {
	tests := []struct {
		name  string
		setup func(home string)
	}{
		{"missing directory", func(string) {}},
		{"empty directory", func(home string) {
			if err := os.Mkdir(home, 0o700); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			home := filepath.Join(t.TempDir(), "home")
			tc.setup(home)
			n := &node.Node{Home: home, Secret: sim.Secret, StoreOptions: sim.StoreOptions, Now: newClock().Now}
			err := n.Start(testContext(t))
			defer n.Close()
			wantErr(t, err, []error{node.ErrNoIdentity}, "lookout --home "+home+" init")
			entries, _ := os.ReadDir(home)
			if len(entries) != 0 {
				t.Errorf("a failed Start wrote %d files to the home", len(entries))
			}
		})
	}
}

// --- Zones ----------------------------------------------------------------

func TestCreateZoneRejects(t *testing.T) {
	ctx := testContext(t)
	nw := startNet(t, ctx, 1, newClock())
	n := nw.Nodes[0]
	if _, err := n.CreateZone(ctx, "north"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, zone string
		contains   string
	}{
		{"empty", "", "zone name"},
		{"only spaces", "   \t ", "zone name"},
		{"65 bytes", strings.Repeat("z", 65), "zone name"},
		{"newline", "north\nsouth", "zone name"},
		{"duplicate", "north", "already"},
		{"duplicate after trimming", "  north ", "already"},
		// A name the grant encoding refuses (protocol checkText) would make
		// every invite to the zone fail at join time; refuse it up front.
		{"escape sequence", "north\x1b[2J", ""},
		{"bidi override", "north\u202eevil", ""},
		{"invalid UTF-8", "north\xff", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := n.CreateZone(ctx, tc.zone)
			contains := []string{}
			if tc.contains != "" {
				contains = append(contains, tc.contains)
			}
			wantErr(t, err, []error{api.ErrInvalid}, contains...)
		})
	}
	if zs := n.Zones(); len(zs) != 1 {
		t.Errorf("rejected zones were created: %+v", zs)
	}
	if recs := readZones(t, nw.Nodes[0]); len(recs) != 1 {
		t.Errorf("the store holds %d zones, want 1", len(recs))
	}
	t.Run("64 bytes", func(t *testing.T) {
		if _, err := n.CreateZone(ctx, strings.Repeat("z", 64)); err != nil {
			t.Fatal(err)
		}
	})
}

func TestZonesAndLookup(t *testing.T) {
	ctx := testContext(t)
	nw := startNet(t, ctx, 1, newClock())
	n := nw.Nodes[0]
	created, err := n.CreateZone(ctx, "north")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.CreateZone(ctx, "east"); err != nil {
		t.Fatal(err)
	}

	zs := n.Zones()
	if len(zs) != 2 || zs[0].Name != "east" || zs[1].Name != "north" {
		t.Fatalf("Zones() = %+v, want east and north, sorted by name", zs)
	}
	z := zs[1]
	if z.ID != created.ID || len(z.ID) != 32 {
		t.Errorf("zone ID %q, CreateZone returned %q", z.ID, created.ID)
	}
	if z.Role != "organizer" || z.Epoch != 0 {
		t.Errorf("role %q epoch %d, want organizer, 0", z.Role, z.Epoch)
	}
	if !strings.HasPrefix(z.Topic, "lookout/4/") {
		t.Errorf("topic %q does not start with lookout/4/", z.Topic)
	}
	// The topic is what every peer on the network sees: it must not reveal
	// which zone it is.
	if strings.Contains(z.Topic, "north") || strings.Contains(z.Topic, z.ID) {
		t.Errorf("topic %q reveals the zone name or ID %s", z.Topic, z.ID)
	}
	if zs[0].Topic == z.Topic {
		t.Error("two zones share a topic")
	}
	recs := readZones(t, nw.Nodes[0])
	if len(recs) != 2 || mode(t, filepath.Join(nw.Homes[0], "store.db")) != 0o600 {
		t.Errorf("store: %d zones, mode %v; want 2 zones, 0600", len(recs), mode(t, filepath.Join(nw.Homes[0], "store.db")))
	}

	// Every call that takes a zone accepts its name or its ID, and answers
	// ErrNotFound for an unknown one.
	calls := []struct {
		name string
		call func(ref string) error
	}{
		{"Alerts", func(ref string) error { _, err := n.Alerts(ref); return err }},
		{"Watch", func(ref string) error {
			wctx, cancel := context.WithCancel(ctx)
			defer cancel()
			ch, err := n.Watch(wctx, ref)
			if err == nil {
				cancel()
				for range ch {
				}
			}
			return err
		}},
		{"Invite", func(ref string) error {
			_, err := n.Invite(ctx, api.InviteRequest{Zone: ref, TTL: time.Hour})
			return err
		}},
		{"Report", func(ref string) error {
			_, err := n.Report(ctx, api.ReportRequest{Zone: ref, What: "lookup via " + ref, Where: "via " + ref})
			return err
		}},
		{"Callout", func(ref string) error {
			_, err := n.Callout(ctx, api.CalloutRequest{Zone: ref, Title: "lookup via " + ref, Where: "here"})
			return err
		}},
	}
	refs := []struct {
		name, ref string
		want      []error
	}{
		{"by name", "north", nil},
		{"by ID", z.ID, nil},
		{"unknown name", "south", []error{api.ErrNotFound}},
		{"unknown ID", strings.Repeat("0", 32), []error{api.ErrNotFound}},
		{"name differs in case", "North", nil},
		{"by ID prefix", z.ID[:8], nil},
		{"ID prefix too short", z.ID[:4], []error{api.ErrNotFound}},
	}
	for _, c := range calls {
		for _, r := range refs {
			t.Run(c.name+" "+r.name, func(t *testing.T) {
				expect(t, c.call(r.ref), r.want)
			})
		}
	}
	as, err := n.Alerts("north")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range as {
		if a.Zone != z.ID || a.ZoneName != "north" {
			t.Errorf("alert %s is in zone %s %q, want %s north", a.ID, a.Zone, a.ZoneName, z.ID)
		}
	}
	// A report and a callout by name, ID, name in capitals and ID prefix;
	// "via north" and "via North" are one place, so one incident.
	if len(as) != 7 {
		t.Errorf("zone north has %d alerts, want 7", len(as))
	}
}

// --- Roles and alerts -----------------------------------------------------

func TestCalloutOnlyByOrganizers(t *testing.T) {
	ctx := testContext(t)
	nw := startNet(t, ctx, nRoles, newClock())
	z := formZone(t, ctx, nw, "north", standardRoles)
	tests := []struct {
		name string
		from int
		want []error
	}{
		{"organizer", org1, nil},
		{"verifier", ver2, []error{api.ErrForbidden}},
		{"member", mem3, []error{api.ErrForbidden}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			title := "callout by the " + tc.name
			a, err := nw.Nodes[tc.from].Callout(ctx, api.CalloutRequest{Zone: z.ID, Title: title, Where: "12 Elm St", Need: 3})
			if len(tc.want) > 0 {
				wantErr(t, err, tc.want, "organizer")
				// Nothing went out: after a barrier from the same node, no
				// node has a callout with that title.
				barrier(t, ctx, nw, z.ID, tc.from, "barrier after "+title)
				for i, n := range nw.Nodes {
					as, err := n.Alerts(z.ID)
					if err != nil {
						t.Fatal(err)
					}
					for _, a := range as {
						if a.Title == title {
							t.Errorf("node %d shows the refused callout %+v", i, a)
						}
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.Kind != "callout" || a.State != "active" || a.SenderRole != "organizer" || a.Need != 3 {
				t.Errorf("callout view %+v", a)
			}
			waitListed(t, ctx, nw, z.ID, a.ID, true)
		})
	}
}

func TestClearRules(t *testing.T) {
	ctx := testContext(t)
	clock := newClock()
	nw := startNet(t, ctx, nRoles, clock)
	z := formZone(t, ctx, nw, "north", standardRoles)
	views := watchAll(t, ctx, nw, z.ID)

	tests := []struct {
		name     string
		callout  bool
		sender   int
		clearer  int
		want     []error
		reason   string // clear_reason everyone sees when allowed
		contains string
	}{
		{"verifier gives the all clear on a member's sighting", false, mem3, ver2, nil, "allclear", ""},
		{"organizer gives the all clear on a member's sighting", false, mem3, org1, nil, "allclear", ""},
		// A member's clear of another's sighting is a "they left" note:
		// shown on the incident everywhere, obeyed nowhere.
		{"member's clear of another member's sighting is a note", false, mem4, mem3, nil, "left", ""},
		{"member's clear of a verifier's sighting is a note", false, ver2, mem3, nil, "left", ""},
		{"member retracts their own sighting", false, mem3, mem3, nil, "retracted", ""},
		{"verifier retracts their own sighting", false, ver2, ver2, nil, "retracted", ""},
		{"organizer ends another organizer's callout", true, org0, org1, nil, "allclear", ""},
		{"organizer withdraws their own callout", true, org0, org0, nil, "retracted", ""},
		{"verifier cannot end a callout", true, org0, ver2, []error{api.ErrForbidden}, "", "organizer"},
		{"member cannot end a callout", true, org0, mem3, []error{api.ErrForbidden}, "", "organizer"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock.Advance(time.Second)
			var root api.Alert
			var err error
			if tc.callout {
				root, err = nw.Nodes[tc.sender].Callout(ctx, api.CalloutRequest{Zone: z.ID, Title: fmt.Sprintf("callout %d", i), Where: "Elm St"})
			} else {
				// A place of its own: one sighting, one incident.
				root, err = nw.Nodes[tc.sender].Report(ctx, api.ReportRequest{Zone: z.ID, What: fmt.Sprintf("sighting %d", i), Where: fmt.Sprintf("%d Elm St", i)})
			}
			if err != nil {
				t.Fatal(err)
			}
			before := root.State
			waitListed(t, ctx, nw, z.ID, root.ID, true)
			clock.Advance(time.Second)

			note := fmt.Sprintf("note %d", i)
			got, err := nw.Nodes[tc.clearer].Clear(ctx, root.ID[:8], note)
			if len(tc.want) > 0 {
				wantErr(t, err, tc.want, tc.contains)
				barrier(t, ctx, nw, z.ID, tc.clearer, "barrier after "+tc.name)
				for j, n := range nw.Nodes {
					as, _ := n.Alerts(z.ID)
					if !hasAlert(as, root.ID) {
						t.Errorf("node %d no longer lists the alert a refused clear was about", j)
					}
					if v, _ := views[j].get(root.ID); v.State != before || v.ClearReason != "" {
						t.Errorf("node %d: view after a refused clear is %s/%q, want %s", j, v.State, v.ClearReason, before)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.reason == "left" {
				if got.State != before || len(got.Notes) != 1 || got.Notes[0].Kind != "left" || got.Notes[0].Note != note {
					t.Errorf("Clear returned %s with notes %+v, want still %s with one note %q", got.State, got.Notes, before, note)
				}
				waitViews(t, ctx, views, root.ID, func(a api.Alert) bool {
					return a.State == before && len(a.Notes) == 1 && a.Notes[0].Kind == "left"
				})
				return
			}
			if got.ID != root.ID || got.State != "cleared" || got.ClearReason != tc.reason || got.ClearNote != note {
				t.Errorf("Clear returned %s %s/%q/%q, want %s cleared/%q/%q", got.ID, got.State, got.ClearReason, got.ClearNote, root.ID, tc.reason, note)
			}
			waitViews(t, ctx, views, root.ID, func(a api.Alert) bool {
				return a.State == "cleared" && a.ClearReason == tc.reason && a.ClearNote == note
			})
			waitListed(t, ctx, nw, z.ID, root.ID, false)
		})
	}
}

// TestClearOwnReportInIncident: a verifier who reported gives the all clear
// once others witnessed it (not a retraction that leaves the card up). A
// member whose report joined an incident: clearing the incident's ID is a
// "they left" note; clearing their own report's ID (alerts --json lists
// it) withdraws that report, and the incident stays for the one that
// stands.
func TestClearOwnReportInIncident(t *testing.T) {
	ctx := testContext(t)
	clock := newClock()
	nw := startNet(t, ctx, nRoles, clock)
	z := formZone(t, ctx, nw, "north", standardRoles)
	views := watchAll(t, ctx, nw, z.ID)

	s, err := nw.Nodes[ver2].Report(ctx, api.ReportRequest{Zone: z.ID, What: "2 vans", Where: "1 Elm St"})
	if err != nil {
		t.Fatal(err)
	}
	waitListed(t, ctx, nw, z.ID, s.ID, true)
	clock.Advance(time.Second)
	if _, err := nw.Nodes[mem3].Confirm(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	waitViews(t, ctx, views, s.ID, func(a api.Alert) bool { return a.Confirmations != nil && *a.Confirmations == 2 })
	clock.Advance(time.Second)
	got, err := nw.Nodes[ver2].Clear(ctx, s.ID, "vans left")
	if err != nil {
		t.Fatal(err)
	}
	if got.State != "cleared" || got.ClearReason != "allclear" {
		t.Errorf("the reporting verifier's clear of a witnessed sighting: %s/%q, want cleared/allclear", got.State, got.ClearReason)
	}
	waitViews(t, ctx, views, s.ID, func(a api.Alert) bool { return a.State == "cleared" && a.ClearReason == "allclear" })

	clock.Advance(time.Second)
	first, err := nw.Nodes[mem4].Report(ctx, api.ReportRequest{Zone: z.ID, What: "agents", Where: "2 Elm St"})
	if err != nil {
		t.Fatal(err)
	}
	waitListed(t, ctx, nw, z.ID, first.ID, true)
	clock.Advance(time.Second)
	joined, err := nw.Nodes[mem3].Report(ctx, api.ReportRequest{Zone: z.ID, What: "6 agents", Where: "2 elm street"})
	if err != nil {
		t.Fatal(err)
	}
	if joined.ID != first.ID || len(joined.Reports) != 2 {
		t.Fatalf("the second report of the place is %s with %d reports, want incident %s with 2", joined.ID, len(joined.Reports), first.ID)
	}
	own := joined.Reports[1].ID
	waitViews(t, ctx, views, first.ID, func(a api.Alert) bool { return len(a.Reports) == 2 })
	clock.Advance(time.Second)
	got, err = nw.Nodes[mem3].Clear(ctx, first.ID[:8], "partis")
	if err != nil {
		t.Fatal(err)
	}
	if got.State != "corroborated" || len(got.Notes) != 1 || got.Notes[0].Kind != "left" || got.Reports[1].Withdrawn {
		t.Errorf("the joined reporter's clear of the incident: %s, notes %+v; want a they-left note on the corroborated card", got.State, got.Notes)
	}
	clock.Advance(time.Second)
	got, err = nw.Nodes[mem3].Clear(ctx, own[:8], "my mistake")
	if err != nil {
		t.Fatal(err)
	}
	withdrawn := func(a api.Alert) bool {
		return a.State != "cleared" && len(a.Reports) == 2 && !a.Reports[0].Withdrawn && a.Reports[1].Withdrawn && a.What == "agents"
	}
	if !withdrawn(got) {
		t.Errorf("after the joined reporter's clear of their report: %s, reports %+v; want it withdrawn, the incident up", got.State, got.Reports)
	}
	waitViews(t, ctx, views, first.ID, withdrawn)
}

func TestUpdateRejects(t *testing.T) {
	ctx := testContext(t)
	clock := newClock()
	nw := startNet(t, ctx, nRoles, clock)
	z := formZone(t, ctx, nw, "north", standardRoles)
	s, err := nw.Nodes[mem3].Report(ctx, api.ReportRequest{Zone: z.ID, What: "van", Where: "Elm St"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := nw.Nodes[org0].Callout(ctx, api.CalloutRequest{Zone: z.ID, Title: "come", Where: "Elm St"})
	if err != nil {
		t.Fatal(err)
	}
	waitListed(t, ctx, nw, z.ID, s.ID, true)
	waitListed(t, ctx, nw, z.ID, c.ID, true)
	n := nw.Nodes[mem4]
	tests := []struct {
		name     string
		call     func() error
		want     []error
		contains string
	}{
		{"confirm a callout", func() error { _, err := n.Confirm(ctx, c.ID); return err }, []error{api.ErrInvalid}, "only sightings"},
		{"respond to a sighting", func() error { _, err := n.Respond(ctx, s.ID, "enroute"); return err }, []error{api.ErrInvalid}, "only callouts"},
		{"respond maybe", func() error { _, err := n.Respond(ctx, c.ID, "maybe"); return err }, []error{api.ErrInvalid}, "enroute, onscene or cannot"},
		{"respond with no status", func() error { _, err := n.Respond(ctx, c.ID, ""); return err }, []error{api.ErrInvalid}, "status"},
		{"respond EnRoute", func() error { _, err := n.Respond(ctx, c.ID, "EnRoute"); return err }, []error{api.ErrInvalid}, "status"},
		{"clear note too long", func() error {
			_, err := nw.Nodes[mem3].Clear(ctx, s.ID, strings.Repeat("n", lp.MaxTextLen+1))
			return err
		}, []error{api.ErrInvalid, lp.ErrTooLong}, "note"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, tc.call(), tc.want, tc.contains)
		})
	}
	// None of them went out.
	barrier(t, ctx, nw, z.ID, mem4, "barrier")
	barrier(t, ctx, nw, z.ID, mem3, "barrier 2")
	for i, node := range nw.Nodes {
		as, _ := node.Alerts(z.ID)
		for _, a := range as {
			switch a.ID {
			case s.ID:
				if *a.Confirmations != 1 || a.State != "unconfirmed" {
					t.Errorf("node %d: sighting %s with %d confirmations", i, a.State, *a.Confirmations)
				}
			case c.ID:
				if *a.Responders != (api.Responders{}) {
					t.Errorf("node %d: callout responders %+v, want none", i, *a.Responders)
				}
			}
		}
	}
	// The same calls done right are accepted and counted everywhere.
	if _, err := n.Confirm(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Respond(ctx, c.ID, "onscene"); err != nil {
		t.Fatal(err)
	}
	waitListed(t, ctx, nw, z.ID, s.ID, true)
	err = sim.WaitFor(ctx, func() bool {
		for _, node := range nw.Nodes {
			as, _ := node.Alerts(z.ID)
			ok := 0
			for _, a := range as {
				if a.ID == s.ID && a.State == "corroborated" && *a.Confirmations == 2 {
					ok++
				}
				if a.ID == c.ID && *a.Responders == (api.Responders{OnScene: 1}) {
					ok++
				}
			}
			if ok != 2 {
				return false
			}
		}
		return true
	})
	if err != nil {
		t.Fatalf("confirmation and response not seen everywhere: %v", err)
	}
}

func TestAlertIDLookup(t *testing.T) {
	ctx := testContext(t)
	clock := newClock()
	nw := startNet(t, ctx, 2, clock)
	z := formZone(t, ctx, nw, "north", nil)
	s, err := nw.Nodes[1].Report(ctx, api.ReportRequest{Zone: z.ID, What: "van", Where: "Elm St"})
	if err != nil {
		t.Fatal(err)
	}
	waitListed(t, ctx, nw, z.ID, s.ID, true)
	// An 8-character prefix no alert has.
	unknown := ""
	for _, c := range "0123456789abcdef" {
		if p := strings.Repeat(string(c), 8); !strings.HasPrefix(s.ID, p) {
			unknown = p
			break
		}
	}
	tests := []struct {
		name     string
		ref      string
		want     []error
		contains string
	}{
		{"full ID", s.ID, nil, ""},
		{"8 characters", s.ID[:8], nil, ""},
		{"9 characters", s.ID[:9], nil, ""},
		{"upper case", strings.ToUpper(s.ID[:12]), nil, ""},
		{"surrounded by spaces", "  " + s.ID[:10] + "\n", nil, ""},
		{"7 characters", s.ID[:7], []error{api.ErrInvalid}, "8 to 32"},
		{"empty", "", []error{api.ErrInvalid}, "8 to 32"},
		{"33 characters", s.ID + "0", []error{api.ErrInvalid}, "8 to 32"},
		{"not hex", "zzzzzzzz", []error{api.ErrInvalid}, "not hex"},
		{"odd length ending in a non-hex character", s.ID[:8] + "z", []error{api.ErrInvalid}, "not hex"},
		{"unknown", unknown, []error{api.ErrNotFound}, unknown},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Each accepted confirm is a new message: move the clock so it is
			// not the same message as the last one.
			clock.Advance(time.Millisecond)
			got, err := nw.Nodes[0].Confirm(ctx, tc.ref)
			if len(tc.want) > 0 {
				wantErr(t, err, tc.want, tc.contains)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != s.ID {
				t.Errorf("%q found alert %s, want %s", tc.ref, got.ID, s.ID)
			}
		})
	}
}

func TestAlertTextRejects(t *testing.T) {
	ctx := testContext(t)
	nw := startNet(t, ctx, 1, newClock())
	n := nw.Nodes[0]
	if _, err := n.CreateZone(ctx, "north"); err != nil {
		t.Fatal(err)
	}
	long := func(k int) string { return strings.Repeat("x", k) }
	report := func(r api.ReportRequest) func() error {
		return func() error {
			r.Zone = "north"
			_, err := n.Report(ctx, r)
			return err
		}
	}
	callout := func(r api.CalloutRequest) func() error {
		return func() error {
			r.Zone = "north"
			_, err := n.Callout(ctx, r)
			return err
		}
	}
	invalid := func(errs ...error) []error { return append([]error{api.ErrInvalid}, errs...) }
	tests := []struct {
		name  string
		call  func() error
		want  []error
		field string
	}{
		{"what at the limit", report(api.ReportRequest{What: long(lp.MaxTextLen), Where: "a"}), nil, ""},
		{"what on two lines", report(api.ReportRequest{What: "two vans\nfour officers", Where: "b"}), nil, ""},
		{"what too long", report(api.ReportRequest{What: long(lp.MaxTextLen + 1), Where: "c"}), invalid(lp.ErrTooLong), "what"},
		{"what too long in multibyte characters", report(api.ReportRequest{What: strings.Repeat("é", lp.MaxTextLen+1), Where: "c"}), invalid(lp.ErrTooLong), "what"},
		{"what at the limit in multibyte characters", report(api.ReportRequest{What: strings.Repeat("é", lp.MaxTextLen), Where: "c2"}), nil, ""},
		{"where too long", report(api.ReportRequest{What: "van", Where: long(lp.MaxPlaceLen + 1)}), invalid(lp.ErrTooLong), "where"},
		{"activity too long", report(api.ReportRequest{What: "van", Where: "d", Activity: long(lp.MaxTextLen + 1)}), invalid(lp.ErrTooLong), "activity"},
		{"what with an escape sequence", report(api.ReportRequest{What: "van\x1b[2J", Where: "e"}), invalid(lp.ErrBadText), "what"},
		{"what with NUL", report(api.ReportRequest{What: "van\x00", Where: "e"}), invalid(lp.ErrBadText), "what"},
		{"what with a bidi override", report(api.ReportRequest{What: "van \u202eecilop", Where: "e"}), invalid(lp.ErrBadText), "what"},
		{"what not UTF-8", report(api.ReportRequest{What: "van \xff", Where: "e"}), invalid(lp.ErrBadText), "what"},
		{"uniform with a control character", report(api.ReportRequest{What: "van", Where: "e", Uniform: "blue\x07"}), invalid(lp.ErrBadText), "uniform"},
		{"what empty", report(api.ReportRequest{What: "  ", Where: "f"}), invalid(lp.ErrMissing), "what"},
		{"where empty", report(api.ReportRequest{What: "van"}), invalid(lp.ErrMissing), "where"},
		{"size negative", report(api.ReportRequest{What: "van", Where: "g", Size: -1}), invalid(), "size"},
		{"size too large", report(api.ReportRequest{What: "van", Where: "g", Size: lp.MaxCount + 1}), invalid(), "size"},
		{"title too long", callout(api.CalloutRequest{Title: long(lp.MaxTitleLen + 1), Where: "h"}), invalid(lp.ErrTooLong), "title"},
		{"title empty", callout(api.CalloutRequest{Where: "h"}), invalid(lp.ErrMissing), "title"},
		{"when too long", callout(api.CalloutRequest{Title: "t", Where: "h", When: long(lp.MaxWhenLen + 1)}), invalid(lp.ErrTooLong), "when"},
		{"rights too long", callout(api.CalloutRequest{Title: "t", Where: "h", Rights: long(lp.MaxRightsLen + 1)}), invalid(lp.ErrTooLong), "rights"},
		{"bring with a control character", callout(api.CalloutRequest{Title: "t", Where: "h", Bring: "water\x1b"}), invalid(lp.ErrBadText), "bring"},
		{"need negative", callout(api.CalloutRequest{Title: "t", Where: "h", Need: -1}), invalid(), "need"},
		{"rights at the limit", callout(api.CalloutRequest{Title: "t", Where: "h", Rights: long(lp.MaxRightsLen)}), nil, ""},
	}
	accepted := 0
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				accepted++
				return
			}
			wantErr(t, err, tc.want, tc.field)
		})
	}
	as, err := n.Alerts("north")
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != accepted {
		t.Errorf("zone has %d alerts, want only the %d accepted", len(as), accepted)
	}
}

func TestExerciseFlag(t *testing.T) {
	ctx := testContext(t)
	clock := newClock()
	nw := startNet(t, ctx, 3, clock)
	z := formZone(t, ctx, nw, "north", map[int]string{1: "verifier", 2: "member"})
	drill, err := nw.Nodes[2].Report(ctx, api.ReportRequest{Zone: z.ID, What: "practice van", Where: "1 Elm St", Exercise: true})
	if err != nil {
		t.Fatal(err)
	}
	real, err := nw.Nodes[2].Report(ctx, api.ReportRequest{Zone: z.ID, What: "real van", Where: "2 Elm St"})
	if err != nil {
		t.Fatal(err)
	}
	drillCallout, err := nw.Nodes[0].Callout(ctx, api.CalloutRequest{Zone: z.ID, Title: "practice callout", Where: "Elm St", Exercise: true})
	if err != nil {
		t.Fatal(err)
	}
	waitListed(t, ctx, nw, z.ID, drill.ID, true) // node 1 has it to confirm
	clock.Advance(time.Second)
	// An update to a drill is part of the drill.
	if _, err := nw.Nodes[1].Confirm(ctx, drill.ID); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{drill.ID: true, real.ID: false, drillCallout.ID: true}
	err = sim.WaitFor(ctx, func() bool {
		for _, n := range nw.Nodes {
			as, _ := n.Alerts(z.ID)
			if len(as) != len(want) {
				return false
			}
			for _, a := range as {
				if a.ID == drill.ID && !a.Verified {
					return false
				}
			}
		}
		return true
	})
	if err != nil {
		t.Fatalf("alerts not shown everywhere: %v", err)
	}
	for i, n := range nw.Nodes {
		as, _ := n.Alerts(z.ID)
		for _, a := range as {
			if a.Exercise != want[a.ID] {
				t.Errorf("node %d: alert %q exercise=%v, want %v", i, a.What+a.Title, a.Exercise, want[a.ID])
			}
		}
	}
}

func TestAlertsExcludeClearedAndExpired(t *testing.T) {
	ctx := testContext(t)
	clock := newClock()
	nw := startNet(t, ctx, 3, clock)
	z := formZone(t, ctx, nw, "north", map[int]string{1: "verifier", 2: "member"})
	publish := func(call func() (api.Alert, error)) api.Alert {
		t.Helper()
		a, err := call()
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Second)
		return a
	}
	s1 := publish(func() (api.Alert, error) {
		return nw.Nodes[2].Report(ctx, api.ReportRequest{Zone: z.ID, What: "first", Where: "Elm St"})
	})
	c1 := publish(func() (api.Alert, error) {
		return nw.Nodes[0].Callout(ctx, api.CalloutRequest{Zone: z.ID, Title: "come", Where: "Elm St"})
	})
	s2 := publish(func() (api.Alert, error) {
		return nw.Nodes[2].Report(ctx, api.ReportRequest{Zone: z.ID, What: "second", Where: "Oak St"})
	})
	s3 := publish(func() (api.Alert, error) {
		return nw.Nodes[2].Report(ctx, api.ReportRequest{Zone: z.ID, What: "third", Where: "Ash St"})
	})
	waitListed(t, ctx, nw, z.ID, s3.ID, true)
	publish(func() (api.Alert, error) { return nw.Nodes[1].Clear(ctx, s3.ID, "gone") })

	listIs := func(want ...api.Alert) func() bool {
		return func() bool {
			for _, n := range nw.Nodes {
				as, err := n.Alerts(z.ID)
				if err != nil || len(as) != len(want) {
					return false
				}
				for i := range as {
					if as[i].ID != want[i].ID {
						return false
					}
				}
			}
			return true
		}
	}
	steps := []struct {
		name    string
		advance time.Duration
		want    []api.Alert // newest first
	}{
		{"cleared alert left out", 0, []api.Alert{s2, c1, s1}},
		// s1 was sent at t0, s2 at t0+2s, the clock is now t0+5s: a sighting
		// expires 4h after its last activity, a callout 12h after it is sent.
		{"expired sightings left out", lp.DefaultSettings().Expiry, []api.Alert{c1}},
		{"expired callout left out", lp.DefaultCalloutTTL - lp.DefaultSettings().Expiry, nil},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			clock.Advance(st.advance)
			if err := sim.WaitFor(ctx, listIs(st.want...)); err != nil {
				for i, n := range nw.Nodes {
					as, _ := n.Alerts(z.ID)
					t.Logf("node %d: %+v", i, as)
				}
				t.Fatalf("alert lists never became %d alerts: %v", len(st.want), err)
			}
		})
	}
	t.Run("expired alert takes no updates", func(t *testing.T) {
		_, err := nw.Nodes[1].Confirm(ctx, s1.ID)
		wantErr(t, err, []error{api.ErrInvalid}, "expired")
	})
	t.Run("new alerts still flow", func(t *testing.T) {
		a := publish(func() (api.Alert, error) {
			return nw.Nodes[2].Report(ctx, api.ReportRequest{Zone: z.ID, What: "later", Where: "9 Oak St"})
		})
		waitListed(t, ctx, nw, z.ID, a.ID, true)
	})
}

func TestWatch(t *testing.T) {
	ctx := testContext(t)
	clock := newClock()
	nw := startNet(t, ctx, 3, clock)
	z := formZone(t, ctx, nw, "north", map[int]string{1: "verifier", 2: "member"})

	wctx, stop := context.WithCancel(ctx)
	defer stop()
	remote, err := nw.Nodes[0].Watch(wctx, "north")
	if err != nil {
		t.Fatal(err)
	}
	local, err := nw.Nodes[2].Watch(wctx, z.ID)
	if err != nil {
		t.Fatal(err)
	}
	next := func(ch <-chan api.Alert, ok func(api.Alert) bool) api.Alert {
		t.Helper()
		for {
			select {
			case a, open := <-ch:
				if !open {
					t.Fatal("watch closed early")
				}
				if ok(a) {
					return a
				}
			case <-ctx.Done():
				t.Fatal("watch delivered nothing matching")
			}
		}
	}

	s, err := nw.Nodes[2].Report(ctx, api.ReportRequest{Zone: "north", What: "van", Where: "Elm St", Size: 2})
	if err != nil {
		t.Fatal(err)
	}
	for name, ch := range map[string]<-chan api.Alert{"remote": remote, "local": local} {
		a := next(ch, func(a api.Alert) bool { return a.ID == s.ID })
		if a.Kind != "sighting" || a.State != "unconfirmed" || a.What != "van" || a.Size != 2 || *a.Confirmations != 1 || a.ZoneName != "north" {
			t.Errorf("%s watch: first view %+v", name, a)
		}
	}
	waitListed(t, ctx, nw, z.ID, s.ID, true) // node 1 has it to confirm
	clock.Advance(time.Second)
	if _, err := nw.Nodes[1].Confirm(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	for name, ch := range map[string]<-chan api.Alert{"remote": remote, "local": local} {
		a := next(ch, func(a api.Alert) bool { return a.ID == s.ID && a.State != "unconfirmed" })
		if a.State != "verified" || !a.Verified || *a.Confirmations != 2 {
			t.Errorf("%s watch: update view %+v", name, a)
		}
	}

	stop()
	for name, ch := range map[string]<-chan api.Alert{"remote": remote, "local": local} {
		closed := false
		for !closed {
			select {
			case _, open := <-ch:
				closed = !open
			case <-ctx.Done():
				t.Fatalf("%s watch not closed after its context ended", name)
			}
		}
	}
	// Alerts after the end of a watch go nowhere and break nothing.
	a, err := nw.Nodes[2].Report(ctx, api.ReportRequest{Zone: "north", What: "after", Where: "9 Oak St"})
	if err != nil {
		t.Fatal(err)
	}
	waitListed(t, ctx, nw, z.ID, a.ID, true)
}

// --- Restart --------------------------------------------------------------

// graftLog records which peers are in a node's gossipsub topic mesh
// (grafted and not since pruned). Gossipsub never delivers a message
// relayed before the graft (it gossips to non-mesh peers only); tests that
// check live relaying wait for the graft rather than rely on catch-up sync.
type graftLog struct {
	mu      sync.Mutex
	grafted map[peer.ID]bool
	grafts  map[peer.ID]int // how many times grafted, ever
}

var _ pubsub.RawTracer = (*graftLog)(nil)

func (g *graftLog) Graft(p peer.ID, _ string) {
	g.mu.Lock()
	g.grafted[p] = true
	g.grafts[p]++
	g.mu.Unlock()
}

func (g *graftLog) Prune(p peer.ID, _ string) {
	g.mu.Lock()
	g.grafted[p] = false
	g.mu.Unlock()
}

func newGraftLog() *graftLog {
	return &graftLog{grafted: map[peer.ID]bool{}, grafts: map[peer.ID]int{}}
}

func (g *graftLog) count(p peer.ID) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.grafts[p]
}

func (g *graftLog) has(p peer.ID) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.grafted[p]
}

func (*graftLog) AddPeer(peer.ID, protocol.ID)                         {}
func (*graftLog) RemovePeer(peer.ID)                                   {}
func (*graftLog) Join(string)                                          {}
func (*graftLog) Leave(string)                                         {}
func (*graftLog) ValidateMessage(*pubsub.Message)                      {}
func (*graftLog) DeliverMessage(*pubsub.Message)                       {}
func (*graftLog) RejectMessage(*pubsub.Message, string)                {}
func (*graftLog) DuplicateMessage(*pubsub.Message)                     {}
func (*graftLog) ThrottlePeer(peer.ID)                                 {}
func (*graftLog) RecvRPC(*pubsub.RPC)                                  {}
func (*graftLog) SendRPC(*pubsub.RPC, peer.ID)                         {}
func (*graftLog) SendRPCCompleted(*pubsub.RPC, peer.ID, time.Duration) {}
func (*graftLog) DropRPC(*pubsub.RPC, peer.ID)                         {}
func (*graftLog) UndeliverableMessage(*pubsub.Message)                 {}
func (*graftLog) OnNewOutboundStream(peer.ID, protocol.ID)             {}
func (*graftLog) OnClosedOutboundStream(peer.ID)                       {}

// logStreams logs a's connections to b and the streams on them, to tell a
// missing gossipsub stream (one side never greeted the other) from a
// missing connection.
func logStreams(t *testing.T, a, b *node.Node) {
	t.Helper()
	conns := a.Host.Network().ConnsToPeer(b.PeerID())
	if len(conns) == 0 {
		t.Logf("%s has no connection to %s", a.PeerID(), b.PeerID())
	}
	for _, c := range conns {
		var ss []string
		for _, s := range c.GetStreams() {
			ss = append(ss, fmt.Sprintf("%s (%v)", s.Protocol(), s.Stat().Direction))
		}
		t.Logf("%s's %v connection to %s carries %v", a.PeerID(), c.Stat().Direction, b.PeerID(), ss)
	}
}

func TestRestartKeepsZones(t *testing.T) {
	ctx := testContext(t)
	logs := []*graftLog{newGraftLog(), newGraftLog(), newGraftLog()}
	dir := t.TempDir()
	nw, err := sim.Start(ctx, sim.Config{Nodes: 3, Dir: dir, Now: newClock().Now, PubsubOptions: func(i int) []pubsub.Option {
		return []pubsub.Option{pubsub.WithRawTracer(logs[i])}
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeNet(t, nw) })
	z := formZone(t, ctx, nw, "north", map[int]string{1: "verifier", 2: "member"})
	if _, err := nw.Nodes[0].CreateZone(ctx, "east"); err != nil {
		t.Fatal(err)
	}
	const r = 1
	before := nw.Nodes[r].Zones()
	member := nw.Nodes[r].MemberID()
	// Restart reuses the node's PubsubOptions: give the new incarnation a
	// log of its own. (Start read the field long ago; nothing reads it now.)
	restarted := newGraftLog()
	nw.Nodes[r].PubsubOptions = []pubsub.Option{pubsub.WithRawTracer(restarted)}
	// Node 0 must graft the new incarnation: a new graft whether or not
	// the restarted node keeps its peer ID.
	oldID := nw.Nodes[r].PeerID()
	mark := logs[0].count(oldID)
	if err := nw.Restart(ctx, r); err != nil {
		t.Fatal(err)
	}
	after := nw.Nodes[r].Zones()
	if len(after) != len(before) || len(after) != 1 {
		t.Fatalf("zones before %+v, after %+v", before, after)
	}
	if b, a := before[0], after[0]; a.ID != b.ID || a.Name != b.Name || a.Role != "verifier" || a.Epoch != b.Epoch || a.Topic != b.Topic {
		t.Errorf("zone after restart %+v, before %+v", a, b)
	}
	if nw.Nodes[r].MemberID() != member {
		t.Error("member identity changed across restart")
	}
	// The restarted node dials the peers in its stored zones (here node 0,
	// its inviter). Node 0 relays between it and node 2 once both are in
	// node 0's mesh.
	n0, n1, n2 := nw.Nodes[0].PeerID(), nw.Nodes[r].PeerID(), nw.Nodes[2].PeerID()
	if n1 != oldID {
		mark = 0 // a new peer ID: any graft of it is new
	}
	err = sim.WaitFor(ctx, func() bool {
		return logs[0].count(n1) > mark && logs[0].has(n1) && logs[0].has(n2) && restarted.has(n0)
	})
	if err != nil {
		logStreams(t, nw.Nodes[r], nw.Nodes[0])
		t.Fatalf("restarted node never rejoined node 0's mesh: %v", err)
	}
	// It receives new alerts, and its own reach everyone, role intact.
	a, err := nw.Nodes[2].Report(ctx, api.ReportRequest{Zone: z.ID, What: "after restart", Where: "Elm St"})
	if err != nil {
		t.Fatal(err)
	}
	waitListed(t, ctx, nw, z.ID, a.ID, true)
	v, err := nw.Nodes[r].Confirm(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if v.State != "verified" {
		t.Errorf("confirmation by the restarted verifier gives %s, want verified", v.State)
	}
	err = sim.WaitFor(ctx, func() bool {
		for _, n := range nw.Nodes {
			as, _ := n.Alerts(z.ID)
			if len(as) != 1 || !as[0].Verified {
				return false
			}
		}
		return true
	})
	if err != nil {
		t.Fatalf("the restarted verifier's confirmation did not reach everyone: %v", err)
	}
}

// debugLog returns a logger that keeps every node's debug logs in memory
// and writes them to the test log only if the test fails.
func debugLog(t *testing.T) *slog.Logger {
	t.Helper()
	var mu sync.Mutex
	var buf strings.Builder
	t.Cleanup(func() {
		if t.Failed() {
			mu.Lock()
			defer mu.Unlock()
			t.Logf("node logs:\n%s", buf.String())
		}
	})
	return slog.New(slog.NewTextHandler(lockedWriter{&mu, &buf}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *strings.Builder
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// joinZone has node i redeem a fresh invite of node 0's to zone with role.
func joinZone(t *testing.T, ctx context.Context, nw *sim.Network, zone string, i int, role string) {
	t.Helper()
	inv, err := nw.Nodes[0].Invite(ctx, api.InviteRequest{Zone: zone, Role: role, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nw.Nodes[i].Join(ctx, inv.Code); err != nil {
		t.Fatal(err)
	}
}
