package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/sha256"
	"debug/buildinfo"
	"debug/elf"
	"encoding/hex"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Files of the Linux app package, as `fyne package` lays them out.
const (
	appPkgDir     = "./lookout-app/"
	appPkgBin     = appPkgDir + "usr/local/bin/lookout-app"
	appPkgDesktop = appPkgDir + "usr/local/share/applications/org.lookout.client.desktop"
	appPkgIcon    = appPkgDir + "usr/local/share/pixmaps/org.lookout.client.png"
	appPkgMake    = appPkgDir + "Makefile"

	// appStartTimeout bounds the packaged app's start (node, window) and
	// appStopTimeout its clean stop after SIGTERM, on a loaded 2-core machine.
	appStartTimeout = 2 * time.Minute
	appStopTimeout  = 30 * time.Second
	// appLogLines buffers the app's stderr lines between reads.
	appLogLines = 1024
)

// TestReleaseApp runs release.sh with APP=1 (the Linux app package built
// by `fyne package`) twice and checks that the two packages are
// byte-identical, listed in SHA256SUMS, hold the cgo app binary (trimmed,
// release build), its desktop file and icon with fixed owners, modes and
// times, that the script left cmd/lookout-app as it was, and that the
// packaged binary runs: --help, then a start under Xvfb and a clean stop.
// The cgo build takes minutes, hence LOOKOUT_TEST_RELEASE=1
// (make test-release, which also installs the X11/GL headers).
func TestReleaseApp(t *testing.T) {
	if os.Getenv("LOOKOUT_TEST_RELEASE") == "" {
		t.Skip("set LOOKOUT_TEST_RELEASE=1 (make test-release) to build the app package")
	}
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("the app package is built on linux/amd64 only")
	}
	for _, tool := range []string{"bash", "git", "sha256sum", "tar", "xz", "gcc", "pkg-config"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the app package needs %s (make deps): %v", tool, err)
		}
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	tomlPath := filepath.Join(root, "cmd", "lookout-app", "FyneApp.toml")
	toml, err := os.ReadFile(tomlPath)
	if err != nil {
		t.Fatal(err)
	}
	const ver, com = "v9.8.7-app", "89abcdef"
	pkgName := "lookout-app-" + ver + "-linux-amd64.tar.xz"
	build := func(out string) []byte {
		t.Helper()
		cmd := exec.Command("bash", filepath.Join(root, "scripts", "release.sh"))
		env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
			return strings.HasPrefix(kv, "TARGETS=") || strings.HasPrefix(kv, "APP=")
		})
		cmd.Env = append(env, "TARGETS=linux/amd64", "APP=1", "VERSION="+ver, "COMMIT="+com, "OUT="+out)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("release.sh APP=1: %v\n%s", err, b)
		}
		b, err := os.ReadFile(filepath.Join(out, pkgName))
		if err != nil {
			t.Fatalf("app package missing: %v", err)
		}
		return b
	}
	dir := t.TempDir()
	a := build(filepath.Join(dir, "a"))
	b := build(filepath.Join(dir, "b"))
	if !bytes.Equal(a, b) {
		t.Errorf("two app packages differ: %d and %d bytes", len(a), len(b))
	}

	// The script puts back the FyneApp.toml that `fyne package` bumps and
	// takes away fyne's own archive.
	if now, err := os.ReadFile(tomlPath); err != nil || !bytes.Equal(now, toml) {
		t.Errorf("FyneApp.toml changed by release.sh (err %v):\n%s", err, now)
	}
	if _, err := os.Stat(filepath.Join(root, "cmd", "lookout-app", "Lookout.tar.xz")); err == nil {
		t.Error("release.sh left cmd/lookout-app/Lookout.tar.xz behind")
	}

	sums := readSums(t, filepath.Join(dir, "a", "SHA256SUMS"))
	d := sha256.Sum256(a)
	if sums[pkgName] != hex.EncodeToString(d[:]) {
		t.Errorf("SHA256SUMS has %q for %s, want %x", sums[pkgName], pkgName, d)
	}
	if _, ok := sums["lookout-"+ver+"-linux-amd64"]; !ok || len(sums) != 2 {
		t.Errorf("SHA256SUMS = %v, want the node binary and the app package", sums)
	}

	out, err := exec.Command("git", "-C", root, "log", "-1", "--format=%ct").Output()
	if err != nil {
		t.Fatalf("git log: %v", err)
	}
	epoch, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	if err != nil {
		t.Fatalf("commit time %q: %v", out, err)
	}
	files := readTarXZ(t, filepath.Join(dir, "a", pkgName), time.Unix(epoch, 0))
	var names []string
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	want := []string{appPkgMake, appPkgBin, appPkgDesktop, appPkgIcon}
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Fatalf("app package files = %v, want %v", names, want)
	}

	desktop := string(files[appPkgDesktop])
	for _, line := range []string{"[Desktop Entry]", "Type=Application", "Name=Lookout", "Exec=lookout-app", "Icon=org.lookout.client"} {
		if !slices.Contains(strings.Split(desktop, "\n"), line) {
			t.Errorf("desktop file lacks %q:\n%s", line, desktop)
		}
	}
	if _, err := png.DecodeConfig(bytes.NewReader(files[appPkgIcon])); err != nil {
		t.Errorf("icon is not a PNG: %v", err)
	}

	bin := filepath.Join(dir, "lookout-app")
	if err := os.WriteFile(bin, files[appPkgBin], 0o755); err != nil {
		t.Fatal(err)
	}
	checkAppBinary(t, bin)

	// --help loads the binary's shared libraries (OpenGL, X11) and prints
	// the usage without opening a window.
	help, _ := exec.Command(bin, "--help").CombinedOutput()
	if !strings.Contains(string(help), "-passphrase-env") {
		t.Fatalf("lookout-app --help:\n%s", help)
	}
	startPackagedApp(t, bin)
}

