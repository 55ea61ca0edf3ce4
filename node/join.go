package node

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"lookout/crypto"
	"lookout/node/api"
	"lookout/node/reach"
	"lookout/node/store"
	"lookout/protocol"
)

// joinProtocol is the libp2p stream protocol for redeeming an invite at
// any member's node.
//
// The joiner writes a protocol.JoinRequest (JoinRequestSize bytes). The
// member answers with one status byte, then:
//
//	status 0 (granted):  EncapsulatedKeySize bytes enc | u32 n | n bytes HPKE ciphertext of a Grant
//	status 1 (refused):  u16 n | n bytes UTF-8 reason
//
// and closes the stream.
const joinProtocol = "/join/3.0.0"

const (
	joinTimeout    = 30 * time.Second
	maxGrantCTSize = 64 << 10
	maxReasonLen   = 200
	joinGranted    = 0
	joinRefused    = 1
	// inviteOtherPeers is how many members' nodes besides the inviter's an
	// invite names, so it can be redeemed while the inviter is away.
	inviteOtherPeers = protocol.MaxInvitePeers - 1
	// inviteOtherAddrs bounds each other member's addresses in an invite,
	// to keep the code short.
	inviteOtherAddrs = 3
)

// pendingInvite is an invite this node issued, kept until it expires.
// The invite itself lives in the zone's governance (its invite
// certificate); this node keeps no secret of it.
type pendingInvite struct {
	ID      string    `json:"id"`
	Zone    string    `json:"zone"`
	Role    string    `json:"role"`
	Expires time.Time `json:"expires"`
}

func (n *Node) loadInvites() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.invites = make(map[[protocol.InviteIDSize]byte]*pendingInvite)
	now := n.now()
	err := n.st.ForEach(bucketInvites, func(b []byte) error {
		var inv pendingInvite
		var id [protocol.InviteIDSize]byte
		if err := json.Unmarshal(b, &inv); err != nil {
			return store.ErrCorrupt
		}
		if b, err := hex.DecodeString(inv.ID); err != nil || len(b) != len(id) {
			return store.ErrCorrupt
		}
		if now.After(inv.Expires) {
			return nil // the store deletes it
		}
		hex.Decode(id[:], []byte(inv.ID))
		n.invites[id] = &inv
		return nil
	})
	if err != nil {
		return fmt.Errorf("load invites: %w", err)
	}
	if err := n.loadServedLocked(); err != nil {
		return fmt.Errorf("load invites handed out: %w", err)
	}
	return nil
}

// servedInvite is which member this node handed an invite's zone to
// (bucketServed), kept until the invite expires.
type servedInvite struct {
	Zone   string `json:"zone"`
	Invite string `json:"invite"`
	Member string `json:"member"`
}

func putServed(st *store.Store, zone protocol.ZoneID, invite [protocol.InviteIDSize]byte, member crypto.MemberID, expires time.Time) error {
	b, err := json.Marshal(servedInvite{Zone: zone.String(), Invite: hex.EncodeToString(invite[:]), Member: member.String()})
	if err != nil {
		return fmt.Errorf("encode served invite: %w", err)
	}
	if err := st.PutExpiring(bucketServed, zone.String()+"/"+hex.EncodeToString(invite[:]), b, expires); err != nil {
		return fmt.Errorf("store served invite: %w", err)
	}
	return nil
}

// loadServed gives each zone the invites this node handed out (the store
// drops them once expired). Callers hold n.mu; zones are loaded.
func (n *Node) loadServedLocked() error {
	return n.st.ForEach(bucketServed, func(b []byte) error {
		var s servedInvite
		var id [protocol.InviteIDSize]byte
		if err := json.Unmarshal(b, &s); err != nil {
			return store.ErrCorrupt
		}
		zid, err := protocol.ParseZoneID(s.Zone)
		if err != nil {
			return store.ErrCorrupt
		}
		member, err := crypto.ParseMemberID(s.Member)
		if err != nil {
			return store.ErrCorrupt
		}
		if raw, err := hex.DecodeString(s.Invite); err != nil || len(raw) != len(id) {
			return store.ErrCorrupt
		}
		hex.Decode(id[:], []byte(s.Invite))
		z := n.zones[zid]
		if z == nil {
			return nil // a zone left since
		}
		z.mu.Lock()
		if z.served == nil {
			z.served = map[[protocol.InviteIDSize]byte]crypto.MemberID{}
		}
		z.served[id] = member
		z.mu.Unlock()
		return nil
	})
}

