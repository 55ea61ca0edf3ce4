package node_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"lookout/node"
	"lookout/node/api"
	"lookout/node/sim"
	"lookout/node/store"
)

// cardsOf returns a node's cards for a zone, keyed by ID, with the fields
// that differ between nodes only by when they were read cleared.
func cardsOf(t testing.TB, n *node.Node, zone string) map[string]api.Alert {
	t.Helper()
	as, err := n.Alerts(zone)
	if err != nil {
		t.Fatalf("alerts: %v", err)
	}
	out := make(map[string]api.Alert, len(as))
	for _, a := range as {
		out[a.ID] = a
	}
	return out
}

func TestAlertsSurviveRestart(t *testing.T) {
	ctx := testContext(t)
	clock := newClock()
	nw := startNet(t, ctx, 2, clock)
	z := formZone(t, ctx, nw, "north", map[int]string{1: "verifier"})
	s, err := nw.Nodes[0].Report(ctx, api.ReportRequest{Zone: z.ID, What: "two vans", Where: "King & Bathurst"})
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.WaitFor(ctx, func() bool { _, ok := cardsOf(t, nw.Nodes[1], z.ID)[s.ID]; return ok }); err != nil {
		t.Fatal(err)
	}
	if _, err := nw.Nodes[1].Confirm(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	c, err := nw.Nodes[0].Callout(ctx, api.CalloutRequest{Zone: z.ID, Title: "accompany a family", Where: "12 Elm St", Need: 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nw.Nodes[0].Respond(ctx, c.ID, "enroute"); err != nil {
		t.Fatal(err)
	}
	want := cardsOf(t, nw.Nodes[0], z.ID)
	if err := sim.WaitFor(ctx, func() bool { return reflect.DeepEqual(cardsOf(t, nw.Nodes[0], z.ID), want) && len(want) == 2 }); err != nil {
		t.Fatal(err)
	}
	if got := want[s.ID]; !got.Verified {
		t.Fatalf("before restart the sighting is %q, want verified", got.State)
	}
	if err := nw.Stop(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if err := nw.ResumeLinked(ctx, 0, nil); err != nil { // linked to no one
		t.Fatal(err)
	}
	if got := cardsOf(t, nw.Nodes[0], z.ID); !reflect.DeepEqual(got, want) {
		t.Errorf("after restart, offline:\n got %+v\nwant %+v", got, want)
	}
}

// TestCatchUpAfterOffline is the catch-up acceptance test: a member's node
// is stopped for more than 10 simulated minutes while the zone sends 200
// alerts and their updates, some of which expire meanwhile. Once it is back
// and linked to one member only, it must converge on exactly that member's
// active alerts and states, and hold none of the expired ones.
func TestCatchUpAfterOffline(t *testing.T) {
	ctx, cancel := context.WithTimeout(testContext(t), 90*time.Second)
	defer cancel()
	clock := newClock()
	const away = 4
	nw := startNet(t, ctx, 5, clock)
	z := formZone(t, ctx, nw, "north", map[int]string{1: "organizer", 2: "verifier"})
	setLimits(t, ctx, nw.Nodes[0], z.ID, 30*time.Minute)
	if err := sim.WaitFor(ctx, func() bool {
		st, err := nw.Nodes[away].Settings(z.ID)
		return err == nil && st.MaxReports == 1000
	}); err != nil {
		t.Fatal(err)
	}
	if err := nw.Stop(ctx, away); err != nil {
		t.Fatal(err)
	}
	online := nw.Nodes[:away]
	expired := sendTraffic(t, ctx, clock, online, z.ID, 40, "early")
	// Gossip is live: let the early traffic land before the clock jumps,
	// or it arrives 30 minutes after it was sent and only catch-up may
	// bring it (docs/protocol.md, Time).
	if err := sim.WaitFor(ctx, func() bool {
		first := cardsOf(t, online[0], z.ID)
		for _, n := range online[1:] {
			if !reflect.DeepEqual(cardsOf(t, n, z.ID), first) {
				return false
			}
		}
		return true
	}); err != nil {
		t.Fatalf("the early traffic did not settle: %v", err)
	}
	clock.Advance(30 * time.Minute) // the early alerts expire (30-minute lifetime)
	sendTraffic(t, ctx, clock, online, z.ID, 160, "late")
	var want map[string]api.Alert
	if err := sim.WaitFor(ctx, func() bool {
		want = cardsOf(t, nw.Nodes[1], z.ID)
		for _, n := range online {
			if !reflect.DeepEqual(cardsOf(t, n, z.ID), want) {
				return false
			}
		}
		return true
	}); err != nil {
		for i, n := range online {
			got := cardsOf(t, n, z.ID)
			for id, a := range got {
				if w, ok := want[id]; !ok || !reflect.DeepEqual(w, a) {
					t.Logf("node %d card %s differs:\n got %+v\nwant %+v", i, id, a, w)
				}
			}
			for id := range want {
				if _, ok := got[id]; !ok {
					t.Logf("node %d lacks card %s", i, id)
				}
			}
		}
		t.Fatalf("the online members did not agree: %v", err)
	}
	if len(want) < 140 {
		t.Fatalf("only %d active cards to catch up on; the traffic did not go out", len(want))
	}

	start := time.Now()
	if err := nw.ResumeLinked(ctx, away, []int{1}); err != nil {
		t.Fatal(err)
	}
	back := nw.Nodes[away]
	if _, err := nw.Mocknet.ConnectPeers(back.PeerID(), nw.Nodes[1].PeerID()); err != nil {
		t.Fatal(err)
	}
	if err := sim.WaitFor(ctx, func() bool { return reflect.DeepEqual(cardsOf(t, back, z.ID), want) }); err != nil {
		got := cardsOf(t, back, z.ID)
		t.Fatalf("returning member has %d cards, want %d: %v", len(got), len(want), err)
	}
	t.Logf("caught up on %d active alerts in %v", len(want), time.Since(start))
	stored, err := node.StoredMessageIDs(back)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range expired {
		if slices.Contains(stored, id) {
			t.Errorf("expired alert %s came back through catch-up", id)
		}
	}

	// The members who kept the expired alerts delete them once their
	// grace period is over.
	clock.Advance(20 * time.Minute)
	node.Sweep(nw.Nodes[1])
	stored, err = node.StoredMessageIDs(nw.Nodes[1])
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range expired {
		if slices.Contains(stored, id) {
			t.Errorf("alert %s, expired for over 15 minutes, is still in a member's store", id)
		}
	}
}

// setLimits lets members send a day's traffic in minutes and sets the
// alerts' lifetime.
func setLimits(t testing.TB, ctx context.Context, org *node.Node, zone string, expiry time.Duration) {
	t.Helper()
	limit := 1000
	if _, err := org.SetSettings(ctx, api.SettingsRequest{Zone: zone, MaxReports: &limit, MaxConfirms: &limit, Expiry: &expiry}); err != nil {
		t.Fatalf("settings: %v", err)
	}
}

// sendTraffic has the online nodes send count sightings, each at its own
// place, with confirms, an all clear for every tenth and a callout with an
// answer and an update for every twentieth. It returns the sightings' IDs
// (callouts live longer than the zone's sighting expiry).
// The clock moves 3 s per alert.
func sendTraffic(t testing.TB, ctx context.Context, clock *fakeClock, nodes []*node.Node, zone string, count int, tag string) []string {
	t.Helper()
	var ids []string
	for i := range count {
		clock.Advance(3 * time.Second)
		from := nodes[3+i%(len(nodes)-3)]
		if i%20 == 19 {
			c, err := nodes[0].Callout(ctx, api.CalloutRequest{Zone: zone, Title: fmt.Sprintf("callout %s %d", tag, i), Where: fmt.Sprintf("%d Elm St", i), Need: 2})
			if err != nil {
				t.Fatalf("callout %d: %v", i, err)
			}
			if err := sim.WaitFor(ctx, func() bool { _, ok := cardsOf(t, nodes[1], zone)[c.ID]; return ok }); err != nil {
				t.Fatalf("callout %d did not reach node 1: %v", i, err)
			}
			if _, err := nodes[1].Respond(ctx, c.ID, "enroute"); err != nil {
				t.Fatalf("respond %d: %v", i, err)
			}
			if _, err := nodes[0].UpdateCallout(ctx, api.CalloutUpdateRequest{Alert: c.ID, When: "now"}); err != nil {
				t.Fatalf("update %d: %v", i, err)
			}
			continue
		}
		s, err := from.Report(ctx, api.ReportRequest{Zone: zone, What: fmt.Sprintf("sighting %s %d", tag, i), Where: fmt.Sprintf("corner %s %d", tag, i)})
		if err != nil {
			t.Fatalf("report %d: %v", i, err)
		}
		ids = append(ids, s.ID)
		if i%3 == 0 {
			if err := sim.WaitFor(ctx, func() bool { _, ok := cardsOf(t, nodes[2], zone)[s.ID]; return ok }); err != nil {
				t.Fatalf("sighting %d did not reach the verifier: %v", i, err)
			}
			if _, err := nodes[2].Confirm(ctx, s.ID); err != nil {
				t.Fatalf("confirm %d: %v", i, err)
			}
		}
		if i%10 == 1 {
			if _, err := from.Clear(ctx, s.ID, "gone"); err != nil {
				t.Fatalf("clear %d: %v", i, err)
			}
		}
	}
	return ids
}

// secrets returns byte strings that must never appear in plain bytes
// under a home: the node's identity seed, its zones' secrets and the
// given texts.
func secrets(t *testing.T, n *node.Node, texts ...string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{"identity seed": node.Identity(n).Seed()}
	raw, err := node.StoredZones(n)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range raw {
		var r struct {
			Secret []byte
			Root   []byte
			Name   string
		}
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		out["zone secret of "+r.Name] = r.Secret
		out["zone root key of "+r.Name] = r.Root[:32]
	}
	for _, s := range texts {
		out["text "+s] = []byte(s)
	}
	return out
}

// scanHome fails the test for every secret found in any file under home.
func scanHome(t *testing.T, home string, secrets map[string][]byte) {
	t.Helper()
	err := filepath.WalkDir(home, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Type()&fs.ModeSocket != 0 {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for what, s := range secrets {
			if len(s) > 0 && bytes.Contains(b, s) {
				t.Errorf("%s found in plain bytes in %s", what, path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestHomeHoldsNoPlaintext is the disk-image test: after a run, no zone
// secret, key, alert text, zone name or member name is found in any file
// under the homes; after Wipe, nothing opens, even with the passphrase.
func TestHomeHoldsNoPlaintext(t *testing.T) {
	ctx := testContext(t)
	clock := newClock()
	nw := startNet(t, ctx, 3, clock)
	z := formZone(t, ctx, nw, "Parkdale rapid response", map[int]string{1: "verifier"})
	texts := []string{"Parkdale rapid response", "node0", "node1", "node2",
		"grey unmarked van outside the school", "Queen & Dufferin", "bring water and a phone", "accompany the Ortiz family"}
	s, err := nw.Nodes[2].Report(ctx, api.ReportRequest{Zone: z.ID, What: texts[4], Where: texts[5]})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nw.Nodes[0].Callout(ctx, api.CalloutRequest{Zone: z.ID, Title: texts[7], Where: texts[5], Bring: texts[6]}); err != nil {
		t.Fatal(err)
	}
	if _, err := nw.Nodes[0].Invite(ctx, api.InviteRequest{Zone: z.ID}); err != nil {
		t.Fatal(err)
	}
	if err := sim.WaitFor(ctx, func() bool {
		for _, n := range nw.Nodes {
			if len(cardsOf(t, n, z.ID)) != 2 {
				return false
			}
		}
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := nw.Nodes[1].Confirm(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	all := map[string][]byte{}
	for _, n := range nw.Nodes {
		for k, v := range secrets(t, n, texts...) {
			all[k+" of "+n.PeerID().String()] = v
		}
	}
	for i := range nw.Nodes {
		scanHome(t, nw.Homes[i], all) // while running
	}
	for i := range nw.Nodes {
		if err := nw.Stop(ctx, i); err != nil {
			t.Fatal(err)
		}
		scanHome(t, nw.Homes[i], all) // stopped
	}

	home := nw.Homes[2]
	if err := node.Wipe(home); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(home)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("after Wipe the home still holds %d files", len(entries))
	}
	n := &node.Node{Home: home, Secret: sim.Secret, StoreOptions: sim.StoreOptions}
	err = n.Start(ctx)
	n.Close()
	if !errors.Is(err, node.ErrNoIdentity) {
		t.Errorf("Start after Wipe: %v, want ErrNoIdentity", err)
	}
}

// TestWipeRunningNode: Wipe on a running node destroys its store at once
// and stops it; Wiped says so.
func TestWipeRunningNode(t *testing.T) {
	ctx := testContext(t)
	nw := startNet(t, ctx, 1, newClock())
	n := nw.Nodes[0]
	if _, err := n.CreateZone(ctx, "north"); err != nil {
		t.Fatal(err)
	}
	if err := n.Wipe(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-n.Wiped():
	case <-ctx.Done():
		t.Fatal("Wiped not closed")
	}
	if store.Exists(nw.Homes[0]) {
		t.Error("the store is still there after Wipe")
	}
	if _, err := store.Open(nw.Homes[0], sim.Secret, sim.StoreOptions); !errors.Is(err, store.ErrNoStore) {
		t.Errorf("open after wipe with the right passphrase: %v, want ErrNoStore", err)
	}
}

func TestUnlock(t *testing.T) {
	ctx := testContext(t)
	wrong := store.Secret{Passphrase: []byte("not the passphrase")}
	duress := store.Secret{Passphrase: []byte("the duress passphrase")}
	newHome := func(t *testing.T) string {
		home := filepath.Join(t.TempDir(), "home")
		opt := testInit("Ada")
		opt.Duress = &duress
		if _, err := node.Init(home, opt); err != nil {
			t.Fatal(err)
		}
		n := &node.Node{Home: home, Secret: sim.Secret, StoreOptions: sim.StoreOptions, ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"}}
		if err := n.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := n.CreateZone(ctx, "north"); err != nil {
			t.Fatal(err)
		}
		if err := n.Close(); err != nil {
			t.Fatal(err)
		}
		return home
	}
	start := func(home string, s store.Secret) (*node.Node, error) {
		n := &node.Node{Home: home, Secret: s, StoreOptions: sim.StoreOptions, ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"}}
		err := n.Start(ctx)
		t.Cleanup(func() { n.Close() })
		return n, err
	}
	snapshot := func(home string) map[string][]byte {
		out := map[string][]byte{}
		entries, _ := os.ReadDir(home)
		for _, e := range entries {
			b, _ := os.ReadFile(filepath.Join(home, e.Name()))
			out[e.Name()] = b
		}
		return out
	}

	t.Run("wrong passphrase changes nothing", func(t *testing.T) {
		home := newHome(t)
		before := snapshot(home)
		_, err := start(home, wrong)
		if !errors.Is(err, store.ErrWrongPassphrase) {
			t.Fatalf("start with a wrong passphrase: %v", err)
		}
		if !reflect.DeepEqual(snapshot(home), before) {
			t.Error("a failed unlock changed the home")
		}
		n, err := start(home, sim.Secret)
		if err != nil || len(n.Zones()) != 1 {
			t.Fatalf("start with the right passphrase after a wrong one: %v, %d zones", err, len(n.Zones()))
		}
	})

	t.Run("duress opens an empty profile and wipes the real one", func(t *testing.T) {
		home := newHome(t)
		n, err := start(home, sim.Secret)
		if err != nil {
			t.Fatal(err)
		}
		realID := n.MemberID()
		n.Close()
		n, err = start(home, duress)
		if err != nil {
			t.Fatalf("start with the duress passphrase: %v", err)
		}
		if len(n.Zones()) != 0 || n.MemberID() == realID {
			t.Errorf("duress profile has %d zones, same identity %v; want an empty, new profile", len(n.Zones()), n.MemberID() == realID)
		}
		n.Close()
		if _, err := start(home, sim.Secret); !errors.Is(err, store.ErrWrongPassphrase) {
			t.Errorf("the real passphrase after duress: %v, want it refused like any wrong one", err)
		}
	})

	t.Run("passphrase change", func(t *testing.T) {
		home := newHome(t)
		fresh := store.Secret{Passphrase: []byte("a brand new passphrase")}
		if err := node.ChangeSecret(home, wrong, fresh, sim.StoreOptions); !errors.Is(err, store.ErrWrongPassphrase) {
			t.Fatalf("change with a wrong old passphrase: %v", err)
		}
		if err := node.ChangeSecret(home, sim.Secret, fresh, sim.StoreOptions); err != nil {
			t.Fatal(err)
		}
		if _, err := start(home, sim.Secret); !errors.Is(err, store.ErrWrongPassphrase) {
			t.Errorf("old passphrase after change: %v", err)
		}
		n, err := start(home, fresh)
		if err != nil || len(n.Zones()) != 1 {
			t.Fatalf("new passphrase: %v, %d zones", err, len(n.Zones()))
		}
	})

	t.Run("key file", func(t *testing.T) {
		dir := t.TempDir()
		home, key := filepath.Join(dir, "home"), filepath.Join(dir, "node.key")
		if err := store.CreateKeyFile(key); err != nil {
			t.Fatal(err)
		}
		if _, err := node.Init(home, node.InitOptions{Secret: store.Secret{KeyFile: key}, Store: sim.StoreOptions}); err != nil {
			t.Fatal(err)
		}
		if _, err := start(home, store.Secret{KeyFile: key}); err != nil {
			t.Fatal(err)
		}
	})
}

// BenchmarkCatchUp measures how long a member's node, stopped while the
// zone sent N sightings (a third of them confirmed by a verifier), takes
// from restarting and connecting to one member until it shows exactly
// that member's active alerts and states. Each iteration restores the
// stopped node's home as it was when it stopped.
func BenchmarkCatchUp(b *testing.B) {
	for _, count := range []int{200, 1000} {
		b.Run(fmt.Sprintf("alerts=%d", count), func(b *testing.B) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			clock := newClock()
			nw, err := sim.Start(ctx, sim.Config{Nodes: 5, Dir: b.TempDir(), Now: clock.Now})
			if err != nil {
				b.Fatal(err)
			}
			defer nw.Close()
			z, err := nw.FormZone(ctx, "north", map[int]string{1: "organizer", 2: "verifier"})
			if err != nil {
				b.Fatal(err)
			}
			if err := nw.WaitMesh(ctx, z.ID, 4); err != nil {
				b.Fatal(err)
			}
			setLimits(b, ctx, nw.Nodes[0], z.ID, 4*time.Hour)
			const away = 4
			if err := sim.WaitFor(ctx, func() bool {
				st, err := nw.Nodes[away].Settings(z.ID)
				return err == nil && st.MaxReports == 1000
			}); err != nil {
				b.Fatal(err)
			}
			if err := nw.Stop(ctx, away); err != nil {
				b.Fatal(err)
			}
			snap := snapshotHome(b, nw.Homes[away])
			for i := range count {
				clock.Advance(100 * time.Millisecond)
				from := nw.Nodes[3-i%2] // nodes 3 and 2, under the 1000-per-window limit each
				s, err := from.Report(ctx, api.ReportRequest{Zone: z.ID, What: fmt.Sprintf("sighting %d", i), Where: fmt.Sprintf("corner %d", i)})
				if err != nil {
					b.Fatalf("report %d: %v", i, err)
				}
				if i%3 == 0 {
					if err := sim.WaitFor(ctx, func() bool { _, ok := cardsOf(b, nw.Nodes[1], z.ID)[s.ID]; return ok }); err != nil {
						b.Fatal(err)
					}
					if _, err := nw.Nodes[1].Confirm(ctx, s.ID); err != nil {
						b.Fatalf("confirm %d: %v", i, err)
					}
				}
			}
			var want map[string]api.Alert
			if err := sim.WaitFor(ctx, func() bool {
				want = cardsOf(b, nw.Nodes[1], z.ID)
				return len(want) == count && reflect.DeepEqual(cardsOf(b, nw.Nodes[0], z.ID), want)
			}); err != nil {
				b.Fatalf("members did not converge on %d alerts: %v", count, err)
			}
			var total time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				if err := nw.ResumeLinked(ctx, away, []int{1}); err != nil {
					b.Fatal(err)
				}
				back := nw.Nodes[away]
				if _, err := nw.Mocknet.ConnectPeers(back.PeerID(), nw.Nodes[1].PeerID()); err != nil {
					b.Fatal(err)
				}
				if err := sim.WaitFor(ctx, func() bool { return reflect.DeepEqual(cardsOf(b, back, z.ID), want) }); err != nil {
					b.Fatalf("no catch-up: %v", err)
				}
				total += time.Since(start)
				b.StopTimer()
				if err := nw.Stop(ctx, away); err != nil {
					b.Fatal(err)
				}
				restoreHome(b, nw.Homes[away], snap)
				b.StartTimer()
			}
			b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/catchup")
			b.ReportMetric(float64(count), "alerts")
		})
	}
}

func snapshotHome(b *testing.B, home string) map[string][]byte {
	b.Helper()
	out := map[string][]byte{}
	entries, err := os.ReadDir(home)
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range entries {
		if e.Type().IsRegular() {
			data, err := os.ReadFile(filepath.Join(home, e.Name()))
			if err != nil {
				b.Fatal(err)
			}
			out[e.Name()] = data
		}
	}
	return out
}

func restoreHome(b *testing.B, home string, snap map[string][]byte) {
	b.Helper()
	entries, _ := os.ReadDir(home)
	for _, e := range entries {
		os.Remove(filepath.Join(home, e.Name()))
	}
	for name, data := range snap {
		if err := os.WriteFile(filepath.Join(home, name), data, 0o600); err != nil {
			b.Fatal(err)
		}
	}
}

// TestRecentPlacesSurviveRestart: the places a member reported are kept in
// the zone's record, newest first without repeats, at most five, and come
// back after a restart; they are not in the clear in the home.
func TestRecentPlacesSurviveRestart(t *testing.T) {
	ctx := testContext(t)
	clock := newClock()
	nw := startNet(t, ctx, 1, clock)
	z := formZone(t, ctx, nw, "north", nil)
	places := []string{"Jarry & St-Denis", "Place A", "Place B", "Place C", "Place D", "Place E", "Place B"}
	for _, p := range places {
		if _, err := nw.Nodes[0].Report(ctx, api.ReportRequest{Zone: z.ID, WhatCode: api.WhatFoot, Where: p}); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"Place B", "Place E", "Place D", "Place C", "Place A"}
	got := func() []string {
		for _, info := range nw.Nodes[0].Zones() {
			if info.ID == z.ID {
				return info.Places
			}
		}
		return nil
	}
	if !slices.Equal(got(), want) {
		t.Fatalf("recent places %q, want %q", got(), want)
	}
	if err := nw.Stop(ctx, 0); err != nil {
		t.Fatal(err)
	}
	scanHome(t, nw.Homes[0], map[string][]byte{"a recent place": []byte("Place B"), "an older place": []byte("Jarry & St-Denis")})
	if err := nw.ResumeLinked(ctx, 0, nil); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got(), want) {
		t.Errorf("after restart recent places %q, want %q", got(), want)
	}
}
