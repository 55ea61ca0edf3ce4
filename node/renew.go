package node

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"lookout/crypto"
	"lookout/node/api"
	"lookout/node/store"
	"lookout/protocol"
)

// rootRenewBefore is how long before it expires the founder's own
// certificate is renewed.
const rootRenewBefore = 60 * 24 * time.Hour

// memberRenewBefore is how long before a member's certificate chain
// expires an organizer re-issues its certificate (renewMembers).
const memberRenewBefore = 60 * 24 * time.Hour

// maxRenewPerDay bounds the renewals one organizer sends a day, well
// within its role grant budget (core.MaxOrganizerGov per
// protocol.RateWindow) so promotions still go through; 40 a day over
// memberRenewBefore covers zones of thousands.
const maxRenewPerDay = 40

// renewer keeps certificates from expiring: the founder's own
// (renewRoot: at start, daily, and before this node signs anything), the
// members' an organizer re-issues as role grants (renewMembers, at a
// random point of the daily upkeep: renewLater, which then sends a
// governance snapshot if due) and invited members' certified directly
// soon after they join (certifyInvitedSoon). What it changes is the
// zone's, under the zone's locks, taken in the order z.grantMu, then
// Node.mu (mu), then z.mu; its own state is only the test hooks. It
// reaches its node only through node and the values it was made with.
type renewer struct {
	node nodeForRenewals
	ctx  context.Context // the node's: done once it closes
	id   *crypto.Identity
	mu   *sync.Mutex     // Node.mu: guards z.rec and the zone files (renewRoot, renewMembers)
	wg   *sync.WaitGroup // the node's goroutines, which Close waits for (afterRandom)
	log  *slog.Logger

	// renewHook, if set, runs in renewMembers once it has listed who is
	// due (tests).
	renewHook atomic.Pointer[func()]
	// certifyOff, if set, stops certifyInvitedSoon: tests that count what
	// the daily upkeep certifies set it, so a random timer cannot do it
	// first.
	certifyOff atomic.Bool
}

// nodeForRenewals is what the renewer uses of its node: its clock and
// randomness (the random waits), the store (putRecords, with its test
// fault), role grants (publishGrant) and governance snapshots
// (makeSnapshot).
type nodeForRenewals interface {
	now() time.Time
	rand() io.Reader
	putRecords(recs []store.Record) error
	publishGrant(ctx context.Context, z *zone, key *crypto.PublicKey, role protocol.Role) error
	makeSnapshot(ctx context.Context, z *zone) (bool, error)
}

// newRenewer makes n's renewer, once Start has loaded its identity,
// before connections are admitted (startGate): a governance message
// stored may start a certification.
func newRenewer(n *Node) *renewer {
	return &renewer{node: n, ctx: n.ctx, id: n.id, mu: &n.mu, wg: &n.wg, log: n.log}
}

// renewRootCert gives the founder of a zone (the holder of its root key) a
// fresh self-issued certificate once its own is within rootRenewBefore of
// expiry, or past it, so a zone outlives protocol.DefaultCertTTL. It
// reports whether rec changed. Other members' certificates are not renewed
// here: that needs an organizer.
func renewRootCert(rec *zoneRecord, id *crypto.Identity, now time.Time) (bool, error) {
	if !bytes.Equal(rec.Root, id.Public().Bytes()) || len(rec.Chain) != 1 {
		return false, nil
	}
	c, err := protocol.ParseCert(rec.Chain[0])
	if err != nil || now.Before(c.Expires.Add(-rootRenewBefore)) {
		return false, nil // a damaged certificate is reported by Record.Open
	}
	zid, err := protocol.ParseZoneID(rec.ID)
	if err != nil {
		return false, nil
	}
	nc, err := protocol.IssueCert(id, zid, id.Public(), protocol.RoleOrganizer, now, now.Add(protocol.DefaultCertTTL))
	if err != nil {
		return false, fmt.Errorf("renew founder certificate: %w", err)
	}
	rec.Chain = [][]byte{nc.Bytes()}
	return true, nil
}

