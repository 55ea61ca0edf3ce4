package protocol

import (
	"fmt"

	"lookout/crypto"
)

// Endorsements: what a link end signs for an alert that crosses a link.

// EndorsementBody is what an endorser signs for a message that crosses a
// link: the kind, status and content of the alert, and the Forward without
// its signature. The sender, times, zone and ref of the message are the
// relaying zone's own and are not covered.
//
//	u8 version | u8 kind | u8 status | forward body | content by kind
//
// Content: a sighting's what, area, size, activity, uniform, equipment,
// observed, quick codes; a callout's title, area, when, need, bring, rights,
// card, expires; a place's operation and fields (not its ID: the receiving
// zone derives it from the digest); a clear's reason and note; a tally's
// three counts.
func EndorsementBody(a *Alert) ([]byte, error) {
	if a.Via == nil || !carriesVia(a.Kind) {
		return nil, fmt.Errorf("endorsement: %w: nothing to endorse", ErrMissing)
	}
	if err := a.Via.validate(false); err != nil {
		return nil, fmt.Errorf("endorsement: %w", err)
	}
	w := writer{b: make([]byte, 0, 256)}
	w.u8(Version)
	w.u8(uint8(a.Kind))
	w.u8(uint8(a.Status))
	a.Via.encodeBody(&w)
	switch a.Kind {
	case KindSighting:
		w.str(a.What)
		w.str(a.Area)
		w.u16(a.Size)
		w.str(a.Activity)
		w.str(a.Uniform)
		w.str(a.Equipment)
		w.time(a.Observed)
		a.Quick.encode(&w)
	case KindCallout:
		w.str(a.Title)
		w.str(a.Area)
		w.str(a.When)
		w.u16(a.Need)
		w.str(a.Bring)
		w.str(a.Rights)
		w.str(a.Card)
		w.time(a.Expires)
	case KindPlace:
		if a.Place == nil {
			return nil, fmt.Errorf("endorsement: %w: no place", ErrMissing)
		}
		a.Place.encodeContent(&w)
	case KindClear:
		w.u8(uint8(a.Reason))
		w.str(a.Note)
	case KindTally:
		w.u16(a.Tally.EnRoute)
		w.u16(a.Tally.OnScene)
		w.u16(a.Tally.Cannot)
	}
	if len(w.b) > MaxBodySize {
		return nil, fmt.Errorf("endorsement: %w", ErrTooLarge)
	}
	return w.b, nil
}

