package protocol

import (
	"bytes"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"lookout/crypto"
)

// State is where an alert is in its lifecycle. Every node computes it with
// Fold from the same set of messages, in any order of arrival.
type State string

const (
	StateUnconfirmed    State = "unconfirmed"     // a sighting nobody else has confirmed yet
	StateCorroborated   State = "corroborated"    // enough distinct witnesses reported or confirmed it in time
	StateVerified       State = "verified"        // a verifier or organizer confirmed it
	StateActive         State = "active"          // a callout in force
	StateAwaitingCosign State = "awaiting-cosign" // a callout that needs and lacks a second organizer
	StateCleared        State = "cleared"         // all clear, retraction, or end of a callout
	StateExpired        State = "expired"
)

// RateWindow is the period of the per-member rate limits of Settings.
const RateWindow = 10 * time.Minute

// IncidentWindow is how long after an incident's first sighting another
// report of the same place joins it (see Incidents).
const IncidentWindow = 15 * time.Minute

// Settings are a zone's lifecycle parameters and per-member limits. An
// organizer changes them with a KindSettings message (see FoldRoster). A
// zero field means its default (zero is never a valid setting on the wire).
type Settings struct {
	// Corroborations is how many distinct members (reporters and
	// confirmers, each counting once) make a sighting corroborated.
	Corroborations int
	// CorroborationWindow is how long after an incident's primary sighting
	// reports and confirmations count towards corroboration.
	CorroborationWindow time.Duration
	// Expiry: a sighting (incident) expires this long after its last
	// counted activity (report or confirm).
	Expiry time.Duration
	// Cosign: callouts need a second organizer's cosign to be active.
	Cosign bool
	// MaxReports is how many sightings a member may send per RateWindow.
	MaxReports int
	// MaxConfirms is how many confirms a member may send per RateWindow.
	MaxConfirms int
	// AutoShare is what the zone's link end nodes share on their own.
	AutoShare AutoShare
}

// DefaultSettings are used unless a zone says otherwise: 2 witnesses within
// 20 minutes, expiry 4 hours after the last activity, no cosign, 10
// reports and 30 confirms per member per RateWindow.
func DefaultSettings() Settings {
	return Settings{Corroborations: 2, CorroborationWindow: 20 * time.Minute, Expiry: 4 * time.Hour,
		MaxReports: 10, MaxConfirms: 30}
}

// withDefaults fills zero (or negative) fields from DefaultSettings.
func (s Settings) withDefaults() Settings {
	d := DefaultSettings()
	if s.Corroborations <= 0 {
		s.Corroborations = d.Corroborations
	}
	if s.CorroborationWindow <= 0 {
		s.CorroborationWindow = d.CorroborationWindow
	}
	if s.Expiry <= 0 {
		s.Expiry = d.Expiry
	}
	if s.MaxReports <= 0 {
		s.MaxReports = d.MaxReports
	}
	if s.MaxConfirms <= 0 {
		s.MaxConfirms = d.MaxConfirms
	}
	return s
}

// Wire returns the settings as carried by a KindSettings message. Values
// that do not fit the wire types are clamped to the type's maximum, so
// that they fail validation instead of wrapping round to a valid value.
func (s Settings) Wire() ZoneSettings {
	clamp := func(v, hi int) int { return min(max(v, 0), hi) }
	return ZoneSettings{
		Quorum:      uint8(clamp(s.Corroborations, 0xff)),
		Window:      s.CorroborationWindow,
		Expiry:      s.Expiry,
		Cosign:      s.Cosign,
		MaxReports:  uint16(clamp(s.MaxReports, 0xffff)),
		MaxConfirms: uint16(clamp(s.MaxConfirms, 0xffff)),
		AutoShare:   s.AutoShare,
	}
}

// SettingsFromWire converts settings received in a KindSettings message.
func SettingsFromWire(z ZoneSettings) Settings {
	return Settings{
		Corroborations:      int(z.Quorum),
		CorroborationWindow: z.Window,
		Expiry:              z.Expiry,
		Cosign:              z.Cosign,
		MaxReports:          int(z.MaxReports),
		MaxConfirms:         int(z.MaxConfirms),
		AutoShare:           z.AutoShare,
	}
}

