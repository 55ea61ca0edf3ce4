package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"lookout/app/i18n"
	"lookout/node/api"
	"lookout/node/control"
	"lookout/protocol"
)

func runStatus(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	asJSON := fs.Bool("json", false, "print one JSON object")
	if _, err := e.parse("status", fs, args); err != nil {
		return err
	}
	st, err := e.client().Status(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e.stdout, st)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\t%s\n", e.tr.T("cli.status.member"), clean(st.MemberID))
	if st.Name != "" {
		fmt.Fprintf(tw, "%s\t%s\n", e.tr.T("cli.status.name"), clean(st.Name))
	}
	fmt.Fprintf(tw, "%s\t%s\n", e.tr.T("cli.status.peer"), clean(st.PeerID))
	list(tw, e.tr, e.tr.T("cli.status.listening"), st.Addrs)
	list(tw, e.tr, e.tr.T("cli.status.connected"), st.Peers)
	statusHealth(tw, e.tr, st.Health) // doctor.go
	return tw.Flush()
}

// list prints a labelled list, one item per line.
func list(w io.Writer, tr *i18n.Localizer, label string, items []string) {
	if len(items) == 0 {
		fmt.Fprintf(w, "%s\t%s\n", label, tr.T("cli.status.none"))
	}
	for i, it := range items {
		if i > 0 {
			label = ""
		}
		fmt.Fprintf(w, "%s\t%s\n", label, clean(it))
	}
}

func runZoneCreate(ctx context.Context, e *env, args []string) error {
	pos, err := e.parse("zone create", e.flags(), args, "NAME")
	if err != nil {
		return err
	}
	z, err := e.client().CreateZone(ctx, pos[0])
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(e.stdout, z.ID)
	return err
}

func runZoneInvite(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	role := &choiceFlag{"member", []string{"member", "verifier", "organizer"}}
	ttl := ttlFlag(24 * time.Hour)
	fs.Var(role, "role", "`ROLE` of the invited member: member, verifier or organizer")
	fs.Var(&ttl, "ttl", "how long the code stays valid: `DURATION` like 90m, 24h or 7d; at most 30d")
	lan := fs.Bool("lan", false, "also put this node's local network and VPN addresses in the code, for a joiner on the same network")
	pos, err := e.parse("zone invite", fs, args, "ZONE")
	if err != nil {
		return err
	}
	if err := e.checkTTL("zone invite", ttl, "30d", ttlFlag(protocol.MaxInviteTTL)); err != nil {
		return err
	}
	inv, err := e.client().Invite(ctx, api.InviteRequest{Zone: pos[0], Role: role.value, TTL: time.Duration(ttl), LAN: *lan})
	if err != nil {
		return hint(err, control.ErrForbidden, e.tr.T("cli.hint.invite", "Zone", clean(pos[0])))
	}
	_, err = fmt.Fprintln(e.stdout, inv.Code)
	return err
}

func runZoneJoin(ctx context.Context, e *env, args []string) error {
	pos, err := e.parse("zone join", e.flags(), args, "CODE")
	if err != nil {
		return err
	}
	z, err := e.client().Join(ctx, strings.TrimSpace(pos[0]))
	if err != nil {
		return hint(err, control.ErrInvalid, e.tr.T("cli.hint.join"))
	}
	_, err = fmt.Fprintln(e.stdout, z.ID, clean(z.Name))
	return err
}

func runZoneList(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	asJSON := fs.Bool("json", false, "print one JSON object per zone")
	if _, err := e.parse("zone list", fs, args); err != nil {
		return err
	}
	zs, err := e.client().Zones(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		for _, z := range zs {
			if err := printJSON(e.stdout, z); err != nil {
				return err
			}
		}
		return nil
	}
	if len(zs) == 0 {
		_, err := fmt.Fprintln(e.stdout, e.tr.T("cli.zones.none", "Create", e.cmdline("zone create NAME"), "Join", e.cmdline("zone join CODE")))
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, e.tr.T("cli.zones.header"))
	for _, z := range zs {
		if z.Stale {
			fmt.Fprintf(tw, "%s\t%s\t\t\t%s\n", clean(z.Name), e.tr.T("cli.zones.stale"), z.ID)
			continue
		}
		if z.Removed {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\n", clean(z.Name), e.tr.T("cli.zones.removed"), z.Epoch, len(z.Peers), z.ID)
			continue
		}
		if z.Expired != "" {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\n", clean(z.Name), e.tr.T("cli.zones.expired", "Role", clean(z.Role), "Date", clean(z.Expired)), z.Epoch, len(z.Peers), z.ID)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\n", clean(z.Name), clean(z.Role), z.Epoch, len(z.Peers), z.ID)
	}
	return tw.Flush()
}

