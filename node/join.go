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

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"lookout/crypto"
	"lookout/node/api"
	"lookout/node/reach"
	"lookout/node/store"
	"lookout/protocol"
)

// joinProtocol is the libp2p stream protocol for redeeming an invite.
//
// The joiner writes a protocol.JoinRequest (JoinRequestSize bytes). The
// inviter answers with one status byte, then:
//
//	status 0 (granted):  EncapsulatedKeySize bytes enc | u32 n | n bytes HPKE ciphertext of a Grant
//	status 1 (refused):  u16 n | n bytes UTF-8 reason
//
// and closes the stream.
const joinProtocol = "/join/2.0.0"

const (
	joinTimeout    = 30 * time.Second
	maxGrantCTSize = 64 << 10
	maxReasonLen   = 200
	joinGranted    = 0
	joinRefused    = 1
)

// pendingInvite is an invite this node issued and has not seen redeemed.
type pendingInvite struct {
	ID      string    `json:"id"`
	Secret  []byte    `json:"secret"`
	Zone    string    `json:"zone"`
	Role    string    `json:"role"`
	Expires time.Time `json:"expires"`
	Used    bool      `json:"used"`
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
		if b, err := hex.DecodeString(inv.ID); err != nil || len(b) != len(id) || len(inv.Secret) != protocol.InviteSecretSize {
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
	return nil
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
// Only organizers invite. The code carries no zone secret: the invitee's
// node fetches it from this node, which must be online then.
func (n *Node) Invite(_ context.Context, req api.InviteRequest) (api.InviteResponse, error) {
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
	n.mu.Lock()
	defer n.mu.Unlock()
	z, err := n.zoneLocked(req.Zone)
	if err != nil {
		return api.InviteResponse{}, err
	}
	if err := z.requireOrganizer("invite"); err != nil {
		return api.InviteResponse{}, err
	}
	if st := z.snapshot(); len(st.chain) >= protocol.MaxChainLen {
		return api.InviteResponse{}, api.Fail(api.ErrForbidden, "chain.invite", "N", len(st.chain))
	}
	if exp, ok := z.snapshot().expiredSince(n.now()); ok {
		return api.InviteResponse{}, expiredProblem(z, exp)
	}
	// The expiry is rounded up to the minute: the code says nothing finer
	// about when it was made.
	inv := &protocol.Invite{Expires: roundUpMinute(n.now().Add(ttl)).UTC()}
	if _, err := io.ReadFull(n.rand(), inv.ID[:]); err != nil {
		return api.InviteResponse{}, fmt.Errorf("create invite: %w", err)
	}
	if _, err := io.ReadFull(n.rand(), inv.Secret[:]); err != nil {
		return api.InviteResponse{}, fmt.Errorf("create invite: %w", err)
	}
	inv.Peer = []byte(n.h.ID())
	for _, a := range reach.InviteAddrs(n.h.Addrs(), req.LAN, protocol.MaxInviteAddrs) {
		inv.Addrs = append(inv.Addrs, a.Bytes())
	}
	if len(inv.Addrs) == 0 {
		return api.InviteResponse{}, api.Fail(api.ErrInvalid, "invite.noaddress")
	}
	code, err := inv.Code()
	if err != nil {
		return api.InviteResponse{}, err
	}
	n.invites[inv.ID] = &pendingInvite{ID: hex.EncodeToString(inv.ID[:]), Secret: inv.Secret[:], Zone: z.rec.ID, Role: role.String(), Expires: inv.Expires}
	if err := putInvite(n.st, n.invites[inv.ID]); err != nil {
		delete(n.invites, inv.ID)
		return api.InviteResponse{}, err
	}
	return api.InviteResponse{Code: code, Expires: inv.Expires}, nil
}

// roundUpMinute rounds t up to a whole minute.
func roundUpMinute(t time.Time) time.Time {
	if r := t.Truncate(time.Minute); !r.Equal(t) {
		return r.Add(time.Minute)
	}
	return t
}

// handleJoin serves an invite redemption on the inviter's node.
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

// grant checks a join request and returns the sealed grant. The invite is
// used up before the grant leaves this node.
func (n *Node) grant(b []byte, from peer.ID) (enc, ct []byte, err error) {
	req, err := protocol.ParseJoinRequest(b)
	if err != nil {
		return nil, nil, errors.New("malformed join request")
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	inv, ok := n.invites[req.Invite]
	if !ok || inv.Used {
		return nil, nil, errors.New(refuseUsed)
	}
	var secret [protocol.InviteSecretSize]byte
	copy(secret[:], inv.Secret)
	if !req.VerifyProof(secret) {
		return nil, nil, errors.New(refuseProof)
	}
	now := n.now()
	if !now.Before(inv.Expires) {
		return nil, nil, errors.New(refuseExpired)
	}
	z, err := n.zoneLocked(inv.Zone)
	if err != nil {
		return nil, nil, errors.New(refuseNoZone)
	}
	z.mu.Lock()
	m, member := z.roster.Members[req.Member.ID()]
	already := member && !m.Removed
	z.mu.Unlock()
	if already {
		return nil, nil, errors.New(refuseMember)
	}
	role, _ := protocol.ParseRole(inv.Role)
	cert, err := protocol.IssueCert(n.id, z.id, req.Member, role, now, now.Add(protocol.DefaultCertTTL))
	if err != nil {
		return nil, nil, fmt.Errorf("issue certificate: %w", err)
	}
	st := z.snapshot()
	g := &protocol.Grant{Zone: z.id, Name: z.rec.Name, Root: z.root, Epoch: st.epoch, Secret: st.secret,
		Chain: append(protocol.Chain{cert}, st.chain...)}
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
	enc, ct, err = crypto.SealTo(req.KEM, []byte(protocol.GrantInfo), inv.Secret, req.Invite[:], req.Invite[:], plain, n.rand())
	if err != nil {
		return nil, nil, errors.New("cannot seal to the joiner's key")
	}
	inv.Used = true
	if err := putInvite(n.st, inv); err != nil {
		inv.Used = false
		return nil, nil, errors.New("the inviter's node could not record the invite; try again")
	}
	n.log.Info("member joined", "role", role)
	n.log.Debug("member joined", "zone", z.rec.Name, "member", req.Member.ID())
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

// Join redeems an invite code: it dials the inviter, proves the code,
// receives the zone secret and its certificate sealed to a fresh X-Wing
// key, checks them and joins the zone (control API).
func (n *Node) Join(ctx context.Context, code string) (api.Zone, error) {
	inv, err := protocol.ParseInviteCode(code)
	if err != nil {
		return api.Zone{}, api.Fail(api.ErrInvalid, "invite.bad", "Detail", strings.TrimPrefix(err.Error(), protocol.ErrBadInvite.Error()+": ")).With(err)
	}
	if err := inv.Check(n.now()); err != nil {
		return api.Zone{}, api.Fail(api.ErrInvalid, "invite.expired", "At", inv.Expires.Local().Format("2006-01-02 15:04")).With(err)
	}
	inviter, err := addrInfo(protocol.PeerRecord{ID: inv.Peer, Addrs: inv.Addrs})
	if err != nil {
		return api.Zone{}, fmt.Errorf("%w: invite code: %w", api.ErrInvalid, err)
	}
	if inviter.ID == n.h.ID() {
		return api.Zone{}, api.Fail(api.ErrInvalid, "invite.own")
	}
	ctx, cancel := context.WithTimeout(ctx, joinTimeout)
	defer cancel()
	n.joins.add(inviter.ID) // the inviter shares no zone with this node yet
	defer n.joins.done(inviter.ID)
	if err := n.h.Connect(ctx, inviter); err != nil {
		return api.Zone{}, fmt.Errorf("cannot reach the inviter's node; it must be online to redeem an invite, try again later: %w", err)
	}
	kem, err := crypto.NewKEMKey(n.rand())
	if err != nil {
		return api.Zone{}, fmt.Errorf("join: %w", err)
	}
	req, err := protocol.NewJoinRequest(inv, n.id.Public(), kem.PublicBytes())
	if err != nil {
		return api.Zone{}, fmt.Errorf("join: %w", err)
	}
	s, err := n.h.NewStream(ctx, inviter.ID, joinProtocol)
	if err != nil {
		return api.Zone{}, fmt.Errorf("open join stream to inviter: %w", err)
	}
	defer s.Close()
	if dl, ok := ctx.Deadline(); ok {
		s.SetDeadline(dl)
	}
	if _, err := s.Write(req.MarshalBinary()); err != nil {
		return api.Zone{}, fmt.Errorf("send join request: %w", err)
	}
	s.CloseWrite()
	g, err := readGrant(bufio.NewReader(s), kem, inv)
	if err != nil {
		return api.Zone{}, err
	}
	rec, err := n.acceptGrant(g)
	if err != nil {
		return api.Zone{}, err
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
	n.announceZone(ctx, info.ID)
	return info, nil
}

func readGrant(r io.Reader, kem *crypto.KEMKey, inv *protocol.Invite) (*protocol.Grant, error) {
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
	plain, err := kem.Open(enc, ct, []byte(protocol.GrantInfo), inv.Secret[:], inv.ID[:], inv.ID[:])
	if err != nil {
		return nil, errors.New("open grant: it was not sealed with this invite")
	}
	g, err := protocol.ParseGrant(plain)
	if err != nil {
		return nil, fmt.Errorf("grant: %w", err)
	}
	return g, nil
}

// acceptGrant checks that a grant certifies this member in a consistent
// zone and turns it into a zone record.
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

// Why an inviter's node refuses a join, as it says it on the wire (in
// English, as older nodes do too); the joiner turns the ones it knows into
// messages in the user's language (joinRefusal).
const (
	refuseUsed    = "this invite is unknown or was already used; ask for a new one"
	refuseProof   = "the invite proof does not match; copy the whole code again"
	refuseExpired = "this invite has expired; ask for a new one"
	refuseNoZone  = "the zone of this invite no longer exists here"
	refuseMember  = "you are already a member of this zone; the invite is still unused"
)

// joinRefusal is the joiner's error for an inviter's refusal reason.
func joinRefusal(reason string) *api.Problem {
	id, ok := map[string]string{refuseUsed: "join.used", refuseProof: "join.proof", refuseExpired: "join.expired",
		refuseNoZone: "join.nozone", refuseMember: "join.already"}[reason]
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
