package protocol

import (
	"bytes"
	"io"
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"
	"time"

	"lookout/crypto"
)

// Fixed inputs shared by the tests. Nothing here reads the clock or
// crypto/rand: identities come from fixed seeds, randomness from ChaCha8
// streams with fixed keys, and every check gets an explicit now.
var (
	// t0 is "now" for most tests: the moment the sighting is sent.
	t0 = time.Date(2026, 3, 14, 18, 30, 0, 0, time.UTC)

	testZone  = ZoneID{0x5a, 0x0e, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e}
	otherZone = ZoneID{0x07, 0x7e, 0x44}

	testEpoch = uint32(1)
)

// testReader returns a deterministic byte stream keyed by b.
func testReader(b byte) io.Reader {
	var seed [32]byte
	for i := range seed {
		seed[i] = b
	}
	return rand.NewChaCha8(seed)
}

// testBytes returns n deterministic bytes keyed by b.
func testBytes(b byte, n int) []byte {
	out := make([]byte, n)
	if _, err := io.ReadFull(testReader(b), out); err != nil {
		panic(err)
	}
	return out
}

func mustIdentity(b byte) *crypto.Identity {
	id, err := crypto.IdentityFromSeed(bytes.Repeat([]byte{b}, crypto.SeedSize))
	if err != nil {
		panic(err)
	}
	return id
}

func mustKEM(b byte) *crypto.KEMKey {
	k, err := crypto.KEMKeyFromSeed(bytes.Repeat([]byte{b}, crypto.KEMSeedSize))
	if err != nil {
		panic(err)
	}
	return k
}

func mustCert(issuer *crypto.Identity, zone ZoneID, subject *crypto.PublicKey, role Role, issued, expires time.Time) *Cert {
	c, err := IssueCert(issuer, zone, subject, role, issued, expires)
	if err != nil {
		panic(err)
	}
	return c
}

// fixture is one zone with a founder (the root), an organizer, a verifier,
// two members and an outsider, and their certificate chains.
type fixture struct {
	founder, org, verifier, member, member2, outsider *crypto.Identity

	founderCert  *Cert // self-issued, organizer
	orgCert      *Cert // organizer, by founder
	verifierCert *Cert // verifier, by founder
	memberCert   *Cert // member, by founder
	member2Cert  *Cert // member, by org

	founderChain, orgChain, verifierChain, memberChain, member2Chain Chain

	secret crypto.ZoneSecret
	key    *crypto.AEADKey // alert key of testEpoch

	grantCert *Cert // verifier cert for member2, by org: what a KindRole carries

	// A rekey to epoch 2: next is the new secret, sealed to memberKEM (for
	// member) and member2KEM (for member2) with the old secret, secret.
	memberKEM, member2KEM *crypto.KEMKey
	next                  crypto.ZoneSecret
	rekeyEntries          []RekeyEntry
}

var (
	certIssued  = t0.Add(-24 * time.Hour)
	certExpires = t0.Add(DefaultCertTTL)
)

