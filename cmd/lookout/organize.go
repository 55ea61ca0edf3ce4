package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"lookout/node/api"
	"lookout/node/control"
)

// memberJSON is a member as zone members prints it: removed is always
// there.
type memberJSON struct {
	api.Member
	Removed bool `json:"removed"`
}

func runZoneMembers(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	asJSON := fs.Bool("json", false, "print one JSON object per member")
	pos, err := e.parse("zone members", fs, args, "ZONE")
	if err != nil {
		return err
	}
	ms, err := e.client().Members(ctx, pos[0])
	if err != nil {
		return err
	}
	if *asJSON {
		for _, m := range ms {
			if err := printJSON(e.stdout, memberJSON{m, m.Removed}); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, e.tr.T("cli.members.header"))
	noKey := 0
	for _, m := range ms {
		note := ""
		switch {
		case m.Removed:
			note = e.tr.T("cli.members.removed")
		case !m.CanRekey:
			note = e.tr.T("cli.members.nokey")
			noKey++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", displayName(m.Name), e.role(m.Role), clean(m.ID), note)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if noKey > 0 {
		_, err = fmt.Fprintf(e.stdout, "\n%s\n", e.tr.T("cli.members.nokeynote"))
	}
	return err
}

func runZonePromote(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	role := &choiceFlag{choices: []string{"verifier", "organizer"}}
	fs.Var(role, "role", "the `ROLE` to give: verifier or organizer")
	asJSON := fs.Bool("json", false, "print the member as one JSON object")
	pos, err := e.parse("zone promote", fs, args, "ZONE", "MEMBER")
	if err != nil {
		return err
	}
	if err := e.need("zone promote", "role", role.value); err != nil {
		return err
	}
	m, err := e.client().Promote(ctx, pos[0], pos[1], role.value)
	if err != nil {
		return hint(err, control.ErrForbidden, e.tr.T("cli.hint.promote", "Zone", clean(pos[0])))
	}
	if *asJSON {
		return printJSON(e.stdout, memberJSON{m, m.Removed})
	}
	id := "cli.promote.done." + m.Role
	if e.tr.T(id) == id {
		id = "cli.promote.done"
	}
	_, err = fmt.Fprintln(e.stdout, e.tr.T(id, "Who", who(m.ID, m.Name), "Role", clean(m.Role), "Zone", clean(pos[0])))
	return err
}

func runZoneRemove(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	asJSON := fs.Bool("json", false, "print the result as one JSON object")
	pos, err := e.parse("zone remove", fs, args, "ZONE", "MEMBER")
	if err != nil {
		return err
	}
	zone := pos[0]
	c := e.client()
	res, err := c.Remove(ctx, zone, pos[1])
	if err != nil {
		return hint(err, control.ErrForbidden, e.tr.T("cli.hint.remove", "Zone", clean(zone)))
	}
	if *asJSON {
		if res.Unreached == nil {
			res.Unreached = []string{}
		}
		return printJSON(e.stdout, res)
	}
	names := newNames(ctx, c, zone)
	fmt.Fprintln(e.stdout, e.tr.T("cli.remove.done", "Who", names.name(res.Removed), "Zone", clean(zone)))
	fmt.Fprintln(e.stdout, e.tr.N("cli.remove.epoch", res.Reached, "Epoch", res.Epoch))
	if len(res.Unreached) == 0 {
		return nil
	}
	fmt.Fprintln(e.stdout, e.tr.N("cli.remove.unreached", len(res.Unreached), "Cmd", e.cmdline("zone invite "+shellQuote(zone))))
	for _, id := range res.Unreached {
		if _, err := fmt.Fprintf(e.stdout, "  %s\n", names.name(id)); err != nil {
			return err
		}
	}
	return nil
}

func runZoneSettings(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	quorum := fs.Int("quorum", 0, "`K` distinct witnesses within the window make a sighting corroborated")
	var window, expiry ttlFlag
	fs.Var(&window, "window", "corroboration window: `DURATION` like 20m")
	fs.Var(&expiry, "expiry", "a sighting expires this long after its last report or confirmation: `DURATION` like 4h")
	cosign := fs.Bool("cosign-callouts", false, "callouts need a second organizer before they go out (--cosign-callouts=false turns it off)")
	maxReports := fs.Int("max-reports", 0, "sightings each member may send per 10 minutes: `N`")
	maxConfirms := fs.Int("max-confirms", 0, "confirmations each member may send per 10 minutes: `N`")
	autoShare := &choiceFlag{choices: []string{"verified", "callouts", "all", "none"}}
	fs.Var(autoShare, "auto-share", "what the zone's always-on link end shares with linked zones on its own: `POLICY` verified, callouts, all or none")
	asJSON := fs.Bool("json", false, "print the settings as one JSON object")
	pos, err := e.parse("zone settings", fs, args, "ZONE")
	if err != nil {
		return err
	}
	req := api.SettingsRequest{Zone: pos[0]}
	var bad error
	positive := func(name string, v *int) *int {
		if *v < 1 && bad == nil {
			bad = &usageError{cmd: "zone settings", msg: e.tr.T("cli.err.atleast1", "Flag", "--"+name)}
		}
		return v
	}
	changed := false
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "quorum":
			req.Quorum = positive(f.Name, quorum)
		case "window":
			d := time.Duration(window)
			req.Window = &d
		case "expiry":
			d := time.Duration(expiry)
			req.Expiry = &d
		case "cosign-callouts":
			req.Cosign = cosign
		case "max-reports":
			req.MaxReports = positive(f.Name, maxReports)
		case "max-confirms":
			req.MaxConfirms = positive(f.Name, maxConfirms)
		case "auto-share":
			req.AutoShare = &autoShare.value
		default:
			return
		}
		changed = true
	})
	if bad != nil {
		return bad
	}
	var st api.Settings
	if changed {
		st, err = e.client().SetSettings(ctx, req)
		err = hint(err, control.ErrForbidden, e.tr.T("cli.hint.settings", "Zone", clean(pos[0])))
	} else {
		st, err = e.client().Settings(ctx, pos[0])
	}
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e.stdout, st)
	}
	yes := e.tr.T("cli.settings.cosign.no")
	if st.Cosign {
		yes = e.tr.T("cli.settings.cosign.yes")
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\t%s\n", e.tr.T("cli.settings.quorum"), e.tr.N("cli.settings.quorum.value", st.Quorum))
	fmt.Fprintf(tw, "%s\t%s\n", e.tr.T("cli.settings.window"), formatDuration(time.Duration(st.Window)))
	fmt.Fprintf(tw, "%s\t%s\n", e.tr.T("cli.settings.expiry"), e.tr.T("cli.settings.expiry.value", "D", formatDuration(time.Duration(st.Expiry))))
	fmt.Fprintf(tw, "%s\t%s\n", e.tr.T("cli.settings.cosign"), yes)
	fmt.Fprintf(tw, "%s\t%s\n", e.tr.T("cli.settings.maxreports"), e.tr.T("cli.settings.rate", "N", st.MaxReports))
	fmt.Fprintf(tw, "%s\t%s\n", e.tr.T("cli.settings.maxconfirms"), e.tr.T("cli.settings.rate", "N", st.MaxConfirms))
	if st.AutoShare != "" {
		fmt.Fprintf(tw, "%s\t%s\n", e.tr.T("cli.settings.autoshare"), clean(st.AutoShare))
	}
	if st.Note != "" {
		fmt.Fprintf(tw, "%s\t%s\n", e.tr.T("cli.settings.note"), clean(st.Note))
	}
	return tw.Flush()
}

// formatDuration writes d without zero units: 20m, 4h, 1h30m, 7d.
func formatDuration(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// role is a member role in the user's language (JSON keeps the English).
func (e *env) role(r string) string {
	if id := "cli.role." + r; e.tr.T(id) != id {
		return e.tr.T(id)
	}
	return clean(r)
}
