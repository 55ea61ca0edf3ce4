package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"lookout/node/api"
)

const testZoneSet = `{"lang":"fr","language":"Français","title":"Nos droits","written":"2026-12-02",` +
	`"notice":"Information générale, pas un avis juridique.","check":"Vérifié par la clinique du quartier.",` +
	`"cards":[{"id":"door","title":"À la porte (zone)","intro":"Ce que la clinique du quartier conseille.","points":["Appelez la ligne de la zone."]},` +
	`{"id":"clinique","title":"La clinique","intro":"Consultations gratuites le mardi.","points":["Apportez vos papiers si vous en avez."]}]}`

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestZoneCardsCLI: an organizer publishes zone cards from a file; rights
// --zone shows them over the built-in ones; a bad file is one clear line
// naming what is wrong; a member is refused.
func TestZoneCardsCLI(t *testing.T) {
	f, home := serveFake(t)
	setLang(t, "", "", "en_CA.UTF-8")
	lkOK(t, "--home", home, "zone", "create", "north")

	out := lkOK(t, "--home", home, "rights", "--zone", "north", "--lang", "fr")
	if !strings.Contains(out, "no cards of its own") || !strings.Contains(out, "Des agents à la porte") {
		t.Errorf("rights --zone before any zone cards:\n%s", out)
	}
	out = lkOK(t, "--home", home, "rights", "publish", "north", writeFile(t, "fr.json", testZoneSet))
	if !strings.Contains(out, "revision 1") {
		t.Errorf("rights publish: %q", out)
	}
	out = lkOK(t, "--home", home, "rights", "--zone", "north", "--lang", "fr")
	for _, want := range []string{"Cards of zone north (revision 1)", "clinique", "À la porte (zone)", "witness", "Vérifié par la clinique du quartier."} {
		if !strings.Contains(out, want) {
			t.Errorf("rights --zone lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Des agents à la porte") {
		t.Errorf("the zone's door card does not replace the built-in one:\n%s", out)
	}
	out = lkOK(t, "--home", home, "rights", "clinique", "--zone", "north", "--lang", "fr")
	if !strings.Contains(out, "LA CLINIQUE") || !strings.Contains(out, "Apportez vos papiers") {
		t.Errorf("rights clinique --zone:\n%s", out)
	}
	// Spanish has no zone cards: the built-in ones.
	if out := lkOK(t, "--home", home, "rights", "--zone", "north", "--lang", "es"); !strings.Contains(out, "Agentes en la puerta") {
		t.Errorf("rights --zone --lang es:\n%s", out)
	}
	lkOK(t, "--home", home, "rights", "publish", "north", writeFile(t, "fr.json", testZoneSet), "--replace")
	if out := lkOK(t, "--home", home, "rights", "--zone", "north", "--lang", "fr"); strings.Contains(out, "witness") || !strings.Contains(out, "revision 2") {
		t.Errorf("replaced cards still list built-in ones:\n%s", out)
	}
	lkOK(t, "--home", home, "rights", "withdraw", "north", "--lang", "fr")
	if out := lkOK(t, "--home", home, "rights", "--zone", "north", "--lang", "fr"); !strings.Contains(out, "Des agents à la porte") {
		t.Errorf("withdrawn cards:\n%s", out)
	}

	for _, c := range []struct{ content, want string }{
		{`{"lang":"fr"`, "unexpected EOF"},
		{strings.Replace(testZoneSet, `"id":"clinique"`, `"id":"Clinique!"`, 1), `card 2: id "Clinique!"`},
		{strings.Replace(testZoneSet, `"written":"2026-12-02"`, `"written":"hier"`, 1), `written "hier"`},
		{strings.Replace(testZoneSet, `"lang":"fr"`, `"lang":"de"`, 1), `language "de"`},
		{strings.Replace(testZoneSet, `"intro":"Consultations gratuites le mardi."`, `"intro":"\u001b[2J"`, 1), "control characters"},
		{`{"lang":"fr",` + strings.Repeat(" ", 17000) + `}`, "more than 16384 bytes"},
	} {
		args := []string{"--home", home, "rights", "publish", "north", writeFile(t, "bad.json", c.content)}
		_, errs, code := lk(t, args...)
		if code != 1 || !strings.Contains(errs, c.want) || !strings.Contains(errs, "fix the card set") {
			t.Errorf("publish of a bad file: exit %d, stderr %q; want %q", code, errs, c.want)
		}
		checkOneLine(t, args, errs)
	}
	args := []string{"--home", home, "rights", "publish", "north", filepath.Join(t.TempDir(), "missing.json")}
	if _, errs, code := lk(t, args...); code != 1 || !strings.Contains(errs, "missing.json") {
		t.Errorf("publish of a missing file: exit %d, %q", code, errs)
	}

	if err := f.SetRole("north", "member"); err != nil {
		t.Fatal(err)
	}
	args = []string{"--home", home, "rights", "publish", "north", writeFile(t, "fr.json", testZoneSet)}
	if _, errs, code := lk(t, args...); code != 1 || !strings.Contains(errs, "ask an organizer of north") {
		t.Errorf("a member's publish: exit %d, %q", code, errs)
	}
}

// TestPlacesCLI: the directory's verbs, filters and JSON keys; a member
// may only suggest.
func TestPlacesCLI(t *testing.T) {
	f, home := serveFake(t)
	setLang(t, "", "", "en_CA.UTF-8")
	lkOK(t, "--home", home, "zone", "create", "north")
	lk := func(args ...string) string { return lkOK(t, append([]string{"--home", home}, args...)...) }

	if out := lk("places", "north"); !strings.Contains(out, "no places") {
		t.Errorf("empty directory: %q", out)
	}
	food, _, code := lkAll(t, home, "place", "add", "north", "--kind", "food", "--name", "Banque alimentaire", "--where", "Jarry & St-Michel",
		"--languages", "fr, es", "--no-id", "--walk-in", "--hours", "Tue 10-14")
	if code != 0 || len(food) != 32 {
		t.Fatalf("place add: %q exit %d", food, code)
	}
	lk("place", "update", "north", food[:8], "--contact", "514 555 0100", "--walk-in=false")
	shelter := strings.TrimSpace(lk("place", "add", "north", "--kind", "shelter", "--name", "Old shelter"))
	lk("place", "retire", "north", shelter)

	if err := f.SetRole("north", "member"); err != nil {
		t.Fatal(err)
	}
	args := []string{"--home", home, "place", "add", "north", "--kind", "food", "--name", "X"}
	if _, errs, code := lkRaw(t, args...); code != 1 || !strings.Contains(errs, "lookout place suggest north") {
		t.Errorf("a member's add: exit %d, %q", code, errs)
	}
	sug, errs, _ := lkAll(t, home, "place", "suggest", "north", "--kind", "legal", "--name", "Clínica legal", "--no-status-questions", "--languages", "es")
	if !strings.Contains(errs, "until a verifier confirms it") {
		t.Errorf("suggest: %q", errs)
	}
	out := lk("places", "north")
	for _, want := range []string{"Banque alimentaire  [food]", "Jarry & St-Michel", "fr, es", "no ID asked", "514 555 0100", "Clínica legal  [legal help] (suggestion, not confirmed)"} {
		if !strings.Contains(out, want) {
			t.Errorf("places lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Old shelter") || strings.Contains(out, "walk-in") {
		t.Errorf("places shows a retired entry or a cleared flag:\n%s", out)
	}
	if err := f.SetRole("north", "verifier"); err != nil {
		t.Fatal(err)
	}
	lk("place", "confirm", "north", sug)
	if out := lk("places", "north", "--lang", "es", "--kind", "legal"); !strings.Contains(out, "Clínica legal") || strings.Contains(out, "suggestion") || strings.Contains(out, "Banque") {
		t.Errorf("places --lang es --kind legal:\n%s", out)
	}
	if out := lk("places", "north", "--search", "st michel"); !strings.Contains(out, "Banque") || strings.Contains(out, "Clínica") {
		t.Errorf("places --search:\n%s", out)
	}

	var keys []string
	for line := range strings.Lines(lk("places", "north", "--json")) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		keys = keys[:0]
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		want := []string{"confirmed_at", "confirmed_by", "contact", "hours", "id", "kind", "languages", "name", "no_id", "no_status_questions", "notes", "walk_in", "where"}
		if !slices.Equal(keys, want) {
			t.Errorf("places --json keys %v, want %v", keys, want)
		}
	}

	// French help and output.
	setLang(t, "", "", "fr_CA.UTF-8")
	if out := lk("places", "north", "--kind", "legal"); !strings.Contains(out, "[aide juridique]") {
		t.Errorf("places in French:\n%s", out)
	}
	if out, _, _ := lkRaw(t, "place", "add", "-h"); !strings.Contains(out, "aucune pièce d'identité demandée") {
		t.Errorf("place add -h in French:\n%s", out)
	}
	setLang(t, "", "", "en_CA.UTF-8")

	for _, c := range []struct {
		args []string
		want string
		code int
	}{
		{[]string{"place", "add", "north", "--name", "X"}, "--kind", 2},
		{[]string{"place", "add", "north", "--kind", "bar", "--name", "X"}, "must be one of", 2},
		{[]string{"place", "update", "north", food}, "nothing to change", 2},
		{[]string{"place", "update", "north", "nowhere", "--hours", "x"}, "no place", 1},
		{[]string{"place", "add", "north", "--kind", "food", "--name", "X", "--languages", "french"}, "languages", 1},
	} {
		args := append([]string{"--home", home}, c.args...)
		_, errs, code := lkRaw(t, args...)
		if code != c.code || !strings.Contains(errs, c.want) {
			t.Errorf("lookout %s: exit %d, stderr %q; want exit %d and %q", strings.Join(c.args, " "), code, errs, c.code, c.want)
		}
		checkOneLine(t, args, errs)
	}
}

// lkRaw is lk; lkAll runs with --home and trims stdout.
func lkRaw(t *testing.T, args ...string) (string, string, int) { return lk(t, args...) }

func lkAll(t *testing.T, home string, args ...string) (string, string, int) {
	out, errs, code := lk(t, append([]string{"--home", home}, args...)...)
	return strings.TrimSpace(out), errs, code
}

// TestCalloutCardCLI: a callout's card and a door sighting's card show
// under them in alerts.
func TestCalloutCardCLI(t *testing.T) {
	_, home := serveFake(t)
	setLang(t, "", "", "en_CA.UTF-8")
	lkOK(t, "--home", home, "zone", "create", "north")
	lkOK(t, "--home", home, "callout", "north", "--title", "court watch", "--where", "County court", "--card", "witness")
	lkOK(t, "--home", home, "report", "north", "--what-code", "door", "--where", "Jarry & St-Denis")
	lkOK(t, "--home", home, "report", "north", "--what", "van", "--where", "Main St")
	out := lkOK(t, "--home", home, "alerts", "north")
	for _, want := range []string{"read the card: lookout rights witness --zone north", "read the card: lookout rights door --zone north"} {
		if !strings.Contains(out, want) {
			t.Errorf("alerts lacks %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "read the card") != 2 {
		t.Errorf("a card offered where none fits:\n%s", out)
	}
	if _, errs, code := lk(t, "--home", home, "callout", "north", "--title", "x", "--where", "y", "--card", "not a card"); code != 1 || !strings.Contains(errs, "card") {
		t.Errorf("bad card: exit %d, %q", code, errs)
	}
}

// TestPlaceShareCLI: an organizer shares one safe place or all of them
// with linked zones; entries from a linked zone say where they came from
// and are read-only; a linked callout's card falls back to the built-in
// card with a note.
func TestPlaceShareCLI(t *testing.T) {
	f, home := serveFake(t)
	setLang(t, "", "", "en_CA.UTF-8")
	lk := func(args ...string) string { return lkOK(t, append([]string{"--home", home}, args...)...) }
	lk("zone", "create", "north")
	lk("zone", "create", "south")
	fails := func(want string, code int, args ...string) {
		t.Helper()
		all := append([]string{"--home", home}, args...)
		_, errs, got := lkRaw(t, all...)
		if got != code || !strings.Contains(errs, want) {
			t.Errorf("lookout %s: exit %d, %q; want exit %d and %q", strings.Join(args, " "), got, errs, code, want)
		}
		checkOneLine(t, all, errs)
	}
	lk("place", "add", "north", "--kind", "food", "--name", "Banque alimentaire", "--share")
	lk("place", "add", "north", "--kind", "health", "--name", "Clinic")
	fails("no active links", 1, "place", "share", "north", "Banque alimentaire")

	o, err := f.LinkOffer(context.Background(), api.LinkOfferRequest{Zone: "north"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.AcceptLink(context.Background(), api.AcceptLinkRequest{Zone: "south", Code: o.Code}); err != nil {
		t.Fatal(err)
	}
	if out := lk("place", "share", "north", "Banque alimentaire"); !strings.Contains(out, "shared Banque alimentaire with the linked zones of north (up to 1 link)") {
		t.Errorf("place share: %q", out)
	}
	if out := lk("place", "share", "north", "--all", "--city-wide"); !strings.Contains(out, "up to 8 links") {
		t.Errorf("place share --all: %q", out)
	}
	if out := lk("places", "north"); !strings.Contains(out, "shared with linked zones (up to 8 links)") {
		t.Errorf("places after a share:\n%s", out)
	}
	fails("marked for this zone only", 1, "place", "share", "north", "Clinic")
	fails("PLACE or --all", 2, "place", "share", "north", "Clinic", "--all")
	fails("PLACE", 2, "place", "share", "north")
	fails("--hops must be 1 to 8", 2, "place", "share", "north", "Clinic", "--hops", "9")

	// An entry from a linked zone: where it came from, read-only.
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	if err := f.ReceivePlace("north", api.Place{Kind: "legal", Name: "Their clinic", From: "south", Origin: "west", ConfirmedBy: strings.Repeat("ab", 32), ConfirmedAt: &at}); err != nil {
		t.Fatal(err)
	}
	if out := lk("places", "north", "--kind", "legal"); !strings.Contains(out, "from") || !strings.Contains(out, "south (first shared by west)") {
		t.Errorf("linked entry:\n%s", out)
	}
	fails("read-only here", 1, "place", "update", "north", "Their clinic", "--hours", "never")
	fails("came from linked zone", 1, "place", "share", "north", "Their clinic")

	if err := f.SetRole("north", "verifier"); err != nil {
		t.Fatal(err)
	}
	fails("only organizers share safe places", 1, "place", "share", "north", "Banque alimentaire")
	if err := f.SetRole("north", "organizer"); err != nil {
		t.Fatal(err)
	}

	// A callout from a linked zone names that zone's card.
	for id, card := range map[string]string{"a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1": "witness", "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2": "clinique"} {
		if _, err := f.Receive(api.Alert{ID: id, Zone: "north", Kind: "callout", State: "active", Sent: time.Now().Add(-time.Minute),
			Sender: "c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0", SenderRole: "organizer", Title: "court watch " + card, Where: "County court",
			Card: card, Via: "south", Origin: "south", Responders: &api.Responders{}}); err != nil {
			t.Fatal(err)
		}
	}
	out := lk("alerts", "north")
	for _, want := range []string{"card from south, which may have its own version; read the built-in one: lookout rights witness",
		`south pointed to its own card "clinique", which this zone does not have`} {
		if !strings.Contains(out, want) {
			t.Errorf("alerts lacks %q:\n%s", want, out)
		}
	}

	// Help in French.
	setLang(t, "", "", "fr_CA.UTF-8")
	if out, _, _ := lkRaw(t, "place", "share", "-h"); !strings.Contains(out, "combien de liens le lieu peut traverser") || !strings.Contains(out, "tous les lieux confirmés") {
		t.Errorf("place share -h in French:\n%s", out)
	}
}
