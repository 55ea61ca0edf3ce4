package node

import (
	"bytes"
	"context"
	cryptorand "crypto/rand"
	"encoding/binary"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"lookout/crypto"
	core "lookout/node/internal/zone"
	"lookout/node/store"
	"lookout/protocol"
)

// renewsNode is a node, and a governor, for the renewer alone: its
// randomness is fixed bytes, and it records the snapshots asked of it. The renewals tested
// here have nothing to write or grant.
type renewsNode struct {
	t         *testing.T
	random    *bytes.Reader
	mu        sync.Mutex // guards log: the renewer's timers run on their own goroutines
	log       []string
	snapshots []*zone
}

func (f *renewsNode) now() time.Time  { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }
func (f *renewsNode) rand() io.Reader { return f.random }

// put stands for the node's records (recordsForRenewals).
func (f *renewsNode) put([]store.Record) error {
	f.t.Error("a renewal with nothing due wrote to the store")
	return nil
}

func (f *renewsNode) publishGrant(context.Context, *zone, *crypto.PublicKey, protocol.Role) error {
	f.t.Error("a renewal with nothing due published a grant")
	return nil
}

func (f *renewsNode) makeSnapshot(_ context.Context, z *zone) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append(f.log, "snapshot")
	f.snapshots = append(f.snapshots, z)
	return false, nil
}

// randomBytes is a source whose reads return the little-endian values
// given, one per 8 bytes.
func randomBytes(vals ...uint64) *bytes.Reader {
	var b []byte
	for _, v := range vals {
		b = binary.LittleEndian.AppendUint64(b, v)
	}
	return bytes.NewReader(b)
}

func newTestRenewer(t *testing.T, f *renewsNode, ctx context.Context, wg *sync.WaitGroup) *renewer {
	id, err := crypto.NewIdentity(cryptorand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &renewer{node: f, recs: f, gov: f, ctx: ctx, id: id, mu: &sync.Mutex{}, wg: wg, log: slog.New(slog.DiscardHandler)}
}

// roleZone is a zone the renewer's own identity founded, where this
// member holds role and nothing else is known.
func roleZone(r *renewer, role protocol.Role) *zone {
	return &zone{State: core.NewStateFrom(core.Membership{Root: r.id.Public(), Role: role}, core.Record{})}
}

// TestRandomWait: a random wait is the node's next 8 random bytes, read
// as a little-endian number, modulo the period; 8 bytes are read even
// for a period that is not positive (the wait is then 0), so what is
// drawn later from a fixed source does not depend on it; and a source
// that fails gives 0.
func TestRandomWait(t *testing.T) {
	f := &renewsNode{t: t, random: randomBytes(123456789, 5, 7, 1<<63+3)}
	r := newTestRenewer(t, f, t.Context(), &sync.WaitGroup{})
	if got := r.randomWait(1000); got != 789 {
		t.Errorf("wait %d below 1000 from 123456789, want 789", got)
	}
	if got := r.randomWait(0); got != 0 || f.random.Len() != 16 {
		t.Errorf("wait %d for no period, %d random bytes left; want 0 and 16", got, f.random.Len())
	}
	if got := r.randomWait(-time.Second); got != 0 || f.random.Len() != 8 {
		t.Errorf("wait %d for a negative period, %d random bytes left; want 0 and 8", got, f.random.Len())
	}
	if got, want := r.randomWait(time.Hour), time.Duration(uint64(1<<63+3)%uint64(time.Hour)); got != want || got >= time.Hour {
		t.Errorf("wait %v below an hour, want %v", got, want)
	}
	if got := r.randomWait(time.Hour); got != 0 {
		t.Errorf("wait %v from a source that fails, want 0", got)
	}
}

// TestRenewLater: renewLater, through the renewer's node interface alone,
// draws one random wait from the node, then renews the zone's members
// (here none are due: this node is not an organizer) and then asks for
// the zone's governance snapshot, on a goroutine the node's WaitGroup
// counts.
func TestRenewLater(t *testing.T) {
	f := &renewsNode{t: t, random: randomBytes(41, 99)}
	var wg sync.WaitGroup
	r := newTestRenewer(t, f, t.Context(), &wg)
	due := func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.log = append(f.log, "due listed")
	}
	r.renewHook.Store(&due)
	z := roleZone(r, protocol.RoleMember)
	r.renewLater(z, 1) // any draw modulo 1: no wait
	wg.Wait()
	if want := []string{"due listed", "snapshot"}; !slices.Equal(f.log, want) {
		t.Errorf("renewLater did %q, want %q", f.log, want)
	}
	if len(f.snapshots) != 1 || f.snapshots[0] != z {
		t.Errorf("snapshots asked for %v, want the zone renewed", f.snapshots)
	}
	if f.random.Len() != 8 {
		t.Errorf("%d random bytes read, want 8", 16-f.random.Len())
	}
}

// TestAfterRandomClosed: a random wait ends without running its work once
// the node closes, and what must run in either case still runs.
func TestAfterRandomClosed(t *testing.T) {
	f := &renewsNode{t: t, random: randomBytes(uint64(30 * time.Minute))} // a wait of half an hour
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var wg sync.WaitGroup
	r := newTestRenewer(t, f, ctx, &wg)
	ran, done := false, false
	r.afterRandom(time.Hour, func() { ran = true }, func() { done = true })
	wg.Wait()
	if ran || !done {
		t.Errorf("after the node closed: work ran %v, done ran %v; want false, true", ran, done)
	}
}

// TestCertifyInvitedSoonSkips: a node that is not an organizer of the
// zone, an organizer's for a member no invite admitted, or one whose
// certification timer is off, starts no certification and draws no
// randomness for one.
func TestCertifyInvitedSoonSkips(t *testing.T) {
	f := &renewsNode{t: t, random: randomBytes(0)}
	var wg sync.WaitGroup
	r := newTestRenewer(t, f, t.Context(), &wg)
	member := crypto.MemberID{1}
	r.certifyInvitedSoon(roleZone(r, protocol.RoleMember), member)
	organizer := roleZone(r, protocol.RoleOrganizer)
	r.certifyInvitedSoon(organizer, member)
	if organizer.certifying {
		t.Error("certifying a member no invite admitted")
	}
	r.certifyOff.Store(true)
	r.certifyInvitedSoon(roleZone(r, protocol.RoleOrganizer), member)
	wg.Wait()
	if f.random.Len() != 8 {
		t.Errorf("%d random bytes read, want none", 8-f.random.Len())
	}
}
