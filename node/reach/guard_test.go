package reach

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/client"
	relay "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/relay"
	"github.com/libp2p/go-libp2p/p2p/protocol/ping"
	"go.uber.org/goleak"
)

// countingMembers is a fixed member set that counts the relay's questions
// about each peer.
type countingMembers struct {
	members memberSet
	mu      sync.Mutex
	asked   map[peer.ID]int
}

func (c *countingMembers) Member(p peer.ID) bool {
	c.mu.Lock()
	c.asked[p]++
	c.mu.Unlock()
	return c.members[p]
}

func (c *countingMembers) count(p peer.ID) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.asked[p]
}

// TestRelayFloodCutOff: a stranger floods a member's relay with
// reservation requests. After FloodAttempts refusals the resource manager
// gives it nothing: its connection is closed, its further requests never
// reach the relay, and it cannot open streams again; a member still
// reserves and is answered meanwhile; the cut-off ends after CutOffFor.
func TestRelayFloodCutOff(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t, goleak.IgnoreCurrent()) })
	var clock atomic.Int64
	clock.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	g := NewGuard()
	g.Now = func() time.Time { return time.Unix(0, clock.Load()) }
	rm, err := g.ResourceManager(DefaultSlots)
	if err != nil {
		t.Fatal(err)
	}
	rh, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableRelay(), libp2p.ResourceManager(rm))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rh.Close() })
	g.SetCut(func(p peer.ID) { rh.Network().ClosePeer(p) })
	member, stranger := newHost(t), newHost(t)
	members := &countingMembers{members: memberSet{member.ID(): true}, asked: map[peer.ID]int{}}
	r, err := relay.New(rh, RelayOptions(members, g)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	info := peer.AddrInfo{ID: rh.ID(), Addrs: rh.Addrs()}
	for _, h := range []host.Host{member, stranger} {
		if err := h.Connect(ctx, info); err != nil {
			t.Fatal(err)
		}
	}

	const flood = 200
	granted := 0
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i := 0; i < flood; i++ {
		// Some at once, most one after another.
		if i < 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := client.Reserve(ctx, stranger, info); err == nil {
					mu.Lock()
					granted++
					mu.Unlock()
				}
			}()
			continue
		}
		wg.Wait()
		if _, err := client.Reserve(ctx, stranger, info); err == nil {
			granted++
		}
	}
	if granted != 0 {
		t.Fatalf("stranger got %d reservations", granted)
	}
	if !g.Blocked(stranger.ID()) {
		t.Fatal("the flooding stranger is not cut off")
	}
	// Requests that reached the relay's ACL: the ones before the cut-off,
	// and those of the first burst already under way.
	if n := members.count(stranger.ID()); n > FloodAttempts+16 {
		t.Errorf("%d of %d requests reached the relay, want at most %d", n, flood, FloodAttempts+16)
	}
	waitFor(t, ctx, "the relay to close the stranger's connection", func() bool {
		return len(rh.Network().ConnsToPeer(stranger.ID())) == 0
	})
	// Cut off: a new connection gets no stream through.
	stranger.Network().ClosePeer(rh.ID())
	_ = stranger.Connect(ctx, info)
	if res := <-ping.Ping(ctx, stranger, rh.ID()); res.Error == nil {
		t.Error("the cut-off stranger was answered a ping")
	}

	// The node stays responsive to members.
	if _, err := client.Reserve(ctx, member, info); err != nil {
		t.Fatalf("member reservation during the cut-off: %v", err)
	}
	if res := <-ping.Ping(ctx, member, rh.ID()); res.Error != nil {
		t.Errorf("member ping: %v", res.Error)
	}

	// The cut-off ends.
	clock.Add(int64(CutOffFor))
	if g.Blocked(stranger.ID()) {
		t.Error("still cut off after CutOffFor")
	}
}

// TestGuardCounts: refusals count per peer within FloodWindow only.
func TestGuardCounts(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	g := NewGuard()
	g.Now = func() time.Time { return now }
	cut := make(chan peer.ID, 1)
	g.SetCut(func(p peer.ID) { cut <- p })
	for range FloodAttempts {
		g.Refused("slow")
	}
	now = now.Add(FloodWindow)
	g.Refused("slow") // the first ones left the window
	if g.Blocked("slow") {
		t.Error("a peer refused FloodAttempts times per window is cut off")
	}
	for range FloodAttempts + 1 {
		g.Refused("fast")
	}
	if !g.Blocked("fast") || g.Blocked("other") {
		t.Error("cut off the wrong peers")
	}
	if p := <-cut; p != "fast" {
		t.Errorf("closed %s, want fast", p)
	}
	var nilGuard *Guard
	nilGuard.Refused("x") // a relay without a guard counts nothing
	if nilGuard.Blocked("x") {
		t.Error("nil guard blocks")
	}
}

// TestLimitsSlots: the resource manager's inbound limits are the slots'
// sums on every machine, with room for this node's own dials.
func TestLimitsSlots(t *testing.T) {
	for _, s := range []Slots{DefaultSlots, {Strangers: 8, Handshakes: 16, Members: 8}} {
		p := Limits(s).ToPartialLimitConfig()
		if got := int(p.System.ConnsInbound); got != s.Inbound() {
			t.Errorf("%+v: system inbound %d, want %d", s, got, s.Inbound())
		}
		if got := int(p.Transient.ConnsInbound); got != s.Handshakes {
			t.Errorf("%+v: transient inbound %d, want %d", s, got, s.Handshakes)
		}
		if got := int(p.System.Conns); got < s.Inbound()+s.Members {
			t.Errorf("%+v: system connections %d, want at least %d", s, got, s.Inbound()+s.Members)
		}
	}
	if DefaultSlots.Inbound() != 192 {
		t.Errorf("default inbound %d: update the docs (threat-model.md, architecture.md)", DefaultSlots.Inbound())
	}
}
