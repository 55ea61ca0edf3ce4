package node

import (
	"errors"
	"log/slog"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"lookout/crypto"
	core "lookout/node/internal/zone"
	"lookout/node/store"
	"lookout/protocol"
)

// recordsNode is a node for the records alone: a clock stopped at t, and
// what the records asked of it.
type recordsNode struct {
	t       time.Time
	applied []protocol.AlertID // messages restored (apply, applyRestore)
	keys    int                // keysChanged calls
	moved   int                // moveTopicLocked calls
}

func (f *recordsNode) now() time.Time { return f.t }

func (f *recordsNode) apply(_ *zone, msg *protocol.Message, _ []byte, mode applyMode) {
	if mode == applyRestore {
		f.applied = append(f.applied, msg.ID)
	}
}

func (f *recordsNode) keysChanged()                        { f.keys++ }
func (f *recordsNode) moveTopicLocked(*zone, switchedFrom) { f.moved++ }

// recordsFixture is records over a fresh store, and a founder identity
// whose zones are made with zone.
type recordsFixture struct {
	t   *testing.T
	r   *records
	f   *recordsNode
	id  *crypto.Identity
	rng *rand.ChaCha8
}

func newRecordsFixture(t *testing.T) *recordsFixture {
	t.Helper()
	st, err := store.Create(t.TempDir(), store.Secret{Passphrase: []byte("records test passphrase")}, nil,
		store.Options{KDF: store.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}, FailureDelay: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var seed [32]byte
	rng := rand.NewChaCha8(seed)
	id, err := crypto.NewIdentity(rng)
	if err != nil {
		t.Fatal(err)
	}
	// The store hides records expired by the wall clock: the node's clock
	// is the wall clock's.
	f := &recordsNode{t: time.Now().UTC().Truncate(time.Millisecond)}
	r := &records{node: f, st: st, replay: newReplayCache(), log: slog.New(slog.DiscardHandler)}
	return &recordsFixture{t: t, r: r, f: f, id: id, rng: rng}
}

// zone makes a zone the fixture's identity founded, created at created,
// whose record holds legacy as governance written in the old form.
func (x *recordsFixture) zone(zid byte, created time.Time, legacy ...[]byte) *zone {
	x.t.Helper()
	var id protocol.ZoneID
	id[0] = zid
	secret, err := crypto.NewZoneSecret(x.rng)
	if err != nil {
		x.t.Fatal(err)
	}
	c, err := protocol.IssueCert(x.id, id, x.id.Public(), protocol.RoleOrganizer, created, created.Add(protocol.DefaultCertTTL))
	if err != nil {
		x.t.Fatal(err)
	}
	rec := zoneRecord{ID: id.String(), Name: "zone " + id.String()[:2], Secret: secret[:], Root: x.id.Public().Bytes(),
		Chain: [][]byte{c.Bytes()}, Peers: []string{}, Created: created, Gov: legacy}
	z, err := newZone(rec, x.id, x.f.t)
	if err != nil {
		x.t.Fatal(err)
	}
	return z
}

// seal signs and seals a of the founder in z, sent at sent, and opens it
// as the door would.
func (x *recordsFixture) seal(z *zone, a *protocol.Alert, sent time.Time) (*protocol.Message, []byte) {
	x.t.Helper()
	a.Zone, a.Sent, a.Expires, a.Status = z.ID(), sent, sent.Add(time.Hour), protocol.StatusActual
	a.Urgency, a.Severity, a.Certainty = protocol.UrgencyImmediate, protocol.SeveritySevere, protocol.CertaintyObserved
	st := z.snapshot()
	s, err := protocol.Sign(x.id, st.chain, a)
	if err != nil {
		x.t.Fatal(err)
	}
	env, err := protocol.Seal(st.secret.AlertKey(st.epoch), st.epoch, s, x.rng)
	if err != nil {
		x.t.Fatal(err)
	}
	msg, err := z.reopen(env)
	if err != nil {
		x.t.Fatal(err)
	}
	return msg, env
}

func (x *recordsFixture) announcement(z *zone) *GovMsg {
	k, err := crypto.NewKEMKey(x.rng)
	if err != nil {
		x.t.Fatal(err)
	}
	msg, env := x.seal(z, &protocol.Alert{Kind: protocol.KindMember, Name: "Amira", KEM: k.PublicBytes()}, x.f.t.Add(-time.Minute))
	return &GovMsg{Msg: msg, Env: env}
}

func (x *recordsFixture) sighting(z *zone, sent time.Time) (*protocol.Message, []byte) {
	return x.seal(z, &protocol.Alert{Kind: protocol.KindSighting, What: "two vans", Area: "north gate"}, sent)
}

// storedGov is the governance envelopes stored for z.
func (x *recordsFixture) storedGov(z *zone) [][]byte {
	x.t.Helper()
	govs, err := x.r.loadGovRecords()
	if err != nil {
		x.t.Fatal(err)
	}
	return govs[z.ID()]
}

func (x *recordsFixture) failWrites() {
	fail := func() error { return errors.New("disk full") }
	x.r.writeFault.Store(&fail)
}

// TestRecordsCommitGov: through its node interface alone, a governance
// commit that cannot be written (the write fault) returns errGovSave and
// changes nothing, in the store or in memory; once it can, the message is
// stored and applied, and a message that moves or removes nobody asks
// nothing of the node.
func TestRecordsCommitGov(t *testing.T) {
	x := newRecordsFixture(t)
	z := x.zone(1, x.f.t.Add(-time.Hour))
	g := x.announcement(z)

	x.failWrites()
	if err := x.r.commitGov(z, []*GovMsg{g}, nil, core.GovChange{Record: z.Record()}); !errors.Is(err, errGovSave) {
		t.Fatalf("commit with a failing write: %v, want errGovSave", err)
	}
	if got := x.storedGov(z); len(got) != 0 {
		t.Errorf("a failed commit stored %d messages", len(got))
	}
	if got := z.GovMessages(); len(got) != 0 {
		t.Errorf("a failed commit applied %d messages", len(got))
	}

	x.r.writeFault.Store(nil)
	if err := x.r.commitGov(z, []*GovMsg{g}, nil, core.GovChange{Record: z.Record()}); err != nil {
		t.Fatal(err)
	}
	if got := x.storedGov(z); len(got) != 1 || !slices.Equal(got[0], g.Env) {
		t.Errorf("stored %d messages, want the announcement", len(got))
	}
	if got := z.GovMessages(); len(got) != 1 || got[0].Msg.ID != g.Msg.ID {
		t.Errorf("applied %d messages, want the announcement", len(got))
	}
	if x.f.keys != 0 || x.f.moved != 0 {
		t.Errorf("an announcement changed keys %d times and moved topics %d times", x.f.keys, x.f.moved)
	}
}

// TestRecordsRestoreLegacy: governance kept inside a zone record (the old
// form) is moved to its own records with the zone record without it, in
// one write; a write that fails is an error and leaves the record's list
// in place for the next start.
func TestRecordsRestoreLegacy(t *testing.T) {
	x := newRecordsFixture(t)
	created := x.f.t.Add(-time.Hour)
	old := x.zone(2, created)
	g := x.announcement(old)
	rec := old.Record()
	rec.Gov = [][]byte{g.Env}
	z, err := newZone(rec, x.id, x.f.t)
	if err != nil {
		t.Fatal(err)
	}

	x.failWrites()
	if err := x.r.restoreZoneGov(z, nil); err == nil {
		t.Fatal("restore with a failing write: no error")
	}
	if len(z.LegacyGov()) != 1 {
		t.Error("a failed move dropped the record's governance")
	}

	x.r.writeFault.Store(nil)
	if err := x.r.restoreZoneGov(z, nil); err != nil {
		t.Fatal(err)
	}
	if got := x.storedGov(z); len(got) != 1 || !slices.Equal(got[0], g.Env) {
		t.Errorf("moved %d messages, want the announcement", len(got))
	}
	if len(z.LegacyGov()) != 0 {
		t.Error("the record still holds its governance in memory")
	}
	recs, err := x.r.loadZoneRecords()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].ID != rec.ID || len(recs[0].Gov) != 0 {
		t.Errorf("stored zone records %+v, want the zone's without governance", recs)
	}
}

