package zone

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"lookout/crypto"
	"lookout/protocol"
)

// govFixture is a zone seen by ada, a member with a KEM key, at epoch 0.
type govFixture struct {
	*fixture
	ada, bo    *crypto.Identity
	adaKEM     *crypto.KEMKey
	boKEM      *crypto.KEMKey
	adaCrt     *protocol.Cert // ada's member certificate, from the founder
	secrets    []crypto.ZoneSecret
	sealSeed   byte
	adaSelf    Self
	baseRecord Record
}

func newGovFixture(t *testing.T) *govFixture {
	t.Helper()
	f := &govFixture{fixture: newFixture(t)}
	// A founder's certificate outliving every chain below, so that a
	// chain's expiry is its leaf's.
	f.rootCrt = f.certAt(f.founder, f.founder.Public(), protocol.RoleOrganizer, f.now.Add(-time.Hour), f.now.Add(30*24*time.Hour))
	f.ada, f.bo = f.identity(2), f.identity(3)
	f.adaKEM, f.boKEM = f.kemKey(2), f.kemKey(3)
	f.adaCrt = f.cert(f.founder, f.ada, protocol.RoleMember)
	for i := range 4 {
		f.secrets = append(f.secrets, crypto.ZoneSecret(bytes.Repeat([]byte{byte(0xa0 + i)}, crypto.ZoneSecretSize)))
	}
	f.adaSelf = Self{ID: f.ada.ID(), Key: f.ada.Public(), KEM: f.adaKEM}
	f.baseRecord = Record{ID: f.zone.String(), Name: "north", Epoch: 0, Secret: bytes.Clone(f.secrets[0][:]),
		Root: f.founder.Public().Bytes(), Chain: [][]byte{f.adaCrt.Bytes()}}
	return f
}

func (f *govFixture) kemKey(seed byte) *crypto.KEMKey {
	k, err := crypto.NewKEMKey(rand.NewChaCha8([32]byte{0x4b, seed}))
	if err != nil {
		f.t.Fatal(err)
	}
	return k
}