var fixtureOnce = sync.OnceValue(func() *fixture {
	f := &fixture{
		founder:  mustIdentity(0x01),
		org:      mustIdentity(0x02),
		verifier: mustIdentity(0x03),
		member:   mustIdentity(0x04),
		member2:  mustIdentity(0x05),
		outsider: mustIdentity(0x06),
	}
	f.founderCert = mustCert(f.founder, testZone, f.founder.Public(), RoleOrganizer, certIssued, certExpires)
	f.orgCert = mustCert(f.founder, testZone, f.org.Public(), RoleOrganizer, certIssued, certExpires)
	f.verifierCert = mustCert(f.founder, testZone, f.verifier.Public(), RoleVerifier, certIssued, certExpires)
	f.memberCert = mustCert(f.founder, testZone, f.member.Public(), RoleMember, certIssued, certExpires)
	f.member2Cert = mustCert(f.org, testZone, f.member2.Public(), RoleMember, certIssued, certExpires)
	f.founderChain = Chain{f.founderCert}
	f.orgChain = Chain{f.orgCert, f.founderCert}
	f.verifierChain = Chain{f.verifierCert, f.founderCert}
	f.memberChain = Chain{f.memberCert, f.founderCert}
	f.member2Chain = Chain{f.member2Cert, f.orgCert, f.founderCert}
	copy(f.secret[:], testBytes(0x20, crypto.ZoneSecretSize))
	f.key = f.secret.AlertKey(testEpoch)
	f.grantCert = mustCert(f.org, testZone, f.member2.Public(), RoleVerifier, certIssued, certExpires)
	f.memberKEM, f.member2KEM = mustKEM(0x0d), mustKEM(0x0e)
	copy(f.next[:], testBytes(0x23, crypto.ZoneSecretSize))
	r := testReader(0x0f)
	for _, m := range []struct {
		kem *crypto.KEMKey
		id  crypto.MemberID
	}{{f.memberKEM, f.member.ID()}, {f.member2KEM, f.member2.ID()}} {
		e, err := SealRekeyEntry(m.kem.PublicBytes(), testZone, f.secret, rekeyEpoch, m.id, f.next, r)
		if err != nil {
			panic(err)
		}
		f.rekeyEntries = append(f.rekeyEntries, e)
	}
	return f
})

func fx(t testing.TB) *fixture {
	t.Helper()
	return fixtureOnce()
}

// validator returns a fresh validator (empty certificate cache) that knows
// the key of testEpoch only.
func (f *fixture) validator() *Validator {
	return NewValidator(testZone, f.founder.Public(), func(e uint32) (*crypto.AEADKey, bool) {
		if e == testEpoch {
			return f.key, true
		}
		return nil, false
	})
}

// Alerts of each kind, valid, with fixed contents. Sender is set to a
// fixed member so that Validate passes without signing; Sign overwrites it.

func newSighting() *Alert {
	return &Alert{
		Kind:      KindSighting,
		Zone:      testZone,
		Sender:    fixtureOnce().member.ID(),
		Sent:      t0,
		Expires:   t0.Add(DefaultSightingTTL),
		Status:    StatusActual,
		Urgency:   UrgencyImmediate,
		Severity:  SeveritySevere,
		Certainty: CertaintyObserved,
		Area:      "Queen St W & Dunn Ave",
		What:      "2 CBSA officers, unmarked grey van",
		Size:      2,
		Activity:  "asking people at the bus stop for ID",
		Uniform:   "plain clothes, vests marked CBSA",
		Equipment: "grey van, plate starts BX",
		Observed:  t0.Add(-5 * time.Minute),
	}
}

func newCallout() *Alert {
	return &Alert{
		Kind:      KindCallout,
		Zone:      testZone,
		Sender:    fixtureOnce().org.ID(),
		Sent:      t0.Add(10 * time.Minute),
		Expires:   t0.Add(10*time.Minute + DefaultCalloutTTL),
		Status:    StatusActual,
		Urgency:   UrgencyImmediate,
		Severity:  SeveritySevere,
		Certainty: CertaintyLikely,
		Area:      "Rue Saint-Hubert & Bélanger",
		Title:     "Accompany the family to the door",
		When:      "now",
		Need:      6,
		Bring:     "charged phone, water",
		Rights:    "Do not open the door without a judicial warrant signed by a judge.\nYou may stay silent.",
	}
}

func newConfirm(ref AlertID) *Alert {
	return &Alert{
		Kind:      KindConfirm,
		Zone:      testZone,
		Sender:    fixtureOnce().member2.ID(),
		Sent:      t0.Add(3 * time.Minute),
		Expires:   t0.Add(3*time.Minute + DefaultUpdateTTL),
		Status:    StatusActual,
		Urgency:   UrgencyImmediate,
		Severity:  SeveritySevere,
		Certainty: CertaintyObserved,
		Ref:       ref,
		Note:      "seen it too, van still there",
	}
}

