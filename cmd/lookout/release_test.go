package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
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