// putInvite stores an invite until it expires.
func putInvite(st *store.Store, inv *pendingInvite) error {
	b, err := json.Marshal(inv)
	if err != nil {
		return fmt.Errorf("encode invite: %w", err)
	}
	if err := st.PutExpiring(bucketInvites, inv.ID, b, inv.Expires); err != nil {
		return fmt.Errorf("store invite: %w", err)
	}
	return nil
}

// Invite issues a one-line, single-use invite code for a zone (control API).
// Only organizers invite. The organizer certifies a fresh invite key with
// the chosen role and publishes that certificate to the zone (a KindRole
// grant); the code carries the key's secret and the addresses of this node
// and of up to three other members' nodes, any of which can hand the
// joiner the zone while this node is away.
func (n *Node) Invite(ctx context.Context, req api.InviteRequest) (api.InviteResponse, error) {
	role := protocol.RoleMember
	if req.Role != "" {
		r, err := protocol.ParseRole(req.Role)
		if err != nil {
			return api.InviteResponse{}, api.Fail(api.ErrInvalid, "role.invite", "Role", api.Quote(req.Role))
		}
		role = r
	}
	ttl := req.TTL
	if ttl == 0 {
		ttl = 24 * time.Hour
	}
	if ttl < time.Second || ttl > protocol.MaxInviteTTL {
		return api.InviteResponse{}, api.Fail(api.ErrInvalid, "invite.ttl", "Max", protocol.MaxInviteTTL)
	}
	z, err := n.zone(req.Zone)
	if err != nil {
		return api.InviteResponse{}, err
	}
	if err := z.requireOrganizer("invite"); err != nil {
		return api.InviteResponse{}, err
	}
	st := z.snapshot()
	now := n.now()
	if exp, ok := st.expiredSince(now); ok {
		return api.InviteResponse{}, expiredProblem(z, exp)
	}
	// The joiner's chain is its certificate, the invite's, then this
	// node's chain.
	if len(st.chain)+2 > protocol.MaxChainLen {
		if _, invited := st.chain.InviteKey(); invited {
			return api.InviteResponse{}, api.Fail(api.ErrForbidden, "chain.invited")
		}
		return api.InviteResponse{}, api.Fail(api.ErrForbidden, "chain.invite", "N", len(st.chain))
	}
	// The expiry is rounded up to the minute: the code says nothing finer
	// about when it was made.
	inv := &protocol.Invite{Expires: roundUpMinute(now.Add(ttl)).UTC()}
	if _, err := io.ReadFull(n.rand(), inv.Secret[:]); err != nil {
		return api.InviteResponse{}, fmt.Errorf("create invite: %w", err)
	}
	key, err := protocol.InviteIdentity(inv.Secret)
	if err != nil {
		return api.InviteResponse{}, fmt.Errorf("create invite: %w", err)
	}
	inv.Peers = n.invitePeers(st, req.LAN)
	if len(inv.Peers) == 0 {
		return api.InviteResponse{}, api.Fail(api.ErrInvalid, "invite.noaddress")
	}
	code, err := inv.Code()
	for err != nil && len(inv.Peers) > 1 {
		inv.Peers = inv.Peers[:len(inv.Peers)-1] // too long: name fewer members
		code, err = inv.Code()
	}
	if err != nil {
		return api.InviteResponse{}, err
	}
	cert, err := protocol.IssueCert(n.id, z.id, key.Public(), protocol.InviteRole(role), now, inv.Expires)
	if err != nil {
		return api.InviteResponse{}, fmt.Errorf("create invite: %w", err)
	}
	a := n.newAlert(protocol.KindRole, false, protocol.MaxLifetime)
	a.Cert = cert.Bytes()
	if _, err := n.publish(ctx, z, a); err != nil {
		return api.InviteResponse{}, err
	}
	id := protocol.InviteIDOf(key.Public())
	p := &pendingInvite{ID: hex.EncodeToString(id[:]), Zone: z.rec.ID, Role: role.String(), Expires: inv.Expires}
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := putInvite(n.st, p); err != nil {
		return api.InviteResponse{}, err
	}
	n.invites[id] = p
	return api.InviteResponse{Code: code, Expires: inv.Expires}, nil
}

