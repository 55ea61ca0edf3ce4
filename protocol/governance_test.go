package protocol

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"lookout/crypto"
)

// addGovernanceCases adds the validation cases of the kinds added for zone
// governance and callout co-signing to alertCases.
func addGovernanceCases(add func(string, func() *Alert, func(*Alert), error)) {
	f := fixtureOnce()
	entries := func(n int) []RekeyEntry {
		out := make([]RekeyEntry, n)
		for i := range out {
			e := f.rekeyEntries[i%2]
			out[i] = RekeyEntry{Member: mid(byte(i + 1)), Enc: bytes.Clone(e.Enc), Sealed: bytes.Clone(e.Sealed)}
		}
		return out
	}
	otherZoneCert := mustCert(f.org, otherZone, f.member2.Public(), RoleVerifier, certIssued, certExpires)
	badRole := bytes.Clone(f.grantCert.Bytes())
	badRole[certOffRole] = 0

	// Member.
	add("member/no kem", memberBase, func(a *Alert) { a.KEM = nil }, ErrMissing)
	add("member/kem 1 byte short", memberBase, func(a *Alert) { a.KEM = a.KEM[:crypto.KEMPublicKeySize-1] }, ErrEnum)
	add("member/kem 1 byte long", memberBase, func(a *Alert) { a.KEM = append(a.KEM, 0) }, ErrEnum)
	add("member/kem of a signing key's size", memberBase, func(a *Alert) { a.KEM = f.member.Public().Bytes() }, ErrEnum)
	add("member/no name", memberBase, func(a *Alert) { a.Name = "" }, nil)
	add("member/name with escape", memberBase, func(a *Alert) { a.Name = "\x1b[31mroot" }, ErrBadText)
	add("member/name with RLO", memberBase, func(a *Alert) { a.Name = "a\u202eb" }, ErrBadText)

	// Role.
	add("role/no cert", roleBase, func(a *Alert) { a.Cert = nil }, ErrMissing)
	add("role/cert 1 byte short", roleBase, func(a *Alert) { a.Cert = a.Cert[:CertSize-1] }, ErrTruncated)
	add("role/cert 1 byte long", roleBase, func(a *Alert) { a.Cert = append(a.Cert, 0) }, ErrTruncated)
	add("role/cert of another zone", roleBase, func(a *Alert) { a.Cert = bytes.Clone(otherZoneCert.Bytes()) }, ErrWrongZone)
	add("role/cert with role 0", roleBase, func(a *Alert) { a.Cert = bytes.Clone(badRole) }, ErrEnum)
	add("role/cert all zero", roleBase, func(a *Alert) { a.Cert = make([]byte, CertSize) }, ErrVersion)
	add("role/organizer cert", roleBase, func(a *Alert) { a.Cert = bytes.Clone(f.orgCert.Bytes()) }, nil)

	// Remove.
	add("remove/no subject", removeBase, func(a *Alert) { a.Subject = crypto.MemberID{} }, ErrMissing)
	add("remove/no note", removeBase, func(a *Alert) { a.Note = "" }, nil)

	// Rekey.
	add("rekey/epoch 0", rekeyBase, func(a *Alert) { a.Epoch = 0 }, ErrEnum)
	add("rekey/epoch max", rekeyBase, func(a *Alert) { a.Epoch = 1<<32 - 1 }, nil)
	add("rekey/parts 0", rekeyBase, func(a *Alert) { a.Parts = 0 }, ErrEnum)
	add("rekey/part == parts", rekeyBase, func(a *Alert) { a.Part = 1 }, ErrEnum)
	add("rekey/last of MaxRekeyParts", rekeyBase, func(a *Alert) { a.Part, a.Parts = MaxRekeyParts-1, MaxRekeyParts }, nil)
	add("rekey/MaxRekeyParts+1 parts", rekeyBase, func(a *Alert) { a.Part, a.Parts = 0, MaxRekeyParts+1 }, ErrEnum)
	add("rekey/no entries", rekeyBase, func(a *Alert) { a.Rekey = nil }, ErrMissing)
	add("rekey/one entry", rekeyBase, func(a *Alert) { a.Rekey = a.Rekey[:1] }, nil)
	add("rekey/MaxRekeyEntries entries", rekeyBase, func(a *Alert) { a.Rekey = entries(MaxRekeyEntries) }, nil)
	add("rekey/MaxRekeyEntries+1 entries", rekeyBase, func(a *Alert) { a.Rekey = entries(MaxRekeyEntries + 1) }, ErrTooLarge)
	add("rekey/enc short", rekeyBase, func(a *Alert) { a.Rekey[1].Enc = a.Rekey[1].Enc[:crypto.EncapsulatedKeySize-1] }, ErrEnum)
	add("rekey/enc long", rekeyBase, func(a *Alert) { a.Rekey[0].Enc = append(a.Rekey[0].Enc, 0) }, ErrEnum)
	add("rekey/enc missing", rekeyBase, func(a *Alert) { a.Rekey[0].Enc = nil }, ErrEnum)
	add("rekey/sealed short", rekeyBase, func(a *Alert) { a.Rekey[0].Sealed = a.Rekey[0].Sealed[:RekeySealedSize-1] }, ErrEnum)
	add("rekey/sealed long", rekeyBase, func(a *Alert) { a.Rekey[1].Sealed = append(a.Rekey[1].Sealed, 0) }, ErrEnum)
	add("rekey/sealed bare secret", rekeyBase, func(a *Alert) { a.Rekey[1].Sealed = a.Rekey[1].Sealed[:crypto.ZoneSecretSize] }, ErrEnum)
	add("rekey/member zero", rekeyBase, func(a *Alert) { a.Rekey[1].Member = crypto.MemberID{} }, ErrEnum)

	// Settings, each bound at the limit and one step beyond.
	set := func(mut func(z *ZoneSettings)) func(*Alert) { return func(a *Alert) { mut(&a.Settings) } }
	for _, c := range []struct {
		name string
		mut  func(z *ZoneSettings)
		want error
	}{
		{"quorum 0", func(z *ZoneSettings) { z.Quorum = 0 }, ErrEnum},
		{"quorum 1", func(z *ZoneSettings) { z.Quorum = 1 }, nil},
		{"quorum MaxQuorum", func(z *ZoneSettings) { z.Quorum = MaxQuorum }, nil},
		{"quorum MaxQuorum+1", func(z *ZoneSettings) { z.Quorum = MaxQuorum + 1 }, ErrEnum},
		{"window 59s", func(z *ZoneSettings) { z.Window = 59 * time.Second }, ErrEnum},
		{"window 1m", func(z *ZoneSettings) { z.Window = time.Minute }, nil},
		{"window 24h", func(z *ZoneSettings) { z.Window = 24 * time.Hour }, nil},
		{"window 24h+1s", func(z *ZoneSettings) { z.Window = 24*time.Hour + time.Second }, ErrEnum},
		{"window not whole seconds", func(z *ZoneSettings) { z.Window = 90*time.Second + time.Millisecond }, ErrEnum},
		{"expiry 10m-1s", func(z *ZoneSettings) { z.Expiry = 10*time.Minute - time.Second }, ErrEnum},
		{"expiry 10m", func(z *ZoneSettings) { z.Expiry = 10 * time.Minute }, nil},
		{"expiry MaxLifetime", func(z *ZoneSettings) { z.Expiry = MaxLifetime }, nil},
		{"expiry MaxLifetime+1s", func(z *ZoneSettings) { z.Expiry = MaxLifetime + time.Second }, ErrEnum},
		{"expiry not whole seconds", func(z *ZoneSettings) { z.Expiry = time.Hour + time.Nanosecond }, ErrEnum},
		{"max reports 0", func(z *ZoneSettings) { z.MaxReports = 0 }, ErrEnum},
		{"max reports MaxRateLimit", func(z *ZoneSettings) { z.MaxReports = MaxRateLimit }, nil},
		{"max reports MaxRateLimit+1", func(z *ZoneSettings) { z.MaxReports = MaxRateLimit + 1 }, ErrEnum},
		{"max confirms 0", func(z *ZoneSettings) { z.MaxConfirms = 0 }, ErrEnum},
		{"max confirms MaxRateLimit+1", func(z *ZoneSettings) { z.MaxConfirms = MaxRateLimit + 1 }, ErrEnum},
		{"cosign off", func(z *ZoneSettings) { z.Cosign = false }, nil},
		{"all zero", func(z *ZoneSettings) { *z = ZoneSettings{} }, ErrEnum},
		{"defaults", func(z *ZoneSettings) { *z = DefaultSettings().Wire() }, nil},
	} {
		add("settings/"+c.name, settingsBase, set(c.mut), c.want)
	}
}

