package zone

import (
	"time"

	"lookout/protocol"
)

// Bounds of the updates a zone holds for alerts it does not have yet.
const (
	// MaxPending is how many such updates a zone holds at once; more are
	// dropped (the sender's catch-up offers them again).
	MaxPending = 256
	// PendingTTL is how long one is held: long enough for an alert and its
	// update that crossed in gossip or catch-up, far shorter than an
	// update's lifetime.
	PendingTTL = 10 * time.Minute
)

// Pending holds, in memory only, admitted updates whose alert this node
// does not hold, so an update that arrives before its alert is kept
// without storing updates that point at nothing. It is not safe for
// concurrent use: the zone's lock guards it. The zero value is ready to use.
type Pending struct {
	byRef map[protocol.AlertID][]Held
	n     int
}

// Held is an update waiting for its alert, with its envelope.
type Held struct {
	Msg     *protocol.Message
	Env     []byte
	Arrived time.Time
}

// Hold keeps msg (an update) until its alert arrives or PendingTTL has
// passed since now. It reports false, keeping nothing, when MaxPending
// updates are already held.
func (p *Pending) Hold(msg *protocol.Message, env []byte, now time.Time) bool {
	p.Expire(now)
	if p.n >= MaxPending {
		return false
	}
	if p.byRef == nil {
		p.byRef = map[protocol.AlertID][]Held{}
	}
	ref := msg.Alert.Ref
	p.byRef[ref] = append(p.byRef[ref], Held{Msg: msg, Env: env, Arrived: now})
	p.n++
	return true
}

// Take removes and returns the updates held for the alert ref that are
// still within PendingTTL at now.
func (p *Pending) Take(ref protocol.AlertID, now time.Time) []Held {
	p.Expire(now)
	h := p.byRef[ref]
	delete(p.byRef, ref)
	p.n -= len(h)
	return h
}

// Len is how many updates are held.
func (p *Pending) Len() int { return p.n }

// Expire drops the updates held for PendingTTL or longer at now.
func (p *Pending) Expire(now time.Time) {
	for ref, hs := range p.byRef {
		keep := hs[:0]
		for _, h := range hs {
			if now.Sub(h.Arrived) < PendingTTL {
				keep = append(keep, h)
			}
		}
		p.n -= len(hs) - len(keep)
		if len(keep) == 0 {
			delete(p.byRef, ref)
		} else {
			p.byRef[ref] = keep
		}
	}
}
