//go:build unix

package store

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return uint64(fi.Sys().(*syscall.Stat_t).Ino)
}

// TestDuressDecoyIsFreshDirectory: after a duress unlock the home is a
// new directory (new inode, birth time of the duress unlock where the file
// system records one), as after a fresh install, with nothing left beside
// it; files that were not the store's are kept.
func TestDuressDecoyIsFreshDirectory(t *testing.T) {
	parent := t.TempDir()
	home := filepath.Join(parent, "home")
	real, duress := pass("real passphrase"), pass("duress passphrase")
	s, err := Create(home, real, &duress, testOpt)
	if err != nil {
		t.Fatal(err)
	}
	s.Put("b", "k", []byte("secret"))
	s.Close()
	if err := os.WriteFile(filepath.Join(home, "other"), []byte("kept"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(home, 0o700); err != nil {
		t.Fatal(err)
	}
	old := inode(t, home)
	before := time.Now().Add(-time.Second).Truncate(time.Second)

	d, err := Open(home, duress, testOpt)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if inode(t, home) == old {
		t.Error("the decoy lives in the real profile's directory (same inode): its age shows")
	}
	if bt, ok := birthTime(t, home); ok && bt.Before(before) {
		t.Errorf("home born %v, before the duress unlock at %v", bt, before)
	}
	if b, err := os.ReadFile(filepath.Join(home, "other")); err != nil || string(b) != "kept" {
		t.Errorf("a file beside the store was not kept: %q, %v", b, err)
	}
	fi, err := os.Stat(home)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("home mode after duress: %v, %v; want 0700", fi.Mode(), err)
	}
	entries, _ := os.ReadDir(parent)
	if len(entries) != 1 || entries[0].Name() != "home" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("beside the home after duress: %v; want nothing else", names)
	}
	if _, err := d.Get("b", "k"); err == nil {
		t.Error("the decoy holds the real record")
	}
	d.Close()
	if _, err := Open(home, duress, testOpt); err != nil {
		t.Errorf("the decoy does not open again: %v", err)
	}
}

func TestSwapByRename(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	os.Mkdir(a, 0o700)
	os.Mkdir(b, 0o700)
	os.WriteFile(filepath.Join(a, "x"), nil, 0o600)
	os.WriteFile(filepath.Join(b, "y"), nil, 0o600)
	if err := swapByRename(a, b); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(a, "y")); err != nil {
		t.Errorf("a does not hold b's file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(b, "x")); err != nil {
		t.Errorf("b does not hold a's file: %v", err)
	}
	if err := swapByRename(filepath.Join(dir, "missing"), b); err == nil {
		t.Error("swapping with a missing directory succeeded")
	}
	if _, err := os.Stat(filepath.Join(b, "x")); err != nil {
		t.Errorf("a failed swap lost b: %v", err)
	}
}

// TestDuressWithReadOnlyParent: where the home's parent cannot be written,
// the duress unlock still opens a decoy (in the old directory) instead of
// failing, which would give it away.
func TestDuressWithReadOnlyParent(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes to read-only directories")
	}
	parent := t.TempDir()
	home := filepath.Join(parent, "home")
	real, duress := pass("real passphrase"), pass("duress passphrase")
	s, err := Create(home, real, &duress, testOpt)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	os.Chmod(parent, 0o500)
	t.Cleanup(func() { os.Chmod(parent, 0o700) })
	d, err := Open(home, duress, testOpt)
	if err != nil {
		t.Fatalf("duress unlock with a read-only parent: %v", err)
	}
	d.Close()
}

// TestDuressWhenSwapFails: whatever stops the new directory (here a
// failing swap), the duress unlock still opens an empty decoy.
func TestDuressWhenSwapFails(t *testing.T) {
	old := replaceDir
	replaceDir = func(string) error { return os.ErrPermission }
	t.Cleanup(func() { replaceDir = old })
	home := filepath.Join(t.TempDir(), "home")
	real, duress := pass("real passphrase"), pass("duress passphrase")
	s, err := Create(home, real, &duress, testOpt)
	if err != nil {
		t.Fatal(err)
	}
	s.Put("b", "k", []byte("secret"))
	s.Close()
	d, err := Open(home, duress, testOpt)
	if err != nil {
		t.Fatalf("duress unlock when the swap fails: %v", err)
	}
	defer d.Close()
	if _, err := d.Get("b", "k"); err == nil {
		t.Error("the decoy holds the real record")
	}
}
