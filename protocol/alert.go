package protocol

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"
	"unicode/utf8"

	"lookout/crypto"
)

// Kind is the kind of an alert.
type Kind uint8

const (
	KindSighting Kind = 1  // enforcement activity seen (SALUTE fields)
	KindCallout  Kind = 2  // organizer asks people to come (organizers only)
	KindConfirm  Kind = 3  // a witness corroborates a sighting
	KindRespond  Kind = 4  // answer to a callout
	KindClear    Kind = 5  // all clear, retraction, or end of a callout
	KindCosign   Kind = 6  // a second organizer co-signs a callout
	KindMember   Kind = 7  // a member announces its display name and KEM key
	KindRole     Kind = 8  // an organizer grants a role: carries the certificate
	KindRemove   Kind = 9  // an organizer removes a member
	KindRekey    Kind = 10 // one part of a new epoch's zone secret, sealed per member
	KindSettings Kind = 11 // an organizer changes the zone's settings
	KindLink     Kind = 12 // an organizer offers, accepts or ends a link to another zone
	KindShare    Kind = 13 // a verifier or organizer shares an alert over the zone's links
	KindTally    Kind = 14 // responder totals for a shared callout from a linked zone
	KindCards    Kind = 15 // an organizer publishes the zone's know-your-rights cards for one language
	KindPlace    Kind = 16 // one operation on an entry of the zone's safe-services directory
	KindSnapshot Kind = 17 // an organizer names the superseded governance messages catch-up may skip (version 4)
)

var kindNames = map[Kind]string{KindSighting: "sighting", KindCallout: "callout", KindConfirm: "confirm", KindRespond: "respond", KindClear: "clear",
	KindCosign: "cosign", KindMember: "member", KindRole: "role", KindRemove: "remove", KindRekey: "rekey", KindSettings: "settings",
	KindLink: "link", KindShare: "share", KindTally: "tally", KindCards: "cards", KindPlace: "place",
	KindSnapshot: "snapshot"}

func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// IsGovernance reports whether the kind manages the zone rather than
// alerting: member, role, remove, rekey, settings and link, and the zone
// documents cards and place (kept and synced the same way).
func (k Kind) IsGovernance() bool {
	return (k >= KindMember && k <= KindSettings) || k == KindLink || k.IsZoneDoc() || k == KindSnapshot
}

// IsZoneDoc reports whether the kind is a zone document: cards or place.
func (k Kind) IsZoneDoc() bool { return k == KindCards || k == KindPlace }

// needsRef reports whether the kind always refers to another alert.
func (k Kind) needsRef() bool {
	return k == KindConfirm || k == KindRespond || k == KindClear || k == KindCosign || k == KindShare || k == KindTally
}

// IsRoot reports whether the alert is a sighting or a new callout: the
// alerts shown as cards. A callout with a Ref updates that callout.
func (a *Alert) IsRoot() bool {
	return a.Kind == KindSighting || (a.Kind == KindCallout && a.Ref.IsZero())
}

// IsUpdate reports whether the alert refers to another alert: confirm,
// respond, clear, cosign, or a callout update.
func (a *Alert) IsUpdate() bool { return !a.Ref.IsZero() }

// Status is CAP's status: real or practice.
type Status uint8

const (
	StatusActual   Status = 1
	StatusExercise Status = 2
)

// Urgency, Severity and Certainty follow CAP 1.2; 0 is not allowed.
type (
	Urgency   uint8
	Severity  uint8
	Certainty uint8
)

const (
	UrgencyImmediate Urgency = 1
	UrgencyExpected  Urgency = 2
	UrgencyFuture    Urgency = 3
	UrgencyPast      Urgency = 4
	UrgencyUnknown   Urgency = 5

	SeverityExtreme  Severity = 1
	SeveritySevere   Severity = 2
	SeverityModerate Severity = 3
	SeverityMinor    Severity = 4
	SeverityUnknown  Severity = 5

	CertaintyObserved Certainty = 1
	CertaintyLikely   Certainty = 2
	CertaintyPossible Certainty = 3
	CertaintyUnlikely Certainty = 4
	CertaintyUnknown  Certainty = 5
)

// Response is a member's answer to a callout.
type Response uint8

