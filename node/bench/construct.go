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
// gossipsub configuration (changed by tune, if set) plus a tracer that
// records message sizes.
func startNode(ctx context.Context, home string, h host.Host, sizes *sizeTracer, tune Tune) (*node.Node, error) {
	n := &node.Node{Home: home, Secret: benchSecret, StoreOptions: benchStore, Host: h, MDNS: false,
		RedialInterval: benchRedialInterval,
		PubsubOptions:  append([]pubsub.Option{pubsub.WithRawTracer(sizes)}, tune.options()...)}
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

// enrollMember makes home's identity a member of the founder's zone.
func enrollMember(founder *node.Node, zone, home string) error {
	return enroll.Member(founder, enroll.Request{Zone: zone, Home: home, Secret: benchSecret, Options: benchStore, Role: "member"})
}