// renewRoot renews the founder's certificate of a zone if due
// (renewRootCert), on disk then in memory: at start, daily, and before
// this node signs anything. It takes Node.mu, then z.mu: callers may
// hold z.grantMu (a role grant is signed under it), never Node.mu or z.mu.
func (r *renewer) renewRoot(z *zone) error {
	if ch := z.snapshot().chain; !z.root.Equal(r.id.Public()) || len(ch) != 1 || r.node.now().Before(ch[0].Expires.Add(-rootRenewBefore)) {
		return nil // not the founder, or not due: no lock taken
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	rec := z.rec
	changed, err := renewRootCert(&rec, r.id, r.node.now())
	if err != nil || !changed {
		return err
	}
	c, err := protocol.ParseCert(rec.Chain[0])
	if err != nil {
		return fmt.Errorf("renew founder certificate: %w", err)
	}
	zr, err := zoneRecordWrite(rec)
	if err != nil {
		return err
	}
	if err := r.node.putRecords([]store.Record{zr}); err != nil {
		return fmt.Errorf("renew founder certificate: %w", err)
	}
	z.setRecord(rec)
	z.Mu.Lock()
	z.Chain, z.Role = protocol.Chain{c}, protocol.RoleOrganizer
	z.Mu.Unlock()
	r.log.Info("renewed the founder certificate of a zone")
	return nil
}

// expiredSince reports when this member's certificate chain in the zone
// expired, if it has at now. An expired membership still reads the zone;
// nothing can be signed in it until an organizer renews it.
func (st snapshot) expiredSince(now time.Time) (time.Time, bool) {
	exp := st.chain.Expires()
	return exp, len(st.chain) > 0 && !now.Before(exp)
}

// expiredProblem is the error for sending in a zone whose membership
// expired at exp.
func expiredProblem(z *zone, exp time.Time) error {
	return api.Fail(api.ErrForbidden, "zone.expired", "Zone", api.Quote(z.rec.Name), "Date", exp.UTC().Format(time.DateOnly))
}

// latestChainsLocked returns, for every member, the latest expiry of a
// certificate chain it was seen with in the zone's governance messages:
// its own announcements (re-sent daily) and the role grants naming it,
// whose chain is the granted certificate and the granter's chain.
// Callers hold z.mu.
func (z *zone) latestChainsLocked() map[crypto.MemberID]time.Time {
	out := map[crypto.MemberID]time.Time{}
	note := func(m crypto.MemberID, exp time.Time) {
		if exp.After(out[m]) {
			out[m] = exp
		}
	}
	for _, g := range z.Gov {
		m := g.Msg
		if len(m.Chain) == 0 {
			continue
		}
		note(m.Alert.Sender, m.Chain.Expires())
		if m.Alert.Kind != protocol.KindRole {
			continue
		}
		if c, err := protocol.ParseCert(m.Alert.Cert); err == nil {
			note(c.Subject.ID(), append(protocol.Chain{c}, m.Chain...).Expires())
		}
	}
	return out
}

// invitedLocked lists the members an invite admitted (each invite's
// first redeemer) that no organizer has certified directly since: no role
// grant names them. Callers hold z.mu.
func (z *zone) invitedLocked() map[crypto.MemberID]bool {
	out := map[crypto.MemberID]bool{}
	for id := range z.Fold.Roster.Invites {
		if r, ok := z.Fold.Roster.Redeemer(id); ok {
			out[r] = true
		}
	}
	if len(out) == 0 {
		return out
	}
	for _, g := range z.Gov {
		if g.Msg.Alert.Kind != protocol.KindRole {
			continue
		}
		if c, err := protocol.ParseCert(g.Msg.Alert.Cert); err == nil {
			delete(out, c.Subject.ID())
		}
	}
	return out
}

// renewal is one member's certificate to re-issue.
type renewal struct {
	member crypto.MemberID
	key    *crypto.PublicKey
	role   protocol.Role
}

// dueRenewalsLocked lists the members whose certificate this organizer
// should re-issue at now: not removed, not the founder or itself, whose
// latest chain seen expires within memberRenewBefore (or has), and for
// whom a chain through this organizer would last longer than the one
// seen, so a member renewed by another organizer, or whose renewal would
// gain nothing until this organizer is renewed itself, is skipped.
// Callers hold z.mu.
func (z *zone) dueRenewalsLocked(self crypto.MemberID, now time.Time) []renewal {
	if z.Role != protocol.RoleOrganizer || z.Removed || len(z.Chain) >= protocol.MaxChainLen {
		return nil
	}
	mine := z.Chain.Expires()
	if !now.Before(mine) {
		return nil
	}
	latest := z.latestChainsLocked()
	invited := z.invitedLocked()
	var out []renewal
	for _, mi := range z.Fold.Roster.Sorted() {
		if mi.Removed || mi.ID == self || mi.ID == z.root.ID() {
			continue
		}
		if pk := z.Pubkeys[mi.ID]; invited[mi.ID] && pk != nil {
			// Certified by an invite key: certified directly at once, so
			// its chain is short enough for an organizer to invite.
			out = append(out, renewal{member: mi.ID, key: pk, role: mi.Role})
			continue
		}
		seen, ok := latest[mi.ID]
		if !ok || !mine.After(seen) {
			continue
		}
		if now.Before(seen.Add(-memberRenewBefore)) {
			continue
		}
		if pk := z.Pubkeys[mi.ID]; pk != nil {
			out = append(out, renewal{member: mi.ID, key: pk, role: mi.Role})
		}
	}
	return out
}

// renewMembers re-issues, as role grants (KindRole, the path Promote
// takes), the certificates of the members due for renewal
// (dueRenewalsLocked), with their current role. It runs in the daily
// upkeep of an organizer's node. It returns how many it renewed.
func (r *renewer) renewMembers(ctx context.Context, z *zone) (int, error) {
	if err := r.renewRoot(z); err != nil { // a founder renews through its own certificate
		return 0, err
	}
	now := r.node.now()
	z.grantMu.Lock()
	defer z.grantMu.Unlock()
	r.mu.Lock()
	z.Mu.Lock()
	due := z.dueRenewalsLocked(r.id.ID(), now)
	z.Mu.Unlock()
	r.mu.Unlock()
	done := 0
	if len(due) > maxRenewPerDay {
		due = due[:maxRenewPerDay] // the rest tomorrow
	}
	if f := r.renewHook.Load(); f != nil {
		(*f)()
	}
	for _, m := range due {
		if err := r.node.publishGrant(ctx, z, m.key, m.role); err != nil {
			return done, fmt.Errorf("renew a member certificate: %w", err)
		}
		done++
		r.log.Debug("renewed a member certificate", "zone", z.rec.Name, "member", m.member)
	}
	if done > 0 {
		r.log.Info("renewed zone members' certificates", "count", done)
	}
	return done, nil
}

// renewLater runs renewMembers, then makeSnapshot, after a random part of
// every, so the organizers of a zone, whose upkeep ticks alike, do not all
// renew the same members (or snapshot the zone) at once: the first one's
// messages reach the others first.
func (r *renewer) renewLater(z *zone, every time.Duration) {
	r.afterRandom(every, func() {
		if _, err := r.renewMembers(r.ctx, z); err != nil {
			r.log.Warn("could not renew members' certificates; will try again tomorrow")
			r.log.Debug("renew members' certificates", "zone", z.rec.Name, "err", err)
		}
		if _, err := r.node.makeSnapshot(r.ctx, z); err != nil { // govsnap.go
			r.log.Warn("could not send a governance snapshot; will try again tomorrow")
			r.log.Debug("governance snapshot", "zone", z.rec.Name, "err", err)
		}
	}, nil)
}

// afterRandom runs fn after a random part of every, unless the node
// closes first; done, if set, runs in either case.
func (r *renewer) afterRandom(every time.Duration, fn, done func()) {
	wait := r.randomWait(every)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		if done != nil {
			defer done()
		}
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-r.ctx.Done():
			return
		case <-t.C:
		}
		fn()
	}()
}