// TestParseGovernanceRejects changes single fields of the golden bodies
// of the new kinds on the wire. Governance bodies have an empty area, so
// their variable part starts at offset 88.
func TestParseGovernanceRejects(t *testing.T) {
	golden := goldenAlerts(t)
	body := func(name string) []byte { return mustBody(t, golden[name]) }
	with := func(name string, off int, v ...byte) []byte {
		b := body(name)
		copy(b[off:], v)
		return b
	}
	u16 := func(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
	u32 := func(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
	cases := []struct {
		name string
		b    []byte
		want error
	}{
		{"member/name length over MaxNameLen", with("alert_member", 88, u16(MaxNameLen*BytesPerChar+1)...), ErrTooLong},
		{"member/name length 0xffff", with("alert_member", 88, 0xff, 0xff), ErrTooLong},
		{"member/trailing byte", append(body("alert_member"), 0), ErrTrailing},
		{"role/cert of another zone", with("alert_role", 88+1, otherZone[:]...), ErrWrongZone},
		{"role/cert version", with("alert_role", 88, 2), ErrVersion},
		{"role/cert role 7", with("alert_role", 88+certOffRole, 7), ErrEnum},
		{"role/trailing byte", append(body("alert_role"), 0), ErrTrailing},
		{"remove/subject zero", with("alert_remove", 88, make([]byte, 32)...), ErrMissing},
		{"rekey/epoch 0", with("alert_rekey", 88, u32(0)...), ErrEnum},
		{"rekey/part 1 of 1", with("alert_rekey", 92, 1), ErrEnum},
		{"rekey/parts 0", with("alert_rekey", 93, 0), ErrEnum},
		{"rekey/parts 65", with("alert_rekey", 92, 0, MaxRekeyParts+1), ErrEnum},
		{"rekey/0 entries", with("alert_rekey", 94, 0), ErrEnum},
		{"rekey/29 entries", with("alert_rekey", 94, MaxRekeyEntries+1), ErrEnum},
		{"rekey/255 entries", with("alert_rekey", 94, 255), ErrEnum},
		{"rekey/3 entries, 2 present", with("alert_rekey", 94, 3), ErrTruncated},
		{"rekey/1 entry, 2 present", with("alert_rekey", 94, 1), ErrTrailing},
		{"rekey/first member zero", with("alert_rekey", 95, make([]byte, 32)...), ErrEnum},
		{"settings/quorum 0", with("alert_settings", 88, 0), ErrEnum},
		{"settings/window 0", with("alert_settings", 89, u32(0)...), ErrEnum},
		{"settings/window 0xffffffff s", with("alert_settings", 89, u32(0xffffffff)...), ErrEnum},
		{"settings/expiry 60 s", with("alert_settings", 93, u32(60)...), ErrEnum},
		{"settings/cosign 2", with("alert_settings", 97, 2), ErrEnum},
		{"settings/cosign 0xff", with("alert_settings", 97, 0xff), ErrEnum},
		{"settings/max confirms 0", with("alert_settings", 100, 0, 0), ErrEnum},
		{"settings/trailing byte", append(body("alert_settings"), 0), ErrTrailing},
		{"cosign/trailing byte", append(body("alert_cosign"), 0), ErrTrailing},
		{"cosign/without ref", with("alert_cosign", 70, make([]byte, 16)...), ErrMissing},
		{"update/trailing byte", append(body("alert_callout_update"), 0), ErrTrailing},
		// The same bytes under another kind do not parse.
		{"settings read as a remove", with("alert_settings", 1, byte(KindRemove)), ErrTruncated},
		{"member read as a settings", with("alert_member", 1, byte(KindSettings)), ErrEnum}, // the KEM's byte at 97 is no cosign flag
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := ParseAlert(c.b)
			if !errors.Is(err, c.want) || a != nil {
				t.Fatalf("ParseAlert = %v, want %v", err, c.want)
			}
		})
	}
}

