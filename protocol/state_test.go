package protocol

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"lookout/crypto"
)

// Members for Fold tests. Fold looks only at sender IDs and roles, so the
// IDs need not belong to real keys.
func mid(b byte) crypto.MemberID { return crypto.MemberID{0xf0, b} }

var (
	reporter = mid(1)
	alice    = mid(2)
	bob      = mid(3)
	carol    = mid(4)
	vera     = mid(5) // verifier
	olga     = mid(6) // organizer
	otto     = mid(7) // another organizer
	dave     = mid(8)
	mallory  = mid(9)  // removed in some tests
	oscar    = mid(10) // a third organizer
)

func at(d time.Duration) time.Time { return t0.Add(d) }

const (
	placeA  = "Queen St W & Dunn Ave"
	placeA2 = "queen st. w / dunn ave" // the same place, written differently
	placeB  = "Bloor & Lansdowne"
)

type stateFixture struct {
	t        testing.TB
	sighting *Message // by reporter (member), placeA, sent t0, expires t0+4h
	callout  *Message // by olga (organizer), sent t0, expires t0+12h
}

func newStateFixture(t testing.TB, reporterRole Role) *stateFixture {
	s := newSighting()
	s.Sender = reporter
	c := newCallout()
	c.Sender, c.Sent, c.Expires = olga, t0, t0.Add(DefaultCalloutTTL)
	return &stateFixture{t: t, sighting: msg(t, s, reporterRole), callout: msg(t, c, RoleOrganizer)}
}

// report is a sighting of area by from, sent at sent, expiring 4 hours later.
func (f *stateFixture) report(from crypto.MemberID, role Role, area string, sent time.Time) *Message {
	return f.reportWith(from, role, area, sent, nil)
}

func (f *stateFixture) reportWith(from crypto.MemberID, role Role, area string, sent time.Time, mut func(a *Alert)) *Message {
	a := newSighting()
	a.Sender, a.Area, a.Sent, a.Expires, a.Observed = from, area, sent, sent.Add(DefaultSightingTTL), sent.Add(-time.Minute)
	if mut != nil {
		mut(a)
	}
	return msg(f.t, a, role)
}

func (f *stateFixture) update(a *Alert, from crypto.MemberID, role Role, sent time.Time) *Message {
	a.Sender, a.Sent, a.Expires = from, sent, sent.Add(DefaultUpdateTTL)
	return msg(f.t, a, role)
}

func (f *stateFixture) confirm(root *Message, from crypto.MemberID, role Role, sent time.Time) *Message {
	return f.update(newConfirm(root.ID), from, role, sent)
}

func (f *stateFixture) respond(root *Message, from crypto.MemberID, r Response, sent time.Time) *Message {
	a := newRespond(root.ID)
	a.Response = r
	return f.update(a, from, RoleMember, sent)
}

func (f *stateFixture) clear(root *Message, from crypto.MemberID, role Role, reason ClearReason, sent time.Time) *Message {
	a := newClear(root.ID)
	a.Reason = reason
	return f.update(a, from, role, sent)
}

func (f *stateFixture) cosign(root *Message, from crypto.MemberID, role Role, sent time.Time) *Message {
	return f.update(newCosign(root.ID), from, role, sent)
}

// calloutUpdate is an update of root with the given title, expiring
// lifetime after it is sent.
func (f *stateFixture) calloutUpdate(root *Message, from crypto.MemberID, role Role, sent time.Time, title string, lifetime time.Duration) *Message {
	a := newCalloutUpdate(root.ID)
	a.Sender, a.Sent, a.Expires, a.Title = from, sent, sent.Add(lifetime), title
	return msg(f.t, a, role)
}

func removedSet(ms ...crypto.MemberID) func(crypto.MemberID) bool {
	if len(ms) == 0 {
		return nil
	}
	return func(m crypto.MemberID) bool { return slices.Contains(ms, m) }
}

func ids(ms []crypto.MemberID) map[crypto.MemberID]bool {
	out := map[crypto.MemberID]bool{}
	for _, m := range ms {
		out[m] = true
	}
	return out
}

func alertIDs(ms ...*Message) []AlertID {
	var out []AlertID
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

func members(ms ...crypto.MemberID) []crypto.MemberID { return ms }

func TestSettings(t *testing.T) {
	d := DefaultSettings()
	if d != (Settings{Corroborations: 2, CorroborationWindow: 20 * time.Minute, Expiry: 4 * time.Hour, Cosign: false, MaxReports: 10, MaxConfirms: 30}) {
		t.Errorf("DefaultSettings = %+v", d)
	}
	if RateWindow != 10*time.Minute || IncidentWindow != 15*time.Minute {
		t.Errorf("RateWindow %s, IncidentWindow %s", RateWindow, IncidentWindow)
	}
	for _, c := range []struct {
		name  string
		s     Settings
		valid bool
	}{
		{"defaults", d, true},
		{"cosign, limits at the maximum", Settings{MaxQuorum, 24 * time.Hour, MaxLifetime, true, MaxRateLimit, MaxRateLimit, AutoShareNone}, true},
		{"minimums", Settings{1, time.Minute, 10 * time.Minute, false, 1, 1, AutoShareNone}, true},
		{"zero", Settings{}, false},
		{"quorum 256 does not wrap to 0", Settings{256, time.Minute, time.Hour, false, 1, 1, AutoShareNone}, false},
		{"quorum 257 does not wrap to 1", Settings{257, time.Minute, time.Hour, false, 1, 1, AutoShareNone}, false},
		{"negative quorum", Settings{-1, time.Minute, time.Hour, false, 1, 1, AutoShareNone}, false},
		{"reports 65537 does not wrap to 1", Settings{2, time.Minute, time.Hour, false, 65537, 1, AutoShareNone}, false},
		{"window not whole seconds", Settings{2, time.Minute + time.Millisecond, time.Hour, false, 1, 1, AutoShareNone}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			z := c.s.Wire()
			err := z.validate()
			if (err == nil) != c.valid {
				t.Fatalf("Wire().validate() = %v, want valid %v", err, c.valid)
			}
			if c.valid {
				if back := SettingsFromWire(z); back != c.s {
					t.Errorf("SettingsFromWire(Wire()) = %+v, want %+v", back, c.s)
				}
			} else if !errorsIsEnum(err) {
				t.Errorf("error %v does not wrap ErrEnum", err)
			}
		})
	}
	// The golden settings message carries what SettingsFromWire reads.
	got := SettingsFromWire(newSettings().Settings)
	if got != (Settings{3, 15 * time.Minute, 2 * time.Hour, true, 5, 20, AutoShareNone}) {
		t.Errorf("SettingsFromWire(golden) = %+v", got)
	}
	// Zero fields of Settings mean the defaults.
	if (Settings{}).withDefaults() != d || (Settings{Corroborations: 3}).withDefaults().Corroborations != 3 {
		t.Errorf("withDefaults")
	}
}

