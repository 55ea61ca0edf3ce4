package node_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"lookout/crypto"
	"lookout/node"
	"lookout/node/api"
	"lookout/node/sim"
	lp "lookout/protocol"
)

// Three years of a 200-member zone's governance (issue 12, finding 2): a
// zone keeps working after years of daily use.

const (
	yearsMembers = 200
	yearsDays    = 3 * 365
	// Each member announces every yearsAnnounceEvery days (members announce
	// daily; latest-only keeps the same one message per member whatever
	// the period, so the test plays fewer to stay quick on 2 cores, and
	// fewer still under the race detector, where every signature costs
	// ~20 times more).
	yearsAnnounceEvery     = 60
	yearsAnnounceEveryRace = 365
	yearsRoleEvery         = 22  // ~50 role grants
	yearsRemoveEvery       = 27  // ~40 removals, each with a rekey
	yearsSettingsEvery     = 91  // ~12 settings changes
	yearsRestartEvery      = 180 // 7 restarts of the founder's node (each checks every stored signature)
)

// yearsMember is a simulated member: its identity, a member certificate
// from the founder valid for the whole run, and its KEM key.
type yearsMember struct {
	id      *crypto.Identity
	chain   lp.Chain
	kem     []byte
	name    string
	role    string
	removed bool
}

// errorLog counts records at Error level.
type errorLog struct{ n atomic.Int64 }

func (h *errorLog) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelError }
func (h *errorLog) Handle(_ context.Context, r slog.Record) error {
	h.n.Add(1)
	fmt.Fprintln(os.Stderr, "error logged:", r.Message)
	return nil
}
func (h *errorLog) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *errorLog) WithGroup(string) slog.Handler      { return h }

