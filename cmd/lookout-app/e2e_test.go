package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"lookout/app"
	"lookout/node/api"
	"lookout/node/sim"
)

var (
	cliOnce sync.Once
	cliBin  string
	cliErr  error
)

// cliBinary builds the lookout command once per test run.
func cliBinary(t *testing.T) string {
	t.Helper()
	cliOnce.Do(func() {
		dir, err := os.MkdirTemp("", "lkclibin")
		if err != nil {
			cliErr = err
			return
		}
		cliBin = filepath.Join(dir, "lookout")
		cmd := exec.Command("go", "build", "-o", cliBin, "lookout/cmd/lookout")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			cliErr = fmt.Errorf("build lookout: %v\n%s", err, out)
		}
	})
	if cliErr != nil {
		t.Fatal(cliErr)
	}
	return cliBin
}

// cli runs the lookout command against home and returns its trimmed stdout.
// cliPassphraseEnv unlocks the organizer's home for the lookout command.
const cliPassphraseEnv = "LOOKOUT_PASSPHRASE=the organizer's passphrase"

func cli(t *testing.T, home string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, cliBinary(t), append([]string{"--home", home}, args...)...)
	cmd.Env = append(os.Environ(), cliPassphraseEnv)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("lookout %s: %v; stderr %s", strings.Join(args, " "), err, errb.String())
	}
	return strings.TrimSpace(out.String())
}

// appUI is one app instance in this process: the UI over a real node on
// loopback, driven through its widgets.
type appUI struct {
	name string
	ui   *app.UI
}

// objects lists what is visible in the instance's window, depth first.
func (a *appUI) objects() []fyne.CanvasObject {
	var out []fyne.CanvasObject
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if o == nil || !o.Visible() {
			return
		}
		out = append(out, o)
		switch o := o.(type) {
		case *fyne.Container:
			for _, c := range o.Objects {
				walk(c)
			}
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(o).Objects() {
				walk(c)
			}
		}
	}
	walk(a.ui.Window().Content())
	return out
}

func (a *appUI) button(text string) *widget.Button {
	for _, o := range a.objects() {
		if b, ok := o.(*widget.Button); ok && b.Text == text {
			return b
		}
	}
	return nil
}

func (a *appUI) entry(placeholder string) *widget.Entry {
	for _, o := range a.objects() {
		// The app's wrapping form fields hold a plain entry.
		if f, ok := o.(interface{ TextEntry() *widget.Entry }); ok {
			o = f.TextEntry()
		}
		if e, ok := o.(*widget.Entry); ok && e.PlaceHolder == placeholder {
			return e
		}
	}
	return nil
}

func (a *appUI) hasLabel(text string) bool {
	for _, o := range a.objects() {
		if l, ok := o.(*widget.Label); ok && l.Text == text {
			return true
		}
	}
	return false
}

// e2eUI runs UI work queued by every instance on the test goroutine.
type e2eUI struct {
	t *testing.T
	q chan func()
}