func TestFoldSighting(t *testing.T) {
	f := newStateFixture(t, RoleMember)
	root := f.sighting
	retractByReporter := f.clear(root, reporter, RoleMember, ClearRetracted, at(30*time.Minute))
	allClearByVera := f.clear(root, vera, RoleVerifier, ClearAllClear, at(40*time.Minute))
	earlierAllClear := f.clear(root, olga, RoleOrganizer, ClearAllClear, at(35*time.Minute))
	otherZone := newConfirm(root.ID)
	otherZone.Zone = ZoneID{9}
	wrongRef := f.confirm(f.callout, alice, RoleMember, at(time.Minute))
	veraConfirm := f.confirm(root, vera, RoleVerifier, at(time.Minute))
	veraAsMember := *veraConfirm
	veraAsMember.Role = RoleMember // the same alert, seen under a member certificate

	cases := []struct {
		name       string
		settings   Settings
		updates    []*Message
		removed    []crypto.MemberID
		now        time.Time
		state      State
		confirmers []crypto.MemberID // reporter first, then in order
		verifiedBy []crypto.MemberID
		clear      *Message
	}{
		{name: "no updates", state: StateUnconfirmed, confirmers: members(reporter)},
		{name: "second member within window", updates: []*Message{f.confirm(root, alice, RoleMember, at(3*time.Minute))},
			state: StateCorroborated, confirmers: members(reporter, alice)},
		{name: "confirm at the window's end counts", updates: []*Message{f.confirm(root, alice, RoleMember, at(20*time.Minute))},
			state: StateCorroborated, confirmers: members(reporter, alice)},
		{name: "confirm 1ms after the window does not corroborate", updates: []*Message{f.confirm(root, alice, RoleMember, at(20*time.Minute+time.Millisecond))},
			state: StateUnconfirmed, confirmers: members(reporter, alice)},
		{name: "late and early confirm by one member: the early one counts", updates: []*Message{
			f.confirm(root, alice, RoleMember, at(50*time.Minute)), f.confirm(root, alice, RoleMember, at(5*time.Minute))},
			state: StateCorroborated, confirmers: members(reporter, alice)},
		{name: "reporter's own confirm counts once", updates: []*Message{
			f.confirm(root, reporter, RoleMember, at(time.Minute)), f.confirm(root, reporter, RoleMember, at(2*time.Minute))},
			state: StateUnconfirmed, confirmers: members(reporter)},
		{name: "same member three times, k=3", settings: Settings{Corroborations: 3}, updates: []*Message{
			f.confirm(root, alice, RoleMember, at(time.Minute)), f.confirm(root, alice, RoleMember, at(2*time.Minute)), f.confirm(root, alice, RoleMember, at(3*time.Minute))},
			state: StateUnconfirmed, confirmers: members(reporter, alice)},
		{name: "two distinct members, k=3", settings: Settings{Corroborations: 3}, updates: []*Message{
			f.confirm(root, alice, RoleMember, at(time.Minute)), f.confirm(root, alice, RoleMember, at(2*time.Minute)), f.confirm(root, bob, RoleMember, at(4*time.Minute))},
			state: StateCorroborated, confirmers: members(reporter, alice, bob)},
		{name: "k=1: the report alone corroborates", settings: Settings{Corroborations: 1}, state: StateCorroborated, confirmers: members(reporter)},
		{name: "confirmers in (sent, ID) order", updates: []*Message{
			f.confirm(root, carol, RoleMember, at(9*time.Minute)), f.confirm(root, bob, RoleMember, at(2*time.Minute)), f.confirm(root, alice, RoleMember, at(5*time.Minute))},
			state: StateCorroborated, confirmers: members(reporter, bob, alice, carol)},
		{name: "confirm before the sighting ignored", updates: []*Message{f.confirm(root, alice, RoleMember, at(-time.Millisecond))},
			state: StateUnconfirmed, confirmers: members(reporter)},
		{name: "confirm at the sighting's ms counts", updates: []*Message{f.confirm(root, alice, RoleMember, t0)},
			state: StateCorroborated, confirmers: members(reporter, alice)},
		{name: "confirm after the sighting expired ignored", updates: []*Message{f.confirm(root, alice, RoleMember, root.Alert.Expires)},
			state: StateUnconfirmed, confirmers: members(reporter)},
		{name: "confirm of another alert ignored", updates: []*Message{wrongRef},
			state: StateUnconfirmed, confirmers: members(reporter)},
		{name: "confirm from another zone ignored", updates: []*Message{f.update(otherZone, alice, RoleMember, at(time.Minute))},
			state: StateUnconfirmed, confirmers: members(reporter)},
		{name: "exercise confirm of a real sighting ignored", updates: []*Message{func() *Message {
			a := newConfirm(root.ID)
			a.Status = StatusExercise
			return f.update(a, alice, RoleMember, at(time.Minute))
		}()}, state: StateUnconfirmed, confirmers: members(reporter)},
		{name: "respond to a sighting ignored", updates: []*Message{f.respond(root, alice, ResponseEnRoute, at(time.Minute))},
			state: StateUnconfirmed, confirmers: members(reporter)},
		{name: "cosign of a sighting ignored", updates: []*Message{f.cosign(root, otto, RoleOrganizer, at(time.Minute))},
			state: StateUnconfirmed, confirmers: members(reporter)},
		{name: "verified by a verifier", updates: []*Message{veraConfirm},
			state: StateVerified, confirmers: members(reporter, vera), verifiedBy: members(vera)},
		{name: "verified by an organizer outside the window", updates: []*Message{f.confirm(root, olga, RoleOrganizer, at(2*time.Hour))},
			state: StateVerified, confirmers: members(reporter, olga), verifiedBy: members(olga)},
		{name: "verified beats corroborated", updates: []*Message{f.confirm(root, alice, RoleMember, at(time.Minute)), f.confirm(root, vera, RoleVerifier, at(2*time.Minute))},
			state: StateVerified, confirmers: members(reporter, alice, vera), verifiedBy: members(vera)},
		{name: "verified by two, each once", updates: []*Message{f.confirm(root, olga, RoleOrganizer, at(3*time.Minute)), veraConfirm, f.confirm(root, vera, RoleVerifier, at(4*time.Minute))},
			state: StateVerified, confirmers: members(reporter, vera, olga), verifiedBy: members(vera, olga)},
		// The same alert can arrive under two certificates of its sender;
		// the lower role counts, whatever the order.
		{name: "one confirm seen as verifier and member: member", updates: []*Message{veraConfirm, &veraAsMember},
			state: StateCorroborated, confirmers: members(reporter, vera)},
		{name: "one confirm seen as member and verifier: member", updates: []*Message{&veraAsMember, veraConfirm},
			state: StateCorroborated, confirmers: members(reporter, vera)},
		{name: "retraction by reporter", updates: []*Message{retractByReporter},
			state: StateCleared, confirmers: members(reporter), clear: retractByReporter},
		{name: "retraction by reporter of a witnessed sighting: it stands on the witness", updates: []*Message{f.confirm(root, alice, RoleMember, at(time.Minute)), retractByReporter},
			state: StateUnconfirmed, confirmers: members(alice)},
		{name: "retraction by reporter of a verified sighting: still verified", updates: []*Message{veraConfirm, retractByReporter},
			state: StateVerified, confirmers: members(vera), verifiedBy: members(vera)},
		{name: "retraction by another member ignored", updates: []*Message{f.clear(root, alice, RoleMember, ClearRetracted, at(time.Minute))},
			state: StateUnconfirmed, confirmers: members(reporter)},
		{name: "retraction by a verifier who did not send it ignored", updates: []*Message{f.clear(root, vera, RoleVerifier, ClearRetracted, at(time.Minute))},
			state: StateUnconfirmed, confirmers: members(reporter)},
		{name: "all clear by a member ignored", updates: []*Message{f.clear(root, alice, RoleMember, ClearAllClear, at(time.Minute))},
			state: StateUnconfirmed, confirmers: members(reporter)},
		{name: "all clear by a verifier", updates: []*Message{allClearByVera},
			state: StateCleared, confirmers: members(reporter), clear: allClearByVera},
		{name: "earliest clear wins", updates: []*Message{allClearByVera, earlierAllClear},
			state: StateCleared, confirmers: members(reporter), clear: earlierAllClear},
		{name: "confirms at or after the clear do not count", updates: []*Message{
			allClearByVera, f.confirm(root, vera, RoleVerifier, at(41*time.Minute)), f.confirm(root, alice, RoleMember, at(40*time.Minute))},
			state: StateCleared, confirmers: members(reporter), clear: allClearByVera},
		{name: "expired", now: root.Alert.Expires, updates: []*Message{f.confirm(root, alice, RoleMember, at(time.Minute))},
			state: StateExpired, confirmers: members(reporter, alice)},
		{name: "verified, then expired", now: root.Alert.Expires.Add(time.Hour), updates: []*Message{veraConfirm},
			state: StateExpired, confirmers: members(reporter, vera), verifiedBy: members(vera)},
		{name: "cleared beats expired", now: root.Alert.Expires, updates: []*Message{allClearByVera},
			state: StateCleared, confirmers: members(reporter), clear: allClearByVera},
		{name: "1ms before expiry", now: root.Alert.Expires.Add(-time.Millisecond), state: StateUnconfirmed, confirmers: members(reporter)},

		// Removed members: nothing they sent counts.
		{name: "confirm by a removed member ignored", removed: members(alice), updates: []*Message{f.confirm(root, alice, RoleMember, at(time.Minute))},
			state: StateUnconfirmed, confirmers: members(reporter)},
		{name: "confirm by a removed verifier ignored", removed: members(vera), updates: []*Message{veraConfirm},
			state: StateUnconfirmed, confirmers: members(reporter)},
		{name: "all clear by a removed verifier ignored", removed: members(vera), updates: []*Message{allClearByVera},
			state: StateUnconfirmed, confirmers: members(reporter)},
		{name: "others still count", removed: members(mallory), updates: []*Message{f.confirm(root, mallory, RoleMember, at(time.Minute)), f.confirm(root, alice, RoleMember, at(2*time.Minute))},
			state: StateCorroborated, confirmers: members(reporter, alice)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			now := c.now
			if now.IsZero() {
				now = at(time.Hour)
			}
			v := Fold([]*Message{root}, c.updates, c.settings, removedSet(c.removed...), now)
			if v.Root != root || v.Current != root.Alert || v.Incident != root.ID || !slices.Equal(v.Sightings, alertIDs(root)) {
				t.Errorf("root %v, current %v, incident %v, sightings %v", v.Root != nil, v.Current != nil, v.Incident, v.Sightings)
			}
			if v.State != c.state || v.Verified != (len(c.verifiedBy) > 0) || !slices.Equal(v.Confirmers, c.confirmers) ||
				!slices.Equal(v.VerifiedBy, c.verifiedBy) || v.Clear != c.clear {
				t.Errorf("Fold = state %s verified %v by %d confirmers %d clear %v; want %s by %d, %d, %v",
					v.State, v.Verified, len(v.VerifiedBy), len(v.Confirmers), v.Clear != nil, c.state, len(c.verifiedBy), len(c.confirmers), c.clear != nil)
			}
			// The sighting's own expiry (4 hours) comes first: every
			// confirm here is less than that after the sighting.
			if !v.Expires.Equal(root.Alert.Expires) {
				t.Errorf("Expires %s, want %s", v.Expires, root.Alert.Expires)
			}
			if v.Responses != nil || v.Cosigners != nil {
				t.Errorf("a sighting has responses or cosigners")
			}
		})
	}
}

