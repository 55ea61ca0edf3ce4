package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"lookout/node"
	"lookout/node/internal/enroll"
	"lookout/node/sim"
)

// All Lookout node construction of the benchmark is in this file.

// benchRedialInterval is longer than any run: the redial loop would
// otherwise have every node publish its member announcement at its first
// tick (a governance storm that is not alert delivery) and dial remembered
// peers outside the benchmark's topology. Reconnection after churn is done
// by the harness instead; catch-up on reconnection is the node's own sync.
const benchRedialInterval = 24 * time.Hour

// Every benchmark node's store is unlocked by sim's secret with the
// cheapest key derivation: the benchmark measures alerts, not unlocking.
var (
	benchSecret = sim.Secret
	benchStore  = sim.StoreOptions
)

// initHome creates a member identity in home.
func initHome(home, name string) error {
	if _, err := node.Init(home, node.InitOptions{Name: name, Secret: benchSecret, Store: benchStore}); err != nil {
		return fmt.Errorf("init %s: %w", home, err)
	}
	return nil
}

// startNode starts the Lookout node of home on h, with the node's own
// gossipsub configuration (changed by tune, if set) plus tracers and
// extra options (a Sybil's validator).
func startNode(ctx context.Context, home string, h host.Host, tracers []pubsub.RawTracer, tune Tune, extra []pubsub.Option) (*node.Node, error) {
	var opts []pubsub.Option
	for _, t := range tracers {
		opts = append(opts, pubsub.WithRawTracer(t))
	}
	opts = append(append(opts, tune.options()...), extra...)
	n := &node.Node{Home: home, Secret: benchSecret, StoreOptions: benchStore, Host: h, MDNS: false,
		RedialInterval: benchRedialInterval, LatencyBlind: tune.LatencyBlind, PubsubOptions: opts}
	if tune.FloodAll {
		n.FloodPeers = -1
	}
	if err := n.Start(ctx); err != nil {
		return nil, fmt.Errorf("start node %s: %w", home, err)
	}
	return n, nil
}

// sizeTracer records the largest pubsub message delivered.
type sizeTracer struct {
	mu      sync.Mutex
	biggest int
}

func (s *sizeTracer) max() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.biggest
}

func (s *sizeTracer) DeliverMessage(m *pubsub.Message) {
	s.mu.Lock()
	s.biggest = max(s.biggest, len(m.Data))
	s.mu.Unlock()
}

func (*sizeTracer) OnNewOutboundStream(peer.ID, protocol.ID)             {}
func (*sizeTracer) OnClosedOutboundStream(peer.ID)                       {}
func (*sizeTracer) Join(string)                                          {}
func (*sizeTracer) Leave(string)                                         {}
func (*sizeTracer) Graft(peer.ID, string)                                {}
func (*sizeTracer) Prune(peer.ID, string)                                {}
func (*sizeTracer) ValidateMessage(*pubsub.Message)                      {}
func (*sizeTracer) RejectMessage(*pubsub.Message, string)                {}
func (*sizeTracer) DuplicateMessage(*pubsub.Message)                     {}
func (*sizeTracer) ThrottlePeer(peer.ID)                                 {}
func (*sizeTracer) RecvRPC(*pubsub.RPC)                                  {}
func (*sizeTracer) SendRPC(*pubsub.RPC, peer.ID)                         {}
func (*sizeTracer) SendRPCCompleted(*pubsub.RPC, peer.ID, time.Duration) {}
func (*sizeTracer) DropRPC(*pubsub.RPC, peer.ID)                         {}
func (*sizeTracer) UndeliverableMessage(*pubsub.Message)                 {}

// meshTracer follows one node's gossipsub mesh (grafts and prunes, by
// topic); a closed outbound stream means the peer is gone.
type meshTracer struct {
	sizeTracer
	mu   sync.Mutex
	mesh map[string]map[peer.ID]bool
}

// degree returns the node's mean mesh size over the topics it has a mesh
// in, and whether it has any.
func (m *meshTracer) degree() (float64, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, sum := 0, 0
	for _, ps := range m.mesh {
		n++
		sum += len(ps)
	}
	if n == 0 {
		return 0, false
	}
	return float64(sum) / float64(n), true
}

func (m *meshTracer) Graft(p peer.ID, topic string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mesh == nil {
		m.mesh = map[string]map[peer.ID]bool{}
	}
	if m.mesh[topic] == nil {
		m.mesh[topic] = map[peer.ID]bool{}
	}
	m.mesh[topic][p] = true
}

func (m *meshTracer) Prune(p peer.ID, topic string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.mesh[topic], p)
}

func (m *meshTracer) OnClosedOutboundStream(p peer.ID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, ps := range m.mesh {
		delete(ps, p)
	}
}

// sybilOptions make a node drop every message it receives: nothing is
// delivered or forwarded, and the sender is not penalised (ignore, not
// reject), as a quiet attacker would.
func sybilOptions() []pubsub.Option {
	return []pubsub.Option{pubsub.WithDefaultValidator(func(context.Context, peer.ID, *pubsub.Message) pubsub.ValidationResult {
		return pubsub.ValidationIgnore
	})}
}

// enrollMember makes home's identity a member of the founder's zone.
func enrollMember(founder *node.Node, zone, home string) error {
	return enroll.Member(founder, enroll.Request{Zone: zone, Home: home, Secret: benchSecret, Options: benchStore, Role: "member"})
}