func runZoneLeave(ctx context.Context, e *env, args []string) error {
	pos, err := e.parse("zone leave", e.flags(), args, "ZONE")
	if err != nil {
		return err
	}
	z, err := e.client().LeaveZone(ctx, pos[0])
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(e.stdout, e.tr.T("cli.zones.left", "Zone", clean(z.Name)))
	return err
}

func runReport(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	var req api.ReportRequest
	fs.StringVar(&req.What, "what", "", "what you see: agents, vehicles, `TEXT`; - reads it from standard input, kept out of the shell's history")
	fs.StringVar(&req.Where, "where", "", "where it is: `PLACE`; - reads it from standard input")
	fs.IntVar(&req.Size, "size", 0, "how many agents: `N`")
	fs.StringVar(&req.Activity, "activity", "", "what they are doing: `TEXT`")
	fs.StringVar(&req.Uniform, "uniform", "", uniformUsage(e))
	fs.StringVar(&req.Equipment, "equipment", "", "equipment and vehicles: `TEXT`")
	fs.BoolVar(&req.Exercise, "exercise", false, "mark it as a drill")
	whatCode := &choiceFlag{choices: api.WhatCodes}
	fs.Var(whatCode, "what-code", whatCodeUsage(e))
	fs.IntVar(&req.Vehicles, "vehicles", 0, "how many vehicles: `N`")
	pos, err := e.parse("report", fs, args, "ZONE")
	if err != nil {
		return err
	}
	if err := e.readTexts("report", textFlag{"what", &req.What, protocol.MaxTextLen}, textFlag{"where", &req.Where, protocol.MaxPlaceLen},
		textFlag{"activity", &req.Activity, protocol.MaxTextLen}, textFlag{"uniform", &req.Uniform, protocol.MaxTextLen},
		textFlag{"equipment", &req.Equipment, protocol.MaxTextLen}); err != nil {
		return err
	}
	req.WhatCode = whatCode.value
	if req.WhatCode == "" {
		if strings.TrimSpace(req.What) == "" {
			return &usageError{cmd: "report", msg: e.tr.T("cli.report.nowhat")}
		}
	}
	if err := e.need("report", "where", req.Where); err != nil {
		return err
	}
	// --uniform marked|plain is a code; other text goes as typed.
	if u := strings.ToLower(strings.TrimSpace(req.Uniform)); u == api.UniformMarked || u == api.UniformPlain {
		req.UniformCode, req.Uniform = u, ""
	}
	if req.Vehicles < 0 {
		return &usageError{cmd: "report", msg: e.tr.T("cli.err.negative", "Flag", "--vehicles")}
	}
	if err := e.checkCount("report", "size", req.Size, 0, protocol.MaxCount); err != nil {
		return err
	}
	req.Zone = pos[0]
	a, err := e.client().Report(ctx, req)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintln(e.stdout, a.ID); err != nil {
		return err
	}
	if len(a.Sightings) > 1 {
		_, err = fmt.Fprintln(e.stderr, e.tr.T("cli.report.joined", "ID", a.ID, "Reports", len(a.Sightings),
			"Cmd", e.cmdline("alerts "+shellQuote(pos[0]))))
	}
	return err
}

func runCallout(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	var req api.CalloutRequest
	fs.StringVar(&req.Title, "title", "", "what is needed: `TEXT`")
	fs.StringVar(&req.Where, "where", "", "where to go: `PLACE`")
	fs.StringVar(&req.When, "when", "", "when to be there: `TIME`")
	fs.IntVar(&req.Need, "need", 0, fmt.Sprintf("how many people are needed: `N`, at most %d", maxNeed))
	fs.StringVar(&req.Bring, "bring", "", "what to bring: `TEXT`")
	fs.StringVar(&req.Rights, "rights", "", "rights reminder for responders, shown with the callout: `TEXT`")
	fs.StringVar(&req.Card, "card", "", "a know-your-rights card for responders: `TOPIC` (see lookout rights)")
	fs.BoolVar(&req.Exercise, "exercise", false, "mark it as a drill")
	pos, err := e.parse("callout", fs, args, "ZONE")
	if err != nil {
		return err
	}
	if err := e.readTexts("callout", textFlag{"title", &req.Title, protocol.MaxTitleLen}, textFlag{"where", &req.Where, protocol.MaxPlaceLen},
		textFlag{"when", &req.When, protocol.MaxWhenLen}, textFlag{"bring", &req.Bring, protocol.MaxTextLen},
		textFlag{"rights", &req.Rights, protocol.MaxRightsLen}); err != nil {
		return err
	}
	if err := e.need("callout", "title", req.Title, "where", req.Where); err != nil {
		return err
	}
	if err := e.checkCount("callout", "need", req.Need, 0, maxNeed); err != nil {
		return err
	}
	req.Zone = pos[0]
	a, err := e.client().Callout(ctx, req)
	if err != nil {
		return hint(err, control.ErrForbidden, e.tr.T("cli.hint.callout", "Zone", clean(pos[0])))
	}
	_, err = fmt.Fprintln(e.stdout, a.ID)
	return err
}

