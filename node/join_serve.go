package node

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"lookout/crypto"
	core "lookout/node/internal/zone"
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
)

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

// joinDesk answers joiners on joinProtocol: it finds the invite among the
// node's zones, takes it for the joiner (served, kept in the store before
// the grant leaves) and hands over the zone sealed to the joiner. It also
// counts the join streams under way in either direction (joins: its own
// and Join's), which connection admission keeps open (gate.go, slots.go).
// It reaches its node only through node and the values it was made with.
type joinDesk struct {
	node nodeForJoins
	h    host.Host    // this node's addresses and its peers', for grants
	st   *store.Store // bucketServed
	log  *slog.Logger

	mu sync.Mutex // guards served; taken after the zone's State lock is released (take), never before it
	// served is which member this node handed each invite's zone to, by
	// zone, until the node stops (the store keeps it until the invite
	// expires).
	served map[protocol.ZoneID]map[[protocol.InviteIDSize]byte]crypto.MemberID
	joins  joinSet // join streams under way, by peer
}

// nodeForJoins is what the join desk uses of its node: its zones (those
// it was removed from too, whose invites grant refuses), clock and
// randomness.
type nodeForJoins interface {
	allZones() []*zone
	now() time.Time
	rand() io.Reader
}

// newJoinDesk makes n's join desk, once Start has opened its store and
// started its host, before connections are admitted (startGate).
func newJoinDesk(n *Node) *joinDesk {
	return &joinDesk{node: n, h: n.h, st: n.st, log: n.log}
}

