package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"lookout/node/api"
)

func TestMain(m *testing.M) {
	// English unless a test asks for another language.
	os.Setenv("LC_ALL", "C")
	if a := os.Getenv(envStranger); a != "" {
		os.Exit(strangerMain(a))
	}
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goroutine leak: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

// lookoutBinary builds the lookout command once per test run.
func lookoutBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "lkbin"); buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "lookout")
		cmd := exec.Command("go", "build", "-o", binPath, "lookout/cmd/lookout")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build lookout: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// e2e runs lookout processes against homes under one directory.
type e2e struct {
	t   *testing.T
	bin string
	env []string // added to the processes' environment
}

// e2ePassphrase unlocks every test home, through $LOOKOUT_PASSPHRASE.
const e2ePassphrase = "correct horse battery staple"

func (e *e2e) environ() []string {
	env := append(os.Environ(), envPassphrase+"="+e2ePassphrase)
	return append(env, e.env...)
}

type result struct {
	stdout, stderr string
	code           int
}

// run runs lookout with --home home and args to completion.
func (e *e2e) run(home string, args ...string) result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.bin, append([]string{"--home", home}, args...)...)
	cmd.Env = e.environ()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatalf("run lookout %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// ok runs lookout, fails the test unless it succeeds, and returns its
// trimmed stdout.
func (e *e2e) ok(home string, args ...string) string {
	e.t.Helper()
	r := e.run(home, args...)
	if r.code != 0 {
		e.t.Fatalf("lookout --home %s %s: exit %d, stderr %q", filepath.Base(home), strings.Join(args, " "), r.code, r.stderr)
	}
	return strings.TrimSpace(r.stdout)
}

// fails runs lookout and checks it exits 1 with one error line on stderr
// that mentions want.
func (e *e2e) fails(want, home string, args ...string) {
	e.t.Helper()
	r := e.run(home, args...)
	if r.code != 1 || !strings.HasPrefix(r.stderr, "lookout: ") || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, want) {
		e.t.Errorf("lookout %s: exit %d, stderr %q; want exit 1 and one line mentioning %q", strings.Join(args, " "), r.code, r.stderr, want)
	}
}

// proc is a long-running lookout process.
type proc struct {
	cmd    *exec.Cmd
	name   string
	stdout *outBuf
	stderr *outBuf
	exited chan struct{}
	ended  bool // it is expected to end with an error by itself
}

// start starts lookout and stops it with SIGINT when the test ends.
func (e *e2e) start(name, home string, args ...string) *proc {
	e.t.Helper()
	return e.startCmd(name, exec.Command(e.bin, append([]string{"--home", home}, args...)...))
}

// startCmd starts cmd (lookout, maybe wrapped) like start.
func (e *e2e) startCmd(name string, cmd *exec.Cmd) *proc {
	e.t.Helper()
	cmd.Env = e.environ()
	p := &proc{cmd: cmd, name: name, stdout: newOutBuf(), stderr: newOutBuf(), exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		e.t.Fatalf("start %s: %v", name, err)
	}
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(p.exited)
	}()
	t := e.t
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-p.exited:
		case <-time.After(15 * time.Second):
			t.Errorf("%s did not stop on SIGINT; killing it", name)
			cmd.Process.Kill()
			<-p.exited
		}
		if waitErr != nil && !p.ended {
			t.Errorf("%s: %v", name, waitErr)
		}
		if t.Failed() {
			t.Logf("%s stdout:\n%s\n%s stderr:\n%s", name, p.stdout, name, p.stderr)
		}
	})
	return p
}

// waitLine waits up to timeout for a line of stdout that ok accepts.
func (p *proc) waitLine(t *testing.T, timeout time.Duration, what string, ok func(string) bool) string {
	t.Helper()
	deadline := time.After(timeout)
	for {
		for _, l := range p.stdout.lines() {
			if ok(l) {
				return l
			}
		}
		select {
		case <-p.stdout.changed:
		case <-p.exited:
			// Wait has copied all output by now: one last look.
			for _, l := range p.stdout.lines() {
				if ok(l) {
					return l
				}
			}
			t.Fatalf("%s exited while waiting for %s; stderr:\n%s", p.name, what, p.stderr)
		case <-deadline:
			t.Fatalf("%s: no %s after %v; stdout:\n%s", p.name, what, timeout, p.stdout)
		}
	}
}

