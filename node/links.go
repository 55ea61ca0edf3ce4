package node

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"

	"lookout/crypto"
	"lookout/node/api"
	"lookout/protocol"
)

// Linked zones. A link's state in each zone is folded from that zone's
// KindLink governance messages (protocol.FoldLinks), so it is stored,
// synced and restored with the roster. Only the two link ends (one
// organizer's node per zone, the sender of that zone's accept) talk over
// linkProtocol; every other node only validates what its end relays.
//
// A request on linkProtocol is
//
//	u32 len | frame (protocol.SealLinkFrame)
//
// and the answer is u8 status (0 accepted, 1 refused) | u16 len | reason.
const linkProtocol = "/lookout/link/2"

const (
	linkTimeout      = 30 * time.Second
	linkStatusOK     = 0
	linkStatusRefuse = 1
	// linkAddrTTL is how long a link end's addresses stay in the peerstore.
	linkAddrTTL = peerstore.PermanentAddrTTL
)

// linkState is what this node remembers about what it sent over links it
// ends. It lives in memory: after a restart the node sends again and the
// other end drops what it already has (dedupe by digest).
type linkState struct {
	mu   sync.Mutex // serializes reconciling and sending; never held by handlers
	sent map[protocol.LinkID]map[protocol.Digest]*sentShare
	// in counts frames received per link, for the per-link rate limit.
	inMu sync.Mutex
	in   map[protocol.LinkID][]time.Time
	// ending marks links whose end this node received from the other end,
	// so it does not echo the end back.
	ending map[protocol.LinkID]bool
}

// sentShare is what crossed one link for one shared alert.
type sentShare struct {
	shared  bool
	cleared bool
	content [32]byte // hash of the last callout content sent
	tally   protocol.Tally
}

func (s *linkState) get(l protocol.LinkID, d protocol.Digest) *sentShare {
	if s.sent == nil {
		s.sent = map[protocol.LinkID]map[protocol.Digest]*sentShare{}
	}
	m := s.sent[l]
	if m == nil {
		m = map[protocol.Digest]*sentShare{}
		s.sent[l] = m
	}
	if m[d] == nil {
		m[d] = &sentShare{}
	}
	return m[d]
}

// allowIn records a frame received on link l at t and reports whether it
// is within protocol.MaxLinkMessages per protocol.RateWindow.
func (s *linkState) allowIn(l protocol.LinkID, t time.Time) bool {
	s.inMu.Lock()
	defer s.inMu.Unlock()
	if s.in == nil {
		s.in = map[protocol.LinkID][]time.Time{}
	}
	from := t.Add(-protocol.RateWindow)
	list := slices.DeleteFunc(s.in[l], func(x time.Time) bool { return !x.After(from) })
	if len(list) >= protocol.MaxLinkMessages {
		s.in[l] = list
		return false
	}
	s.in[l] = append(list, t)
	return true
}

// refoldLinks recomputes the zone's links. Callers hold z.mu.
func (z *zone) refoldLinks(msgs []*protocol.Message) {
	z.links = protocol.FoldLinks(msgs, func(m crypto.MemberID, sent time.Time) bool {
		mi := z.roster.Members[m]
		return mi != nil && mi.Removed && mi.RemovedAt.Before(sent)
	})
}

// endorser is the zone validator's hook: the key this zone accepted for
// the other end of an active link, if relay is this zone's end of it.
func (z *zone) endorser(id protocol.LinkID, relay crypto.MemberID) (*crypto.PublicKey, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	l := z.links[id]
	switch {
	case !l.Active():
		return nil, fmt.Errorf("%w: %s", protocol.ErrLink, id)
	case l.Endpoint != relay:
		return nil, fmt.Errorf("%w: relayed by %s, not this zone's end of the link", protocol.ErrNotAllowed, relay)
	}
	return l.PeerKey, nil
}

var errDuplicateShare = errors.New("this alert already crossed into the zone")

// checkForwardLocked applies the stateful rules for a message that
// crossed a link: at most once per digest for a shared alert, and the
// per-link rate limit instead of the relay's own. Callers hold z.mu.
func (z *zone) checkForwardLocked(msg *protocol.Message) error {
	a := msg.Alert
	if a.IsRoot() {
		for _, r := range z.roots {
			if digestOf(r) == a.Via.Digest {
				return errDuplicateShare
			}
		}
	}
	if z.linkRates == nil {
		z.linkRates = map[protocol.LinkID][]time.Time{}
	}
	from := a.Sent.Add(-protocol.RateWindow)
	n := 0
	for _, t := range z.linkRates[a.Via.Link] {
		if t.After(from) && !t.After(a.Sent) {
			n++
		}
	}
	if n >= protocol.MaxLinkMessages {
		return fmt.Errorf("%w: link %s", errRateLimit, a.Via.Link)
	}
	z.linkRates[a.Via.Link] = append(slices.DeleteFunc(z.linkRates[a.Via.Link], func(t time.Time) bool {
		return !t.After(a.Sent.Add(-2 * protocol.RateWindow))
	}), a.Sent)
	return nil
}

