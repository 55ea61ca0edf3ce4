package node_test

import (
	"context"
	"math/rand/v2"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"

	"lookout/node"
	"lookout/node/api"
	"lookout/node/sim"
)

// recorder keeps every envelope a node receives by gossip, in order.
type recorder struct {
	*tracer
	mu   sync.Mutex
	envs [][]byte
}

func (r *recorder) DeliverMessage(m *pubsub.Message) {
	r.tracer.DeliverMessage(m)
	r.mu.Lock()
	r.envs = append(r.envs, append([]byte(nil), m.Data...))
	r.mu.Unlock()
}

// TestOrderIndependence records a zone's traffic (sightings of one place
// that group into an incident, confirms from members and a verifier, a
// retraction, a callout with answers changed, an update and an all clear),
// then feeds it to independent nodes in shuffled orders, with duplicates,
// and with some messages held back and delivered last. Every node must end
// with the same cards as the node that watched it live.
func TestOrderIndependence(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const actors, replayers = 7, 4 // node 7 records; nodes 8.. replay
	rec := &recorder{tracer: newTracer()}
	nw, err := sim.Start(ctx, sim.Config{Nodes: actors + 1 + replayers, Dir: t.TempDir(), PubsubOptions: func(i int) []pubsub.Option {
		if i == actors {
			return []pubsub.Option{pubsub.WithRawTracer(rec)}
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer nw.Close()
	z, err := nw.FormZone(ctx, "order", map[int]string{1: "organizer", 2: "verifier"})
	if err != nil {
		t.Fatal(err)
	}
	// Cut the replayers off before any alert is sent.
	for r := actors + 1; r < len(nw.Nodes); r++ {
		for j := range nw.Nodes {
			if j != r {
				nw.Mocknet.UnlinkPeers(nw.Nodes[r].PeerID(), nw.Nodes[j].PeerID())
				nw.Mocknet.DisconnectPeers(nw.Nodes[r].PeerID(), nw.Nodes[j].PeerID())
			}
		}
	}
	live := nw.Nodes[:actors+1]
	if err := sim.WaitFor(ctx, func() bool {
		for _, n := range live {
			if zs := n.Zones(); len(zs[0].Peers) < 2 {
				return false
			}
		}
		return true
	}); err != nil {
		t.Fatal(err)
	}

	do := func(f func() (api.Alert, error)) api.Alert {
		t.Helper()
		a, err := f()
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	n := nw.Nodes
	arrived := func(ids ...string) {
		t.Helper()
		err := sim.WaitFor(ctx, func() bool {
			for _, nd := range live {
				as, _ := nd.Alerts(z.ID)
				for _, id := range ids {
					found := false
					for _, a := range as {
						if a.ID == id || contains(a.Sightings, id) {
							found = true
						}
					}
					if !found {
						return false
					}
				}
			}
			return true
		})
		if err != nil {
			t.Fatalf("alerts %v did not reach every live node: %v", ids, err)
		}
	}
	s1 := do(func() (api.Alert, error) {
		return n[3].Report(ctx, api.ReportRequest{Zone: z.ID, What: "2 vans", Where: "Jane & Finch"})
	})
	s2 := do(func() (api.Alert, error) {
		return n[4].Report(ctx, api.ReportRequest{Zone: z.ID, What: "officers at door", Where: "jane/finch"})
	})
	s3 := do(func() (api.Alert, error) {
		return n[5].Report(ctx, api.ReportRequest{Zone: z.ID, What: "car", Where: "Weston Rd"})
	})
	arrived(s1.ID, s2.ID, s3.ID)
	do(func() (api.Alert, error) { return n[6].Confirm(ctx, s1.ID) })
	do(func() (api.Alert, error) { return n[6].Confirm(ctx, s1.ID) }) // repeat: counts once
	do(func() (api.Alert, error) { return n[2].Confirm(ctx, s2.ID) }) // verifier
	do(func() (api.Alert, error) { return n[5].Clear(ctx, s3.ID, "my mistake") })
	c := do(func() (api.Alert, error) {
		return n[1].Callout(ctx, api.CalloutRequest{Zone: z.ID, Title: "Witness", Where: "Jane & Finch", Need: 4})
	})
	arrived(c.ID)
	do(func() (api.Alert, error) { return n[3].Respond(ctx, c.ID, "enroute") })
	do(func() (api.Alert, error) { return n[4].Respond(ctx, c.ID, "cannot") })
	do(func() (api.Alert, error) { return n[4].Respond(ctx, c.ID, "enroute") })
	do(func() (api.Alert, error) { return n[6].Respond(ctx, c.ID, "onscene") })
	do(func() (api.Alert, error) {
		return n[0].UpdateCallout(ctx, api.CalloutUpdateRequest{Alert: c.ID, Where: "Jane & Finch, north side", Need: 6})
	})
	c2 := do(func() (api.Alert, error) {
		return n[0].Callout(ctx, api.CalloutRequest{Zone: z.ID, Title: "Court support", Where: "Courthouse", Need: 2})
	})
	arrived(c2.ID)
	do(func() (api.Alert, error) { return n[1].Clear(ctx, c2.ID, "done") })

	// The recorder (which sent nothing itself) must have seen everything:
	// the incident of two reports (four witnesses: two reporters, a member
	// who confirmed twice, a verifier) and the updated callout; the
	// retracted sighting and the ended callout are gone.
	final := func(as []api.Alert) bool {
		if len(as) != 2 {
			return false
		}
		for _, a := range as {
			switch {
			case a.Kind == "sighting" && (*a.Confirmations != 4 || a.State != "verified" || len(a.Sightings) != 2):
				return false
			case a.Kind == "callout" && (*a.Responders != api.Responders{EnRoute: 2, OnScene: 1} || a.Need != 6 || a.Where != "Jane & Finch, north side"):
				return false
			}
		}
		return true
	}
	if err := sim.WaitFor(ctx, func() bool { as, _ := n[actors].Alerts(z.ID); return final(as) }); err != nil {
		as, _ := n[actors].Alerts(z.ID)
		t.Fatalf("recorder never reached the final state: %+v: %v", as, err)
	}
	want, _ := n[actors].Alerts(z.ID)
	rec.mu.Lock()
	envs := rec.envs
	rec.mu.Unlock()

	rng := rand.New(rand.NewPCG(1, 2))
	for k, r := range n[actors+1:] {
		order := make([][]byte, len(envs))
		copy(order, envs)
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		held := order[:k]                       // replayer k gets k messages only at the end
		order = append(order[k:], order[:2]...) // and two duplicates
		for _, e := range order {
			if err := node.Deliver(r, e); err != nil {
				t.Fatalf("replayer %d: %v", k, err)
			}
		}
		for _, e := range held {
			if err := node.Deliver(r, e); err != nil {
				t.Fatalf("replayer %d: %v", k, err)
			}
		}
		got, _ := r.Alerts(z.ID)
		if !sameCards(got, want) {
			t.Errorf("replayer %d disagrees:\n got %+v\nwant %+v", k, got, want)
		}
	}
	if !final(want) {
		t.Errorf("final state changed: %+v", want)
	}
}

// sameCards compares card lists ignoring order and the list order of
// fields that are sets.
func sameCards(a, b []api.Alert) bool {
	norm := func(xs []api.Alert) []api.Alert {
		out := append([]api.Alert(nil), xs...)
		for i := range out {
			out[i].Sightings = sorted(out[i].Sightings)
			out[i].VerifiedBy = sorted(out[i].VerifiedBy)
			out[i].Cosigners = sorted(out[i].Cosigners)
		}
		sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
		return out
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

func sorted(s []string) []string {
	s = append([]string(nil), s...)
	sort.Strings(s)
	return s
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
