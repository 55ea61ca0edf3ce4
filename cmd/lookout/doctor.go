package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"lookout/app/i18n"
	"lookout/node/api"
	"lookout/node/control"
	"lookout/node/health"
)

// Doctor's disk thresholds.
const (
	diskFailBytes = 100 << 20 // below this the store may fail to write alerts
	diskWarnBytes = 1 << 30
)

// check is one line of doctor's report.
type check struct {
	Name   string `json:"check"`
	Status string `json:"status"` // ok, warn, fail or unknown
	Text   string `json:"text"`   // English, for scripts
	id     string // catalogue message of Text, "" if Text is not from it
	fields []any
}

// english renders the text of --json output, which stays English.
var english = i18n.New("en")

// newCheck is a check whose text is catalogue message id.
func newCheck(name, status, id string, fields ...any) check {
	return check{Name: name, Status: status, Text: english.T(id, fields...), id: id, fields: fields}
}

// textIn is the check's text in tr's language.
func (c check) textIn(tr *i18n.Localizer) string {
	if c.id == "" {
		return c.Text
	}
	return tr.T(c.id, c.fields...)
}

// nameIn is the check's name in tr's language ("zone NAME" keeps NAME).
func (c check) nameIn(tr *i18n.Localizer) string {
	if z, ok := strings.CutPrefix(c.Name, "zone "); ok {
		return tr.T("cli.doctor.zone", "Zone", z)
	}
	if id := "cli.doctor.name." + c.Name; tr.T(id) != id {
		return tr.T(id)
	}
	return c.Name
}

// doctorReport runs every check against the node behind c and the home on
// this disk.
func doctorReport(ctx context.Context, e *env, c *control.Client, disk func(string) (free, total uint64, err error)) []check {
	var out []check
	add := func(name, status, id string, fields ...any) {
		out = append(out, newCheck(name, status, id, fields...))
	}
	st, err := c.Status(ctx)
	if errors.Is(err, control.ErrNoNode) {
		add("running", "fail", "cli.doctor.nonode", "Home", e.home, "Cmd", e.cmdline("node"))
	} else if err != nil {
		add("running", "fail", "cli.doctor.noanswer", "Err", err.Error())
	}
	if err == nil {
		h := st.Health
		if h == nil {
			h = &api.Health{Reachable: "unknown"}
			add("running", "warn", "cli.doctor.nohealth")
		} else {
			add("running", "ok", "cli.doctor.running", "Up", health.Approx(time.Duration(h.Uptime*float64(time.Second))), "Protocol", h.Protocol)
		}
		if h.StoreError != "" {
			add("store", "fail", "cli.doctor.store.fail", "Err", h.StoreError)
		} else {
			add("store", "ok", "cli.doctor.store.ok", "Size", bytesText(uint64(max(h.StoreBytes, 0))))
		}
		peers := h.PeersDirect + h.PeersRelayed
		if peers == 0 {
			add("peers", "warn", "cli.doctor.peers.none")
		} else {
			add("peers", "ok", "cli.doctor.peers.ok", "N", peers, "Direct", h.PeersDirect, "Relayed", h.PeersRelayed)
		}
		out = append(out, zoneChecks(ctx, c)...)
		switch h.Reachable {
		case "yes":
			add("reachable", "ok", "cli.doctor.reach.yes")
		case "no":
			add("reachable", "warn", "cli.doctor.reach.no")
		default:
			add("reachable", "unknown", "cli.doctor.reach.unknown")
		}
		out = append(out, clockCheck(h))
		out = append(out, versionChecks(h)...)
	}
	// The disk holding the home, or the nearest folder above it that exists.
	dir := e.home
	for _, err := os.Stat(dir); err != nil && filepath.Dir(dir) != dir; _, err = os.Stat(dir) {
		dir = filepath.Dir(dir)
	}
	free, total, err := disk(dir)
	switch {
	case err != nil:
		add("disk", "unknown", "cli.doctor.disk.unknown", "Err", err.Error())
	case free < diskFailBytes:
		add("disk", "fail", "cli.doctor.disk.fail", "Free", bytesText(free), "Home", e.home)
	case free < diskWarnBytes || free < total/20:
		add("disk", "warn", "cli.doctor.disk.warn", "Free", bytesText(free), "Total", bytesText(total))
	default:
		add("disk", "ok", "cli.doctor.disk.ok", "Free", bytesText(free), "Total", bytesText(total))
	}
	return out
}

func zoneChecks(ctx context.Context, c *control.Client) []check {
	zones, err := c.Zones(ctx)
	if err != nil {
		return []check{newCheck("zones", "fail", "cli.doctor.zones.fail", "Err", err.Error())}
	}
	if len(zones) == 0 {
		return []check{newCheck("zones", "warn", "cli.doctor.zones.none")}
	}
	var out []check
	for _, z := range zones {
		name := "zone " + clean(z.Name)
		if z.Stale {
			out = append(out, newCheck(name, "warn", "cli.doctor.zone.stale", "Zone", clean(z.Name)))
			continue
		}
		if z.Expired != "" {
			out = append(out, newCheck(name, "warn", "cli.doctor.zone.expired", "Date", clean(z.Expired)))
			continue
		}
		members := "?"
		if ms, err := c.Members(ctx, z.ID); err == nil {
			members = fmt.Sprint(len(ms))
		}
		switch n := len(z.Peers); n {
		case 0:
			out = append(out, newCheck(name, "warn", "cli.doctor.zone.alone", "Members", members))
		default:
			out = append(out, newCheck(name, "ok", "cli.doctor.zone.ok", "Members", members, "N", n))
		}
	}
	return out
}