func TestKindPredicates(t *testing.T) {
	for _, c := range []struct {
		name                     string
		a                        *Alert
		governance, root, update bool
	}{
		{"sighting", newSighting(), false, true, false},
		{"callout", newCallout(), false, true, false},
		{"callout update", newCalloutUpdate(refA), false, false, true},
		{"confirm", newConfirm(refA), false, false, true},
		{"respond", newRespond(refA), false, false, true},
		{"clear", newClear(refA), false, false, true},
		{"cosign", newCosign(refA), false, false, true},
		{"member", newMember(), true, false, false},
		{"role", newRole(), true, false, false},
		{"remove", newRemove(), true, false, false},
		{"rekey", newRekey(), true, false, false},
		{"settings", newSettings(), true, false, false},
	} {
		if c.a.Kind.IsGovernance() != c.governance || c.a.IsRoot() != c.root || c.a.IsUpdate() != c.update {
			t.Errorf("%s: IsGovernance %v IsRoot %v IsUpdate %v, want %v %v %v", c.name,
				c.a.Kind.IsGovernance(), c.a.IsRoot(), c.a.IsUpdate(), c.governance, c.root, c.update)
		}
	}
	for _, k := range []Kind{0, KindShare, KindTally, 18, 255} {
		if k.IsGovernance() {
			t.Errorf("kind %d is governance", k)
		}
	}
}

