package node

import (
	"context"
	"encoding/hex"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"lookout/node/reach"
	"lookout/node/store"
	"lookout/protocol"
)

// Upkeep: dialling remembered peers, the redial loop and the sweep of
// what ended.

// dialer dials members' /p2p/ addresses (remembered in zone records,
// learned from members) within the dial budget: memberDialTarget less the
// connections and the member dials under way. The count of dials under
// way is its own, under its own lock; it reaches its node only through
// node and the values it was made with.
type dialer struct {
	node nodeForDials
	ctx  context.Context // the node's: done once it closes
	h    host.Host
	log  *slog.Logger

	mu      sync.Mutex // guards dialing; never held across a call out
	dialing int        // member dials under way
}

// nodeForDials is what the dialer uses of its node: the relays a peer
// may be reached through, and its goroutines.
type nodeForDials interface {
	viaRelays(p peer.ID) []ma.Multiaddr
	spawn(f func())
}

// newDialer makes n's dialer, once Start has started its host, before
// connections are admitted (startGate): admission dials the members it
// learns of.
func newDialer(n *Node) *dialer {
	return &dialer{node: n, ctx: n.ctx, h: n.h, log: n.log}
}

// dialAsyncDone connects to a /p2p/ multiaddr in the background, calling
// done once the dial has ended or was not needed.
func (d *dialer) dialAsyncDone(s string, done func()) {
	a, err := ma.NewMultiaddr(s)
	if err != nil {
		done()
		return
	}
	ai, err := peer.AddrInfoFromP2pAddr(a)
	if err != nil || ai.ID == d.h.ID() || d.h.Network().Connectedness(ai.ID) == network.Connected {
		done()
		return
	}
	d.node.spawn(func() {
		defer done()
		ai.Addrs = append(ai.Addrs, d.node.viaRelays(ai.ID)...) // takes Node.mu: callers may hold it
		ctx, cancel := context.WithTimeout(d.ctx, joinTimeout)
		defer cancel()
		if err := d.h.Connect(ctx, *ai); err != nil {
			d.log.Debug("dial failed", "peer", ai.ID, "err", err)
		}
	})
}

// memberDialTarget is how many connections a node seeks: it dials
// remembered or learned members only while it has fewer. Without a bound,
// every member of a big zone ends up connected to every other (each
// address exchange names up to 32 more), and member connections are
// protected from the connection manager's trimming. 24 connections keep a
// zone connected (a random graph of that degree has a diameter of 3 at
// 1000 nodes) with room for a mesh of 6 and gossip (docs/perf.md).
const memberDialTarget = 24

// reserveDial takes one dial of the budget: memberDialTarget less the
// connections and the member dials under way (answers from several
// members arrive together). releaseDial gives it back when the dial ends.
func (d *dialer) reserveDial() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.h.Network().Peers())+d.dialing >= memberDialTarget {
		return false
	}
	d.dialing++
	return true
}

func (d *dialer) releaseDial() {
	d.mu.Lock()
	d.dialing--
	d.mu.Unlock()
}

// dialMembers dials the /p2p/ multiaddrs of members, within the budget.
func (d *dialer) dialMembers(addrs []string) {
	for _, s := range addrs {
		if !d.dialNeeded(s) {
			continue
		}
		if !d.reserveDial() {
			return
		}
		d.dialAsyncDone(s, d.releaseDial)
	}
}

// dialNeeded reports whether s names a peer that is not this node and not
// connected.
func (d *dialer) dialNeeded(s string) bool {
	a, err := ma.NewMultiaddr(s)
	if err != nil {
		return false
	}
	ai, err := peer.AddrInfoFromP2pAddr(a)
	return err == nil && ai.ID != d.h.ID() && d.h.Network().Connectedness(ai.ID) != network.Connected
}