func TestFoldNothingToShow(t *testing.T) {
	f := newStateFixture(t, RoleMember)
	for _, c := range []struct {
		name    string
		roots   []*Message
		removed func(crypto.MemberID) bool
	}{
		{"no roots", nil, nil},
		{"only updates", []*Message{f.confirm(f.sighting, alice, RoleMember, at(time.Minute))}, nil},
		{"nil message", []*Message{nil}, nil},
		{"reporter removed", []*Message{f.sighting}, removedSet(reporter)},
		{"callout's organizer removed", []*Message{f.callout}, removedSet(olga)},
		{"governance message", []*Message{msg(t, newMember(), RoleMember)}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := Fold(c.roots, []*Message{f.confirm(f.sighting, alice, RoleMember, at(time.Minute))}, DefaultSettings(), c.removed, at(time.Hour))
			if v.Root != nil || v.State != "" || v.Current != nil {
				t.Errorf("Fold = %+v, want the zero View", v)
			}
		})
	}
}

// The reporter's own confirm never verifies, even if the reporter is a
// verifier.
func TestFoldReporterVerifier(t *testing.T) {
	f := newStateFixture(t, RoleVerifier)
	a := newSighting()
	a.Sender = vera
	root := msg(t, a, RoleVerifier)
	for _, c := range []struct {
		name    string
		updates []*Message
		state   State
	}{
		{"own confirm", []*Message{f.confirm(root, vera, RoleVerifier, at(time.Minute))}, StateUnconfirmed},
		{"another verifier", []*Message{f.confirm(root, vera, RoleVerifier, at(time.Minute)), f.confirm(root, otto, RoleOrganizer, at(2*time.Minute))}, StateVerified},
		{"own all clear", []*Message{f.clear(root, vera, RoleVerifier, ClearAllClear, at(time.Minute))}, StateCleared},
	} {
		t.Run(c.name, func(t *testing.T) {
			if v := Fold([]*Message{root}, c.updates, DefaultSettings(), nil, at(time.Hour)); v.State != c.state {
				t.Errorf("state %s, want %s", v.State, c.state)
			}
		})
	}
}

// TestFoldExpiry: a sighting expires Settings.Expiry after its last
// counted report or confirm, and never after the latest Alert.Expires of
// its sightings. Nothing sent once it has expired counts, so it cannot be
// revived.
func TestFoldExpiry(t *testing.T) {
	f := newStateFixture(t, RoleMember)
	// A sighting its sender gave 24 hours.
	long := f.reportWith(reporter, RoleMember, placeA, t0, func(a *Alert) { a.Expires = at(24 * time.Hour) })
	h := time.Hour
	cases := []struct {
		name     string
		settings Settings
		roots    []*Message
		updates  []*Message
		now      time.Time
		expires  time.Time
		state    State
		nConf    int
	}{
		{name: "no activity: 4h after the report", roots: []*Message{long}, now: at(4*h - time.Millisecond), expires: at(4 * h), state: StateUnconfirmed, nConf: 1},
		{name: "expired at 4h", roots: []*Message{long}, now: at(4 * h), expires: at(4 * h), state: StateExpired, nConf: 1},
		{name: "zone expiry 10 minutes", settings: Settings{Expiry: 10 * time.Minute}, roots: []*Message{long}, now: at(10 * time.Minute), expires: at(10 * time.Minute), state: StateExpired, nConf: 1},
		{name: "a confirm at 3h extends to 7h", roots: []*Message{long}, updates: []*Message{f.confirm(long, alice, RoleMember, at(3*h))},
			now: at(5 * h), expires: at(7 * h), state: StateUnconfirmed, nConf: 2},
		{name: "a confirm at the expiry does not count or revive", roots: []*Message{long}, updates: []*Message{f.confirm(long, alice, RoleMember, at(4*h))},
			now: at(5 * h), expires: at(4 * h), state: StateExpired, nConf: 1},
		{name: "chained confirms", roots: []*Message{long}, updates: []*Message{
			f.confirm(long, alice, RoleMember, at(3*h)), f.confirm(long, bob, RoleMember, at(7*h-time.Millisecond)), f.confirm(long, carol, RoleMember, at(11*h))},
			now: at(11 * h), expires: at(11*h - time.Millisecond), state: StateExpired, nConf: 3},
		{name: "capped by the sighting's own expiry", roots: []*Message{long}, updates: []*Message{
			f.confirm(long, alice, RoleMember, at(3*h)), f.confirm(long, bob, RoleMember, at(6*h)), f.confirm(long, carol, RoleMember, at(9*h)),
			f.confirm(long, dave, RoleMember, at(12*h)), f.confirm(long, vera, RoleVerifier, at(15*h)), f.confirm(long, olga, RoleOrganizer, at(18*h)),
			f.confirm(long, otto, RoleOrganizer, at(21*h))},
			now: at(23 * h), expires: at(24 * h), state: StateVerified, nConf: 8},
		{name: "an all clear after the expiry does not count", roots: []*Message{long}, updates: []*Message{f.clear(long, vera, RoleVerifier, ClearAllClear, at(5*h))},
			now: at(6 * h), expires: at(4 * h), state: StateExpired, nConf: 1},
		{name: "a later report of the incident extends it", roots: []*Message{long, f.report(alice, RoleMember, placeA, at(10*time.Minute))},
			now: at(4 * h), expires: at(4*h + 10*time.Minute), state: StateCorroborated, nConf: 2},
		{name: "a report after the expiry is not part of the incident", roots: []*Message{f.sighting, f.report(alice, RoleMember, placeA, at(4*h))},
			now: at(4 * h), expires: at(4 * h), state: StateExpired, nConf: 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := Fold(c.roots, c.updates, c.settings, nil, c.now)
			if !v.Expires.Equal(c.expires) || v.State != c.state || len(v.Confirmers) != c.nConf {
				t.Errorf("Fold = expires %s state %s confirmers %d; want %s %s %d", v.Expires.Sub(t0), v.State, len(v.Confirmers), c.expires.Sub(t0), c.state, c.nConf)
			}
		})
	}
}

