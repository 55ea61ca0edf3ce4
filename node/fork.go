package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"lookout/crypto"
	core "lookout/node/internal/zone"
	"lookout/node/membership"
	"lookout/protocol"
)

// Forked epochs. Two organizers who each remove someone while the network
// is split each send a rekey to the same epoch number with different
// secrets. Both rekeys are kept in the governance log; once a node holds
// both (or holds a removal its own epoch's rekey did not exclude), the zone
// moves on with a merge: a rekey to the next epoch, sealed under the last
// epoch the branches share (the fork's parent, whose secret every member of
// both branches holds and which is the entries' PSK), with an entry for
// every member that no branch removed. Every node computes the same fork,
// winner and merger from the same messages, whatever their order:
//
//   - a rekey set is the rekey messages of one sender to one epoch sealed
//     under one epoch (its parts);
//   - a fork at epoch F is two or more sets to F; it is resolved by a set
//     that spans it (sealed under an epoch before F, to an epoch after F);
//   - the winner of a fork is the set holding the lowest message ID; its
//     sender merges at once, any other organizer after mergeFallback;
//   - a node merges at most once per mergeFallback (storm guard), only
//     when it holds no rekey beyond its current epoch, and only from a
//     parent whose secret it holds.
//
// The fork, winner and merger are worked out by the zone core
// (core.State.ForkPlan, node/internal/zone/state_life.go).

// forkMender moves its node's zones past forked epochs: it checks a
// zone's fork plan when a rekey or removal is stored and on every redial
// tick (checkFork), sends the merge when this node should (merge), and
// otherwise pulls from the peers that may hold one (syncAll, syncBehind).
// What it notes of a fork (z.forkSince, z.merged) is the zone's, under
// z.mu; its own state is only a test hook. It reaches its node only
// through node and the values it was made with.
type forkMender struct {
	node    nodeForForks
	gov     govForForks     // seals and commits the merge (the governor, govsend.go)
	ctx     context.Context // the node's: done once it closes
	id      *crypto.Identity
	h       host.Host        // its connected peers
	gate    *membership.Gate // which zone epochs each peer proved
	replay  *replayCache     // a merge published to no peer is still marked seen
	sync    *catchUp         // pulls (syncPeer) and the epoch a peer shares (sharedEpoch)
	renewer *renewer         // renews the founder's certificate before a merge is signed
	log     *slog.Logger

	// mergeOff, if set, keeps this node from merging forked epochs (tests
	// of a hostile organizer).
	mergeOff atomic.Bool
}

// nodeForForks is what the fork mender uses of its node: its clock and
// randomness and its goroutines.
type nodeForForks interface {
	now() time.Time
	rand() io.Reader
	spawn(f func())
}

// govForForks is how the fork mender sends a merge: a rekey's entries
// sealed (rekeyEntries, sealRekey) and committed with the epoch it moves
// to (commitRemoval). The governor (govsend.go) satisfies it.
type govForForks interface {
	rekeyEntries(z *zone, parent crypto.ZoneSecret, epoch uint32, next crypto.ZoneSecret, except crypto.MemberID) (entries []protocol.RekeyEntry, reached int, unreached []string, err error)
	sealRekey(z *zone, st snapshot, epoch uint32, entries []protocol.RekeyEntry) ([]*GovMsg, error)
	commitRemoval(z *zone, epoch uint32, msgs []*GovMsg, next core.EpochSwitch, from string) error
}

// newForkMender makes n's fork mender once startGate has started the gate
// and catch-up, before connections are followed (a governance message
// stored checks the zone's forks).
func newForkMender(n *Node) *forkMender {
	return &forkMender{node: n, gov: n.gov, ctx: n.ctx, id: n.id, h: n.h, gate: n.gate, replay: n.replay, sync: n.sync, renewer: n.renewer, log: n.log}
}

// mergeFallback is how long an organizer that is not the fork's winner
// waits for a merge before sending one itself, and the least time between
// two merges sent by one node in one zone.
var mergeFallback = 10 * time.Minute // tests shorten it

// errNoOneToMerge is a merge with no other member to reach.
var errNoOneToMerge = errors.New("merge: no other member's key is known")

