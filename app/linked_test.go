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