// randomWait is a random duration below every (0 if every is not positive).
func (r *renewer) randomWait(every time.Duration) time.Duration {
	var b [8]byte
	if _, err := r.node.rand().Read(b[:]); err != nil || every <= 0 {
		return 0
	}
	return time.Duration(binary.LittleEndian.Uint64(b[:]) % uint64(every))
}

// inviteCertifyWithin bounds how long after an invited member's first
// announcement an organizer's node certifies it directly (a random part
// of it, so one organizer's grant usually reaches the others first and
// they skip). Until then an invited organizer cannot invite: its chain
// runs through the invite key.
const inviteCertifyWithin = 30 * time.Second

// certifyInvitedSoon certifies directly, within inviteCertifyWithin, a
// member who joined through an invite key, once its announcement arrives
// at an organizer's node, rather than at the next daily upkeep.
func (r *renewer) certifyInvitedSoon(z *zone, member crypto.MemberID) {
	if r.certifyOff.Load() {
		return
	}
	z.mu.Lock()
	z.Mu.Lock()
	due := z.Role == protocol.RoleOrganizer && !z.Removed && !z.certifying && z.invitedLocked()[member]
	z.Mu.Unlock()
	if due {
		z.certifying = true
	}
	z.mu.Unlock()
	if !due {
		return
	}
	r.afterRandom(inviteCertifyWithin, func() {
		if _, err := r.renewMembers(r.ctx, z); err != nil {
			r.log.Warn("could not certify a newly invited member; will try again tomorrow")
			r.log.Debug("certify invited member", "zone", z.rec.Name, "err", err)
		}
	}, func() {
		z.mu.Lock()
		z.certifying = false
		z.mu.Unlock()
	})
}
