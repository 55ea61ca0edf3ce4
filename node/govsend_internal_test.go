package node

import (
	"context"
	cryptorand "crypto/rand"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"lookout/crypto"
	"lookout/node/api"
	core "lookout/node/internal/zone"
	"lookout/protocol"
)

// govsNode is a node for the governor alone: a fixed clock, its zones by
// ID, and a record of what it was asked to publish, commit and spawn.
type govsNode struct {
	clock   time.Time
	zones   map[string]*zone
	fail    error // what publish returns, if set
	sent    []*protocol.Alert
	commits []core.GovChange
	spawned int
}

func (f *govsNode) now() time.Time  { return f.clock }
func (f *govsNode) rand() io.Reader { return cryptorand.Reader }

func (f *govsNode) zone(ref string) (*zone, error) {
	if z, ok := f.zones[ref]; ok {
		return z, nil
	}
	return nil, api.ErrNotFound
}

func (f *govsNode) newAlert(kind protocol.Kind, _ bool, ttl time.Duration) *protocol.Alert {
	now := f.clock.Truncate(time.Millisecond).UTC()
	return &protocol.Alert{Kind: kind, Sent: now, Expires: now.Add(ttl), Status: protocol.StatusActual,
		Urgency: protocol.UrgencyImmediate, Severity: protocol.SeveritySevere, Certainty: protocol.CertaintyObserved}
}

func (f *govsNode) publish(_ context.Context, _ *zone, a *protocol.Alert) (*protocol.Message, error) {
	if f.fail != nil {
		return nil, f.fail
	}
	f.sent = append(f.sent, a)
	return &protocol.Message{}, nil
}

func (f *govsNode) commitGov(_ *zone, _ []*GovMsg, _ []protocol.AlertID, ch core.GovChange) error {
	f.commits = append(f.commits, ch)
	return nil
}

func (f *govsNode) spawn(func()) { f.spawned++ }

// govsFixture is a governor of the fixture zone's founder (govFixture's
// root) over a govsNode, with the zone at epoch 0 under the ID "z".
type govsFixture struct {
	*govFixture
	node *govsNode
	g    *governor
	z    *zone
}

func newGovsFixture(t *testing.T, members int) *govsFixture {
	t.Helper()
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	f := &govsFixture{govFixture: newGovFixture(t, members, start), node: &govsNode{clock: start.Add(time.Hour), zones: map[string]*zone{}}}
	secret, err := crypto.NewZoneSecret(f.Rand)
	if err != nil {
		t.Fatal(err)
	}
	kem, err := crypto.NewKEMKey(f.Rand)
	if err != nil {
		t.Fatal(err)
	}
	m := core.Membership{Zone: f.Zone, Root: f.Root.Public(), Epochs: map[uint32]crypto.ZoneSecret{0: secret}, Chain: f.RootC, Role: protocol.RoleOrganizer}
	f.z = &zone{State: core.NewStateFrom(m, core.Record{ID: "z", Name: "north"})}
	f.node.zones["z"] = f.z
	f.g = &governor{node: f.node, recs: f.node, ctx: t.Context(), id: f.Root, kem: kem, name: "ana", mu: &sync.Mutex{}, replay: newReplayCache(), log: slog.New(slog.DiscardHandler)}
	return f
}

