package node_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"

	"lookout/node"
	"lookout/node/api"
	"lookout/node/health"
	"lookout/node/sim"
)

// observerCounts is a node.Observer that counts what it is told.
type observerCounts struct {
	mu                            sync.Mutex
	accepted, duplicates, refused int
	answers, served               int
}

func (r *observerCounts) Validated(err error, _ time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case err == nil:
		r.accepted++
	case errors.Is(err, health.ErrDuplicate):
		r.duplicates++
	default:
		r.refused++
	}
}

func (r *observerCounts) CatchUpServed(messages int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answers++
	r.served += messages
}

func (r *observerCounts) counts() (accepted, answers, served int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.accepted, r.answers, r.served
}

// startNetObserved is startNet with obs[i], if not nil, as node i's Observer.
func startNetObserved(t *testing.T, ctx context.Context, clock *fakeClock, obs ...node.Observer) *sim.Network {
	t.Helper()
	dir := t.TempDir()
	nw := &sim.Network{Mocknet: mocknet.New()}
	t.Cleanup(func() { closeNet(t, nw) })
	for i, o := range obs {
		home := filepath.Join(dir, fmt.Sprintf("n%d", i))
		if _, err := node.Init(home, node.InitOptions{Name: fmt.Sprintf("node%d", i), Secret: sim.Secret, Store: sim.StoreOptions}); err != nil {
			t.Fatal(err)
		}
		h, err := nw.Mocknet.GenPeer()
		if err != nil {
			t.Fatal(err)
		}
		n := &node.Node{Home: home, Secret: sim.Secret, StoreOptions: sim.StoreOptions, Host: h, Now: clock.Now, Observer: o}
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

// TestObserverSeesValidationAndCatchUp: the node tells its Observer (the
// metrics) about each message it accepts, and about the catch-up answers
// it serves to a member who was away, with the messages in them.
func TestObserverSeesValidationAndCatchUp(t *testing.T) {
	ctx := testContext(t)
	clock := newClock()
	rec := &observerCounts{}
	nw := startNetObserved(t, ctx, clock, rec, nil, nil)
	z := formZone(t, ctx, nw, "north", nil)
	const away = 2
	if err := nw.Stop(ctx, away); err != nil {
		t.Fatal(err)
	}
	acceptedBefore, _, _ := rec.counts()
	a, err := nw.Nodes[1].Report(ctx, api.ReportRequest{Zone: z.ID, What: "two vans", Where: "main st"})
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.WaitFor(ctx, func() bool { acc, _, _ := rec.counts(); return acc > acceptedBefore }); err != nil {
		t.Fatalf("observer never told of the accepted report: %v", err)
	}
	// Node 2 comes back linked to node 0 only: node 0 serves it the report.
	_, answersBefore, servedBefore := rec.counts()
	if err := nw.ResumeLinked(ctx, away, []int{0}); err != nil {
		t.Fatal(err)
	}
	if err := sim.WaitFor(ctx, func() bool {
		as, _ := nw.Nodes[away].Alerts(z.ID)
		for _, x := range as {
			if x.ID == a.ID {
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatalf("the member back online never caught up the report: %v", err)
	}
	if err := sim.WaitFor(ctx, func() bool {
		_, answers, served := rec.counts()
		return answers > answersBefore && served > servedBefore
	}); err != nil {
		_, answers, served := rec.counts()
		t.Fatalf("observer told of %d catch-up answers with %d messages, want more than %d and %d", answers, served, answersBefore, servedBefore)
	}
}
