package node

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"lookout/crypto"
	"lookout/node/api"
	"lookout/protocol"
)

// Joining a zone with an invite code: Join asks the members' nodes the
// code names on joinProtocol (answered by their join desks,
// join_serve.go), certifies this member with the invite key, checks the
// grant and announces the new member.

// addrInfo is a peer record as libp2p dials it; addresses that do not
// parse are skipped.
func addrInfo(r protocol.PeerRecord) (peer.AddrInfo, error) {
	id, err := peer.IDFromBytes(r.ID)
	if err != nil {
		return peer.AddrInfo{}, fmt.Errorf("peer ID: %w", err)
	}
	ai := peer.AddrInfo{ID: id}
	for _, b := range r.Addrs {
		a, err := ma.NewMultiaddrBytes(b)
		if err != nil {
			continue
		}
		ai.Addrs = append(ai.Addrs, a)
	}
	return ai, nil
}

// Join redeems an invite code: it derives the invite key, asks the
// members' nodes of the code in turn (the inviter's first) until one hands
// over the zone, sealed to a fresh X-Wing key; certifies its own member key
// with the invite key; checks the chain and joins the zone (control API).
// Its announcement in the zone records the invite as redeemed.
func (n *Node) Join(ctx context.Context, code string) (api.Zone, error) {
	inv, err := protocol.ParseInviteCode(code)
	if err != nil {
		return api.Zone{}, api.Fail(api.ErrInvalid, "invite.bad", "Detail", strings.TrimPrefix(err.Error(), protocol.ErrBadInvite.Error()+": ")).With(err)
	}
	if err := inv.Check(n.now()); err != nil {
		return api.Zone{}, api.Fail(api.ErrInvalid, "invite.expired", "At", inv.Expires.Local().Format("2006-01-02 15:04")).With(err)
	}
	var peers []peer.AddrInfo
	for i, p := range inv.Peers {
		ai, err := addrInfo(p)
		if err != nil {
			return api.Zone{}, fmt.Errorf("%w: invite code: %w", api.ErrInvalid, err)
		}
		switch {
		case ai.ID == n.h.ID() && i == 0:
			return api.Zone{}, api.Fail(api.ErrInvalid, "invite.own")
		case ai.ID != n.h.ID():
			peers = append(peers, ai)
		}
	}
	key, err := protocol.InviteIdentity(inv.Secret)
	if err != nil {
		return api.Zone{}, fmt.Errorf("join: %w", err)
	}
	kem, err := crypto.NewKEMKey(n.rand())
	if err != nil {
		return api.Zone{}, fmt.Errorf("join: %w", err)
	}
	req, err := protocol.NewJoinRequest(key, n.id.Public(), kem.PublicBytes())
	if err != nil {
		return api.Zone{}, fmt.Errorf("join: %w", err)
	}
	var g *protocol.Grant
	var rec zoneRecord
	var bad error // the last grant that did not check
	last := error(api.Fail(api.ErrNotFound, "join.unreachable"))
	for _, p := range peers {
		// The member shares no zone with this node until the zone is
		// added and proven: keep the connection until Join returns.
		n.desk.joins.add(p.ID)
		defer n.desk.joins.done(p.ID)
		g, last = n.askJoin(ctx, p, req, kem, key)
		if last == nil {
			// A grant that does not check (a hostile or confused member)
			// is no answer: ask the next.
			if rec, last = n.certifyGrant(g, key); last != nil {
				bad = last
			}
		}
		var refused *api.Problem
		if last == nil || (errors.As(last, &refused) && refused.ID != "join.unknown") {
			break // granted, or refused for good (used, expired, a member)
		}
		n.log.Debug("join: asking the next member", "peer", p.ID, "err", last)
	}
	if last != nil {
		var refused *api.Problem
		switch {
		case errors.As(last, &refused):
			return api.Zone{}, last
		case bad != nil:
			return api.Zone{}, bad
		}
		return api.Zone{}, api.Fail(api.ErrNotFound, "join.unreachable").With(last)
	}
	n.mu.Lock()
	info, err := n.addZoneLocked(rec)
	n.mu.Unlock()
	if err != nil {
		return api.Zone{}, err
	}
	for _, p := range g.Peers {
		if ai, err := addrInfo(p); err == nil && ai.ID != n.h.ID() {
			go n.h.Connect(n.ctx, ai)
		}
	}
	n.gov.announceJoined(ctx, info.ID)
	return info, nil
}

// firstPeerWait bounds how long a new member's node waits for its first
// peer on the zone's topic to announce itself again.
const firstPeerWait = time.Minute

// announceJoined announces this new member in a zone. Right after a join
// the topic may have no peer yet (the membership proof and the
// subscriptions are still on their way), and gossip would take the
// announcement nowhere: then it is sent again when the first peer
// arrives, instead of waiting for catch-up.
func (g *governor) announceJoined(ctx context.Context, zoneID string) {
	z, err := g.node.zone(zoneID)
	if err != nil {
		return
	}
	topic := z.snapshot().topic
	alone := topic == nil || len(topic.ListPeers()) == 0
	if g.lostAnnounce.Load() {
		alone = true // tests: as if nobody was there to receive it
	} else {
		g.announceZone(ctx, zoneID)
	}
	if !alone || topic == nil {
		return
	}
	// The handler starts with a join event for every peer already on the
	// topic, so one that arrived since ListPeers is not missed.
	events, err := topic.EventHandler()
	if err != nil {
		return // catch-up still brings the announcement
	}
	g.node.spawn(func() {
		defer events.Cancel()
		wait, cancel := context.WithTimeout(g.ctx, firstPeerWait)
		defer cancel()
		for {
			ev, err := events.NextPeerEvent(wait)
			if err != nil {
				return
			}
			if ev.Type == pubsub.PeerJoin {
				g.announceZone(g.ctx, zoneID)
				return
			}
		}
	})
}

