package protocol

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"lookout/crypto"
)

type alertCase struct {
	name string
	base func() *Alert
	mut  func(a *Alert)
	want error // nil: accepted
}

func sightingBase() *Alert { return newSighting() }
func calloutBase() *Alert  { return newCallout() }
func confirmBase() *Alert  { return newConfirm(refA) }
func respondBase() *Alert  { return newRespond(refA) }
func clearBase() *Alert    { return newClear(refA) }
func updateBase() *Alert   { return newCalloutUpdate(refA) }
func cosignBase() *Alert   { return newCosign(refA) }
func memberBase() *Alert   { return newMember() }
func roleBase() *Alert     { return newRole() }
func removeBase() *Alert   { return newRemove() }
func rekeyBase() *Alert    { return newRekey() }
func settingsBase() *Alert { return newSettings() }

// textFields lists every text field with the kinds that use it, a setter
// and its limit.
var textFields = []struct {
	field string
	base  func() *Alert
	set   func(a *Alert, s string)
	max   int
}{
	{"sighting.area", sightingBase, func(a *Alert, s string) { a.Area = s }, MaxPlaceLen},
	{"sighting.what", sightingBase, func(a *Alert, s string) { a.What = s }, MaxTextLen},
	{"sighting.activity", sightingBase, func(a *Alert, s string) { a.Activity = s }, MaxTextLen},
	{"sighting.uniform", sightingBase, func(a *Alert, s string) { a.Uniform = s }, MaxTextLen},
	{"sighting.equipment", sightingBase, func(a *Alert, s string) { a.Equipment = s }, MaxTextLen},
	{"callout.area", calloutBase, func(a *Alert, s string) { a.Area = s }, MaxPlaceLen},
	{"callout.title", calloutBase, func(a *Alert, s string) { a.Title = s }, MaxTitleLen},
	{"callout.when", calloutBase, func(a *Alert, s string) { a.When = s }, MaxWhenLen},
	{"callout.bring", calloutBase, func(a *Alert, s string) { a.Bring = s }, MaxTextLen},
	{"callout.rights", calloutBase, func(a *Alert, s string) { a.Rights = s }, MaxRightsLen},
	{"confirm.area", confirmBase, func(a *Alert, s string) { a.Area = s }, MaxPlaceLen},
	{"confirm.note", confirmBase, func(a *Alert, s string) { a.Note = s }, MaxTextLen},
	{"respond.area", respondBase, func(a *Alert, s string) { a.Area = s }, MaxPlaceLen},
	{"clear.area", clearBase, func(a *Alert, s string) { a.Area = s }, MaxPlaceLen},
	{"clear.note", clearBase, func(a *Alert, s string) { a.Note = s }, MaxTextLen},
	{"update.title", updateBase, func(a *Alert, s string) { a.Title = s }, MaxTitleLen},
	{"update.rights", updateBase, func(a *Alert, s string) { a.Rights = s }, MaxRightsLen},
	{"cosign.area", cosignBase, func(a *Alert, s string) { a.Area = s }, MaxPlaceLen},
	{"member.name", memberBase, func(a *Alert, s string) { a.Name = s }, MaxNameLen},
	{"remove.note", removeBase, func(a *Alert, s string) { a.Note = s }, MaxTextLen},
}