const (
	ResponseEnRoute Response = 1
	ResponseOnScene Response = 2
	ResponseCannot  Response = 3
)

var responseNames = map[Response]string{ResponseEnRoute: "enroute", ResponseOnScene: "onscene", ResponseCannot: "cannot"}

func (r Response) String() string { return responseNames[r] }

// ParseResponse parses "enroute", "onscene" or "cannot".
func ParseResponse(s string) (Response, error) {
	for r, n := range responseNames {
		if n == s {
			return r, nil
		}
	}
	return 0, fmt.Errorf("%w: response %q (use enroute, onscene or cannot)", ErrEnum, s)
}

// ClearReason says why an alert was cleared.
type ClearReason uint8

const (
	ClearAllClear  ClearReason = 1 // a verifier or organizer says it is over
	ClearRetracted ClearReason = 2 // the sender withdraws their own alert
)

func (c ClearReason) String() string {
	switch c {
	case ClearAllClear:
		return "allclear"
	case ClearRetracted:
		return "retracted"
	}
	return ""
}

// ZoneID names a zone. It is public to members only; the gossipsub topic
// is derived from the zone secret instead.
type ZoneID [ZoneIDSize]byte

func (z ZoneID) String() string { return hex.EncodeToString(z[:]) }

// ParseZoneID parses 32 hex characters.
func ParseZoneID(s string) (ZoneID, error) {
	var z ZoneID
	if len(s) != 2*ZoneIDSize {
		return z, fmt.Errorf("zone ID must be %d hex characters", 2*ZoneIDSize)
	}
	if _, err := hex.Decode(z[:], []byte(s)); err != nil {
		return z, fmt.Errorf("zone ID is not hex")
	}
	return z, nil
}

// AlertID is the first 16 bytes of SHA-256("lookout alert id v1" || body).
type AlertID [AlertIDSize]byte

func (a AlertID) String() string { return hex.EncodeToString(a[:]) }
func (a AlertID) IsZero() bool   { return a == AlertID{} }

// ParseAlertID parses 32 hex characters.
func ParseAlertID(s string) (AlertID, error) {
	var a AlertID
	if len(s) != 2*AlertIDSize {
		return a, fmt.Errorf("alert ID must be %d hex characters", 2*AlertIDSize)
	}
	if _, err := hex.Decode(a[:], []byte(s)); err != nil {
		return a, fmt.Errorf("alert ID is not hex")
	}
	return a, nil
}

const alertIDLabel = "lookout alert id v1"

// ComputeAlertID hashes an encoded alert body.
func ComputeAlertID(body []byte) AlertID {
	h := sha256.New()
	h.Write([]byte(alertIDLabel))
	h.Write(body)
	var id AlertID
	copy(id[:], h.Sum(nil))
	return id
}

// Alert is one message of a zone. Common fields follow CAP 1.2; sighting
// fields follow SALUTE. Places are zone-local descriptions, never coordinates.
type Alert struct {
	Kind      Kind
	Zone      ZoneID
	Sender    crypto.MemberID
	Sent      time.Time // millisecond precision
	Expires   time.Time
	Status    Status
	Urgency   Urgency
	Severity  Severity
	Certainty Certainty
	Ref       AlertID // the alert an update refers to; zero for sightings and callouts
	Area      string  // where: place description or cell name

	// Sighting (SALUTE: size, activity, location=Area, uniform, time=Observed, equipment).
	What      string
	Size      uint16
	Activity  string
	Uniform   string
	Equipment string
	Observed  time.Time // zero if not given
	// Quick: codes each reader sees in their own language (version 3).
	Quick Quick

	// Callout.
	Title  string
	When   string
	Need   uint16
	Bring  string
	Rights string
	Card   string // a know-your-rights card's topic ID, or "" (version 3)

	// Confirm and clear.
	Note string
	// Respond.
	Response Response
	// Clear.
	Reason ClearReason

	// Member: display name and X-Wing public key for rekeys.
	Name string
	KEM  []byte
	// Role: the certificate granted (its subject is the member).
	Cert []byte
	// Remove: the member removed.
	Subject crypto.MemberID
	// Rekey: part Part (from 0) of Parts of epoch Epoch's secret.
	Epoch uint32
	Part  uint8
	Parts uint8
	Rekey []RekeyEntry
	// Settings.
	Settings ZoneSettings

	// Link: an offer, acceptance or end of a link (KindLink only).
	Link *LinkRecord
	// Hops: how many links a share may cross (KindShare only).
	Hops uint8
	// Via: set on a sighting, callout or clear that a linked zone's
	// endorser sent over a link, and on every tally (see link.go).
	Via *Forward
	// Tally: responder totals from a linked zone (KindTally only).
	Tally Tally

	// Cards: a zone's card set for one language (KindCards only).
	Cards *CardsDoc
	// Place: one operation on a directory entry (KindPlace only).
	Place *PlaceOp

	// Snapshot: the governance messages it covers (KindSnapshot only).
	Snapshot *SnapshotDoc
}

