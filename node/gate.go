package node

import (
	"context"
	"sort"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"lookout/node/membership"
)

// The membership gate (node/membership) on the node's host: every
// connection proves which zones it shares before gossipsub, sync or links
// tell it anything.

const (
	// memberTag protects proven members' connections in the connection
	// manager, so strangers with many peer IDs cannot push members out.
	memberTag = "lookout-member"
)

// strangerGrace is how long a peer that completed the proof but shares no
// zone stays connected, unless a join is under way with it (a joiner
// proves nothing until its grant arrives). Tests shorten it.
var strangerGrace = 30 * time.Second

// startGate starts admission (the membership gate, before any dial),
// catch-up, which the gate's proofs start, and the fork mender, which
// pulls through both, and then has admission follow every connection.
func (n *Node) startGate() error {
	a, err := newAdmission(n, n.ctx, n.h, n.log, &n.desk.joins, n.dialer, n.inboundSlots)
	if err != nil {
		return err
	}
	n.admission, n.gate = a, a.gate
	n.gateReady.Store(a.gate)
	n.sync = newCatchUp(n)
	n.forks = newForkMender(n)
	a.follow()
	return nil
}

// proofKeys is the gate's keyring: first the current epoch of every zone
// this node is still in and the previous epoch during its straggler
// period, then the zones' older epochs, so that a member who was offline
// through a rotation can still prove an old epoch and pull the rekey by
// sync (Node.Member counts only the first kind; see liveTopics).
func (n *Node) proofKeys() []membership.ZoneKey {
	type oldKey struct {
		epoch uint32
		key   membership.ZoneKey
	}
	var now []membership.ZoneKey
	var old []oldKey
	for _, z := range n.liveZones() {
		for _, h := range z.HeldEpochs() {
			k := membership.ZoneKey{Topic: h.Secret.TopicName(h.Epoch), Key: h.Secret.ProofKey(h.Epoch)}
			if h.Live {
				now = append(now, k)
			} else {
				old = append(old, oldKey{h.Epoch, k})
			}
		}
	}
	// Newest first among the old, so the cap on proof slots
	// (protocol.MembershipSlots) drops the oldest.
	sort.SliceStable(old, func(i, j int) bool { return old[i].epoch > old[j].epoch })
	for _, k := range old {
		now = append(now, k.key)
	}
	return now
}

// liveTopics returns the topics of the current and straggling epochs.
func (n *Node) liveTopics() []string {
	var out []string
	for _, z := range n.liveZones() {
		for _, h := range z.LiveEpochs() {
			out = append(out, h.Secret.TopicName(h.Epoch))
		}
	}
	return out
}

// keysChanged tells the gate that proofKeys' answer changed (a zone joined
// or created, left or removed from, an epoch switched or its straggler
// period over): every connected peer proves again.
func (n *Node) keysChanged() {
	if g := n.gateReady.Load(); g != nil {
		g.KeysChanged()
	}
}

// Member reports whether p proved, on its connection, the current (or
// straggling) epoch of a zone this node is in (reach.Members: the relay
// ACL and relay candidates; protected connections; link streams).
func (n *Node) Member(p peer.ID) bool {
	g := n.gateReady.Load() // libp2p's relay may ask before the gate starts
	if g == nil || !g.Member(p) {
		return false
	}
	for _, t := range n.liveTopics() {
		if g.Shares(p, t) {
			return true
		}
	}
	return false
}

// admitPeer follows a new connection: once the proof is done a member's
// connection is protected; a peer that shares no zone is disconnected
// after strangerGrace unless it is joining. A peer that fails the proof
// is disconnected by the gate.
func (a *admission) admitPeer(p peer.ID) {
	ctx, cancel := context.WithTimeout(a.ctx, membership.DefaultWindow)
	defer cancel()
	if err := a.gate.Wait(ctx, p); err != nil {
		return
	}
	if a.protect(p) {
		return
	}
	t := time.NewTimer(strangerGrace)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-a.ctx.Done():
			return
		}
		if a.protect(p) || a.h.Network().Connectedness(p) != network.Connected {
			return
		}
		if !a.joins.active(p) {
			break
		}
		t.Reset(strangerGrace) // joining: look again later
	}
	a.log.Debug("closing a connection that proved no zone", "peer", p)
	a.h.Network().ClosePeer(p)
}

// protect protects p's connections if p is a proven member, unprotects
// them otherwise, and reports which.
func (a *admission) protect(p peer.ID) bool {
	if a.node.Member(p) {
		a.h.ConnManager().Protect(p, memberTag)
		return true
	}
	a.h.ConnManager().Unprotect(p, memberTag)
	return false
}

// protectAll reconciles the protection of every connected peer (the
// redial loop: membership changes with keys and removals).
func (a *admission) protectAll() {
	for _, p := range a.h.Network().Peers() {
		a.protect(p)
	}
}

// repairMesh reconnects to a peer that proved a zone's current epoch but
// has not been on that zone's topic for two redial ticks in a row and at
// least meshRepairAfter, and a fresh connection announces subscriptions
// again. The one known way to lose a subscription (dropped under a stale
// verdict between overlapping proof runs) is closed in node/membership;
// this is the last resort for any other. Called each redial tick.
//
// The wait is in real time, not ticks: at a short redial interval a fresh
// connection is still proving when the next tick comes, and both ends
// reconnecting at once thrashed (two nodes never formed a mesh). The end
// with the higher peer ID waits twice as long, so both rarely act at once.
func (a *admission) repairMesh(zones []*zone) {
	missing := make(map[peer.ID]bool)
	for _, z := range zones {
		t := z.snapshot().topic
		if t == nil {
			continue
		}
		listed := make(map[peer.ID]bool)
		for _, p := range t.ListPeers() {
			listed[p] = true
		}
		for _, p := range a.h.Network().Peers() {
			if !listed[p] && a.gate.Shares(p, t.String()) {
				missing[p] = true
			}
		}
	}
	now := time.Now() // real time: Node.Now may be a test's frozen clock
	var repair []peer.ID
	a.meshMu.Lock()
	since := make(map[peer.ID]meshGap, len(missing))
	for p := range missing {
		gap, ok := a.missing[p]
		if !ok {
			gap = meshGap{first: now}
		}
		gap.ticks++
		wait := meshRepairAfter
		if a.h.ID() > p {
			wait *= 2
		}
		if gap.ticks >= 2 && now.Sub(gap.first) >= wait {
			repair = append(repair, p) // and forgotten: the new connection gets a full wait
			continue
		}
		since[p] = gap
	}
	a.missing = since
	a.meshMu.Unlock()
	for _, p := range repair {
		a.log.Debug("peer proved a zone but is not on its topic; reconnecting", "peer", p)
		ai := peer.AddrInfo{ID: p, Addrs: a.h.Peerstore().Addrs(p)}
		a.h.Network().ClosePeer(p)
		a.node.spawn(func() {
			ctx, cancel := context.WithTimeout(a.ctx, joinTimeout)
			defer cancel()
			if err := a.h.Connect(ctx, ai); err != nil {
				a.log.Debug("reconnect failed", "peer", p, "err", err)
			}
		})
	}
}

// meshRepairAfter is how long a proven peer must be missing from a zone's
// topic before repairMesh reconnects to it.
const meshRepairAfter = 10 * time.Second

// meshGap is how long a peer has been missing from a zone topic.
type meshGap struct {
	first time.Time // first tick it was seen missing
	ticks int
}