func alertCases() []alertCase {
	var cs []alertCase
	add := func(name string, base func() *Alert, mut func(a *Alert), want error) {
		cs = append(cs, alertCase{name, base, mut, want})
	}
	for _, b := range []struct {
		name string
		base func() *Alert
	}{{"sighting", sightingBase}, {"callout", calloutBase}, {"confirm", confirmBase}, {"respond", respondBase}, {"clear", clearBase},
		{"update", updateBase}, {"cosign", cosignBase}, {"member", memberBase}, {"role", roleBase}, {"remove", removeBase},
		{"rekey", rekeyBase}, {"settings", settingsBase}} {
		add(b.name+"/valid", b.base, func(*Alert) {}, nil)
		add(b.name+"/exercise", b.base, func(a *Alert) { a.Status = StatusExercise }, nil)
	}

	// Length limits: at the limit, one character over, and multi-byte text
	// counted in characters.
	for _, f := range textFields {
		set := f.set
		add(f.field+"/at limit", f.base, func(a *Alert) { set(a, strings.Repeat("a", f.max)) }, nil)
		add(f.field+"/limit+1", f.base, func(a *Alert) { set(a, strings.Repeat("a", f.max+1)) }, ErrTooLong)
		add(f.field+"/2-byte chars at limit", f.base, func(a *Alert) { set(a, strings.Repeat("é", f.max)) }, nil)
		add(f.field+"/2-byte chars over limit", f.base, func(a *Alert) { set(a, strings.Repeat("é", f.max)+"a") }, ErrTooLong)
		add(f.field+"/4-byte chars at limit", f.base, func(a *Alert) { set(a, strings.Repeat("𝄞", f.max)) }, nil)
	}

	// Required fields.
	add("sighting/missing what", sightingBase, func(a *Alert) { a.What = "" }, ErrMissing)
	add("sighting/missing area", sightingBase, func(a *Alert) { a.Area = "" }, ErrMissing)
	add("callout/missing title", calloutBase, func(a *Alert) { a.Title = "" }, ErrMissing)
	add("callout/missing area", calloutBase, func(a *Alert) { a.Area = "" }, ErrMissing)
	add("sighting/only required fields", sightingBase, func(a *Alert) {
		a.Activity, a.Uniform, a.Equipment, a.Size, a.Observed = "", "", "", 0, time.Time{}
	}, nil)
	add("confirm/empty note and area", confirmBase, func(a *Alert) { a.Note, a.Area = "", "" }, nil)
	add("sender zero", sightingBase, func(a *Alert) { a.Sender = crypto.MemberID{} }, ErrMissing)

	// Text content, checked on a required field and an optional one.
	bad := map[string]string{
		"NUL": "a\x00b", "ESC": "\x1b[2J", "CR": "a\rb", "BEL": "\a", "DEL": "a\x7fb", "C1 NEL": "a\u0085b", "C1 CSI": "\u009b",
		"LRE": "\u202a", "RLE": "\u202b", "PDF": "\u202c", "LRO": "\u202d", "RLO": "a\u202eb",
		"LRI": "\u2066", "RLI": "\u2067", "FSI": "\u2068", "PDI": "\u2069", "LINE SEP": "\u2028", "PARA SEP": "\u2029",
		"invalid byte": "a\xffb", "truncated sequence": "a\xe2\x80", "overlong": "\xc0\xaf", "surrogate": "\xed\xa0\x80",
	}
	good := map[string]string{
		"newline": "line 1\nline 2", "tab": "a\tb", "accents": "Côte-des-Neiges", "CJK": "唐人街", "Arabic": "مرحبا",
		"emoji": "🚐 x2", "NBSP": "a\u00a0b",
	}
	for name, s := range bad {
		add("what/"+name, sightingBase, func(a *Alert) { a.What = s }, ErrBadText)
		add("rights/"+name, calloutBase, func(a *Alert) { a.Rights = s }, ErrBadText)
		add("note/"+name, confirmBase, func(a *Alert) { a.Note = s }, ErrBadText)
	}
	for name, s := range good {
		add("what/"+name, sightingBase, func(a *Alert) { a.What = s }, nil)
	}

	// Enumerations.
	add("kind 0", sightingBase, func(a *Alert) { a.Kind = 0 }, ErrKind)
	add("kind 18", sightingBase, func(a *Alert) { a.Kind = 18 }, ErrKind)
	add("kind 255", sightingBase, func(a *Alert) { a.Kind = 255 }, ErrKind)
	add("status 0", sightingBase, func(a *Alert) { a.Status = 0 }, ErrEnum)
	add("status 3", sightingBase, func(a *Alert) { a.Status = 3 }, ErrEnum)
	add("urgency 0", sightingBase, func(a *Alert) { a.Urgency = 0 }, ErrEnum)
	add("urgency 6", sightingBase, func(a *Alert) { a.Urgency = 6 }, ErrEnum)
	add("urgency 5", sightingBase, func(a *Alert) { a.Urgency = UrgencyUnknown }, nil)
	add("severity 0", sightingBase, func(a *Alert) { a.Severity = 0 }, ErrEnum)
	add("severity 6", sightingBase, func(a *Alert) { a.Severity = 6 }, ErrEnum)
	add("certainty 0", sightingBase, func(a *Alert) { a.Certainty = 0 }, ErrEnum)
	add("certainty 6", sightingBase, func(a *Alert) { a.Certainty = 6 }, ErrEnum)
	add("respond/response 0", respondBase, func(a *Alert) { a.Response = 0 }, ErrEnum)
	add("respond/response 4", respondBase, func(a *Alert) { a.Response = 4 }, ErrEnum)
	add("respond/cannot", respondBase, func(a *Alert) { a.Response = ResponseCannot }, nil)
	add("clear/reason 0", clearBase, func(a *Alert) { a.Reason = 0 }, ErrEnum)
	add("clear/reason 3", clearBase, func(a *Alert) { a.Reason = 3 }, ErrEnum)
	add("clear/retracted", clearBase, func(a *Alert) { a.Reason = ClearRetracted }, nil)
	add("sighting/size at MaxCount", sightingBase, func(a *Alert) { a.Size = MaxCount }, nil)
	add("sighting/size over MaxCount", sightingBase, func(a *Alert) { a.Size = MaxCount + 1 }, ErrEnum)
	add("callout/need at MaxCount", calloutBase, func(a *Alert) { a.Need = MaxCount }, nil)
	add("callout/need over MaxCount", calloutBase, func(a *Alert) { a.Need = MaxCount + 1 }, ErrEnum)

	// References.
	add("confirm without ref", confirmBase, func(a *Alert) { a.Ref = AlertID{} }, ErrMissing)
	add("respond without ref", respondBase, func(a *Alert) { a.Ref = AlertID{} }, ErrMissing)
	add("clear without ref", clearBase, func(a *Alert) { a.Ref = AlertID{} }, ErrMissing)
	add("sighting with ref", sightingBase, func(a *Alert) { a.Ref = refA }, ErrEnum)
	// A callout with a ref is an organizer's update of that callout.
	add("callout with ref", calloutBase, func(a *Alert) { a.Ref = refA }, nil)
	add("cosign without ref", cosignBase, func(a *Alert) { a.Ref = AlertID{} }, ErrMissing)
	add("update/missing title", updateBase, func(a *Alert) { a.Title = "" }, ErrMissing)
	add("update/missing area", updateBase, func(a *Alert) { a.Area = "" }, ErrMissing)
	for _, g := range []struct {
		name string
		base func() *Alert
	}{{"member", memberBase}, {"role", roleBase}, {"remove", removeBase}, {"rekey", rekeyBase}, {"settings", settingsBase}} {
		add(g.name+" with ref", g.base, func(a *Alert) { a.Ref = refA }, ErrEnum)
		add(g.name+" with area", g.base, func(a *Alert) { a.Area = "Queen St W" }, ErrEnum)
	}

	// Governance kinds.
	addGovernanceCases(add)

	// Times.
	add("sent zero", sightingBase, func(a *Alert) { a.Sent = time.Time{} }, ErrBadTime)
	add("expires zero", sightingBase, func(a *Alert) { a.Expires = time.Time{} }, ErrBadTime)
	add("expires == sent", sightingBase, func(a *Alert) { a.Expires = a.Sent }, ErrBadTime)
	add("expires before sent", sightingBase, func(a *Alert) { a.Expires = a.Sent.Add(-time.Millisecond) }, ErrBadTime)
	add("expires 1ms after sent", sightingBase, func(a *Alert) { a.Expires = a.Sent.Add(time.Millisecond) }, nil)
	add("expires after sent within the same ms", sightingBase, func(a *Alert) {
		a.Sent = t0.Add(100 * time.Microsecond)
		a.Expires = t0.Add(900 * time.Microsecond)
	}, ErrBadTime)
	add("lifetime == MaxLifetime", sightingBase, func(a *Alert) { a.Expires = a.Sent.Add(MaxLifetime) }, nil)
	add("lifetime MaxLifetime+1ms", sightingBase, func(a *Alert) { a.Expires = a.Sent.Add(MaxLifetime + time.Millisecond) }, ErrLifetime)
	add("lifetime far too long", calloutBase, func(a *Alert) { a.Expires = a.Sent.Add(365 * 24 * time.Hour) }, ErrLifetime)
	add("sent before 1970", sightingBase, func(a *Alert) {
		a.Sent = time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC)
		a.Expires = a.Sent.Add(time.Hour)
	}, ErrBadTime)
	add("sent at the unix epoch", sightingBase, func(a *Alert) {
		a.Sent = time.Unix(0, 0)
		a.Expires = a.Sent.Add(time.Hour)
	}, ErrBadTime)
	add("sent after year 37000", sightingBase, func(a *Alert) {
		a.Sent = time.UnixMilli(maxUnixMilli + 1)
		a.Expires = a.Sent.Add(time.Hour)
	}, ErrBadTime)
	add("observed before 1970", sightingBase, func(a *Alert) { a.Observed = time.Unix(-10, 0) }, ErrBadTime)
	add("non-UTC times", sightingBase, func(a *Alert) {
		loc := time.FixedZone("EDT", -4*3600)
		a.Sent, a.Expires, a.Observed = a.Sent.In(loc), a.Expires.In(loc), a.Observed.In(loc)
	}, nil)

	// Fields a kind does not use.
	unused := []struct {
		name string
		base func() *Alert
		mut  func(a *Alert)
	}{
		{"sighting+title", sightingBase, func(a *Alert) { a.Title = "x" }},
		{"sighting+when", sightingBase, func(a *Alert) { a.When = "x" }},
		{"sighting+bring", sightingBase, func(a *Alert) { a.Bring = "x" }},
		{"sighting+rights", sightingBase, func(a *Alert) { a.Rights = "x" }},
		{"sighting+note", sightingBase, func(a *Alert) { a.Note = "x" }},
		{"sighting+need", sightingBase, func(a *Alert) { a.Need = 1 }},
		{"sighting+response", sightingBase, func(a *Alert) { a.Response = ResponseOnScene }},
		{"sighting+reason", sightingBase, func(a *Alert) { a.Reason = ClearAllClear }},
		{"callout+what", calloutBase, func(a *Alert) { a.What = "x" }},
		{"callout+activity", calloutBase, func(a *Alert) { a.Activity = "x" }},
		{"callout+uniform", calloutBase, func(a *Alert) { a.Uniform = "x" }},
		{"callout+equipment", calloutBase, func(a *Alert) { a.Equipment = "x" }},
		{"callout+size", calloutBase, func(a *Alert) { a.Size = 1 }},
		{"callout+observed", calloutBase, func(a *Alert) { a.Observed = t0 }},
		{"callout+note", calloutBase, func(a *Alert) { a.Note = "x" }},
		{"confirm+what", confirmBase, func(a *Alert) { a.What = "x" }},
		{"confirm+title", confirmBase, func(a *Alert) { a.Title = "x" }},
		{"confirm+size", confirmBase, func(a *Alert) { a.Size = 3 }},
		{"confirm+observed", confirmBase, func(a *Alert) { a.Observed = t0 }},
		{"confirm+response", confirmBase, func(a *Alert) { a.Response = ResponseEnRoute }},
		{"confirm+reason", confirmBase, func(a *Alert) { a.Reason = ClearRetracted }},
		{"respond+note", respondBase, func(a *Alert) { a.Note = "x" }},
		{"respond+reason", respondBase, func(a *Alert) { a.Reason = ClearAllClear }},
		{"respond+need", respondBase, func(a *Alert) { a.Need = 2 }},
		{"clear+response", clearBase, func(a *Alert) { a.Response = ResponseCannot }},
		{"clear+what", clearBase, func(a *Alert) { a.What = "x" }},
		{"clear+rights", clearBase, func(a *Alert) { a.Rights = "x" }},
		{"cosign+note", cosignBase, func(a *Alert) { a.Note = "x" }},
		{"cosign+title", cosignBase, func(a *Alert) { a.Title = "x" }},
		{"cosign+response", cosignBase, func(a *Alert) { a.Response = ResponseEnRoute }},
		{"sighting+name", sightingBase, func(a *Alert) { a.Name = "x" }},
		{"confirm+name", confirmBase, func(a *Alert) { a.Name = "x" }},
		{"sighting+kem", sightingBase, func(a *Alert) { a.KEM = fixtureOnce().memberKEM.PublicBytes() }},
		{"callout+cert", calloutBase, func(a *Alert) { a.Cert = bytes.Clone(fixtureOnce().grantCert.Bytes()) }},
		{"clear+subject", clearBase, func(a *Alert) { a.Subject = fixtureOnce().member.ID() }},
		{"confirm+rekey", confirmBase, func(a *Alert) { a.Rekey = newRekey().Rekey }},
		{"sighting+epoch", sightingBase, func(a *Alert) { a.Epoch = 2 }},
		{"callout+parts", calloutBase, func(a *Alert) { a.Parts = 1 }},
		{"cosign+settings", cosignBase, func(a *Alert) { a.Settings = newSettings().Settings }},
		{"member+note", memberBase, func(a *Alert) { a.Note = "x" }},
		{"member+subject", memberBase, func(a *Alert) { a.Subject = fixtureOnce().member.ID() }},
		{"member+cert", memberBase, func(a *Alert) { a.Cert = bytes.Clone(fixtureOnce().grantCert.Bytes()) }},
		{"role+name", roleBase, func(a *Alert) { a.Name = "x" }},
		{"role+kem", roleBase, func(a *Alert) { a.KEM = fixtureOnce().memberKEM.PublicBytes() }},
		{"remove+settings", removeBase, func(a *Alert) { a.Settings = newSettings().Settings }},
		{"remove+epoch", removeBase, func(a *Alert) { a.Epoch = 2 }},
		{"rekey+name", rekeyBase, func(a *Alert) { a.Name = "x" }},
		{"rekey+note", rekeyBase, func(a *Alert) { a.Note = "x" }},
		{"settings+what", settingsBase, func(a *Alert) { a.What = "x" }},
		{"settings+rekey", settingsBase, func(a *Alert) { a.Rekey = newRekey().Rekey }},
		{"settings+response", settingsBase, func(a *Alert) { a.Response = ResponseCannot }},
		{"settings+size", settingsBase, func(a *Alert) { a.Size = 1 }},
	}
	for _, u := range unused {
		add("unused/"+u.name, u.base, u.mut, ErrEnum)
	}
	return cs
}

