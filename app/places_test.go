package app

import (
	"context"
	"encoding/json"
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

const zoneCardSet = `{"lang":"en","language":"English","title":"Know your rights in Villeray","written":"2026-12-02",` +
	`"notice":"General information, not legal advice.","check":"Checked by the Villeray legal clinic.",` +
	`"cards":[{"id":"door","title":"At the door (Villeray)","intro":"What the neighbourhood clinic advises.","points":["Call the zone's line."]},` +
	`{"id":"clinic","title":"The legal clinic","intro":"Free consultations on Tuesdays.","points":["Bring your papers if you have them."]}]}`

// placesZone is a zone whose directory has a confirmed entry, one not
// checked for seven months, and a member's suggestion.
func placesZone(h *harness) api.Zone {
	h.t.Helper()
	z := h.zone("Villeray", "organizer")
	ctx := context.Background()
	yes := true
	h.fake.Now = func() time.Time { return testNow.AddDate(0, -7, 0) }
	if _, err := h.fake.Place(ctx, api.PlaceRequest{Zone: z.ID, Op: "add", Kind: "shelter", Name: "Old shelter", Where: "Church on Jarry"}); err != nil {
		h.t.Fatal(err)
	}
	h.fake.Now = func() time.Time { return testNow.Add(-48 * time.Hour) }
	if _, err := h.fake.Place(ctx, api.PlaceRequest{Zone: z.ID, Op: "add", Kind: "food", Name: "Food bank", Where: "Jarry & St-Michel",
		Hours: "Tue, Thu 10-14", Languages: []string{"fr", "es"}, NoID: &yes, WalkIn: &yes, Contact: "514 555 0100"}); err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.fake.Place(ctx, api.PlaceRequest{Zone: z.ID, Op: "suggest", Kind: "legal", Name: "Legal clinic", Languages: []string{"es"}, NoStatusQuestions: &yes}); err != nil {
		h.t.Fatal(err)
	}
	h.fake.Now = func() time.Time { return testNow }
	return z
}

// TestPlacesScreen: a zone's safe places are one tap from its feed, with
// kind and language filters; an entry not checked for over six months
// and a suggestion say so.
func TestPlacesScreen(t *testing.T) {
	h := newHarness(t, Options{})
	z := placesZone(h)
	h.unlocked()
	h.ui.showFeed(z)
	h.tap("Safe places")
	if h.ui.cur.title != "Safe places · Villeray" {
		t.Fatalf("screen %q", h.ui.cur.title)
	}
	for _, want := range []string{"Food bank", "Food · Jarry & St-Michel", "No ID asked · Walk-in", "Hours: Tue, Thu 10-14", "Languages: fr, es",
		"Contact: 514 555 0100", "Checked 2026-05-30", "Legal clinic", "Suggested by a member, not confirmed yet", "Old shelter",
		"Not checked recently (last 2025-11-01): call before you go"} {
		if !h.hasLabel(want) {
			t.Errorf("places lack %q: %q", want, h.labels())
		}
	}
	test.AssertRendersToMarkup(t, "places.xml", h.ui.w.Canvas())

	selects := h.selects()
	selects[0].SetSelected("Legal help")
	if h.hasLabel("Food bank") || !h.hasLabel("Legal clinic") {
		t.Errorf("kind filter: %q", h.labels())
	}
	selects = h.selects()
	selects[0].SetSelected("All kinds")
	h.selects()[1].SetSelected("fr")
	if !h.hasLabel("Food bank") || h.hasLabel("Legal clinic") || h.hasLabel("Old shelter") {
		t.Errorf("language filter: %q", h.labels())
	}
	h.selects()[0].SetSelected("Shelter")
	if !h.hasLabel("No place matches these filters.") {
		t.Errorf("no match: %q", h.labels())
	}

	empty := h.zone("Parc-Ex", "member")
	h.ui.showPlaces(empty)
	if !h.hasLabel("This zone has no safe places listed yet.") {
		t.Errorf("empty directory: %q", h.labels())
	}
}

// TestZoneRightsScreen: the cards opened from a zone's alert are the
// zone's own over the built-in ones, and say whose they are.
func TestZoneRightsScreen(t *testing.T) {
	h := newHarness(t, Options{})
	z := h.zone("Villeray", "organizer")
	h.zone("Parc-Ex", "member")
	if _, err := h.fake.PublishCards(context.Background(), api.PublishCardsRequest{Zone: z.ID, Set: json.RawMessage(zoneCardSet)}); err != nil {
		t.Fatal(err)
	}
	h.unlocked()
	s := sighting(z.ID, "d00r0002", "", 1, false)
	s.WhatCode = "door"
	h.receive(s)
	h.ui.showAlert("d00r0002")
	h.tap("At the door (Villeray)")
	if h.ui.cur.title != "At the door (Villeray)" || !h.hasLabel("• Call the zone's line.") || !h.hasLabel("Cards of zone Villeray, published by its organizers") {
		t.Errorf("zone card: %q %q", h.ui.cur.title, h.labels())
	}
	h.ui.back()
	h.ui.showRights("", "")
	for _, want := range []string{"The legal clinic", "Witnessing"} {
		if h.findButton(want) == nil {
			t.Errorf("zone cards list lacks %q", want)
		}
	}
	test.AssertRendersToMarkup(t, "rights-zone.xml", h.ui.w.Canvas())
	// From the zone list with two zones: the built-in cards.
	h.ui.showZones()
	h.tap("Know your rights")
	if h.findButton("The legal clinic") != nil || h.hasLabel("Cards of zone Villeray, published by its organizers") {
		t.Errorf("zone list shows a zone's cards: %q", h.labels())
	}
	// Another language without zone cards: the built-in ones, unlabelled.
	h.ui.cardsZone = z.ID
	h.ui.showRights("", "fr")
	if h.findButton("Des agents à la porte") == nil || h.hasLabelWith("Villeray") {
		t.Errorf("French without zone cards: %q", h.labels())
	}
}

// selects lists the visible selects, in order.
func (h *harness) selects() []*widget.Select {
	var out []*widget.Select
	for _, o := range h.objects() {
		if s, ok := o.(*widget.Select); ok {
			out = append(out, s)
		}
	}
	return out
}

// TestPlacesScreenshots writes the safe places screen and a zone's own
// cards in every language at phone width to $LOOKOUT_SCREENSHOTS (make
// screenshots).
func TestPlacesScreenshots(t *testing.T) {
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
	z := placesZone(h)
	if _, err := h.fake.PublishCards(context.Background(), api.PublishCardsRequest{Zone: z.ID, Set: json.RawMessage(zoneCardSet)}); err != nil {
		t.Fatal(err)
	}
	h.unlocked()
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
		loadTranslations(l)
		h.ui.showZones()
		h.ui.showPlaces(z)
		shot("places-" + l)
		h.ui.cardsZone = z.ID
		h.ui.showRights("", "en")
		shot("rights-zone-" + l)
	}
}
