package node_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"lookout/crypto"
	"lookout/node"
	"lookout/node/api"
	"lookout/node/sim"
)

// splitNet cuts (link false) or joins again (link true) every pair of
// nodes across the two halves, waiting until a cut leaves no connection.
func splitNet(t *testing.T, ctx context.Context, nw *sim.Network, a, b []int, link bool) {
	t.Helper()
	for _, i := range a {
		for _, j := range b {
			p, q := nw.Nodes[i].PeerID(), nw.Nodes[j].PeerID()
			if link {
				if _, err := nw.Mocknet.LinkPeers(p, q); err != nil {
					t.Fatal(err)
				}
				continue
			}
			nw.Mocknet.UnlinkPeers(p, q)
			nw.Mocknet.DisconnectPeers(p, q)
			nw.Mocknet.DisconnectPeers(q, p)
		}
	}
	if link {
		return
	}
	err := sim.WaitFor(ctx, func() bool {
		done := true
		for _, i := range a {
			for _, j := range b {
				p, q := nw.Nodes[i].PeerID(), nw.Nodes[j].PeerID()
				if len(nw.Mocknet.Net(p).ConnsToPeer(q)) > 0 || len(nw.Mocknet.Net(q).ConnsToPeer(p)) > 0 {
					nw.Mocknet.DisconnectPeers(p, q)
					nw.Mocknet.DisconnectPeers(q, p)
					done = false
				}
			}
		}
		return done
	})
	if err != nil {
		t.Fatalf("halves still connected: %v", err)
	}
}

func zoneKey(t *testing.T, n *node.Node, zone string) (uint32, crypto.ZoneSecret) {
	t.Helper()
	e, s, err := node.ZoneKey(n, zone)
	if err != nil {
		t.Fatal(err)
	}
	return e, s
}

// deliverShuffled delivers envs to n in the order of seed, in passes (an
// envelope of an epoch n does not hold yet waits for a later pass), and
// calls half once about half of them were tried.
func deliverShuffled(t *testing.T, n func() *node.Node, envs [][]byte, seed uint64, half func()) {
	t.Helper()
	envs = slices.Clone(envs)
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	rng.Shuffle(len(envs), func(i, j int) { envs[i], envs[j] = envs[j], envs[i] })
	tried := 0
	for len(envs) > 0 {
		var rest [][]byte
		for _, env := range envs {
			if err := node.Deliver(n(), env); err != nil {
				rest = append(rest, env)
			}
			if tried++; tried == len(envs)/2 && half != nil {
				half()
				half = nil
			}
		}
		if len(rest) == len(envs) {
			return // what is left opens for no epoch this node holds
		}
		envs = rest
	}
}

