package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"debug/buildinfo"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TestReleaseReproducible runs scripts/release.sh (what `make release`
// runs) twice for the host's Linux target and checks that the binaries are
// byte-identical, static, listed in SHA256SUMS with the right digest, and
// stamped with the version and commit.
func TestReleaseReproducible(t *testing.T) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("release test runs on linux/amd64 only")
	}
	for _, tool := range []string{"bash", "git", "sha256sum"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("release test needs %s: %v", tool, err)
		}
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	const ver, com = "v9.8.7-test", "0123abcd"
	build := func(out string) []byte {
		t.Helper()
		cmd := exec.Command("bash", filepath.Join(root, "scripts", "release.sh"))
		cmd.Env = append(os.Environ(), "TARGETS=linux/amd64", "APP=0", "VERSION="+ver, "COMMIT="+com, "OUT="+out)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("release.sh: %v\n%s", err, b)
		}
		b, err := os.ReadFile(filepath.Join(out, "lookout-"+ver+"-linux-amd64"))
		if err != nil {
			t.Fatalf("release binary missing: %v", err)
		}
		return b
	}
	dir := t.TempDir()
	a := build(filepath.Join(dir, "a"))
	b := build(filepath.Join(dir, "b"))
	if !bytes.Equal(a, b) {
		t.Fatalf("two builds differ: %d and %d bytes", len(a), len(b))
	}

	// SHA256SUMS lists every file with its digest.
	sums, err := os.Open(filepath.Join(dir, "a", "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	defer sums.Close()
	listed := map[string]string{}
	sc := bufio.NewScanner(sums)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			t.Fatalf("SHA256SUMS line %q", sc.Text())
		}
		listed[strings.TrimPrefix(f[1], "*")] = f[0]
	}
	d := sha256.Sum256(a)
	if got, want := listed["lookout-"+ver+"-linux-amd64"], hex.EncodeToString(d[:]); got != want || len(listed) != 1 {
		t.Fatalf("SHA256SUMS = %v, want one line with %s", listed, want)
	}

	// Static: no interpreter, no shared libraries.
	bin := filepath.Join(dir, "a", "lookout-"+ver+"-linux-amd64")
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Section(".interp") != nil {
		t.Error("release binary has an ELF interpreter: not static")
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("release binary needs shared libraries %v", libs)
	}

	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("lookout version: %v\n%s", err, out)
	}
	if s := string(out); !strings.Contains(s, ver) || !strings.Contains(s, com) || !strings.Contains(s, "wire protocol") {
		t.Fatalf("lookout version = %q, want version %s and commit %s", s, ver, com)
	}
}

// releaseTargets are the targets the issue asks `make release` for, with
// the file name suffix release.sh gives each.
var releaseTargets = []struct{ target, suffix string }{
	{"linux/amd64", "linux-amd64"},
	{"linux/arm64", "linux-arm64"},
	{"linux/arm/7", "linux-armv7"},
	{"windows/amd64", "windows-amd64.exe"},
	{"darwin/arm64", "darwin-arm64"},
	{"darwin/amd64", "darwin-amd64"},
}