// digestOf names a root on every link: the digest it came with, or the
// digest of its own ID.
func digestOf(m *protocol.Message) protocol.Digest {
	if m.Alert.Via != nil {
		return m.Alert.Via.Digest
	}
	return protocol.ShareDigest(m.ID)
}

// linkViewLocked adds what links say to an alert's view: the link it
// came over and the responder totals of linked zones. Callers hold z.mu.
func (n *Node) linkViewLocked(z *zone, root *protocol.Message, ups []*protocol.Message, out *api.Alert) {
	if v := root.Alert.Via; v != nil {
		if l := z.links[v.Link]; l != nil {
			out.Via = l.Peer
		}
		out.Origin = v.Origin
	}
	if root.Alert.Kind != protocol.KindCallout || out.Responders == nil {
		return
	}
	latest := map[protocol.LinkID]*protocol.Message{}
	for _, u := range ups {
		a := u.Alert
		if a.Kind != protocol.KindTally || a.Ref != root.ID || a.Via == nil || z.roster.Removed(a.Sender) {
			continue
		}
		if p := latest[a.Via.Link]; p == nil || a.Via.At.After(p.Alert.Via.At) || (a.Via.At.Equal(p.Alert.Via.At) && a.Sent.After(p.Alert.Sent)) {
			latest[a.Via.Link] = u
		}
	}
	if len(latest) == 0 {
		return
	}
	linked := &api.Responders{}
	for _, u := range latest {
		t := u.Alert.Tally
		linked.EnRoute += int(t.EnRoute)
		linked.OnScene += int(t.OnScene)
		linked.Cannot += int(t.Cannot)
	}
	out.LinkedResponders = linked
	out.Responders.EnRoute += linked.EnRoute
	out.Responders.OnScene += linked.OnScene
	out.Responders.Cannot += linked.Cannot
}

// ---- control API ----

// LinkOffer publishes a link offer in a zone and returns its code, for an
// organizer of the other zone (control API).
func (n *Node) LinkOffer(ctx context.Context, req api.LinkOfferRequest) (api.LinkOffer, error) {
	z, err := n.zone(req.Zone)
	if err != nil {
		return api.LinkOffer{}, err
	}
	if err := n.requireOrganizer(z, "link zones"); err != nil {
		return api.LinkOffer{}, err
	}
	name, err := linkName(req.Name, z.rec.Name)
	if err != nil {
		return api.LinkOffer{}, err
	}
	ttl := req.TTL
	if ttl == 0 {
		ttl = protocol.DefaultLinkOfferTTL
	}
	if ttl < time.Minute || ttl > protocol.MaxLinkOfferTTL {
		return api.LinkOffer{}, fmt.Errorf("%w: a link offer lasts 1m to %s", api.ErrInvalid, protocol.MaxLinkOfferTTL)
	}
	node, err := n.linkNode()
	if err != nil {
		return api.LinkOffer{}, err
	}
	rec := &protocol.LinkRecord{Op: protocol.LinkOffer, Name: name, Until: n.now().Add(ttl).Truncate(time.Millisecond).UTC()}
	if _, err := io.ReadFull(n.rand(), rec.ID[:]); err != nil {
		return api.LinkOffer{}, fmt.Errorf("create link offer: %w", err)
	}
	if _, err := io.ReadFull(n.rand(), rec.Secret[:]); err != nil {
		return api.LinkOffer{}, fmt.Errorf("create link offer: %w", err)
	}
	code, err := (&protocol.LinkOfferCode{ID: rec.ID, Secret: rec.Secret, Name: name, Until: rec.Until, Key: n.id.Public().Bytes(), Node: node}).Code()
	if err != nil {
		return api.LinkOffer{}, err
	}
	a := n.newAlert(protocol.KindLink, false, protocol.MaxLifetime)
	a.Link = rec
	if _, err := n.publish(ctx, z, a); err != nil {
		return api.LinkOffer{}, fmt.Errorf("publish link offer: %w", err)
	}
	return api.LinkOffer{Code: code, Link: rec.ID.String(), Name: name, Expires: rec.Until}, nil
}

// linkName checks a link name, defaulting to def.
func linkName(name, def string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		name = def
	}
	if len(name) > protocol.MaxLinkNameLen || strings.ContainsAny(name, "\n\r\t") || protocol.CheckText(name) != nil {
		return "", fmt.Errorf("%w: a link name is 1 to %d characters on one line", api.ErrInvalid, protocol.MaxLinkNameLen)
	}
	return name, nil
}