// TestGovernanceLayout pins the offsets of the variable parts given in
// docs/protocol.md for the new kinds.
func TestGovernanceLayout(t *testing.T) {
	f := fx(t)
	g := goldenAlerts(t)
	u16 := func(b []byte, off int) int { return int(binary.BigEndian.Uint16(b[off:])) }
	u32 := func(b []byte, off int) uint32 { return binary.BigEndian.Uint32(b[off:]) }
	for name, a := range g {
		if !a.Kind.IsGovernance() {
			continue
		}
		if b := mustBody(t, a); u16(b, 86) != 0 {
			t.Errorf("%s: area not empty", name)
		}
	}

	m := mustBody(t, g["alert_member"])
	n := u16(m, 88)
	if string(m[90:90+n]) != "Amara" || !bytes.Equal(m[90+n:], f.memberKEM.PublicBytes()) || len(m) != 90+n+crypto.KEMPublicKeySize {
		t.Errorf("member layout: name at 88, KEM after it to the end")
	}

	r := mustBody(t, g["alert_role"])
	if !bytes.Equal(r[88:], f.grantCert.Bytes()) || len(r) != 88+CertSize {
		t.Errorf("role layout: certificate at 88 to the end")
	}

	rm := mustBody(t, g["alert_remove"])
	if id := f.outsider.ID(); !bytes.Equal(rm[88:120], id[:]) || u16(rm, 120) != len("moved away") || string(rm[122:]) != "moved away" {
		t.Errorf("remove layout: subject at 88, note at 120")
	}

	rk := mustBody(t, g["alert_rekey"])
	if u32(rk, 88) != rekeyEpoch || rk[92] != 0 || rk[93] != 1 || rk[94] != 2 || len(rk) != 95+2*RekeyEntrySize {
		t.Errorf("rekey layout: epoch 88, part 92, parts 93, n 94, entries from 95")
	}
	for i, e := range f.rekeyEntries {
		o := 95 + i*RekeyEntrySize
		if !bytes.Equal(rk[o:o+32], e.Member[:]) || !bytes.Equal(rk[o+32:o+32+crypto.EncapsulatedKeySize], e.Enc) ||
			!bytes.Equal(rk[o+32+crypto.EncapsulatedKeySize:o+RekeyEntrySize], e.Sealed) {
			t.Errorf("rekey entry %d layout: member, enc, sealed", i)
		}
	}

	st := mustBody(t, g["alert_settings"])
	if st[88] != 3 || u32(st, 89) != 15*60 || u32(st, 93) != 2*3600 || st[97] != 1 || u16(st, 98) != 5 || u16(st, 100) != 20 || st[102] != 0 || len(st) != 103 {
		t.Errorf("settings layout: quorum 88, window 89, expiry 93, cosign 97, reports 98, confirms 100, auto-share 102; 103 bytes")
	}

	cid := ComputeAlertID(mustBody(t, g["alert_callout"]))
	cs := mustBody(t, g["alert_cosign"])
	if !bytes.Equal(cs[70:86], cid[:]) || len(cs) != 88 {
		t.Errorf("cosign layout: ref to the callout, nothing after the (empty) area")
	}
	up := mustBody(t, g["alert_callout_update"])
	if !bytes.Equal(up[70:86], cid[:]) || Kind(up[1]) != KindCallout {
		t.Errorf("callout update: a callout whose ref is the callout")
	}
}