// TestFoldIncident: several reports of one place are one incident.
func TestFoldIncident(t *testing.T) {
	f := newStateFixture(t, RoleMember)
	m := time.Minute
	s1 := f.sighting                                       // reporter, t0
	s1b := f.report(reporter, RoleMember, placeA, at(4*m)) // the same reporter again, before alice (no tie on sent)
	s2 := f.report(alice, RoleMember, placeA2, at(5*m))
	s3 := f.report(bob, RoleMember, placeA, at(10*m))
	s2x := f.reportWith(alice, RoleMember, placeA, at(5*m), func(a *Alert) { a.Status = StatusExercise })
	s2v := f.report(vera, RoleVerifier, placeA, at(5*m))
	late := f.report(carol, RoleMember, placeA, at(12*m))
	other := f.report(dave, RoleMember, placeB, at(2*m)) // not in the roots
	retract1 := f.clear(s1, reporter, RoleMember, ClearRetracted, at(8*m))
	retract2 := f.clear(s2, alice, RoleMember, ClearRetracted, at(9*m))
	allClear2 := f.clear(s2, vera, RoleVerifier, ClearAllClear, at(7*m))
	allClear1 := f.clear(s1, olga, RoleOrganizer, ClearAllClear, at(7*m))

	cases := []struct {
		name       string
		roots      []*Message
		updates    []*Message
		settings   Settings
		removed    []crypto.MemberID
		state      State
		root       *Message
		incident   *Message
		sightings  []*Message
		confirmers []crypto.MemberID
		verifiedBy []crypto.MemberID
		clear      *Message
	}{
		{name: "two reporters corroborate", roots: []*Message{s1, s2},
			state: StateCorroborated, root: s1, incident: s1, sightings: []*Message{s1, s2}, confirmers: members(reporter, alice)},
		{name: "roots in any order, duplicated", roots: []*Message{s2, s1, s2, s1},
			state: StateCorroborated, root: s1, incident: s1, sightings: []*Message{s1, s2}, confirmers: members(reporter, alice)},
		{name: "one reporter twice counts once", roots: []*Message{s1b, s1},
			state: StateUnconfirmed, root: s1, incident: s1, sightings: []*Message{s1, s1b}, confirmers: members(reporter)},
		{name: "a report outside the window does not corroborate", roots: []*Message{s1, s2}, settings: Settings{CorroborationWindow: 4 * m},
			state: StateUnconfirmed, root: s1, incident: s1, sightings: []*Message{s1, s2}, confirmers: members(reporter, alice)},
		{name: "a confirm of a non-primary sighting counts", roots: []*Message{s1, s2}, settings: Settings{Corroborations: 3},
			updates: []*Message{f.confirm(s2, carol, RoleMember, at(6*m))},
			state:   StateCorroborated, root: s1, incident: s1, sightings: []*Message{s1, s2}, confirmers: members(reporter, alice, carol)},
		{name: "witnesses in order of first report or confirm", roots: []*Message{s3, s1, s2},
			updates: []*Message{f.confirm(s1, carol, RoleMember, at(2*m)), f.confirm(s2, dave, RoleMember, at(7*m)), f.confirm(s1, bob, RoleMember, at(3*m))},
			state:   StateCorroborated, root: s1, incident: s1, sightings: []*Message{s1, s2, s3}, confirmers: members(reporter, carol, bob, alice, dave)},
		{name: "a verifier confirms a non-primary sighting", roots: []*Message{s1, s2}, updates: []*Message{f.confirm(s2, vera, RoleVerifier, at(20*m))},
			state: StateVerified, root: s1, incident: s1, sightings: []*Message{s1, s2}, confirmers: members(reporter, alice, vera), verifiedBy: members(vera)},
		{name: "a verifier's report alone does not verify", roots: []*Message{s1, s2v},
			state: StateCorroborated, root: s1, incident: s1, sightings: []*Message{s1, s2v}, confirmers: members(reporter, vera)},
		{name: "a verifier who reported verifies by confirming", roots: []*Message{s1, s2v}, updates: []*Message{f.confirm(s1, vera, RoleVerifier, at(6*m))},
			state: StateVerified, root: s1, incident: s1, sightings: []*Message{s1, s2v}, confirmers: members(reporter, vera), verifiedBy: members(vera)},
		{name: "a confirm of a sighting outside the incident ignored", roots: []*Message{s1}, updates: []*Message{f.confirm(other, alice, RoleMember, at(3*m))},
			state: StateUnconfirmed, root: s1, incident: s1, sightings: []*Message{s1}, confirmers: members(reporter)},

		// Retractions withdraw one report.
		{name: "retracting a non-primary report: no longer a witness", roots: []*Message{s1, s2}, updates: []*Message{retract2},
			state: StateUnconfirmed, root: s1, incident: s1, sightings: []*Message{s1, s2}, confirmers: members(reporter)},
		{name: "a witness who retracted a report but confirmed still counts", roots: []*Message{s1, s2},
			updates: []*Message{retract2, f.confirm(s1, alice, RoleMember, at(10*m))},
			state:   StateCorroborated, root: s1, incident: s1, sightings: []*Message{s1, s2}, confirmers: members(reporter, alice)},
		{name: "retraction of another's report ignored", roots: []*Message{s1, s2}, updates: []*Message{f.clear(s2, reporter, RoleMember, ClearRetracted, at(8*m))},
			state: StateCorroborated, root: s1, incident: s1, sightings: []*Message{s1, s2}, confirmers: members(reporter, alice)},
		{name: "retracting one of two reports by one reporter", roots: []*Message{s1, s1b, s2}, updates: []*Message{retract1},
			state: StateCorroborated, root: s1b, incident: s1, sightings: []*Message{s1b, s1, s2}, confirmers: members(reporter, alice)},
		{name: "retracting the primary: the next report is primary", roots: []*Message{s1, s2}, updates: []*Message{retract1},
			state: StateUnconfirmed, root: s2, incident: s1, sightings: []*Message{s2, s1}, confirmers: members(alice)},
		{name: "retracting the primary: the window runs from the new primary", roots: []*Message{s1, s2, s3}, updates: []*Message{retract1},
			settings: Settings{CorroborationWindow: 5 * m},
			state:    StateCorroborated, root: s2, incident: s1, sightings: []*Message{s2, s1, s3}, confirmers: members(alice, bob)},
		{name: "retracting every report clears: the last retraction", roots: []*Message{s2, s1}, updates: []*Message{retract2, retract1},
			state: StateCleared, root: s1, incident: s1, sightings: []*Message{s1, s2}, confirmers: members(reporter, alice), clear: retract2},
		{name: "retracting twice counts once", roots: []*Message{s1, s2},
			updates: []*Message{retract1, f.clear(s1, reporter, RoleMember, ClearRetracted, at(9*m))},
			state:   StateUnconfirmed, root: s2, incident: s1, sightings: []*Message{s2, s1}, confirmers: members(alice)},

		// The incident ends for good.
		{name: "an all clear of any report clears the incident", roots: []*Message{s1, s2, s3}, updates: []*Message{allClear2},
			state: StateCleared, root: s1, incident: s1, sightings: []*Message{s1, s2}, confirmers: members(reporter, alice), clear: allClear2},
		{name: "a report after the all clear is not part of it", roots: []*Message{s1, late}, updates: []*Message{allClear1, f.confirm(s1, bob, RoleMember, at(6*m))},
			state: StateCleared, root: s1, incident: s1, sightings: []*Message{s1}, confirmers: members(reporter, bob), clear: allClear1},
		{name: "a report after every report was retracted is not part of it", roots: []*Message{s1, late}, updates: []*Message{retract1},
			state: StateCleared, root: s1, incident: s1, sightings: []*Message{s1}, confirmers: members(reporter), clear: retract1},

		// Status and removal.
		{name: "an exercise report does not join a real incident", roots: []*Message{s1, s2x},
			state: StateUnconfirmed, root: s1, incident: s1, sightings: []*Message{s1}, confirmers: members(reporter)},
		{name: "a removed member's report does not count", roots: []*Message{s1, s2, s3}, removed: members(alice),
			state: StateCorroborated, root: s1, incident: s1, sightings: []*Message{s1, s3}, confirmers: members(reporter, bob)},
		{name: "the primary's reporter removed: the next report is primary", roots: []*Message{s1, s2}, removed: members(reporter),
			state: StateUnconfirmed, root: s2, incident: s2, sightings: []*Message{s2}, confirmers: members(alice)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := Fold(c.roots, c.updates, c.settings, removedSet(c.removed...), at(time.Hour))
			if v.State != c.state || v.Root != c.root || v.Current != c.root.Alert || v.Incident != c.incident.ID || v.Clear != c.clear {
				t.Errorf("Fold = state %s root %v incident %v clear %v; want %s %v %v %v", v.State, v.Root.ID, v.Incident, v.Clear != nil,
					c.state, c.root.ID, c.incident.ID, c.clear != nil)
			}
			if !slices.Equal(v.Sightings, alertIDs(c.sightings...)) {
				t.Errorf("sightings %v, want %v", v.Sightings, alertIDs(c.sightings...))
			}
			if !slices.Equal(v.Confirmers, c.confirmers) || !slices.Equal(v.VerifiedBy, c.verifiedBy) || v.Verified != (len(c.verifiedBy) > 0) {
				t.Errorf("confirmers %v verified by %v, want %v %v", v.Confirmers, v.VerifiedBy, c.confirmers, c.verifiedBy)
			}
		})
	}
}