// linkNode encodes how to reach this node.
func (n *Node) linkNode() ([]byte, error) {
	var addrs [][]byte
	for _, a := range n.h.Addrs() {
		if b := a.Bytes(); len(b) <= protocol.MaxAddrLen {
			addrs = append(addrs, b)
		}
	}
	return protocol.EncodeLinkNode([]byte(n.h.ID()), addrs)
}

// AcceptLink accepts another zone's link offer for a zone: it introduces
// this organizer to the offering end, which records the link in its zone,
// then records it here (control API).
func (n *Node) AcceptLink(ctx context.Context, req api.AcceptLinkRequest) (api.Link, error) {
	z, err := n.zone(req.Zone)
	if err != nil {
		return api.Link{}, err
	}
	if err := n.requireOrganizer(z, "link zones"); err != nil {
		return api.Link{}, err
	}
	o, err := protocol.ParseLinkCode(req.Code)
	if err != nil {
		return api.Link{}, fmt.Errorf("%w: %w", api.ErrInvalid, err)
	}
	if !n.now().Before(o.Until) {
		return api.Link{}, fmt.Errorf("%w: %w at %s; ask the other zone's organizer for a new code", api.ErrInvalid, protocol.ErrLinkExpired, o.Until.Format(time.RFC3339))
	}
	z.mu.Lock()
	l := z.links[o.ID]
	z.mu.Unlock()
	switch {
	case l != nil && !l.OfferedBy.IsZero():
		return api.Link{}, fmt.Errorf("%w: %w: zone %q made this code; accept it in the other zone", api.ErrInvalid, protocol.ErrLinkWrongEnd, z.rec.Name)
	case l != nil:
		return api.Link{}, fmt.Errorf("%w: %w: zone %q already accepted it", api.ErrInvalid, protocol.ErrLinkUsed, z.rec.Name)
	}
	n.mu.Lock()
	for _, other := range n.zones {
		other.mu.Lock()
		ol := other.links[o.ID]
		other.mu.Unlock()
		if ol != nil && other != z {
			n.mu.Unlock()
			return api.Link{}, fmt.Errorf("%w: %w: this code is already used by your zone %q", api.ErrInvalid, protocol.ErrLinkWrongEnd, other.rec.Name)
		}
	}
	n.mu.Unlock()
	name, err := linkName(req.Name, z.rec.Name)
	if err != nil {
		return api.Link{}, err
	}
	node, err := n.linkNode()
	if err != nil {
		return api.Link{}, err
	}
	hello, err := protocol.SignLinkHello(n.id, o.ID, name, node, n.now())
	if err != nil {
		return api.Link{}, fmt.Errorf("%w: %w", api.ErrInvalid, err)
	}
	payload, err := hello.MarshalBinary()
	if err != nil {
		return api.Link{}, err
	}
	if err := n.sendFrame(ctx, o.Secret, o.Node, protocol.FrameAccept, o.ID, payload); err != nil {
		return api.Link{}, fmt.Errorf("accept link: %w", err)
	}
	a := n.newAlert(protocol.KindLink, false, protocol.MaxLifetime)
	a.Link = &protocol.LinkRecord{Op: protocol.LinkAccept, ID: o.ID, Secret: o.Secret, Name: name, Peer: o.Name, PeerKey: o.Key, PeerNode: o.Node}
	if _, err := n.publish(ctx, z, a); err != nil {
		return api.Link{}, fmt.Errorf("record link: %w", err)
	}
	return n.linkInfo(z, o.ID)
}