func runConfirm(ctx context.Context, e *env, args []string) error {
	pos, err := e.parse("confirm", e.flags(), args, "ALERT")
	if err != nil {
		return err
	}
	a, err := e.client().Confirm(ctx, pos[0])
	return e.printAlert(ctx, a, err)
}

func runRespond(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	status := &choiceFlag{choices: []string{"enroute", "onscene", "cannot"}}
	fs.Var(status, "status", "your answer: `STATUS` enroute, onscene or cannot")
	pos, err := e.parse("respond", fs, args, "ALERT")
	if err != nil {
		return err
	}
	if err := e.need("respond", "status", status.value); err != nil {
		return err
	}
	a, err := e.client().Respond(ctx, pos[0], status.value)
	return e.printAlert(ctx, a, err)
}

func runClear(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	reason := fs.String("reason", "", "why it is clear: `TEXT`; - reads it from standard input")
	pos, err := e.parse("clear", fs, args, "ALERT")
	if err != nil {
		return err
	}
	if err := e.readTexts("clear", textFlag{"reason", reason, protocol.MaxTextLen}); err != nil {
		return err
	}
	a, err := e.client().Clear(ctx, pos[0], *reason)
	if err := e.printAlert(ctx, a, err); err != nil {
		return err
	}
	if a.State != "cleared" {
		_, err = fmt.Fprintln(e.stderr, e.tr.T("cli.clear.noted"))
	}
	return err
}

func runCalloutUpdate(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	var req api.CalloutUpdateRequest
	fs.StringVar(&req.Title, "title", "", "new title: `TEXT`")
	fs.StringVar(&req.Where, "where", "", "new place to go: `PLACE`")
	fs.StringVar(&req.When, "when", "", "new time to be there: `TIME`")
	fs.IntVar(&req.Need, "need", 0, fmt.Sprintf("how many people are needed now: `N`, 1 to %d", maxNeed))
	fs.StringVar(&req.Bring, "bring", "", "new list of what to bring: `TEXT`")
	fs.StringVar(&req.Rights, "rights", "", "new rights reminder: `TEXT`")
	fs.StringVar(&req.Card, "card", "", "new know-your-rights card: `TOPIC`")
	pos, err := e.parse("callout update", fs, args, "ALERT")
	if err != nil {
		return err
	}
	if err := e.readTexts("callout update", textFlag{"title", &req.Title, protocol.MaxTitleLen}, textFlag{"where", &req.Where, protocol.MaxPlaceLen},
		textFlag{"when", &req.When, protocol.MaxWhenLen}, textFlag{"bring", &req.Bring, protocol.MaxTextLen},
		textFlag{"rights", &req.Rights, protocol.MaxRightsLen}); err != nil {
		return err
	}
	needSet := false
	fs.Visit(func(f *flag.Flag) { needSet = needSet || f.Name == "need" })
	switch {
	case needSet && (req.Need < 1 || req.Need > maxNeed):
		return e.checkCount("callout update", "need", req.Need, 1, maxNeed)
	case !needSet && strings.TrimSpace(req.Title+req.Where+req.When+req.Bring+req.Rights+req.Card) == "":
		return &usageError{cmd: "callout update", msg: e.tr.T("cli.update.nothing")}
	}
	req.Alert = pos[0]
	a, err := e.client().UpdateCallout(ctx, req)
	return e.printAlert(ctx, a, hint(err, control.ErrForbidden, e.tr.T("cli.hint.calloutupdate")))
}

func runCosign(ctx context.Context, e *env, args []string) error {
	pos, err := e.parse("cosign", e.flags(), args, "ALERT")
	if err != nil {
		return err
	}
	a, err := e.client().Cosign(ctx, pos[0])
	return e.printAlert(ctx, a, err)
}