// The entries of the golden rekey open with the members' KEM keys, so the
// golden file pins the HPKE parameters of docs/protocol.md "Rekey".
func TestGoldenRekeyOpens(t *testing.T) {
	f := fx(t)
	a, err := ParseAlert(mustBody(t, goldenAlerts(t)["alert_rekey"]))
	if err != nil {
		t.Fatal(err)
	}
	keys := map[crypto.MemberID]*crypto.KEMKey{f.member.ID(): f.memberKEM, f.member2.ID(): f.member2KEM}
	for i, e := range a.Rekey {
		got, err := OpenRekeyEntry(keys[e.Member], a.Zone, f.secret, a.Epoch, e)
		if err != nil || got != f.next {
			t.Errorf("entry %d: OpenRekeyEntry = %x, %v", i, got, err)
		}
	}
	// Each member opens only their own entry.
	if _, err := OpenRekeyEntry(f.member2KEM, a.Zone, f.secret, a.Epoch, a.Rekey[0]); !errors.Is(err, ErrDecrypt) {
		t.Errorf("member2 opened the member's entry: %v", err)
	}
}

// The largest rekey part, signed by an organizer three certificates deep,
// seals to an envelope within MaxEnvelopeSize that every node accepts.
func TestLargestRekeyEnvelope(t *testing.T) {
	w := chainWorldOnce()
	a := newRekey()
	for len(a.Rekey) < MaxRekeyEntries {
		e := a.Rekey[len(a.Rekey)%2]
		a.Rekey = append(a.Rekey, RekeyEntry{Member: mid(byte(len(a.Rekey))), Enc: e.Enc, Sealed: e.Sealed})
	}
	s := mustSign(t, w.org2, Chain{w.org2Cert, w.orgCert, w.founderCert}, a)
	if len(s.Body) != 95+MaxRekeyEntries*RekeyEntrySize {
		t.Errorf("body is %d bytes", len(s.Body))
	}
	env := mustSeal(t, w.key, s, testReader(3))
	if len(env) > MaxEnvelopeSize {
		t.Fatalf("envelope is %d bytes, over %d", len(env), MaxEnvelopeSize)
	}
	m, err := w.validator().Validate(env, t0)
	if err != nil || m.Role != RoleOrganizer || len(m.Alert.Rekey) != MaxRekeyEntries {
		t.Fatalf("Validate: %v", err)
	}
}
