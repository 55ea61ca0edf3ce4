package bench

import (
	"fmt"
	"strings"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"

	"lookout/node"
)

// Tune overrides parts of the lookout protocol's gossipsub configuration,
// to measure a candidate setting against the node's own. Zero fields keep
// the node's setting.
type Tune struct {
	D              int           `json:"d,omitempty"`
	Dlo            int           `json:"dlo,omitempty"`
	Dhi            int           `json:"dhi,omitempty"`
	Dlazy          int           `json:"dlazy,omitempty"`
	Heartbeat      time.Duration `json:"heartbeat,omitempty"`
	NoFloodPublish bool          `json:"no_flood_publish,omitempty"`
	// PeerExchange turns gossipsub's peer exchange back on (the node has
	// it off).
	PeerExchange bool `json:"peer_exchange,omitempty"`
	// LatencyBlind turns off the latency-aware mesh: the library's mesh
	// parameters, no near-peer score (Lookout before issue 15).
	LatencyBlind bool `json:"latency_blind,omitempty"`
	// FloodAll sends a published alert to every connection at once, not
	// only to the mesh and the nearest (node.Node.FloodPeers).
	FloodAll bool `json:"flood_all,omitempty"`
}

// IsZero reports whether t changes nothing.
func (t Tune) IsZero() bool { return t == Tune{} }

// Label names the tuned protocol in reports, e.g. "lookout D=8/6/12".
func (t Tune) Label() string {
	if t.IsZero() {
		return Lookout
	}
	var parts []string
	if t.LatencyBlind {
		parts = append(parts, "latency-blind")
	}
	if t.D != 0 {
		parts = append(parts, fmt.Sprintf("D=%d/%d/%d", t.D, t.Dlo, t.Dhi))
	}
	if t.Dlazy != 0 {
		parts = append(parts, fmt.Sprintf("Dlazy=%d", t.Dlazy))
	}
	if t.Heartbeat != 0 {
		parts = append(parts, "heartbeat="+t.Heartbeat.String())
	}
	if t.NoFloodPublish {
		parts = append(parts, "no-flood-publish")
	}
	if t.FloodAll {
		parts = append(parts, "flood-all")
	}
	if t.PeerExchange {
		parts = append(parts, "peer-exchange")
	}
	return Lookout + " " + strings.Join(parts, " ")
}

// options returns the gossipsub options that apply t on top of the
// node's own (they are appended after them, so they win). LatencyBlind and
// FloodAll are node settings (startNode), not options.
func (t Tune) options() []pubsub.Option {
	if t.IsZero() {
		return nil
	}
	var opts []pubsub.Option
	if t.D != 0 || t.Dlazy != 0 || t.Heartbeat != 0 {
		// Start from the node's parameters; change only these.
		p := node.MeshParams()
		if t.LatencyBlind {
			p = pubsub.DefaultGossipSubParams()
		}
		if t.D != 0 {
			p.D, p.Dlo, p.Dhi = t.D, t.Dlo, t.Dhi
			// Keep the node's two random slots where D allows.
			p.Dscore = max(min(p.Dscore, t.D-2), 0)
			// Gossipsub wants Dout < Dlo and Dout < D/2.
			p.Dout = max(min(p.Dout, t.Dlo-1, t.D/2-1), 0)
		}
		if t.Dlazy != 0 {
			p.Dlazy = t.Dlazy
		}
		if t.Heartbeat != 0 {
			p.HeartbeatInterval = t.Heartbeat
		}
		opts = append(opts, pubsub.WithGossipSubParams(p))
	}
	if t.NoFloodPublish {
		opts = append(opts, pubsub.WithFloodPublish(false))
	}
	if t.PeerExchange {
		opts = append(opts, pubsub.WithPeerExchange(true))
	}
	return opts
}
