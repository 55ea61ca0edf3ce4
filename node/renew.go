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

// maxRenewPerDay bounds the renewals one organizer sends a day, well
// within its role grant budget (core.MaxOrganizerGov per
// protocol.RateWindow) so promotions still go through; 40 a day over
// core.MemberRenewBefore covers zones of thousands.
const maxRenewPerDay = 40

// renewer keeps certificates from expiring: the founder's own
// (renewRoot: at start, daily, and before this node signs anything), the
// members' an organizer re-issues as role grants (renewMembers, at a
// random point of the daily upkeep: renewLater, which then sends a
// governance snapshot if due) and invited members' certified directly
// soon after they join (certifyInvitedSoon). What it changes is the
// zone's, under the zone's locks, taken in the order z.grantMu, then
// Node.mu (mu), then z.mu, then the State's (which its methods take); its
// own state is only the test hooks. It
// reaches its node only through node, the zones' records through recs,
// the governor through gov, and the values it was made with.
type renewer struct {
	node nodeForRenewals
	recs recordsForRenewals // the node's records: a renewed founder record is written through them
	gov  govForRenewals     // sends the grants and snapshots (the governor, govsend.go)
	ctx  context.Context    // the node's: done once it closes
	id   *crypto.Identity
	mu   *sync.Mutex     // Node.mu: keeps the zone records' writes in order (renewRoot, renewMembers)
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
// randomness (the random waits).
type nodeForRenewals interface {
	now() time.Time
	rand() io.Reader
}

// govForRenewals is what the renewer sends as governance: role grants
// (publishGrant) and governance snapshots (makeSnapshot). The governor
// (govsend.go) satisfies it.
type govForRenewals interface {
	publishGrant(ctx context.Context, z *zone, key *crypto.PublicKey, role protocol.Role) error
	makeSnapshot(ctx context.Context, z *zone) (bool, error)
}

// recordsForRenewals is what the renewer writes through: the node's
// records (records.put, with its test write fault).
type recordsForRenewals interface {
	put(recs []store.Record) error
}

// newRenewer makes n's renewer, once Start has loaded its identity and
// made its records and governor, before connections are admitted
// (startGate): a governance message stored may start a certification.
func newRenewer(n *Node) *renewer {
	return &renewer{node: n, recs: n.records, gov: n.gov, ctx: n.ctx, id: n.id, mu: &n.mu, wg: &n.wg, log: n.log}
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
// this node signs anything. It takes Node.mu, then the State's lock
// (SetFounderRecord), after reading the chain under z.mu (snapshot): callers
// may hold z.grantMu (a role grant is signed under it), never Node.mu,
// z.mu or the State's lock.
func (r *renewer) renewRoot(z *zone) error {
	if ch := z.snapshot().chain; !z.Root().Equal(r.id.Public()) || len(ch) != 1 || r.node.now().Before(ch[0].Expires.Add(-rootRenewBefore)) {
		return nil // not the founder, or not due: no lock taken
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	rec := z.Record()
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
	if err := r.recs.put([]store.Record{zr}); err != nil {
		return fmt.Errorf("renew founder certificate: %w", err)
	}
	z.SetFounderRecord(rec, c)
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
	return api.Fail(api.ErrForbidden, "zone.expired", "Zone", api.Quote(z.Name()), "Date", exp.UTC().Format(time.DateOnly))
}

// renewMembers re-issues, as role grants (KindRole, the path Promote
// takes), the certificates of the members due for renewal
// (core.State.DueRenewals), with their current role. It runs in the daily
// upkeep of an organizer's node. It returns how many it renewed.
func (r *renewer) renewMembers(ctx context.Context, z *zone) (int, error) {
	if err := r.renewRoot(z); err != nil { // a founder renews through its own certificate
		return 0, err
	}
	now := r.node.now()
	z.grantMu.Lock()
	defer z.grantMu.Unlock()
	r.mu.Lock()
	due := z.DueRenewals(r.id.ID(), now)
	r.mu.Unlock()
	done := 0
	if len(due) > maxRenewPerDay {
		due = due[:maxRenewPerDay] // the rest tomorrow
	}
	if f := r.renewHook.Load(); f != nil {
		(*f)()
	}
	for _, m := range due {
		if err := r.gov.publishGrant(ctx, z, m.Key, m.Role); err != nil {
			return done, fmt.Errorf("renew a member certificate: %w", err)
		}
		done++
		r.log.Debug("renewed a member certificate", "zone", z.Name(), "member", m.Member)
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
			r.log.Debug("renew members' certificates", "zone", z.Name(), "err", err)
		}
		if _, err := r.gov.makeSnapshot(r.ctx, z); err != nil { // govsnap.go
			r.log.Warn("could not send a governance snapshot; will try again tomorrow")
			r.log.Debug("governance snapshot", "zone", z.Name(), "err", err)
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
	due := !z.certifying && z.CertifiesInvited(member)
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
			r.log.Debug("certify invited member", "zone", z.Name(), "err", err)
		}
	}, func() {
		z.mu.Lock()
		z.certifying = false
		z.mu.Unlock()
	})
}