// allZones returns every zone of n, in no order.
func (n *Node) allZones() []*zone {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Collect(maps.Values(n.zones))
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

// loadServed reads the invites this node handed out (the store drops them
// once expired) for the zones has reports as loaded.
func (d *joinDesk) loadServed(has func(protocol.ZoneID) bool) error {
	served := map[protocol.ZoneID]map[[protocol.InviteIDSize]byte]crypto.MemberID{}
	err := d.st.ForEach(bucketServed, func(b []byte) error {
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
		if !has(zid) {
			return nil // a zone left since
		}
		if served[zid] == nil {
			served[zid] = map[[protocol.InviteIDSize]byte]crypto.MemberID{}
		}
		served[zid][id] = member
		return nil
	})
	if err != nil {
		return err
	}
	d.mu.Lock()
	d.served = served
	d.mu.Unlock()
	return nil
}

// handleJoin serves an invite redemption on any member's node.
func (d *joinDesk) handleJoin(s network.Stream) {
	defer s.Close()
	// Open to peers that share no zone: a joiner has none yet.
	d.joins.add(s.Conn().RemotePeer())
	defer d.joins.done(s.Conn().RemotePeer())
	s.SetDeadline(time.Now().Add(joinTimeout)) // network deadlines use the real clock
	buf := make([]byte, protocol.JoinRequestSize)
	if _, err := io.ReadFull(s, buf); err != nil {
		s.Reset()
		return
	}
	enc, ct, err := d.grant(buf, s.Conn().RemotePeer())
	if err != nil {
		d.log.Info("refused a join request")
		d.log.Debug("refused join", "peer", s.Conn().RemotePeer(), "err", err)
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
		d.log.Warn("join: could not send grant", "err", err)
	}
}

// findInvite returns the zone that published an invite, and a copy of the
// invite (core.State.Invite).
func (d *joinDesk) findInvite(id [protocol.InviteIDSize]byte) (*zone, *protocol.InviteInfo) {
	for _, z := range d.node.allZones() {
		if inv, ok := z.Invite(id); ok && len(inv.Chain) > 0 {
			return z, &inv
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
func (d *joinDesk) grant(b []byte, from peer.ID) (enc, ct []byte, err error) {
	req, err := protocol.ParseJoinRequest(b)
	if err != nil {
		return nil, nil, errors.New("malformed join request")
	}
	z, inv := d.findInvite(req.Invite)
	if z == nil {
		return nil, nil, errors.New(refuseUnknown)
	}
	key := inv.Cert.Subject
	if err := req.Verify(key); err != nil {
		return nil, nil, errors.New(refuseUnknown)
	}
	if !d.node.now().Before(inv.Cert.Expires) {
		return nil, nil, errors.New(refuseExpired)
	}
	member := req.Member.ID()
	st := z.snapshot()
	first, err := d.take(z, req.Invite, inv, member, st.removed)
	if err != nil {
		return nil, nil, err
	}
	if first {
		// Kept before the grant leaves, so the invite stays used across a
		// restart even if the member's announcement has not arrived.
		if err := putServed(d.st, z.ID(), req.Invite, member, inv.Cert.Expires); err != nil {
			d.mu.Lock()
			delete(d.served[z.ID()], req.Invite)
			d.mu.Unlock()
			d.log.Error("join: could not record the invite as used; refused", "err", err)
			return nil, nil, errors.New(refuseAgain)
		}
	}
	g := &protocol.Grant{Zone: z.ID(), Name: z.Name(), Root: z.Root(), Epoch: st.epoch, Secret: st.secret, Chain: inv.Chain}
	g.Peers = append(g.Peers, peerRecord(d.h.ID(), d.h.Addrs()))
	for _, p := range st.topic.ListPeers() {
		if len(g.Peers) == protocol.MaxGrantPeers {
			break
		}
		if p == from {
			continue
		}
		if addrs := d.h.Peerstore().Addrs(p); len(addrs) > 0 {
			g.Peers = append(g.Peers, peerRecord(p, addrs))
		}
	}
	plain, err := g.MarshalBinary()
	if err != nil {
		return nil, nil, err
	}
	psk, pskID := protocol.GrantPSK(key)
	enc, ct, err = crypto.SealTo(req.KEM, []byte(protocol.GrantInfo), psk, pskID, pskID, plain, d.node.rand())
	if err != nil {
		return nil, nil, errors.New("cannot seal to the joiner's key")
	}
	role, _ := inv.Cert.Role.Invited()
	d.log.Info("handed the zone to an invited member", "role", role)
	d.log.Debug("handed the zone to an invited member", "zone", z.Name(), "member", member)
	return enc, ct, nil
}

// take takes z's invite id (inv) for member unless z's roster or served
// refuses it (then the refusal to send); removed is whether this node was
// removed from z. It reports whether the invite was taken now (first), not
// before for the same member. The roster is read in one section
// (core.State.InviteStanding), then served checked and set (takeStanding).
func (d *joinDesk) take(z *zone, id [protocol.InviteIDSize]byte, inv *protocol.InviteInfo, member crypto.MemberID, removed bool) (first bool, err error) {
	return d.takeStanding(z.ID(), id, inv, member, z.InviteStanding(id, inv.Cert.Issuer, member), removed)
}

// takeStanding is take once the roster was read (roster): served is
// checked and set under d.mu, so two joiners asking at once cannot both
// take an invite.
func (d *joinDesk) takeStanding(zone protocol.ZoneID, id [protocol.InviteIDSize]byte, inv *protocol.InviteInfo, member crypto.MemberID, roster core.InviteStanding, removed bool) (first bool, err error) {
	long := len(inv.Chain) >= protocol.MaxChainLen
	d.mu.Lock()
	defer d.mu.Unlock()
	served, taken := d.served[zone][id]
	switch {
	case roster.IssuerRemoved || removed:
		return false, errors.New(refuseUnknown)
	case (roster.Redeemed && roster.Redeemer != member) || (taken && served != member):
		return false, errors.New(refuseUsed)
	case roster.Member && !roster.Redeemed && !taken:
		return false, errors.New(refuseMember)
	case long:
		return false, errors.New(refuseUnknown)
	}
	if d.served == nil {
		d.served = map[protocol.ZoneID]map[[protocol.InviteIDSize]byte]crypto.MemberID{}
	}
	if d.served[zone] == nil {
		d.served[zone] = map[[protocol.InviteIDSize]byte]crypto.MemberID{}
	}
	d.served[zone][id] = member
	return !taken, nil
}

// peerRecord is a peer's record in a grant: its dialable addresses, at
// most MaxInviteAddrs.
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

// joinSet counts join streams under way per peer, either direction.
type joinSet struct {
	mu sync.Mutex
	n  map[peer.ID]int
}

func (j *joinSet) add(p peer.ID) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.n == nil {
		j.n = make(map[peer.ID]int)
	}
	j.n[p]++
}

func (j *joinSet) done(p peer.ID) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.n[p]--; j.n[p] <= 0 {
		delete(j.n, p)
	}
}

func (j *joinSet) active(p peer.ID) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.n[p] > 0
}
