package app

import (
	"strings"
	"testing"

	"lookout/node/api"
)

// TestLinkedLines: the detail shows each linked zone's totals apart from
// the zone's own, with the zone's name, who relayed them, and the cap.
func TestLinkedLines(t *testing.T) {
	loadTranslations("en")
	a := api.Alert{Kind: "callout", Needed: 3, Responders: &api.Responders{EnRoute: 1},
		Linked: []api.LinkedTally{{Zone: "Junction", Reporter: "0123456789abcdef", Responders: api.Responders{EnRoute: 3, OnScene: 3}, Capped: true}}}
	lines := linkedLines(a)
	if len(lines) != 1 {
		t.Fatalf("linkedLines = %q, want one line", lines)
	}
	for _, want := range []string{"Junction", "3", "01234567", "capped"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("linked line %q lacks %q", lines[0], want)
		}
	}
	if own := responderLine(a); !strings.Contains(own, "On my way 1") {
		t.Errorf("own responders %q, want only the zone's own", own)
	}
}

// TestStaleZone: a zone made by an older Lookout is listed with what to do,
// cannot be opened, is left out of the report picker, and can be removed.
func TestStaleZone(t *testing.T) {
	h := newHarness(t, Options{})
	h.zone("Parkdale", "organizer")
	old := h.fake.AddStaleZone("Old block")
	h.unlocked()
	h.waitFor("stale zone listed", func() bool {
		return h.hasLabel("Made by an older Lookout: ask an organizer for a new invite.")
	})
	if h.findButton("Old block") != nil {
		t.Error("a stale zone has a button that opens it")
	}
	if zs := currentZones(h.fake.Zones()); len(zs) != 1 || zs[0].Name != "Parkdale" {
		t.Errorf("current zones %+v, want Parkdale only", zs)
	}
	h.tap("Remove this zone")
	h.waitFor("stale zone removed", func() bool {
		for _, z := range h.fake.Zones() {
			if z.ID == old.ID {
				return false
			}
		}
		return !h.hasLabel("Made by an older Lookout: ask an organizer for a new invite.")
	})
}
