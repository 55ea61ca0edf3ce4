package node

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"lookout/crypto"
	"lookout/node/api"
	core "lookout/node/internal/zone"
	"lookout/protocol"
)

// governor sends this member's own governance messages: its announcement
// (announce, announceZone, announceJoined), role grants (publishGrant),
// governance snapshots (makeSnapshot, govsnap.go) and removals with their
// rekey (removeAndRekey, from rekeyEntries, sealRekey, sealGov and
// commitRemoval, which the fork mender's merge also uses). What it
// changes is the zone's: a grant's time (z.lastGrant, under z.grantMu,
// which callers hold), when it last announced (under z.mu), the epoch
// (under Node.mu, then what records.commitGov takes). Its own state is
// only a test hook. It reaches its node only through node, the records
// through recs, and the values it was made with.
type governor struct {
	node   nodeForGov
	recs   recordsForGov
	ctx    context.Context // the node's: done once it closes (announceJoined's wait)
	id     *crypto.Identity
	kem    *crypto.KEMKey // announced: the same key in every announcement
	name   string
	mu     *sync.Mutex  // Node.mu: held from a removal's epoch check to its commit (commitRemoval)
	replay *replayCache // a removal published to no peer is still marked seen
	log    *slog.Logger

	// lostAnnounce, if set, loses a new member's first announcement after
	// a join (tests; announceJoined).
	lostAnnounce atomic.Bool
}

// nodeForGov is what the governor uses of its node: its clock and
// randomness, its zones by reference, new alerts and their publishing
// (newAlert, publish: signed, sealed, sent and stored) and its
// goroutines.
type nodeForGov interface {
	now() time.Time
	rand() io.Reader
	zone(ref string) (*zone, error)
	newAlert(kind protocol.Kind, exercise bool, ttl time.Duration) *protocol.Alert
	publish(ctx context.Context, z *zone, a *protocol.Alert) (*protocol.Message, error)
	spawn(f func())
}

// recordsForGov is how the governor writes a removal with its rekey and
// the zone's new epoch, applied in memory at once: the node's records
// (records.commitGov).
type recordsForGov interface {
	commitGov(z *zone, msgs []*GovMsg, drop []protocol.AlertID, ch core.GovChange) error
}

// newGovernor makes n's governor once Start has loaded its identity, name
// and KEM key and made its records, before the renewer and the fork
// mender, which send through it.
func newGovernor(n *Node) *governor {
	return &governor{node: n, recs: n.records, ctx: n.ctx, id: n.id, kem: n.kem, name: n.name, mu: &n.mu, replay: n.replay, log: n.log}
}

// announce publishes this member's name and KEM public key in a zone.
func (g *governor) announce(ctx context.Context, z *zone) error {
	a := g.node.newAlert(protocol.KindMember, false, protocol.MaxLifetime)
	a.Name, a.KEM = g.name, g.kem.PublicBytes()
	_, err := g.node.publish(ctx, z, a)
	return err
}

// publishGrant certifies key with role in z and publishes the certificate
// as a role grant. Callers hold z.grantMu. Zones fold a member's grants by
// sent time, ties broken by message ID (core.Rules.FoldGrants), so each
// grant of this node is sent at least a millisecond after its last one:
// two grants made within one millisecond (a renewal, then a promotion)
// still take effect in the order they were made.
func (g *governor) publishGrant(ctx context.Context, z *zone, key *crypto.PublicKey, role protocol.Role) error {
	a := g.node.newAlert(protocol.KindRole, false, protocol.MaxLifetime)
	if !a.Sent.After(z.lastGrant) {
		a.Sent = z.lastGrant.Add(time.Millisecond)
		a.Expires = a.Sent.Add(protocol.MaxLifetime)
	}
	now := g.node.now()
	c, err := protocol.IssueCert(g.id, z.ID(), key, role, now, now.Add(protocol.DefaultCertTTL))
	if err != nil {
		return fmt.Errorf("issue a role certificate: %w", err)
	}
	a.Cert = c.Bytes()
	if _, err := g.node.publish(ctx, z, a); err != nil {
		return err
	}
	z.lastGrant = a.Sent
	return nil
}

// removeAndRekey removes member and moves the zone to a new epoch whose
// secret is sealed to every other member whose KEM key is known. The
// removal, the rekey and the zone record's new epoch are written in one
// transaction before memory changes (records.commitGov), then published on
// the epoch's topic; members who miss them get them by catch-up. Callers
// renew the founder's certificate first (renewer.renewRoot).
func (g *governor) removeAndRekey(ctx context.Context, z *zone, member crypto.MemberID) (api.RemoveResult, error) {
	st := z.snapshot()
	if st.removed {
		return api.RemoveResult{}, fmt.Errorf("%w: you were removed from zone %q", api.ErrForbidden, z.Name())
	}
	next, err := crypto.NewZoneSecret(g.node.rand())
	if err != nil {
		return api.RemoveResult{}, fmt.Errorf("remove member: new epoch secret: %w", err)
	}
	entries, reached, unreached, err := g.rekeyEntries(z, st.secret, st.epoch+1, next, member)
	if err != nil {
		return api.RemoveResult{}, fmt.Errorf("remove member: %w", err)
	}
	res := api.RemoveResult{Reached: reached, Unreached: unreached}
	rm := g.node.newAlert(protocol.KindRemove, false, protocol.MaxLifetime)
	rm.Subject = member
	removal, err := g.sealGov(z, st, rm)
	if err != nil {
		return api.RemoveResult{}, fmt.Errorf("remove member: %w", err)
	}
	rk, err := g.sealRekey(z, st, st.epoch+1, entries)
	if err != nil {
		return api.RemoveResult{}, fmt.Errorf("remove member: %w", err)
	}
	msgs := append([]*GovMsg{removal}, rk...)
	from := msgs[0].Msg.ID.String()
	if len(msgs) > 1 {
		from = msgs[1].Msg.ID.String()
	}
	if err := g.commitRemoval(z, st.epoch, msgs, core.EpochSwitch{Epoch: st.epoch + 1, Secret: next}, from); err != nil {
		return api.RemoveResult{}, err
	}
	for _, m := range msgs {
		if err := st.topic.Publish(ctx, m.Env); err != nil && !g.replay.Has(m.Msg.ID) {
			// Saved here and offered by catch-up: members get it there.
			g.replay.Add(m.Msg.ID, m.Msg.Alert.Expires, g.node.now())
			g.log.Warn("removal saved but not published; members will get it by catch-up")
			g.log.Debug("publish removal", "zone", z.Name(), "err", err)
		}
	}
	res.Epoch = st.epoch + 1
	return res, nil
}

