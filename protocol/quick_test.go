package protocol

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// newQuickSighting is a quick report: codes, a count and one line of free
// text as typed; no free-text what.
func newQuickSighting() *Alert {
	a := newSighting()
	a.What, a.Uniform, a.Equipment = "", "", ""
	a.Activity = "rue Jarry, 2e étage"
	a.Size = 3
	a.Quick = Quick{What: WhatDoor, Uniform: UniformPlain, Vehicles: 1}
	return a
}

func TestQuickLayout(t *testing.T) {
	a := newQuickSighting()
	b := mustBody(t, a)
	// The codes sit after observed, before the via byte.
	q := b[len(b)-1-QuickSize : len(b)-1]
	if want := []byte{byte(WhatDoor), byte(UniformPlain), 0, 1}; !bytes.Equal(q, want) {
		t.Errorf("quick codes on the wire = %x, want %x", q, want)
	}
	if b[len(b)-1] != 0 {
		t.Errorf("via byte = %d, want 0", b[len(b)-1])
	}
	got, err := ParseAlert(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Quick != a.Quick || got.What != "" || got.Activity != a.Activity {
		t.Errorf("round trip: %+v", got)
	}
}

func TestQuickValidate(t *testing.T) {
	for _, c := range []struct {
		name string
		mut  func(a *Alert)
		want error
	}{
		{"codes only", func(a *Alert) {}, nil},
		{"codes and free text", func(a *Alert) { a.What = "deux agents" }, nil},
		{"no codes, no what", func(a *Alert) { a.Quick = Quick{} }, ErrMissing},
		{"uniform code without what", func(a *Alert) { a.Quick.What = WhatNone }, ErrMissing},
		{"what code out of range", func(a *Alert) { a.Quick.What = WhatFoot + 1 }, ErrEnum},
		{"uniform code out of range", func(a *Alert) { a.Quick.Uniform = UniformPlain + 1 }, ErrEnum},
		{"too many vehicles", func(a *Alert) { a.Quick.Vehicles = MaxVehicles + 1 }, ErrEnum},
		{"most vehicles", func(a *Alert) { a.Quick.Vehicles = MaxVehicles }, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := newQuickSighting()
			c.mut(a)
			err := a.Validate()
			if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Fatalf("Validate = %v, want %v", err, c.want)
			}
			if err != nil {
				var fe *FieldError
				if !errors.As(err, &fe) {
					t.Errorf("%v names no field", err)
				}
			}
		})
	}
	// Codes belong to sightings only.
	for _, a := range []*Alert{newCallout(), newConfirm(AlertID{1}), newClear(AlertID{1})} {
		a.Quick = Quick{What: WhatArrest}
		if err := a.Validate(); !errors.Is(err, ErrEnum) {
			t.Errorf("%s with a what code: %v, want ErrEnum", a.Kind, err)
		}
	}
}

func TestParseQuick(t *testing.T) {
	for _, c := range []struct {
		what, uniform string
		vehicles      int
		want          Quick
		err           error
	}{
		{"", "", 0, Quick{}, nil},
		{"door", "marked", 2, Quick{WhatDoor, UniformMarked, 2}, nil},
		{" Checkpoint ", "PLAIN", 0, Quick{WhatCheckpoint, UniformPlain, 0}, nil},
		{"vehicle", "", 0, Quick{What: WhatVehicle}, nil},
		{"arrest", "", 0, Quick{What: WhatArrest}, nil},
		{"foot", "", 0, Quick{What: WhatFoot}, nil},
		{"ice", "", 0, Quick{}, ErrEnum},
		{"door", "camo", 0, Quick{}, ErrEnum},
		{"door", "", -1, Quick{}, ErrEnum},
		{"door", "", MaxVehicles + 1, Quick{}, ErrEnum},
	} {
		got, err := ParseQuick(c.what, c.uniform, c.vehicles)
		if !errors.Is(err, c.err) || (c.err == nil) != (err == nil) || got != c.want {
			t.Errorf("ParseQuick(%q, %q, %d) = %+v, %v; want %+v, %v", c.what, c.uniform, c.vehicles, got, err, c.want, c.err)
		}
	}
	// Names round-trip through String.
	for _, c := range WhatCodes {
		if p, err := ParseWhatCode(c.String()); err != nil || p != c {
			t.Errorf("what code %d: %q parses to %d, %v", c, c.String(), p, err)
		}
	}
	for _, c := range UniformCodes {
		if p, err := ParseUniformCode(c.String()); err != nil || p != c {
			t.Errorf("uniform code %d: %q parses to %d, %v", c, c.String(), p, err)
		}
	}
}

// TestQuickEndorsement: the codes cross a link under the endorser's
// signature, so the relaying zone cannot change them.
func TestQuickEndorsement(t *testing.T) {
	a := newQuickSighting()
	a.Sender = fixtureOnce().org.ID()
	a.Via = &Forward{Link: testLink, Digest: testDigest, Hops: 1, Origin: "Villeray", At: t0.Add(-time.Minute)}
	body, err := Endorse(peerEnd(), a)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := ParseEndorsementFrame(EncodeEndorsement(body, a.Via.Sig))
	if err != nil {
		t.Fatal(err)
	}
	if tmpl.Quick != a.Quick || tmpl.What != "" {
		t.Errorf("endorsement carries %+v, want %+v", tmpl.Quick, a.Quick)
	}
	changed := *a
	changed.Quick.What = WhatArrest
	other, err := EndorsementBody(&changed)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(other, body) {
		t.Errorf("the endorsement body does not cover the what code")
	}
}