// RekeyEntry is a new epoch's zone secret sealed to one member.
type RekeyEntry struct {
	Member crypto.MemberID
	Enc    []byte // EncapsulatedKeySize
	Sealed []byte // RekeySealedSize
}

// ZoneSettings are the settings an organizer can change, as carried on
// the wire. Durations are whole seconds.
type ZoneSettings struct {
	Quorum      uint8         // distinct members that corroborate a sighting (1..MaxQuorum)
	Window      time.Duration // corroboration window (1 min .. 24 h)
	Expiry      time.Duration // a sighting expires this long after its last update (10 min .. 7 days)
	Cosign      bool          // callouts need a second organizer
	MaxReports  uint16        // sightings per member per RateWindow (1..MaxRateLimit)
	MaxConfirms uint16        // confirms per member per RateWindow (1..MaxRateLimit)
	AutoShare   AutoShare     // what a link end node shares on its own (version 2)
}

func (z ZoneSettings) validate() error {
	switch {
	case z.Quorum < 1 || z.Quorum > MaxQuorum:
		return &FieldError{Field: "quorum", Err: fmt.Errorf("%w: 1 to %d", ErrEnum, MaxQuorum)}
	case z.Window < time.Minute || z.Window > 24*time.Hour || z.Window%time.Second != 0:
		return &FieldError{Field: "window", Err: fmt.Errorf("%w: whole seconds from 1m to 24h", ErrEnum)}
	case z.Expiry < 10*time.Minute || z.Expiry > MaxLifetime || z.Expiry%time.Second != 0:
		return &FieldError{Field: "expiry", Err: fmt.Errorf("%w: whole seconds from 10m to %s", ErrEnum, MaxLifetime)}
	case z.MaxReports < 1 || z.MaxReports > MaxRateLimit || z.MaxConfirms < 1 || z.MaxConfirms > MaxRateLimit:
		return &FieldError{Field: "rate", Err: fmt.Errorf("%w: 1 to %d", ErrEnum, MaxRateLimit)}
	case z.AutoShare > AutoShareAll:
		return &FieldError{Field: "auto share", Err: ErrEnum}
	}
	return nil
}

// Exercise reports whether the alert is practice.
func (a *Alert) Exercise() bool { return a.Status == StatusExercise }

