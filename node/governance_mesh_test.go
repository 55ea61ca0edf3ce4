package node_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"lookout/node"
	"lookout/node/api"
	"lookout/node/sim"
	lp "lookout/protocol"
)

// clock is a shared test clock: real time plus an offset tests advance.
type clock struct{ off atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *clock) Advance(d time.Duration) { c.off.Add(int64(d)) }

// waitAll waits until cond holds on every node but those skipped.
func waitAll(t *testing.T, ctx context.Context, nw *sim.Network, what string, cond func(i int) bool, skip ...int) {
	t.Helper()
	err := sim.WaitFor(ctx, func() bool {
		for i := range nw.Nodes {
			if !slicesContains(skip, i) && !cond(i) {
				return false
			}
		}
		return true
	})
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func slicesContains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func card(n interface {
	Alerts(string) ([]api.Alert, error)
}, zone, id string) (api.Alert, bool) {
	as, _ := n.Alerts(zone)
	for _, a := range as {
		if a.ID == id {
			return a, true
		}
	}
	return api.Alert{}, false
}

func zoneEpoch(nw *sim.Network, i int, zone string) uint32 {
	for _, z := range nw.Nodes[i].Zones() {
		if z.ID == zone {
			return z.Epoch
		}
	}
	return 0
}

// TestMeshGovernance runs the lifecycle and governance on 20 nodes: every
// node learns every member's key; a sighting goes unconfirmed →
// corroborated → verified → cleared, another expires; settings spread; a
// member over the rate limit is rejected by every node; a removed member's
// node reads nothing after the new epoch while everyone else does.
func TestMeshGovernance(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	var clk clock
	env := startMeshWith(t, ctx, sim.Config{Nodes: meshNodes, Now: clk.Now, RedialInterval: 200 * time.Millisecond})
	nw, nodes, zone := env.nw, env.nw.Nodes, env.zone.ID

	waitKeysKnown(t, ctx, nw, zone)

	// Lifecycle.
	s, err := nodes[7].Report(ctx, api.ReportRequest{Zone: zone, What: "van", Where: "Dundas West station"})
	if err != nil {
		t.Fatal(err)
	}
	state := func(want string) func(int) bool {
		return func(i int) bool { a, ok := card(nodes[i], zone, s.ID); return ok && a.State == want }
	}
	waitAll(t, ctx, nw, "unconfirmed everywhere", state("unconfirmed"))
	if _, err := nodes[8].Confirm(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	waitAll(t, ctx, nw, "corroborated everywhere", state("corroborated"))
	if _, err := nodes[2].Confirm(ctx, s.ID); err != nil { // node 2 is a verifier
		t.Fatal(err)
	}
	waitAll(t, ctx, nw, "verified everywhere", state("verified"))
	if _, err := nodes[2].Clear(ctx, s.ID, "vans left"); err != nil {
		t.Fatal(err)
	}
	err = sim.WaitFor(ctx, func() bool {
		for i := range nodes {
			if _, ok := card(nodes[i], zone, s.ID); ok {
				return false // cleared alerts leave the active list
			}
		}
		return true
	})
	if err != nil {
		t.Fatalf("cleared sighting still active somewhere: %v", err)
	}

	// Settings spread, then expiry after the zone's expiry.
	tenMin := 10 * time.Minute
	two := 2
	if _, err := nodes[0].SetSettings(ctx, api.SettingsRequest{Zone: zone, Expiry: &tenMin, MaxReports: &two}); err != nil {
		t.Fatal(err)
	}
	waitAll(t, ctx, nw, "settings everywhere", func(i int) bool {
		st, _ := nodes[i].Settings(zone)
		return st.MaxReports == 2 && time.Duration(st.Expiry) == tenMin
	})
	e, err := nodes[9].Report(ctx, api.ReportRequest{Zone: zone, What: "patrol car", Where: "Keele and Bloor"})
	if err != nil {
		t.Fatal(err)
	}
	waitAll(t, ctx, nw, "second sighting everywhere", func(i int) bool { _, ok := card(nodes[i], zone, e.ID); return ok })
	clk.Advance(11 * time.Minute)
	for i := range nodes {
		if _, ok := card(nodes[i], zone, e.ID); ok {
			t.Errorf("node %d still lists the sighting 11 minutes after its last update", i)
		}
	}

	// Rate limit: member 5, gone rogue, sends 3 sightings raw in 10 minutes;
	// the third is rejected by node 1 and shown nowhere.
	rogue := loadMember(t, nw.Nodes[5])
	top := env.attacker(t, ctx, 1, rogue.secret)
	now := clk.Now()
	var msgIDs []string
	var alertIDs []string
	for i := range 3 {
		a := rogue.alert(lp.KindSighting, now.Add(time.Duration(i)*time.Millisecond), now.Add(time.Hour))
		a.Area = "rate test " + string(rune('a'+i))
		sg, err := lp.Sign(rogue.id, rogue.chain, a)
		if err != nil {
			t.Fatal(err)
		}
		e := rogue.seal(t, sg)
		if err := top.Publish(ctx, e); err != nil {
			t.Fatal(err)
		}
		id := msgID(e)
		msgIDs = append(msgIDs, id)
		alertIDs = append(alertIDs, sg.ID.String())
		if err := sim.WaitFor(ctx, func() bool { v, _, _ := env.tracers[1].seen(id); return v > 0 }); err != nil {
			t.Fatalf("node 1 never saw rate-test message %d", i)
		}
	}
	for i := range 2 {
		waitAll(t, ctx, nw, "sightings within the limit shown", func(j int) bool { _, ok := card(nodes[j], zone, alertIDs[i]); return ok })
	}
	if _, _, rej := env.tracers[1].seen(msgIDs[2]); len(rej) == 0 {
		t.Error("node 1 did not reject the sighting over the rate limit")
	}
	b, err := nodes[1].Report(ctx, api.ReportRequest{Zone: zone, What: "barrier", Where: "rate barrier"})
	if err != nil {
		t.Fatal(err)
	}
	waitAll(t, ctx, nw, "barrier shown", func(j int) bool { _, ok := card(nodes[j], zone, b.ID); return ok })
	for j := range nodes {
		if _, ok := card(nodes[j], zone, alertIDs[2]); ok {
			t.Errorf("node %d shows the sighting over the rate limit", j)
		}
		if j != 1 {
			if v, _, _ := env.tracers[j].seen(msgIDs[2]); v != 0 {
				t.Errorf("node %d received the sighting over the rate limit: forwarded", j)
			}
		}
	}
	// A member's own node refuses to go over the limit, with a clear error.
	for range 2 {
		if _, err := nodes[6].Report(ctx, api.ReportRequest{Zone: zone, What: "x", Where: "node six " + time.Now().String()}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := nodes[6].Report(ctx, api.ReportRequest{Zone: zone, What: "x", Where: "node six again"}); err == nil {
		t.Error("third report within 10 minutes accepted locally")
	}

	// Promotion: node 0 makes member 10 a verifier; its confirm then verifies.
	oldTen := loadMember(t, nw.Nodes[10]) // its member certificate, soon superseded
	if _, err := nodes[0].Promote(ctx, zone, "node10", "verifier"); err != nil {
		t.Fatal(err)
	}
	waitAll(t, ctx, nw, "node 10 holds the verifier role", func(i int) bool {
		if i != 10 {
			return true
		}
		zs := nodes[10].Zones()
		return len(zs) == 1 && zs[0].Role == "verifier"
	})
	waitAll(t, ctx, nw, "every node lists node 10 as verifier", func(i int) bool {
		ms, _ := nodes[i].Members(zone)
		for _, m := range ms {
			if m.Name == "node10" {
				return m.Role == "verifier"
			}
		}
		return false
	})
	p, err := nodes[11].Report(ctx, api.ReportRequest{Zone: zone, What: "unmarked car", Where: "Ossington"})
	if err != nil {
		t.Fatal(err)
	}
	waitAll(t, ctx, nw, "sighting everywhere", func(i int) bool { _, ok := card(nodes[i], zone, p.ID); return ok })
	if _, err := nodes[10].Confirm(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	waitAll(t, ctx, nw, "verified by the promoted verifier", func(i int) bool {
		a, ok := card(nodes[i], zone, p.ID)
		return ok && a.State == "verified"
	})

	// A message signed under the superseded member certificate gains
	// nothing over the verifier grant (it claims less power), so it is
	// accepted like any member's; a demoted certificate claiming more power
	// is refused (TestBackdatedDemotedOrganizer).
	stale := oldTen.alert(lp.KindSighting, clk.Now(), clk.Now().Add(time.Hour))
	stale.Area = "stale certificate"
	ss, err := lp.Sign(oldTen.id, oldTen.chain, stale)
	if err != nil {
		t.Fatal(err)
	}
	staleEnv := oldTen.seal(t, ss)
	if err := env.attacker(t, ctx, 1, oldTen.secret).Publish(ctx, staleEnv); err != nil {
		t.Fatal(err)
	}
	waitAll(t, ctx, nw, "a sighting under the lower, superseded certificate shown", func(i int) bool {
		_, ok := card(nodes[i], zone, ss.ID.String())
		return ok
	})

	// Removal: node 0 removes member 5; everyone else moves to epoch 1.
	ms, err := nodes[0].Members(zone)
	if err != nil {
		t.Fatal(err)
	}
	var victim string
	for _, m := range ms {
		if m.Name == "node5" {
			victim = m.ID
		}
	}
	res, err := nodes[0].Remove(ctx, zone, victim)
	if err != nil {
		t.Fatal(err)
	}
	if res.Epoch != 1 || res.Reached != meshNodes-1 || len(res.Unreached) != 0 {
		t.Errorf("Remove = %+v, want epoch 1 reaching %d members", res, meshNodes-1)
	}
	waitAll(t, ctx, nw, "everyone but the removed member at epoch 1", func(i int) bool { return zoneEpoch(nw, i, zone) == 1 }, 5)
	if got := zoneEpoch(nw, 5, zone); got != 0 {
		t.Errorf("removed member's node is at epoch %d, want 0", got)
	}
	env.tracers[5].mu.Lock()
	before := len(env.tracers[5].delivered)
	env.tracers[5].mu.Unlock()
	after, err := nodes[3].Report(ctx, api.ReportRequest{Zone: zone, What: "after removal", Where: "Lansdowne"})
	if err != nil {
		t.Fatal(err)
	}
	waitAll(t, ctx, nw, "post-removal sighting everywhere else", func(i int) bool { _, ok := card(nodes[i], zone, after.ID); return ok }, 5)
	if _, ok := card(nodes[5], zone, after.ID); ok {
		t.Error("the removed member's node shows an alert sent after the rotation")
	}
	env.tracers[5].mu.Lock()
	if got := len(env.tracers[5].delivered); got != before {
		t.Errorf("the removed member's node decrypted %d messages after the rotation", got-before)
	}
	env.tracers[5].mu.Unlock()
	if _, err := nodes[5].Report(ctx, api.ReportRequest{Zone: zone, What: "x", Where: "y"}); err == nil {
		t.Error("the removed member's node still publishes")
	}
}

// TestOfflineMemberCatchesUpOnEpoch: a member whose node is cut off while
// another member is removed gets the new epoch from the first member it
// reconnects to, and then receives alerts again.
func TestOfflineMemberCatchesUpOnEpoch(t *testing.T) { offlineThroughRotation(t, false) }

// TestOfflineMemberCatchesUpAfterGrace: the same, coming back after the
// others have left the old epoch's topic and stopped proving it first:
// the returning member still proves the old epoch, and pulls the rekey.
func TestOfflineMemberCatchesUpAfterGrace(t *testing.T) {
	old := node.SetOldTopicGrace(time.Second)
	t.Cleanup(func() { node.SetOldTopicGrace(old) })
	offlineThroughRotation(t, true)
}

func offlineThroughRotation(t *testing.T, pastGrace bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	env := startMeshWith(t, ctx, sim.Config{Nodes: 6, RedialInterval: 200 * time.Millisecond})
	nw, nodes, zone := env.nw, env.nw.Nodes, env.zone.ID
	const offline, removed = 4, 3
	waitKeysKnown(t, ctx, nw, zone)
	cut := func(link bool) {
		for j := range nodes {
			if j == offline {
				continue
			}
			a, b := nodes[offline].PeerID(), nodes[j].PeerID()
			if link {
				if _, err := nw.Mocknet.LinkPeers(a, b); err != nil {
					t.Fatal(err)
				}
				continue
			}
			nw.Mocknet.UnlinkPeers(a, b)
			nw.Mocknet.DisconnectPeers(a, b)
			nw.Mocknet.DisconnectPeers(b, a)
		}
	}
	cut(false)
	waitIsolated(t, ctx, nw, offline)
	ms, _ := nodes[0].Members(zone)
	var victim string
	for _, m := range ms {
		if m.Name == "node3" {
			victim = m.ID
		}
	}
	if _, err := nodes[0].Remove(ctx, zone, victim); err != nil {
		t.Fatal(err)
	}
	waitAll(t, ctx, nw, "online members at epoch 1", func(i int) bool { return zoneEpoch(nw, i, zone) == 1 }, offline, removed)
	if got := zoneEpoch(nw, offline, zone); got != 0 {
		t.Fatalf("offline node at epoch %d before reconnecting", got)
	}
	if pastGrace {
		waitAll(t, ctx, nw, "online members past the straggler period", func(i int) bool { return !node.Straggling(nodes[i]) }, offline, removed)
	}
	cut(true) // its redial loop reconnects; sync hands it the rekey
	waitAll(t, ctx, nw, "the returning member at epoch 1", func(i int) bool { return i != offline || zoneEpoch(nw, i, zone) == 1 })
	a, err := nodes[1].Report(ctx, api.ReportRequest{Zone: zone, What: "after return", Where: "Christie Pits"})
	if err != nil {
		t.Fatal(err)
	}
	waitAll(t, ctx, nw, "alert reaches the returning member", func(i int) bool {
		_, ok := card(nodes[i], zone, a.ID)
		return i != offline || ok
	})
}

// TestOfflineMemberCatchesUpOnAlerts: a member whose node was off while the
// zone sent sightings, confirmations and a callout with answers sees every
// still-active alert with its current state once it is back, and nothing
// that was cleared.
func TestOfflineMemberCatchesUpOnAlerts(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	env := startMeshWith(t, ctx, sim.Config{Nodes: 5, RedialInterval: 200 * time.Millisecond})
	nw, nodes, zone := env.nw, env.nw.Nodes, env.zone.ID
	const offline = 4
	if err := nw.Stop(ctx, offline); err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range 20 {
		a, err := nodes[1+i%3].Report(ctx, api.ReportRequest{Zone: zone, What: "seen", Where: "corner " + string(rune('A'+i))})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, a.ID)
	}
	waitAll(t, ctx, nw, "sightings reach the online members", func(i int) bool { _, ok := card(nodes[i], zone, want[19]); return ok }, offline)
	if _, err := nodes[2].Confirm(ctx, want[0]); err != nil { // node 2 is a verifier
		t.Fatal(err)
	}
	if _, err := nodes[1].Clear(ctx, want[19], "gone"); err != nil { // reporter 1+19%3 = node 2; organizer clears
		t.Fatal(err)
	}
	c, err := nodes[1].Callout(ctx, api.CalloutRequest{Zone: zone, Title: "Go", Where: "corner A", Need: 3})
	if err != nil {
		t.Fatal(err)
	}
	waitAll(t, ctx, nw, "callout reaches the online members", func(i int) bool { _, ok := card(nodes[i], zone, c.ID); return ok }, offline)
	if _, err := nodes[3].Respond(ctx, c.ID, "enroute"); err != nil {
		t.Fatal(err)
	}
	waitAll(t, ctx, nw, "online members agree", func(i int) bool {
		a, ok := card(nodes[i], zone, c.ID)
		return ok && a.Responders.EnRoute == 1
	}, offline)
	start := time.Now()
	if err := nw.Resume(ctx, offline); err != nil { // it redials the members it remembers
		t.Fatal(err)
	}
	err = sim.WaitFor(ctx, func() bool {
		got, _ := nodes[offline].Alerts(zone)
		ref, _ := nodes[0].Alerts(zone)
		return len(got) == 20 && sameCards(got, ref) // 19 sightings + the callout
	})
	if err != nil {
		got, _ := nodes[offline].Alerts(zone)
		t.Fatalf("returning member has %d alerts: %v", len(got), err)
	}
	t.Logf("caught up on 20 active alerts %v after reconnecting", time.Since(start))
	v, _ := card(nodes[offline], zone, want[0])
	if v.State != "verified" {
		t.Errorf("caught-up sighting is %s, want verified", v.State)
	}
	if _, ok := card(nodes[offline], zone, want[19]); ok {
		t.Error("caught-up node shows a cleared sighting")
	}
}

// waitKeysKnown waits until every node knows every member's KEM key, so a
// removal can reach them all.
func waitKeysKnown(t *testing.T, ctx context.Context, nw *sim.Network, zone string) {
	t.Helper()
	waitAll(t, ctx, nw, "every node knows every member's key", func(i int) bool {
		ms, _ := nw.Nodes[i].Members(zone)
		ok := 0
		for _, m := range ms {
			if m.CanRekey {
				ok++
			}
		}
		return ok == len(nw.Nodes)
	})
}

// waitIsolated waits until node i, whose links are gone, has no
// connection left in either direction: a dial under way when the links
// went may still connect, and is closed here. (Gossipsub may list a
// vanished peer on a topic for a while; with no connection nothing flows.)
func waitIsolated(t *testing.T, ctx context.Context, nw *sim.Network, i int) {
	t.Helper()
	me := nw.Nodes[i].PeerID()
	err := sim.WaitFor(ctx, func() bool {
		done := true
		for j, n := range nw.Nodes {
			if j == i {
				continue
			}
			if len(nw.Mocknet.Net(n.PeerID()).ConnsToPeer(me)) > 0 || len(nw.Mocknet.Net(me).ConnsToPeer(n.PeerID())) > 0 {
				nw.Mocknet.DisconnectPeers(n.PeerID(), me)
				nw.Mocknet.DisconnectPeers(me, n.PeerID())
				done = false
			}
		}
		return done
	})
	if err != nil {
		t.Fatalf("node %d still connected: %v", i, err)
	}
}