// redialLoop keeps zone members connected: it dials remembered peers that
// are not connected, and remembers the addresses of peers in zone topics.
func (n *Node) redialLoop() {
	defer n.wg.Done()
	every := n.RedialInterval
	if every <= 0 {
		every = redialInterval
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for tick := 0; ; tick++ {
		select {
		case <-n.ctx.Done():
			return
		case <-t.C:
		}
		n.mu.Lock()
		zones := make([]*zone, 0, len(n.zones))
		for _, z := range n.zones {
			zones = append(zones, z)
		}
		n.mu.Unlock()
		for _, z := range n.links.placesBehind() {
			// Shared safe places the pace held back (link_places.go).
			n.spawn(func() {
				ctx, cancel := context.WithTimeout(n.ctx, linkTimeout)
				defer cancel()
				n.links.reconcilePlaces(ctx, z)
			})
		}
		for _, z := range zones {
			var seen []ma.Multiaddr
			for _, p := range z.snapshot().topic.ListPeers() {
				addrs, err := peer.AddrInfoToP2pAddrs(&peer.AddrInfo{ID: p, Addrs: reach.Dialable(n.h.Peerstore().Addrs(p), learnedAddrsPerPeer)})
				if err == nil {
					seen = append(seen, addrs...)
				}
			}
			n.rememberPeers(z, seen)
			n.sweeper.forget(z.Prune(n.now(), false))
			// Pull missed governance messages and the other members'
			// addresses from one zone peer per tick, in turn, so
			// announcements and rekeys spread even when gossip missed
			// someone, and members who never met find each other.
			if peers := z.snapshot().topic.ListPeers(); len(peers) > 0 {
				p := peers[tick%len(peers)]
				n.wg.Add(1)
				go func() {
					defer n.wg.Done()
					if err := n.sync.syncWith(n.ctx, p); err != nil {
						n.log.Debug("sync", "peer", p, "err", err)
					}
					n.admission.askPeersLogged(p)
				}()
			}
			n.forks.checkFork(z, true)
			n.forks.syncBehind(z, tick)
			z.mu.Lock()
			due := n.now().Sub(z.announced) > announceInterval
			z.mu.Unlock()
			if due {
				if err := n.renewer.renewRoot(z); err != nil {
					n.log.Error("could not renew the founder certificate", "err", err)
				}
				n.gov.announceZone(n.ctx, z.Label().ID)
				n.renewer.renewLater(z, every)
			}
			n.mu.Lock()
			peers := z.Peers()
			n.mu.Unlock()
			n.dialer.dialMembers(peers)
		}
		n.admission.protectAll()
		n.admission.repairMesh(zones)
		n.sweeper.sweep(false)
	}
}

// sweeper deletes what ended: the alerts and updates zones pruned, from
// the store, and what expired, from the store and the replay cache. When
// it last swept is its own, under its own lock; it reaches its node only
// through node and the values it was made with.
type sweeper struct {
	node   nodeForSweep
	st     *store.Store
	replay *replayCache
	log    *slog.Logger

	mu    sync.Mutex // guards swept; never held across a call out
	swept time.Time  // last sweep of expired records
}

// nodeForSweep is what the sweeper uses of its node: its clock and live
// zones.
type nodeForSweep interface {
	now() time.Time
	liveZones() []*zone
}

// newSweeper makes n's sweeper, once Start has opened its store.
func newSweeper(n *Node) *sweeper {
	return &sweeper{node: n, st: n.st, replay: n.replay, log: n.log}
}

// forget deletes pruned alerts and updates from the store.
func (s *sweeper) forget(ids []protocol.AlertID) {
	for _, id := range ids {
		if err := s.st.Delete(bucketMessages, hex.EncodeToString(id[:])); err != nil && !errors.Is(err, store.ErrNotFound) {
			s.log.Error("delete ended alert", "err", err)
			return
		}
	}
}

// sweepInterval is how often expired alerts and invites are deleted from
// the store (and its file compacted), as well as at start-up.
const sweepInterval = 10 * time.Minute

// sweep deletes what expired from the store and the replay cache, at most
// once per sweepInterval unless now.
func (s *sweeper) sweep(now bool) {
	t := s.node.now()
	s.mu.Lock()
	due := now || t.Sub(s.swept) >= sweepInterval
	if due {
		s.swept = t
	}
	s.mu.Unlock()
	if !due {
		return
	}
	s.replay.Prune(t)
	for _, z := range s.node.liveZones() {
		s.forget(z.Prune(t, true))
	}
	if _, err := s.st.DeleteExpired(t); err != nil {
		s.log.Error("delete expired alerts", "err", err)
	}
}
