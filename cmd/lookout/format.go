package main

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	"lookout/node/api"
	"lookout/node/control"
)

// formatAlert renders an alert on one line, e.g.
//
//	[VERIFIED] sighting 3f2a… at Jane & Finch: 2 vans, CBSA jackets (3 witnesses) - VERIFIED by Ana (9c1e…)
//	[AWAITING-COSIGN] callout 7b… at school: Accompany family (needed 5, en route 0, on scene 0) - awaiting a second organizer: do not go yet
//	[DRILL] (corroborated) sighting 1d… at park: van (2 witnesses)
//
// A drill shows its state in lower case after [DRILL], so that it never
// reads like a real alert. name renders a member ID; nil shows short IDs.
func formatAlert(a api.Alert, name func(id string) string) string {
	if name == nil {
		name = shortID
	}
	var b strings.Builder
	state := cmp.Or(a.State, "active")
	if a.Exercise {
		fmt.Fprintf(&b, "[DRILL] (%s) ", state)
	} else {
		fmt.Fprintf(&b, "[%s] ", strings.ToUpper(state))
	}
	fmt.Fprintf(&b, "%s %s at %s", a.Kind, a.ID, a.Where)
	if a.Via != "" {
		fmt.Fprintf(&b, " (via %s)", clean(a.Via))
	}
	var notes []string
	names := func(ids []string) string {
		out := make([]string, len(ids))
		for i, id := range ids {
			out[i] = name(id)
		}
		return strings.Join(out, ", ")
	}
	switch a.Kind {
	case "sighting":
		size := ""
		if a.Size > 0 {
			size = fmt.Sprintf("size %d", a.Size)
		}
		quick := quickDetails(a) // codes in the reader's language, officers counted
		if quick != "" {
			size = ""
		}
		details(&b, quick, a.What, size, a.Activity, a.Uniform, a.Equipment)
		if a.Confirmations != nil {
			n := *a.Confirmations
			fmt.Fprintf(&b, " (%d %s", n, plural(n, "witness", "witnesses"))
			if len(a.Sightings) > 1 {
				fmt.Fprintf(&b, ", %d reports", len(a.Sightings))
			}
			b.WriteString(")")
		}
		if len(a.VerifiedBy) > 0 {
			verified := "VERIFIED by "
			if a.Exercise {
				verified = "verified by "
			}
			notes = append(notes, verified+names(a.VerifiedBy))
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
		if need := cmp.Or(a.Needed, a.Need); need > 0 {
			fmt.Fprintf(&b, "needed %d, ", need)
		}
		fmt.Fprintf(&b, "en route %d, on scene %d", r.EnRoute, r.OnScene)
		if r.Cannot > 0 {
			fmt.Fprintf(&b, ", cannot %d", r.Cannot)
		}
		b.WriteString(")")
		switch {
		case state != "awaiting-cosign":
		case a.Exercise:
			notes = append(notes, "awaiting a second organizer")
		default:
			notes = append(notes, "awaiting a second organizer: do not go yet")
		}
		if len(a.Cosigners) > 0 {
			notes = append(notes, "co-signed by "+names(a.Cosigners))
		}
	}
	switch a.ClearReason {
	case "":
	case "allclear":
		notes = append(notes, "all clear")
	default:
		notes = append(notes, a.ClearReason)
	}
	for _, n := range notes {
		b.WriteString(" - " + n)
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

// names renders the member IDs of a zone as names, asking the node for the
// zone's members the first time it meets an ID it does not know. Without
// an answer it shows short IDs.
type names struct {
	ctx    context.Context
	client *control.Client
	zone   string
	byID   map[string]string
	asked  map[string]bool // IDs the roster was fetched for
}

func newNames(ctx context.Context, c *control.Client, zone string) *names {
	return &names{ctx: ctx, client: c, zone: zone, byID: map[string]string{}, asked: map[string]bool{}}
}

// name returns "Name (short ID)", or the short ID if the name is unknown.
func (n *names) name(id string) string {
	if _, ok := n.byID[id]; !ok && !n.asked[id] && n.zone != "" {
		n.asked[id] = true
		if ms, err := n.client.Members(n.ctx, n.zone); err == nil {
			for _, m := range ms {
				n.byID[m.ID] = m.Name
			}
		}
	}
	return who(id, n.byID[id])
}

// who renders a member as "Name (short ID)", or the short ID alone.
func who(id, name string) string {
	if name == "" {
		return shortID(id)
	}
	return clean(name) + " (" + shortID(id) + ")"
}

// shortID is the first 8 characters of an ID, enough to name it in any
// command.
func shortID(id string) string {
	if len(id) > 8 {
		id = id[:8]
	}
	return clean(id)
}

// displayName is a member's name for a table, "-" if not known yet.
func displayName(name string) string {
	if name == "" {
		return "-"
	}
	return clean(name)
}