func TestAlertValidate(t *testing.T) {
	for _, c := range alertCases() {
		t.Run(c.name, func(t *testing.T) {
			a := c.base()
			c.mut(a)
			err := a.Validate()
			if c.want == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				// Whatever validates must encode, decode to the same alert
				// (at millisecond precision) and re-encode identically.
				b, err := a.MarshalBinary()
				if err != nil {
					t.Fatalf("MarshalBinary: %v", err)
				}
				p, err := ParseAlert(b)
				if err != nil {
					t.Fatalf("ParseAlert(MarshalBinary(a)): %v", err)
				}
				if again := mustBody(t, p); !bytes.Equal(again, b) {
					t.Errorf("re-encoding differs")
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("Validate = %v, want %v", err, c.want)
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field == "" {
				t.Errorf("Validate error %v does not name a field", err)
			}
			if _, err := a.MarshalBinary(); !errors.Is(err, c.want) {
				t.Errorf("MarshalBinary = %v, want %v", err, c.want)
			}
		})
	}
}

// wireSighting encodes a sighting field by field without validating, so a
// test can put anything on the wire.
type wireAlert struct {
	version, kind                        uint8
	sent, expires                        int64
	status, urgency, severity, certainty uint8
	ref                                  AlertID
	area, what                           string
	size                                 uint16
	activity, uniform, equipment         string
	observed                             int64
	whatCode, uniformCode                uint8
	vehicles                             uint16
}

func (w wireAlert) bytes() []byte {
	f := fixtureOnce()
	o := writer{}
	o.u8(w.version)
	o.u8(w.kind)
	o.raw(testZone[:])
	id := f.member.ID()
	o.raw(id[:])
	o.i64(w.sent)
	o.i64(w.expires)
	o.u8(w.status)
	o.u8(w.urgency)
	o.u8(w.severity)
	o.u8(w.certainty)
	o.raw(w.ref[:])
	o.str(w.area)
	o.str(w.what)
	o.u16(w.size)
	o.str(w.activity)
	o.str(w.uniform)
	o.str(w.equipment)
	o.i64(w.observed)
	o.u8(w.whatCode) // quick codes (version 3)
	o.u8(w.uniformCode)
	o.u16(w.vehicles)
	o.u8(0) // no via (version 2)
	return o.b
}

func validWire() wireAlert {
	return wireAlert{
		version: Version, kind: uint8(KindSighting), sent: t0.UnixMilli(), expires: t0.Add(time.Hour).UnixMilli(),
		status: 1, urgency: 1, severity: 1, certainty: 1, area: "corner", what: "van",
	}
}

func TestParseAlertRejects(t *testing.T) {
	golden := goldenAlerts(t)
	sighting := mustBody(t, golden["alert_sighting"])
	with := func(b []byte, off int, v byte) []byte { c := bytes.Clone(b); c[off] = v; return c }
	w := func(mut func(w *wireAlert)) []byte { x := validWire(); mut(&x); return x.bytes() }

	cases := []struct {
		name string
		b    []byte
		want error
	}{
		{"wire baseline", w(func(*wireAlert) {}), nil},
		{"version 0", with(sighting, 0, 0), ErrVersion},
		{"version 2 (before quick codes)", with(sighting, 0, 2), ErrVersion},
		{"version 3 (before shared places, snapshots and invites redeemable at any member)", with(sighting, 0, 3), ErrVersion},
		{"version 5", with(sighting, 0, 5), ErrVersion},
		{"version 255", with(sighting, 0, 255), ErrVersion},
		{"kind 0", with(sighting, 1, 0), ErrKind},
		{"kind 18", with(sighting, 1, 18), ErrKind},
		{"kind 255", with(sighting, 1, 255), ErrKind},
		{"trailing zero", append(bytes.Clone(sighting), 0), ErrTrailing},
		{"trailing bytes", append(bytes.Clone(sighting), "junk"...), ErrTrailing},
		{"empty", nil, ErrTruncated},
		{"too large", make([]byte, MaxBodySize+1), ErrTooLarge},
		{"status 0", with(sighting, 66, 0), ErrEnum},
		{"certainty 9", with(sighting, 69, 9), ErrEnum},
		{"sighting with ref", with(sighting, 70, 1), ErrEnum},
		{"negative sent", w(func(x *wireAlert) { x.sent = -1 }), ErrBadTime},
		{"sent 0", w(func(x *wireAlert) { x.sent = 0 }), ErrBadTime},
		{"sent beyond range", w(func(x *wireAlert) { x.sent = maxUnixMilli + 1 }), ErrBadTime},
		{"observed negative", w(func(x *wireAlert) { x.observed = -5 }), ErrBadTime},
		{"expires == sent", w(func(x *wireAlert) { x.expires = x.sent }), ErrBadTime},
		{"lifetime too long", w(func(x *wireAlert) { x.expires = x.sent + MaxLifetime.Milliseconds() + 1 }), ErrLifetime},
		{"area too long on the wire", w(func(x *wireAlert) { x.area = strings.Repeat("a", MaxPlaceLen+1) }), ErrTooLong},
		{"what too long on the wire", w(func(x *wireAlert) { x.what = strings.Repeat("a", MaxTextLen+1) }), ErrTooLong},
		{"what missing on the wire", w(func(x *wireAlert) { x.what = "" }), ErrMissing},
		{"escape in area", w(func(x *wireAlert) { x.area = "\x1b]0;pwned\a" }), ErrBadText},
		{"RLO in what", w(func(x *wireAlert) { x.what = "nav \u202eevil" }), ErrBadText},
		{"invalid UTF-8 in uniform", w(func(x *wireAlert) { x.uniform = "\xfe" }), ErrBadText},
		{"size over MaxCount", w(func(x *wireAlert) { x.size = MaxCount + 1 }), ErrEnum},
		{"size 0xffff", w(func(x *wireAlert) { x.size = 0xffff }), ErrEnum},
		{"quick codes only", w(func(x *wireAlert) { x.what, x.whatCode, x.uniformCode, x.vehicles = "", 1, 2, 3 }), nil},
		{"what code 6", w(func(x *wireAlert) { x.whatCode = 6 }), ErrEnum},
		{"what code 255", w(func(x *wireAlert) { x.whatCode = 255 }), ErrEnum},
		{"uniform code 3", w(func(x *wireAlert) { x.uniformCode = 3 }), ErrEnum},
		{"vehicles over MaxVehicles", w(func(x *wireAlert) { x.vehicles = MaxVehicles + 1 }), ErrEnum},
		{"no what and no what code", w(func(x *wireAlert) { x.what, x.uniformCode, x.vehicles = "", 1, 2 }), ErrMissing},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := ParseAlert(c.b)
			if c.want == nil {
				if err != nil {
					t.Fatalf("ParseAlert: %v", err)
				}
				if again := mustBody(t, a); !bytes.Equal(again, c.b) {
					t.Errorf("re-encoding differs")
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("ParseAlert = %v, want %v", err, c.want)
			}
			if a != nil {
				t.Errorf("ParseAlert returned an alert with an error")
			}
		})
	}

	// Every proper prefix of every golden body is truncated.
	for name, a := range golden {
		b := mustBody(t, a)
		for i := 0; i < len(b); i++ {
			if _, err := ParseAlert(b[:i]); !errors.Is(err, ErrTruncated) {
				t.Errorf("%s truncated to %d of %d bytes: %v, want ErrTruncated", name, i, len(b), err)
			}
		}
	}
}