func TestFoldCallout(t *testing.T) {
	f := newStateFixture(t, RoleMember)
	root := f.callout
	h := time.Hour
	endByOtto := f.clear(root, otto, RoleOrganizer, ClearAllClear, at(2*h))
	retractByOlga := f.clear(root, olga, RoleOrganizer, ClearRetracted, at(3*h))
	upd := f.calloutUpdate(root, otto, RoleOrganizer, at(30*time.Minute), "Now at the back door", DefaultCalloutTTL)
	updLater := f.calloutUpdate(root, olga, RoleOrganizer, at(40*time.Minute), "Stand down in 1h", DefaultCalloutTTL)
	extend := f.calloutUpdate(root, olga, RoleOrganizer, at(h), "All night", 19*h)   // expires t0+20h
	shorten := f.calloutUpdate(root, olga, RoleOrganizer, at(h), "One more hour", h) // expires t0+2h
	cosignOtto := f.cosign(root, otto, RoleOrganizer, at(5*time.Minute))
	cosignOscar := f.cosign(root, oscar, RoleOrganizer, at(6*time.Minute))
	cosignOn := Settings{Cosign: true}
	cases := []struct {
		name      string
		updates   []*Message
		settings  Settings
		removed   []crypto.MemberID
		now       time.Time
		state     State
		current   *Message // nil: the root
		responses map[crypto.MemberID]Response
		cosigners []crypto.MemberID
		clear     *Message
	}{
		{name: "no responses", state: StateActive, responses: map[crypto.MemberID]Response{}},
		{name: "responses from two members", updates: []*Message{
			f.respond(root, alice, ResponseEnRoute, at(time.Minute)), f.respond(root, bob, ResponseCannot, at(2*time.Minute))},
			state: StateActive, responses: map[crypto.MemberID]Response{alice: ResponseEnRoute, bob: ResponseCannot}},
		{name: "member changes answer, latest wins", updates: []*Message{
			f.respond(root, alice, ResponseOnScene, at(30*time.Minute)), f.respond(root, alice, ResponseEnRoute, at(time.Minute)), f.respond(root, alice, ResponseCannot, at(10*time.Minute))},
			state: StateActive, responses: map[crypto.MemberID]Response{alice: ResponseOnScene}},
		{name: "response before the callout ignored", updates: []*Message{f.respond(root, alice, ResponseEnRoute, at(-time.Second))},
			state: StateActive, responses: map[crypto.MemberID]Response{}},
		{name: "confirm of a callout ignored", updates: []*Message{f.confirm(root, alice, RoleMember, at(time.Minute))},
			state: StateActive, responses: map[crypto.MemberID]Response{}},
		{name: "end by a verifier ignored", updates: []*Message{f.clear(root, vera, RoleVerifier, ClearAllClear, at(h))},
			state: StateActive, responses: map[crypto.MemberID]Response{}},
		{name: "end by a member ignored", updates: []*Message{f.clear(root, alice, RoleMember, ClearAllClear, at(h))},
			state: StateActive, responses: map[crypto.MemberID]Response{}},
		{name: "retraction by a member ignored", updates: []*Message{f.clear(root, alice, RoleMember, ClearRetracted, at(h))},
			state: StateActive, responses: map[crypto.MemberID]Response{}},
		{name: "retraction by another organizer ignored", updates: []*Message{f.clear(root, otto, RoleOrganizer, ClearRetracted, at(h))},
			state: StateActive, responses: map[crypto.MemberID]Response{}},
		{name: "end by another organizer", updates: []*Message{endByOtto},
			state: StateCleared, responses: map[crypto.MemberID]Response{}, clear: endByOtto},
		{name: "retraction by its organizer", updates: []*Message{retractByOlga},
			state: StateCleared, responses: map[crypto.MemberID]Response{}, clear: retractByOlga},
		{name: "answers at or after the end do not count", updates: []*Message{
			f.respond(root, alice, ResponseEnRoute, at(time.Minute)), endByOtto, f.respond(root, alice, ResponseCannot, at(2*h+time.Second)), f.respond(root, bob, ResponseOnScene, at(2*h))},
			state: StateCleared, responses: map[crypto.MemberID]Response{alice: ResponseEnRoute}, clear: endByOtto},
		{name: "expired", now: root.Alert.Expires, updates: []*Message{f.respond(root, alice, ResponseEnRoute, at(time.Minute))},
			state: StateExpired, responses: map[crypto.MemberID]Response{alice: ResponseEnRoute}},

		// Updates.
		{name: "an organizer's update is current", updates: []*Message{upd},
			state: StateActive, current: upd, responses: map[crypto.MemberID]Response{}},
		{name: "the latest update is current", updates: []*Message{updLater, upd},
			state: StateActive, current: updLater, responses: map[crypto.MemberID]Response{}},
		{name: "a verifier's update ignored", updates: []*Message{f.calloutUpdate(root, vera, RoleVerifier, at(time.Minute), "x", h)},
			state: StateActive, responses: map[crypto.MemberID]Response{}},
		{name: "a member's update ignored", updates: []*Message{f.calloutUpdate(root, alice, RoleMember, at(time.Minute), "x", h)},
			state: StateActive, responses: map[crypto.MemberID]Response{}},
		{name: "an update before the callout ignored", updates: []*Message{f.calloutUpdate(root, olga, RoleOrganizer, at(-time.Millisecond), "x", h)},
			state: StateActive, responses: map[crypto.MemberID]Response{}},
		{name: "an update after the end ignored", updates: []*Message{endByOtto, f.calloutUpdate(root, olga, RoleOrganizer, at(2*h), "x", h)},
			state: StateCleared, responses: map[crypto.MemberID]Response{}, clear: endByOtto},
		{name: "an update of another callout ignored", updates: []*Message{f.calloutUpdate(f.sighting, olga, RoleOrganizer, at(time.Minute), "x", h)},
			state: StateActive, responses: map[crypto.MemberID]Response{}},
		{name: "an update extends the callout: later answers count", now: at(14 * h),
			updates: []*Message{extend, f.respond(root, alice, ResponseOnScene, at(13*h))},
			state:   StateActive, current: extend, responses: map[crypto.MemberID]Response{alice: ResponseOnScene}},
		{name: "an update shortens the callout", now: at(3 * h),
			updates: []*Message{shorten, f.respond(root, alice, ResponseOnScene, at(2*h+time.Minute))},
			state:   StateExpired, current: shorten, responses: map[crypto.MemberID]Response{}},
		{name: "an update after the expiry does not revive it", now: at(14 * h),
			updates: []*Message{shorten, f.calloutUpdate(root, olga, RoleOrganizer, at(2*h), "x", 20*h)},
			state:   StateExpired, current: shorten, responses: map[crypto.MemberID]Response{}},

		// Cosign.
		{name: "needs a cosign, has none", settings: cosignOn, state: StateAwaitingCosign, responses: map[crypto.MemberID]Response{}},
		{name: "cosigned by another organizer", settings: cosignOn, updates: []*Message{cosignOtto},
			state: StateActive, responses: map[crypto.MemberID]Response{}, cosigners: members(otto)},
		{name: "cosigned by its own organizer: ignored", settings: cosignOn, updates: []*Message{f.cosign(root, olga, RoleOrganizer, at(time.Minute))},
			state: StateAwaitingCosign, responses: map[crypto.MemberID]Response{}},
		{name: "cosigned by a verifier: ignored", settings: cosignOn, updates: []*Message{f.cosign(root, vera, RoleVerifier, at(time.Minute))},
			state: StateAwaitingCosign, responses: map[crypto.MemberID]Response{}},
		{name: "cosigned by a removed organizer: ignored", settings: cosignOn, removed: members(otto), updates: []*Message{cosignOtto},
			state: StateAwaitingCosign, responses: map[crypto.MemberID]Response{}},
		{name: "cosigned twice by one organizer: once", settings: cosignOn, updates: []*Message{cosignOtto, f.cosign(root, otto, RoleOrganizer, at(7*time.Minute))},
			state: StateActive, responses: map[crypto.MemberID]Response{}, cosigners: members(otto)},
		{name: "two cosigners, in order", settings: cosignOn, updates: []*Message{cosignOscar, cosignOtto},
			state: StateActive, responses: map[crypto.MemberID]Response{}, cosigners: members(otto, oscar)},
		{name: "a cosign after the end does not count", settings: cosignOn, updates: []*Message{endByOtto, f.cosign(root, oscar, RoleOrganizer, at(2*h))},
			state: StateCleared, responses: map[crypto.MemberID]Response{}, clear: endByOtto},
		{name: "cleared beats awaiting a cosign", settings: cosignOn, updates: []*Message{retractByOlga},
			state: StateCleared, responses: map[crypto.MemberID]Response{}, clear: retractByOlga},
		{name: "expired beats awaiting a cosign", settings: cosignOn, now: root.Alert.Expires,
			state: StateExpired, responses: map[crypto.MemberID]Response{}},
		{name: "cosigns are listed when not required", updates: []*Message{cosignOtto},
			state: StateActive, responses: map[crypto.MemberID]Response{}, cosigners: members(otto)},
		{name: "answers count while awaiting a cosign", settings: cosignOn, updates: []*Message{f.respond(root, alice, ResponseEnRoute, at(time.Minute))},
			state: StateAwaitingCosign, responses: map[crypto.MemberID]Response{alice: ResponseEnRoute}},

		// Removed members.
		{name: "a removed member's answer ignored", removed: members(alice), updates: []*Message{f.respond(root, alice, ResponseEnRoute, at(time.Minute))},
			state: StateActive, responses: map[crypto.MemberID]Response{}},
		{name: "a removed organizer's end ignored", removed: members(otto), updates: []*Message{endByOtto},
			state: StateActive, responses: map[crypto.MemberID]Response{}},
		{name: "a removed organizer's update ignored", removed: members(otto), updates: []*Message{upd},
			state: StateActive, responses: map[crypto.MemberID]Response{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			now := c.now
			if now.IsZero() {
				now = at(4 * h)
			}
			v := Fold([]*Message{root}, c.updates, c.settings, removedSet(c.removed...), now)
			cur := root
			if c.current != nil {
				cur = c.current
			}
			if v.Root != root || v.Incident != root.ID || v.Current != cur.Alert || !v.Expires.Equal(cur.Alert.Expires) {
				t.Errorf("root/incident/current/expires: current %q expires %s", v.Current.Title, v.Expires.Sub(t0))
			}
			if v.State != c.state || v.Clear != c.clear || len(v.Confirmers) != 0 || v.Verified || v.Sightings != nil || v.VerifiedBy != nil {
				t.Errorf("Fold = state %s clear %v, want %s %v", v.State, v.Clear != nil, c.state, c.clear != nil)
			}
			if !mapsEqual(v.Responses, c.responses) {
				t.Errorf("responses %v, want %v", v.Responses, c.responses)
			}
			if !slices.Equal(v.Cosigners, c.cosigners) {
				t.Errorf("cosigners %v, want %v", v.Cosigners, c.cosigners)
			}
		})
	}

	v := Fold([]*Message{root}, []*Message{
		f.respond(root, alice, ResponseEnRoute, at(time.Minute)), f.respond(root, bob, ResponseEnRoute, at(time.Minute)),
		f.respond(root, carol, ResponseOnScene, at(time.Minute)), f.respond(root, bob, ResponseOnScene, at(5*time.Minute)),
	}, DefaultSettings(), nil, at(h))
	if v.Count(ResponseEnRoute) != 1 || v.Count(ResponseOnScene) != 2 || v.Count(ResponseCannot) != 0 {
		t.Errorf("Count: enroute %d onscene %d cannot %d", v.Count(ResponseEnRoute), v.Count(ResponseOnScene), v.Count(ResponseCannot))
	}

	// Of several callouts given as roots, the earliest is folded; given
	// with a sighting, the sighting is.
	later := newCallout()
	later.Sender, later.Sent, later.Expires = otto, at(time.Minute), at(time.Minute+DefaultCalloutTTL)
	lm := msg(t, later, RoleOrganizer)
	if v := Fold([]*Message{lm, root}, nil, DefaultSettings(), nil, at(h)); v.Root != root {
		t.Errorf("two callouts: folded the later one")
	}
	if v := Fold([]*Message{root, f.sighting}, nil, DefaultSettings(), nil, at(h)); v.Root != f.sighting {
		t.Errorf("callout and sighting: folded the callout")
	}
}

