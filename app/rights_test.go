package app

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
)

// hasLabelWith reports whether a visible label contains text.
func (h *harness) hasLabelWith(text string) bool {
	for _, l := range h.labels() {
		if strings.Contains(l, text) {
			return true
		}
	}
	return false
}

// TestRightsScreen: the cards are one tap from the zone list, open in the
// app's language, switch language on screen, and carry the notice.
func TestRightsScreen(t *testing.T) {
	h := newHarness(t, Options{})
	h.zone("Villeray", "member")
	h.unlocked()
	h.ui.showZones()

	h.tap("Know your rights")
	for _, want := range []string{"Officers at the door", "Witnessing", "Accompaniment: what to bring", "If you are stopped"} {
		if h.findButton(shorten(want, buttonRunes)) == nil {
			t.Errorf("cards list lacks %q", want)
		}
	}
	if !h.hasLabelWith("not legal advice") || !h.hasLabelWith("legal clinic") || !h.hasLabelWith("2026-12-02") {
		t.Errorf("cards list lacks the notice: %q", h.labels())
	}

	h.tap("Officers at the door")
	if h.ui.cur.title != "Officers at the door" || !h.hasLabel("• Do not open the door. You can talk through the closed door.") {
		t.Errorf("card screen %q: %q", h.ui.cur.title, h.labels())
	}
	h.tap("Español")
	if h.ui.cur.title != "Agentes en la puerta" || !h.hasLabel("• No abra la puerta. Puede hablar a través de la puerta cerrada.") || !h.hasLabelWith("no es asesoría legal") {
		t.Errorf("card in Spanish %q: %q", h.ui.cur.title, h.labels())
	}
	h.ui.back()
	if h.ui.cur.title != "Know your rights" {
		t.Errorf("back from the card: %q, want the list", h.ui.cur.title)
	}

	// The app's language chooses the cards' language.
	h.fa.Preferences().SetString(prefLanguage, "fr")
	h.ui.showRights("", "")
	if h.ui.cur.title != "Connaître ses droits" || h.findButton("Des agents à la porte") == nil {
		t.Errorf("cards with the app in French: %q", h.ui.cur.title)
	}
}

// TestQuickReportInApp: a quick report shows in the reader's language in
// the feed and the detail, and its detail offers the card for it.
func TestQuickReportInApp(t *testing.T) {
	h := newHarness(t, Options{})
	z := h.zone("Villeray", "member")
	h.unlocked()
	s := sighting(z.ID, "d00r0001", "", 1, false)
	s.What, s.Size, s.WhatCode, s.UniformCode, s.Vehicles, s.Activity = "", 3, "door", "plain", 1, "rue Jarry, 2e étage"
	h.receive(s)
	h.fa.Preferences().SetString(prefLanguage, "es")
	h.ui.showFeed(z)
	if !h.hasLabel("Agentes en una puerta, 3 agentes, vestidos de civil, 1 vehículo") {
		t.Errorf("feed in Spanish: %q", h.labels())
	}
	h.ui.showAlert("d00r0001")
	if !h.hasLabelWith("rue Jarry, 2e étage") {
		t.Errorf("free text not as typed: %q", h.labels())
	}
	h.tap("Agentes en la puerta")
	if h.ui.cur.title != "Agentes en la puerta" {
		t.Errorf("card from the alert: %q", h.ui.cur.title)
	}
}

// TestRightsScreenshots writes the cards screens in every language at
// phone width to $LOOKOUT_SCREENSHOTS (make screenshots).
func TestRightsScreenshots(t *testing.T) {
	dir := os.Getenv("LOOKOUT_SCREENSHOTS")
	if dir == "" {
		t.Skip("set LOOKOUT_SCREENSHOTS=DIR to write screenshots (make screenshots)")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, Options{})
	test.ApplyTheme(t, theme.DefaultTheme())
	h.fa.Settings().SetTheme(theme.DefaultTheme())
	h.zone("Villeray", "member")
	h.unlocked()
	now := time.Now().UTC().Truncate(time.Minute)
	h.ui.opt.Now = func() time.Time { return now }
	shot := func(name string) {
		t.Helper()
		h.ui.render()
		h.ui.w.Resize(fyne.NewSize(400, 761))
		h.ui.w.Resize(fyne.NewSize(400, 760))
		f, err := os.Create(filepath.Join(dir, name+".png"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := png.Encode(f, h.ui.w.Canvas().Capture()); err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range []string{"en", "fr", "es"} {
		h.ui.showZones()
		h.ui.showRights("", l)
		shot("rights-" + l)
		h.ui.showRights("door", l)
		shot("rights-door-" + l)
	}
}