// View is the folded state of an incident (one or more sightings of the
// same place) or of a callout.
type View struct {
	// Root is the incident's primary sighting (its earliest sighting that
	// has not been retracted), or the callout.
	Root *Message
	// Current holds the fields to show. Callouts: the latest counted
	// organizer update (or the root's); sightings: Root.Alert.
	Current *Alert
	State   State
	// Incident is the ID of the incident's earliest sighting; it does not
	// change when that sighting is retracted. Callouts: Root.ID.
	Incident AlertID
	// Sightings lists the sightings of the incident, Root first, then the
	// others in (sent, ID) order, retracted ones included. Callouts: nil.
	Sightings []AlertID
	// Confirmers are the incident's witnesses, distinct: Root's reporter
	// first, then the reporters of the other standing sightings and the
	// senders of counted confirms, in the order of their first report or
	// confirm. Callouts: nil.
	Confirmers []crypto.MemberID
	Verified   bool
	// VerifiedBy are the distinct verifiers and organizers, other than
	// Root's reporter, who confirmed, in order.
	VerifiedBy []crypto.MemberID
	// Responses holds each member's latest counted answer. Callouts only.
	Responses map[crypto.MemberID]Response
	// Cosigners are the distinct organizers, other than the callout's
	// sender, who co-signed it before it ended. Callouts only.
	Cosigners []crypto.MemberID
	// Clear is the message that ended it, if any.
	Clear *Message
	// Latest is the latest standing report of an incident (the earliest
	// sighting if none stands): its text is the newest information.
	// MaxSize is the largest size among the standing reports (all reports
	// if none stands). Callouts: nil and 0.
	Latest  *Alert
	MaxSize uint16
	// Withdrawn lists the incident's sightings whose reporter retracted
	// them before it ended. Callouts: nil.
	Withdrawn []AlertID
	// Notes are the counted clears, before the end, that did not end the
	// incident, in order: a reporter withdrawing one report, or a member
	// saying the agents left (a clear from someone not entitled to end
	// it, at most one per member: their first), for a verifier to act on.
	// Callouts: nil.
	Notes []*Message
	// Expires is when it turns (or turned) expired. Sightings: the
	// earlier of the latest Alert.Expires of its sightings and its last
	// counted activity plus Settings.Expiry. Callouts: Current.Expires.
	Expires time.Time
}

// Count returns how many members gave response r.
func (v *View) Count(r Response) int {
	n := 0
	for _, x := range v.Responses {
		if x == r {
			n++
		}
	}
	return n
}

// Event classes, for the order within one millisecond: a root before the
// updates that refer to it, and a clear before other updates, so that
// nothing else sent in the clear's millisecond counts.
const (
	classRoot = iota
	classClear
	classOther
)

func class(m *Message) int {
	switch {
	case !m.Alert.IsUpdate():
		return classRoot
	case m.Alert.Kind == KindClear:
		return classClear
	}
	return classOther
}

// cmpEvents orders by sent time, then class, then alert ID, then role (so
// that of two copies of one alert the lower role comes first).
func cmpEvents(a, b *Message) int {
	if c := a.Alert.Sent.Compare(b.Alert.Sent); c != 0 {
		return c
	}
	if c := class(a) - class(b); c != 0 {
		return c
	}
	if c := bytes.Compare(a.ID[:], b.ID[:]); c != 0 {
		return c
	}
	return int(a.Role) - int(b.Role)
}

// sortUnique sorts ms by cmpEvents and keeps one message per alert ID: the
// one with the lowest role, so the result depends only on the set.
func sortUnique(ms []*Message) []*Message {
	slices.SortFunc(ms, cmpEvents)
	return slices.CompactFunc(ms, func(a, b *Message) bool { return a.ID == b.ID })
}

func usable(m *Message) bool { return m != nil && m.Signed != nil && m.Alert != nil }

