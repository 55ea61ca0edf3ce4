package app

import (
	"context"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"lookout/node/api"
	"lookout/node/control/controltest"
)

// TestQuickReportTaps: from the zone list of an unlocked app, a report
// is at most four interactions with nothing typed (issue 19): Report, what,
// a place this member reported before, Send. How many is optional, one
// more tap. It goes out as codes, with no text.
func TestQuickReportTaps(t *testing.T) {
	h := newHarness(t, Options{})
	z := h.zone("Parkdale", "member")
	// The member reported at Jane & Finch earlier (the node keeps the
	// place in its encrypted store); a newer alert elsewhere comes after it.
	// That report was retracted, so the new one starts an incident.
	first, err := h.fake.Report(context.Background(), api.ReportRequest{Zone: z.ID, What: "van", Where: "Jane & Finch"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.fake.Clear(context.Background(), first.ID, ""); err != nil {
		t.Fatal(err)
	}
	h.unlocked()
	h.receive(sighting(z.ID, "s1", "verified", 2, false))
	interactions := 0
	tap := func(text string) { interactions++; h.tap(text) }

	tap("Report a sighting")
	if got := h.ui.recentPlaces(z.ID); len(got) != 2 || got[0] != "Jane & Finch" || got[1] != "Queen & Dunn" {
		t.Errorf("recent places %q, want the member's own first, then the zone's", got)
	}
	tap(api.WhatCodeText(api.WhatDoor, "en"))
	tap("Jane & Finch")
	tap("Send report")
	h.waitFor("sent", func() bool { return h.ui.cur.title == "Sighting" })
	if interactions > maxReportInteractions {
		t.Errorf("report took %d interactions, want at most %d", interactions, maxReportInteractions)
	}
	as, _ := h.fake.Alerts(z.ID)
	var got *api.Alert
	for i := range as {
		if as[i].WhatCode != "" {
			got = &as[i]
		}
	}
	if got == nil || got.WhatCode != api.WhatDoor || got.Size != 0 || got.Where != "Jane & Finch" || got.What != "" {
		t.Fatalf("sent %+v, want officers at a door, Jane & Finch, no text", got)
	}
	h.label("Officers at a door")
	t.Logf("report sent in %d interactions, nothing typed", interactions)

	// How many officers is one more tap, if the member wants it.
	h.tap("Back")
	h.tap("Report a sighting")
	h.tap(api.WhatCodeText(api.WhatDoor, "en"))
	h.tap("2 officers")
	h.tap("Jane & Finch")
	h.tap("Send report")
	h.waitFor("second report", func() bool {
		as, _ := h.fake.Alerts(z.ID)
		for _, a := range as {
			if n := len(a.Reports); n > 1 && a.Reports[n-1].Size == 2 && a.Reports[n-1].What == "" {
				return true
			}
		}
		return false
	})
	h.waitFor("sent", func() bool { return h.ui.cur.title == "Sighting" })
	h.label("Officers at a door, 2 officers")
}

// maxReportInteractions is the most taps or typed fields from an unlocked
// app to a sent sighting (issue 19, "the four-tap report").
const maxReportInteractions = 4

// chipOn reports whether the quick choice labelled text is chosen.
func (h *harness) chipOn(text string) bool {
	return h.button(text).Importance == widget.HighImportance
}

// TestQuickChoices: one choice of a group at a time, a second tap undoes
// it; how many is the count field's value either way; choices outlive Back
// and all go out as codes; with no what chosen, words are required.
func TestQuickChoices(t *testing.T) {
	h := newHarness(t, Options{})
	z := h.zone("Parkdale", "member")
	h.unlocked()
	h.tap("Report a sighting")
	h.tap("Checkpoint")
	h.tap("Officers at a door")
	if !h.chipOn("Officers at a door") || h.chipOn("Checkpoint") {
		t.Error("two what choices on at once")
	}
	h.tap("Officers at a door")
	if h.chipOn("Officers at a door") {
		t.Error("a second tap does not undo a choice")
	}
	test.Type(h.entry("e.g. Queen & Dunn, outside the pharmacy"), "Jarry & St-Denis")
	h.tap("Send report")
	h.label(`Fill in "What do you see?".`)

	h.tap("Arrest in progress")
	h.tap("3 officers")
	for _, o := range h.objects() {
		if a, ok := o.(*widget.Accordion); ok {
			a.Open(0) // More details: the count field
		}
	}
	size := h.entry("a number")
	if size.Text != "3" {
		t.Errorf("3 officers sets the count to %q", size.Text)
	}
	size.SetText("12")
	if h.chipOn("3 officers") {
		t.Error("a typed count leaves a count choice on")
	}
	size.SetText("4")
	if !h.chipOn("4 officers") {
		t.Error("a typed count of 4 does not show as the choice")
	}
	h.tap("Plain clothes")
	h.tap("2 vehicles")
	h.tap("Back")
	h.tap("Report a sighting")
	for _, c := range []string{"Arrest in progress", "4 officers", "Plain clothes", "2 vehicles"} {
		if !h.chipOn(c) {
			t.Errorf("%s lost after Back", c)
		}
	}
	h.tap("Send report")
	h.waitFor("sent", func() bool { return h.ui.cur.title == "Sighting" })
	as, _ := h.fake.Alerts(z.ID)
	if len(as) != 1 || as[0].WhatCode != api.WhatArrest || as[0].Size != 4 || as[0].UniformCode != api.UniformPlain ||
		as[0].Vehicles != 2 || as[0].What != "" || as[0].Where != "Jarry & St-Denis" {
		t.Fatalf("sent %+v", as)
	}
	h.ui.showReport(z)
	if h.chipOn("Arrest in progress") || h.chipOn("2 vehicles") {
		t.Error("the choices of a sent report stay on the form")
	}
}

// TestQuickChoicesTranslated: the choices are in the member's language
// and go out as the same codes.
func TestQuickChoicesTranslated(t *testing.T) {
	for lang, want := range map[string][]string{
		"fr": {"Agents à une porte", "2 agents", "En civil", "1 véhicule"},
		"es": {"Agentes en una puerta", "2 agentes", "Vestidos de civil", "1 vehículo"},
	} {
		h := newHarness(t, Options{})
		z := h.zone("Villeray", "member")
		h.unlocked()
		h.fa.Preferences().SetString(prefLanguage, lang)
		loadTranslations(lang)
		h.ui.showReport(z)
		for _, c := range want {
			h.tap(c)
		}
		test.Type(h.entryAt(1), "Jarry")
		h.tap(L("report.send"))
		h.waitFor("sent", func() bool { return len(h.fake.Zones()[0].Places) == 1 })
		as, _ := h.fake.Alerts(z.ID)
		if len(as) != 1 || as[0].WhatCode != api.WhatDoor || as[0].Size != 2 || as[0].UniformCode != api.UniformPlain || as[0].Vehicles != 1 {
			t.Errorf("%s: sent %+v", lang, as)
		}
	}
}

// removedBackend refuses every report as a node does for a member who was
// removed from the zone.
type removedBackend struct{ *controltest.Fake }

func (removedBackend) Report(context.Context, api.ReportRequest) (api.Alert, error) {
	return api.Alert{}, api.Fail(api.ErrForbidden, "zone.removed", "Zone", api.Quote("Parkdale"))
}

// TestNodeErrorInLanguage: the node's own message for a refusal is shown
// in the member's language, not only what its kind means.
func TestNodeErrorInLanguage(t *testing.T) {
	for lang, want := range map[string]string{
		"en": `not allowed: you were removed from zone "Parkdale"`,
		"fr": `non autorisé : vous avez été retiré·e de la zone "Parkdale"`,
		"es": `no permitido: usted fue retirado/a de la zona "Parkdale"`,
	} {
		h := newHarness(t, Options{})
		h.prof.b = removedBackend{h.fake}
		z := h.zone("Parkdale", "member")
		h.unlocked()
		h.fa.Preferences().SetString(prefLanguage, lang)
		loadTranslations(lang)
		h.ui.showReport(z)
		h.tap(api.WhatCodeText(api.WhatFoot, lang))
		test.Type(h.entryAt(1), "Jarry")
		h.tap(L("report.send"))
		h.waitFor("the error", func() bool { return h.hasLabel(want) })
	}
}
