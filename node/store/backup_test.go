package store

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCacheTag: a new store tags its home for backup tools that honour the
// Cache Directory Tagging Specification; wipe removes the tag with the
// store.
func TestCacheTag(t *testing.T) {
	home := t.TempDir()
	s := mkStore(t, home)
	s.Close()
	b, err := os.ReadFile(filepath.Join(home, "CACHEDIR.TAG"))
	if err != nil {
		t.Fatal(err)
	}
	// The specification: the file starts with exactly these 43 bytes.
	if !bytes.HasPrefix(b, []byte("Signature: 8a477f597d28d172789f06886806bc55")) {
		t.Errorf("CACHEDIR.TAG starts %q", b[:min(len(b), 43)])
	}
	if err := Wipe(home); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(home, "CACHEDIR.TAG")); !os.IsNotExist(err) {
		t.Errorf("wipe left CACHEDIR.TAG: %v", err)
	}
}

// TestTimeMachineExcludeValue pins the binary property list Time Machine
// reads: the string "com.apple.backupd", as `tmutil addexclusion` writes.
func TestTimeMachineExcludeValue(t *testing.T) {
	want := "62706c6973743030" + // bplist00
		"5f1011" + hex.EncodeToString([]byte("com.apple.backupd")) +
		"08" + // offset table: object 0 at 8
		"000000000000" + "0101" +
		"0000000000000001" + "0000000000000000" + "000000000000001c"
	if got := hex.EncodeToString(timeMachineExclude()); got != want {
		t.Errorf("Time Machine exclusion value\n got %s\nwant %s", got, want)
	}
	if n := len(timeMachineExclude()); n != 8+3+17+1+32 {
		t.Errorf("value is %d bytes", n)
	}
	if !strings.Contains(string(timeMachineExclude()), "com.apple.backupd") {
		t.Error("value does not name backupd")
	}
}