// memDir is a directory in memory (/dev/shm) if the system has one, else
// t.TempDir: the test counts records and bytes, and thousands of fsyncs
// on a shared disk would only make it slow.
func memDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("/dev/shm", "lookout-test-")
	if err != nil {
		return t.TempDir()
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func TestThreeYearsOfGovernance(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	clk := newClock()
	errs := &errorLog{}
	nw, err := sim.Start(ctx, sim.Config{Nodes: 2, Dir: memDir(t), Now: clk.Now, Logger: slog.New(errs), RedialInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeNet(t, nw) })
	n0 := nw.Nodes[0]
	z, err := n0.CreateZone(ctx, "three years")
	if err != nil {
		t.Fatal(err)
	}
	zid, _ := lp.ParseZoneID(z.ID)
	founder := node.Identity(n0)
	rng := rand.New(rand.NewPCG(12, 2026))
	seed := rand.NewChaCha8([32]byte{12})

	ms := make([]*yearsMember, yearsMembers)
	for i := range ms {
		id, err := crypto.NewIdentity(seed)
		if err != nil {
			t.Fatal(err)
		}
		k, err := crypto.NewKEMKey(seed)
		if err != nil {
			t.Fatal(err)
		}
		c, err := lp.IssueCert(founder, zid, id.Public(), lp.RoleMember, clk.Now(), clk.Now().Add(4*365*24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		ms[i] = &yearsMember{id: id, chain: lp.Chain{c}, kem: k.PublicBytes(), role: "member"}
	}
	announce := func(i, day int) {
		m := ms[i]
		now := clk.Now()
		m.name = fmt.Sprintf("m%d-%d", i, day)
		a := &lp.Alert{Kind: lp.KindMember, Zone: zid, Sent: now, Expires: now.Add(lp.MaxLifetime), Status: lp.StatusActual,
			Urgency: lp.UrgencyImmediate, Severity: lp.SeveritySevere, Certainty: lp.CertaintyObserved, Name: m.name, KEM: m.kem}
		s, err := lp.Sign(m.id, m.chain, a)
		if err != nil {
			t.Fatal(err)
		}
		epoch, secret, err := node.ZoneKey(n0, z.ID)
		if err != nil {
			t.Fatal(err)
		}
		env, err := lp.Seal(secret.AlertKey(epoch), epoch, s, seed)
		if err != nil {
			t.Fatal(err)
		}
		if err := node.Deliver(n0, env); err != nil {
			t.Fatalf("day %d: announcement of member %d: %v", day, i, err)
		}
	}
	pick := func() int {
		for {
			if i := rng.IntN(len(ms)); !ms[i].removed {
				return i
			}
		}
	}
	for i := range ms {
		announce(i, 0)
	}
	wantSettings := mustSettings(t, n0, z.ID)
	var roles, removals, settings, restarts, announcements int
	every := yearsAnnounceEvery
	if raceEnabled {
		every = yearsAnnounceEveryRace
	}
	start := time.Now()
	for day := 1; day <= yearsDays; day++ {
		clk.Advance(24 * time.Hour)
		for i := range ms {
			if !ms[i].removed && (i+day)%every == 0 {
				announce(i, day)
				announcements++
			}
		}
		if day%yearsRoleEvery == 0 {
			i := pick()
			role := []string{"verifier", "organizer"}[roles%2]
			if _, err := n0.Promote(ctx, z.ID, ms[i].id.ID().String(), role); err != nil {
				t.Fatalf("day %d: promote: %v", day, err)
			}
			ms[i].role = role
			roles++
		}
		if day%yearsRemoveEvery == 13 {
			i := pick()
			if _, err := n0.Remove(ctx, z.ID, ms[i].id.ID().String()); err != nil {
				t.Fatalf("day %d: remove: %v", day, err)
			}
			ms[i].removed = true
			removals++
		}
		if day%yearsSettingsEvery == 45 {
			reports := 5 + settings%3
			s, err := n0.SetSettings(ctx, api.SettingsRequest{Zone: z.ID, MaxReports: &reports})
			if err != nil {
				t.Fatalf("day %d: settings: %v", day, err)
			}
			wantSettings = s
			wantSettings.Note = ""
			settings++
		}
		if day%yearsRestartEvery == 15 {
			if err := nw.Restart(ctx, 0); err != nil {
				t.Fatalf("day %d: restart: %v", day, err)
			}
			n0 = nw.Nodes[0]
			restarts++
		}
	}
	t.Logf("played %d days in %v: %d announcements (+%d), %d role grants, %d removals with rekeys, %d settings, %d restarts",
		yearsDays, time.Since(start).Round(time.Millisecond), announcements, yearsMembers, roles, removals, settings, restarts)

	// Bounded: one announcement per member, the rest is what organizers did.
	gs := govStats(t, n0, z.ID)
	db, err := os.Stat(filepath.Join(nw.Homes[0], "store.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("founder keeps %d governance messages (%d announcements), %d KiB of envelopes; %d records, %d KiB stored; zone record %d bytes; store file %d KiB",
		gs.Messages, gs.Announcements, gs.Bytes>>10, gs.Stored, gs.StoredBytes>>10, gs.RecordBytes, db.Size()>>10)
	if gs.Stored != gs.Messages {
		t.Errorf("%d governance records on disk, %d in memory", gs.Stored, gs.Messages)
	}
	if gs.Announcements > yearsMembers+1 {
		t.Errorf("%d announcements kept for %d members", gs.Announcements, yearsMembers+1)
	}
	if gs.RecordBytes > 64<<10 {
		t.Errorf("zone record grew to %d bytes", gs.RecordBytes)
	}
	if n := errs.n.Load(); n != 0 {
		t.Errorf("%d errors logged (a save failed?)", n)
	}
	// The roster is right.
	got := members(t, n0, z.ID)
	epoch, _ := node.Epoch(n0, z.ID)
	if epoch != uint32(removals) {
		t.Errorf("epoch %d after %d removals", epoch, removals)
	}
	for i, m := range ms {
		g, ok := memberOf(got, m.id.ID().String())
		if !ok || g.Removed != m.removed || g.Name != m.name || g.Role != m.role {
			t.Errorf("member %d: %+v; want name %q, role %s, removed %v", i, g, m.name, m.role, m.removed)
		}
	}
	if s := mustSettings(t, n0, z.ID); s != wantSettings {
		t.Errorf("settings %+v, want %+v", s, wantSettings)
	}

	// A fresh member joins over the network and gets the same roster,
	// settings and epoch.
	inv, err := n0.Invite(ctx, api.InviteRequest{Zone: z.ID, Role: "member", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	n1 := nw.Nodes[1]
	joined := time.Now()
	if _, err := n1.Join(ctx, inv.Code); err != nil {
		t.Fatal(err)
	}
	self := n1.MemberID().String()
	same := func() (string, bool) {
		g := members(t, n1, z.ID)
		want := members(t, n0, z.ID)
		for _, w := range want {
			m, ok := memberOf(g, w.ID)
			if w.ID == self {
				continue
			}
			if !ok || m.Name != w.Name || m.Role != w.Role || m.Removed != w.Removed {
				return fmt.Sprintf("member %.8s: joiner has %+v, founder %+v", w.ID, m, w), false
			}
		}
		e1, _ := node.Epoch(n1, z.ID)
		if s := mustSettings(t, n1, z.ID); s != wantSettings || e1 != epoch {
			return fmt.Sprintf("joiner: settings %+v epoch %d", s, e1), false
		}
		return "", true
	}
	if err := sim.WaitFor(ctx, func() bool { _, ok := same(); return ok }); err != nil {
		why, _ := same()
		t.Fatalf("the fresh member's zone differs: %s", why)
	}
	t.Logf("a fresh member caught up %d governance messages in %v", govStats(t, n1, z.ID).Messages, time.Since(joined).Round(time.Millisecond))
}