func TestKindAndEnumStrings(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{KindSighting.String(), "sighting"}, {KindCallout.String(), "callout"}, {KindConfirm.String(), "confirm"},
		{KindRespond.String(), "respond"}, {KindClear.String(), "clear"}, {KindCosign.String(), "cosign"},
		{KindMember.String(), "member"}, {KindRole.String(), "role"}, {KindRemove.String(), "remove"}, {KindRekey.String(), "rekey"},
		{KindSettings.String(), "settings"}, {Kind(18).String(), "kind(18)"}, {KindSnapshot.String(), "snapshot"}, {KindCards.String(), "cards"}, {KindPlace.String(), "place"}, {Kind(0).String(), "kind(0)"},
		{ResponseEnRoute.String(), "enroute"}, {ResponseOnScene.String(), "onscene"}, {ResponseCannot.String(), "cannot"},
		{ClearAllClear.String(), "allclear"}, {ClearRetracted.String(), "retracted"}, {ClearReason(7).String(), ""},
		{RoleMember.String(), "member"}, {RoleVerifier.String(), "verifier"}, {RoleOrganizer.String(), "organizer"}, {Role(0).String(), "role(0)"},
	} {
		if c.got != c.want {
			t.Errorf("String() = %q, want %q", c.got, c.want)
		}
	}
	for _, s := range []string{"enroute", "onscene", "cannot"} {
		r, err := ParseResponse(s)
		if err != nil || r.String() != s {
			t.Errorf("ParseResponse(%q) = %v, %v", s, r, err)
		}
	}
	if _, err := ParseResponse("maybe"); !errors.Is(err, ErrEnum) {
		t.Errorf("ParseResponse(maybe) = %v, want ErrEnum", err)
	}
	for _, s := range []string{"member", "verifier", "organizer"} {
		r, err := ParseRole(s)
		if err != nil || r.String() != s {
			t.Errorf("ParseRole(%q) = %v, %v", s, r, err)
		}
	}
	if _, err := ParseRole("admin"); !errors.Is(err, ErrEnum) {
		t.Errorf("ParseRole(admin) = %v, want ErrEnum", err)
	}
}

