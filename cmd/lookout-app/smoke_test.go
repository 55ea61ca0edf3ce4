package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"lookout/node"
	"lookout/node/store"
)

var (
	buildOnce sync.Once
	appBin    string
	buildErr  error
)

// appBinary builds lookout-app once per test run.
func appBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "lkappbin")
		if err != nil {
			buildErr = err
			return
		}
		appBin = filepath.Join(dir, "lookout-app")
		cmd := exec.Command("go", "build", "-o", appBin, "lookout/cmd/lookout-app")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build lookout-app: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return appBin
}

// startXvfb starts a virtual X server on a display it picks itself (so
// parallel tests never share one) and stops it when the test ends.
func startXvfb(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{"Xvfb", "import"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (scripts/install-deps.sh installs xvfb and imagemagick)", tool)
		}
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// fd 3 in the child: Xvfb writes the display number it chose there.
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "420x800x24", "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{w}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start Xvfb: %v", err)
	}
	w.Close()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		t.Fatalf("read Xvfb display number: %v", err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("Xvfb display number %q: %v", line, err)
	}
	return ":" + strconv.Itoa(n)
}

// lineWaiter collects a process's stderr and reports lines as they come.
type lineWaiter struct {
	mu    sync.Mutex
	buf   strings.Builder
	lines chan string
}

func newLineWaiter(r io.Reader) *lineWaiter {
	w := &lineWaiter{lines: make(chan string, 1024)}
	go func() {
		s := bufio.NewScanner(r)
		for s.Scan() {
			w.mu.Lock()
			w.buf.WriteString(s.Text() + "\n")
			w.mu.Unlock()
			select {
			case w.lines <- s.Text():
			default:
			}
		}
		close(w.lines)
	}()
	return w
}

func (w *lineWaiter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// waitFor waits for a line containing want.
func (w *lineWaiter) waitFor(t *testing.T, want string, timeout time.Duration) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case l, ok := <-w.lines:
			if !ok {
				t.Fatalf("app exited before logging %q; stderr:\n%s", want, w)
			}
			if strings.Contains(l, want) {
				return
			}
		case <-deadline:
			t.Fatalf("app did not log %q within %v; stderr:\n%s", want, timeout, w)
		}
	}
}

const smokePass = "smoke test passphrase"

// TestSmoke builds the app, starts it under Xvfb with a home that has one
// zone, waits for the zone list, takes a screenshot and stops the app with
// SIGTERM.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the app and runs it under Xvfb; skipped in -short mode")
	}
	display := startXvfb(t)
	// Twice with the same preferences: the second start reads the file the
	// first one wrote.
	cfg := t.TempDir()
	smoke(t, display, appBinary(t), cfg)
	smoke(t, display, appBinary(t), cfg)
}

var (
	mobileOnce sync.Once
	mobileBin  string
	mobileErr  error
)

// TestMobileSmoke is TestSmoke for the phone build in Fyne's mobile
// simulation (go build -tags mobile), on a bare X server without a window
// manager: the window must draw the zone list.
func TestMobileSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the mobile simulation and runs it under Xvfb; skipped in -short mode")
	}
	display := startXvfb(t)
	mobileOnce.Do(func() {
		dir, err := os.MkdirTemp("", "lkappbin")
		if err != nil {
			mobileErr = err
			return
		}
		mobileBin = filepath.Join(dir, "lookout-app-mobile")
		cmd := exec.Command("go", "build", "-tags", "mobile", "-o", mobileBin, "lookout/cmd/lookout-app")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			mobileErr = fmt.Errorf("build lookout-app -tags mobile: %v\n%s", err, out)
		}
	})
	if mobileErr != nil {
		t.Fatal(mobileErr)
	}
	smoke(t, display, mobileBin, t.TempDir())
}

// logNoise are messages Fyne logged at every start or stop before the app
// prevented them (issue 19): a C locale it cannot parse, and an empty
// preferences file.
var logNoise = []string{"Error parsing user locale", "Preferences load error"}

// smoke runs bin on display with a home that has one zone and Fyne's
// preferences under cfg, in the C locale, waits for the zone list to be
// drawn and stops it with SIGTERM; the log must be free of logNoise.
func smoke(t *testing.T, display, bin, cfg string) {

	home := shortHome(t)
	secret := store.Secret{Passphrase: []byte(smokePass)}
	if _, err := node.Init(home, node.InitOptions{Name: "Smoke", Secret: secret}); err != nil {
		t.Fatal(err)
	}
	n := &node.Node{Home: home, Secret: secret, ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"}}
	if err := n.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := n.CreateZone(t.Context(), "Parkdale"); err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(bin, "--home", home, "--passphrase-env", "LK_SMOKE_PASS",
		"--listen", "/ip4/127.0.0.1/tcp/0", "--listen", "/ip4/127.0.0.1/udp/0/quic-v1")
	cmd.Env = append(os.Environ(), "DISPLAY="+display, "LK_SMOKE_PASS="+smokePass, "DBUS_SESSION_BUS_ADDRESS=",
		"XDG_CONFIG_HOME="+cfg, "LANG=C", "LC_ALL=", "LC_MESSAGES=", "LANGUAGE=")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	out := newLineWaiter(stderr)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
		}
	})

	out.waitFor(t, `msg="showing zone list" zones=1`, 2*time.Minute)

	// The list is drawn on the next frame: take screenshots until one
	// shows more than a blank screen.
	shot := filepath.Join(t.TempDir(), "smoke.png")
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	for {
		if err := exec.CommandContext(ctx, "import", "-display", display, "-window", "root", shot).Run(); err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		colours, err := exec.CommandContext(ctx, "convert", shot, "-format", "%k", "info:").Output()
		if err != nil {
			t.Fatalf("count screenshot colours: %v", err)
		}
		if n, _ := strconv.Atoi(strings.TrimSpace(string(colours))); n > 16 {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("the screen stayed blank")
		}
	}
	if dst := os.Getenv("LOOKOUT_SMOKE_SCREENSHOT"); dst != "" {
		if b, err := os.ReadFile(shot); err == nil {
			os.WriteFile(dst, b, 0o644)
		}
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("app exited with %v after SIGTERM; stderr:\n%s", err, out)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("app still running 30 s after SIGTERM; stderr:\n%s", out)
	}
	if !strings.Contains(out.String(), `msg=stopped`) {
		t.Errorf("app did not log a clean stop; stderr:\n%s", out)
	}
	if strings.Contains(out.String(), smokePass) {
		t.Error("the passphrase appears in the app's log")
	}
	for _, n := range logNoise {
		if strings.Contains(out.String(), n) {
			t.Errorf("the app logged %q; stderr:\n%s", n, out)
		}
	}
}

// shortHome is a temporary home short enough for a Unix socket path.
func shortHome(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "lka")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if appBin != "" {
		os.RemoveAll(filepath.Dir(appBin))
	}
	if cliBin != "" {
		os.RemoveAll(filepath.Dir(cliBin))
	}
	os.Exit(code)
}
