package protocol

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"lookout/crypto"
)

// Kind is the kind of an alert.
type Kind uint8

const (
	KindSighting Kind = 1 // enforcement activity seen (SALUTE fields)
	KindCallout  Kind = 2 // organizer asks people to come (organizers only)
	KindConfirm  Kind = 3 // a witness corroborates a sighting
	KindRespond  Kind = 4 // answer to a callout
	KindClear    Kind = 5 // all clear, retraction, or end of a callout
)

var kindNames = map[Kind]string{KindSighting: "sighting", KindCallout: "callout", KindConfirm: "confirm", KindRespond: "respond", KindClear: "clear"}

func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// IsUpdate reports whether the kind refers to another alert.
func (k Kind) IsUpdate() bool { return k == KindConfirm || k == KindRespond || k == KindClear }

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

	// Callout.
	Title  string
	When   string
	Need   uint16
	Bring  string
	Rights string

	// Confirm and clear.
	Note string
	// Respond.
	Response Response
	// Clear.
	Reason ClearReason
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
	if a.Kind.IsUpdate() == a.Ref.IsZero() {
		return &FieldError{Field: "ref", Err: fmt.Errorf("%w: updates need a ref, new alerts must not have one", ErrMissing)}
	}
	texts := []struct {
		name     string
		v        string
		max      int
		required bool
		allowed  bool
	}{
		{"area", a.Area, MaxPlaceLen, a.Kind == KindSighting || a.Kind == KindCallout, true},
		{"what", a.What, MaxTextLen, a.Kind == KindSighting, a.Kind == KindSighting},
		{"activity", a.Activity, MaxTextLen, false, a.Kind == KindSighting},
		{"uniform", a.Uniform, MaxTextLen, false, a.Kind == KindSighting},
		{"equipment", a.Equipment, MaxTextLen, false, a.Kind == KindSighting},
		{"title", a.Title, MaxTitleLen, a.Kind == KindCallout, a.Kind == KindCallout},
		{"when", a.When, MaxWhenLen, false, a.Kind == KindCallout},
		{"bring", a.Bring, MaxTextLen, false, a.Kind == KindCallout},
		{"rights", a.Rights, MaxRightsLen, false, a.Kind == KindCallout},
		{"note", a.Note, MaxTextLen, false, a.Kind == KindConfirm || a.Kind == KindClear},
	}
	for _, t := range texts {
		switch {
		case !t.allowed && t.v != "":
			return &FieldError{Field: t.name, Err: fmt.Errorf("%w: not used by %s", ErrEnum, a.Kind)}
		case len(t.v) > t.max:
			return &FieldError{Field: t.name, Err: fmt.Errorf("%w: %d bytes, at most %d", ErrTooLong, len(t.v), t.max)}
		case t.required && t.v == "":
			return &FieldError{Field: t.name, Err: ErrMissing}
		}
		if err := checkText(t.v); err != nil {
			return &FieldError{Field: t.name, Err: err}
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
	case KindCallout:
		w.str(a.Title)
		w.str(a.When)
		w.u16(a.Need)
		w.str(a.Bring)
		w.str(a.Rights)
	case KindConfirm:
		w.str(a.Note)
	case KindRespond:
		w.u8(uint8(a.Response))
	case KindClear:
		w.u8(uint8(a.Reason))
		w.str(a.Note)
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
	case KindCallout:
		a.Title = r.str("title", MaxTitleLen)
		a.When = r.str("when", MaxWhenLen)
		a.Need = r.u16("need")
		a.Bring = r.str("bring", MaxTextLen)
		a.Rights = r.str("rights", MaxRightsLen)
	case KindConfirm:
		a.Note = r.str("note", MaxTextLen)
	case KindRespond:
		a.Response = Response(r.u8("response"))
	case KindClear:
		a.Reason = ClearReason(r.u8("reason"))
		a.Note = r.str("note", MaxTextLen)
	}
	if err := r.done(); err != nil {
		return nil, fmt.Errorf("decode alert: %w", err)
	}
	if err := a.Validate(); err != nil {
		return nil, fmt.Errorf("decode alert: %w", err)
	}
	return a, nil
}