func clockCheck(h *api.Health) check {
	off := time.Duration(h.ClockOffsetMS) * time.Millisecond
	switch {
	case h.ClockWarning != "" && h.ClockSenders >= health.MinClockSenders && (off >= health.ClockWarnOffset || off <= -health.ClockWarnOffset):
		return newCheck("clock", "fail", "cli.doctor.clock.wrong", "Warning", h.ClockWarning)
	case h.ClockWarning != "":
		return check{Name: "clock", Status: "warn", Text: h.ClockWarning} // the node's words
	case h.Rejected["future"] > 0 || h.Rejected["expired"] > 0:
		return newCheck("clock", "warn", "cli.doctor.clock.refused", "Future", h.Rejected["future"], "Expired", h.Rejected["expired"])
	case h.ClockSenders == 0:
		return newCheck("clock", "unknown", "cli.doctor.clock.unknown")
	default:
		sign := "+"
		if off < 0 {
			sign = "-"
		}
		return newCheck("clock", "ok", "cli.doctor.clock.ok", "N", h.ClockSenders, "Offset", fmt.Sprintf("%s%.1f", sign, abs(off).Seconds()))
	}
}

func versionChecks(h *api.Health) []check {
	var out []check
	peers := func(ps []api.PeerVersion) string {
		ids := make([]string, len(ps))
		for i, p := range ps {
			ids[i] = fmt.Sprintf("%s (protocol %d)", clean(p.Peer), p.SyncProtocol)
		}
		return strings.Join(ids, ", ")
	}
	if n := len(h.OlderPeers); n > 0 {
		out = append(out, newCheck("versions", "warn", "cli.doctor.versions.older", "N", n, "Protocol", h.SyncProtocol, "Peers", peers(h.OlderPeers)))
	}
	if n := len(h.NewerPeers); n > 0 {
		out = append(out, newCheck("versions", "warn", "cli.doctor.versions.newer", "N", n, "Peers", peers(h.NewerPeers)))
	}
	if r := h.Rejected["version"]; r > 0 {
		out = append(out, newCheck("versions", "warn", "cli.doctor.versions.unknown", "N", r))
	}
	if len(out) == 0 {
		out = append(out, newCheck("versions", "ok", "cli.doctor.versions.ok", "Protocol", h.Protocol))
	}
	return out
}

func abs(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// bytesText writes n in binary units: "512 B", "3.2 MiB".
func bytesText(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	d, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		d *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(d), "KMGTPE"[exp])
}

// diskSpace is how doctor measures free space (disk_*.go); tests replace it.
var diskSpace = freeSpace

func runDoctor(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	asJSON := fs.Bool("json", false, "print one JSON object per check")
	if _, err := e.parse("doctor", fs, args); err != nil {
		return err
	}
	checks := doctorReport(ctx, e, e.client(), diskSpace)
	problems := 0
	for _, c := range checks {
		if c.Status == "warn" || c.Status == "fail" {
			problems++
		}
	}
	if *asJSON {
		for _, c := range checks {
			if err := printJSON(e.stdout, c); err != nil {
				return err
			}
		}
	} else {
		tw := tabwriter.NewWriter(e.stdout, 0, 8, 2, ' ', 0)
		for _, c := range checks {
			mark := e.tr.T("cli.doctor.mark." + c.Status)
			fmt.Fprintf(tw, "%s\t%s\t%s\n", mark, c.nameIn(e.tr), c.textIn(e.tr))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if problems > 0 {
		return errors.New(e.tr.N("cli.doctor.problems", problems))
	}
	return nil
}

// statusHealth adds the health lines to `lookout status`: the clock, and
// peers on other protocol versions, loudly when something is wrong.
func statusHealth(w io.Writer, tr *i18n.Localizer, h *api.Health) {
	if h == nil {
		return
	}
	fmt.Fprintf(w, "%s\t%s\n", tr.T("cli.status.protocol"), tr.T("cli.status.protocol.value", "Protocol", h.Protocol, "Sync", h.SyncProtocol))
	reach := h.Reachable
	if id := "cli.status.reachable." + reach; tr.T(id) != id {
		reach = tr.T(id)
	}
	fmt.Fprintf(w, "%s\t%s\n", tr.T("cli.status.reachable"), clean(reach))
	c := clockCheck(h)
	if c.Status == "fail" || c.Status == "warn" {
		fmt.Fprintf(w, "%s\t!! %s\n", c.nameIn(tr), c.textIn(tr))
	} else {
		fmt.Fprintf(w, "%s\t%s\n", c.nameIn(tr), c.textIn(tr))
	}
	for _, v := range versionChecks(h) {
		if v.Status != "ok" {
			fmt.Fprintf(w, "%s\t!! %s\n", v.nameIn(tr), v.textIn(tr))
		}
	}
}