// Fold folds an incident (one or more sightings, in any order) or a single
// callout with all the updates that refer to any of them; updates that refer
// to other alerts are ignored, so the caller may pass all it has.
//
// removed reports a removed member: nothing they sent counts (not their
// reports or callouts, confirms, responses, cosigns or clears). nil means
// nobody is removed. If no root counts, Fold returns the zero View (nil
// Root): nothing to show.
//
// If roots hold sightings, the callouts among them are ignored; of several
// callouts, the earliest is folded. The rules are in docs/protocol.md,
// "State machine". The result depends only on the sets of messages, not on
// their order or on duplicates.
func Fold(roots []*Message, updates []*Message, s Settings, removed func(crypto.MemberID) bool, now time.Time) View {
	s = s.withDefaults()
	gone := func(m crypto.MemberID) bool { return removed != nil && removed(m) }
	var sightings, callouts []*Message
	for _, r := range roots {
		if !usable(r) || !r.Alert.IsRoot() || gone(r.Alert.Sender) {
			continue
		}
		if r.Alert.Kind == KindSighting {
			sightings = append(sightings, r)
		} else {
			callouts = append(callouts, r)
		}
	}
	switch {
	case len(sightings) > 0:
		return foldIncident(sortUnique(sightings), updates, s, gone, now)
	case len(callouts) > 0:
		return foldCallout(sortUnique(callouts)[0], updates, s, gone, now)
	}
	return View{}
}

// counted returns the updates that count for the roots in byID: ref to one
// of them, same zone and status as the primary, sender not removed, sent
// no earlier than that root and, if bounded, before its Alert.Expires.
// Sorted by cmpEvents, one per alert ID.
func counted(updates []*Message, byID map[AlertID]*Message, primary *Alert, gone func(crypto.MemberID) bool, bounded bool) []*Message {
	var out []*Message
	for _, u := range updates {
		if !usable(u) || !u.Alert.IsUpdate() {
			continue
		}
		a := u.Alert
		r, ok := byID[a.Ref]
		// Practice and real messages never mix: an exercise confirm does
		// not corroborate a real sighting, nor the other way round.
		if !ok || a.Zone != primary.Zone || a.Status != primary.Status || gone(a.Sender) ||
			a.Sent.Before(r.Alert.Sent) || (bounded && !a.Sent.Before(r.Alert.Expires)) {
			continue
		}
		out = append(out, u)
	}
	return sortUnique(out)
}

