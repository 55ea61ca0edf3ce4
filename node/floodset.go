package node

import (
	"cmp"
	"context"
	"errors"
	"iter"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// Flood publishing with a bounded fan-out (docs/perf.md "Publish order").
// A node publishing an alert sends it at once to its mesh peers and to
// other connections chosen at random, floodPeers copies in all, instead
// of to every connection. Every copy shares the sender's uplink: 24
// copies of a 15 KiB alert take 0.15 s at 20 Mbit/s and 0.6 s at 5
// Mbit/s, and the uplink shares itself between the copies, so the ones
// that carry the alert on (the mesh's) finish no sooner than the rest.
// With floodPeers copies they finish in half the time; the connections
// left out get the alert from the mesh a hop later. The other copies go
// to random connections, not the nearest: peers that sit nearest to
// everyone (Sybils, docs/threat-model.md) already hold most near mesh
// slots, and would take the rest of the flood too.
const (
	// floodPeers is how many copies a flood publish sends, at most; the
	// mesh peers always get one, even if they are more.
	floodPeers = 12
)

// errStopping is returned by a publish while the node is closing.
var errStopping = errors.New("node is stopping")

// publishEnvelope sends env on topic: to every connection if
// n.FloodPeers is negative or the mesh is not followed (latency-blind),
// else to the mesh and random other connections (floodOrder).
func (n *Node) publishEnvelope(ctx context.Context, topic *pubsub.Topic, env []byte) error {
	if n.FloodPeers < 0 || n.mesh == nil {
		return topic.Publish(ctx, env)
	}
	var b pubsub.MessageBatch
	if err := topic.AddToBatch(ctx, &b, env); err != nil {
		return err
	}
	// PublishBatch hands the batch to gossipsub's event loop without
	// watching a context: publish only while gossipsub runs, under the
	// lock Close takes before it stops gossipsub (the event loop never
	// takes it, so it keeps taking batches while one is handed over).
	n.pubMu.Lock()
	defer n.pubMu.Unlock()
	if n.pubStopped {
		return errStopping
	}
	order := &floodOrder{topic: topic.String(), max: cmp.Or(n.FloodPeers, floodPeers), mesh: n.mesh,
		rtt: n.h.Peerstore().LatencyEWMA, shuffle: rand.Shuffle}
	return n.ps.PublishBatch(&b, func(o *pubsub.BatchPublishOptions) error {
		o.Strategy = order
		return nil
	})
}

// floodOrder chooses and orders the copies of one publish
// (pubsub.RPCScheduler): the mesh peers, nearest first (unmeasured last),
// then the other peers in random order, max copies in all but every mesh
// peer.
type floodOrder struct {
	topic   string
	max     int
	mesh    *meshPeers
	rtt     func(peer.ID) time.Duration
	shuffle func(n int, swap func(i, j int))
	out     []floodCopy
}

type floodCopy struct {
	p    peer.ID
	mesh bool
	rtt  time.Duration
	rpc  *pubsub.RPC
}

var _ pubsub.RPCScheduler = (*floodOrder)(nil)

func (o *floodOrder) AddRPC(p peer.ID, _ string, rpc *pubsub.RPC) {
	rtt := o.rtt(p)
	if rtt <= 0 {
		rtt = time.Duration(math.MaxInt64)
	}
	o.out = append(o.out, floodCopy{p: p, mesh: o.mesh.in(o.topic, p), rtt: rtt, rpc: rpc})
}

func (o *floodOrder) All() iter.Seq2[peer.ID, *pubsub.RPC] {
	// Sorted first, so the shuffle alone decides the others' order.
	slices.SortFunc(o.out, func(a, b floodCopy) int {
		switch {
		case a.mesh != b.mesh && a.mesh:
			return -1
		case a.mesh != b.mesh:
			return 1
		case a.mesh:
			return cmp.Or(cmp.Compare(a.rtt, b.rtt), cmp.Compare(a.p, b.p))
		}
		return cmp.Compare(a.p, b.p)
	})
	mesh := slices.IndexFunc(o.out, func(c floodCopy) bool { return !c.mesh })
	if mesh < 0 {
		mesh = len(o.out)
	}
	others := o.out[mesh:]
	o.shuffle(len(others), func(i, j int) { others[i], others[j] = others[j], others[i] })
	return func(yield func(peer.ID, *pubsub.RPC) bool) {
		for i, c := range o.out {
			if i >= max(o.max, mesh) {
				return
			}
			if !yield(c.p, c.rpc) {
				return
			}
		}
	}
}

// meshPeers follows the node's gossipsub mesh of each topic, from the
// router's grafts and prunes (a pubsub.RawTracer; the other events are
// ignored).
type meshPeers struct {
	mu    sync.Mutex
	peers map[string]map[peer.ID]bool
}

var _ pubsub.RawTracer = (*meshPeers)(nil)

func newMeshPeers() *meshPeers { return &meshPeers{peers: map[string]map[peer.ID]bool{}} }

func (m *meshPeers) in(topic string, p peer.ID) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.peers[topic][p]
}

func (m *meshPeers) Graft(p peer.ID, topic string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.peers[topic] == nil {
		m.peers[topic] = map[peer.ID]bool{}
	}
	m.peers[topic][p] = true
}

func (m *meshPeers) Prune(p peer.ID, topic string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.peers[topic], p)
}

func (m *meshPeers) Leave(topic string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.peers, topic)
}

// OnClosedOutboundStream is how the router says a peer is gone: it
// leaves every mesh without a prune.
func (m *meshPeers) OnClosedOutboundStream(p peer.ID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, ps := range m.peers {
		delete(ps, p)
	}
}

func (*meshPeers) OnNewOutboundStream(peer.ID, protocol.ID)             {}
func (*meshPeers) Join(string)                                          {}
func (*meshPeers) ValidateMessage(*pubsub.Message)                      {}
func (*meshPeers) DeliverMessage(*pubsub.Message)                       {}
func (*meshPeers) RejectMessage(*pubsub.Message, string)                {}
func (*meshPeers) DuplicateMessage(*pubsub.Message)                     {}
func (*meshPeers) ThrottlePeer(peer.ID)                                 {}
func (*meshPeers) RecvRPC(*pubsub.RPC)                                  {}
func (*meshPeers) SendRPC(*pubsub.RPC, peer.ID)                         {}
func (*meshPeers) SendRPCCompleted(*pubsub.RPC, peer.ID, time.Duration) {}
func (*meshPeers) DropRPC(*pubsub.RPC, peer.ID)                         {}
func (*meshPeers) UndeliverableMessage(*pubsub.Message)                 {}