// ParseEndorsement decodes an endorsement body received over a link into
// an alert template: kind, status, content and Via (without Sig). The
// receiving end fills in zone, sender, times and ref before signing.
func ParseEndorsement(b []byte) (*Alert, error) {
	if len(b) > MaxBodySize {
		return nil, fmt.Errorf("decode endorsement: %w", ErrTooLarge)
	}
	r := reader{b: b, where: "endorsement"}
	if v := r.u8("version"); r.err == nil && v != Version {
		return nil, fmt.Errorf("decode endorsement: %w: %d", ErrVersion, v)
	}
	a := &Alert{Kind: Kind(r.u8("kind")), Status: Status(r.u8("status"))}
	a.Via = parseForwardBody(&r)
	switch a.Kind {
	case KindSighting:
		a.What = r.str("what", MaxTextLen)
		a.Area = r.str("area", MaxPlaceLen)
		a.Size = r.u16("size")
		a.Activity = r.str("activity", MaxTextLen)
		a.Uniform = r.str("uniform", MaxTextLen)
		a.Equipment = r.str("equipment", MaxTextLen)
		a.Observed = r.time("observed")
		a.Quick = parseQuick(&r)
	case KindCallout:
		a.Title = r.str("title", MaxTitleLen)
		a.Area = r.str("area", MaxPlaceLen)
		a.When = r.str("when", MaxWhenLen)
		a.Need = r.u16("need")
		a.Bring = r.str("bring", MaxTextLen)
		a.Rights = r.str("rights", MaxRightsLen)
		a.Card = r.str("card", MaxCardIDLen)
		a.Expires = r.time("expires")
	case KindPlace:
		a.Place = &PlaceOp{}
		parsePlaceContent(&r, a.Place)
		a.Place.ID = a.Via.Digest.LinkedPlaceID()
	case KindClear:
		a.Reason = ClearReason(r.u8("reason"))
		a.Note = r.str("note", MaxTextLen)
	case KindTally:
		a.Tally.EnRoute = r.u16("enroute")
		a.Tally.OnScene = r.u16("onscene")
		a.Tally.Cannot = r.u16("cannot")
	default:
		if r.err == nil {
			return nil, fmt.Errorf("decode endorsement: %w: %d", ErrKind, a.Kind)
		}
	}
	if err := r.done(); err != nil {
		return nil, fmt.Errorf("decode endorsement: %w", err)
	}
	if err := a.Via.validate(false); err != nil {
		return nil, fmt.Errorf("decode endorsement: %w", err)
	}
	switch {
	case a.Status != StatusActual && a.Status != StatusExercise:
		return nil, fmt.Errorf("decode endorsement: %w", &FieldError{Field: "status", Err: ErrEnum})
	case a.Kind == KindClear && a.Reason != ClearAllClear:
		return nil, fmt.Errorf("decode endorsement: %w", &FieldError{Field: "reason", Err: fmt.Errorf("%w: only an all clear crosses a link", ErrEnum)})
	case a.Kind == KindSighting && a.What == "" && a.Quick.What == WhatNone:
		return nil, fmt.Errorf("decode endorsement: %w", &FieldError{Field: "what", Err: ErrMissing})
	case a.Quick.validate() != nil:
		return nil, fmt.Errorf("decode endorsement: %w", a.Quick.validate())
	case a.Kind == KindCallout && a.Card != "" && !ValidCardID(a.Card):
		return nil, fmt.Errorf("decode endorsement: %w", &FieldError{Field: "card", Err: ErrEnum})
	case a.Kind == KindPlace && a.Place.validate() != nil:
		return nil, fmt.Errorf("decode endorsement: %w", a.Place.validate())
	case a.Kind == KindPlace && a.Place.validateLinked(a.Via) != nil:
		return nil, fmt.Errorf("decode endorsement: %w", a.Place.validateLinked(a.Via))
	case a.Kind == KindCallout && (a.Title == "" || a.Expires.IsZero()):
		return nil, fmt.Errorf("decode endorsement: %w", &FieldError{Field: "title", Err: ErrMissing})
	case a.Size > MaxCount || a.Need > MaxCount || a.Tally.EnRoute > MaxTally || a.Tally.OnScene > MaxTally || a.Tally.Cannot > MaxTally:
		return nil, fmt.Errorf("decode endorsement: %w", &FieldError{Field: "count", Err: ErrEnum})
	}
	return a, nil
}

// Endorse signs a's endorsement with id and sets a.Via.Endorser and Sig.
// It returns the signed body, which is what crosses the link.
func Endorse(id *crypto.Identity, a *Alert) ([]byte, error) {
	if a.Via == nil {
		return nil, fmt.Errorf("endorse: %w: no via", ErrMissing)
	}
	a.Via.Endorser = id.ID()
	a.Via.At = truncMilli(a.Via.At)
	a.Expires, a.Observed = truncMilli(a.Expires), truncMilli(a.Observed)
	body, err := EndorsementBody(a)
	if err != nil {
		return nil, err
	}
	sig, err := id.Sign(ContextEndorse, body)
	if err != nil {
		return nil, fmt.Errorf("endorse: %w", err)
	}
	a.Via.Sig = sig
	return body, nil
}

// VerifyEndorsement checks a.Via's signature with the endorser key the
// zone accepted for the link.
func VerifyEndorsement(endorser *crypto.PublicKey, a *Alert) error {
	if a.Via == nil {
		return fmt.Errorf("%w: no endorsement", ErrEndorser)
	}
	if endorser.ID() != a.Via.Endorser {
		return fmt.Errorf("%w: endorsed by %s", ErrEndorser, a.Via.Endorser)
	}
	body, err := EndorsementBody(a)
	if err != nil {
		return err
	}
	if err := endorser.Verify(ContextEndorse, body, a.Via.Sig); err != nil {
		return fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	return nil
}
