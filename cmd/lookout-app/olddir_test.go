package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRemoveOldAppDir(t *testing.T) {
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	old := filepath.Join(cfg, "fyne", oldAppID)
	keep := filepath.Join(cfg, "fyne", appID)
	for _, d := range []string{old, keep} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "preferences.json"), []byte(`{"language":"fr"}`), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := removeOldAppDir("linux"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("old preferences directory still there: %v", err)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("current preferences directory removed: %v", err)
	}
	// Nothing to remove is not an error.
	if err := removeOldAppDir("linux"); err != nil {
		t.Errorf("second removal: %v", err)
	}
}