// Validate checks every field against the rules of its kind. It does not
// check time against a clock; see Validator.
func (a *Alert) Validate() error {
	if _, ok := kindNames[a.Kind]; !ok {
		return &FieldError{Field: "kind", Err: fmt.Errorf("%w: %d", ErrKind, a.Kind)}
	}
	if a.Status != StatusActual && a.Status != StatusExercise {
		return &FieldError{Field: "status", Err: ErrEnum}
	}
	if a.Urgency < 1 || a.Urgency > 5 {
		return &FieldError{Field: "urgency", Err: ErrEnum}
	}
	if a.Severity < 1 || a.Severity > 5 {
		return &FieldError{Field: "severity", Err: ErrEnum}
	}
	if a.Certainty < 1 || a.Certainty > 5 {
		return &FieldError{Field: "certainty", Err: ErrEnum}
	}
	if a.Sender.IsZero() {
		return &FieldError{Field: "sender", Err: ErrMissing}
	}
	if a.Sent.IsZero() || a.Expires.IsZero() {
		return &FieldError{Field: "sent", Err: ErrBadTime}
	}
	// Times are compared as encoded (unix milliseconds), so that whatever
	// passes here also passes ParseAlert on the receiving side.
	sent, expires := unixMilli(a.Sent), unixMilli(a.Expires)
	if !validMilli(sent) {
		return &FieldError{Field: "sent", Err: fmt.Errorf("%w: out of range", ErrBadTime)}
	}
	if !validMilli(expires) {
		return &FieldError{Field: "expires", Err: fmt.Errorf("%w: out of range", ErrBadTime)}
	}
	if !a.Observed.IsZero() && !validMilli(unixMilli(a.Observed)) {
		return &FieldError{Field: "observed", Err: fmt.Errorf("%w: out of range", ErrBadTime)}
	}
	if expires <= sent {
		return &FieldError{Field: "expires", Err: fmt.Errorf("%w: not after sent", ErrBadTime)}
	}
	if expires-sent > MaxLifetime.Milliseconds() {
		return &FieldError{Field: "expires", Err: fmt.Errorf("%w: more than %s", ErrLifetime, MaxLifetime)}
	}
	if a.Kind.needsRef() && a.Ref.IsZero() {
		return &FieldError{Field: "ref", Err: fmt.Errorf("%w: a %s needs a ref", ErrMissing, a.Kind)}
	}
	if (a.Kind == KindSighting || a.Kind.IsGovernance()) && !a.Ref.IsZero() {
		return &FieldError{Field: "ref", Err: fmt.Errorf("%w: a %s has no ref", ErrEnum, a.Kind)}
	}
	if err := a.validateGovernance(); err != nil {
		return err
	}
	if a.Kind != KindSighting && !a.Quick.IsZero() {
		return &FieldError{Field: "quick", Err: fmt.Errorf("%w: not used by %s", ErrEnum, a.Kind)}
	}
	if err := a.Quick.validate(); err != nil {
		return err
	}
	if err := a.validateLink(); err != nil {
		return err
	}
	if err := a.validateDocs(); err != nil {
		return err
	}
	if err := a.validateSnapshot(); err != nil {
		return err
	}
	texts := []struct {
		name     string
		v        string
		max      int
		required bool
		allowed  bool
	}{
		{"area", a.Area, MaxPlaceLen, a.Kind == KindSighting || a.Kind == KindCallout, !a.Kind.IsGovernance() && a.Kind != KindShare && a.Kind != KindTally},
		{"what", a.What, MaxTextLen, a.Kind == KindSighting && a.Quick.What == WhatNone, a.Kind == KindSighting},
		{"activity", a.Activity, MaxTextLen, false, a.Kind == KindSighting},
		{"uniform", a.Uniform, MaxTextLen, false, a.Kind == KindSighting},
		{"equipment", a.Equipment, MaxTextLen, false, a.Kind == KindSighting},
		{"title", a.Title, MaxTitleLen, a.Kind == KindCallout, a.Kind == KindCallout},
		{"when", a.When, MaxWhenLen, false, a.Kind == KindCallout},
		{"bring", a.Bring, MaxTextLen, false, a.Kind == KindCallout},
		{"rights", a.Rights, MaxRightsLen, false, a.Kind == KindCallout},
		{"note", a.Note, MaxTextLen, false, a.Kind == KindConfirm || a.Kind == KindClear || a.Kind == KindRemove},
		{"name", a.Name, MaxNameLen, false, a.Kind == KindMember},
	}
	for _, t := range texts {
		switch {
		case !t.allowed && t.v != "":
			return &FieldError{Field: t.name, Err: fmt.Errorf("%w: not used by %s", ErrEnum, a.Kind)}
		case utf8.RuneCountInString(t.v) > t.max:
			return &FieldError{Field: t.name, Err: fmt.Errorf("%w: %d characters, at most %d", ErrTooLong, utf8.RuneCountInString(t.v), t.max)}
		case len(t.v) > t.max*BytesPerChar: // only invalid UTF-8, refused below too
			return &FieldError{Field: t.name, Err: fmt.Errorf("%w: %d bytes, at most %d", ErrTooLong, len(t.v), t.max*BytesPerChar)}
		case t.required && t.v == "":
			return &FieldError{Field: t.name, Err: ErrMissing}
		}
		if err := checkText(t.v); err != nil {
			return &FieldError{Field: t.name, Err: err}
		}
		if t.name == "name" {
			if err := CheckName(t.v, t.max); err != nil {
				return &FieldError{Field: t.name, Err: err}
			}
		}
	}
	if a.Size > MaxCount || a.Need > MaxCount {
		return &FieldError{Field: "size", Err: fmt.Errorf("%w: at most %d", ErrEnum, MaxCount)}
	}
	if a.Kind != KindSighting && (a.Size != 0 || !a.Observed.IsZero()) {
		return &FieldError{Field: "size", Err: fmt.Errorf("%w: not used by %s", ErrEnum, a.Kind)}
	}
	if a.Kind != KindCallout && a.Need != 0 {
		return &FieldError{Field: "need", Err: fmt.Errorf("%w: not used by %s", ErrEnum, a.Kind)}
	}
	if (a.Kind == KindRespond) != (a.Response != 0) || a.Response > ResponseCannot {
		return &FieldError{Field: "response", Err: ErrEnum}
	}
	if (a.Kind == KindClear) != (a.Reason != 0) || a.Reason > ClearRetracted {
		return &FieldError{Field: "reason", Err: ErrEnum}
	}
	return nil
}

