package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"lookout/app/i18n"
	"lookout/node/api"
)

// localTime shows t in the local time zone, labelled with the zone's
// abbreviation: "14:03 EST", or "Dec 1 14:03 EST" if not today.
func localTime(t, now time.Time) string {
	t, now = t.Local(), now.Local()
	if y, m, d := t.Date(); y == now.Year() && m == now.Month() && d == now.Day() {
		return t.Format("15:04 MST")
	}
	return t.Format("Jan 2 15:04 MST")
}

// alertDetail writes the lines under an alert in text output: each report
// of an incident with its time, text and size; what members said that did
// not end it; a callout's rights note.
func alertDetail(w io.Writer, tr *i18n.Localizer, a api.Alert, name func(string) string, now time.Time) {
	if name == nil {
		name = shortID
	}
	if len(a.Reports) > 1 {
		for _, r := range a.Reports {
			line := tr.T("cli.detail.report", "Time", localTime(r.Sent, now), "Who", name(r.Sender), "What", r.What, "Where", r.Where)
			if r.Size > 0 {
				line += " " + tr.T("cli.detail.size", "N", r.Size)
			}
			if r.Withdrawn {
				line += " " + tr.T("cli.detail.withdrawn")
			}
			fmt.Fprintln(w, "    "+clean(line))
		}
	}
	left := false
	for _, n := range a.Notes {
		id := "cli.detail.left"
		if n.Kind == "withdrawn" {
			id = "cli.detail.withdrew"
		} else {
			left = true
		}
		line := tr.T(id, "Time", localTime(n.Sent, now), "Who", name(n.Sender))
		if n.Note != "" {
			line += ": " + n.Note
		}
		fmt.Fprintln(w, "    "+clean(line))
	}
	if left && a.State != "cleared" && a.State != "expired" {
		fmt.Fprintln(w, "    "+tr.T("cli.detail.act", "ID", shortID(a.ID)))
	}
	if a.Rights != "" {
		fmt.Fprintln(w, "    "+clean(tr.T("cli.detail.rights", "Rights", a.Rights)))
	}
	cardDetail(w, tr, a) // zonedocs.go
}

func runVerify(ctx context.Context, e *env, args []string) error {
	pos, err := e.parse("verify", e.flags(), args, "ALERT")
	if err != nil {
		return err
	}
	c := e.client()
	zs, err := c.Zones(ctx)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(zs, func(z api.Zone) bool { return z.Role == "verifier" || z.Role == "organizer" }) {
		return errors.New(e.tr.T("cli.verify.notverifier", "Cmd", e.cmdline("confirm "+pos[0])))
	}
	a, err := c.Confirm(ctx, pos[0])
	if err != nil {
		return err
	}
	if err := e.printAlert(ctx, a, nil); err != nil {
		return err
	}
	if a.Kind == "sighting" && !a.Verified {
		// A member of this zone, or its reporter: a witness, not a verifier.
		_, err = fmt.Fprintln(e.stderr, e.tr.T("cli.verify.notverified"))
	}
	return err
}

// clock is the local time of day to the second, labelled: "14:03:27 EST".
func clock(t time.Time) string { return t.Local().Format("15:04:05 MST") }
