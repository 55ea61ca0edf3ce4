package node

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/libp2p/go-libp2p/core/peer"

	"lookout/crypto"
	"lookout/protocol"
)

// Test access to invites redeemed at any member (invite.go, join_serve.go, join.go).

// InviteState reports what n knows of the invite of code: whether one of
// its zones published it, and its redeemers, the admitted one first.
func InviteState(n *Node, code string) (known bool, redeemers []crypto.MemberID, err error) {
	inv, err := protocol.ParseInviteCode(code)
	if err != nil {
		return false, nil, err
	}
	key, err := protocol.InviteIdentity(inv.Secret)
	if err != nil {
		return false, nil, err
	}
	z, info := n.desk.findInvite(protocol.InviteIDOf(key.Public()))
	if z == nil {
		return false, nil, nil
	}
	return true, append([]crypto.MemberID(nil), info.Redeemers...), nil
}

// JoinRaw sends req, as bytes, on a join stream from n to the peer to,
// and returns the answer: granted, or the refusal's reason.
func JoinRaw(ctx context.Context, n *Node, to peer.ID, req []byte) (granted bool, reason string, err error) {
	n.desk.joins.add(to)
	defer n.desk.joins.done(to)
	s, err := n.h.NewStream(ctx, to, joinProtocol)
	if err != nil {
		return false, "", err
	}
	defer s.Close()
	if _, err := s.Write(req); err != nil {
		return false, "", err
	}
	s.CloseWrite()
	var st [1]byte
	if _, err := io.ReadFull(s, st[:]); err != nil {
		return false, "", err
	}
	if st[0] == joinGranted {
		return true, "", nil
	}
	var l [2]byte
	if _, err := io.ReadFull(s, l[:]); err != nil {
		return false, "", err
	}
	b := make([]byte, binary.BigEndian.Uint16(l[:]))
	if _, err := io.ReadFull(s, b); err != nil {
		return false, "", err
	}
	return false, string(b), nil
}

// Refusals are the reasons a member's node gives, for tests to compare.
var Refusals = struct{ Unknown, Used, Expired string }{refuseUnknown, refuseUsed, refuseExpired}

// ConnectTo connects n to the peer of other.
func ConnectTo(ctx context.Context, n, other *Node) error {
	if err := n.h.Connect(ctx, peer.AddrInfo{ID: other.h.ID(), Addrs: other.h.Addrs()}); err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	return nil
}

// CertifiedByInvite reports whether n's certificate in zone was issued by
// an invite key (not yet certified directly by an organizer).
func CertifiedByInvite(n *Node, zone string) (bool, error) {
	z, err := n.zone(zone)
	if err != nil {
		return false, err
	}
	_, ok := z.snapshot().chain.InviteKey()
	return ok, nil
}

// LoseJoinAnnouncement has n lose its first announcement after each join,
// as if no peer were on the zone's topic yet.
func LoseJoinAnnouncement(n *Node) { n.gov.lostAnnounce.Store(true) }
