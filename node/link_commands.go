package node

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"lookout/node/api"
	"lookout/node/reach"
	"lookout/protocol"
)

// Link verbs of the control API: offer, accept, list, unlink, share.

// LinkOffer publishes a link offer in a zone and returns its code, for an
// organizer of the other zone (control API).
func (n *Node) LinkOffer(ctx context.Context, req api.LinkOfferRequest) (api.LinkOffer, error) {
	z, err := n.zone(req.Zone)
	if err != nil {
		return api.LinkOffer{}, err
	}
	if err := z.requireOrganizer("link"); err != nil {
		return api.LinkOffer{}, err
	}
	name, err := linkName(req.Name, z.Name())
	if err != nil {
		return api.LinkOffer{}, err
	}
	ttl := req.TTL
	if ttl == 0 {
		ttl = protocol.DefaultLinkOfferTTL
	}
	if ttl < time.Minute || ttl > protocol.MaxLinkOfferTTL {
		return api.LinkOffer{}, api.Fail(api.ErrInvalid, "link.ttl", "Max", protocol.MaxLinkOfferTTL)
	}
	node, err := n.links.linkNode()
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
	if utf8.RuneCountInString(name) > protocol.MaxLinkNameLen || strings.ContainsAny(name, "\n\r\t") || protocol.CheckText(name) != nil {
		return "", api.Fail(api.ErrInvalid, "link.name", "Max", protocol.MaxLinkNameLen)
	}
	return name, nil
}

// linkNode encodes how to reach this node.
func (e *linkEnds) linkNode() ([]byte, error) {
	var addrs [][]byte
	for _, a := range reach.Dialable(e.h.Addrs(), len(e.h.Addrs())) {
		if b := a.Bytes(); len(b) <= protocol.MaxAddrLen {
			addrs = append(addrs, b)
		}
	}
	return protocol.EncodeLinkNode([]byte(e.h.ID()), addrs)
}

// AcceptLink accepts another zone's link offer for a zone: it introduces
// this organizer to the offering end, which records the link in its zone,
// then records it here (control API).
func (n *Node) AcceptLink(ctx context.Context, req api.AcceptLinkRequest) (api.Link, error) {
	z, err := n.zone(req.Zone)
	if err != nil {
		return api.Link{}, err
	}
	if err := z.requireOrganizer("link"); err != nil {
		return api.Link{}, err
	}
	o, err := protocol.ParseLinkCode(req.Code)
	if err != nil {
		return api.Link{}, api.Fail(api.ErrInvalid, "link.badcode", "Detail", strings.TrimPrefix(err.Error(), protocol.ErrBadLinkCode.Error()+": ")).With(err)
	}
	if !n.now().Before(o.Until) {
		return api.Link{}, api.Fail(api.ErrInvalid, "linkcode.expired", "At", o.Until.Format(time.RFC3339)).With(protocol.ErrLinkExpired)
	}
	l := z.Link(o.ID)
	switch {
	case l != nil && !l.OfferedBy.IsZero():
		return api.Link{}, api.Fail(api.ErrInvalid, "linkcode.ownzone", "Zone", api.Quote(z.Name())).With(protocol.ErrLinkWrongEnd)
	case l != nil:
		return api.Link{}, api.Fail(api.ErrInvalid, "linkcode.used", "Zone", api.Quote(z.Name())).With(protocol.ErrLinkUsed)
	}
	n.mu.Lock()
	for _, other := range n.zones {
		if other != z && other.Link(o.ID) != nil {
			n.mu.Unlock()
			return api.Link{}, api.Fail(api.ErrInvalid, "linkcode.otherown", "Zone", api.Quote(other.Name())).With(protocol.ErrLinkWrongEnd)
		}
	}
	n.mu.Unlock()
	name, err := linkName(req.Name, z.Name())
	if err != nil {
		return api.Link{}, err
	}
	node, err := n.links.linkNode()
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
	if err := n.links.sendFrame(ctx, o.Secret, o.Node, protocol.FrameAccept, o.ID, payload); err != nil {
		return api.Link{}, fmt.Errorf("accept link: %w", err)
	}
	a := n.newAlert(protocol.KindLink, false, protocol.MaxLifetime)
	a.Link = &protocol.LinkRecord{Op: protocol.LinkAccept, ID: o.ID, Secret: o.Secret, Name: name, Peer: o.Name, PeerKey: o.Key, PeerNode: o.Node}
	if _, err := n.publish(ctx, z, a); err != nil {
		return api.Link{}, fmt.Errorf("record link: %w", err)
	}
	return z.linkInfo(o.ID)
}