// invitePeers lists where an invite can be redeemed: this node, then up to
// inviteOtherPeers members connected on the zone's topic, each with the
// addresses a joiner can dial (reach.InviteAddrs).
func (n *Node) invitePeers(st snapshot, lan bool) []protocol.PeerRecord {
	var out []protocol.PeerRecord
	add := func(id peer.ID, addrs []ma.Multiaddr, max int) {
		r := protocol.PeerRecord{ID: []byte(id)}
		for _, a := range reach.InviteAddrs(addrs, lan, max) {
			if b := a.Bytes(); len(b) <= protocol.MaxAddrLen {
				r.Addrs = append(r.Addrs, b)
			}
		}
		if len(r.Addrs) > 0 && len(r.ID) <= protocol.MaxPeerIDLen {
			out = append(out, r)
		}
	}
	add(n.h.ID(), n.h.Addrs(), protocol.MaxInviteAddrs)
	for _, p := range st.topic.ListPeers() {
		if len(out) > inviteOtherPeers {
			break
		}
		add(p, n.h.Peerstore().Addrs(p), inviteOtherAddrs)
	}
	return out
}

// roundUpMinute rounds t up to a whole minute.
func roundUpMinute(t time.Time) time.Time {
	if r := t.Truncate(time.Minute); !r.Equal(t) {
		return r.Add(time.Minute)
	}
	return t
}

// handleJoin serves an invite redemption on any member's node.
func (n *Node) handleJoin(s network.Stream) {
	defer s.Close()
	// Open to peers that share no zone: a joiner has none yet.
	n.joins.add(s.Conn().RemotePeer())
	defer n.joins.done(s.Conn().RemotePeer())
	s.SetDeadline(time.Now().Add(joinTimeout)) // network deadlines use the real clock
	buf := make([]byte, protocol.JoinRequestSize)
	if _, err := io.ReadFull(s, buf); err != nil {
		s.Reset()
		return
	}
	enc, ct, err := n.grant(buf, s.Conn().RemotePeer())
	if err != nil {
		n.log.Info("refused a join request")
		n.log.Debug("refused join", "peer", s.Conn().RemotePeer(), "err", err)
		msg := err.Error()
		if len(msg) > maxReasonLen {
			msg = msg[:maxReasonLen]
		}
		out := []byte{joinRefused}
		out = binary.BigEndian.AppendUint16(out, uint16(len(msg)))
		s.Write(append(out, msg...))
		return
	}
	out := make([]byte, 0, 1+len(enc)+4+len(ct))
	out = append(out, joinGranted)
	out = append(out, enc...)
	out = binary.BigEndian.AppendUint32(out, uint32(len(ct)))
	out = append(out, ct...)
	if _, err := s.Write(out); err != nil {
		n.log.Warn("join: could not send grant", "err", err)
	}
}

// findInvite returns the zone that published an invite and the invite.
func (n *Node) findInvite(id [protocol.InviteIDSize]byte) (*zone, *protocol.InviteInfo) {
	n.mu.Lock()
	zones := make([]*zone, 0, len(n.zones))
	for _, z := range n.zones {
		zones = append(zones, z)
	}
	n.mu.Unlock()
	for _, z := range zones {
		z.mu.Lock()
		inv := z.fold.Roster.Invites[id]
		z.mu.Unlock()
		if inv != nil && len(inv.Chain) > 0 {
			return z, inv
		}
	}
	return nil, nil
}

