package node

import (
	"context"
	"time"
)

// Test access to certificate renewal (renew.go): the tests drive the daily
// upkeep themselves instead of waiting for its timer.

// DailyUpkeep does what a node's daily upkeep does in every zone, at once:
// renew the founder certificate, announce, renew members due, send a
// governance snapshot if due.
func DailyUpkeep(ctx context.Context, n *Node) (renewed int, err error) {
	for _, z := range n.liveZones() {
		if err := n.renewer.renewRoot(z); err != nil {
			return renewed, err
		}
		n.gov.announceZone(ctx, z.Label().ID)
		r, err := n.renewer.renewMembers(ctx, z)
		renewed += r
		if err != nil {
			return renewed, err
		}
		if _, err := n.gov.makeSnapshot(ctx, z); err != nil {
			return renewed, err
		}
	}
	return renewed, nil
}

// Announce has n announce itself in every zone (the first half of the
// daily upkeep, after renewing a founder certificate).
func Announce(ctx context.Context, n *Node) error {
	for _, z := range n.liveZones() {
		if err := n.renewer.renewRoot(z); err != nil {
			return err
		}
		n.gov.announceZone(ctx, z.Label().ID)
	}
	return nil
}

// RenewMembers renews the members due in a zone (renewMembers).
func RenewMembers(ctx context.Context, n *Node, zoneRef string) (int, error) {
	z, err := n.zone(zoneRef)
	if err != nil {
		return 0, err
	}
	return n.renewer.renewMembers(ctx, z)
}

// ChainExpiry is when n's own certificate chain in a zone expires.
func ChainExpiry(n *Node, zoneRef string) (time.Time, error) {
	z, err := n.zone(zoneRef)
	if err != nil {
		return time.Time{}, err
	}
	return z.snapshot().chain.Expires(), nil
}

// SeenChains is the latest chain expiry n has seen for each member of a
// zone, by member ID.
func SeenChains(n *Node, zoneRef string) (map[string]time.Time, error) {
	z, err := n.zone(zoneRef)
	if err != nil {
		return nil, err
	}
	out := map[string]time.Time{}
	for id, t := range z.LatestChains() {
		out[id.String()] = t
	}
	return out, nil
}

// OnRenewDue has f run in every renewal once it has listed who is due;
// nil stops it.
func OnRenewDue(n *Node, f func()) {
	if f == nil {
		n.renewer.renewHook.Store(nil)
		return
	}
	n.renewer.renewHook.Store(&f)
}

// NoCertifyTimer stops n certifying invited members on its own timer
// (certifyInvitedSoon): only its daily upkeep does.
func NoCertifyTimer(n *Node) { n.renewer.certifyOff.Store(true) }