func TestIDs(t *testing.T) {
	body := mustBody(t, newSighting())
	id := ComputeAlertID(body)
	if id.IsZero() {
		t.Fatal("zero alert ID")
	}
	got, err := ParseAlertID(id.String())
	if err != nil || got != id {
		t.Errorf("ParseAlertID(String()) = %v, %v", got, err)
	}
	z, err := ParseZoneID(testZone.String())
	if err != nil || z != testZone {
		t.Errorf("ParseZoneID(String()) = %v, %v", z, err)
	}
	for _, s := range []string{"", "00", strings.Repeat("g", 32), strings.Repeat("0", 31), strings.Repeat("0", 33)} {
		if _, err := ParseAlertID(s); err == nil {
			t.Errorf("ParseAlertID(%q) accepted", s)
		}
		if _, err := ParseZoneID(s); err == nil {
			t.Errorf("ParseZoneID(%q) accepted", s)
		}
	}
	// The ID is SHA-256("lookout alert id v1" || body), truncated.
	if h := sha256.Sum256(append([]byte("lookout alert id v1"), body...)); !bytes.Equal(h[:AlertIDSize], id[:]) {
		t.Errorf("ComputeAlertID is not SHA-256(label || body)[:16]")
	}
	if id.String() != fmt.Sprintf("%x", id[:]) {
		t.Errorf("AlertID.String = %q", id.String())
	}
	var be [8]byte
	binary.BigEndian.PutUint64(be[:], uint64(t0.UnixMilli()))
	if !bytes.Equal(body[50:58], be[:]) {
		t.Errorf("sent is not big-endian unix ms at offset 50")
	}
}
