package node

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/protocol/ping"
)

// Latency-aware mesh (docs/architecture.md "Mesh", docs/perf.md "Tuning").
// The node measures the round-trip time to every connected member with
// libp2p ping (which fills the peerstore's latency average) and gives its
// nearSlots nearest members a score bonus (the application-specific part
// of the gossipsub peer score). Gossipsub then keeps the Dscore best-scored
// peers when it trims an oversized mesh, and its opportunistic grafting,
// run every few heartbeats, grafts better-scored peers whenever the median
// mesh peer is not one of the near ones. The other D − Dscore mesh slots
// stay random: a mesh made only of the nearest peers could be captured by
// an attacker who places Sybils close to everyone (docs/threat-model.md).
const (
	// meshD, meshDlo and meshDhi are the mesh degree bounds. Dhi is lower
	// than the library's 12 so that an opportunistic graft of two near
	// peers soon makes the mesh oversized, and the trim keeps the best.
	meshD   = 6
	meshDlo = 5
	meshDhi = 8
	// nearSlots is gossipsub's Dscore: mesh slots that the trim fills by
	// score, so with the nearest peers.
	nearSlots = 4
	// randomSlots are the mesh slots the trim fills at random.
	randomSlots = meshD - nearSlots
	// meshDout is how many mesh peers must be ones this node dialled.
	meshDout = 2
	// nearBonus is the score of a near peer; it is above what time in the
	// mesh alone gives (topicScoreParams: at most 3) and is also the
	// opportunistic-graft threshold.
	nearBonus = 10
	// opportunisticGraftTicks is how often (in heartbeats) the mesh is
	// improved by grafting near peers; the library's default is 60.
	opportunisticGraftTicks = 3
	// pingTimeout bounds one round-trip measurement; pingInterval is how
	// often every connected peer is measured again.
	pingTimeout  = 10 * time.Second
	pingInterval = 2 * time.Minute
	// rankInterval is how often the near peers are chosen again (members
	// are known only once their proof is done, after the first ping).
	rankInterval = time.Second
)

// meshParams are the node's gossipsub parameters: the library's, with the
// mesh bounds and opportunistic grafting above.
func meshParams() pubsub.GossipSubParams {
	p := pubsub.DefaultGossipSubParams()
	p.D, p.Dlo, p.Dhi, p.Dscore, p.Dout = meshD, meshDlo, meshDhi, nearSlots, meshDout
	p.OpportunisticGraftTicks = opportunisticGraftTicks
	return p
}

// MeshParams returns the node's gossipsub parameters (benchmark tuning
// starts from them).
func MeshParams() pubsub.GossipSubParams { return meshParams() }

// nearness ranks connected members by round-trip time.
type nearness struct {
	h      host.Host
	member func(peer.ID) bool
	// bonus maps the near peers to their score bonus; replaced whole.
	bonus atomic.Pointer[map[peer.ID]float64]
	wg    sync.WaitGroup
}

func newNearness(h host.Host, member func(peer.ID) bool) *nearness {
	return &nearness{h: h, member: member}
}

// score is the application-specific peer score: nearBonus for a near
// member, 0 otherwise. It is called on every score computation, so it only
// reads the last ranking.
func (nr *nearness) score(p peer.ID) float64 {
	m := nr.bonus.Load()
	if m == nil {
		return 0
	}
	return (*m)[p]
}

// rank recomputes the near peers from the peerstore's latency averages.
func (nr *nearness) rank() {
	type peerRTT struct {
		p   peer.ID
		rtt time.Duration
	}
	var ps []peerRTT
	for _, p := range nr.h.Network().Peers() {
		rtt := nr.h.Peerstore().LatencyEWMA(p)
		if rtt <= 0 || !nr.member(p) {
			continue
		}
		ps = append(ps, peerRTT{p, rtt})
	}
	slices.SortFunc(ps, func(a, b peerRTT) int {
		if c := cmp.Compare(a.rtt, b.rtt); c != 0 {
			return c
		}
		return cmp.Compare(a.p, b.p)
	})
	m := make(map[peer.ID]float64, nearSlots)
	for _, x := range ps[:min(nearSlots, len(ps))] {
		m[x.p] = nearBonus
	}
	nr.bonus.Store(&m)
}

// start measures every new connection and every connected peer each
// pingInterval, and ranks every rankInterval, until ctx ends.
func (nr *nearness) start(ctx context.Context) error {
	sub, err := nr.h.EventBus().Subscribe(new(event.EvtPeerConnectednessChanged))
	if err != nil {
		return err
	}
	nr.wg.Go(func() {
		defer sub.Close()
		tick := time.NewTicker(pingInterval)
		defer tick.Stop()
		rank := time.NewTicker(rankInterval)
		defer rank.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-sub.Out():
				if !ok {
					return
				}
				if ev := e.(event.EvtPeerConnectednessChanged); ev.Connectedness == network.Connected {
					nr.measure(ctx, ev.Peer)
				}
			case <-tick.C:
				for _, p := range nr.h.Network().Peers() {
					nr.measure(ctx, p)
				}
			case <-rank.C:
				nr.rank()
			}
		}
	})
	return nil
}

// measure pings p once in the background; ping records the round trip in
// the peerstore.
func (nr *nearness) measure(ctx context.Context, p peer.ID) {
	nr.wg.Go(func() {
		ctx, cancel := context.WithTimeout(ctx, pingTimeout)
		defer cancel()
		<-ping.Ping(ctx, nr.h, p)
	})
}

// wait returns once start's goroutines have ended (after ctx is done).
func (nr *nearness) wait() { nr.wg.Wait() }