// TestRecordsZonesAndMessages: zone records are read back oldest first;
// of the stored alerts and updates, only the unexpired ones of the zones
// given are restored (applied, and their IDs in the replay cache); a
// damaged record is an error wrapping store.ErrCorrupt.
func TestRecordsZonesAndMessages(t *testing.T) {
	x := newRecordsFixture(t)
	created := x.f.t.Add(-core.PruneGrace - 3*time.Hour) // before the ended sighting
	newer := x.zone(3, created)
	older := x.zone(4, created.Add(-time.Hour))
	for _, z := range []*zone{newer, older} {
		if err := x.r.saveZone(z); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := x.r.loadZoneRecords()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].ID != older.Label().ID || recs[1].ID != newer.Label().ID {
		t.Errorf("zone records not oldest first: %d read", len(recs))
	}

	live, liveEnv := x.sighting(newer, x.f.t.Add(-time.Minute))
	ended, endedEnv := x.sighting(newer, x.f.t.Add(-core.PruneGrace-2*time.Hour))
	batched, batchedEnv := x.sighting(newer, x.f.t.Add(-2*time.Minute))
	other, otherEnv := x.sighting(older, x.f.t.Add(-time.Minute))
	for _, m := range []struct {
		z   *zone
		msg *protocol.Message
		env []byte
	}{{newer, live, liveEnv}, {newer, ended, endedEnv}, {older, other, otherEnv}} {
		if err := x.r.saveMessage(m.z, m.msg, m.env); err != nil {
			t.Fatal(err)
		}
	}
	if err := x.r.saveMessages([]admitted{{z: newer, msg: batched, env: batchedEnv}}); err != nil {
		t.Fatal(err)
	}
	if err := x.r.loadMessages(map[protocol.ZoneID]*zone{newer.ID(): newer}); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(x.f.applied, func(a, b protocol.AlertID) int { return slices.Compare(a[:], b[:]) })
	want := []protocol.AlertID{live.ID, batched.ID}
	slices.SortFunc(want, func(a, b protocol.AlertID) int { return slices.Compare(a[:], b[:]) })
	if !slices.Equal(x.f.applied, want) {
		t.Errorf("restored %v, want the unexpired messages of the zone given %v", x.f.applied, want)
	}
	for _, id := range want {
		if !x.r.replay.Has(id) {
			t.Errorf("restored message %v not in the replay cache", id)
		}
	}
	if x.r.replay.Has(ended.ID) || x.r.replay.Has(other.ID) {
		t.Error("a message not restored is in the replay cache")
	}

	if err := x.r.st.Put(bucketMessages, "short", []byte{1}); err != nil {
		t.Fatal(err)
	}
	if err := x.r.loadMessages(nil); !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("a damaged message record: %v, want store.ErrCorrupt", err)
	}
	if err := x.r.st.Put(bucketZones, "damaged", []byte("{")); err != nil {
		t.Fatal(err)
	}
	if _, err := x.r.loadZoneRecords(); !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("a damaged zone record: %v, want store.ErrCorrupt", err)
	}
}