// printAlert prints the alert an update returned.
func (e *env) printAlert(ctx context.Context, a api.Alert, err error) error {
	if err != nil {
		return err
	}
	names := newNames(ctx, e.client(), a.Zone)
	if _, err := fmt.Fprintln(e.stdout, formatAlert(e.tr, a, names.name)); err != nil {
		return err
	}
	alertDetail(e.stdout, e.tr, a, names.name, time.Now())
	return nil
}

func runAlerts(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	asJSON := fs.Bool("json", false, "print one JSON object per alert")
	pos, err := e.parse("alerts", fs, args, "ZONE")
	if err != nil {
		return err
	}
	c := e.client()
	as, err := c.Alerts(ctx, pos[0])
	if err != nil {
		return err
	}
	if !*asJSON && len(as) == 0 {
		_, err := fmt.Fprintln(e.stdout, e.tr.T("cli.alerts.none", "Zone", clean(pos[0])))
		return err
	}
	api.SortByUrgency(as)
	names := newNames(ctx, c, pos[0])
	now := time.Now()
	for _, a := range as {
		if *asJSON {
			err = printJSON(e.stdout, alertOut(a))
		} else {
			_, err = fmt.Fprintln(e.stdout, formatAlert(e.tr, a, names.name))
			alertDetail(e.stdout, e.tr, a, names.name, now)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func runWatch(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	asJSON := fs.Bool("json", false, "print one JSON object per alert or update")
	pos, err := e.parse("watch", fs, args, "ZONE")
	if err != nil {
		return err
	}
	c := e.client()
	names := newNames(ctx, c, pos[0])
	if !*asJSON {
		// What is going on now, then what changes.
		as, err := c.Alerts(ctx, pos[0])
		if err != nil {
			return err
		}
		api.SortByUrgency(as)
		now := time.Now()
		for _, a := range as {
			fmt.Fprintf(e.stdout, "%s %s\n", clock(now), formatAlert(e.tr, a, names.name))
			alertDetail(e.stdout, e.tr, a, names.name, now)
		}
		if len(as) == 0 {
			fmt.Fprintln(e.stdout, e.tr.T("cli.alerts.none", "Zone", clean(pos[0])))
		}
		if _, err := fmt.Fprintln(e.stdout, e.tr.T("cli.watch.start", "Zone", clean(pos[0]))); err != nil {
			return err
		}
	}
	err = c.Watch(ctx, pos[0], func(a api.Alert) error {
		if *asJSON {
			return printJSON(e.stdout, alertOut(a))
		}
		now := time.Now()
		if _, err := fmt.Fprintf(e.stdout, "%s %s\n", clock(now), formatAlert(e.tr, a, names.name)); err != nil {
			return err
		}
		alertDetail(e.stdout, e.tr, a, names.name, now)
		return nil
	})
	if ctx.Err() != nil {
		return nil // interrupted: the normal way to stop watching
	}
	return e.watchEnded(ctx, pos[0], err)
}

// watchEnded says in words why a watch stream ended: the member was
// removed from the zone, or the node stopped.
func (e *env) watchEnded(ctx context.Context, zone string, err error) error {
	if err == nil {
		return nil
	}
	c := e.client()
	zs, zerr := c.Zones(ctx)
	switch {
	case errors.Is(zerr, control.ErrNoNode):
		return errors.New(e.tr.T("cli.watch.stopped", "Cmd", e.cmdline("node")))
	case zerr != nil:
		return err
	}
	for _, z := range zs {
		if (strings.EqualFold(z.Name, zone) || strings.HasPrefix(z.ID, strings.ToLower(zone))) && z.Removed {
			return errors.New(e.tr.T("cli.watch.removed", "Zone", clean(zone)))
		}
	}
	return err
}

// alertJSON is an alert as alerts and watch print it: the keys a script
// looks for are there even when empty or false (verified_by of sightings;
// needed and cosigned of callouts).
type alertJSON struct {
	api.Alert
	VerifiedBy *[]string `json:"verified_by,omitempty"`
	Needed     *int      `json:"needed,omitempty"`
	Cosigned   *bool     `json:"cosigned,omitempty"`
}

func alertOut(a api.Alert) alertJSON {
	out := alertJSON{Alert: a}
	if a.Kind == "sighting" || len(a.VerifiedBy) > 0 {
		vb := append([]string{}, a.VerifiedBy...)
		out.VerifiedBy = &vb
	}
	if a.Kind == "callout" || a.Needed != 0 {
		needed := cmp.Or(a.Needed, a.Need)
		out.Needed = &needed
	}
	if a.Kind == "callout" || a.Cosigned {
		cosigned := a.Cosigned || len(a.Cosigners) > 0
		out.Cosigned = &cosigned
	}
	return out
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