// rekeyEntries seals next, the secret of epoch, to every member of the
// roster but this one, the removed and except, under the PSK parent (the
// secret of the epoch the rekey is sealed under). reached counts the
// entries and this node; unreached lists members whose KEM key is
// unknown or unusable.
func (g *governor) rekeyEntries(z *zone, parent crypto.ZoneSecret, epoch uint32, next crypto.ZoneSecret, except crypto.MemberID) (entries []protocol.RekeyEntry, reached int, unreached []string, err error) {
	members := z.RosterSorted()
	for _, m := range members {
		switch {
		case m.Removed || m.ID == except:
		case m.ID == g.id.ID():
			reached++ // this node moves itself
		case m.KEM == nil:
			unreached = append(unreached, m.ID.String())
		default:
			e, err := protocol.SealRekeyEntry(m.KEM, z.ID(), parent, epoch, m.ID, next, g.node.rand())
			if err != nil {
				unreached = append(unreached, m.ID.String())
				continue
			}
			entries = append(entries, e)
			reached++
		}
	}
	parts := (len(entries) + protocol.MaxRekeyEntries - 1) / protocol.MaxRekeyEntries
	if parts > protocol.MaxRekeyParts {
		return nil, 0, nil, fmt.Errorf("%w: zone too large to rekey (%d members); nothing was changed", api.ErrInvalid, len(entries))
	}
	return entries, reached, unreached, nil
}

// sealRekey splits entries into the parts of a rekey to epoch, sealed
// under st's epoch, without sending or storing them (none if there is no
// entry: a part holds at least one).
func (g *governor) sealRekey(z *zone, st snapshot, epoch uint32, entries []protocol.RekeyEntry) ([]*GovMsg, error) {
	parts := (len(entries) + protocol.MaxRekeyEntries - 1) / protocol.MaxRekeyEntries
	msgs := make([]*GovMsg, 0, parts)
	for p := range parts {
		a := g.node.newAlert(protocol.KindRekey, false, protocol.MaxLifetime)
		a.Epoch, a.Part, a.Parts = epoch, uint8(p), uint8(parts)
		a.Rekey = entries[p*protocol.MaxRekeyEntries : min(len(entries), (p+1)*protocol.MaxRekeyEntries)]
		m, err := g.sealGov(z, st, a)
		if err != nil {
			return nil, fmt.Errorf("rekey: %w", err)
		}
		msgs = append(msgs, m)
	}
	return msgs, nil
}

// commitRemoval writes a removal, its rekey and the zone's new epoch at
// once, if the zone is still at epoch.
func (g *governor) commitRemoval(z *zone, epoch uint32, msgs []*GovMsg, next core.EpochSwitch, from string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if cur, _ := z.Current(); cur != epoch {
		return fmt.Errorf("%w: the zone moved to a new epoch meanwhile; nothing was changed, try again", api.ErrInvalid)
	}
	ch := core.GovChange{Record: z.Record(), Dirty: true, Next: &next}
	ch.Record.SetEpoch(next, from)
	if err := g.recs.commitGov(z, msgs, nil, ch); err != nil {
		return fmt.Errorf("remove member: %w; nothing was changed or sent, free some disk space and try again", err)
	}
	return nil
}

// sealGov signs and seals a governance message of this member for the
// zone state st, without sending or storing it.
func (g *governor) sealGov(z *zone, st snapshot, a *protocol.Alert) (*GovMsg, error) {
	a.Zone = z.ID()
	if exp, ok := st.expiredSince(g.node.now()); ok {
		return nil, expiredProblem(z, exp)
	}
	s, err := protocol.Sign(g.id, st.chain, a)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	env, err := protocol.Seal(st.secret.AlertKey(st.epoch), st.epoch, s, g.node.rand())
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return &GovMsg{Msg: &protocol.Message{Signed: s, Epoch: st.epoch, Role: st.role}, Env: env}, nil
}

// announceZone publishes this member's announcement in a zone, logging
// failures: announcing again later is harmless.
func (g *governor) announceZone(ctx context.Context, zoneID string) {
	z, err := g.node.zone(zoneID)
	if err != nil {
		return
	}
	if exp, ok := z.snapshot().expiredSince(g.node.now()); ok {
		g.log.Warn("a zone membership expired: ask an organizer to renew it", "expired", exp.UTC().Format(time.DateOnly))
		z.mu.Lock()
		z.announced = g.node.now() // warn again at the next announcement, not every tick
		z.mu.Unlock()
		return
	}
	if err := g.announce(ctx, z); err != nil {
		g.log.Warn("could not announce membership", "err", err)
		return
	}
	z.mu.Lock()
	z.announced = g.node.now()
	z.mu.Unlock()
}