// MarshalBinary returns the canonical encoding of a valid alert.
func (a *Alert) MarshalBinary() ([]byte, error) {
	if err := a.Validate(); err != nil {
		return nil, fmt.Errorf("encode alert: %w", err)
	}
	w := writer{b: make([]byte, 0, 256)}
	w.u8(Version)
	w.u8(uint8(a.Kind))
	w.raw(a.Zone[:])
	w.raw(a.Sender[:])
	w.time(a.Sent)
	w.time(a.Expires)
	w.u8(uint8(a.Status))
	w.u8(uint8(a.Urgency))
	w.u8(uint8(a.Severity))
	w.u8(uint8(a.Certainty))
	w.raw(a.Ref[:])
	w.str(a.Area)
	switch a.Kind {
	case KindSighting:
		w.str(a.What)
		w.u16(a.Size)
		w.str(a.Activity)
		w.str(a.Uniform)
		w.str(a.Equipment)
		w.time(a.Observed)
		a.Quick.encode(&w)
	case KindCallout:
		w.str(a.Title)
		w.str(a.When)
		w.u16(a.Need)
		w.str(a.Bring)
		w.str(a.Rights)
		w.str(a.Card)
	case KindConfirm:
		w.str(a.Note)
	case KindRespond:
		w.u8(uint8(a.Response))
	case KindClear:
		w.u8(uint8(a.Reason))
		w.str(a.Note)
	case KindMember:
		w.str(a.Name)
		w.raw(a.KEM)
	case KindRole:
		w.raw(a.Cert)
	case KindRemove:
		w.raw(a.Subject[:])
		w.str(a.Note)
	case KindRekey:
		w.u32(a.Epoch)
		w.u8(a.Part)
		w.u8(a.Parts)
		w.u8(uint8(len(a.Rekey)))
		for _, e := range a.Rekey {
			w.raw(e.Member[:])
			w.raw(e.Enc)
			w.raw(e.Sealed)
		}
	case KindSettings:
		st := a.Settings
		w.u8(st.Quorum)
		w.u32(uint32(st.Window / time.Second))
		w.u32(uint32(st.Expiry / time.Second))
		if st.Cosign {
			w.u8(1)
		} else {
			w.u8(0)
		}
		w.u16(st.MaxReports)
		w.u16(st.MaxConfirms)
		w.u8(uint8(st.AutoShare))
	case KindLink:
		a.Link.encode(&w)
	case KindShare:
		w.u8(a.Hops)
	case KindTally:
		w.u16(a.Tally.EnRoute)
		w.u16(a.Tally.OnScene)
		w.u16(a.Tally.Cannot)
	case KindCards:
		a.Cards.encode(&w)
	case KindPlace:
		a.Place.encode(&w)
	case KindSnapshot:
		a.Snapshot.encode(&w)
	}
	if a.Kind == KindPlace && len(w.b) > MaxPlaceBodySize {
		return nil, fmt.Errorf("encode alert: %w: a place body of %d bytes, at most %d", ErrTooLarge, len(w.b), MaxPlaceBodySize)
	}
	if carriesVia(a.Kind) {
		a.Via.encode(&w)
	}
	if len(w.b) > MaxBodySize {
		return nil, fmt.Errorf("encode alert: %w: %d bytes", ErrTooLarge, len(w.b))
	}
	return w.b, nil
}

