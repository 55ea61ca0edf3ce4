package api

import (
	"embed"
	"encoding/json"
	"fmt"
	"strings"
)

// Quick-report codes as the API carries them (protocol.WhatCode and
// protocol.UniformCode names). Readers never see these names: QuickText
// renders them in the reader's language.
const (
	WhatDoor       = "door"       // officers at a door
	WhatVehicle    = "vehicle"    // vehicle parked
	WhatArrest     = "arrest"     // arrest in progress
	WhatCheckpoint = "checkpoint" // checkpoint
	WhatFoot       = "foot"       // officers on foot

	UniformMarked = "marked" // marked uniforms
	UniformPlain  = "plain"  // plain clothes
)

// WhatCodes and UniformCodes list the codes in the order forms offer them.
var (
	WhatCodes    = []string{WhatDoor, WhatVehicle, WhatArrest, WhatCheckpoint, WhatFoot}
	UniformCodes = []string{UniformMarked, UniformPlain}
)

// Languages are the languages quick reports render in; the first is the
// fallback for any other.
var Languages = []string{"en", "fr", "es"}

//go:embed quick/*.json
var quickFS embed.FS

// quickTexts maps language → key → text, read once from the embedded files.
var quickTexts = func() map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, l := range Languages {
		b, err := quickFS.ReadFile("quick/" + l + ".json")
		if err != nil {
			panic(fmt.Sprintf("api: quick-report texts for %s: %v", l, err)) // embedded at build time
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			panic(fmt.Sprintf("api: quick-report texts for %s: %v", l, err))
		}
		out[l] = m
	}
	return out
}()

// Lang returns the supported language of a locale name such as "fr",
// "es_MX.UTF-8" or "en-CA", or "" if it is none of Languages.
func Lang(locale string) string {
	l := strings.ToLower(strings.TrimSpace(locale))
	if i := strings.IndexAny(l, "_-.@"); i >= 0 {
		l = l[:i]
	}
	for _, s := range Languages {
		if l == s {
			return s
		}
	}
	return ""
}

func quickText(lang, key string) string {
	if t, ok := quickTexts[Lang(lang)][key]; ok {
		return t
	}
	return quickTexts[Languages[0]][key]
}

// WhatCodeText is a what code in lang ("Officers at a door"), or "" for
// an unknown code.
func WhatCodeText(code, lang string) string { return quickText(lang, "what."+code) }

// UniformCodeText is a uniform code in lang ("plain clothes"), or "" for
// an unknown code.
func UniformCodeText(code, lang string) string { return quickText(lang, "uniform."+code) }

func countText(lang, what string, n int) string {
	if n == 1 {
		return quickText(lang, what+".one")
	}
	return fmt.Sprintf(quickText(lang, what+".other"), n)
}

// Counted things of a quick report, for CountText.
const (
	CountOfficers = "officers"
	CountVehicles = "vehicles"
)

// CountText is n officers or vehicles (CountOfficers, CountVehicles) in
// lang, as QuickText says it: "1 officer", "3 véhicules".
func CountText(what string, n int, lang string) string { return countText(lang, what, n) }

// HasQuick reports whether a carries quick-report codes.
func HasQuick(a Alert) bool { return a.WhatCode != "" || a.UniformCode != "" || a.Vehicles > 0 }

// QuickText renders a sighting's quick report in lang (any of Languages;
// English otherwise): what, how many officers, uniform, vehicles, joined
// with ", ". Free text is not part of it: it is shown as typed. It is ""
// if a carries no codes.
func QuickText(a Alert, lang string) string {
	if !HasQuick(a) {
		return ""
	}
	var parts []string
	if t := WhatCodeText(a.WhatCode, lang); t != "" {
		parts = append(parts, t)
	}
	if a.Size > 0 {
		parts = append(parts, countText(lang, CountOfficers, a.Size))
	}
	if t := UniformCodeText(a.UniformCode, lang); t != "" {
		parts = append(parts, t)
	}
	if a.Vehicles > 0 {
		parts = append(parts, countText(lang, CountVehicles, a.Vehicles))
	}
	return strings.Join(parts, ", ")
}