// waitStderr waits for stderr to contain s.
func (p *proc) waitStderr(t *testing.T, timeout time.Duration, s string) {
	t.Helper()
	deadline := time.After(timeout)
	for !strings.Contains(p.stderr.String(), s) {
		select {
		case <-p.stderr.changed:
		case <-p.exited:
			if strings.Contains(p.stderr.String(), s) {
				return // Wait has copied all output by now
			}
			t.Fatalf("%s exited while waiting for %q on stderr:\n%s", p.name, s, p.stderr)
		case <-deadline:
			t.Fatalf("%s: no %q on stderr after %v:\n%s", p.name, s, timeout, p.stderr)
		}
	}
}

// outBuf collects a process's output and signals each write.
type outBuf struct {
	mu      sync.Mutex
	b       bytes.Buffer
	changed chan struct{}
}

func newOutBuf() *outBuf { return &outBuf{changed: make(chan struct{}, 1)} }

func (o *outBuf) Write(p []byte) (int, error) {
	o.mu.Lock()
	n, err := o.b.Write(p)
	o.mu.Unlock()
	select {
	case o.changed <- struct{}{}:
	default:
	}
	return n, err
}

func (o *outBuf) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

// lines returns the complete lines written so far.
func (o *outBuf) lines() []string {
	s := o.String()
	return strings.Split(s[:strings.LastIndexByte(s, '\n')+1], "\n")
}

// eventually polls cond every 200ms until it holds or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (e *e2e) status(home string) api.Status {
	e.t.Helper()
	var st api.Status
	if err := json.Unmarshal([]byte(e.ok(home, "status", "--json")), &st); err != nil {
		e.t.Fatalf("decode status --json: %v", err)
	}
	return st
}

func (e *e2e) zone(home, name string) api.Zone {
	e.t.Helper()
	for line := range strings.Lines(e.ok(home, "zone", "list", "--json")) {
		var z api.Zone
		if err := json.Unmarshal([]byte(line), &z); err != nil {
			e.t.Fatalf("decode zone list --json line %q: %v", line, err)
		}
		if z.Name == name {
			return z
		}
	}
	e.t.Fatalf("zone %s not in zone list", name)
	return api.Zone{}
}

func (e *e2e) alert(home, zone, id string) (api.Alert, bool) {
	e.t.Helper()
	for line := range strings.Lines(e.ok(home, "alerts", zone, "--json")) {
		var a api.Alert
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			e.t.Fatalf("decode alerts --json line %q: %v", line, err)
		}
		if a.ID == id {
			return a, true
		}
	}
	return api.Alert{}, false
}

