package node_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"

	"lookout/node"
	"lookout/node/api"
	"lookout/node/sim"
)

// syncBuf is a log destination safe for concurrent writes.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startNetLogged is startNetClocks with each node's log in logs[i].
func startNetLogged(t *testing.T, ctx context.Context, logs []*syncBuf, clocks ...*fakeClock) *sim.Network {
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
		n := &node.Node{Home: home, Secret: sim.Secret, StoreOptions: sim.StoreOptions, Host: h, Now: c.Now,
			Logger: slog.New(slog.NewTextHandler(logs[i], nil))}
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

// TestHealthClockSkew: node 2's clock is 5 minutes fast. Its status and
// log say its clock is ahead; the others refuse its reports as sent in
// the future and say their clock is behind its.
func TestHealthClockSkew(t *testing.T) {
	ctx := testContext(t)
	good, fast := newClock(), newClock()
	fast.Advance(5 * time.Minute)
	logs := []*syncBuf{{}, {}, {}}
	nw := startNetLogged(t, ctx, logs, good, good, fast)
	z := formZone(t, ctx, nw, "north", map[int]string{1: "member", 2: "member"})

	for _, i := range []int{0, 1} {
		if _, err := nw.Nodes[i].Report(ctx, api.ReportRequest{Zone: z.ID, What: "two vans", Where: "main st"}); err != nil {
			t.Fatal(err)
		}
	}
	// One sender's message alone makes a "stray" warning; wait for both.
	if err := sim.WaitFor(ctx, func() bool { return nw.Nodes[2].Status().Health.ClockSenders >= 2 }); err != nil {
		t.Fatalf("fast node never warned: %+v", nw.Nodes[2].Status().Health)
	}
	h := nw.Nodes[2].Status().Health
	if h.ClockOffsetMS < (5*time.Minute).Milliseconds() || h.ClockOffsetMS > (5*time.Minute+10*time.Second).Milliseconds() || !strings.Contains(h.ClockWarning, "5 minutes ahead") {
		t.Errorf("fast node health = %+v, want about 5 minutes ahead", h)
	}
	if !strings.Contains(logs[2].String(), "CLOCK IS OFF") {
		t.Errorf("fast node's log has no clock warning:\n%s", logs[2])
	}

	if _, err := nw.Nodes[2].Report(ctx, api.ReportRequest{Zone: z.ID, What: "one car", Where: "5th av"}); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 1} {
		if err := sim.WaitFor(ctx, func() bool { return nw.Nodes[i].Status().Health.Rejected["future"] > 0 }); err != nil {
			t.Fatalf("node %d did not refuse the fast node's report: %+v", i, nw.Nodes[i].Status().Health)
		}
		// One right clock and one fast: this node's clock is not called
		// off, the fast member's is.
		h := nw.Nodes[i].Status().Health
		if h.ClockStrays != 1 || !strings.Contains(h.ClockWarning, "1 member's clock differs") || h.ClockOffsetMS < -(10*time.Second).Milliseconds() {
			t.Errorf("node %d health = %+v, want one stray member clock", i, h)
		}
		// The warning is logged just after the counters change.
		if err := sim.WaitFor(ctx, func() bool { return strings.Contains(logs[i].String(), "MEMBERS' CLOCKS ARE OFF") }); err != nil {
			t.Errorf("node %d's log has no warning about a member's clock", i)
		}
	}
	// Nothing in the health report names a member or a zone.
	for i, n := range nw.Nodes {
		h := fmt.Sprintf("%+v", *n.Status().Health)
		for _, secret := range []string{"north", z.ID, "node0", "node1", "node2", n.MemberID().String(), "vans", "main st"} {
			if strings.Contains(h, secret) {
				t.Errorf("node %d health mentions %q: %s", i, secret, h)
			}
		}
	}
}

// TestHealthNoPeers: a lone node knows nothing of the clock and says so,
// and its store reads fine.
func TestHealthNoPeers(t *testing.T) {
	ctx := testContext(t)
	nw := startNet(t, ctx, 1, newClock())
	h := nw.Nodes[0].Status().Health
	if h == nil {
		t.Fatal("status has no health")
	}
	if h.ClockSenders != 0 || h.ClockWarning != "" || h.PeersDirect+h.PeersRelayed != 0 || h.Reachable != "unknown" ||
		h.StoreBytes <= 0 || h.StoreError != "" || h.Protocol == 0 || h.SyncProtocol == 0 || len(h.OlderPeers) != 0 {
		t.Fatalf("lone node health = %+v", h)
	}
}

// TestHealthPeerVersions: peers speaking an older or newer catch-up
// protocol are listed as such; direct connections are counted.
func TestHealthPeerVersions(t *testing.T) {
	ctx := testContext(t)
	nw := startNet(t, ctx, 1, newClock())
	n := nw.Nodes[0]
	old, err := nw.Mocknet.GenPeer()
	if err != nil {
		t.Fatal(err)
	}
	newer, err := nw.Mocknet.GenPeer()
	if err != nil {
		t.Fatal(err)
	}
	old.SetStreamHandler("/lookout/sync/2", func(s network.Stream) { s.Reset() })
	newer.SetStreamHandler("/sync/5.0.0", func(s network.Stream) { s.Reset() })
	if err := nw.Mocknet.LinkAll(); err != nil {
		t.Fatal(err)
	}
	for _, h := range []interface {
		Connect(context.Context, peer.AddrInfo) error
	}{old, newer} {
		if err := h.Connect(ctx, peer.AddrInfo{ID: n.PeerID(), Addrs: nw.Mocknet.Host(n.PeerID()).Addrs()}); err != nil {
			t.Fatal(err)
		}
	}
	has := func(ps []api.PeerVersion, id peer.ID, v int) bool {
		return slices.Contains(ps, api.PeerVersion{Peer: id.String(), SyncProtocol: v})
	}
	if err := sim.WaitFor(ctx, func() bool {
		h := n.Status().Health
		return has(h.OlderPeers, old.ID(), 2) && has(h.NewerPeers, newer.ID(), 5)
	}); err != nil {
		t.Fatalf("peer versions not seen: %+v", n.Status().Health)
	}
	if h := n.Status().Health; h.PeersDirect != 2 || h.PeersRelayed != 0 {
		t.Errorf("health = %+v, want 2 direct peers", h)
	}
}