// TestGovernorAnnounceZone: an announcement carries the member's name and
// KEM key and notes when it was sent; one that fails is not noted; an
// expired membership sends none but is noted, so it warns once a day; an
// unknown zone does nothing.
func TestGovernorAnnounceZone(t *testing.T) {
	f := newGovsFixture(t, 0)
	f.g.announceZone(t.Context(), "z")
	if len(f.node.sent) != 1 {
		t.Fatalf("%d alerts sent, want the announcement", len(f.node.sent))
	}
	if a := f.node.sent[0]; a.Kind != protocol.KindMember || a.Name != "ana" || string(a.KEM) != string(f.g.kem.PublicBytes()) {
		t.Errorf("announced kind %v, name %q, KEM %x; want a member announcement of ana and its KEM key", a.Kind, a.Name, a.KEM)
	}
	if !f.z.announced.Equal(f.node.clock) {
		t.Errorf("announced at %v, want %v", f.z.announced, f.node.clock)
	}
	f.node.clock = f.node.clock.Add(time.Hour)
	f.node.fail = errors.New("no topic")
	f.g.announceZone(t.Context(), "z")
	if f.z.announced.Equal(f.node.clock) {
		t.Error("a failed announcement was noted as sent")
	}
	f.node.fail = nil
	f.node.clock = f.RootC.Expires().Add(time.Hour)
	f.g.announceZone(t.Context(), "z")
	if len(f.node.sent) != 1 || !f.z.announced.Equal(f.node.clock) {
		t.Errorf("expired membership: %d alerts sent, announced at %v; want none sent, noted at %v", len(f.node.sent), f.z.announced, f.node.clock)
	}
	f.g.announceZone(t.Context(), "elsewhere")
	if len(f.node.sent) != 1 {
		t.Error("an unknown zone was announced in")
	}
}

// TestGovernorGrantOrder: two grants made in one millisecond are sent a
// millisecond apart, each certifying the key with the role for this
// zone; a grant that fails to publish does not move the last grant's
// time.
func TestGovernorGrantOrder(t *testing.T) {
	f := newGovsFixture(t, 1)
	key := f.IDs[0].Public()
	for _, role := range []protocol.Role{protocol.RoleVerifier, protocol.RoleOrganizer} {
		if err := f.g.publishGrant(t.Context(), f.z, key, role); err != nil {
			t.Fatal(err)
		}
	}
	if len(f.node.sent) != 2 {
		t.Fatalf("%d grants sent, want 2", len(f.node.sent))
	}
	first, second := f.node.sent[0], f.node.sent[1]
	if !second.Sent.Equal(first.Sent.Add(time.Millisecond)) || !second.Expires.Equal(second.Sent.Add(protocol.MaxLifetime)) {
		t.Errorf("second grant sent %v, expires %v; want a millisecond after %v, expiring MaxLifetime later", second.Sent, second.Expires, first.Sent)
	}
	for i, want := range []protocol.Role{protocol.RoleVerifier, protocol.RoleOrganizer} {
		c, err := protocol.ParseCert(f.node.sent[i].Cert)
		if err != nil {
			t.Fatal(err)
		}
		if !c.Subject.Equal(key) || c.Role != want || c.Zone != f.Zone || c.Issuer != f.Root.ID() {
			t.Errorf("grant %d certifies %+v; want %v of the member, issued by the founder", i, c, want)
		}
	}
	f.node.fail = errors.New("no topic")
	if err := f.g.publishGrant(t.Context(), f.z, key, protocol.RoleMember); err == nil {
		t.Error("a failed grant reported sent")
	}
	if !f.z.lastGrant.Equal(second.Sent) {
		t.Errorf("last grant at %v after a failure, want %v", f.z.lastGrant, second.Sent)
	}
}