// Links lists a zone's links, ended ones included (control API).
func (n *Node) Links(zoneRef string) ([]api.Link, error) {
	z, err := n.zone(zoneRef)
	if err != nil {
		return nil, err
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	out := []api.Link{}
	for _, l := range z.links {
		out = append(out, linkView(l))
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Peer != out[j].Peer {
			return out[i].Peer < out[j].Peer
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

func linkView(l *protocol.Link) api.Link {
	v := api.Link{ID: l.ID.String(), Name: l.Name, Peer: l.Peer, State: "offered"}
	switch {
	case l.Ended:
		v.State = "ended"
	case l.Accepted:
		v.State = "active"
	}
	if l.Accepted {
		since := l.Since
		v.Since = &since
		v.Endpoint = l.Endpoint.String()
		v.PeerEndorser = l.PeerKey.ID().String()
	}
	if !l.Accepted && !l.Until.IsZero() {
		until := l.Until
		v.Expires = &until
	}
	return v
}

func (n *Node) linkInfo(z *zone, id protocol.LinkID) (api.Link, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	l := z.links[id]
	if l == nil {
		return api.Link{}, fmt.Errorf("%w: link %s", api.ErrNotFound, id)
	}
	return linkView(l), nil
}

// findLinkLocked resolves a link by ID, unique ID prefix (8+ hex
// characters) or unique peer name. Callers hold z.mu.
func (z *zone) findLinkLocked(ref string) (*protocol.Link, error) {
	ref = strings.TrimSpace(ref)
	var found *protocol.Link
	for _, l := range z.links {
		id := l.ID.String()
		if id == ref || (len(ref) >= 8 && strings.HasPrefix(id, strings.ToLower(ref))) || (l.Peer != "" && l.Peer == ref && !l.Ended) {
			if found != nil && found != l {
				return nil, fmt.Errorf("%w: %q matches more than one link; use the link ID", api.ErrInvalid, ref)
			}
			found = l
		}
	}
	if found == nil {
		return nil, fmt.Errorf("%w: no link %q in zone %q; see lookout zone links", api.ErrNotFound, ref, z.rec.Name)
	}
	return found, nil
}

// Unlink ends a link (or withdraws an offer) for this zone; the zone's end
// tells the other end, which ends it there too (control API).
func (n *Node) Unlink(ctx context.Context, zoneRef, linkRef string) (api.Link, error) {
	z, err := n.zone(zoneRef)
	if err != nil {
		return api.Link{}, err
	}
	if err := n.requireOrganizer(z, "end links"); err != nil {
		return api.Link{}, err
	}
	z.mu.Lock()
	l, err := z.findLinkLocked(linkRef)
	z.mu.Unlock()
	if err != nil {
		return api.Link{}, err
	}
	if l.Ended {
		return api.Link{}, fmt.Errorf("%w: link %s has already ended", api.ErrInvalid, l.ID)
	}
	a := n.newAlert(protocol.KindLink, false, protocol.MaxLifetime)
	a.Link = &protocol.LinkRecord{Op: protocol.LinkEnd, ID: l.ID}
	if _, err := n.publish(ctx, z, a); err != nil {
		return api.Link{}, fmt.Errorf("end link: %w", err)
	}
	return n.linkInfo(z, l.ID)
}

// Share marks an alert shared over the zone's links, crossing up to hops
// links (control API). Only verified sightings and callouts are shared.
func (n *Node) Share(ctx context.Context, req api.ShareRequest) (api.Alert, error) {
	hops := req.Hops
	if hops == 0 {
		hops = protocol.DefaultShareHops
	}
	if hops < 1 || hops > protocol.MaxShareHops {
		return api.Alert{}, fmt.Errorf("%w: hops must be 1 to %d", api.ErrInvalid, protocol.MaxShareHops)
	}
	z, root, err := n.findAlert(req.Alert)
	if err != nil {
		return api.Alert{}, err
	}
	st := z.snapshot()
	switch {
	case st.removed:
		return api.Alert{}, fmt.Errorf("%w: you were removed from zone %q", api.ErrForbidden, z.rec.Name)
	case st.role == protocol.RoleMember:
		return api.Alert{}, fmt.Errorf("%w: only verifiers and organizers share alerts; you are a member of zone %q", api.ErrForbidden, z.rec.Name)
	case root.Alert.Via != nil:
		return api.Alert{}, fmt.Errorf("%w: alert %s came over a link; the zone it came from decides how far it goes", api.ErrInvalid, root.ID)
	}
	cur, err := n.view(z, root.ID)
	if err != nil {
		return api.Alert{}, err
	}
	switch protocol.State(cur.State) {
	case protocol.StateVerified, protocol.StateActive, protocol.StateAwaitingCosign:
	case protocol.StateCleared, protocol.StateExpired:
		return api.Alert{}, fmt.Errorf("%w: alert %s has ended; nothing to share", api.ErrInvalid, root.ID)
	default:
		return api.Alert{}, fmt.Errorf("%w: alert %s is %s; only verified sightings and callouts cross links: confirm it first", api.ErrInvalid, root.ID, cur.State)
	}
	z.mu.Lock()
	active := 0
	for _, l := range z.links {
		if l.Active() {
			active++
		}
	}
	z.mu.Unlock()
	if active == 0 {
		return api.Alert{}, fmt.Errorf("%w: zone %q has no active links; see lookout zone link", api.ErrInvalid, z.rec.Name)
	}
	a := n.newAlert(protocol.KindShare, false, protocol.DefaultUpdateTTL)
	a.Hops = uint8(hops)
	return n.update(ctx, z, root, a)
}

// ---- relaying ----

// onStored runs after a message was stored: this node's link ends act on
// it in the background (share, follow the lifecycle, count responders,
// pass on an end).
func (n *Node) onStored(z *zone, msg *protocol.Message) {
	if msg.Alert.Kind != protocol.KindLink {
		z.mu.Lock()
		mine := len(n.myLinksLocked(z))
		z.mu.Unlock()
		if mine == 0 {
			return // this node ends no link of the zone
		}
	}
	n.spawn(func() {
		ctx, cancel := context.WithTimeout(n.ctx, linkTimeout)
		defer cancel()
		if msg.Alert.Kind == protocol.KindLink {
			n.onLinkRecord(ctx, z, msg)
			return
		}
		if msg.Alert.Kind.IsGovernance() {
			return
		}
		target := msg.ID
		if msg.Alert.IsUpdate() {
			target = msg.Alert.Ref
		}
		n.reconcile(ctx, z, target)
	})
}

// myLinksLocked returns the zone's active links this node ends. Callers
// hold z.mu.
func (n *Node) myLinksLocked(z *zone) []*protocol.Link {
	var out []*protocol.Link
	for _, l := range z.links {
		if l.Active() && l.Endpoint == n.id.ID() {
			out = append(out, l)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID.String() < out[j].ID.String() })
	return out
}

func (n *Node) onLinkRecord(ctx context.Context, z *zone, msg *protocol.Message) {
	r := msg.Alert.Link
	z.mu.Lock()
	l := z.links[r.ID]
	var roots []protocol.AlertID
	if r.Op == protocol.LinkAccept && l.Active() && l.Endpoint == n.id.ID() {
		for id := range z.roots {
			roots = append(roots, id)
		}
	}
	z.mu.Unlock()
	if l == nil {
		return
	}
	for _, id := range roots {
		n.reconcile(ctx, z, id) // a new link: share what is already marked shared
	}
	if r.Op != protocol.LinkEnd || !l.Ended || !l.Accepted || l.Endpoint != n.id.ID() {
		return
	}
	n.links.mu.Lock()
	echoed := n.links.ending[l.ID]
	n.links.mu.Unlock()
	if echoed {
		return
	}
	payload, err := protocol.SignLinkEnd(n.id, l.ID, n.now())
	if err == nil {
		err = n.sendFrame(ctx, l.Secret, l.PeerNode, protocol.FrameEnd, l.ID, payload)
	}
	if err != nil {
		n.log.Warn("could not tell the other zone the link ended", "zone", z.rec.Name, "link", l.ID, "err", err)
	}
}

// reconcile brings what this node's link ends sent about one alert up to
// date: the share, callout updates, the all clear, and (for an alert
// that came over a link) the responder totals going back.
func (n *Node) reconcile(ctx context.Context, z *zone, target protocol.AlertID) {
	n.links.mu.Lock()
	defer n.links.mu.Unlock()
	z.mu.Lock()
	mine := n.myLinksLocked(z)
	c, ok := n.cardOfLocked(z, target)
	var root *protocol.Message
	var hops uint8
	var share bool
	policy := z.roster.Settings.AutoShare
	if ok {
		// The card's ID (its incident's first sighting, or the callout)
		// names it on every link.
		if id, err := protocol.ParseAlertID(c.view.ID); err == nil {
			root = z.roots[id]
		}
		for _, id := range c.roots {
			m := z.roots[id]
			for _, u := range z.updates[id] {
				if u.Alert.Kind == protocol.KindShare && !z.roster.Removed(u.Alert.Sender) && u.Alert.Status == m.Alert.Status {
					hops = max(hops, u.Alert.Hops)
				}
			}
		}
	}
	z.mu.Unlock()
	if !ok || root == nil || len(mine) == 0 {
		return
	}
	v := c.view
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
		a := n.newAlert(protocol.KindShare, false, protocol.DefaultUpdateTTL)
		a.Hops = protocol.DefaultShareHops
		a.Ref = root.ID
		if root.Alert.Exercise() {
			a.Status = protocol.StatusExercise
		}
		if _, err := n.publish(ctx, z, a); err != nil {
			n.log.Warn("auto-share", "zone", z.rec.Name, "alert", root.ID, "err", err)
		}
		return
	}
	share = hops > 0
	d := digestOf(root)
	for _, l := range mine {
		if l.ID == from {
			if root.Alert.Kind == protocol.KindCallout && v.Responders != nil && live {
				n.sendTally(ctx, z, l, root, d, origin, v)
			} else if !live {
				delete(n.links.sent[l.ID], d)
			}
			continue
		}
		if !share {
			continue
		}
		s := n.links.get(l.ID, d)
		if !s.shared && live {
			if n.sendEndorsement(ctx, z, l, content(root, v, protocol.KindShare), d, hops, originOf(root, l)) {
				s.shared = true
				s.content = contentHash(v)
			}
		}
		if !s.shared {
			if !live {
				delete(n.links.sent[l.ID], d)
			}
			continue
		}
		if root.Alert.Kind == protocol.KindCallout && live && s.content != contentHash(v) {
			if n.sendEndorsement(ctx, z, l, content(root, v, protocol.KindCallout), d, hops, originOf(root, l)) {
				s.content = contentHash(v)
			}
		}
		// However it ended here (an all clear, or its sender withdrew
		// it), it ends over there with an all clear.
		if state == protocol.StateCleared && !s.cleared {
			if n.sendEndorsement(ctx, z, l, content(root, v, protocol.KindClear), d, hops, originOf(root, l)) {
				s.cleared = true
			}
		}
		if !live && (s.cleared || state == protocol.StateExpired) {
			delete(n.links.sent[l.ID], d) // nothing more to send: keep memory bounded
		}
	}
}

func originOf(root *protocol.Message, l *protocol.Link) string {
	if root.Alert.Via != nil {
		return root.Alert.Via.Origin
	}
	return l.Name
}

// cardOfLocked returns the card id belongs to. Callers hold z.mu.
func (n *Node) cardOfLocked(z *zone, id protocol.AlertID) (card, bool) {
	for _, c := range n.cardsLocked(z) {
		if slices.Contains(c.roots, id) {
			return c, true
		}
	}
	return card{}, false
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
		if v.Observed != nil {
			a.Observed = *v.Observed
		}
	case protocol.KindCallout:
		a.Title, a.Area, a.When, a.Need, a.Bring, a.Rights, a.Expires = v.Title, v.Where, v.When, uint16(v.Need), v.Bring, v.Rights, v.Expires
	}
	return a
}

// contentHash hashes the fields of a callout that an update changes.
func contentHash(v api.Alert) [32]byte {
	return sha256.Sum256([]byte(strings.Join([]string{v.Title, v.Where, v.When, fmt.Sprint(v.Need), v.Bring, v.Rights, v.Expires.UTC().String()}, "\x00")))
}

// sendEndorsement signs a as this node's endorsement and sends it over l.
func (n *Node) sendEndorsement(ctx context.Context, z *zone, l *protocol.Link, a *protocol.Alert, d protocol.Digest, hops uint8, origin string) bool {
	a.Via = &protocol.Forward{Link: l.ID, Digest: d, Hops: hops, Origin: origin, At: n.now()}
	body, err := protocol.Endorse(n.id, a)
	if err == nil {
		err = n.sendFrame(ctx, l.Secret, l.PeerNode, protocol.FrameEndorse, l.ID, protocol.EncodeEndorsement(body, a.Via.Sig))
	}
	if err != nil {
		n.log.Warn("link: could not send", "zone", z.rec.Name, "link", l.Peer, "kind", a.Kind, "err", err)
		return false
	}
	n.log.Info("link: sent", "zone", z.rec.Name, "link", l.Peer, "kind", a.Kind)
	return true
}

// sendTally sends the responder totals of a callout that came over l
// back to the zone it came from, if they changed.
func (n *Node) sendTally(ctx context.Context, z *zone, l *protocol.Link, root *protocol.Message, d protocol.Digest, origin string, v api.Alert) {
	clamp := func(x int) uint16 { return uint16(min(max(x, 0), protocol.MaxTally)) }
	t := protocol.Tally{EnRoute: clamp(v.Responders.EnRoute), OnScene: clamp(v.Responders.OnScene), Cannot: clamp(v.Responders.Cannot)}
	s := n.links.get(l.ID, d)
	if s.tally == t {
		return
	}
	a := &protocol.Alert{Kind: protocol.KindTally, Status: root.Alert.Status, Tally: t}
	if n.sendEndorsement(ctx, z, l, a, d, 1, origin) {
		s.tally = t
	}
}

// sendFrame seals payload for link id and sends it to the link end node,
// returning the other end's refusal as an error.
func (n *Node) sendFrame(ctx context.Context, secret [protocol.LinkSecretSize]byte, node []byte, typ uint8, id protocol.LinkID, payload []byte) error {
	frame, err := protocol.SealLinkFrame(secret, typ, id, payload, n.rand())
	if err != nil {
		return err
	}
	pb, addrs, err := protocol.ParseLinkNode(node)
	if err != nil {
		return err
	}
	ai, err := addrInfo(protocol.PeerRecord{ID: pb, Addrs: addrs})
	if err != nil {
		return err
	}
	if ai.ID == n.h.ID() {
		return fmt.Errorf("%w: the link's other end is this node; link two zones whose organizers run different nodes", api.ErrInvalid)
	}
	ctx, cancel := context.WithTimeout(ctx, linkTimeout)
	defer cancel()
	n.h.Peerstore().AddAddrs(ai.ID, ai.Addrs, linkAddrTTL)
	if err := n.h.Connect(ctx, ai); err != nil {
		return fmt.Errorf("cannot reach the other zone's link end; it must be online, try again later: %w", err)
	}
	s, err := n.h.NewStream(ctx, ai.ID, linkProtocol)
	if err != nil {
		return fmt.Errorf("open link stream: %w", err)
	}
	defer s.Close()
	if dl, ok := ctx.Deadline(); ok {
		s.SetDeadline(dl)
	}
	w := bufio.NewWriter(s)
	var b4 [4]byte
	binary.BigEndian.PutUint32(b4[:], uint32(len(frame)))
	w.Write(b4[:])
	w.Write(frame)
	if err := w.Flush(); err != nil {
		return fmt.Errorf("send link frame: %w", err)
	}
	s.CloseWrite()
	r := bufio.NewReader(s)
	var head [3]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return fmt.Errorf("read link answer: %w", err)
	}
	if head[0] == linkStatusOK {
		return nil
	}
	l := int(binary.BigEndian.Uint16(head[1:]))
	if l > protocol.MaxLinkReasonLen {
		return errors.New("link refused: reason too long")
	}
	reason := make([]byte, l)
	if _, err := io.ReadFull(r, reason); err != nil {
		return fmt.Errorf("read link answer: %w", err)
	}
	return fmt.Errorf("%w: the other end refused: %s", api.ErrInvalid, sanitize(string(reason)))
}

// handleLink answers one frame from another zone's link end.
func (n *Node) handleLink(s network.Stream) {
	defer s.Close()
	s.SetDeadline(time.Now().Add(linkTimeout))
	r := bufio.NewReader(s)
	var b4 [4]byte
	if _, err := io.ReadFull(r, b4[:]); err != nil {
		s.Reset()
		return
	}
	size := binary.BigEndian.Uint32(b4[:])
	if size > protocol.MaxLinkFrameSize {
		s.Reset()
		return
	}
	frame := make([]byte, size)
	if _, err := io.ReadFull(r, frame); err != nil {
		s.Reset()
		return
	}
	err := n.handleFrame(s.Conn().RemotePeer(), frame)
	answer := []byte{linkStatusOK, 0, 0}
	if err != nil {
		n.log.Info("link: refused a frame", "peer", s.Conn().RemotePeer(), "err", err)
		reason := err.Error()
		if len(reason) > protocol.MaxLinkReasonLen {
			reason = reason[:protocol.MaxLinkReasonLen]
		}
		answer = append([]byte{linkStatusRefuse}, binary.BigEndian.AppendUint16(nil, uint16(len(reason)))...)
		answer = append(answer, reason...)
	}
	s.Write(answer)
}

var errNoLink = errors.New("no such link here")

// handleFrame checks and applies one frame. The link ID in the frame
// header finds the zone; the frame must open with that link's secret.
func (n *Node) handleFrame(from peer.ID, frame []byte) error {
	typ, id, err := protocol.LinkFrameHeader(frame)
	if err != nil {
		return err
	}
	var z *zone
	var l protocol.Link
	for _, zz := range n.liveZones() {
		zz.mu.Lock()
		if x := zz.links[id]; x != nil {
			z, l = zz, *x
		}
		zz.mu.Unlock()
		if z != nil {
			break
		}
	}
	if z == nil {
		return errNoLink
	}
	typ, payload, err := protocol.OpenLinkFrame(l.Secret, frame)
	if err != nil {
		return errNoLink
	}
	now := n.now()
	if !n.links.allowIn(id, now) {
		return fmt.Errorf("%w: too many messages on this link; wait a few minutes", errRateLimit)
	}
	ctx, cancel := context.WithTimeout(n.ctx, linkTimeout)
	defer cancel()
	switch typ {
	case protocol.FrameAccept:
		return n.acceptHello(ctx, z, &l, payload, now)
	case protocol.FrameEndorse:
		if !l.Active() || l.Endpoint != n.id.ID() {
			return protocol.ErrLink
		}
		a, err := protocol.ParseEndorsementFrame(payload)
		if err != nil {
			return err
		}
		if a.Via.Link != id {
			return fmt.Errorf("%w: endorsement for another link", protocol.ErrLink)
		}
		if err := protocol.VerifyEndorsement(l.PeerKey, a); err != nil {
			return err
		}
		return n.relay(ctx, z, &l, a)
	case protocol.FrameEnd:
		if !l.Accepted || l.PeerKey == nil {
			return protocol.ErrLink
		}
		if err := protocol.VerifyLinkEnd(l.PeerKey, id, payload); err != nil {
			return err
		}
		if l.Ended {
			return nil
		}
		n.links.mu.Lock()
		if n.links.ending == nil {
			n.links.ending = map[protocol.LinkID]bool{}
		}
		n.links.ending[id] = true
		n.links.mu.Unlock()
		a := n.newAlert(protocol.KindLink, false, protocol.MaxLifetime)
		a.Link = &protocol.LinkRecord{Op: protocol.LinkEnd, ID: id}
		_, err := n.publish(ctx, z, a)
		return err
	}
	return fmt.Errorf("%w: frame type %d", protocol.ErrEnum, typ)
}

// acceptHello records the link in the offering zone once the other
// zone's organizer has introduced itself with a valid code.
func (n *Node) acceptHello(ctx context.Context, z *zone, l *protocol.Link, payload []byte, now time.Time) error {
	if err := protocol.CheckAccept(l, now); err != nil {
		return err
	}
	if l.OfferedBy != n.id.ID() {
		return fmt.Errorf("%w: this node did not make the offer", protocol.ErrLinkWrongEnd)
	}
	if err := n.requireOrganizer(z, "link zones"); err != nil {
		return err
	}
	h, pk, err := protocol.ParseLinkHello(l.ID, payload)
	if err != nil {
		return err
	}
	if pk.ID() == n.id.ID() {
		return fmt.Errorf("%w: a zone cannot be linked by the same organizer on both sides", protocol.ErrLinkWrongEnd)
	}
	a := n.newAlert(protocol.KindLink, false, protocol.MaxLifetime)
	a.Link = &protocol.LinkRecord{Op: protocol.LinkAccept, ID: l.ID, Secret: l.Secret, Name: l.Name, Peer: h.Name, PeerKey: h.Key, PeerNode: h.Node}
	if _, err := n.publish(ctx, z, a); err != nil {
		return fmt.Errorf("record link: %w", err)
	}
	n.log.Info("link made", "zone", z.rec.Name, "peer", h.Name)
	return nil
}

// relay publishes an endorsement from the other end in this zone, as
// this organizer's message carrying the endorsement. What the zone
// already has is not published again.
func (n *Node) relay(ctx context.Context, z *zone, l *protocol.Link, t *protocol.Alert) error {
	d := t.Via.Digest
	z.mu.Lock()
	var root *protocol.Message
	for _, r := range z.roots {
		if digestOf(r) == d {
			root = r
		}
	}
	var view api.Alert
	var haveView bool
	var latest time.Time
	if root != nil {
		view, haveView = n.viewOfLocked(z, root.ID)
		if root.Alert.Via != nil {
			latest = root.Alert.Via.At
		}
		for _, u := range z.updates[root.ID] {
			if u.Alert.Via != nil && u.Alert.Via.Link == l.ID && u.Alert.Kind == t.Kind && u.Alert.Via.At.After(latest) {
				latest = u.Alert.Via.At
			}
		}
	}
	z.mu.Unlock()
	fromHere := root != nil && root.Alert.Via != nil && root.Alert.Via.Link == l.ID
	a := n.newAlert(t.Kind, t.Status == protocol.StatusExercise, protocol.DefaultUpdateTTL)
	a.Via = t.Via
	switch t.Kind {
	case protocol.KindSighting:
		if root != nil {
			return nil // already here: an alert crosses into a zone once
		}
		a.Expires = a.Sent.Add(protocol.MaxLifetime)
		a.What, a.Area, a.Size, a.Activity, a.Uniform, a.Equipment, a.Observed = t.What, t.Area, t.Size, t.Activity, t.Uniform, t.Equipment, t.Observed
	case protocol.KindCallout:
		if root != nil && (!fromHere || !t.Via.At.After(latest)) {
			return nil
		}
		if root != nil {
			a.Ref = root.ID
		}
		a.Expires = t.Expires
		if !a.Expires.After(a.Sent) {
			return fmt.Errorf("%w: the callout has expired", protocol.ErrExpired)
		}
		a.Title, a.Area, a.When, a.Need, a.Bring, a.Rights = t.Title, t.Area, t.When, t.Need, t.Bring, t.Rights
	case protocol.KindClear:
		if root == nil || !fromHere {
			return fmt.Errorf("%w: no alert %s came over this link", api.ErrNotFound, d)
		}
		if haveView && view.State == string(protocol.StateCleared) {
			return nil
		}
		a.Ref, a.Reason, a.Note = root.ID, t.Reason, t.Note
	case protocol.KindTally:
		if root == nil || root.Alert.Kind != protocol.KindCallout || fromHere {
			return fmt.Errorf("%w: no callout %s was shared over this link", api.ErrNotFound, d)
		}
		if !t.Via.At.After(latest) {
			return nil
		}
		a.Ref, a.Tally = root.ID, t.Tally
	default:
		return fmt.Errorf("%w: %s does not cross links", protocol.ErrKind, t.Kind)
	}
	if root != nil && a.Status != root.Alert.Status {
		return fmt.Errorf("%w: status differs from the shared alert", protocol.ErrEnum)
	}
	if _, err := n.publish(ctx, z, a); err != nil {
		return fmt.Errorf("relay into zone: %w", err)
	}
	return nil
}