// TestEndToEnd runs three nodes on loopback: A founds a zone and invites B
// as a member and C as an organizer; B reports a sighting that A and C
// watch arrive; C calls out, B responds and A sees the count.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: this test builds lookout and runs three node processes")
	}
	e := &e2e{t: t, bin: lookoutBinary(t)}
	root, err := os.MkdirTemp("", "lke2e")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	homeA, homeB, homeC, homeD := filepath.Join(root, "a"), filepath.Join(root, "b"), filepath.Join(root, "c"), filepath.Join(root, "d")

	e.fails("lookout --home "+homeD+" node", homeD, "status")
	e.fails("lookout --home "+homeD+" node", homeD, "zone", "list")

	for _, h := range []string{homeA, homeB, homeC} {
		if id := e.ok(h, "init", "--name", filepath.Base(h)); id == "" || strings.Contains(id, "\n") {
			t.Fatalf("init printed %q, want one member ID", id)
		}
	}
	e.fails("already initialised", homeA, "init")

	peers := map[string]string{} // home → peer ID
	nodes := map[string]*proc{}
	for _, h := range []string{homeA, homeB, homeC} {
		p := e.start("node "+filepath.Base(h), h, "node", "--listen", "/ip4/127.0.0.1/tcp/0")
		addr := p.waitLine(t, 30*time.Second, "listen address", func(l string) bool {
			return strings.HasPrefix(l, "/ip4/127.0.0.1/tcp/") && strings.Contains(l, "/p2p/")
		})
		peers[h] = addr[strings.LastIndex(addr, "/p2p/")+len("/p2p/"):]
		nodes[h] = p
		t.Logf("node %s: %s", filepath.Base(h), addr)
	}
	if st := e.status(homeA); st.PeerID != peers[homeA] || st.MemberID == "" || len(st.Addrs) == 0 {
		t.Errorf("status of A = %+v, want peer ID %s and addresses", st, peers[homeA])
	}
	e.fails("already running", homeA, "node", "--listen", "/ip4/127.0.0.1/tcp/0")

	zoneID := e.ok(homeA, "zone", "create", "north")
	code := e.ok(homeA, "zone", "invite", "north", "--role", "member")
	if f := strings.Fields(e.ok(homeB, "zone", "join", code)); len(f) != 2 || f[0] != zoneID || f[1] != "north" {
		t.Fatalf("B zone join printed %q, want %q", f, zoneID+" north")
	}
	code = e.ok(homeA, "zone", "invite", "north", "--role", "organizer", "--ttl", "1h")
	e.ok(homeC, "zone", "join", code)
	e.fails("lookout: ", homeB, "zone", "join", "garbage-not-a-code")

	watchA := e.start("watch A", homeA, "watch", "north", "--json")
	watchC := e.start("watch C", homeC, "watch", "north", "--json")
	eventually(t, 30*time.Second, "B and C in A's zone peers, A in theirs", func() bool {
		return slices.Contains(e.zone(homeA, "north").Peers, peers[homeB]) &&
			slices.Contains(e.zone(homeA, "north").Peers, peers[homeC]) &&
			slices.Contains(e.zone(homeB, "north").Peers, peers[homeA]) &&
			slices.Contains(e.zone(homeC, "north").Peers, peers[homeA])
	})

	sent := time.Now()
	id := e.ok(homeB, "report", "north", "--what", "2 unmarked vans", "--where", "Jane & Finch plaza")
	for _, w := range []*proc{watchA, watchC} {
		line := w.waitLine(t, 30*time.Second, "sighting "+id, func(l string) bool {
			var a api.Alert
			return json.Unmarshal([]byte(l), &a) == nil && a.ID == id && a.Kind == "sighting"
		})
		t.Logf("%s got the sighting %v after the report started", w.name, time.Since(sent))
		var a api.Alert
		json.Unmarshal([]byte(line), &a)
		if a.What != "2 unmarked vans" || a.Where != "Jane & Finch plaza" || a.Zone != zoneID {
			t.Errorf("%s: sighting = %+v", w.name, a)
		}
	}

	e.fails("lookout: ", homeB, "callout", "north", "--title", "Come now", "--where", "here")

	cid := e.ok(homeC, "callout", "north", "--title", "Accompany family", "--where", "Keele & Wilson library", "--need", "5")
	eventually(t, 30*time.Second, "the callout at B", func() bool {
		_, ok := e.alert(homeB, "north", cid)
		return ok
	})
	e.ok(homeB, "respond", cid, "--status", "enroute")
	eventually(t, 30*time.Second, "A to count B en route", func() bool {
		a, ok := e.alert(homeA, "north", cid)
		return ok && a.Responders != nil && a.Responders.EnRoute == 1
	})
	watchA.waitLine(t, 30*time.Second, "callout "+cid, func(l string) bool {
		var a api.Alert
		return json.Unmarshal([]byte(l), &a) == nil && a.ID == cid && a.Kind == "callout"
	})

	// A seized laptop: B's home holds only the encrypted store, and no
	// alert text or zone name in plain bytes.
	scanFiles(t, homeB, "2 unmarked vans", "Jane & Finch plaza", "Accompany family", "Keele & Wilson library", "north")
	watchC.stop(t)
	// Panic wipe of C while its node runs: the node stops and nothing is
	// left, even for the passphrase.
	e.ok(homeC, "wipe", "--yes")
	select {
	case <-nodes[homeC].exited:
	case <-time.After(30 * time.Second):
		t.Fatal("C's node still runs after wipe")
	}
	if !strings.Contains(nodes[homeC].stderr.String(), "profile wiped") {
		t.Errorf("C's node stderr does not say it stopped for a wipe:\n%s", nodes[homeC].stderr)
	}
	e.fails("no identity", homeC, "node", "--listen", "/ip4/127.0.0.1/tcp/0")
	e.env = []string{envPassphrase + "=a wrong passphrase", envNewPassphrase + "=cobalt harvest tundra whistle"}
	e.fails("wrong passphrase", homeB, "passphrase", "change")
}

// stop interrupts p and waits for it to exit.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		t.Fatalf("%s did not stop on SIGINT", p.name)
	}
}

// scanFiles fails the test if any file under dir holds one of texts.
func scanFiles(t *testing.T, dir string, texts ...string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Type()&fs.ModeSocket != 0 {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, s := range texts {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%q found in plain bytes in %s", s, path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
