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
		h.ui.showPlaceForm(z, "add", api.Place{})
		shot("place-add-" + l)
		member := z
		member.Role = "member"
		h.ui.showPlaceForm(member, "suggest", api.Place{})
		shot("place-suggest-" + l)
	}
}

// countButtons counts the visible buttons with text.
func (h *harness) countButtons(text string) int {
	n := 0
	for _, o := range h.objects() {
		if b, ok := o.(*widget.Button); ok && b.Text == text {
			n++
		}
	}
	return n
}

// TestPlaceForms (issue 16): organizers and verifiers add, edit and
// retire safe places from the app and confirm suggestions; a member's
// form says the place will be a suggestion; entries from a linked zone
// say so and have no buttons.
func TestPlaceForms(t *testing.T) {
	h := newHarness(t, Options{})
	z := placesZone(h)
	at := testNow.Add(-time.Hour)
	if err := h.fake.ReceivePlace(z.ID, api.Place{Kind: "legal", Name: "Parc-Ex legal clinic", From: "Parc-Ex", Origin: "Parc-Ex",
		ConfirmedBy: "e0e0e0e0", ConfirmedAt: &at}); err != nil {
		t.Fatal(err)
	}
	h.unlocked()
	h.ui.showPlaces(z)
	if !h.hasLabel("From linked zone Parc-Ex (read-only here)") {
		t.Errorf("linked entry: %q", h.labels())
	}
	// Two own confirmed entries: an Edit and a Retire each; the linked one none.
	if e, r, c := h.countButtons("Edit"), h.countButtons("Retire"), h.countButtons("Confirm"); e != 2 || r != 3 || c != 1 {
		t.Errorf("buttons: %d Edit, %d Retire, %d Confirm; want 2, 3 (with the suggestion's), 1", e, r, c)
	}

	// Add.
	h.tap("Add a place")
	if h.ui.cur.title != "Add a place · Villeray" {
		t.Fatalf("screen %q", h.ui.cur.title)
	}
	test.AssertRendersToMarkup(t, "place-add.xml", h.ui.w.Canvas())
	h.tap("Add")
	if !h.hasLabel("Choose what kind of place it is.") {
		t.Errorf("no kind: %q", h.labels())
	}
	h.selects()[0].SetSelected("Health")
	test.Type(h.entryAt(0), "Clinique du peuple")
	test.Type(h.entryAt(1), "Jean-Talon & Querbes")
	test.Type(h.entryAt(3), "fr, es")
	h.tap("Add")
	h.waitFor("back on the list with the new place", func() bool { return h.ui.cur.title == "Safe places · Villeray" && h.hasLabel("Clinique du peuple") })
	ps, _ := h.fake.Places(z.ID, api.PlaceFilter{Kind: "health"})
	if len(ps) != 1 || ps[0].Where != "Jean-Talon & Querbes" || len(ps[0].Languages) != 2 || ps[0].Suggested() {
		t.Fatalf("added: %+v", ps)
	}

	// Edit the first confirmed entry (by name: the new clinic).
	h.tap("Edit")
	if h.ui.cur.title != "Edit Clinique du peuple" || h.entryAt(0).Text != "Clinique du peuple" {
		t.Fatalf("edit form %q: %q", h.ui.cur.title, h.entryAt(0).Text)
	}
	test.Type(h.entryAt(2), "Mon-Fri 9-17")
	h.tap("Save")
	h.waitFor("edit saved", func() bool { return h.hasLabel("Hours: Mon-Fri 9-17") })

	// Retire, after saying so.
	h.tap("Retire")
	h.tapDialog("Retire for good")
	h.waitFor("retired", func() bool { return !h.hasLabel("Clinique du peuple") })

	// A verifier confirms the suggestion.
	if err := h.fake.SetRole(z.ID, "verifier"); err != nil {
		t.Fatal(err)
	}
	z.Role = "verifier"
	h.ui.showPlaces(z)
	h.tap("Confirm")
	if h.ui.cur.title != "Confirm Legal clinic" || !h.hasLabel("A member suggested this place. Correct what you know to be wrong, then confirm it.") {
		t.Fatalf("confirm form %q: %q", h.ui.cur.title, h.labels())
	}
	h.tap("Confirm")
	h.waitFor("confirmed", func() bool {
		return h.ui.cur.title == "Safe places · Villeray" && h.hasLabel("Legal clinic") && !h.hasLabel("Suggested by a member, not confirmed yet")
	})

	// A member suggests; the form says it will be a suggestion.
	if err := h.fake.SetRole(z.ID, "member"); err != nil {
		t.Fatal(err)
	}
	z.Role = "member"
	h.ui.showPlaces(z)
	if h.findButton("Add a place") != nil || h.countButtons("Edit")+h.countButtons("Retire")+h.countButtons("Confirm") != 0 {
		t.Errorf("a member sees editing buttons")
	}
	h.tap("Suggest a place")
	if !h.hasLabel("This will be a suggestion: members see it marked as such, with your member ID, until a verifier confirms it.") {
		t.Errorf("suggest form: %q", h.labels())
	}
	test.AssertRendersToMarkup(t, "place-suggest.xml", h.ui.w.Canvas())
	h.selects()[0].SetSelected("Food")
	test.Type(h.entryAt(0), "Frigo communautaire")
	h.tap("Send the suggestion")
	h.waitFor("suggestion listed", func() bool {
		return h.hasLabel("Frigo communautaire") && h.hasLabel("Suggested by a member, not confirmed yet")
	})
}

// TestLinkedCalloutCard: a callout from a linked zone opens the built-in
// card of its topic with a note; a card of that zone's own says it is
// not available here.
func TestLinkedCalloutCard(t *testing.T) {
	h := newHarness(t, Options{})
	z := h.zone("Villeray", "organizer")
	if _, err := h.fake.PublishCards(context.Background(), api.PublishCardsRequest{Zone: z.ID, Set: json.RawMessage(zoneCardSet)}); err != nil {
		t.Fatal(err)
	}
	h.unlocked()
	c := callout(z.ID, "c0110001", false)
	c.Via, c.Origin, c.Card = "Parc-Ex", "Parc-Ex", "door"
	h.receive(c)
	h.ui.showAlert("c0110001")
	h.tap("Officers at the door")
	if !h.hasLabel("This callout came from linked zone Parc-Ex. Shown here: the built-in card on its topic; Parc-Ex may have its own version.") {
		t.Errorf("linked card note: %q", h.labels())
	}
	if h.hasLabel("Cards of zone Villeray, published by its organizers") {
		t.Errorf("a linked callout's card shown from this zone's own cards")
	}
	away := callout(z.ID, "c0110002", false)
	away.Via, away.Card, away.Title = "Parc-Ex", "their-own", "Court support"
	h.receive(away)
	h.ui.showAlert("c0110002")
	h.tap("Know your rights")
	if !h.hasLabel(`This callout came from linked zone Parc-Ex and points to its own card "their-own", which this zone does not have. The built-in cards:`) {
		t.Errorf("missing card note: %q", h.labels())
	}
}