// TestGovernorRekey: a rekey's entries go to every member of the roster
// with a KEM key but this one, the removed and the one excepted; this
// node counts as reached, a member whose key is unknown as unreached;
// the entries are sealed as one rekey part to the next epoch under this
// one, and a rekey with no entry has no part.
func TestGovernorRekey(t *testing.T) {
	f := newGovsFixture(t, 4)
	sent := f.node.clock.Add(-time.Minute)
	granted, err := protocol.IssueCert(f.Root, f.Zone, f.IDs[3].Public(), protocol.RoleVerifier, sent, sent.Add(protocol.DefaultCertTTL))
	if err != nil {
		t.Fatal(err)
	}
	f.z.ApplyGov([]*GovMsg{
		f.announce(-1, protocol.RoleOrganizer, sent, "ana", false),
		f.announce(0, protocol.RoleMember, sent, "bo", false),
		f.announce(1, protocol.RoleMember, sent, "cy", false),
		f.announce(2, protocol.RoleMember, sent, "di", false),
		f.msg(-1, protocol.RoleOrganizer, &protocol.Alert{Kind: protocol.KindRemove, Sent: sent.Add(time.Second), Subject: f.IDs[1].ID(), Status: protocol.StatusActual}),
		f.msg(-1, protocol.RoleOrganizer, &protocol.Alert{Kind: protocol.KindRole, Sent: sent.Add(2 * time.Second), Cert: granted.Bytes(), Status: protocol.StatusActual}),
	}, nil, core.GovChange{})
	st := f.z.snapshot()
	next, err := crypto.NewZoneSecret(f.Rand)
	if err != nil {
		t.Fatal(err)
	}
	entries, reached, unreached, err := f.g.rekeyEntries(f.z, st.secret, 1, next, f.IDs[2].ID())
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Member != f.IDs[0].ID() || reached != 2 {
		t.Errorf("%d entries (first %+v), %d reached; want one, for member 0, and 2 reached with this node", len(entries), entries, reached)
	}
	if len(unreached) != 1 || unreached[0] != f.IDs[3].ID().String() {
		t.Errorf("unreached %q; want member 3, whose key is unknown", unreached)
	}
	msgs, err := f.g.sealRekey(f.z, st, 1, entries)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 {
		t.Fatalf("%d rekey parts, want 1", len(msgs))
	}
	a := msgs[0].Msg.Alert
	if a.Kind != protocol.KindRekey || a.Zone != f.Zone || a.Epoch != 1 || a.Parts != 1 || len(a.Rekey) != 1 || msgs[0].Msg.Epoch != 0 || len(msgs[0].Env) == 0 {
		t.Errorf("rekey part %+v under epoch %d; want kind rekey to epoch 1, one part with the entry, sealed under epoch 0", a, msgs[0].Msg.Epoch)
	}
	if none, err := f.g.sealRekey(f.z, st, 1, nil); err != nil || len(none) != 0 {
		t.Errorf("a rekey with no entry: %d parts, %v; want none", len(none), err)
	}
	if len(f.node.sent) != 0 || len(f.node.commits) != 0 {
		t.Error("sealing a rekey sent or committed something")
	}
}

// TestGovernorCommitRemoval: a removal is committed with the zone record
// moved to the next epoch only if the zone is still at the epoch it was
// sealed in; otherwise nothing is committed.
func TestGovernorCommitRemoval(t *testing.T) {
	f := newGovsFixture(t, 0)
	next, err := crypto.NewZoneSecret(f.Rand)
	if err != nil {
		t.Fatal(err)
	}
	sw := core.EpochSwitch{Epoch: 1, Secret: next}
	if err := f.g.commitRemoval(f.z, 3, nil, sw, "from"); !errors.Is(err, api.ErrInvalid) || len(f.node.commits) != 0 {
		t.Errorf("a zone that moved: %v, %d commits; want ErrInvalid and none", err, len(f.node.commits))
	}
	if err := f.g.commitRemoval(f.z, 0, nil, sw, "from"); err != nil {
		t.Fatal(err)
	}
	if len(f.node.commits) != 1 {
		t.Fatalf("%d commits, want 1", len(f.node.commits))
	}
	ch := f.node.commits[0]
	if !ch.Dirty || ch.Next == nil || ch.Next.Epoch != 1 || ch.Record.Epoch != 1 {
		t.Errorf("committed %+v; want the record written at epoch 1 and the move to it", ch)
	}
}

// TestGovernorAnnounceJoinedLost: a join announcement lost (the test
// hook) on a zone with no topic sends nothing and waits for no peer.
func TestGovernorAnnounceJoinedLost(t *testing.T) {
	f := newGovsFixture(t, 0)
	f.g.lostAnnounce.Store(true)
	f.g.announceJoined(t.Context(), "z")
	if len(f.node.sent) != 0 || f.node.spawned != 0 {
		t.Errorf("%d sent, %d waits; want none", len(f.node.sent), f.node.spawned)
	}
	f.g.lostAnnounce.Store(false)
	f.g.announceJoined(t.Context(), "z")
	if len(f.node.sent) != 1 || f.node.spawned != 0 {
		t.Errorf("%d sent, %d waits; want the announcement, and no wait without a topic", len(f.node.sent), f.node.spawned)
	}
}