func mapsEqual(a, b map[crypto.MemberID]Response) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestNormalizePlace(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Queen St W & Dunn Ave", "queen st w dunn av"},
		{"queen street w / dunn avenue", "queen st w dunn av"},
		{"  QUEEN   ST W\t&\nDUNN AVE.  ", "queen st w dunn av"},
		{"Queen/Dunn", "queen dunn"},
		{"O'Connor Dr", "oconnor dr"},
		{"O’Connor Dr", "oconnor dr"},
		{"Rue Saint-Hubert & Bélanger", "rue st hubert belanger"},
		{"RUE ST-HUBERT ET BELANGER", "rue st hubert belanger"},
		{"Côte-des-Neiges", "cote des neiges"},
		{"Jarry & St-Denis", "jarry st denis"},
		{"jarry et saint denis", "jarry st denis"},
		{"Calle Ñuñoa y Avenida Perú", "c nunoa av peru"},
		{"Boul. René-Lévesque Ouest", "bd rene levesque o"},
		{"唐人街 (Spadina)", "唐人街 spadina"},
		{"Ελληνικά Οδός", "ελληνικα οδος"},
		{"Dundas @ Bathurst #2", "dundas bathurst 2"},
		{"Main St 🚐 $ + = < > ^ `", "main st"},
		{"a\u00a0b", "a b"},
		{"", ""},
		{"  ", ""},
		{"&&& ...", ""},
	} {
		if got := NormalizePlace(c.in); got != c.want {
			t.Errorf("NormalizePlace(%q) = %q, want %q", c.in, got, c.want)
		}
		if got := NormalizePlace(c.want); got != c.want {
			t.Errorf("NormalizePlace not idempotent on %q: %q", c.want, got)
		}
	}
}

func TestIncidents(t *testing.T) {
	f := newStateFixture(t, RoleMember)
	m := time.Minute
	a := f.sighting // reporter, placeA, t0
	b := f.report(alice, RoleMember, placeA2, at(5*m))
	c := f.report(bob, RoleMember, placeA, at(15*m)) // exactly the window after a
	d := f.report(carol, RoleMember, placeA, at(15*m+time.Millisecond))
	e := f.report(dave, RoleMember, placeA, at(29*m)) // 14m after d, 29m after a
	x := f.reportWith(alice, RoleMember, placeA, at(m), func(a *Alert) { a.Status = StatusExercise })
	g := f.report(carol, RoleMember, placeB, at(2*m))
	z := f.reportWith(carol, RoleMember, placeA, at(3*m), func(a *Alert) { a.Zone = otherZone })
	s1 := f.report(reporter, RoleMember, "King St", at(40*m))
	s2 := f.report(alice, RoleMember, "king st", at(40*m)) // same millisecond: ID order
	first, second := s1, s2
	if cmpEvents(s2, s1) < 0 {
		first, second = s2, s1
	}
	ignored := []*Message{f.confirm(a, alice, RoleMember, at(m)), f.callout, msg(t, newMember(), RoleMember)}

	all := append([]*Message{a, b, c, d, e, x, g, z, s1, s2, a, b}, ignored...)
	want := [][]*Message{{a, b, c}, {x}, {g}, {z}, {d, e}, {first, second}}
	eq := func(got, want [][]*Message) bool {
		return slices.EqualFunc(got, want, func(x, y []*Message) bool {
			return slices.EqualFunc(x, y, func(p, q *Message) bool { return p.ID == q.ID })
		})
	}
	show := func(gs [][]*Message) string {
		var out []string
		for _, g := range gs {
			var s []string
			for _, m := range g {
				s = append(s, fmt.Sprintf("%s@%s", NormalizePlace(m.Alert.Area), m.Alert.Sent.Sub(t0)))
			}
			out = append(out, fmt.Sprint(s))
		}
		return fmt.Sprint(out)
	}
	if got := Incidents(all, IncidentWindow); !eq(got, want) {
		t.Fatalf("Incidents = %s\nwant %s", show(got), show(want))
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 100 {
		shuffled := slices.Clone(all)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		if got := Incidents(shuffled, IncidentWindow); !eq(got, want) {
			t.Fatalf("shuffle %d: %s", i, show(got))
		}
	}
	for _, tc := range []struct {
		name   string
		in     []*Message
		window time.Duration
		want   [][]*Message
	}{
		{"none", nil, IncidentWindow, nil},
		{"only updates and callouts", ignored, IncidentWindow, nil},
		{"window 0: only the same millisecond", []*Message{a, b, s1, s2}, 0, [][]*Message{{a}, {b}, {first, second}}},
		{"a wider window", []*Message{a, b, c, d, e}, 30 * m, [][]*Message{{a, b, c, d, e}}},
		// Groups are anchored on their primary, not chained.
		{"anchored on the primary", []*Message{a, f.report(alice, RoleMember, placeA, at(10*m)), f.report(bob, RoleMember, placeA, at(20*m))},
			IncidentWindow, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Incidents(tc.in, tc.window)
			if tc.name == "anchored on the primary" {
				if len(got) != 2 || len(got[0]) != 2 || len(got[1]) != 1 || got[1][0].Alert.Sender != bob {
					t.Errorf("Incidents = %s", show(got))
				}
				return
			}
			if !eq(got, tc.want) {
				t.Errorf("Incidents = %s, want %s", show(got), show(tc.want))
			}
		})
	}
}

