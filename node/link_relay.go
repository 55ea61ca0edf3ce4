package node

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"

	"lookout/node/api"
	core "lookout/node/internal/zone"
	"lookout/protocol"
)

// What a link end does with its zone's messages: share across its links,
// follow an alert's lifecycle, count responders, pass on an end.

// onStored runs after a message was stored: this node's link ends act on
// it in the background (share, follow the lifecycle, count responders,
// pass on an end).
func (e *linkEnds) onStored(z *zone, msg *protocol.Message) {
	if msg.Alert.Kind != protocol.KindLink {
		if len(z.LinksAt(e.id.ID())) == 0 {
			return // this node ends no link of the zone
		}
	}
	e.node.spawn(func() {
		ctx, cancel := context.WithTimeout(e.ctx, linkTimeout)
		defer cancel()
		if msg.Alert.Kind == protocol.KindLink {
			e.onLinkRecord(ctx, z, msg)
			return
		}
		if msg.Alert.Kind == protocol.KindPlace {
			e.reconcilePlaces(ctx, z) // link_places.go
			return
		}
		if msg.Alert.Kind.IsGovernance() {
			return
		}
		target := msg.ID
		if msg.Alert.IsUpdate() {
			target = msg.Alert.Ref
		}
		e.reconcile(ctx, z, target)
	})
}

func (e *linkEnds) onLinkRecord(ctx context.Context, z *zone, msg *protocol.Message) {
	r := msg.Alert.Link
	l, roots := z.LinkRecorded(r, e.id.ID())
	if l == nil {
		return
	}
	for _, id := range roots {
		e.reconcile(ctx, z, id) // a new link: share what is already marked shared
	}
	if r.Op == protocol.LinkAccept || r.Op == protocol.LinkEnd {
		e.reconcilePlaces(ctx, z) // the entries marked shared; those of an ended link withdrawn further on
	}
	if r.Op != protocol.LinkEnd || !l.Ended || !l.Accepted || l.Endpoint != e.id.ID() {
		return
	}
	e.state.mu.Lock()
	echoed := e.state.ending[l.ID]
	e.state.mu.Unlock()
	if echoed {
		return
	}
	payload, err := protocol.SignLinkEnd(e.id, l.ID, e.node.now())
	if err == nil {
		err = e.sendFrame(ctx, l.Secret, l.PeerNode, protocol.FrameEnd, l.ID, payload)
	}
	if err != nil {
		e.log.Warn("could not tell the other zone a link ended")
		e.log.Debug("could not tell the other zone the link ended", "zone", z.Name(), "link", l.ID, "err", err)
	}
}

// reconcile brings what this node's link ends sent about one alert up to
// date: the share, callout updates, the all clear, and (for an alert
// that came over a link) the responder totals going back.
func (e *linkEnds) reconcile(ctx context.Context, z *zone, target protocol.AlertID) {
	e.state.mu.Lock()
	defer e.state.mu.Unlock()
	st, ok := z.ShareOf(target, e.id.ID(), e.node.now())
	mine, root, hops, policy := st.Mine, st.Root, st.Hops, st.Policy
	var share bool
	if !ok || root == nil || len(mine) == 0 {
		return
	}
	v := st.Card.View
	state := protocol.State(v.State)
	live := state != protocol.StateExpired && state != protocol.StateCleared
	from := protocol.LinkID{}
	origin := ""
	if via := root.Alert.Via; via != nil {
		from, origin = via.Link, via.Origin
		if via.Hops > 1 {
			hops = via.Hops - 1
		} else {
			hops = 0
		}
	} else if hops == 0 && live && policy.Shares(root.Alert.Kind) && (root.Alert.Kind == protocol.KindCallout || state == protocol.StateVerified) {
		// Auto-share: this always-on end marks it shared; the share
		// comes back through onStored.
		a := e.node.newAlert(protocol.KindShare, false, protocol.DefaultUpdateTTL)
		a.Hops = protocol.DefaultShareHops
		a.Ref = root.ID
		if root.Alert.Exercise() {
			a.Status = protocol.StatusExercise
		}
		if _, err := e.node.publish(ctx, z, a); err != nil {
			e.log.Warn("auto-share failed")
			e.log.Debug("auto-share", "zone", z.Name(), "alert", root.ID, "err", err)
		}
		return
	}
	share = hops > 0
	d := core.DigestOf(root)
	for _, l := range mine {
		if l.ID == from {
			if root.Alert.Kind == protocol.KindCallout && v.Responders != nil && live {
				e.sendTally(ctx, z, l, root, d, origin, v)
			} else if !live {
				delete(e.state.sent[l.ID], d)
			}
			continue
		}
		if !share {
			continue
		}
		s := e.state.get(l.ID, d)
		if !s.shared && live {
			if e.sendEndorsement(ctx, z, l, content(root, v, protocol.KindShare), d, hops, originOf(root, l)) {
				s.shared = true
				s.content = contentHash(v)
			}
		}
		if !s.shared {
			if !live {
				delete(e.state.sent[l.ID], d)
			}
			continue
		}
		if root.Alert.Kind == protocol.KindCallout && live && s.content != contentHash(v) {
			if e.sendEndorsement(ctx, z, l, content(root, v, protocol.KindCallout), d, hops, originOf(root, l)) {
				s.content = contentHash(v)
			}
		}
		// However it ended here (an all clear, or its sender withdrew
		// it), it ends over there with an all clear.
		if state == protocol.StateCleared && !s.cleared {
			if e.sendEndorsement(ctx, z, l, content(root, v, protocol.KindClear), d, hops, originOf(root, l)) {
				s.cleared = true
			}
		}
		if !live && (s.cleared || state == protocol.StateExpired) {
			delete(e.state.sent[l.ID], d) // nothing more to send: keep memory bounded
		}
	}
}

