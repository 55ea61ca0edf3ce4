package node

import (
	"context"
	"encoding/hex"
	"errors"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"lookout/node/reach"
	"lookout/node/store"
	"lookout/protocol"
)

// Upkeep: dialling remembered peers, the redial loop and the sweep of
// what ended.

// dialAsync connects to a /p2p/ multiaddr in the background.
func (n *Node) dialAsync(s string) {
	a, err := ma.NewMultiaddr(s)
	if err != nil {
		return
	}
	ai, err := peer.AddrInfoFromP2pAddr(a)
	if err != nil || ai.ID == n.h.ID() {
		return
	}
	if n.h.Network().Connectedness(ai.ID) == network.Connected {
		return
	}
	n.spawn(func() {
		ai.Addrs = append(ai.Addrs, n.viaRelays(ai.ID)...) // takes n.mu: callers may hold it
		ctx, cancel := context.WithTimeout(n.ctx, joinTimeout)
		defer cancel()
		if err := n.h.Connect(ctx, *ai); err != nil {
			n.log.Debug("dial failed", "peer", ai.ID, "err", err)
		}
	})
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
		for _, z := range n.placesBehind() {
			// Shared safe places the pace held back (link_places.go).
			n.spawn(func() {
				ctx, cancel := context.WithTimeout(n.ctx, linkTimeout)
				defer cancel()
				n.reconcilePlaces(ctx, z)
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
			n.forget(z.prune(n.now(), false))
			// Pull missed governance messages and the other members'
			// addresses from one zone peer per tick, in turn, so
			// announcements and rekeys spread even when gossip missed
			// someone, and members who never met find each other.
			if peers := z.snapshot().topic.ListPeers(); len(peers) > 0 {
				p := peers[tick%len(peers)]
				n.wg.Add(1)
				go func() {
					defer n.wg.Done()
					if err := n.syncWith(n.ctx, p); err != nil {
						n.log.Debug("sync", "peer", p, "err", err)
					}
					n.askPeersLogged(p)
				}()
			}
			n.checkFork(z, true)
			n.syncBehind(z, tick)
			z.mu.Lock()
			due := n.now().Sub(z.announced) > announceInterval
			z.mu.Unlock()
			if due {
				if err := n.renewRoot(z); err != nil {
					n.log.Error("could not renew the founder certificate", "err", err)
				}
				n.announceZone(n.ctx, z.rec.ID)
				n.renewLater(z, every)
			}
			n.mu.Lock()
			peers := append([]string(nil), z.rec.Peers...)
			n.mu.Unlock()
			for _, s := range peers {
				n.dialAsync(s)
			}
		}
		n.protectAll()
		n.repairMesh(zones)
		n.sweep(false)
	}
}

// forget deletes pruned alerts and updates from the store.
func (n *Node) forget(ids []protocol.AlertID) {
	for _, id := range ids {
		if err := n.st.Delete(bucketMessages, hex.EncodeToString(id[:])); err != nil && !errors.Is(err, store.ErrNotFound) {
			n.log.Error("delete ended alert", "err", err)
			return
		}
	}
}

// sweepInterval is how often expired alerts and invites are deleted from
// the store (and its file compacted), as well as at start-up.
const sweepInterval = 10 * time.Minute

// sweep deletes what expired from the store and the replay cache, at most
// once per sweepInterval unless now.
func (n *Node) sweep(now bool) {
	t := n.now()
	n.mu.Lock()
	due := now || t.Sub(n.swept) >= sweepInterval
	if due {
		n.swept = t
	}
	n.mu.Unlock()
	if !due {
		return
	}
	n.replay.Prune(t)
	for _, z := range n.liveZones() {
		n.forget(z.prune(t, true))
	}
	if _, err := n.st.DeleteExpired(t); err != nil {
		n.log.Error("delete expired alerts", "err", err)
	}
}