// grant checks a join request against the invites published in this
// node's zones and returns the grant sealed to the joiner's KEM key. A
// request is refused the same way whether its invite is unknown here or
// its signature is wrong, so a stranger learns nothing of the zones. The
// invite is taken for this joiner before the grant leaves the node; asking
// again with the same member key (an answer lost on the way) is answered
// again.
func (n *Node) grant(b []byte, from peer.ID) (enc, ct []byte, err error) {
	req, err := protocol.ParseJoinRequest(b)
	if err != nil {
		return nil, nil, errors.New("malformed join request")
	}
	z, inv := n.findInvite(req.Invite)
	if z == nil {
		return nil, nil, errors.New(refuseUnknown)
	}
	key := inv.Cert.Subject
	if err := req.Verify(key); err != nil {
		return nil, nil, errors.New(refuseUnknown)
	}
	now := n.now()
	if !now.Before(inv.Cert.Expires) {
		return nil, nil, errors.New(refuseExpired)
	}
	member := req.Member.ID()
	st := z.snapshot()
	z.mu.Lock()
	issuerGone := z.fold.Roster.Removed(inv.Cert.Issuer)
	redeemer, redeemed := z.fold.Roster.Redeemer(req.Invite)
	m, known := z.fold.Roster.Members[member]
	served, taken := z.served[req.Invite]
	first := false
	switch {
	case issuerGone || st.removed:
		err = errors.New(refuseUnknown)
	case (redeemed && redeemer != member) || (taken && served != member):
		err = errors.New(refuseUsed)
	case known && !m.Removed && !redeemed && !taken:
		err = errors.New(refuseMember)
	case len(inv.Chain) >= protocol.MaxChainLen:
		err = errors.New(refuseUnknown)
	default:
		if z.served == nil {
			z.served = map[[protocol.InviteIDSize]byte]crypto.MemberID{}
		}
		z.served[req.Invite] = member
		first = !taken
	}
	z.mu.Unlock()
	if err != nil {
		return nil, nil, err
	}
	if first {
		// Kept before the grant leaves, so the invite stays used across a
		// restart even if the member's announcement has not arrived.
		if err := putServed(n.st, z.id, req.Invite, member, inv.Cert.Expires); err != nil {
			z.mu.Lock()
			delete(z.served, req.Invite)
			z.mu.Unlock()
			n.log.Error("join: could not record the invite as used; refused", "err", err)
			return nil, nil, errors.New(refuseAgain)
		}
	}
	g := &protocol.Grant{Zone: z.id, Name: z.rec.Name, Root: z.root, Epoch: st.epoch, Secret: st.secret, Chain: inv.Chain}
	g.Peers = append(g.Peers, peerRecord(n.h.ID(), n.h.Addrs()))
	for _, p := range st.topic.ListPeers() {
		if len(g.Peers) == protocol.MaxGrantPeers {
			break
		}
		if p == from {
			continue
		}
		if addrs := n.h.Peerstore().Addrs(p); len(addrs) > 0 {
			g.Peers = append(g.Peers, peerRecord(p, addrs))
		}
	}
	plain, err := g.MarshalBinary()
	if err != nil {
		return nil, nil, err
	}
	psk, pskID := protocol.GrantPSK(key)
	enc, ct, err = crypto.SealTo(req.KEM, []byte(protocol.GrantInfo), psk, pskID, pskID, plain, n.rand())
	if err != nil {
		return nil, nil, errors.New("cannot seal to the joiner's key")
	}
	role, _ := inv.Cert.Role.Invited()
	n.log.Info("handed the zone to an invited member", "role", role)
	n.log.Debug("handed the zone to an invited member", "zone", z.rec.Name, "member", member)
	return enc, ct, nil
}

func peerRecord(id peer.ID, addrs []ma.Multiaddr) protocol.PeerRecord {
	r := protocol.PeerRecord{ID: []byte(id)}
	for _, a := range reach.Dialable(addrs, len(addrs)) {
		if len(r.Addrs) == protocol.MaxInviteAddrs {
			break
		}
		if b := a.Bytes(); len(b) <= protocol.MaxAddrLen {
			r.Addrs = append(r.Addrs, b)
		}
	}
	return r
}

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
		n.joins.add(p.ID)
		defer n.joins.done(p.ID)
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
	n.announceJoined(ctx, info.ID)
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
func (n *Node) announceJoined(ctx context.Context, zoneID string) {
	z, err := n.zone(zoneID)
	if err != nil {
		return
	}
	topic := z.snapshot().topic
	alone := topic == nil || len(topic.ListPeers()) == 0
	if n.lostAnnounce.Load() {
		alone = true // tests: as if nobody was there to receive it
	} else {
		n.announceZone(ctx, zoneID)
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
	n.spawn(func() {
		defer events.Cancel()
		wait, cancel := context.WithTimeout(n.ctx, firstPeerWait)
		defer cancel()
		for {
			ev, err := events.NextPeerEvent(wait)
			if err != nil {
				return
			}
			if ev.Type == pubsub.PeerJoin {
				n.announceZone(n.ctx, zoneID)
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

// Why a member's node refuses a join, as it says it on the wire (in
// English); the joiner turns the ones it knows into messages in the user's
// language (joinRefusal). An unknown invite and a wrong signature get the
// same answer.
const (
	refuseUnknown = "this node does not know this invite; it may not have heard of it yet"
	refuseUsed    = "this invite was already used; ask for a new one"
	refuseExpired = "this invite has expired; ask for a new one"
	refuseMember  = "you are already a member of this zone; the invite is still unused"
	refuseAgain   = "this node could not record the invite as used; try again in a few minutes"
)

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
