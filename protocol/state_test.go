package protocol

import (
	"math/rand/v2"
	"slices"
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
)

func at(d time.Duration) time.Time { return t0.Add(d) }

type stateFixture struct {
	t        testing.TB
	sighting *Message // by reporter (member), sent t0, expires t0+4h
	callout  *Message // by olga (organizer), sent t0, expires t0+12h
}

func newStateFixture(t testing.TB, reporterRole Role) *stateFixture {
	s := newSighting()
	s.Sender = reporter
	c := newCallout()
	c.Sender, c.Sent, c.Expires = olga, t0, t0.Add(DefaultCalloutTTL)
	return &stateFixture{t: t, sighting: msg(t, s, reporterRole), callout: msg(t, c, RoleOrganizer)}
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

func ids(ms []crypto.MemberID) map[crypto.MemberID]bool {
	out := map[crypto.MemberID]bool{}
	for _, m := range ms {
		out[m] = true
	}
	return out
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

	cases := []struct {
		name       string
		settings   Settings
		updates    []*Message
		now        time.Time
		state      State
		confirmers []crypto.MemberID // reporter first, then in order
		verified   bool
		clear      *Message
	}{
		{name: "no updates", state: StateUnconfirmed, confirmers: []crypto.MemberID{reporter}},
		{name: "second member within window", updates: []*Message{f.confirm(root, alice, RoleMember, at(3*time.Minute))},
			state: StateCorroborated, confirmers: []crypto.MemberID{reporter, alice}},
		{name: "confirm at the window's end counts", updates: []*Message{f.confirm(root, alice, RoleMember, at(20*time.Minute))},
			state: StateCorroborated, confirmers: []crypto.MemberID{reporter, alice}},
		{name: "confirm 1ms after the window does not corroborate", updates: []*Message{f.confirm(root, alice, RoleMember, at(20*time.Minute+time.Millisecond))},
			state: StateUnconfirmed, confirmers: []crypto.MemberID{reporter, alice}},
		{name: "late and early confirm by one member: the early one counts", updates: []*Message{
			f.confirm(root, alice, RoleMember, at(50*time.Minute)), f.confirm(root, alice, RoleMember, at(5*time.Minute))},
			state: StateCorroborated, confirmers: []crypto.MemberID{reporter, alice}},
		{name: "reporter's own confirm counts once", updates: []*Message{
			f.confirm(root, reporter, RoleMember, at(time.Minute)), f.confirm(root, reporter, RoleMember, at(2*time.Minute))},
			state: StateUnconfirmed, confirmers: []crypto.MemberID{reporter}},
		{name: "same member three times, k=3", settings: Settings{3, 20 * time.Minute}, updates: []*Message{
			f.confirm(root, alice, RoleMember, at(time.Minute)), f.confirm(root, alice, RoleMember, at(2*time.Minute)), f.confirm(root, alice, RoleMember, at(3*time.Minute))},
			state: StateUnconfirmed, confirmers: []crypto.MemberID{reporter, alice}},
		{name: "two distinct members, k=3", settings: Settings{3, 20 * time.Minute}, updates: []*Message{
			f.confirm(root, alice, RoleMember, at(time.Minute)), f.confirm(root, alice, RoleMember, at(2*time.Minute)), f.confirm(root, bob, RoleMember, at(4*time.Minute))},
			state: StateCorroborated, confirmers: []crypto.MemberID{reporter, alice, bob}},
		{name: "confirm before the sighting ignored", updates: []*Message{f.confirm(root, alice, RoleMember, at(-time.Millisecond))},
			state: StateUnconfirmed, confirmers: []crypto.MemberID{reporter}},
		{name: "confirm at the sighting's ms counts", updates: []*Message{f.confirm(root, alice, RoleMember, t0)},
			state: StateCorroborated, confirmers: []crypto.MemberID{reporter, alice}},
		{name: "confirm after the sighting expired ignored", updates: []*Message{f.confirm(root, alice, RoleMember, root.Alert.Expires)},
			state: StateUnconfirmed, confirmers: []crypto.MemberID{reporter}},
		{name: "confirm of another alert ignored", updates: []*Message{wrongRef},
			state: StateUnconfirmed, confirmers: []crypto.MemberID{reporter}},
		{name: "confirm from another zone ignored", updates: []*Message{f.update(otherZone, alice, RoleMember, at(time.Minute))},
			state: StateUnconfirmed, confirmers: []crypto.MemberID{reporter}},
		{name: "respond to a sighting ignored", updates: []*Message{f.respond(root, alice, ResponseEnRoute, at(time.Minute))},
			state: StateUnconfirmed, confirmers: []crypto.MemberID{reporter}},
		{name: "verified by a verifier", updates: []*Message{f.confirm(root, vera, RoleVerifier, at(time.Minute))},
			state: StateVerified, confirmers: []crypto.MemberID{reporter, vera}, verified: true},
		{name: "verified by an organizer outside the window", updates: []*Message{f.confirm(root, olga, RoleOrganizer, at(2*time.Hour))},
			state: StateVerified, confirmers: []crypto.MemberID{reporter, olga}, verified: true},
		{name: "verified beats corroborated", updates: []*Message{f.confirm(root, alice, RoleMember, at(time.Minute)), f.confirm(root, vera, RoleVerifier, at(2*time.Minute))},
			state: StateVerified, confirmers: []crypto.MemberID{reporter, alice, vera}, verified: true},
		{name: "retraction by reporter", updates: []*Message{f.confirm(root, alice, RoleMember, at(time.Minute)), retractByReporter},
			state: StateCleared, confirmers: []crypto.MemberID{reporter, alice}, clear: retractByReporter},
		{name: "retraction by another member ignored", updates: []*Message{f.clear(root, alice, RoleMember, ClearRetracted, at(time.Minute))},
			state: StateUnconfirmed, confirmers: []crypto.MemberID{reporter}},
		{name: "retraction by a verifier who did not send it ignored", updates: []*Message{f.clear(root, vera, RoleVerifier, ClearRetracted, at(time.Minute))},
			state: StateUnconfirmed, confirmers: []crypto.MemberID{reporter}},
		{name: "all clear by a member ignored", updates: []*Message{f.clear(root, alice, RoleMember, ClearAllClear, at(time.Minute))},
			state: StateUnconfirmed, confirmers: []crypto.MemberID{reporter}},
		{name: "all clear by a verifier", updates: []*Message{allClearByVera},
			state: StateCleared, confirmers: []crypto.MemberID{reporter}, clear: allClearByVera},
		{name: "earliest clear wins", updates: []*Message{allClearByVera, earlierAllClear},
			state: StateCleared, confirmers: []crypto.MemberID{reporter}, clear: earlierAllClear},
		{name: "confirms after the clear do not count", updates: []*Message{
			allClearByVera, f.confirm(root, vera, RoleVerifier, at(41*time.Minute)), f.confirm(root, alice, RoleMember, at(40*time.Minute))},
			state: StateCleared, confirmers: []crypto.MemberID{reporter}, clear: allClearByVera},
		{name: "expired", now: root.Alert.Expires, updates: []*Message{f.confirm(root, alice, RoleMember, at(time.Minute))},
			state: StateExpired, confirmers: []crypto.MemberID{reporter, alice}},
		{name: "verified, then expired", now: root.Alert.Expires.Add(time.Hour), updates: []*Message{f.confirm(root, vera, RoleVerifier, at(time.Minute))},
			state: StateExpired, confirmers: []crypto.MemberID{reporter, vera}, verified: true},
		{name: "cleared beats expired", now: root.Alert.Expires, updates: []*Message{allClearByVera},
			state: StateCleared, confirmers: []crypto.MemberID{reporter}, clear: allClearByVera},
		{name: "1ms before expiry", now: root.Alert.Expires.Add(-time.Millisecond), state: StateUnconfirmed, confirmers: []crypto.MemberID{reporter}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := c.settings
			if s == (Settings{}) {
				s = DefaultSettings()
			}
			now := c.now
			if now.IsZero() {
				now = at(time.Hour)
			}
			v := Fold(root, c.updates, s, now)
			if v.Root != root || v.State != c.state || v.Verified != c.verified || !slices.Equal(v.Confirmers, c.confirmers) || v.Clear != c.clear {
				t.Errorf("Fold = state %s verified %v confirmers %d clear %v; want %s %v %d %v",
					v.State, v.Verified, len(v.Confirmers), v.Clear != nil, c.state, c.verified, len(c.confirmers), c.clear != nil)
			}
			if v.Responses != nil {
				t.Errorf("a sighting has responses")
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
			if v := Fold(root, c.updates, DefaultSettings(), at(time.Hour)); v.State != c.state {
				t.Errorf("state %s, want %s", v.State, c.state)
			}
		})
	}
}

func TestFoldCallout(t *testing.T) {
	f := newStateFixture(t, RoleMember)
	root := f.callout
	endByOtto := f.clear(root, otto, RoleOrganizer, ClearAllClear, at(2*time.Hour))
	retractByOlga := f.clear(root, olga, RoleOrganizer, ClearRetracted, at(3*time.Hour))
	cases := []struct {
		name      string
		updates   []*Message
		now       time.Time
		state     State
		responses map[crypto.MemberID]Response
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
		{name: "end by a verifier ignored", updates: []*Message{f.clear(root, vera, RoleVerifier, ClearAllClear, at(time.Hour))},
			state: StateActive, responses: map[crypto.MemberID]Response{}},
		{name: "end by a member ignored", updates: []*Message{f.clear(root, alice, RoleMember, ClearAllClear, at(time.Hour))},
			state: StateActive, responses: map[crypto.MemberID]Response{}},
		{name: "retraction by a member ignored", updates: []*Message{f.clear(root, alice, RoleMember, ClearRetracted, at(time.Hour))},
			state: StateActive, responses: map[crypto.MemberID]Response{}},
		{name: "end by another organizer", updates: []*Message{endByOtto},
			state: StateCleared, responses: map[crypto.MemberID]Response{}, clear: endByOtto},
		{name: "retraction by its organizer", updates: []*Message{retractByOlga},
			state: StateCleared, responses: map[crypto.MemberID]Response{}, clear: retractByOlga},
		{name: "answers after the end do not count", updates: []*Message{
			f.respond(root, alice, ResponseEnRoute, at(time.Minute)), endByOtto, f.respond(root, alice, ResponseCannot, at(2*time.Hour+time.Second)), f.respond(root, bob, ResponseOnScene, at(2*time.Hour))},
			state: StateCleared, responses: map[crypto.MemberID]Response{alice: ResponseEnRoute}, clear: endByOtto},
		{name: "expired", now: root.Alert.Expires, updates: []*Message{f.respond(root, alice, ResponseEnRoute, at(time.Minute))},
			state: StateExpired, responses: map[crypto.MemberID]Response{alice: ResponseEnRoute}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			now := c.now
			if now.IsZero() {
				now = at(4 * time.Hour)
			}
			v := Fold(root, c.updates, DefaultSettings(), now)
			if v.State != c.state || v.Clear != c.clear || len(v.Confirmers) != 0 || v.Verified {
				t.Errorf("Fold = state %s clear %v, want %s %v", v.State, v.Clear != nil, c.state, c.clear != nil)
			}
			if !mapsEqual(v.Responses, c.responses) {
				t.Errorf("responses %v, want %v", v.Responses, c.responses)
			}
		})
	}

	v := Fold(root, []*Message{
		f.respond(root, alice, ResponseEnRoute, at(time.Minute)), f.respond(root, bob, ResponseEnRoute, at(time.Minute)),
		f.respond(root, carol, ResponseOnScene, at(time.Minute)), f.respond(root, bob, ResponseOnScene, at(5*time.Minute)),
	}, DefaultSettings(), at(time.Hour))
	if v.Count(ResponseEnRoute) != 1 || v.Count(ResponseOnScene) != 2 || v.Count(ResponseCannot) != 0 {
		t.Errorf("Count: enroute %d onscene %d cannot %d", v.Count(ResponseEnRoute), v.Count(ResponseOnScene), v.Count(ResponseCannot))
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

type foldSummary struct {
	state      State
	confirmers map[crypto.MemberID]bool
	first      crypto.MemberID
	verified   bool
	responses  map[crypto.MemberID]Response
	clear      AlertID
}

func summarize(v View) foldSummary {
	s := foldSummary{state: v.State, confirmers: ids(v.Confirmers), verified: v.Verified, responses: v.Responses}
	if len(v.Confirmers) > 0 {
		s.first = v.Confirmers[0]
	}
	if v.Clear != nil {
		s.clear = v.Clear.ID
	}
	return s
}

func sameSummary(a, b foldSummary) bool {
	if a.state != b.state || a.first != b.first || a.verified != b.verified || a.clear != b.clear || len(a.confirmers) != len(b.confirmers) || !mapsEqual(a.responses, b.responses) {
		return false
	}
	for k := range a.confirmers {
		if !b.confirmers[k] {
			return false
		}
	}
	return true
}

func TestFoldOrderIndependent(t *testing.T) {
	f := newStateFixture(t, RoleMember)
	msgs := orderMessages(f)
	if len(msgs) < 28 {
		t.Fatalf("only %d messages", len(msgs))
	}
	for _, root := range []*Message{f.sighting, f.callout} {
		t.Run(root.Alert.Kind.String(), func(t *testing.T) {
			for _, now := range []time.Time{at(time.Hour), root.Alert.Expires} {
				want := summarize(Fold(root, msgs, DefaultSettings(), now))
				rng := rand.New(rand.NewPCG(1, uint64(root.Alert.Kind)))
				for i := 0; i < 200; i++ {
					shuffled := slices.Clone(msgs)
					rng.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
					if got := summarize(Fold(root, shuffled, DefaultSettings(), now)); !sameSummary(got, want) {
						t.Fatalf("shuffle %d: %+v, want %+v", i, got, want)
					}
				}
			}
		})
	}

	// What the fixed set folds to, so the property is not vacuous.
	sv := Fold(f.sighting, msgs, DefaultSettings(), at(time.Hour))
	if sv.State != StateCleared || !sv.Verified || len(sv.Confirmers) != 4 || sv.Clear == nil || !sv.Clear.Alert.Sent.Equal(at(45*time.Minute)) {
		t.Errorf("sighting view: %s verified=%v confirmers=%d", sv.State, sv.Verified, len(sv.Confirmers))
	}
	cv := Fold(f.callout, msgs, DefaultSettings(), at(time.Hour))
	if cv.State != StateCleared || cv.Clear == nil || cv.Clear.Alert.Sender != otto || len(cv.Responses) != 3 || cv.Responses[bob] != ResponseEnRoute || cv.Responses[carol] != ResponseOnScene {
		t.Errorf("callout view: %s responses=%v", cv.State, cv.Responses)
	}
}