// TestReleaseDefaultTargets checks that release.sh builds every target
// of releaseTargets when TARGETS is not set.
func TestReleaseDefaultTargets(t *testing.T) {
	script, err := os.ReadFile("../../scripts/release.sh")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^TARGETS=\$\{TARGETS:-([^}]*)\}$`).FindSubmatch(script)
	if m == nil {
		t.Fatal("release.sh has no default TARGETS line")
	}
	var want []string
	for _, tg := range releaseTargets {
		want = append(want, tg.target)
	}
	if got := strings.Fields(string(m[1])); !slices.Equal(got, want) {
		t.Fatalf("release.sh default TARGETS = %v, want %v", got, want)
	}
}

// TestReleaseAllTargets runs release.sh with its default targets and checks
// that each binary is there, for its OS and CPU (GOARM=7 for the Pi),
// static (CGO_ENABLED=0), built with -trimpath, stamped with the version
// and commit, and listed in SHA256SUMS with its digest. A cold build cache
// makes this take several minutes per target on a small machine, hence
// LOOKOUT_TEST_RELEASE=1 (make test-release).
func TestReleaseAllTargets(t *testing.T) {
	if os.Getenv("LOOKOUT_TEST_RELEASE") == "" {
		t.Skip("set LOOKOUT_TEST_RELEASE=1 (make test-release) to cross-build every release target")
	}
	for _, tool := range []string{"bash", "git", "sha256sum"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("release test needs %s: %v", tool, err)
		}
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	const ver, com = "v9.8.7-all", "4567cdef"
	out := filepath.Join(t.TempDir(), "release")
	cmd := exec.Command("bash", filepath.Join(root, "scripts", "release.sh"))
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "TARGETS=") })
	cmd.Env = append(env, "APP=0", "VERSION="+ver, "COMMIT="+com, "OUT="+out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("release.sh: %v\n%s", err, b)
	}
	sums := readSums(t, filepath.Join(out, "SHA256SUMS"))
	if len(sums) != len(releaseTargets) {
		t.Errorf("SHA256SUMS lists %d files, want %d: %v", len(sums), len(releaseTargets), sums)
	}
	for _, tg := range releaseTargets {
		name := "lookout-" + ver + "-" + tg.suffix
		path := filepath.Join(out, name)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%s: %v", tg.target, err)
			continue
		}
		d := sha256.Sum256(b)
		if sums[name] != hex.EncodeToString(d[:]) {
			t.Errorf("%s: SHA256SUMS has %q, want %x", name, sums[name], d)
		}
		info, err := buildinfo.ReadFile(path)
		if err != nil {
			t.Errorf("%s: no build info: %v", name, err)
			continue
		}
		parts := append(strings.Split(tg.target, "/"), "")
		goos, goarch, goarm := parts[0], parts[1], parts[2]
		set := map[string]string{}
		for _, s := range info.Settings {
			set[s.Key] = s.Value
		}
		want := map[string]string{"GOOS": goos, "GOARCH": goarch, "CGO_ENABLED": "0", "-trimpath": "true"}
		if goarm != "" {
			want["GOARM"] = goarm
		}
		for k, v := range want {
			if set[k] != v {
				t.Errorf("%s: build setting %s = %q, want %q", name, k, set[k], v)
			}
		}
		// With -trimpath the build info leaves out -ldflags: look for the
		// stamped strings in the binary's data instead.
		if !bytes.Contains(b, []byte(ver)) || !bytes.Contains(b, []byte(com)) {
			t.Errorf("%s: version %s and commit %s are not stamped in", name, ver, com)
		}
		if err := checkExecutable(path, goos, goarch); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// readSums reads a SHA256SUMS file: file name to hex digest.
func readSums(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	listed := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) != 2 {
			t.Fatalf("SHA256SUMS line %q", sc.Text())
		}
		listed[strings.TrimPrefix(fs[1], "*")] = fs[0]
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return listed
}

// checkExecutable checks that path is an executable of goos's format for
// goarch's CPU and, on Linux, static.
func checkExecutable(path, goos, goarch string) error {
	switch goos {
	case "linux":
		f, err := elf.Open(path)
		if err != nil {
			return fmt.Errorf("not ELF: %w", err)
		}
		defer f.Close()
		want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64, "arm": elf.EM_ARM}[goarch]
		if f.Machine != want {
			return fmt.Errorf("ELF machine %v, want %v", f.Machine, want)
		}
		if f.Section(".interp") != nil {
			return errors.New("has an ELF interpreter: not static")
		}
		if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
			return fmt.Errorf("needs shared libraries %v", libs)
		}
	case "windows":
		f, err := pe.Open(path)
		if err != nil {
			return fmt.Errorf("not PE: %w", err)
		}
		defer f.Close()
		if goarch != "amd64" || f.Machine != pe.IMAGE_FILE_MACHINE_AMD64 {
			return fmt.Errorf("PE machine %#x for %s", f.Machine, goarch)
		}
	case "darwin":
		f, err := macho.Open(path)
		if err != nil {
			return fmt.Errorf("not Mach-O: %w", err)
		}
		defer f.Close()
		want := map[string]macho.Cpu{"amd64": macho.CpuAmd64, "arm64": macho.CpuArm64}[goarch]
		if f.Cpu != want {
			return fmt.Errorf("Mach-O CPU %v, want %v", f.Cpu, want)
		}
	default:
		return fmt.Errorf("no check for %s", goos)
	}
	return nil
}
