package main

import (
	"fmt"
	"os"
	"path/filepath"
)

// oldAppID is the app ID of earlier versions. It names the directory Fyne
// keeps preferences in, and it names the app's cause.
const oldAppID = "ca.sanctuary.lookout"

// fyneConfigDir is the directory Fyne keeps an app's preferences in on
// goos, as Fyne's internal/app computes it.
func fyneConfigDir(goos, id string) (string, error) {
	switch goos {
	case "windows":
		home, err := os.UserHomeDir()
		return filepath.Join(home, "AppData", "Roaming", "fyne", id), err
	case "darwin":
		home, err := os.UserHomeDir()
		return filepath.Join(home, "Library", "Preferences", "fyne", id), err
	}
	cfg, err := os.UserConfigDir()
	return filepath.Join(cfg, "fyne", id), err
}

// removeOldAppDir deletes the preferences directory of earlier versions,
// whose name tells whoever looks at the disk what the app is for.
func removeOldAppDir(goos string) error {
	dir, err := fyneConfigDir(goos, oldAppID)
	if err != nil {
		return fmt.Errorf("find old preferences: %w", err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove old preferences %s: %w", dir, err)
	}
	return nil
}