// orderMessages returns about 30 updates of a sighting and a callout,
// including duplicates, same-millisecond ties, ignored messages and
// competing clears, so that order matters if anything does.
func orderMessages(f *stateFixture) []*Message {
	s, c := f.sighting, f.callout
	m := func(d time.Duration) time.Time { return at(d) }
	mi := time.Minute
	dup := f.confirm(s, alice, RoleMember, m(2*mi))
	return []*Message{
		// Sighting.
		dup, dup,
		f.confirm(s, alice, RoleMember, m(25*mi)),
		f.confirm(s, bob, RoleMember, m(21*mi)),
		f.confirm(s, bob, RoleMember, m(19*mi)),
		f.confirm(s, carol, RoleMember, m(-mi)),
		f.confirm(s, reporter, RoleMember, m(mi)),
		f.confirm(s, vera, RoleVerifier, m(30*mi)),
		f.confirm(s, otto, RoleOrganizer, m(50*mi)), // after the clear
		f.clear(s, alice, RoleMember, ClearRetracted, m(10*mi)),
		f.clear(s, alice, RoleMember, ClearAllClear, m(11*mi)),
		f.clear(s, vera, RoleVerifier, ClearAllClear, m(45*mi)),
		f.clear(s, olga, RoleOrganizer, ClearAllClear, m(45*mi)), // same ms: ID decides
		f.clear(s, reporter, RoleMember, ClearRetracted, m(46*mi)),
		f.respond(s, bob, ResponseEnRoute, m(3*mi)),
		// Callout.
		f.respond(c, alice, ResponseEnRoute, m(mi)),
		f.respond(c, alice, ResponseOnScene, m(20*mi)),
		f.respond(c, alice, ResponseCannot, m(20*mi)), // same ms: ID decides
		f.respond(c, bob, ResponseCannot, m(5*mi)),
		f.respond(c, bob, ResponseEnRoute, m(6*mi)),
		f.respond(c, carol, ResponseOnScene, m(7*mi)),
		f.respond(c, carol, ResponseEnRoute, m(-mi)),
		f.respond(c, reporter, ResponseEnRoute, m(2*time.Hour)), // after the end
		f.clear(c, vera, RoleVerifier, ClearAllClear, m(30*mi)),
		f.clear(c, alice, RoleMember, ClearRetracted, m(31*mi)),
		f.clear(c, otto, RoleOrganizer, ClearAllClear, m(90*mi)),
		f.clear(c, olga, RoleOrganizer, ClearRetracted, m(100*mi)),
		f.confirm(c, bob, RoleMember, m(3*mi)),
	}
}

// worldMessages adds incidents and callout updates to orderMessages: more
// reports of the sighting's place (one by a removed member, one exercise),
// a second place with two reports in the same millisecond, a third with a
// report after its all clear, a callout with updates and cosigns, and an
// exercise callout.
func worldMessages(f *stateFixture) []*Message {
	s, c := f.sighting, f.callout
	mi := time.Minute
	a2 := f.report(alice, RoleMember, placeA2, at(4*mi))
	a3 := f.report(bob, RoleMember, placeA, at(9*mi))
	a4x := f.reportWith(carol, RoleMember, placeA, at(9*mi), func(a *Alert) { a.Status = StatusExercise })
	a5 := f.report(dave, RoleMember, placeA, at(14*mi))
	a6 := f.report(carol, RoleMember, placeA, at(12*mi+30*time.Second))
	aMal := f.report(mallory, RoleMember, placeA, at(mi))
	b1 := f.report(carol, RoleMember, placeB, at(2*mi))
	b2 := f.report(dave, RoleMember, "bloor / lansdowne", at(2*mi))
	b3 := f.report(alice, RoleMember, placeB, at(3*mi))
	c1 := f.report(carol, RoleMember, "College & Spadina", at(20*mi))
	c2 := f.report(dave, RoleMember, "college / spadina", at(25*mi)) // grouped with c1, sent after its all clear
	ex := newCallout()
	ex.Sender, ex.Sent, ex.Expires, ex.Status = otto, at(5*mi), at(5*mi+DefaultCalloutTTL), StatusExercise
	exm := msg(f.t, ex, RoleOrganizer)
	exCosign := func() *Message {
		a := newCosign(exm.ID)
		a.Status = StatusExercise
		return f.update(a, olga, RoleOrganizer, at(6*mi))
	}()
	upd1 := f.calloutUpdate(c, otto, RoleOrganizer, at(10*mi), "Back door", DefaultCalloutTTL)
	upd2 := f.calloutUpdate(c, olga, RoleOrganizer, at(10*mi), "Front door", DefaultCalloutTTL) // same ms: ID decides
	extra := []*Message{
		a2, a3, a4x, a5, a6, aMal, c1, c2, b1, b2, b3, exm, exCosign, upd1, upd2, upd2,
		f.confirm(a2, carol, RoleMember, at(6*mi)),
		f.confirm(a3, mallory, RoleMember, at(10*mi)),
		f.confirm(a4x, alice, RoleMember, at(10*mi)), // a real confirm of an exercise: ignored
		f.clear(c1, olga, RoleOrganizer, ClearAllClear, at(22*mi)),
		f.confirm(c2, alice, RoleMember, at(26*mi)),
		f.clear(a3, bob, RoleMember, ClearRetracted, at(11*mi)),
		f.confirm(b2, vera, RoleVerifier, at(5*mi)),
		f.clear(b1, carol, RoleMember, ClearRetracted, at(4*mi)),
		f.clear(b2, dave, RoleMember, ClearRetracted, at(4*mi)),
		f.confirm(b3, bob, RoleMember, at(4*mi)),
		f.cosign(c, otto, RoleOrganizer, at(8*mi)),
		f.cosign(c, otto, RoleOrganizer, at(9*mi)),
		f.cosign(c, olga, RoleOrganizer, at(8*mi)),
		f.cosign(c, vera, RoleVerifier, at(8*mi)),
		f.cosign(c, mallory, RoleOrganizer, at(7*mi)),
		f.cosign(c, oscar, RoleOrganizer, at(95*mi)), // after the end
		f.calloutUpdate(c, vera, RoleVerifier, at(12*mi), "ignored", time.Hour),
		f.calloutUpdate(c, mallory, RoleOrganizer, at(13*mi), "ignored", time.Hour),
		f.calloutUpdate(c, olga, RoleOrganizer, at(91*mi), "after the end", time.Hour),
		f.respond(c, mallory, ResponseOnScene, at(2*mi)),
	}
	return append(append([]*Message{s, c}, orderMessages(f)...), extra...)
}

// foldAll is what a node does with everything it holds: group the
// sightings into incidents, fold each, and fold the sightings that were
// grouped into an incident but sent after it ended as incidents of their
// own. It returns a summary of every view, by incident.
func foldAll(msgs []*Message, s Settings, removed func(crypto.MemberID) bool, now time.Time) map[AlertID]string {
	var sightings, callouts []*Message
	for _, m := range msgs {
		switch {
		case m.Alert.Kind == KindSighting:
			sightings = append(sightings, m)
		case m.Alert.IsRoot():
			callouts = append(callouts, m)
		}
	}
	out := map[AlertID]string{}
	queue := Incidents(sightings, IncidentWindow)
	for len(queue) > 0 {
		g := queue[0]
		queue = queue[1:]
		v := Fold(g, msgs, s, removed, now)
		if v.Root == nil {
			continue
		}
		out[v.Incident] = summary(v)
		var rest []*Message
		for _, m := range g {
			if !slices.Contains(v.Sightings, m.ID) {
				rest = append(rest, m)
			}
		}
		queue = append(queue, Incidents(rest, IncidentWindow)...)
	}
	for _, c := range callouts {
		if v := Fold([]*Message{c}, msgs, s, removed, now); v.Root != nil {
			out[v.Incident] = summary(v)
		}
	}
	return out
}

func summary(v View) string {
	clear := AlertID{}
	if v.Clear != nil {
		clear = v.Clear.ID
	}
	return fmt.Sprintf("root=%v current=%q/%s state=%s incident=%v sightings=%v confirmers=%v verified=%v by=%v responses=%v cosigners=%v clear=%v expires=%s",
		v.Root.ID, v.Current.Title, v.Current.Expires.Sub(t0), v.State, v.Incident, v.Sightings, v.Confirmers, v.Verified, v.VerifiedBy,
		v.Responses, v.Cosigners, clear, v.Expires.Sub(t0))
}