func newRespond(ref AlertID) *Alert {
	return &Alert{
		Kind:      KindRespond,
		Zone:      testZone,
		Sender:    fixtureOnce().member.ID(),
		Sent:      t0.Add(12 * time.Minute),
		Expires:   t0.Add(12*time.Minute + DefaultUpdateTTL),
		Status:    StatusActual,
		Urgency:   UrgencyImmediate,
		Severity:  SeveritySevere,
		Certainty: CertaintyLikely,
		Ref:       ref,
		Response:  ResponseEnRoute,
	}
}

func newClear(ref AlertID) *Alert {
	return &Alert{
		Kind:      KindClear,
		Zone:      testZone,
		Sender:    fixtureOnce().verifier.ID(),
		Sent:      t0.Add(40 * time.Minute),
		Expires:   t0.Add(40*time.Minute + DefaultUpdateTTL),
		Status:    StatusActual,
		Urgency:   UrgencyPast,
		Severity:  SeverityMinor,
		Certainty: CertaintyObserved,
		Ref:       ref,
		Reason:    ClearAllClear,
		Note:      "van left northbound",
	}
}

// rekeyEpoch is the epoch the test rekey introduces.
const rekeyEpoch uint32 = 2 // testEpoch + 1

// calloutUpdate is the organizer's update of the callout: more people, a
// later time.
func newCalloutUpdate(ref AlertID) *Alert {
	a := newCallout()
	a.Ref = ref
	a.Sent = t0.Add(20 * time.Minute)
	a.Expires = a.Sent.Add(DefaultCalloutTTL)
	a.Title = "Accompany the family: 4 more people needed"
	a.When = "18:50"
	a.Need = 10
	return a
}

// newCosign is the founder co-signing the org's callout.
func newCosign(ref AlertID) *Alert {
	return &Alert{
		Kind:      KindCosign,
		Zone:      testZone,
		Sender:    fixtureOnce().founder.ID(),
		Sent:      t0.Add(11 * time.Minute),
		Expires:   t0.Add(11*time.Minute + DefaultUpdateTTL),
		Status:    StatusActual,
		Urgency:   UrgencyImmediate,
		Severity:  SeveritySevere,
		Certainty: CertaintyLikely,
		Ref:       ref,
	}
}

// governance returns the common fields of a governance message.
func governance(k Kind, sender crypto.MemberID) *Alert {
	return &Alert{
		Kind:      k,
		Zone:      testZone,
		Sender:    sender,
		Sent:      t0.Add(-time.Hour),
		Expires:   t0.Add(-time.Hour + MaxLifetime),
		Status:    StatusActual,
		Urgency:   UrgencyUnknown,
		Severity:  SeverityUnknown,
		Certainty: CertaintyUnknown,
	}
}

// newMember is the member announcing its name and KEM key.
func newMember() *Alert {
	f := fixtureOnce()
	a := governance(KindMember, f.member.ID())
	a.Name = "Amara"
	a.KEM = f.memberKEM.PublicBytes()
	return a
}

// newRole is the org granting member2 the verifier role.
func newRole() *Alert {
	f := fixtureOnce()
	a := governance(KindRole, f.org.ID())
	a.Cert = bytes.Clone(f.grantCert.Bytes())
	return a
}

// newRemove is the org removing the outsider.
func newRemove() *Alert {
	f := fixtureOnce()
	a := governance(KindRemove, f.org.ID())
	a.Subject = f.outsider.ID()
	a.Note = "moved away"
	return a
}

// newRekey is the org's rekey to rekeyEpoch, one part of two entries.
func newRekey() *Alert {
	f := fixtureOnce()
	a := governance(KindRekey, f.org.ID())
	a.Epoch, a.Part, a.Parts = rekeyEpoch, 0, 1
	for _, e := range f.rekeyEntries {
		a.Rekey = append(a.Rekey, RekeyEntry{Member: e.Member, Enc: bytes.Clone(e.Enc), Sealed: bytes.Clone(e.Sealed)})
	}
	return a
}

