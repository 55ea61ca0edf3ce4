package protocol

import (
	"fmt"
	"time"

	"lookout/crypto"
)

// What a message that crossed a link carries (Forward), tallies, and the
// auto-share setting.

// Forward is what a message that crossed a link carries: the endorsement
// of the zone it came from. Sig is the endorser's signature over
// EndorsementBody of the message, so the receiving zone's relay cannot
// change what the other zone vouched for.
type Forward struct {
	Link   LinkID
	Digest Digest
	// Hops is how many links the alert may still cross, this one
	// included: 1 to MaxShareHops. Tallies carry 1.
	Hops uint8
	// Origin is the link name of the zone the alert was first shared from.
	Origin   string
	Endorser crypto.MemberID
	At       time.Time // when the endorser signed; later updates win
	Sig      []byte
}

func (f *Forward) encode(w *writer) {
	if f == nil {
		w.u8(0)
		return
	}
	w.u8(1)
	f.encodeBody(w)
	w.raw(f.Sig)
}

func (f *Forward) encodeBody(w *writer) {
	w.raw(f.Link[:])
	w.raw(f.Digest[:])
	w.u8(f.Hops)
	w.str(f.Origin)
	w.raw(f.Endorser[:])
	w.time(f.At)
}

func parseForwardBody(r *reader) *Forward {
	f := &Forward{}
	r.fixed(f.Link[:], "via link")
	r.fixed(f.Digest[:], "via digest")
	f.Hops = r.u8("via hops")
	f.Origin = r.str("via origin", MaxLinkNameLen)
	r.fixed(f.Endorser[:], "via endorser")
	f.At = r.time("via at")
	return f
}

// parseForward reads the optional trailer; required means it must be there.
func parseForward(r *reader, required bool) *Forward {
	switch r.u8("via") {
	case 0:
		if required {
			r.fail(&FieldError{Field: "via", Err: ErrMissing})
		}
		return nil
	case 1:
	default:
		r.fail(&FieldError{Field: "via", Err: ErrEnum})
		return nil
	}
	f := parseForwardBody(r)
	f.Sig = append([]byte(nil), r.take(crypto.SignatureSize, "via signature")...)
	return f
}

func (f *Forward) validate(sig bool) error {
	switch {
	case f.Link.IsZero():
		return &FieldError{Field: "via link", Err: ErrMissing}
	case f.Digest.IsZero():
		return &FieldError{Field: "via digest", Err: ErrMissing}
	case f.Hops < 1 || f.Hops > MaxShareHops:
		return &FieldError{Field: "via hops", Err: fmt.Errorf("%w: %d, 1 to %d", ErrHops, f.Hops, MaxShareHops)}
	case f.Origin == "" || len(f.Origin) > MaxLinkNameLen:
		return &FieldError{Field: "via origin", Err: ErrMissing}
	case f.Endorser.IsZero():
		return &FieldError{Field: "via endorser", Err: ErrMissing}
	case !validMilli(unixMilli(f.At)):
		return &FieldError{Field: "via at", Err: ErrBadTime}
	case sig && len(f.Sig) != crypto.SignatureSize:
		return &FieldError{Field: "via signature", Err: ErrMissing}
	}
	return checkText(f.Origin)
}

// MaxForwardSize bounds an encoded via: the flag, the forward body and
// the endorser's signature.
const MaxForwardSize = 1 + LinkIDSize + DigestSize + 1 + 2 + MaxLinkNameLen + crypto.MemberIDSize + 8 + crypto.SignatureSize

// carriesVia reports whether the kind's encoding ends with a Forward
// (places since version 4).
func carriesVia(k Kind) bool {
	return k == KindSighting || k == KindCallout || k == KindClear || k == KindTally || k == KindPlace
}

// Tally is how many members of a linked zone (and of the zones beyond it)
// answered a shared callout: totals, never names.
type Tally struct {
	EnRoute, OnScene, Cannot uint16
}

// AutoShare is what a zone's link end nodes share without being asked.
type AutoShare uint8

const (
	AutoShareNone     AutoShare = 0
	AutoShareVerified AutoShare = 1 // every verified sighting
	AutoShareCallouts AutoShare = 2 // every callout
	AutoShareAll      AutoShare = 3 // both
)

var autoShareNames = map[AutoShare]string{AutoShareNone: "none", AutoShareVerified: "verified", AutoShareCallouts: "callouts", AutoShareAll: "all"}

func (a AutoShare) String() string { return autoShareNames[a] }

// ParseAutoShare parses none, verified, callouts or all.
func ParseAutoShare(s string) (AutoShare, error) {
	for v, n := range autoShareNames {
		if n == s {
			return v, nil
		}
	}
	return 0, fmt.Errorf("%w: auto-share %q (use verified, callouts, all or none)", ErrEnum, s)
}

// Shares reports whether the policy shares a root of this kind.
func (a AutoShare) Shares(k Kind) bool {
	return (k == KindSighting && a&AutoShareVerified != 0) || (k == KindCallout && a&AutoShareCallouts != 0)
}

// validateLink checks the fields of linked zones and that kinds that do
// not use them leave them empty.
func (a *Alert) validateLink() error {
	if (a.Link != nil) != (a.Kind == KindLink) {
		if a.Link == nil {
			return &FieldError{Field: "link", Err: ErrMissing}
		}
		return &FieldError{Field: "link", Err: fmt.Errorf("%w: not used by %s", ErrEnum, a.Kind)}
	}
	if a.Link != nil {
		if err := a.Link.validate(); err != nil {
			return err
		}
	}
	if (a.Hops != 0) != (a.Kind == KindShare) || a.Hops > MaxShareHops {
		return &FieldError{Field: "hops", Err: fmt.Errorf("%w: 1 to %d, shares only", ErrHops, MaxShareHops)}
	}
	if a.Kind != KindTally && a.Tally != (Tally{}) {
		return &FieldError{Field: "tally", Err: fmt.Errorf("%w: not used by %s", ErrEnum, a.Kind)}
	}
	if a.Tally.EnRoute > MaxTally || a.Tally.OnScene > MaxTally || a.Tally.Cannot > MaxTally {
		return &FieldError{Field: "tally", Err: fmt.Errorf("%w: at most %d", ErrEnum, MaxTally)}
	}
	if a.Via == nil {
		if a.Kind == KindTally {
			return &FieldError{Field: "via", Err: ErrMissing}
		}
		return nil
	}
	if !carriesVia(a.Kind) {
		return &FieldError{Field: "via", Err: fmt.Errorf("%w: not used by %s", ErrEnum, a.Kind)}
	}
	if a.Kind == KindClear && a.Reason != ClearAllClear {
		return &FieldError{Field: "reason", Err: fmt.Errorf("%w: only an all clear crosses a link", ErrEnum)}
	}
	if a.Kind == KindSighting && a.Status == 0 {
		return &FieldError{Field: "status", Err: ErrEnum}
	}
	if a.Kind == KindPlace && a.Place != nil {
		if err := a.Place.validateLinked(a.Via); err != nil {
			return err
		}
	}
	return a.Via.validate(true)
}