func sameViews(a, b map[AlertID]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestFoldOrderIndependent: every node computes the same views from the
// same set of messages, whatever the order of arrival and however often a
// message arrives; a node that missed messages converges once it has them.
func TestFoldOrderIndependent(t *testing.T) {
	f := newStateFixture(t, RoleMember)
	msgs := worldMessages(f)
	if len(msgs) < 60 {
		t.Fatalf("only %d messages", len(msgs))
	}
	removed := removedSet(mallory)
	settings := []Settings{DefaultSettings(), {Corroborations: 3, CorroborationWindow: 5 * time.Minute, Expiry: 30 * time.Minute, Cosign: true}}
	for si, s := range settings {
		for _, now := range []time.Time{at(30 * time.Minute), at(time.Hour), at(5 * time.Hour), at(13 * time.Hour)} {
			t.Run(fmt.Sprintf("settings %d, now +%s", si, now.Sub(t0)), func(t *testing.T) {
				want := foldAll(msgs, s, removed, now)
				rng := rand.New(rand.NewPCG(uint64(si), uint64(now.Unix())))
				differed := 0
				for i := range 100 {
					// Shuffled, with duplicates: the same pointer or a copy.
					shuffled := slices.Clone(msgs)
					for range 10 {
						m := msgs[rng.IntN(len(msgs))]
						if rng.IntN(2) == 0 {
							cp := *m
							m = &cp
						}
						shuffled = append(shuffled, m)
					}
					rng.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
					if got := foldAll(shuffled, s, removed, now); !sameViews(got, want) {
						t.Fatalf("shuffle %d differs:\n%v\nwant\n%v", i, got, want)
					}
					// Drop a few, fold, then receive them late.
					k := 1 + rng.IntN(5)
					kept, dropped := shuffled[k:], shuffled[:k]
					if !sameViews(foldAll(kept, s, removed, now), want) {
						differed++
					}
					late := append(slices.Clone(kept), dropped...)
					if got := foldAll(late, s, removed, now); !sameViews(got, want) {
						t.Fatalf("drop %d: does not converge once the dropped messages arrive", i)
					}
				}
				if differed == 0 {
					t.Errorf("dropping messages never changed a view: the property is vacuous")
				}
			})
		}
	}
}

// TestFoldWorld pins what the world of TestFoldOrderIndependent folds to,
// so that the property is about real views.
func TestFoldWorld(t *testing.T) {
	f := newStateFixture(t, RoleMember)
	msgs := worldMessages(f)
	var sightings []*Message
	for _, m := range msgs {
		if m.Alert.Kind == KindSighting {
			sightings = append(sightings, m)
		}
	}
	groups := Incidents(sightings, IncidentWindow)
	// A: s, aMal, a2, a3, a6, a5 (a5 at 14m is within 15m of s);
	// B: b1, b2, b3; the exercise report at 9m; C: c1, c2.
	var sizes []int
	for _, g := range groups {
		sizes = append(sizes, len(g))
	}
	if !slices.Equal(sizes, []int{6, 3, 1, 2}) {
		t.Fatalf("incident sizes %v", sizes)
	}
	now := at(time.Hour)
	va := Fold(groups[0], msgs, DefaultSettings(), removedSet(mallory), now)
	// Cleared by the earlier (by ID) of the two all clears at 45m; bob
	// retracted his report; mallory's report and confirm do not count.
	if va.State != StateCleared || va.Root != f.sighting || !va.Clear.Alert.Sent.Equal(at(45*time.Minute)) || !va.Verified ||
		len(va.Sightings) != 5 || !slices.Equal(va.Confirmers, members(reporter, alice, carol, dave, bob, vera)) {
		t.Errorf("incident A: %s", summary(va))
	}
	vb := Fold(groups[1], msgs, DefaultSettings(), nil, now)
	// b1 and b2 retracted at 4m; b3 (alice) stands and is primary; vera
	// verified b2 at 5m.
	if vb.State != StateVerified || vb.Root.Alert.Sender != alice || vb.Incident != groups[1][0].ID ||
		!slices.Equal(vb.Confirmers, members(alice, bob, vera)) {
		t.Errorf("incident B: %s", summary(vb))
	}
	vc := Fold([]*Message{f.callout}, msgs, Settings{Cosign: true}, removedSet(mallory), now)
	if vc.State != StateCleared || vc.Clear.Alert.Sender != otto || !slices.Equal(vc.Cosigners, members(otto)) ||
		vc.Current.Title == newCallout().Title || vc.Current.Title == "ignored" || len(vc.Responses) != 3 {
		t.Errorf("callout: %s", summary(vc))
	}
	// Incident C was cleared 2 minutes after its first report; the report
	// after the all clear is an incident of its own.
	views := foldAll(msgs, DefaultSettings(), removedSet(mallory), now)
	c1, c2 := groups[3][0], groups[3][1]
	if len(views) != 7 || !strings.Contains(views[c1.ID], "state=cleared") || !strings.Contains(views[c2.ID], "state=corroborated") {
		t.Errorf("incident C: %d views\n%s\n%s", len(views), views[c1.ID], views[c2.ID])
	}
}

func errorsIsEnum(err error) bool {
	var fe *FieldError
	return errors.As(err, &fe) && errors.Is(err, ErrEnum)
}

// TestFoldEscalation: an incident shows its newest text and its largest
// size; withdrawn reports and "they left" notes are listed, not obeyed.
func TestFoldEscalation(t *testing.T) {
	f := newStateFixture(t, RoleMember)
	m := time.Minute
	first := f.reportWith(alice, RoleMember, "Jarry & Saint-Denis", at(0), func(a *Alert) { a.What, a.Size = "2 agents", 2 })
	worse := f.reportWith(vera, RoleVerifier, "jarry & st-denis", at(2*m), func(a *Alert) { a.What, a.Size = "6 agents, one person taken", 6 })
	later := f.reportWith(bob, RoleMember, "JARRY ET SAINT DENIS", at(4*m), func(a *Alert) { a.What, a.Size = "van leaving", 1 })
	left := f.clear(first, carol, RoleMember, ClearRetracted, at(5*m))
	withdraw := f.clear(later, bob, RoleMember, ClearRetracted, at(6*m))
	verify := f.confirm(first, olga, RoleOrganizer, at(3*m))
	retractFirst := f.clear(first, alice, RoleMember, ClearRetracted, at(7*m))

	groups := Incidents([]*Message{first, worse, later}, IncidentWindow)
	if len(groups) != 1 {
		t.Fatalf("Incidents grouped %d incidents; want 1 (places fold alike)", len(groups))
	}
	cases := []struct {
		name      string
		updates   []*Message
		state     State
		latest    *Message
		maxSize   uint16
		notes     []*Message
		withdrawn []*Message
	}{
		{name: "latest text, largest size", state: StateCorroborated, latest: later, maxSize: 6},
		{name: "a member's they-left note is shown, not obeyed", updates: []*Message{left}, state: StateCorroborated, latest: later, maxSize: 6, notes: []*Message{left}},
		{name: "one they-left note per member: the first", updates: []*Message{f.clear(first, carol, RoleMember, ClearRetracted, at(8*m)), left, f.clear(worse, carol, RoleMember, ClearRetracted, at(9*m))},
			state: StateCorroborated, latest: later, maxSize: 6, notes: []*Message{left}},
		{name: "a withdrawn report no longer gives the text", updates: []*Message{withdraw}, state: StateCorroborated, latest: worse, maxSize: 6,
			notes: []*Message{withdraw}, withdrawn: []*Message{later}},
		{name: "the first reporter retracting a verified incident does not end it", updates: []*Message{verify, retractFirst},
			state: StateVerified, latest: later, maxSize: 6, notes: []*Message{retractFirst}, withdrawn: []*Message{first}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := Fold(groups[0], c.updates, Settings{}, nil, at(10*m))
			if v.State != c.state || v.Latest != c.latest.Alert || v.MaxSize != c.maxSize || v.Clear != nil {
				t.Errorf("Fold = state %s latest %q size %d clear %v; want %s %q %d", v.State, v.Latest.What, v.MaxSize, v.Clear != nil, c.state, c.latest.Alert.What, c.maxSize)
			}
			if !slices.Equal(v.Notes, c.notes) || !slices.Equal(v.Withdrawn, alertIDs(c.withdrawn...)) {
				t.Errorf("notes %d withdrawn %v; want %d %v", len(v.Notes), v.Withdrawn, len(c.notes), alertIDs(c.withdrawn...))
			}
		})
	}
}

// TestNormalizePlaceConcurrent: every node folds places from many
// goroutines at once (gossip, sync, the control API).
func TestNormalizePlaceConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 200 {
				in := fmt.Sprintf("Rue Saint-Hubert & Bélanger %d-%d", i, j)
				if got, want := NormalizePlace(in), fmt.Sprintf("rue st hubert belanger %d %d", i, j); got != want {
					t.Errorf("NormalizePlace(%q) = %q, want %q", in, got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}