// ParseAlert decodes and validates a canonical alert body. Re-encoding the
// result gives back exactly b.
func ParseAlert(b []byte) (*Alert, error) {
	if len(b) > MaxBodySize {
		return nil, fmt.Errorf("decode alert: %w: %d bytes", ErrTooLarge, len(b))
	}
	r := reader{b: b, where: "alert"}
	if v := r.u8("version"); r.err == nil && v != Version {
		return nil, fmt.Errorf("decode alert: %w: %d", ErrVersion, v)
	}
	a := &Alert{}
	a.Kind = Kind(r.u8("kind"))
	if _, ok := kindNames[a.Kind]; r.err == nil && !ok {
		return nil, fmt.Errorf("decode alert: %w: %d", ErrKind, a.Kind)
	}
	r.fixed(a.Zone[:], "zone")
	r.fixed(a.Sender[:], "sender")
	a.Sent = r.time("sent")
	a.Expires = r.time("expires")
	a.Status = Status(r.u8("status"))
	a.Urgency = Urgency(r.u8("urgency"))
	a.Severity = Severity(r.u8("severity"))
	a.Certainty = Certainty(r.u8("certainty"))
	r.fixed(a.Ref[:], "ref")
	a.Area = r.str("area", MaxPlaceLen)
	switch a.Kind {
	case KindSighting:
		a.What = r.str("what", MaxTextLen)
		a.Size = r.u16("size")
		a.Activity = r.str("activity", MaxTextLen)
		a.Uniform = r.str("uniform", MaxTextLen)
		a.Equipment = r.str("equipment", MaxTextLen)
		a.Observed = r.time("observed")
		a.Quick = parseQuick(&r)
	case KindCallout:
		a.Title = r.str("title", MaxTitleLen)
		a.When = r.str("when", MaxWhenLen)
		a.Need = r.u16("need")
		a.Bring = r.str("bring", MaxTextLen)
		a.Rights = r.str("rights", MaxRightsLen)
		a.Card = r.str("card", MaxCardIDLen)
	case KindConfirm:
		a.Note = r.str("note", MaxTextLen)
	case KindRespond:
		a.Response = Response(r.u8("response"))
	case KindClear:
		a.Reason = ClearReason(r.u8("reason"))
		a.Note = r.str("note", MaxTextLen)
	case KindMember:
		a.Name = r.str("name", MaxNameLen)
		a.KEM = append([]byte(nil), r.take(crypto.KEMPublicKeySize, "kem")...)
	case KindRole:
		a.Cert = append([]byte(nil), r.take(CertSize, "cert")...)
	case KindRemove:
		r.fixed(a.Subject[:], "subject")
		a.Note = r.str("note", MaxTextLen)
	case KindRekey:
		a.Epoch = r.u32("epoch")
		a.Part = r.u8("part")
		a.Parts = r.u8("parts")
		n := int(r.u8("entries"))
		if r.err == nil && (n == 0 || n > MaxRekeyEntries) {
			return nil, fmt.Errorf("decode alert: %w", &FieldError{Field: "entries", Err: ErrEnum})
		}
		for i := 0; i < n && r.err == nil; i++ {
			var e RekeyEntry
			r.fixed(e.Member[:], "member")
			e.Enc = append([]byte(nil), r.take(crypto.EncapsulatedKeySize, "enc")...)
			e.Sealed = append([]byte(nil), r.take(RekeySealedSize, "sealed")...)
			a.Rekey = append(a.Rekey, e)
		}
	case KindSettings:
		a.Settings.Quorum = r.u8("quorum")
		a.Settings.Window = time.Duration(r.u32("window")) * time.Second
		a.Settings.Expiry = time.Duration(r.u32("expiry")) * time.Second
		switch r.u8("cosign") {
		case 0:
		case 1:
			a.Settings.Cosign = true
		default:
			r.fail(&FieldError{Field: "cosign", Err: ErrEnum})
		}
		a.Settings.MaxReports = r.u16("max reports")
		a.Settings.MaxConfirms = r.u16("max confirms")
		a.Settings.AutoShare = AutoShare(r.u8("auto share"))
	case KindLink:
		a.Link = parseLinkRecord(&r)
	case KindShare:
		a.Hops = r.u8("hops")
	case KindTally:
		a.Tally.EnRoute = r.u16("enroute")
		a.Tally.OnScene = r.u16("onscene")
		a.Tally.Cannot = r.u16("cannot")
	case KindCards:
		a.Cards = parseCardsDoc(&r)
	case KindPlace:
		if len(b) > MaxPlaceBodySize+MaxForwardSize {
			return nil, fmt.Errorf("decode alert: %w: a place body of %d bytes, at most %d", ErrTooLarge, len(b), MaxPlaceBodySize)
		}
		a.Place = parsePlaceOp(&r)
		if r.err == nil && r.off > MaxPlaceBodySize {
			return nil, fmt.Errorf("decode alert: %w: a place body of %d bytes, at most %d", ErrTooLarge, r.off, MaxPlaceBodySize)
		}
	case KindSnapshot:
		a.Snapshot = parseSnapshotDoc(&r)
	}
	if carriesVia(a.Kind) {
		a.Via = parseForward(&r, a.Kind == KindTally)
	}
	if err := r.done(); err != nil {
		return nil, fmt.Errorf("decode alert: %w", err)
	}
	if err := a.Validate(); err != nil {
		return nil, fmt.Errorf("decode alert: %w", err)
	}
	return a, nil
}