// Links lists a zone's links, ended ones included (control API).
func (n *Node) Links(zoneRef string) ([]api.Link, error) {
	z, err := n.zone(zoneRef)
	if err != nil {
		return nil, err
	}
	out := []api.Link{}
	for _, l := range z.Links() {
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

// linkInfo shows the zone's link id, or says there is none.
func (z *zone) linkInfo(id protocol.LinkID) (api.Link, error) {
	l := z.Link(id)
	if l == nil {
		return api.Link{}, api.Fail(api.ErrNotFound, "link.notfound", "Ref", api.Quote(id.String()), "Zone", z.Name())
	}
	return linkView(l), nil
}

// Unlink ends a link (or withdraws an offer) for this zone; the zone's end
// tells the other end, which ends it there too (control API).
func (n *Node) Unlink(ctx context.Context, zoneRef, linkRef string) (api.Link, error) {
	z, err := n.zone(zoneRef)
	if err != nil {
		return api.Link{}, err
	}
	if err := z.requireOrganizer("unlink"); err != nil {
		return api.Link{}, err
	}
	l, err := z.FindLink(linkRef, z.Name())
	if err != nil {
		return api.Link{}, err
	}
	if l.Ended {
		return api.Link{}, api.Fail(api.ErrInvalid, "link.ended", "ID", l.ID)
	}
	a := n.newAlert(protocol.KindLink, false, protocol.MaxLifetime)
	a.Link = &protocol.LinkRecord{Op: protocol.LinkEnd, ID: l.ID}
	if _, err := n.publish(ctx, z, a); err != nil {
		return api.Link{}, fmt.Errorf("end link: %w", err)
	}
	return z.linkInfo(l.ID)
}

// Share marks an alert shared over the zone's links, crossing up to hops
// links (control API). Only verified sightings and callouts are shared.
func (n *Node) Share(ctx context.Context, req api.ShareRequest) (api.Alert, error) {
	hops := req.Hops
	if hops == 0 {
		hops = protocol.DefaultShareHops
	}
	if hops < 1 || hops > protocol.MaxShareHops {
		return api.Alert{}, api.Fail(api.ErrInvalid, "share.hops", "Max", protocol.MaxShareHops)
	}
	z, root, err := n.findAlert(req.Alert)
	if err != nil {
		return api.Alert{}, err
	}
	st := z.snapshot()
	switch {
	case st.removed:
		return api.Alert{}, api.Fail(api.ErrForbidden, "zone.removed", "Zone", api.Quote(z.Name()))
	case st.role == protocol.RoleMember:
		return api.Alert{}, api.Fail(api.ErrForbidden, "share.role", "Zone", api.Quote(z.Name()))
	case root.Alert.Via != nil:
		return api.Alert{}, api.Fail(api.ErrInvalid, "share.vialink", "ID", root.ID)
	}
	cur, err := n.view(z, root.ID)
	if err != nil {
		return api.Alert{}, err
	}
	switch protocol.State(cur.State) {
	case protocol.StateVerified, protocol.StateActive, protocol.StateAwaitingCosign:
	case protocol.StateCleared, protocol.StateExpired:
		return api.Alert{}, api.Fail(api.ErrInvalid, "share.ended", "ID", root.ID)
	default:
		return api.Alert{}, api.Fail(api.ErrInvalid, "share.unverified", "ID", root.ID, "State", cur.State)
	}
	if z.ActiveLinks() == 0 {
		return api.Alert{}, api.Fail(api.ErrInvalid, "share.nolinks", "Zone", api.Quote(z.Name()))
	}
	a := n.newAlert(protocol.KindShare, false, protocol.DefaultUpdateTTL)
	a.Hops = uint8(hops)
	return n.update(ctx, z, root, a)
}
