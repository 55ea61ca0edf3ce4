package bench

import (
	"fmt"
	"strings"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
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
	NoPeerExchange bool          `json:"no_peer_exchange,omitempty"`
}

// IsZero reports whether t changes nothing.
func (t Tune) IsZero() bool { return t == Tune{} }

// Label names the tuned protocol in reports, e.g. "lookout D=8/6/12".
func (t Tune) Label() string {
	if t.IsZero() {
		return Lookout
	}
	var parts []string
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
	if t.NoPeerExchange {
		parts = append(parts, "no-peer-exchange")
	}
	return Lookout + " " + strings.Join(parts, " ")
}

// options returns the gossipsub options that apply t on top of the
// node's own (they are appended after them, so they win).
func (t Tune) options() []pubsub.Option {
	if t.IsZero() {
		return nil
	}
	var opts []pubsub.Option
	if t.D != 0 || t.Dlazy != 0 || t.Heartbeat != 0 {
		// The node keeps the library's defaults; change only these.
		p := pubsub.DefaultGossipSubParams()
		if t.D != 0 {
			p.D, p.Dlo, p.Dhi = t.D, t.Dlo, t.Dhi
			p.Dscore = min(p.Dscore, t.D)
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
	if t.NoPeerExchange {
		opts = append(opts, pubsub.WithPeerExchange(false))
	}
	return opts
}