// TestForkedEpochsConverge (issue 12, finding 5): six members split in two
// halves, each with an organizer; each organizer removes a member of its
// half, so the zone forks into two epochs 1. After the halves meet again
// every remaining member ends on one epoch with one secret, which neither
// removed member holds or can open from any rekey; an alert sent after
// that reaches every remaining member and neither removed one; alerts
// sent on each side during the split reach the other side. Two members
// offline throughout then get the governance in shuffled orders (one
// restarting half-way) and end on the same epoch and secret.
func TestForkedEpochsConverge(t *testing.T) {
	ctx := testContext(t)
	nw, err := sim.Start(ctx, sim.Config{Nodes: 8, Dir: t.TempDir(), RedialInterval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeNet(t, nw) })
	zr, err := nw.FormZone(ctx, "split", map[int]string{3: "organizer"})
	if err != nil {
		t.Fatal(err)
	}
	zone, nodes := zr.ID, nw.Nodes
	waitKeysKnown(t, ctx, nw, zone)
	const goneA, goneB = 2, 5 // removed on each side
	offline := []int{6, 7}
	for _, i := range offline {
		if err := nw.Stop(ctx, i); err != nil {
			t.Fatal(err)
		}
	}
	sideA, sideB := []int{0, 1, 2}, []int{3, 4, 5}
	splitNet(t, ctx, nw, sideA, sideB, false)
	for _, side := range [][]int{sideA, sideB} { // each half meshed on its own
		for _, i := range side {
			for _, j := range side {
				if p, q := nodes[i].PeerID(), nodes[j].PeerID(); i < j && len(nw.Mocknet.Net(p).ConnsToPeer(q)) == 0 {
					if _, err := nw.Mocknet.ConnectPeers(p, q); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		if err := nw.WaitZoneMesh(ctx, zone, side, 2); err != nil {
			t.Fatalf("half %v not meshed: %v", side, err)
		}
	}

	if _, err := nodes[0].Remove(ctx, zone, nodes[goneA].MemberID().String()); err != nil {
		t.Fatal(err)
	}
	if _, err := nodes[3].Remove(ctx, zone, nodes[goneB].MemberID().String()); err != nil {
		t.Fatal(err)
	}
	remaining := []int{0, 1, 3, 4}
	skip := []int{goneA, goneB, 6, 7}
	waitAll(t, ctx, nw, "each half at epoch 1", func(i int) bool { return zoneEpoch(nw, i, zone) == 1 }, skip...)
	_, sa := zoneKey(t, nodes[0], zone)
	_, sb := zoneKey(t, nodes[3], zone)
	if sa == sb {
		t.Fatal("the two halves drew the same secret")
	}
	inA, err := nodes[1].Report(ctx, api.ReportRequest{Zone: zone, What: "van on side A", Where: "Oak & Main"})
	if err != nil {
		t.Fatal(err)
	}
	inB, err := nodes[4].Report(ctx, api.ReportRequest{Zone: zone, What: "van on side B", Where: "Elm & 3rd"})
	if err != nil {
		t.Fatal(err)
	}
	waitAll(t, ctx, nw, "each side's alert on its side", func(i int) bool {
		id := inA.ID
		if slices.Contains(sideB, i) {
			id = inB.ID
		}
		_, ok := card(nodes[i], zone, id)
		return ok
	}, skip...)

	splitNet(t, ctx, nw, sideA, sideB, true)
	var final crypto.ZoneSecret
	var finalEpoch uint32
	err = sim.WaitFor(ctx, func() bool {
		e0, s0 := zoneKey(t, nodes[0], zone)
		for _, i := range remaining {
			if e, s := zoneKey(t, nodes[i], zone); e != e0 || s != s0 || e < 2 {
				return false
			}
		}
		final, finalEpoch = s0, e0
		return true
	})
	if err != nil {
		for _, i := range remaining {
			e, _ := zoneKey(t, nodes[i], zone)
			a, _ := node.RekeySets(nodes[i], zone, nodes[0].MemberID())
			b, _ := node.RekeySets(nodes[i], zone, nodes[3].MemberID())
			t.Logf("node %d at epoch %d, rekey sets of 0: %d, of 3: %d, conns to 0: %d, to 3: %d", i, e, a, b,
				len(nw.Mocknet.Net(nodes[i].PeerID()).ConnsToPeer(nodes[0].PeerID())), len(nw.Mocknet.Net(nodes[i].PeerID()).ConnsToPeer(nodes[3].PeerID())))
		}
		t.Fatalf("remaining members did not converge: %v", err)
	}
	// One merge, or two when the merger's roster lacked the other side's
	// removal (it arrived by another peer's catch-up): that removal's
	// organizer merges once more.
	if finalEpoch != 2 && finalEpoch != 3 {
		t.Errorf("converged at epoch %d, want 2 or 3", finalEpoch)
	}
	for _, r := range []int{goneA, goneB} {
		for _, i := range remaining {
			got, err := node.Reachable(nodes[r], nodes[i], zone)
			if err != nil {
				t.Fatal(err)
			}
			if slices.Contains(got, final) {
				t.Fatalf("removed member %d can open the merged epoch from node %d's rekeys", r, i)
			}
		}
	}
	waitAll(t, ctx, nw, "the split's alerts on both sides", func(i int) bool {
		_, a := card(nodes[i], zone, inA.ID)
		_, b := card(nodes[i], zone, inB.ID)
		return a && b
	}, skip...)
	after, err := nodes[0].Report(ctx, api.ReportRequest{Zone: zone, What: "after the heal", Where: "Christie Pits"})
	if err != nil {
		t.Fatal(err)
	}
	waitAll(t, ctx, nw, "the alert after the heal", func(i int) bool { _, ok := card(nodes[i], zone, after.ID); return ok }, skip...)
	for _, r := range []int{goneA, goneB} {
		if _, ok := card(nodes[r], zone, after.ID); ok {
			t.Errorf("removed member %d shows the alert sent after the heal", r)
		}
		e, s := zoneKey(t, nodes[r], zone)
		if e == finalEpoch || s == final {
			t.Errorf("removed member %d is at the merged epoch", r)
		}
	}
	for _, i := range remaining {
		ms, _ := nodes[i].Members(zone)
		for _, m := range ms {
			if (m.ID == nodes[goneA].MemberID().String() || m.ID == nodes[goneB].MemberID().String()) && !m.Removed {
				t.Errorf("node %d does not list %s as removed", i, m.Name)
			}
		}
	}

	// Offline throughout: the governance of node 0 and node 3, shuffled.
	envs, err := node.GovEnvelopes(nodes[0], zone)
	if err != nil {
		t.Fatal(err)
	}
	more, err := node.GovEnvelopes(nodes[3], zone)
	if err != nil {
		t.Fatal(err)
	}
	envs = append(envs, more...)
	splitNet(t, ctx, nw, []int{0, 1, 2, 3, 4, 5}, offline, false)
	for k, i := range offline {
		if err := nw.ResumeLinked(ctx, i, []int{}); err != nil {
			t.Fatal(err)
		}
		half := func() {}
		if k == 1 {
			half = func() {
				if err := nw.Restart(ctx, i); err != nil {
					t.Fatal(err)
				}
				splitNet(t, ctx, nw, []int{0, 1, 2, 3, 4, 5, offline[0]}, []int{i}, false)
			}
		}
		deliverShuffled(t, func() *node.Node { return nw.Nodes[i] }, envs, uint64(k+1), half)
		if e, s := zoneKey(t, nw.Nodes[i], zone); e != finalEpoch || s != final {
			t.Errorf("offline member %d ends at epoch %d with another secret (want %d)", i, e, finalEpoch)
		}
	}
}

// TestForkStormGuard: a hostile organizer who forks the zone on purpose
// again and again (competing rekeys to the current epoch) gets at most one
// merge per mergeFallback from an honest organizer, however many forks it
// sends; members follow the merges and never the attacker's forks alone.
func TestForkStormGuard(t *testing.T) {
	ctx := testContext(t)
	old := node.SetMergeFallback(time.Hour)
	t.Cleanup(func() { node.SetMergeFallback(old) })
	c := newClock()
	nw, err := sim.Start(ctx, sim.Config{Nodes: 4, Dir: t.TempDir(), Now: c.Now, Logger: debugLog(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeNet(t, nw) })
	zr, err := nw.FormZone(ctx, "storm", map[int]string{1: "organizer"})
	if err != nil {
		t.Fatal(err)
	}
	zone, nodes := zr.ID, nw.Nodes
	waitKeysKnown(t, ctx, nw, zone)
	if _, err := nodes[0].Remove(ctx, zone, nodes[3].MemberID().String()); err != nil {
		t.Fatal(err)
	}
	waitAll(t, ctx, nw, "epoch 1", func(i int) bool { return zoneEpoch(nw, i, zone) == 1 }, 3)
	// A competing rekey to a member's own epoch travels by gossip only
	// (catch-up offers rekeys to later epochs): fork once the new epoch's
	// topic has its members.
	if err := nw.WaitZoneMesh(ctx, zone, []int{0, 1, 2}, 2); err != nil {
		t.Fatalf("no mesh at epoch 1: %v", err)
	}
	honest, hostile := nodes[0], nodes[1]
	node.NoMerge(hostile)
	merges := func() int {
		n, err := node.RekeySets(honest, zone, honest.MemberID())
		if err != nil {
			t.Fatal(err)
		}
		return n - 1 // the removal's rekey
	}
	if err := node.ForkRekey(ctx, hostile, zone); err != nil {
		t.Fatal(err)
	}
	if err := sim.WaitFor(ctx, func() bool { n, _ := node.RekeySets(honest, zone, hostile.MemberID()); return n >= 1 }); err != nil {
		t.Fatal("the first fork never reached the honest organizer")
	}
	// The first fork is merged, at once or after the fallback.
	err = sim.WaitFor(ctx, func() bool {
		if merges() == 0 {
			c.Advance(time.Minute) // the fallback, if the attacker won the fork
			node.CheckForks(honest)
			return false
		}
		return true
	})
	if err != nil {
		t.Fatal("the first fork was never merged")
	}
	waitAll(t, ctx, nw, "members at the merged epoch 2", func(i int) bool { return zoneEpoch(nw, i, zone) == 2 }, 3)
	for range 5 {
		if err := node.ForkRekey(ctx, hostile, zone); err != nil {
			t.Fatal(err)
		}
	}
	// Every honest node holds the forks; the honest organizer is guarded.
	err = sim.WaitFor(ctx, func() bool {
		n, _ := node.RekeySets(honest, zone, hostile.MemberID())
		return n >= 2
	})
	if err != nil {
		t.Fatal("the second fork never reached the honest organizer")
	}
	for range 20 { // redial ticks of the honest node
		node.CheckForks(honest)
	}
	if got := merges(); got != 1 {
		t.Fatalf("%d merges within one guard period, want 1", got)
	}
	if e, _ := zoneKey(t, honest, zone); e != 2 {
		t.Fatalf("honest organizer moved to epoch %d within the guard period", e)
	}
	c.Advance(time.Hour + time.Minute)
	if err := sim.WaitFor(ctx, func() bool { node.CheckForks(honest); return merges() == 2 }); err != nil {
		t.Fatal("no merge after the guard period")
	}
	waitAll(t, ctx, nw, "members at epoch 3", func(i int) bool { return zoneEpoch(nw, i, zone) == 3 }, 3)
	if got := merges(); got != 2 {
		t.Fatalf("%d merges after two guard periods, want 2", got)
	}
	_, s0 := zoneKey(t, nodes[0], zone)
	for _, i := range []int{1, 2} {
		if _, s := zoneKey(t, nodes[i], zone); s != s0 {
			t.Errorf("node %d on another secret of epoch 3", i)
		}
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatal("out of time")
	}
}