// waitFor runs queued UI work until cond holds, failing after timeout.
func (e *e2eUI) waitFor(what string, timeout time.Duration, cond func() bool) {
	e.t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for !cond() {
		select {
		case f := <-e.q:
			f()
		case <-deadline.C:
			e.t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
	}
}

func (e *e2eUI) tap(a *appUI, text string) {
	e.t.Helper()
	e.waitFor(a.name+": button "+text, 30*time.Second, func() bool { return a.button(text) != nil })
	test.Tap(a.button(text))
}

const noPeers = "No other member is connected right now: what you send may not reach anyone. Use your phone tree or hotline too."

// TestTwoAppsAndANode runs a `lookout node` process (an organizer's
// always-on node) and two app instances with their own homes, all on
// loopback. Both apps join with invites pasted into the join screen; one
// reports a sighting through the report form, which the other app and
// the node receive; the node sends a callout, which both apps show, and
// an app answers "On my way", which the node counts.
func TestTwoAppsAndANode(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the lookout command and runs three nodes on loopback; skipped in -short mode")
	}
	t.Setenv("LANGUAGE", "en")
	t.Setenv("LC_ALL", "en")

	// The organizer's node.
	homeC := shortHome(t)
	cli(t, homeC, "init", "--name", "Organizer")
	node := exec.Command(cliBinary(t), "--home", homeC, "node", "--listen", "/ip4/127.0.0.1/tcp/0")
	node.Env = append(os.Environ(), cliPassphraseEnv)
	stdout, err := node.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var nodeErr bytes.Buffer
	node.Stderr = &nodeErr
	if err := node.Start(); err != nil {
		t.Fatal(err)
	}
	nodeOut := newLineWaiter(stdout)
	t.Cleanup(func() {
		node.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- node.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("lookout node: %v", err)
			}
		case <-time.After(15 * time.Second):
			node.Process.Kill()
			t.Error("lookout node did not stop on SIGINT")
		}
		if t.Failed() {
			t.Logf("lookout node stderr:\n%s", nodeErr.String())
		}
	})
	nodeOut.waitFor(t, "/ip4/127.0.0.1/tcp/", 30*time.Second)
	cli(t, homeC, "zone", "create", "Parkdale")

	// Two app instances.
	fa := test.NewTempApp(t)
	e := &e2eUI{t: t, q: make(chan func(), 1024)}
	start := func(name string) *appUI {
		prof := &profile{home: shortHome(t), listen: []string{"/ip4/127.0.0.1/tcp/0"}, log: slog.New(slog.DiscardHandler), opt: sim.StoreOptions}
		ui := app.New(fa, app.Options{Profile: prof, Do: func(f func()) { e.q <- f }, Poll: 200 * time.Millisecond})
		t.Cleanup(ui.Close)
		a := &appUI{name: name, ui: ui}
		ui.StartUnlocked(name, []byte("a passphrase for "+name))
		e.tap(a, "Join with an invite")
		code := cli(t, homeC, "zone", "invite", "Parkdale", "--role", "member")
		test.Type(a.entry("lookout1:…"), code)
		e.tap(a, "Join")
		e.waitFor(name+": feed", time.Minute, func() bool { return a.button("Report a sighting") != nil })
		return a
	}
	appA, appB := start("Ana"), start("Ben")
	for _, a := range []*appUI{appA, appB} {
		e.waitFor(a.name+": a connected zone peer", time.Minute, func() bool {
			return a.button("Report a sighting") != nil && !a.hasLabel(noPeers)
		})
	}

	// Ana reports through the form.
	e.tap(appA, "Report a sighting")
	appA.entry("e.g. 2 CBSA officers, unmarked van").SetText("3 officers at the laundromat")
	appA.entry("e.g. Queen & Dunn, outside the pharmacy").SetText("Queen & Dunn")
	e.tap(appA, "Send report")
	e.waitFor("Ana: sighting sent", 30*time.Second, func() bool { return appA.hasLabel("UNCONFIRMED") })
	// Ben's feed is open: the new alert waits behind "1 new" so that no
	// card moves under his pointer.
	e.waitFor("Ben: one new alert", time.Minute, func() bool { return appB.button("1 new") != nil })
	e.tap(appB, "1 new")
	e.waitFor("Ben: Ana's sighting", time.Minute, func() bool { return appB.hasLabel("3 officers at the laundromat") })
	if !slices.ContainsFunc(alerts(t, homeC), func(a api.Alert) bool { return a.What == "3 officers at the laundromat" }) {
		e.waitFor("the node: Ana's sighting", time.Minute, func() bool {
			return slices.ContainsFunc(alerts(t, homeC), func(a api.Alert) bool { return a.What == "3 officers at the laundromat" })
		})
	}

	// The organizer's node calls out; both apps show it.
	id := cli(t, homeC, "callout", "Parkdale", "--title", "Accompany family", "--where", "King & Dufferin", "--need", "2")
	e.waitFor("Ben: one new alert", time.Minute, func() bool { return appB.button("1 new") != nil })
	e.tap(appB, "1 new")
	e.tap(appA, "Back")
	// Ana went back to her feed while the callout travelled: if it arrived
	// after the feed opened, it waits behind "1 new" like Ben's did.
	for _, a := range []*appUI{appA, appB} {
		e.waitFor(a.name+": the callout", time.Minute, func() bool {
			if a.hasLabel("Callout: Accompany family") {
				return true
			}
			if b := a.button("1 new"); b != nil {
				test.Tap(b)
			}
			return false
		})
	}
	// Ben answers from the callout's detail (the callout is first in the feed).
	e.tap(appB, "Details")
	e.tap(appB, "On my way")
	e.waitFor("the node: Ben on his way", time.Minute, func() bool {
		for _, a := range alerts(t, homeC) {
			if a.ID == id && a.Responders != nil && a.Responders.EnRoute == 1 {
				return true
			}
		}
		return false
	})
	e.waitFor("Ana: Ben on his way", time.Minute, func() bool {
		return appA.hasLabel("On my way 1 · On scene 0 · Can't come 0 · Needed 2")
	})
}

// alerts lists the node's active alerts in Parkdale.
func alerts(t *testing.T, home string) []api.Alert {
	t.Helper()
	var as []api.Alert
	for line := range strings.Lines(cli(t, home, "alerts", "Parkdale", "--json")) {
		var a api.Alert
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			t.Fatalf("decode alerts --json line %q: %v", line, err)
		}
		as = append(as, a)
	}
	return as
}