// certifyGrant certifies this member's key under the grant's invite
// chain with the invite key and checks the result (acceptGrant).
func (n *Node) certifyGrant(g *protocol.Grant, key *crypto.Identity) (zoneRecord, error) {
	chain, err := protocol.CertifyInvited(key, g, n.id.Public(), n.now())
	if err != nil {
		return zoneRecord{}, fmt.Errorf("grant: %w", err)
	}
	g.Chain = chain
	return n.acceptGrant(g)
}

// askJoin sends the join request to one member's node and reads its grant.
func (n *Node) askJoin(ctx context.Context, p peer.AddrInfo, req *protocol.JoinRequest, kem *crypto.KEMKey, key *crypto.Identity) (*protocol.Grant, error) {
	ctx, cancel := context.WithTimeout(ctx, joinTimeout)
	defer cancel()
	if err := n.h.Connect(ctx, p); err != nil {
		return nil, fmt.Errorf("dial %s: %w", p.ID.ShortString(), err)
	}
	s, err := n.h.NewStream(ctx, p.ID, joinProtocol)
	if err != nil {
		return nil, fmt.Errorf("open join stream: %w", err)
	}
	defer s.Close()
	if dl, ok := ctx.Deadline(); ok {
		s.SetDeadline(dl)
	}
	if _, err := s.Write(req.MarshalBinary()); err != nil {
		return nil, fmt.Errorf("send join request: %w", err)
	}
	s.CloseWrite()
	return readGrant(bufio.NewReader(s), kem, key)
}

func readGrant(r io.Reader, kem *crypto.KEMKey, key *crypto.Identity) (*protocol.Grant, error) {
	var status [1]byte
	if _, err := io.ReadFull(r, status[:]); err != nil {
		return nil, fmt.Errorf("read join answer: %w", err)
	}
	switch status[0] {
	case joinRefused:
		var l [2]byte
		if _, err := io.ReadFull(r, l[:]); err != nil {
			return nil, fmt.Errorf("read join answer: %w", err)
		}
		reason := make([]byte, min(int(binary.BigEndian.Uint16(l[:])), maxReasonLen))
		io.ReadFull(r, reason)
		return nil, joinRefusal(sanitize(string(reason)))
	case joinGranted:
	default:
		return nil, errors.New("join answer: unknown status")
	}
	enc := make([]byte, crypto.EncapsulatedKeySize)
	var l [4]byte
	if _, err := io.ReadFull(r, enc); err != nil {
		return nil, fmt.Errorf("read grant: %w", err)
	}
	if _, err := io.ReadFull(r, l[:]); err != nil {
		return nil, fmt.Errorf("read grant: %w", err)
	}
	size := binary.BigEndian.Uint32(l[:])
	if size > maxGrantCTSize {
		return nil, errors.New("read grant: too large")
	}
	ct := make([]byte, size)
	if _, err := io.ReadFull(r, ct); err != nil {
		return nil, fmt.Errorf("read grant: %w", err)
	}
	psk, pskID := protocol.GrantPSK(key.Public())
	plain, err := kem.Open(enc, ct, []byte(protocol.GrantInfo), psk, pskID, pskID)
	if err != nil {
		return nil, errors.New("open grant: it was not sealed for this invite")
	}
	g, err := protocol.ParseGrant(plain)
	if err != nil {
		return nil, fmt.Errorf("grant: %w", err)
	}
	return g, nil
}

// acceptGrant checks that a grant's chain (completed with this member's
// certificate) certifies this member in a consistent zone and turns it
// into a zone record.
func (n *Node) acceptGrant(g *protocol.Grant) (zoneRecord, error) {
	cv := &protocol.ChainVerifier{Zone: g.Zone, Root: g.Root}
	if _, err := cv.Verify(g.Chain, n.now()); err != nil {
		return zoneRecord{}, fmt.Errorf("grant: certificate chain: %w", err)
	}
	if !g.Chain.Leaf().Subject.Equal(n.id.Public()) {
		return zoneRecord{}, errors.New("grant: certificate is for another member")
	}
	rec := zoneRecord{ID: g.Zone.String(), Name: g.Name, Epoch: g.Epoch, Secret: append([]byte(nil), g.Secret[:]...),
		Root: g.Root.Bytes(), Peers: []string{}, Created: n.now()}
	for _, c := range g.Chain {
		rec.Chain = append(rec.Chain, c.Bytes())
	}
	for _, p := range g.Peers {
		ai, err := addrInfo(p)
		if err != nil {
			continue
		}
		if addrs, err := peer.AddrInfoToP2pAddrs(&ai); err == nil {
			for _, a := range addrs {
				rec.Peers = append(rec.Peers, a.String())
			}
		}
	}
	return rec, nil
}

// joinRefusal is the joiner's error for a member's refusal reason.
func joinRefusal(reason string) *api.Problem {
	id, ok := map[string]string{refuseUnknown: "join.unknown", refuseUsed: "join.used", refuseExpired: "join.expired",
		refuseMember: "join.already"}[reason]
	if !ok {
		return api.Fail(api.ErrForbidden, "join.refused", "Reason", reason)
	}
	return api.Fail(api.ErrForbidden, id)
}

// sanitize keeps a remote reason to printable text on one line.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