// readTarXZ reads a .tar.xz (with the xz tool) into file name to content,
// checking that every entry is owned by root, dated mtime, writable by its
// owner only and, for a regular file, executable only if it is the app.
func readTarXZ(t *testing.T, path string, mtime time.Time) map[string][]byte {
	t.Helper()
	cmd := exec.Command("xz", "-dc", path)
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("xz -dc %s: %v", path, err)
	}
	files := map[string][]byte{}
	tr := tar.NewReader(bytes.NewReader(raw))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("read %s: %v", path, err)
		}
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" {
			t.Errorf("%s: owner %d/%d (%q/%q), want 0/0 and no names", h.Name, h.Uid, h.Gid, h.Uname, h.Gname)
		}
		if !h.ModTime.Equal(mtime) {
			t.Errorf("%s: time %v, want the commit's %v", h.Name, h.ModTime, mtime)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if h.Mode != 0o755 {
				t.Errorf("%s: mode %o, want 755", h.Name, h.Mode)
			}
		case tar.TypeReg:
			wantMode := int64(0o644)
			if h.Name == appPkgBin {
				wantMode = 0o755
			}
			if h.Mode != wantMode {
				t.Errorf("%s: mode %o, want %o", h.Name, h.Mode, wantMode)
			}
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatalf("read %s in %s: %v", h.Name, path, err)
			}
			files[h.Name] = b
		default:
			t.Errorf("%s: unexpected tar entry type %q", h.Name, h.Typeflag)
		}
	}
	return files
}

