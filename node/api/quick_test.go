package api_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"lookout/crypto"
	"lookout/node/api"
	"lookout/protocol"
)

// The API's code names are the protocol's.
func TestQuickCodesMatchProtocol(t *testing.T) {
	var what, uniform []string
	for _, c := range protocol.WhatCodes {
		what = append(what, c.String())
	}
	for _, c := range protocol.UniformCodes {
		uniform = append(uniform, c.String())
	}
	if !slices.Equal(what, api.WhatCodes) || !slices.Equal(uniform, api.UniformCodes) {
		t.Errorf("api codes %v %v, protocol codes %v %v", api.WhatCodes, api.UniformCodes, what, uniform)
	}
}

// Every language has every text, and no other.
func TestQuickTextsComplete(t *testing.T) {
	keys := func(lang string) []string {
		b, err := os.ReadFile(filepath.Join("quick", lang+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", lang, err)
		}
		var ks []string
		for k, v := range m {
			if strings.TrimSpace(v) == "" {
				t.Errorf("%s: %s is empty", lang, k)
			}
			if strings.HasSuffix(k, ".other") != strings.Contains(v, "%d") {
				t.Errorf("%s: %s = %q: only plural forms have one %%d", lang, k, v)
			}
			ks = append(ks, k)
		}
		slices.Sort(ks)
		return ks
	}
	en := keys("en")
	for _, c := range api.WhatCodes {
		if !slices.Contains(en, "what."+c) {
			t.Errorf("en: no text for what code %s", c)
		}
	}
	for _, c := range api.UniformCodes {
		if !slices.Contains(en, "uniform."+c) {
			t.Errorf("en: no text for uniform code %s", c)
		}
	}
	for _, l := range api.Languages[1:] {
		if got := keys(l); !slices.Equal(got, en) {
			t.Errorf("%s has keys %v, en has %v", l, got, en)
		}
	}
}

func TestLang(t *testing.T) {
	for in, want := range map[string]string{
		"fr": "fr", "fr_CA.UTF-8": "fr", "es_MX": "es", "en-CA": "en", "ES": "es",
		"C": "", "POSIX": "", "": "", "de_DE.UTF-8": "", "french": "",
	} {
		if got := api.Lang(in); got != want {
			t.Errorf("Lang(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestQuickReportAcrossLanguages: a quick report composed by a French
// member crosses the wire as codes and reads in Spanish and English;
// the free text stays as typed.
func TestQuickReportAcrossLanguages(t *testing.T) {
	req := api.ReportRequest{Zone: "Villeray", Where: "Jarry et Saint-Denis", Size: 3, Activity: "rue Jarry, 2e étage",
		WhatCode: "door", UniformCode: "plain", Vehicles: 1}

	// The sender's node: codes onto the wire (as node.Report does).
	q, err := protocol.ParseQuick(req.WhatCode, req.UniformCode, req.Vehicles)
	if err != nil {
		t.Fatal(err)
	}
	sent := time.Date(2026, 12, 2, 5, 0, 0, 0, time.UTC)
	a := &protocol.Alert{Kind: protocol.KindSighting, Sender: crypto.MemberID{1}, Sent: sent, Expires: sent.Add(time.Hour),
		Status: protocol.StatusActual, Urgency: protocol.UrgencyImmediate, Severity: protocol.SeveritySevere, Certainty: protocol.CertaintyObserved,
		Area: req.Where, What: req.What, Size: uint16(req.Size), Activity: req.Activity, Quick: q}
	body, err := a.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}

	// A reader's node: from the wire into the API view.
	got, err := protocol.ParseAlert(body)
	if err != nil {
		t.Fatal(err)
	}
	view := api.Alert{Kind: "sighting", Where: got.Area, What: got.What, Size: int(got.Size), Activity: got.Activity,
		WhatCode: got.Quick.What.String(), UniformCode: got.Quick.Uniform.String(), Vehicles: int(got.Quick.Vehicles)}

	for lang, want := range map[string]string{
		"fr": "Agents à une porte, 3 agents, en civil, 1 véhicule",
		"es": "Agentes en una puerta, 3 agentes, vestidos de civil, 1 vehículo",
		"en": "Officers at a door, 3 officers, plain clothes, 1 vehicle",
		"de": "Officers at a door, 3 officers, plain clothes, 1 vehicle", // unsupported: English
	} {
		if got := api.QuickText(view, lang); got != want {
			t.Errorf("QuickText(%s) = %q, want %q", lang, got, want)
		}
	}
	if view.Activity != "rue Jarry, 2e étage" {
		t.Errorf("free text changed: %q", view.Activity)
	}
}

func TestQuickText(t *testing.T) {
	for _, c := range []struct {
		a    api.Alert
		lang string
		want string
	}{
		{api.Alert{What: "van", Size: 2}, "es", ""},
		{api.Alert{WhatCode: "checkpoint"}, "es", "Punto de control"},
		{api.Alert{WhatCode: "arrest", Size: 1, UniformCode: "marked"}, "fr", "Arrestation en cours, 1 agent, en uniforme"},
		{api.Alert{UniformCode: "plain", Vehicles: 4}, "en", "plain clothes, 4 vehicles"},
		{api.Alert{WhatCode: "foot", Vehicles: 2}, "es", "Agentes a pie, 2 vehículos"},
		{api.Alert{WhatCode: "vehicle"}, "fr_CA.UTF-8", "Véhicule des agents stationné"},
		{api.Alert{WhatCode: "teleport"}, "en", ""},
	} {
		if got := api.QuickText(c.a, c.lang); got != c.want {
			t.Errorf("QuickText(%+v, %s) = %q, want %q", c.a, c.lang, got, c.want)
		}
	}
}
