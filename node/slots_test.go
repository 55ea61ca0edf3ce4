package node_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
	libp2ptls "github.com/libp2p/go-libp2p/p2p/security/tls"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	"github.com/libp2p/go-libp2p/x/rate"

	manet "github.com/multiformats/go-multiaddr/net"

	"lookout/node"
	"lookout/node/api"
	"lookout/node/reach"
	"lookout/node/sim"
)

// The flood of TestStrangersKeepNoSlots, scaled down for 2 cores: the
// node keeps 8 stranger slots, 16 handshakes and 8 member slots (32
// inbound), and 48 stranger peer IDs on 16 addresses redial it.
const (
	floodStrangers = 48
	floodAddrs     = 16
	// floodRetry paces a stranger's refused dials: a refused dial costs
	// the node next to nothing, but 40 goroutines redialling without
	// pause starve a 2-core test machine.
	floodRetry = 100 * time.Millisecond
)

var floodSlots = reach.Slots{Strangers: 8, Handshakes: 16, Members: 8}

// floodRateLimiter is go-libp2p's default per-address connection rate
// limit (0.2 new connections per second per IPv4 address) with a burst of
// 3 instead of 16, and with only 127.0.0.1 exempt instead of all of
// 127.0.0.0/8: the strangers, on 127.0.0.2 to 127.0.0.17, stand for 16
// addresses on the internet whose bursts are spent by their first
// connections. (While fresh addresses spend their bursts, the strangers
// redial as fast as handshakes go: a join then can still fail; see
// docs/threat-model.md.)
func floodRateLimiter() *rate.Limiter {
	return &rate.Limiter{
		NetworkPrefixLimits: []rate.PrefixLimit{{Prefix: netip.MustParsePrefix("127.0.0.1/32")}},
		SubnetRateLimiter: rate.SubnetLimiter{
			IPv4SubnetLimits: []rate.SubnetLimit{{PrefixLength: 32, Limit: rate.Limit{RPS: 0.2, Burst: floodStrangers / floodAddrs}}},
			GracePeriod:      time.Minute,
		},
	}
}

// flood is a crowd of stranger hosts that redial a node whenever they are
// not connected to it.
type flood struct {
	connects atomic.Int64 // dials that connected
	refused  atomic.Int64 // dials that failed
	sources  sync.Map     // the source addresses the strangers' connections had
	wg       sync.WaitGroup
}

func startFlood(t *testing.T, ctx context.Context, target peer.AddrInfo) *flood {
	t.Helper()
	f := &flood{}
	ctx, cancel := context.WithCancel(ctx)
	t.Cleanup(func() { cancel(); f.wg.Wait() })
	for i := range floodStrangers {
		addr := fmt.Sprintf("/ip4/127.0.0.%d/tcp/0", 2+i%floodAddrs)
		h, err := libp2p.New(libp2p.ListenAddrStrings(addr), libp2p.Transport(tcp.NewTCPTransport),
			libp2p.Security(libp2ptls.ID, libp2ptls.New), libp2p.DisableRelay(), libp2p.ResourceManager(&network.NullResourceManager{}))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			f.redial(ctx, h, target)
		}()
	}
	return f
}

// redial connects h to target whenever it is not connected, until ctx
// ends.
func (f *flood) redial(ctx context.Context, h host.Host, target peer.AddrInfo) {
	gone := make(chan struct{}, 1)
	h.Network().Notify(&network.NotifyBundle{DisconnectedF: func(network.Network, network.Conn) {
		select {
		case gone <- struct{}{}:
		default:
		}
	}})
	h.Peerstore().AddAddrs(target.ID, target.Addrs, time.Hour)
	for ctx.Err() == nil {
		if h.Network().Connectedness(target.ID) == network.Connected {
			select {
			case <-gone:
			case <-ctx.Done():
			}
			continue
		}
		h.Network().(*swarm.Swarm).Backoff().Clear(target.ID)
		if err := h.Connect(ctx, target); err != nil {
			f.refused.Add(1)
			select {
			case <-time.After(floodRetry):
			case <-ctx.Done():
			}
			continue
		}
		f.connects.Add(1)
		for _, c := range h.Network().ConnsToPeer(target.ID) {
			if ip, err := manet.ToIP(c.LocalMultiaddr()); err == nil {
				f.sources.Store(ip.String(), true)
			}
		}
	}
}