func foldIncident(ss []*Message, updates []*Message, s Settings, gone func(crypto.MemberID) bool, now time.Time) View {
	first := ss[0].Alert
	byID := make(map[AlertID]*Message, len(ss))
	events := make([]*Message, 0, len(ss)+len(updates))
	for _, m := range ss {
		if m.Alert.Zone == first.Zone && m.Alert.Status == first.Status {
			byID[m.ID] = m
			events = append(events, m)
		}
	}
	events = append(events, counted(updates, byID, first, gone, true)...)
	slices.SortFunc(events, cmpEvents)

	// Walk the timeline. The first event is the earliest sighting: every
	// update is sent no earlier than the sighting it refers to, and at the
	// same millisecond roots come first.
	var (
		part      []*Message // sightings of the incident
		acts      []*Message // its reports and counted confirms, in order
		standing  = map[AlertID]bool{}
		nStanding int
		maxExp    time.Time // latest Alert.Expires of its sightings
		last      time.Time // last counted activity
		clear     *Message
		notes     []*Message
		noted     = map[crypto.MemberID]bool{} // senders of "they left" notes
		reporters = map[crypto.MemberID]bool{}
		others    = false // a confirm from someone who reported nothing
	)
	expiry := func() time.Time {
		e := last.Add(s.Expiry)
		if maxExp.Before(e) {
			return maxExp
		}
		return e
	}
	for _, e := range events {
		a := e.Alert
		if len(part) > 0 && !a.Sent.Before(expiry()) {
			break // expired: nothing from now on counts
		}
		switch {
		case a.Kind == KindSighting:
			part = append(part, e)
			acts = append(acts, e)
			standing[e.ID] = true
			nStanding++
			reporters[a.Sender] = true
			if a.Expires.After(maxExp) {
				maxExp = a.Expires
			}
			last = a.Sent
		case a.Kind == KindConfirm:
			acts = append(acts, e)
			others = others || !reporters[a.Sender]
			last = a.Sent
		case a.Kind == KindClear && a.Reason == ClearAllClear && e.Role >= RoleVerifier:
			clear = e
		case a.Kind == KindClear && a.Reason == ClearRetracted && a.Sender == byID[a.Ref].Alert.Sender && standing[a.Ref]:
			// A reporter withdraws their own report. The incident ends
			// when no report stands, unless someone else witnessed it
			// (a confirm from a member who reported nothing, which
			// includes every verification): then a verifier or an
			// organizer ends it, or it expires.
			standing[a.Ref] = false
			nStanding--
			if nStanding == 0 && !others {
				clear = e
			} else {
				notes = append(notes, e)
			}
		case a.Kind == KindClear && !noted[a.Sender]:
			// "They left" from a member: shown, not obeyed; one per
			// member, so that nobody can bury the card in notes.
			noted[a.Sender] = true
			notes = append(notes, e)
		}
		if clear != nil {
			break
		}
	}

	// Cleared by its last retraction, the incident is shown as it was:
	// its earliest sighting, all its reporters. Otherwise only standing
	// reports count.
	asItWas := nStanding == 0 && clear != nil
	stands := func(m *Message) bool { return asItWas || standing[m.ID] }
	root := part[0]
	for _, m := range part {
		if stands(m) {
			root = m
			break
		}
	}
	v := View{Root: root, Current: root.Alert, Incident: part[0].ID, Clear: clear, Expires: expiry(), Notes: notes, Latest: root.Alert}
	v.Sightings = append(v.Sightings, root.ID)
	for _, m := range part {
		if m != root {
			v.Sightings = append(v.Sightings, m.ID)
		}
		if !standing[m.ID] && !asItWas {
			v.Withdrawn = append(v.Withdrawn, m.ID)
		}
		if stands(m) || nStanding == 0 {
			v.Latest = m.Alert // part is in time order: the last one wins
			v.MaxSize = max(v.MaxSize, m.Alert.Size)
		}
	}
	if nStanding == 0 {
		v.Latest = part[0].Alert
	}

	reporter := root.Alert.Sender
	deadline := root.Alert.Sent.Add(s.CorroborationWindow)
	seen := map[crypto.MemberID]bool{}
	if stands(root) {
		v.Confirmers = []crypto.MemberID{reporter}
		seen[reporter] = true
	}
	verifiers := map[crypto.MemberID]bool{}
	inWindow := len(v.Confirmers)
	for _, m := range acts {
		a := m.Alert
		if a.Kind == KindSighting && !stands(m) {
			continue
		}
		if a.Kind == KindConfirm && m.Role >= RoleVerifier && a.Sender != reporter && !verifiers[a.Sender] {
			verifiers[a.Sender] = true
			v.VerifiedBy = append(v.VerifiedBy, a.Sender)
		}
		if seen[a.Sender] {
			continue
		}
		seen[a.Sender] = true
		v.Confirmers = append(v.Confirmers, a.Sender)
		if !a.Sent.After(deadline) {
			inWindow++
		}
	}
	// A sighting that came over a link was verified in its zone: the
	// linked zone's endorser vouches for it (see link.go).
	v.Verified = len(v.VerifiedBy) > 0 || root.Alert.Via != nil
	switch {
	case clear != nil:
		v.State = StateCleared
	case !now.Before(v.Expires):
		v.State = StateExpired
	case v.Verified:
		v.State = StateVerified
	case inWindow >= s.Corroborations:
		v.State = StateCorroborated
	default:
		v.State = StateUnconfirmed
	}
	return v
}

func foldCallout(root *Message, updates []*Message, s Settings, gone func(crypto.MemberID) bool, now time.Time) View {
	// A callout's expiry is its current one, which an update can move:
	// the walk below stops there.
	ups := counted(updates, map[AlertID]*Message{root.ID: root}, root.Alert, gone, false)
	v := View{Root: root, Current: root.Alert, Incident: root.ID, Responses: make(map[crypto.MemberID]Response)}
	cosigned := map[crypto.MemberID]bool{}
	for _, u := range ups {
		a := u.Alert
		if !a.Sent.Before(v.Current.Expires) {
			break // expired: nothing from now on counts
		}
		organizer := u.Role == RoleOrganizer
		switch a.Kind {
		case KindCallout:
			if organizer {
				v.Current = a
			}
		case KindRespond:
			v.Responses[a.Sender] = a.Response // in order, so the latest wins
		case KindCosign:
			if organizer && a.Sender != root.Alert.Sender && !cosigned[a.Sender] {
				cosigned[a.Sender] = true
				v.Cosigners = append(v.Cosigners, a.Sender)
			}
		case KindClear:
			// Any organizer may end a callout; only its sender retracts it.
			if organizer && (a.Reason == ClearAllClear || a.Sender == root.Alert.Sender) {
				v.Clear = u
			}
		}
		if v.Clear != nil {
			break
		}
	}
	v.Expires = v.Current.Expires
	switch {
	case v.Clear != nil:
		v.State = StateCleared
	case !now.Before(v.Expires):
		v.State = StateExpired
	case s.Cosign && len(v.Cosigners) == 0:
		v.State = StateAwaitingCosign
	default:
		v.State = StateActive
	}
	return v
}

