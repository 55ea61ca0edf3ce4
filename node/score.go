package node

import (
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Peer scoring. Zones are quiet most of the time, so the mesh-delivery
// penalty (P3), which punishes peers for not forwarding enough, would
// punish honest peers in a quiet zone and is off. What matters is P4: a
// peer that forwards messages our validator rejects (forged, tampered,
// expired, not allowed) loses score fast, is first ignored for gossip,
// then graylisted; the penalty decays over about an hour so a peer with a
// skewed clock recovers. app is the application-specific component: the
// latency-aware mesh's bonus for near peers (nearness.go).
func peerScoreParams(app func(peer.ID) float64) *pubsub.PeerScoreParams {
	return &pubsub.PeerScoreParams{
		AppSpecificScore:  app,
		AppSpecificWeight: 1,
		// Members often share a NAT or a community space's Wi-Fi, so
		// colocation is normal here and not penalised.
		IPColocationFactorWeight:  0,
		BehaviourPenaltyWeight:    -10,
		BehaviourPenaltyThreshold: 6,
		BehaviourPenaltyDecay:     pubsub.ScoreParameterDecay(10 * time.Minute),
		DecayInterval:             time.Second,
		DecayToZero:               0.01,
		RetainScore:               time.Hour,
		Topics:                    map[string]*pubsub.TopicScoreParams{},
	}
}

// noPX is an AcceptPXThreshold no peer reaches: peer exchange records
// from others are not followed either.
const noPX = 1e9

// peerScoreThresholds: with near (the latency-aware mesh), opportunistic
// grafting runs whenever the median mesh peer is not a near one
// (nearness.go) and no peer exchange is followed; without it, the
// thresholds of Lookout before the latency-aware mesh (benchmark
// baseline).
func peerScoreThresholds(near bool) *pubsub.PeerScoreThresholds {
	t := &pubsub.PeerScoreThresholds{
		GossipThreshold:             -50,
		PublishThreshold:            -100,
		GraylistThreshold:           -200,
		AcceptPXThreshold:           0,
		OpportunisticGraftThreshold: 1,
	}
	if near {
		t.OpportunisticGraftThreshold = nearBonus
		t.AcceptPXThreshold = noPX
	}
	return t
}

// topicScoreParams applies to every zone topic.
func topicScoreParams() *pubsub.TopicScoreParams {
	return &pubsub.TopicScoreParams{
		TopicWeight:                    1,
		TimeInMeshWeight:               0.01,
		TimeInMeshQuantum:              time.Second,
		TimeInMeshCap:                  300,
		FirstMessageDeliveriesWeight:   1,
		FirstMessageDeliveriesDecay:    pubsub.ScoreParameterDecay(time.Hour),
		FirstMessageDeliveriesCap:      20,
		InvalidMessageDeliveriesWeight: -20,
		InvalidMessageDeliveriesDecay:  pubsub.ScoreParameterDecay(time.Hour),
	}
}
