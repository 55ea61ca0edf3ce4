package app

import (
	"context"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"lookout/node/api"
)

// Screenshot sizes: a phone and a desktop window.
var shotSizes = []struct {
	dir  string
	size fyne.Size
}{{"", fyne.NewSize(400, 760)}, {"desktop", fyne.NewSize(1024, 700)}}

// TestScreenshots writes PNGs of the main screens to $LOOKOUT_SCREENSHOTS
// (make screenshots), drawn by Fyne's test driver, in every language at
// phone and desktop width: English phone shots at the top, the others in
// fr/, es/ and desktop/<lang>/.
func TestScreenshots(t *testing.T) {
	root := os.Getenv("LOOKOUT_SCREENSHOTS")
	if root == "" {
		t.Skip("set LOOKOUT_SCREENSHOTS=DIR to write screenshots (make screenshots)")
	}
	for _, sz := range shotSizes {
		for _, code := range languages {
			dir := filepath.Join(root, sz.dir)
			if code != "en" {
				dir = filepath.Join(dir, code)
			}
			t.Run(filepath.Join(sz.dir, code), func(t *testing.T) { screenshots(t, dir, code, sz.size) })
		}
	}
}

func screenshots(t *testing.T, dir, code string, size fyne.Size) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, Options{})
	test.ApplyTheme(t, theme.DefaultTheme())
	h.fa.Settings().SetTheme(theme.DefaultTheme())
	h.ui.w.Resize(size)
	// The screenshots show the time they were made.
	now := time.Now().UTC().Truncate(time.Minute)
	h.ui.opt.Now = func() time.Time { return now }
	h.fake.Now = h.ui.opt.Now
	shot := func(name string) {
		t.Helper()
		h.ui.render()
		// Fyne's test canvas lays out once; wrapped labels know their
		// height only after that, so lay out again as a real window does.
		h.ui.w.Resize(size.AddWidthHeight(0, 1))
		h.ui.w.Resize(size)
		img := h.ui.w.Canvas().Capture()
		f, err := os.Create(filepath.Join(dir, name+".png"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := png.Encode(f, img); err != nil {
			t.Fatal(err)
		}
	}

	h.fa.Preferences().SetString(prefLanguage, "")
	h.ui.Start()
	shot("language")
	h.tap(languageName(code))
	h.entryAt(0).SetText("Amira")
	shot("first-run")

	h.fake.Self.Peers = []string{"12D3KooWPeerA", "12D3KooWPeerB", "12D3KooWPeerC"}
	z := h.zone("Parkdale", "organizer")
	h.zone("Little Portugal", "member")
	for _, zone := range h.fake.Zones() {
		if err := h.fake.SetPeers(zone.ID, []string{"12D3KooWPeerA", "12D3KooWPeerB"}); err != nil {
			t.Fatal(err)
		}
	}
	h.prof.init, h.prof.pass = true, testPass
	b, err := h.prof.Unlock(context.Background(), []byte(testPass))
	if err != nil {
		t.Fatal(err)
	}
	h.ui.unlocked(b)
	v := sighting(z.ID, "4f2a9c1e", "verified", 3, false)
	v.Sent = now.Add(-12 * time.Minute)
	h.receive(v)
	s := sighting(z.ID, "7b3d0e55", "", 1, false)
	s.Sent = now.Add(-2 * time.Minute)
	s.What, s.Where = "Unmarked grey van, 3 people in vests", "Dufferin Mall, north entrance"
	h.receive(s)
	d := sighting(z.ID, "a1c4e8f0", "corroborated", 2, true)
	d.What, d.Where = "Practice: officers at the bus stop", "King & Dufferin"
	d.Sent = now.Add(-20 * time.Minute)
	h.receive(d)
	c := callout(z.ID, "c0ffee01", false)
	c.Responders = &api.Responders{EnRoute: 3, OnScene: 1}
	c.Sent = now.Add(-5 * time.Minute)
	h.receive(c)
	h.ui.showZones()
	shot("zones")
	h.tap("Parkdale")
	shot("feed")
	h.ui.showAlert("4f2a9c1e")
	shot("sighting")
	h.ui.back()
	h.ui.showAlert("c0ffee01")
	shot("callout")
	h.ui.back()
	h.ui.showReport(z)
	h.tap(api.WhatCodeText(api.WhatDoor, code))
	h.tap(api.CountText(api.CountOfficers, 2, code))
	h.entryAt(1).SetText("Dufferin Mall, north entrance")
	shot("report")
	h.ui.back()
	h.ui.showInvite(z)
	h.tap(L("invite.create"))
	h.waitFor("invite", func() bool { return h.findButton(L("invite.copy")) != nil })
	shot("invite")
	h.ui.showSettings()
	shot("settings")
}

// focusedEntry is the entry the keyboard is in.
func (h *harness) focusedEntry() *widget.Entry {
	h.t.Helper()
	switch f := h.ui.w.Canvas().Focused().(type) {
	case *widget.Entry:
		return f
	case *formEntry:
		return f.TextEntry()
	}
	h.t.Fatalf("no entry has focus on %q", h.ui.cur.title)
	return nil
}