func originOf(root *protocol.Message, l *protocol.Link) string {
	if root.Alert.Via != nil {
		return root.Alert.Via.Origin
	}
	return l.Name
}

// content builds the alert template to endorse: what the view shows, of
// the given kind (share: the root's own kind).
func content(root *protocol.Message, v api.Alert, kind protocol.Kind) *protocol.Alert {
	a := &protocol.Alert{Kind: root.Alert.Kind, Status: root.Alert.Status}
	if kind == protocol.KindClear {
		a.Kind, a.Reason, a.Note = protocol.KindClear, protocol.ClearAllClear, v.ClearNote
		return a
	}
	switch root.Alert.Kind {
	case protocol.KindSighting:
		a.What, a.Area, a.Size, a.Activity, a.Uniform, a.Equipment = v.What, v.Where, uint16(v.Size), v.Activity, v.Uniform, v.Equipment
		a.Quick = root.Alert.Quick
		if v.Observed != nil {
			a.Observed = *v.Observed
		}
	case protocol.KindCallout:
		a.Title, a.Area, a.When, a.Need, a.Bring, a.Rights, a.Card, a.Expires = v.Title, v.Where, v.When, uint16(v.Need), v.Bring, v.Rights, v.Card, v.Expires
	}
	return a
}

// contentHash hashes the fields of a callout that an update changes.
func contentHash(v api.Alert) [32]byte {
	return sha256.Sum256([]byte(strings.Join([]string{v.Title, v.Where, v.When, fmt.Sprint(v.Need), v.Bring, v.Rights, v.Card, v.Expires.UTC().String()}, "\x00")))
}

// sendEndorsement signs a as this node's endorsement and sends it over l.
func (e *linkEnds) sendEndorsement(ctx context.Context, z *zone, l *protocol.Link, a *protocol.Alert, d protocol.Digest, hops uint8, origin string) bool {
	a.Via = &protocol.Forward{Link: l.ID, Digest: d, Hops: hops, Origin: origin, At: e.node.now()}
	body, err := protocol.Endorse(e.id, a)
	if err == nil {
		err = e.sendFrame(ctx, l.Secret, l.PeerNode, protocol.FrameEndorse, l.ID, protocol.EncodeEndorsement(body, a.Via.Sig))
	}
	if err != nil {
		e.log.Warn("link: could not send", "kind", a.Kind)
		e.log.Debug("link: could not send", "zone", z.Name(), "link", l.Peer, "err", err)
		return false
	}
	e.log.Debug("link: sent", "zone", z.Name(), "link", l.Peer, "kind", a.Kind)
	return true
}

// sendTally sends the responder totals of a callout that came over l
// back to the zone it came from, if they changed.
func (e *linkEnds) sendTally(ctx context.Context, z *zone, l *protocol.Link, root *protocol.Message, d protocol.Digest, origin string, v api.Alert) {
	clamp := func(x int) uint16 { return uint16(min(max(x, 0), protocol.MaxTally)) }
	r := *v.Responders // the zone's own, and what its other links reported (capped)
	if v.LinkedResponders != nil {
		r.EnRoute += v.LinkedResponders.EnRoute
		r.OnScene += v.LinkedResponders.OnScene
		r.Cannot += v.LinkedResponders.Cannot
	}
	t := protocol.Tally{EnRoute: clamp(r.EnRoute), OnScene: clamp(r.OnScene), Cannot: clamp(r.Cannot)}
	s := e.state.get(l.ID, d)
	if s.tally == t {
		return
	}
	a := &protocol.Alert{Kind: protocol.KindTally, Status: root.Alert.Status, Tally: t}
	if e.sendEndorsement(ctx, z, l, a, d, 1, origin) {
		s.tally = t
	}
}
