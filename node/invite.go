package node

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"lookout/node/api"
	"lookout/node/reach"
	"lookout/protocol"
)

// Issuing invites: Invite publishes an invite certificate in the zone and
// returns its code; the invite lives in the zone's governance, so this
// node keeps nothing of it (nor does any other). Redeeming one at any member is join_serve.go; joining with a
// code is join.go.

const (
	// inviteOtherPeers is how many members' nodes besides the inviter's an
	// invite names, so it can be redeemed while the inviter is away.
	inviteOtherPeers = protocol.MaxInvitePeers - 1
	// inviteOtherAddrs bounds each other member's addresses in an invite,
	// to keep the code short.
	inviteOtherAddrs = 3
)

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
	cert, err := protocol.IssueCert(n.id, z.ID(), key.Public(), protocol.InviteRole(role), now, inv.Expires)
	if err != nil {
		return api.InviteResponse{}, fmt.Errorf("create invite: %w", err)
	}
	a := n.newAlert(protocol.KindRole, false, protocol.MaxLifetime)
	a.Cert = cert.Bytes()
	if _, err := n.publish(ctx, z, a); err != nil {
		return api.InviteResponse{}, err
	}
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