// certAt is a certificate valid from issued to expires.
func (f *govFixture) certAt(issuer *crypto.Identity, subject *crypto.PublicKey, role protocol.Role, issued, expires time.Time) *protocol.Cert {
	c, err := protocol.IssueCert(issuer, f.zone, subject, role, issued, expires)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// state is ada's zone state at epoch with the secrets of epochs 0 to
// epoch, holding chain with role.
func (f *govFixture) state(epoch uint32, chain protocol.Chain, role protocol.Role) GovState {
	epochs := map[uint32]crypto.ZoneSecret{}
	for e := range epoch + 1 {
		epochs[e] = f.secrets[e]
	}
	rec := f.baseRecord
	rec.Epoch, rec.Secret = epoch, bytes.Clone(f.secrets[epoch][:])
	for e := range epoch {
		rec.Old = append(rec.Old, EpochSecret{Epoch: e, Secret: bytes.Clone(f.secrets[e][:])})
	}
	return GovState{Zone: f.zone, Root: f.founder.Public(), Record: rec, Epoch: epoch, Epochs: epochs, Chain: chain, Role: role}
}

// entry seals secret next of epoch, under the secret of epoch under, to
// member's KEM key.
func (f *govFixture) entry(kem *crypto.KEMKey, member crypto.MemberID, under, epoch uint32, next crypto.ZoneSecret) protocol.RekeyEntry {
	f.sealSeed++
	e, err := protocol.SealRekeyEntry(kem.PublicBytes(), f.zone, f.secrets[under], epoch, member, next, rand.NewChaCha8([32]byte{0x5e, f.sealSeed}))
	if err != nil {
		f.t.Fatal(err)
	}
	return e
}

// rekey is a founder's rekey to epoch sealed under epoch under.
func (f *govFixture) rekey(under, epoch uint32, entries ...protocol.RekeyEntry) *protocol.Message {
	m := f.msg(protocol.KindRekey, f.founder, f.rootCrt, protocol.RoleOrganizer, under, f.now)
	m.Alert.Epoch, m.Alert.Parts, m.Alert.Rekey = epoch, 1, entries
	return m
}

// summary is a short form of ch for failure messages (records hold
// certificates of kilobytes).
func summary(ch GovChange) string {
	next := "none"
	if ch.Next != nil {
		next = fmt.Sprint(ch.Next.Epoch)
	}
	return fmt.Sprintf("dirty %v, role %s with %d certificates, removed %v, next epoch %s, reason %q",
		ch.Dirty, ch.Role, len(ch.Chain), ch.Removed, next, ch.Reason)
}

// noChange fails unless ch changes nothing for this member.
func noChange(t *testing.T, name string, st GovState, ch GovChange) {
	t.Helper()
	if ch.Dirty || ch.Chain != nil || ch.Removed || ch.Next != nil {
		t.Errorf("%s: changed (%s), want nothing", name, summary(ch))
	}
	if !reflect.DeepEqual(ch.Record, st.Record) {
		t.Errorf("%s: the record changed", name)
	}
}

// TestPlanGovGrant: a role grant to this member whose chain verifies now
// is taken, record included; one to someone else, with a chain too deep,
// expired, not from an organizer or from another root, or a stale renewal
// of the role held, is not, and the refusals of grants to this member say
// why.
func TestPlanGovGrant(t *testing.T) {
	f := newGovFixture(t)
	held := protocol.Chain{f.adaCrt, f.rootCrt}
	adaKey := f.ada.Public()

	// A chain as deep as allowed: founder → o1 → o2 → o3, each an organizer.
	o1, o2, o3 := f.identity(11), f.identity(12), f.identity(13)
	o1Crt := f.cert(f.founder, o1, protocol.RoleOrganizer)
	o2Crt := f.cert(o1, o2, protocol.RoleOrganizer)
	o3Crt := f.cert(o2, o3, protocol.RoleOrganizer)
	deep := f.msg(protocol.KindRole, o3, o3Crt, protocol.RoleOrganizer, 0, f.now)
	deep.Chain = protocol.Chain{o3Crt, o2Crt, o1Crt, f.rootCrt}
	deep.Alert.Cert = f.cert(o3, f.ada, protocol.RoleVerifier).Bytes()

	// A grant by a member (not an organizer), and one by another zone's
	// founder.
	boCrt := f.cert(f.founder, f.bo, protocol.RoleMember)
	byMember := f.msg(protocol.KindRole, f.bo, boCrt, protocol.RoleMember, 0, f.now)
	byMember.Alert.Cert = f.cert(f.bo, f.ada, protocol.RoleVerifier).Bytes()
	mallory := f.identity(9)
	malCrt := f.cert(mallory, mallory, protocol.RoleOrganizer)
	byOtherRoot := f.msg(protocol.KindRole, mallory, malCrt, protocol.RoleOrganizer, 0, f.now)
	byOtherRoot.Alert.Cert = f.cert(mallory, f.ada, protocol.RoleOrganizer).Bytes()
	damaged := f.grant(f.cert(f.founder, f.ada, protocol.RoleVerifier), f.now, false)
	damaged.Alert.Cert = damaged.Alert.Cert[:20]

	// Held chains and grants for the renewal cases.
	verifierTill := func(d time.Duration) *protocol.Cert {
		return f.certAt(f.founder, adaKey, protocol.RoleVerifier, f.now.Add(-time.Hour), f.now.Add(d))
	}
	heldVerifier := protocol.Chain{verifierTill(48 * time.Hour), f.rootCrt}
	invite := f.identity(20)
	inviteCrt := f.certAt(f.founder, invite.Public(), protocol.InviteRole(protocol.RoleVerifier), f.now.Add(-2*time.Hour), f.now.Add(time.Hour))
	heldInvited := protocol.Chain{f.certAt(invite, adaKey, protocol.RoleVerifier, f.now.Add(-time.Hour), f.now.Add(48*time.Hour)), inviteCrt, f.rootCrt}
	invitedAgain := f.msg(protocol.KindRole, f.founder, f.rootCrt, protocol.RoleOrganizer, 0, f.now)
	invitedAgain.Chain = protocol.Chain{inviteCrt, f.rootCrt}
	invitedAgain.Alert.Cert = f.certAt(invite, adaKey, protocol.RoleVerifier, f.now.Add(-time.Minute), f.now.Add(24*time.Hour)).Bytes()

	tests := []struct {
		name      string
		held      protocol.Chain
		heldRole  protocol.Role
		msg       *protocol.Message
		at        time.Duration
		wantRole  protocol.Role // 0: no new role
		reason    string
		detailErr error
	}{
		{"a grant to this member is taken", held, protocol.RoleMember,
			f.grant(f.cert(f.founder, f.ada, protocol.RoleVerifier), f.now, false), 0, protocol.RoleVerifier, "", nil},
		{"a chain of the maximum depth is taken", held, protocol.RoleMember,
			func() *protocol.Message {
				m := f.msg(protocol.KindRole, o2, o2Crt, protocol.RoleOrganizer, 0, f.now)
				m.Chain = protocol.Chain{o2Crt, o1Crt, f.rootCrt}
				m.Alert.Cert = f.cert(o2, f.ada, protocol.RoleOrganizer).Bytes()
				return m
			}(), 0, protocol.RoleOrganizer, "", nil},
		{"a grant to someone else is ignored", held, protocol.RoleMember,
			f.grant(f.cert(f.founder, f.bo, protocol.RoleOrganizer), f.now, false), 0, 0, "", nil},
		{"damaged certificate bytes are ignored", held, protocol.RoleMember, damaged, 0, 0, "", nil},
		{"a chain too deep is refused", held, protocol.RoleMember, deep, 0, 0, ReasonChainTooDeep, nil},
		{"an expired chain is refused", held, protocol.RoleMember,
			f.grant(f.cert(f.founder, f.ada, protocol.RoleVerifier), f.now, false), 48 * time.Hour, 0, ReasonGrant, protocol.ErrChain},
		{"a chain not yet valid is refused", held, protocol.RoleMember,
			f.grant(f.certAt(f.founder, adaKey, protocol.RoleVerifier, f.now.Add(time.Hour), f.now.Add(24*time.Hour)), f.now, false), 0, 0, ReasonGrant, protocol.ErrChain},
		{"a grant by a member is refused", held, protocol.RoleMember, byMember, 0, 0, ReasonGrant, protocol.ErrChain},
		{"a grant under another root is refused", held, protocol.RoleMember, byOtherRoot, 0, 0, ReasonGrant, protocol.ErrChain},
		{"a stale renewal does not undo the role held", heldVerifier, protocol.RoleVerifier,
			f.grant(verifierTill(24*time.Hour), f.now, false), 0, 0, "", nil},
		{"a renewal to the same expiry is stale", heldVerifier, protocol.RoleVerifier,
			f.grant(verifierTill(48*time.Hour), f.now, false), 0, 0, "", nil},
		{"a renewal expiring later is taken", heldVerifier, protocol.RoleVerifier,
			f.grant(verifierTill(72*time.Hour), f.now, false), 0, protocol.RoleVerifier, "", nil},
		{"another role is taken though it expires sooner", heldVerifier, protocol.RoleVerifier,
			f.grant(f.certAt(f.founder, adaKey, protocol.RoleOrganizer, f.now.Add(-time.Hour), f.now.Add(24*time.Hour)), f.now, false), 0, protocol.RoleOrganizer, "", nil},
		{"a direct certificate replaces an invited one expiring later", heldInvited, protocol.RoleVerifier,
			f.grant(verifierTill(24*time.Hour), f.now, false), 0, protocol.RoleVerifier, "", nil},
		{"an invited certificate expiring sooner than the invited one held is stale", heldInvited, protocol.RoleVerifier,
			invitedAgain, 0, 0, "", nil},
	}
	for _, tc := range tests {
		st := f.state(0, tc.held, tc.heldRole)
		ch := PlanGov(st, f.adaSelf, tc.msg, f.now.Add(tc.at))
		if ch.Reason != tc.reason {
			t.Errorf("%s: reason %q, want %q", tc.name, ch.Reason, tc.reason)
		}
		if tc.detailErr != nil && !errors.Is(ch.Detail, tc.detailErr) {
			t.Errorf("%s: detail %v, want %v", tc.name, ch.Detail, tc.detailErr)
		}
		if tc.wantRole == 0 {
			noChange(t, tc.name, st, ch)
			continue
		}
		c, _ := protocol.ParseCert(tc.msg.Alert.Cert)
		want := append(protocol.Chain{c}, tc.msg.Chain...)
		if !ch.Dirty || ch.Role != tc.wantRole || len(ch.Chain) != len(want) || ch.Removed || ch.Next != nil {
			t.Errorf("%s: change (%s), want role %s with a %d-certificate chain", tc.name, summary(ch), tc.wantRole, len(want))
			continue
		}
		for i := range want {
			if !bytes.Equal(ch.Chain[i].Bytes(), want[i].Bytes()) || !bytes.Equal(ch.Record.Chain[i], want[i].Bytes()) {
				t.Errorf("%s: certificate %d of the new chain or record differs", tc.name, i)
			}
		}
		if ch.Record.Epoch != st.Record.Epoch || !bytes.Equal(ch.Record.Secret, st.Record.Secret) || ch.Record.Removed {
			t.Errorf("%s: a grant changed the record's epoch or removal", tc.name)
		}
		// The record written opens as the role granted.
		if m, err := ch.Record.Open(adaKey, f.now.Add(tc.at)); err != nil || m.Role != tc.wantRole {
			t.Errorf("%s: record opens as %v, %v", tc.name, m.Role, err)
		}
	}
}

// TestPlanGovRemove: a removal of this member marks it removed in the
// change and the record; a removal of another member, or a message of
// another kind, changes nothing.
func TestPlanGovRemove(t *testing.T) {
	f := newGovFixture(t)
	held := protocol.Chain{f.adaCrt, f.rootCrt}
	removal := func(who crypto.MemberID) *protocol.Message {
		m := f.msg(protocol.KindRemove, f.founder, f.rootCrt, protocol.RoleOrganizer, 0, f.now)
		m.Alert.Subject = who
		return m
	}
	tests := []struct {
		name    string
		msg     *protocol.Message
		removed bool
	}{
		{"a removal of this member", removal(f.ada.ID()), true},
		{"a removal of another member", removal(f.bo.ID()), false},
		{"a sighting", f.msg(protocol.KindSighting, f.bo, f.cert(f.founder, f.bo, protocol.RoleMember), protocol.RoleMember, 0, f.now), false},
		{"a member announcement", f.msg(protocol.KindMember, f.ada, f.adaCrt, protocol.RoleMember, 0, f.now), false},
	}
	for _, tc := range tests {
		st := f.state(0, held, protocol.RoleMember)
		ch := PlanGov(st, f.adaSelf, tc.msg, f.now)
		if ch.Reason != "" {
			t.Errorf("%s: reason %q", tc.name, ch.Reason)
		}
		if !tc.removed {
			noChange(t, tc.name, st, ch)
			continue
		}
		want := st.Record
		want.Removed = true
		if !ch.Removed || !ch.Dirty || ch.Chain != nil || ch.Next != nil || !reflect.DeepEqual(ch.Record, want) {
			t.Errorf("%s: change (%s), want removed with the record marked", tc.name, summary(ch))
		}
	}
}

// TestPlanGovRekey: a rekey to a later epoch, sealed under an epoch held,
// with an entry for this member yields the next secret and the record at
// that epoch, the current secret kept among the old ones; a rekey to an
// epoch not after the current one or not after the one it is sealed
// under, sealed under an epoch not held, or without this member's entry
// yields nothing; a corrupted or malformed entry yields nothing with a
// reason.
func TestPlanGovRekey(t *testing.T) {
	f := newGovFixture(t)
	held := protocol.Chain{f.adaCrt, f.rootCrt}
	next := f.secrets[1]
	corrupt := f.entry(f.adaKEM, f.ada.ID(), 0, 1, next)
	corrupt.Sealed = bytes.Clone(corrupt.Sealed)
	corrupt.Sealed[3] ^= 0x40
	short := f.entry(f.adaKEM, f.ada.ID(), 0, 1, next)
	short.Enc = short.Enc[:len(short.Enc)-1]
	wrongKEM := f.entry(f.boKEM, f.ada.ID(), 0, 1, next) // sealed to bo's key, labelled ada
	tests := []struct {
		name      string
		epoch     uint32 // ada's current epoch
		msg       *protocol.Message
		want      uint32 // 0: no move
		secret    crypto.ZoneSecret
		reason    string
		detailErr error
		ahead     bool // the secret of the epoch after the current one is held too
	}{
		{"a rekey to the next epoch with this member's entry", 0,
			f.rekey(0, 1, f.entry(f.boKEM, f.bo.ID(), 0, 1, next), f.entry(f.adaKEM, f.ada.ID(), 0, 1, next)), 1, next, "", nil, false},
		{"a merge sealed under the parent, skipping an epoch", 1,
			f.rekey(0, 2, f.entry(f.adaKEM, f.ada.ID(), 0, 2, f.secrets[2])), 2, f.secrets[2], "", nil, false},
		{"a rekey to the current epoch", 1,
			f.rekey(0, 1, f.entry(f.adaKEM, f.ada.ID(), 0, 1, next)), 0, crypto.ZoneSecret{}, "", nil, false},
		{"a rekey to an earlier epoch", 2,
			f.rekey(0, 1, f.entry(f.adaKEM, f.ada.ID(), 0, 1, next)), 0, crypto.ZoneSecret{}, "", nil, false},
		{"a rekey to the epoch it is sealed under", 0,
			f.rekey(1, 1, f.entry(f.adaKEM, f.ada.ID(), 1, 1, next)), 0, crypto.ZoneSecret{}, "", nil, false},
		{"a rekey to the epoch it is sealed under, that epoch's secret held", 0,
			f.rekey(1, 1, f.entry(f.adaKEM, f.ada.ID(), 1, 1, next)), 0, crypto.ZoneSecret{}, "", nil, true},
		{"a rekey sealed under an unknown epoch", 0,
			f.rekey(2, 3, f.entry(f.adaKEM, f.ada.ID(), 2, 3, f.secrets[3])), 0, crypto.ZoneSecret{}, "", nil, false},
		{"a rekey without this member's entry", 0,
			f.rekey(0, 1, f.entry(f.boKEM, f.bo.ID(), 0, 1, next)), 0, crypto.ZoneSecret{}, "", nil, false},
		{"a corrupted entry", 0, f.rekey(0, 1, corrupt), 0, crypto.ZoneSecret{}, ReasonRekeyEntry, protocol.ErrDecrypt, false},
		{"an entry sealed to another key", 0, f.rekey(0, 1, wrongKEM), 0, crypto.ZoneSecret{}, ReasonRekeyEntry, protocol.ErrDecrypt, false},
		{"an entry of the wrong size", 0, f.rekey(0, 1, short), 0, crypto.ZoneSecret{}, ReasonRekeyEntry, protocol.ErrEnum, false},
		{"an entry sealed for another epoch", 0,
			f.rekey(0, 1, f.entry(f.adaKEM, f.ada.ID(), 0, 2, next)), 0, crypto.ZoneSecret{}, ReasonRekeyEntry, protocol.ErrDecrypt, false},
	}
	for _, tc := range tests {
		st := f.state(tc.epoch, held, protocol.RoleMember)
		if tc.ahead {
			st.Epochs[tc.epoch+1] = f.secrets[tc.epoch+1]
		}
		before := st.Record
		before.Old = append([]EpochSecret(nil), st.Record.Old...)
		ch := PlanGov(st, f.adaSelf, tc.msg, f.now)
		if ch.Reason != tc.reason {
			t.Errorf("%s: reason %q, want %q", tc.name, ch.Reason, tc.reason)
		}
		if tc.detailErr != nil && !errors.Is(ch.Detail, tc.detailErr) {
			t.Errorf("%s: detail %v, want %v", tc.name, ch.Detail, tc.detailErr)
		}
		if !reflect.DeepEqual(st.Record, before) {
			t.Errorf("%s: planning changed the record it was lent", tc.name)
		}
		if tc.want == 0 {
			noChange(t, tc.name, st, ch)
			continue
		}
		if ch.Next == nil || ch.Next.Epoch != tc.want || ch.Next.Secret != tc.secret || !ch.Dirty || ch.Chain != nil || ch.Removed {
			t.Errorf("%s: change (%s), want a move to epoch %d", tc.name, summary(ch), tc.want)
			continue
		}
		r := ch.Record
		if r.Epoch != tc.want || !bytes.Equal(r.Secret, tc.secret[:]) || r.EpochFrom != tc.msg.ID.String() {
			t.Errorf("%s: record at epoch %d from %q", tc.name, r.Epoch, r.EpochFrom)
		}
		last := r.Old[len(r.Old)-1]
		if len(r.Old) != len(st.Record.Old)+1 || last.Epoch != tc.epoch || !bytes.Equal(last.Secret, f.secrets[tc.epoch][:]) {
			t.Errorf("%s: %d old secrets, want the current one (epoch %d) kept last", tc.name, len(r.Old), tc.epoch)
		}
		if m, err := r.Open(f.ada.Public(), f.now); err != nil || m.Epoch != tc.want || len(m.Epochs) != int(tc.epoch)+2 {
			t.Errorf("%s: record opens at epoch %d with %d secrets, %v", tc.name, m.Epoch, len(m.Epochs), err)
		}
	}
}

// TestRecordSetEpoch: moving a record to a new epoch keeps the current
// secret among the old ones and shares no memory with the record it was
// copied from.
func TestRecordSetEpoch(t *testing.T) {
	f := newGovFixture(t)
	orig := f.state(1, nil, 0).Record
	orig.Old = append(make([]EpochSecret, 0, 4), orig.Old...) // room to append in place
	r := orig
	r.SetEpoch(EpochSwitch{Epoch: 2, Secret: f.secrets[2]}, "rk")
	if r.Epoch != 2 || !bytes.Equal(r.Secret, f.secrets[2][:]) || r.EpochFrom != "rk" || len(r.Old) != 2 || r.Old[1].Epoch != 1 {
		t.Fatalf("record at epoch %d from %q with %d old secrets", r.Epoch, r.EpochFrom, len(r.Old))
	}
	r.Secret[0] ^= 1
	r.Old[1].Secret[0] ^= 1
	if len(orig.Old) != 1 || orig.Old[:2][1].Epoch != 0 || orig.Secret[0] != f.secrets[1][0] || orig.Epoch != 1 {
		t.Errorf("the original record changed")
	}
}
