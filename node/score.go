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
// skewed clock recovers.
func peerScoreParams() *pubsub.PeerScoreParams {
	return &pubsub.PeerScoreParams{
		AppSpecificScore:  func(peer.ID) float64 { return 0 },
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

func peerScoreThresholds() *pubsub.PeerScoreThresholds {
	return &pubsub.PeerScoreThresholds{
		GossipThreshold:             -50,
		PublishThreshold:            -100,
		GraylistThreshold:           -200,
		AcceptPXThreshold:           0,
		OpportunisticGraftThreshold: 1,
	}
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