// validateGovernance checks the fields of the governance kinds and that
// other kinds leave them empty.
func (a *Alert) validateGovernance() error {
	gov := func(field string, set bool, want Kind) error {
		if set != (a.Kind == want) {
			if set {
				return &FieldError{Field: field, Err: fmt.Errorf("%w: not used by %s", ErrEnum, a.Kind)}
			}
			return &FieldError{Field: field, Err: ErrMissing}
		}
		return nil
	}
	checks := []error{
		gov("kem", len(a.KEM) != 0, KindMember),
		gov("cert", len(a.Cert) != 0, KindRole),
		gov("subject", !a.Subject.IsZero(), KindRemove),
		gov("rekey", len(a.Rekey) != 0, KindRekey),
	}
	for _, err := range checks {
		if err != nil {
			return err
		}
	}
	if a.Kind != KindRekey && (a.Epoch != 0 || a.Part != 0 || a.Parts != 0) {
		return &FieldError{Field: "epoch", Err: fmt.Errorf("%w: not used by %s", ErrEnum, a.Kind)}
	}
	if a.Kind != KindSettings && a.Settings != (ZoneSettings{}) {
		return &FieldError{Field: "settings", Err: fmt.Errorf("%w: not used by %s", ErrEnum, a.Kind)}
	}
	switch a.Kind {
	case KindMember:
		if len(a.KEM) != crypto.KEMPublicKeySize {
			return &FieldError{Field: "kem", Err: fmt.Errorf("%w: %d bytes, want %d", ErrEnum, len(a.KEM), crypto.KEMPublicKeySize)}
		}
	case KindRole:
		c, err := ParseCert(a.Cert)
		if err != nil {
			return &FieldError{Field: "cert", Err: err}
		}
		if c.Zone != a.Zone {
			return &FieldError{Field: "cert", Err: ErrWrongZone}
		}
	case KindRekey:
		if a.Epoch == 0 || a.Parts == 0 || a.Parts > MaxRekeyParts || a.Part >= a.Parts {
			return &FieldError{Field: "epoch", Err: ErrEnum}
		}
		if len(a.Rekey) > MaxRekeyEntries {
			return &FieldError{Field: "rekey", Err: fmt.Errorf("%w: %d entries, at most %d", ErrTooLarge, len(a.Rekey), MaxRekeyEntries)}
		}
		for _, e := range a.Rekey {
			if e.Member.IsZero() || len(e.Enc) != crypto.EncapsulatedKeySize || len(e.Sealed) != RekeySealedSize {
				return &FieldError{Field: "rekey", Err: ErrEnum}
			}
		}
	case KindSettings:
		if err := a.Settings.validate(); err != nil {
			return err
		}
	}
	return nil
}