// newSettings is the founder changing the zone's settings.
func newSettings() *Alert {
	a := governance(KindSettings, fixtureOnce().founder.ID())
	a.Settings = ZoneSettings{Quorum: 3, Window: 15 * time.Minute, Expiry: 2 * time.Hour, Cosign: true, MaxReports: 5, MaxConfirms: 20}
	return a
}

// refA is an arbitrary non-zero alert reference.
var refA = AlertID{0xaa, 0x01}

func mustBody(t testing.TB, a *Alert) []byte {
	t.Helper()
	b, err := a.MarshalBinary()
	if err != nil {
		t.Fatalf("MarshalBinary: %v", err)
	}
	return b
}

func mustSign(t testing.TB, id *crypto.Identity, ch Chain, a *Alert) *Signed {
	t.Helper()
	s, err := Sign(id, ch, a)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return s
}

func mustSeal(t testing.TB, key *crypto.AEADKey, s *Signed, r io.Reader) []byte {
	t.Helper()
	env, err := Seal(key, testEpoch, s, r)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	return env
}

// msg makes a Message as the validator would hand it to Fold, without
// signing: Fold looks only at the alert, its ID and the sender's role.
func msg(t testing.TB, a *Alert, role Role) *Message {
	t.Helper()
	body := mustBody(t, a)
	parsed, err := ParseAlert(body)
	if err != nil {
		t.Fatalf("ParseAlert: %v", err)
	}
	return &Message{Signed: &Signed{Body: body, Alert: parsed, ID: ComputeAlertID(body)}, Epoch: testEpoch, Role: role}
}

// flip returns a copy of b with byte i xored with 0x01.
func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x01
	return c
}

// Binary multiaddrs and a libp2p peer ID, encoded by hand. The protocol
// treats them as opaque bytes.
var (
	// /ip4/192.0.2.10/udp/4001/quic-v1
	testAddr4 = []byte{0x04, 192, 0, 2, 10, 0x91, 0x02, 0x0f, 0xa1, 0xcc, 0x03}
	// /ip6/2001:db8::10/tcp/4001
	testAddr6 = []byte{0x29, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0x06, 0x0f, 0xa1}
)

// testPeerID is an identity-multihash Ed25519 peer ID (38 bytes).
func testPeerID() []byte {
	key := testBytes(0x30, 32)
	return append([]byte{0x00, 0x24, 0x08, 0x01, 0x12, 0x20}, key...)
}

func testInvite() *Invite {
	inv := &Invite{
		Expires: t0.Add(48 * time.Hour),
		Peers:   []PeerRecord{{ID: testPeerID(), Addrs: [][]byte{testAddr4, testAddr6}}},
	}
	copy(inv.Secret[:], testBytes(0x32, InviteSecretSize))
	return inv
}

// testInviteKey is the invite key of testInvite.
var testInviteKey = sync.OnceValue(func() *crypto.Identity {
	k, err := InviteIdentity(testInvite().Secret)
	if err != nil {
		panic(err)
	}
	return k
})

// testInviteCert is the founder's certificate of testInvite's key, for a
// member, valid from t0 until the invite expires.
func testInviteCert(t testing.TB) *Cert {
	t.Helper()
	return mustCert(fx(t).founder, testZone, testInviteKey().Public(), InviteRole(RoleMember), t0, testInvite().Expires)
}

// sameAlert compares alerts field by field, times with Equal.
func sameAlert(a, b *Alert) bool {
	if !a.Sent.Equal(b.Sent) || !a.Expires.Equal(b.Expires) || !a.Observed.Equal(b.Observed) {
		return false
	}
	x, y := *a, *b
	x.Sent, x.Expires, x.Observed = time.Time{}, time.Time{}, time.Time{}
	y.Sent, y.Expires, y.Observed = time.Time{}, time.Time{}, time.Time{}
	return reflect.DeepEqual(x, y)
}
