package main

import (
	"errors"
	"log/slog"
	"os"
	"testing"

	"lookout/app"
	"lookout/node/sim"
	"lookout/node/store"
)

func TestProfileOnTheStore(t *testing.T) {
	home := shortHome(t)
	p := &profile{home: home, listen: []string{"/ip4/127.0.0.1/tcp/0"}, log: slog.New(slog.DiscardHandler), opt: sim.StoreOptions}
	if p.Initialized() {
		t.Fatal("a fresh home reports a profile")
	}
	if err := p.Create("Ada", []byte("first passphrase")); err != nil {
		t.Fatal(err)
	}
	if !p.Initialized() || !store.Exists(home) {
		t.Fatal("Create made no encrypted store")
	}
	if _, err := p.Unlock(t.Context(), []byte("not it at all")); !errors.Is(err, app.ErrWrongPassphrase) {
		t.Fatalf("unlock with a wrong passphrase: %v, want ErrWrongPassphrase", err)
	}
	b, err := p.Unlock(t.Context(), []byte("first passphrase"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.CreateZone(t.Context(), "north"); err != nil {
		t.Fatal(err)
	}
	if err := p.ChangePassphrase([]byte("wrong old one"), []byte("second passphrase")); !errors.Is(err, app.ErrWrongPassphrase) {
		t.Errorf("change with a wrong old passphrase: %v", err)
	}
	if err := p.ChangePassphrase([]byte("first passphrase"), []byte("second passphrase")); err != nil {
		t.Fatal(err)
	}
	if err := p.Lock(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Unlock(t.Context(), []byte("first passphrase")); !errors.Is(err, app.ErrWrongPassphrase) {
		t.Errorf("old passphrase after the change: %v", err)
	}
	b, err = p.Unlock(t.Context(), []byte("second passphrase"))
	if err != nil {
		t.Fatal(err)
	}
	if zs := b.Zones(); len(zs) != 1 {
		t.Errorf("after unlocking again: %d zones, want 1", len(zs))
	}
	if err := p.Wipe(); err != nil {
		t.Fatal(err)
	}
	if p.Initialized() {
		t.Error("profile still there after Wipe")
	}
	entries, _ := os.ReadDir(home)
	for _, e := range entries {
		if e.Name() != "lookout.sock" {
			t.Errorf("after Wipe the home holds %s", e.Name())
		}
	}
}
