package main

import (
	"fmt"
	"strings"

	"lookout/node/api"
)

// formatAlert renders an alert on one line, e.g.
//
//	[VERIFIED] sighting 3f2a… at Jane & Finch: 2 vans, CBSA jackets (confirmations 3)
func formatAlert(a api.Alert) string {
	var b strings.Builder
	if a.Exercise {
		b.WriteString("[EXERCISE] ")
	}
	state := a.State
	if state == "" {
		state = "active"
	}
	fmt.Fprintf(&b, "[%s] %s %s at %s", strings.ToUpper(state), a.Kind, a.ID, a.Where)
	switch a.Kind {
	case "sighting":
		size := ""
		if a.Size > 0 {
			size = fmt.Sprintf("size %d", a.Size)
		}
		details(&b, a.What, size, a.Activity, a.Uniform, a.Equipment)
		if a.Confirmations != nil {
			fmt.Fprintf(&b, " (confirmations %d)", *a.Confirmations)
		}
	case "callout":
		when, bring := "", ""
		if a.When != "" {
			when = "when " + a.When
		}
		if a.Bring != "" {
			bring = "bring " + a.Bring
		}
		details(&b, a.Title, when, bring)
		var r api.Responders
		if a.Responders != nil {
			r = *a.Responders
		}
		b.WriteString(" (")
		if a.Need > 0 {
			fmt.Fprintf(&b, "needed %d, ", a.Need)
		}
		fmt.Fprintf(&b, "en route %d, on scene %d", r.EnRoute, r.OnScene)
		if r.Cannot > 0 {
			fmt.Fprintf(&b, ", cannot %d", r.Cannot)
		}
		b.WriteString(")")
	}
	switch a.ClearReason {
	case "":
	case "allclear":
		b.WriteString(" - all clear")
	default:
		b.WriteString(" - " + a.ClearReason)
	}
	if a.ClearNote != "" {
		b.WriteString(": " + a.ClearNote)
	}
	return clean(b.String())
}

// details writes ": " and the non-empty parts, comma-separated.
func details(b *strings.Builder, parts ...string) {
	sep := ": "
	for _, p := range parts {
		if p != "" {
			b.WriteString(sep + p)
			sep = ", "
		}
	}
}
