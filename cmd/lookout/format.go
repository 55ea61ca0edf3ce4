package main

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	"lookout/app/i18n"
	"lookout/node/api"
	"lookout/node/control"
)

// formatAlert renders an alert on one line, e.g.
//
//	[VERIFIED] sighting 3f2a… at Jane & Finch: 2 vans, CBSA jackets (3 witnesses) - VERIFIED by Ana (9c1e…)
//	[AWAITING-COSIGN] callout 7b… at school: Accompany family (needed 5, en route 0, on scene 0) - awaiting a second organizer: do not go yet
//	[DRILL] (corroborated) sighting 1d… at park: van (2 witnesses)
//
// in the language of tr. A drill shows its state in lower case after
// [DRILL], so that it never reads like a real alert. name renders a member
// ID; nil shows short IDs.
func formatAlert(tr *i18n.Localizer, a api.Alert, name func(id string) string) string {
	if name == nil {
		name = shortID
	}
	var b strings.Builder
	state := tr.T("cli.state." + cmp.Or(a.State, "active"))
	if a.Exercise {
		b.WriteString(tr.T("cli.alert.drill", "State", strings.ToLower(state)) + " ")
	} else {
		fmt.Fprintf(&b, "[%s] ", strings.ToUpper(state))
	}
	b.WriteString(tr.T("cli.alert.at", "Kind", tr.T("cli.kind."+a.Kind), "ID", a.ID, "Where", a.Where))
	if a.Via != "" {
		b.WriteString(" " + tr.T("cli.alert.via", "Name", clean(a.Via)))
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
			size = tr.T("cli.alert.size", "N", a.Size)
		}
		quick := quickDetails(a) // codes in the reader's language, officers counted
		if quick != "" {
			size = ""
		}
		details(&b, quick, a.What, size, a.Activity, a.Uniform, a.Equipment)
		if a.Confirmations != nil {
			b.WriteString(" (" + tr.N("cli.alert.witnesses", *a.Confirmations))
			if len(a.Sightings) > 1 {
				b.WriteString(", " + tr.N("cli.alert.reports", len(a.Sightings)))
			}
			b.WriteString(")")
		}
		if len(a.VerifiedBy) > 0 {
			id := "cli.alert.verifiedby"
			if a.Exercise {
				id = "cli.alert.verifiedby.drill"
			}
			notes = append(notes, tr.T(id, "Names", names(a.VerifiedBy)))
		}
	case "callout":
		when, bring := "", ""
		if a.When != "" {
			when = tr.T("cli.alert.when", "When", a.When)
		}
		if a.Bring != "" {
			bring = tr.T("cli.alert.bring", "Bring", a.Bring)
		}
		details(&b, a.Title, when, bring)
		var r api.Responders
		if a.Responders != nil {
			r = *a.Responders
		}
		b.WriteString(" (")
		if need := cmp.Or(a.Needed, a.Need); need > 0 {
			b.WriteString(tr.T("cli.alert.needed", "N", need) + ", ")
		}
		b.WriteString(tr.T("cli.alert.responders", "EnRoute", r.EnRoute, "OnScene", r.OnScene))
		if r.Cannot > 0 {
			b.WriteString(", " + tr.T("cli.alert.cannot", "N", r.Cannot))
		}
		b.WriteString(")")
		// Linked zones' totals, apart: they cannot be checked here.
		for _, l := range a.Linked {
			from := tr.T("cli.alert.linked", "EnRoute", l.EnRoute, "OnScene", l.OnScene, "Zone", clean(cmp.Or(l.Zone, "?")), "Reporter", name(l.Reporter))
			if l.Capped {
				from += " " + tr.T("cli.alert.linked.capped")
			}
			notes = append(notes, from)
		}
		switch {
		case a.State != "awaiting-cosign":
		case a.Exercise:
			notes = append(notes, tr.T("cli.alert.awaiting"))
		default:
			notes = append(notes, tr.T("cli.alert.awaiting.nogo"))
		}
		if len(a.Cosigners) > 0 {
			notes = append(notes, tr.T("cli.alert.cosigned", "Names", names(a.Cosigners)))
		}
	}
	switch a.ClearReason {
	case "":
	case "allclear", "retracted":
		notes = append(notes, tr.T("cli.alert."+a.ClearReason))
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
