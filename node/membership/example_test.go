package membership_test

import (
	"context"
	"log"

	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/network"

	"lookout/crypto"
	"lookout/node/membership"
)

// How a node wires the gate in: identify says nothing of Lookout, the gate
// starts before any connection, gossipsub runs on the gate's host with the
// gate's options, other stream handlers ask the gate, and a change of zones
// or epochs is followed by KeysChanged.
func Example() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), membership.HostOption())
	if err != nil {
		log.Fatal(err)
	}
	defer h.Close()

	var secret crypto.ZoneSecret // the zone's secret, from the store
	const epoch = 0
	keys := membership.KeyringFunc(func() []membership.ZoneKey {
		// Every zone epoch held: during a rotation, the old one too.
		return []membership.ZoneKey{{Topic: secret.TopicName(epoch), Key: secret.ProofKey(epoch)}}
	})
	gate, err := membership.New(h, keys)
	if err != nil {
		log.Fatal(err)
	}
	defer gate.Close()

	ps, err := pubsub.NewGossipSub(ctx, gate.Host(), append(gate.PubsubOptions(),
		pubsub.WithPeerExchange(true), // records name only peers that proved the topic
	)...)
	if err != nil {
		log.Fatal(err)
	}
	_ = ps

	// A stream protocol of the node serves proven members only.
	h.SetStreamHandler("/sync/4.0.0", func(s network.Stream) {
		p := s.Conn().RemotePeer()
		if err := gate.Wait(ctx, p); err != nil || !gate.Shares(p, secret.TopicName(epoch)) {
			s.Reset()
			return
		}
		// ... serve the zones p shares
	})

	// After joining a zone or switching epochs:
	gate.KeysChanged()
}