// checkAppBinary checks that bin is the cgo release build of lookout-app
// for linux/amd64: dynamically linked (OpenGL, X11), -trimpath, Fyne's
// release tag, no VCS stamp.
func checkAppBinary(t *testing.T, bin string) {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatalf("app binary is not ELF: %v", err)
	}
	defer f.Close()
	if f.Machine != elf.EM_X86_64 {
		t.Errorf("app binary ELF machine %v, want x86-64", f.Machine)
	}
	libs, _ := f.ImportedLibraries()
	if !slices.Contains(libs, "libGL.so.1") || !slices.Contains(libs, "libX11.so.6") {
		t.Errorf("app binary links %v, want libGL and libX11 (cgo)", libs)
	}
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatalf("app binary has no build info: %v", err)
	}
	if info.Path != "lookout/cmd/lookout-app" {
		t.Errorf("app binary is %s, want lookout/cmd/lookout-app", info.Path)
	}
	set := map[string]string{}
	for _, s := range info.Settings {
		set[s.Key] = s.Value
		if strings.HasPrefix(s.Key, "vcs") {
			t.Errorf("app binary has VCS stamp %s=%s", s.Key, s.Value)
		}
	}
	for k, v := range map[string]string{"GOOS": "linux", "GOARCH": "amd64", "CGO_ENABLED": "1", "-trimpath": "true"} {
		if set[k] != v {
			t.Errorf("app binary build setting %s = %q, want %q", k, set[k], v)
		}
	}
	if !slices.Contains(strings.Split(set["-tags"], ","), "release") {
		t.Errorf("app binary tags %q lack release (fyne package -release)", set["-tags"])
	}
}

// startPackagedApp starts bin under a virtual X server with a new identity
// in a fresh home, waits until it has unlocked its node and stops it with
// SIGTERM; it must stop cleanly.
func startPackagedApp(t *testing.T, bin string) {
	t.Helper()
	if _, err := exec.LookPath("Xvfb"); err != nil {
		t.Fatalf("starting the packaged app needs Xvfb (make deps): %v", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// fd 3 in the child: Xvfb writes the display number it chose there.
	x := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "420x800x24", "-nolisten", "tcp")
	x.ExtraFiles = []*os.File{w}
	if err := x.Start(); err != nil {
		t.Fatalf("start Xvfb: %v", err)
	}
	w.Close()
	t.Cleanup(func() {
		x.Process.Kill()
		x.Wait()
	})
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		t.Fatalf("read Xvfb display number: %v", err)
	}
	display := ":" + strings.TrimSpace(line)

	// A short home: the node's control socket lives in it.
	home, err := os.MkdirTemp("", "lkr")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(home) })
	const pass = "release test passphrase"
	cmd := exec.Command(bin, "--home", home, "--passphrase-env", "LK_RELEASE_PASS", "--name", "Release",
		"--listen", "/ip4/127.0.0.1/tcp/0")
	cmd.Env = append(os.Environ(), "DISPLAY="+display, "LK_RELEASE_PASS="+pass, "DBUS_SESSION_BUS_ADDRESS=",
		"XDG_CONFIG_HOME="+t.TempDir(), "LANG=C", "LC_ALL=", "LC_MESSAGES=", "LANGUAGE=")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
		}
	})
	// The reader sends every line and closes lines at the app's exit.
	lines := make(chan string, appLogLines)
	done := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		done <- cmd.Wait()
	}()
	var log strings.Builder
	// wait reads lines until one contains want (or, with want "", until
	// the app's exit).
	wait := func(want string, timeout time.Duration) {
		t.Helper()
		deadline := time.After(timeout)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					if want == "" {
						return
					}
					t.Fatalf("packaged app exited before logging %q; stderr:\n%s", want, log.String())
				}
				log.WriteString(l + "\n")
				if want != "" && strings.Contains(l, want) {
					return
				}
			case <-deadline:
				t.Fatalf("packaged app did not log %q within %v; stderr:\n%s", want, timeout, log.String())
			}
		}
	}
	wait("msg=unlocked", appStartTimeout)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	wait("msg=stopped", appStopTimeout)
	wait("", appStopTimeout)
	if err := <-done; err != nil {
		t.Fatalf("packaged app exited with %v after SIGTERM; stderr:\n%s", err, log.String())
	}
	if strings.Contains(log.String(), pass) {
		t.Error("the passphrase appears in the packaged app's log")
	}
}