// TestStrangersKeepNoSlots: a stranger with 48 peer IDs on 16 addresses
// keeps redialling a node whose inbound connections the resource manager
// caps (issue 18, point 3). While it does, a new member joins with one
// invite redemption and a member that lost its connection comes back.
// Without the stranger budget the strangers hold every inbound slot and
// the join fails.
func TestStrangersKeepNoSlots(t *testing.T) {
	ctx := testContext(t)
	dir := t.TempDir()
	start := func(name string, redial time.Duration, slots bool) *node.Node {
		home := filepath.Join(dir, name)
		if _, err := node.Init(home, node.InitOptions{Name: name, Secret: sim.Secret, Store: sim.StoreOptions}); err != nil {
			t.Fatal(err)
		}
		n := &node.Node{Home: home, Secret: sim.Secret, StoreOptions: sim.StoreOptions, ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"},
			NoPortMapping: true, RedialInterval: redial}
		if slots {
			node.SetSlots(n, floodSlots, rcmgr.WithConnRateLimiters(floodRateLimiter()))
		}
		if err := n.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { n.Close() })
		return n
	}
	// The target does not redial: the member's return is its own dial,
	// an inbound connection the target must find a slot for.
	target := start("target", time.Hour, true)
	member := start("member", 200*time.Millisecond, false)
	joiner := start("joiner", 200*time.Millisecond, false)
	z, err := target.CreateZone(ctx, "north")
	if err != nil {
		t.Fatal(err)
	}
	invite := func() string {
		inv, err := target.Invite(ctx, api.InviteRequest{Zone: z.ID, TTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		return inv.Code
	}
	// Both invites before the member joins: they name the target alone
	// (an invite names other members too, who could serve the join).
	first, code := invite(), invite()
	if _, err := member.Join(ctx, first); err != nil {
		t.Fatal(err)
	}
	if err := sim.WaitFor(ctx, func() bool { return target.Member(member.PeerID()) }); err != nil {
		t.Fatalf("the member never proved its zone: %v", err)
	}

	th := node.Host(target)
	f := startFlood(t, ctx, peer.AddrInfo{ID: th.ID(), Addrs: th.Addrs()})
	// The flood is on: the strangers have connected as often as there
	// are inbound slots besides the member's (without the budget, they
	// now hold every one of them: a connection that proves nothing lives
	// 15 s), and dials are being refused.
	full := int64(floodSlots.Inbound() - 1)
	if err := sim.WaitFor(ctx, func() bool { return f.connects.Load() >= full && f.refused.Load() >= floodStrangers }); err != nil {
		t.Fatalf("the flood never filled the slots: %d connects, %d refused: %v", f.connects.Load(), f.refused.Load(), err)
	}

	f.sources.Range(func(k, _ any) bool {
		if k == "127.0.0.1" {
			t.Fatal("a stranger connected from 127.0.0.1, which the rate limit exempts")
		}
		return true
	})
	if _, err := joiner.Join(ctx, code); err != nil {
		var p *api.Problem
		if errors.As(err, &p) && p.Cause != nil {
			err = fmt.Errorf("%w (%w)", err, p.Cause)
		}
		t.Fatalf("join during the flood (%d stranger connects, %d refused): %v", f.connects.Load(), f.refused.Load(), err)
	}
	if err := sim.WaitFor(ctx, func() bool { return target.Member(joiner.PeerID()) }); err != nil {
		t.Fatalf("the new member is not a connected member of the target: %v", err)
	}

	// The member's connection drops; its redial is a new connection.
	old := make(map[string]bool)
	for _, c := range th.Network().ConnsToPeer(member.PeerID()) {
		old[c.ID()] = true
	}
	node.Host(member).Network().ClosePeer(target.PeerID())
	if err := sim.WaitFor(ctx, func() bool {
		fresh := false
		for _, c := range th.Network().ConnsToPeer(member.PeerID()) {
			fresh = fresh || !old[c.ID()]
		}
		return fresh && target.Member(member.PeerID())
	}); err != nil {
		t.Fatalf("the member did not come back during the flood: %v", err)
	}
	if n := node.StrangerConns(target); n > floodSlots.Strangers+floodSlots.Handshakes {
		t.Errorf("the target tracks %d stranger connections, budget %d", n, floodSlots.Strangers)
	}
	t.Logf("flood: %d stranger connects, %d refused", f.connects.Load(), f.refused.Load())
}
