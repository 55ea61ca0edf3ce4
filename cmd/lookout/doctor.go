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
	Text   string `json:"text"`
}

// doctorReport runs every check against the node behind c and the home on
// this disk.
func doctorReport(ctx context.Context, e *env, c *control.Client, disk func(string) (free, total uint64, err error)) []check {
	var out []check
	add := func(name, status, format string, args ...any) {
		out = append(out, check{name, status, fmt.Sprintf(format, args...)})
	}
	st, err := c.Status(ctx)
	if errors.Is(err, control.ErrNoNode) {
		add("running", "fail", "no node is running for home %s: start it with '%s' (as a service: systemctl start lookout)", e.home, e.cmdline("node"))
	} else if err != nil {
		add("running", "fail", "the node does not answer: %v", err)
	}
	if err == nil {
		h := st.Health
		if h == nil {
			h = &api.Health{Reachable: "unknown"}
			add("running", "warn", "the node runs but reports no health: it is an older Lookout; upgrade it")
		} else {
			add("running", "ok", "the node runs (up %s), protocol %d", health.Approx(time.Duration(h.Uptime*float64(time.Second))), h.Protocol)
		}
		if h.StoreError != "" {
			add("store", "fail", "the store cannot be read: %s; stop the node and restore the home from a backup", h.StoreError)
		} else {
			add("store", "ok", "the store reads fine (%s)", bytesText(uint64(max(h.StoreBytes, 0))))
		}
		peers := h.PeersDirect + h.PeersRelayed
		if peers == 0 {
			add("peers", "warn", "no other node is connected: alerts reach nobody; check the internet connection, the port forward (4719 TCP and UDP) and that other members' nodes are running")
		} else {
			add("peers", "ok", "%d connected (%d direct, %d through a relay)", peers, h.PeersDirect, h.PeersRelayed)
		}
		out = append(out, zoneChecks(ctx, c)...)
		switch h.Reachable {
		case "yes":
			add("reachable", "ok", "other members can reach this node from the internet")
		case "no":
			add("reachable", "warn", "other members cannot reach this node from the internet: forward port 4719 TCP and UDP on the router to this computer")
		default:
			add("reachable", "unknown", "not checked yet; for an always-on node, forward port 4719 TCP and UDP on the router to this computer")
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
		add("disk", "unknown", "free space not known: %v", err)
	case free < diskFailBytes:
		add("disk", "fail", "only %s free on the disk holding %s: the node may fail to save alerts; free some space", bytesText(free), e.home)
	case free < diskWarnBytes || free < total/20:
		add("disk", "warn", "%s free of %s: free some space soon", bytesText(free), bytesText(total))
	default:
		add("disk", "ok", "%s free of %s", bytesText(free), bytesText(total))
	}
	return out
}

func zoneChecks(ctx context.Context, c *control.Client) []check {
	zones, err := c.Zones(ctx)
	if err != nil {
		return []check{{"zones", "fail", fmt.Sprintf("cannot list zones: %v", err)}}
	}
	if len(zones) == 0 {
		return []check{{"zones", "warn", "not a member of any zone yet: create one (lookout zone create NAME) or join one with an invite"}}
	}
	var out []check
	for _, z := range zones {
		name := "zone " + clean(z.Name)
		if z.Stale {
			out = append(out, check{name, "warn", "made by an older Lookout: ask an organizer for a new invite, then lookout zone leave " + clean(z.Name)})
			continue
		}
		members := "?"
		if ms, err := c.Members(ctx, z.ID); err == nil {
			members = fmt.Sprint(len(ms))
		}
		switch n := len(z.Peers); n {
		case 0:
			out = append(out, check{name, "warn", fmt.Sprintf("%s members; no other member's node is reachable now, so alerts here reach nobody", members)})
		default:
			out = append(out, check{name, "ok", fmt.Sprintf("%s members; %d members' nodes reachable now", members, n)})
		}
	}
	return out
}

func clockCheck(h *api.Health) check {
	off := time.Duration(h.ClockOffsetMS) * time.Millisecond
	switch {
	case h.ClockWarning != "" && h.ClockSenders >= health.MinClockSenders && (off >= health.ClockWarnOffset || off <= -health.ClockWarnOffset):
		return check{"clock", "fail", "CLOCK WRONG: " + h.ClockWarning}
	case h.ClockWarning != "":
		return check{"clock", "warn", h.ClockWarning}
	case h.Rejected["future"] > 0 || h.Rejected["expired"] > 0:
		return check{"clock", "warn", fmt.Sprintf("%d messages were refused as sent in the future and %d as expired: a clock is wrong here or at other members; check this computer's time",
			h.Rejected["future"], h.Rejected["expired"])}
	case h.ClockSenders == 0:
		return check{"clock", "unknown", "no live message from another member yet to compare clocks with"}
	default:
		sign := "+"
		if off < 0 {
			sign = "-"
		}
		return check{"clock", "ok", fmt.Sprintf("agrees with %d members' clocks (this one %s%.1f s, delivery included)", h.ClockSenders, sign, abs(off).Seconds())}
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
		out = append(out, check{"versions", "warn", fmt.Sprintf("%d connected nodes run an older Lookout than this one (catch-up protocol %d): they should upgrade: %s", n, h.SyncProtocol, peers(h.OlderPeers))})
	}
	if n := len(h.NewerPeers); n > 0 {
		out = append(out, check{"versions", "warn", fmt.Sprintf("%d connected nodes run a newer Lookout than this one: upgrade this node: %s", n, peers(h.NewerPeers))})
	}
	if r := h.Rejected["version"]; r > 0 {
		out = append(out, check{"versions", "warn", fmt.Sprintf("%d messages in an unknown format were refused: some members run a newer Lookout; upgrade this node", r)})
	}
	if len(out) == 0 {
		out = append(out, check{"versions", "ok", fmt.Sprintf("every connected Lookout node speaks protocol %d", h.Protocol)})
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
			mark := map[string]string{"ok": "ok", "warn": "WARN", "fail": "FAIL", "unknown": "?"}[c.Status]
			fmt.Fprintf(tw, "%s\t%s\t%s\n", mark, c.Name, c.Text)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if problems > 0 {
		if problems == 1 {
			return errors.New("doctor found 1 problem; see above")
		}
		return fmt.Errorf("doctor found %d problems; see above", problems)
	}
	return nil
}

// statusHealth adds the health lines to `lookout status`: the clock, and
// peers on other protocol versions, loudly when something is wrong.
func statusHealth(w io.Writer, h *api.Health) {
	if h == nil {
		return
	}
	fmt.Fprintf(w, "protocol\t%d (catch-up %d)\n", h.Protocol, h.SyncProtocol)
	fmt.Fprintf(w, "reachable\t%s\n", h.Reachable)
	c := clockCheck(h)
	if c.Status == "fail" || c.Status == "warn" {
		fmt.Fprintf(w, "clock\t!! %s\n", c.Text)
	} else {
		fmt.Fprintf(w, "clock\t%s\n", c.Text)
	}
	for _, v := range versionChecks(h) {
		if v.Status != "ok" {
			fmt.Fprintf(w, "versions\t!! %s\n", v.Text)
		}
	}
}
