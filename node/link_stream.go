package node

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"lookout/node/api"
	"lookout/node/membership"
	"lookout/protocol"
)

// The link stream protocol (linkProtocol) between the two ends of a link:
// sending frames, answering them, the hello, relaying into the zone.

// sendFrame seals payload for link id and sends it to the link end node,
// returning the other end's refusal as an error.
func (e *linkEnds) sendFrame(ctx context.Context, secret [protocol.LinkSecretSize]byte, node []byte, typ uint8, id protocol.LinkID, payload []byte) error {
	frame, err := protocol.SealLinkFrame(secret, typ, id, payload, e.node.rand())
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
	if ai.ID == e.h.ID() {
		return api.Fail(api.ErrInvalid, "link.self")
	}
	ctx, cancel := context.WithTimeout(ctx, linkTimeout)
	defer cancel()
	e.h.Peerstore().AddAddrs(ai.ID, ai.Addrs, linkAddrTTL)
	if err := e.h.Connect(ctx, ai); err != nil {
		return api.Fail(api.ErrInvalid, "link.unreachable").With(err)
	}
	s, err := e.h.NewStream(ctx, ai.ID, linkProtocol)
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
func (e *linkEnds) handleLink(s network.Stream) {
	defer s.Close()
	// Link ends are in different zones, so the other end proves none of
	// this node's: a peer that is not a proven member may open a link
	// stream only to a node that ends or offers a link, and its frame must
	// still open with that link's secret.
	from := s.Conn().RemotePeer()
	ctx, cancel := context.WithTimeout(e.ctx, membership.DefaultTimeout)
	err := e.gate.Wait(ctx, from)
	cancel()
	if err != nil || !e.node.Member(from) && !e.endsLink() {
		s.Reset()
		return
	}
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
	err = e.handleFrame(s.Conn().RemotePeer(), frame)
	answer := []byte{linkStatusOK, 0, 0}
	if err != nil {
		e.log.Debug("link: refused a frame", "peer", s.Conn().RemotePeer(), "err", err)
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

// linkPeerIs reports whether node (a link node: peer ID and addresses)
// names peer p.
func linkPeerIs(node []byte, p peer.ID) bool {
	pb, _, err := protocol.ParseLinkNode(node)
	if err != nil {
		return false
	}
	id, err := peer.IDFromBytes(pb)
	return err == nil && id == p
}

// handleFrame checks and applies one frame. The link ID in the frame
// header finds the zone; the frame must open with that link's secret.
func (e *linkEnds) handleFrame(from peer.ID, frame []byte) error {
	typ, id, err := protocol.LinkFrameHeader(frame)
	if err != nil {
		return err
	}
	var z *zone
	var l protocol.Link
	for _, zz := range e.node.liveZones() {
		if x := zz.Link(id); x != nil {
			z, l = zz, *x
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
	// Every member holds the link secret (it is in governance): only the
	// peer the link names may send on it, and only frames whose signature
	// verifies count towards the link's limit, so a member cannot use the
	// limit up. A hello comes before the link names a peer; acceptHello
	// checks it against the node the hello names.
	if typ != protocol.FrameAccept && !linkPeerIs(l.PeerNode, from) {
		return errNoLink
	}
	now := e.node.now()
	limit := func() error {
		if !e.state.allowIn(id, now) {
			return fmt.Errorf("%w: too many messages on this link; wait a few minutes", errRateLimit)
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(e.ctx, linkTimeout)
	defer cancel()
	switch typ {
	case protocol.FrameAccept:
		return e.acceptHello(ctx, z, &l, from, payload, now, limit)
	case protocol.FrameEndorse:
		if !l.Active() || l.Endpoint != e.id.ID() {
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
		if err := limit(); err != nil {
			return err
		}
		return e.relay(ctx, z, &l, a)
	case protocol.FrameEnd:
		if !l.Accepted || l.PeerKey == nil {
			return protocol.ErrLink
		}
		if err := protocol.VerifyLinkEnd(l.PeerKey, id, payload); err != nil {
			return err
		}
		if err := limit(); err != nil {
			return err
		}
		if l.Ended {
			return nil
		}
		e.state.mu.Lock()
		if e.state.ending == nil {
			e.state.ending = map[protocol.LinkID]bool{}
		}
		e.state.ending[id] = true
		e.state.mu.Unlock()
		a := e.node.newAlert(protocol.KindLink, false, protocol.MaxLifetime)
		a.Link = &protocol.LinkRecord{Op: protocol.LinkEnd, ID: id}
		_, err := e.node.publish(ctx, z, a)
		return err
	}
	return fmt.Errorf("%w: frame type %d", protocol.ErrEnum, typ)
}

// acceptHello records the link in the offering zone once the other
// zone's organizer has introduced itself with a valid code.
func (e *linkEnds) acceptHello(ctx context.Context, z *zone, l *protocol.Link, from peer.ID, payload []byte, now time.Time, limit func() error) error {
	if err := protocol.CheckAccept(l, now); err != nil {
		return err
	}
	if l.OfferedBy != e.id.ID() {
		return fmt.Errorf("%w: this node did not make the offer", protocol.ErrLinkWrongEnd)
	}
	if err := z.requireOrganizer("link"); err != nil {
		return err
	}
	// Every member read the offer's secret in governance: once a member
	// is removed, offers made before cannot be accepted.
	if z.RemovedSince(l.Offered) {
		return fmt.Errorf("%w: a member was removed from the offering zone after this offer was made; ask for a new offer", protocol.ErrLinkExpired)
	}
	h, pk, err := protocol.ParseLinkHello(l.ID, payload)
	if err != nil {
		return err
	}
	if pk.ID() == e.id.ID() {
		return fmt.Errorf("%w: a zone cannot be linked by the same organizer on both sides", protocol.ErrLinkWrongEnd)
	}
	if !linkPeerIs(h.Node, from) {
		return fmt.Errorf("%w: the hello names another node than its sender", protocol.ErrLinkWrongEnd)
	}
	if err := limit(); err != nil {
		return err
	}
	a := e.node.newAlert(protocol.KindLink, false, protocol.MaxLifetime)
	a.Link = &protocol.LinkRecord{Op: protocol.LinkAccept, ID: l.ID, Secret: l.Secret, Name: l.Name, Peer: h.Name, PeerKey: h.Key, PeerNode: h.Node}
	if _, err := e.node.publish(ctx, z, a); err != nil {
		return fmt.Errorf("record link: %w", err)
	}
	e.log.Info("link made")
	e.log.Debug("link made", "zone", z.Name(), "peer", h.Name)
	return nil
}

// relay publishes an endorsement from the other end in this zone, as
// this organizer's message carrying the endorsement. What the zone
// already has is not published again.
func (e *linkEnds) relay(ctx context.Context, z *zone, l *protocol.Link, t *protocol.Alert) error {
	if t.Kind == protocol.KindPlace {
		return e.relayPlace(ctx, z, l, t) // link_places.go
	}
	d := t.Via.Digest
	held := z.CrossingOf(d, l.ID, t.Kind, e.node.now())
	root, latest := held.Root, held.Latest
	fromHere := root != nil && root.Alert.Via != nil && root.Alert.Via.Link == l.ID
	a := e.node.newAlert(t.Kind, t.Status == protocol.StatusExercise, protocol.DefaultUpdateTTL)
	a.Via = t.Via
	switch t.Kind {
	case protocol.KindSighting:
		if root != nil {
			return nil // already here: an alert crosses into a zone once
		}
		a.Expires = a.Sent.Add(protocol.MaxLifetime)
		a.What, a.Area, a.Size, a.Activity, a.Uniform, a.Equipment, a.Observed = t.What, t.Area, t.Size, t.Activity, t.Uniform, t.Equipment, t.Observed
		a.Quick = t.Quick
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
		a.Title, a.Area, a.When, a.Need, a.Bring, a.Rights, a.Card = t.Title, t.Area, t.When, t.Need, t.Bring, t.Rights, t.Card
	case protocol.KindClear:
		if root == nil || !fromHere {
			return fmt.Errorf("%w: no alert %s came over this link", api.ErrNotFound, d)
		}
		if held.Cleared {
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
	if _, err := e.node.publish(ctx, z, a); err != nil {
		return fmt.Errorf("relay into zone: %w", err)
	}
	return nil
}

// endsLink reports whether this node's member offered a link that has not
// ended, or is the end of an active link, in a zone it is still in.
func (e *linkEnds) endsLink() bool {
	me := e.id.ID()
	for _, z := range e.node.liveZones() {
		if z.EndsLink(me) {
			return true
		}
	}
	return false
}