// checkFork merges a zone's forked epochs if this node should now: it is
// an organizer of the zone, and the fork's winner, or the fork has waited
// mergeFallback; and it sent no merge in this zone for mergeFallback. A
// node that does not merge pulls, on each redial tick (pull), from every
// member peer it is connected to, since the merge may come from a branch
// whose topic it is not on.
func (f *forkMender) checkFork(z *zone, pull bool) {
	now := f.node.now()
	plan := z.ForkPlan()
	organizer := plan.Organizer && !f.mergeOff.Load()
	z.mu.Lock()
	if !plan.Need {
		z.forkSince = time.Time{}
		z.mu.Unlock()
		return
	}
	if z.forkSince.IsZero() {
		z.forkSince = now
		f.log.Warn("the zone's epochs forked (removals on both sides of a network split); an organizer moves it to one epoch")
	}
	due := plan.Merger == f.id.ID() || now.Sub(z.forkSince) >= mergeFallback
	guarded := !z.merged.IsZero() && now.Sub(z.merged) < mergeFallback
	z.mu.Unlock()
	if !organizer || !due || guarded {
		if pull {
			f.syncAll()
		}
		return
	}
	err := f.merge(f.ctx, z, plan)
	if errors.Is(err, errNoOneToMerge) {
		z.mu.Lock()
		z.merged = now // nothing to do until someone else's key is known
		z.mu.Unlock()
		return
	}
	if err != nil {
		f.log.Warn("could not merge the zone's forked epochs; will try again", "err", err)
		return
	}
	f.log.Info("merged the zone's forked epochs")
}

// merge sends a rekey to plan.Target sealed under plan.Parent with an
// entry for every member no branch removed, moving this node with it.
func (f *forkMender) merge(ctx context.Context, z *zone, plan core.ForkPlan) error {
	if err := f.renewer.renewRoot(z); err != nil {
		return err
	}
	st := z.snapshot()
	if st.removed {
		return fmt.Errorf("merge: removed from the zone")
	}
	parent, ok := z.SecretOf(plan.Parent)
	if !ok || st.epoch+1 != plan.Target {
		return fmt.Errorf("merge: the zone moved meanwhile")
	}
	next, err := crypto.NewZoneSecret(f.node.rand())
	if err != nil {
		return fmt.Errorf("merge: new epoch secret: %w", err)
	}
	entries, _, _, err := f.gov.rekeyEntries(z, parent, plan.Target, next, crypto.MemberID{})
	if err != nil {
		return fmt.Errorf("merge: %w", err)
	}
	pst := st
	pst.epoch, pst.secret = plan.Parent, parent
	msgs, err := f.gov.sealRekey(z, pst, plan.Target, entries)
	if err != nil {
		return fmt.Errorf("merge: %w", err)
	}
	if len(msgs) == 0 {
		return errNoOneToMerge
	}
	if err := f.gov.commitRemoval(z, st.epoch, msgs, core.EpochSwitch{Epoch: plan.Target, Secret: next}, msgs[0].Msg.ID.String()); err != nil {
		return err
	}
	z.mu.Lock()
	z.merged, z.forkSince = f.node.now(), time.Time{}
	z.mu.Unlock()
	for _, g := range msgs {
		if err := st.topic.Publish(ctx, g.Env); err != nil && !f.replay.Has(g.Msg.ID) {
			f.replay.Add(g.Msg.ID, g.Msg.Alert.Expires, f.node.now())
		}
	}
	// Members of the other branch are on no topic this node is on: hand
	// them the merge by catch-up at the epoch they share.
	f.syncAll()
	return nil
}

// syncAll pulls from, and so offers to, every connected peer that proved
// a zone epoch this node holds.
func (f *forkMender) syncAll() {
	for _, p := range f.h.Network().Peers() {
		if f.gate.Member(p) {
			f.node.spawn(func() { f.sync.syncPeer(p) })
		}
	}
}

// syncBehind pulls, once per redial tick and in turn, from one connected
// peer that proved an epoch of z but not z's current one: a member behind,
// which pulls from this node itself, or one on the other side of a fork,
// whose merge this node may not hold (it is on no topic this node is on).
func (f *forkMender) syncBehind(z *zone, tick int) {
	cur := z.snapshot()
	if cur.topic == nil {
		return
	}
	var behind []peer.ID
	for _, p := range f.h.Network().Peers() {
		if _, ok := f.sync.sharedEpoch(z, p); ok && !f.gate.Shares(p, cur.topic.String()) {
			behind = append(behind, p)
		}
	}
	if len(behind) == 0 {
		return
	}
	sort.Slice(behind, func(i, j int) bool { return behind[i] < behind[j] })
	p := behind[tick%len(behind)]
	f.node.spawn(func() { f.sync.syncPeer(p) })
}