// Incidents groups sightings into incidents, ignoring anything that is not
// a sighting and duplicates. Sightings are taken in (sent, ID) order; each
// joins the earliest group whose primary (first sighting) is in the same
// zone, has the same NormalizePlace(Area) and the same status, and was sent
// at most window before it; otherwise it starts a group. Each group lists
// its primary first, then the rest in (sent, ID) order. The result depends
// only on the set of sightings.
func Incidents(sightings []*Message, window time.Duration) [][]*Message {
	var ss []*Message
	for _, m := range sightings {
		if usable(m) && m.Alert.Kind == KindSighting && !m.Alert.IsUpdate() {
			ss = append(ss, m)
		}
	}
	ss = sortUnique(ss)
	type key struct {
		zone   ZoneID
		status Status
		place  string
		via    Digest // a sighting from a link is an incident of its own
	}
	var groups [][]*Message
	open := map[key][]int{} // groups by key, oldest first
	for _, m := range ss {
		k := key{m.Alert.Zone, m.Alert.Status, NormalizePlace(m.Alert.Area), Digest{}}
		if m.Alert.Via != nil {
			k.via = m.Alert.Via.Digest
		}
		gs := open[k]
		// Sightings come in time order: a group too old for this one is
		// too old for every later one.
		for len(gs) > 0 && m.Alert.Sent.Sub(groups[gs[0]][0].Alert.Sent) > window {
			gs = gs[1:]
		}
		if len(gs) > 0 {
			groups[gs[0]] = append(groups[gs[0]], m)
		} else {
			groups = append(groups, []*Message{m})
			gs = append(gs, len(groups)-1)
		}
		open[k] = gs
	}
	return groups
}

// NormalizePlace reduces a place description to the form Incidents
// compares (docs/protocol.md, "Incidents"): Unicode lower case; accents
// removed (NFD, then combining marks deleted); apostrophes (U+0027,
// U+2019, U+02BC) deleted; every other punctuation, symbol or control
// character a word break; each word then looked up in placeWords (common
// abbreviations in English, French and Spanish, and the connectors
// and/et/y, which are dropped); words joined by one space. So
// "Jarry & St-Denis" and "jarry et saint-denis" are the same place, and
// so are "Queen St. W & Dunn Ave" and "queen street w / dunn avenue".
func NormalizePlace(s string) string {
	// NFD, delete combining marks, NFC: "é" → "e". (norm.Form is safe
	// for concurrent use; a transform.Transformer chain is not.) ASCII
	// has no marks: the common case skips normalization.
	s = strings.ToLower(s)
	ascii := true
	for i := 0; i < len(s) && ascii; i++ {
		ascii = s[i] < utf8.RuneSelf
	}
	if !ascii {
		s = norm.NFD.String(s)
	}
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.Is(unicode.Mn, r):
			return -1
		case r == '\'' || r == '\u2019' || r == '\u02bc':
			return -1 // so that "O'Connor" and "OConnor" match
		}
		return r
	}, s)
	if !ascii {
		s = norm.NFC.String(s)
	}
	words := strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.IsControl(r)
	})
	out := words[:0]
	for _, w := range words {
		if short, ok := placeWords[w]; ok {
			w = short
		}
		if w != "" {
			out = append(out, w)
		}
	}
	return strings.Join(out, " ")
}

// placeWords folds whole words of a normalized place: long forms to one
// short form, connectors to nothing. Every node folds alike, so changing
// this table changes which reports are one incident: it is part of the
// protocol (docs/protocol.md, "Incidents").
var placeWords = map[string]string{
	"saint": "st", "sainte": "ste", "street": "st",
	"avenue": "av", "ave": "av", "avenida": "av",
	"boulevard": "bd", "boul": "bd", "blvd": "bd",
	"road": "rd", "chemin": "ch", "calle": "c",
	"north": "n", "nord": "n", "south": "s", "sud": "s",
	"east": "e", "est": "e", "west": "w", "ouest": "o",
	"and": "", "et": "", "y": "",
}
