package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestNodeErrorsTranslated: errors a real node answers with (unknown zone,
// member or alert, ambiguous name, a member doing an organizer's work, a
// used invite, the rate limit, removal) reach a French or Spanish user in
// their language, on one line, and in English under the C locale.
func TestNodeErrorsTranslated(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: this test builds lookout and runs two node processes")
	}
	bin := lookoutBinary(t)
	e := &e2e{t: t, bin: bin}
	langs := map[string]*e2e{
		"en": e,
		"fr": {t: t, bin: bin, env: []string{"LC_ALL=fr_CA.UTF-8"}},
		"es": {t: t, bin: bin, env: []string{"LC_ALL=", "LC_MESSAGES=", "LANG=es_MX.UTF-8"}},
	}
	root, err := os.MkdirTemp("", "lklang")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	homeA, homeB := filepath.Join(root, "a"), filepath.Join(root, "b")
	for _, h := range []string{homeA, homeB} {
		e.ok(h, "init", "--name", filepath.Base(h))
		p := e.start("node "+filepath.Base(h), h, "node", "--listen", "/ip4/127.0.0.1/tcp/0")
		p.waitLine(t, 30*time.Second, "listen address", func(l string) bool { return strings.Contains(l, "/p2p/") })
	}
	e.ok(homeA, "zone", "create", "nord")
	e.ok(homeA, "zone", "create", "Sud")
	e.ok(homeA, "zone", "create", "SUD")
	invite := e.ok(homeA, "zone", "invite", "nord")
	e.ok(homeB, "zone", "join", invite)
	eventually(t, 30*time.Second, "A to list B", func() bool { _, ok := e.members(homeA, "nord")["b"]; return ok })

	type want struct{ en, fr, es string }
	check := func(w want, home string, args ...string) {
		t.Helper()
		for lang, text := range map[string]string{"en": w.en, "fr": w.fr, "es": w.es} {
			langs[lang].fails(text, home, args...)
		}
	}
	check(want{`not found: no zone "nowhere"; see lookout zone list`,
		`introuvable : aucune zone "nowhere" ; voyez lookout zone list`,
		`no encontrado: no hay ninguna zona "nowhere"; vea lookout zone list`}, homeB, "alerts", "nowhere")
	check(want{`invalid request: "sud" matches 2 zones`,
		`requête invalide : "sud" correspond à 2 zones`,
		`solicitud no válida: "sud" coincide con 2 zonas`}, homeA, "alerts", "sud")
	check(want{`not found: no member "nobody"; see lookout zone members nord`,
		`introuvable : aucun membre "nobody" ; voyez lookout zone members nord`,
		`no encontrado: no hay ningún miembro "nobody"; vea lookout zone members nord`}, homeA, "zone", "promote", "nord", "nobody", "--role", "verifier")
	check(want{`not found: no alert "deadbeef00" in any of your zones`,
		`introuvable : aucune alerte "deadbeef00" dans vos zones`,
		`no encontrado: no hay ninguna alerta "deadbeef00" en sus zonas`}, homeA, "confirm", "deadbeef00")
	check(want{`not allowed: only organizers can issue callouts; you are a member of zone "nord"`,
		`non autorisé : seuls les organisateurs peuvent lancer des appels ; vous êtes membre de la zone "nord"`,
		`no permitido: solo los organizadores pueden lanzar convocatorias; usted es miembro de la zona "nord"`}, homeB, "callout", "nord", "--title", "t", "--where", "w")
	check(want{`only organizers can promote members; you are a member`,
		`seuls les organisateurs peuvent promouvoir des membres ; vous êtes membre`,
		`solo los organizadores pueden promover miembros; usted es miembro`}, homeB, "zone", "promote", "nord", "a", "--role", "verifier")
	// B redeemed this invite: asked again, A's node answers again (a lost
	// answer), and B's node finds it is already a member.
	check(want{`you are already a member of zone "nord"`,
		`vous êtes déjà membre de la zone "nord"`,
		`usted ya es miembro de la zona "nord"`}, homeB, "zone", "join", invite)

	e.ok(homeA, "zone", "settings", "nord", "--max-reports", "1")
	e.ok(homeA, "report", "nord", "--what", "van", "--where", "parc")
	check(want{`not allowed: this zone allows 1 reports per member per`,
		`non autorisé : cette zone permet 1 signalements par membre par`,
		`no permitido: esta zona permite 1 reportes por miembro cada`}, homeA, "report", "nord", "--what", "van", "--where", "parc")

	e.ok(homeA, "zone", "remove", "nord", "b")
	eventually(t, 30*time.Second, "B to learn it was removed", func() bool { return e.zone(homeB, "nord").Removed })
	check(want{`not allowed: you were removed from zone "nord"`,
		`non autorisé : vous avez été retiré·e de la zone "nord"`,
		`no permitido: usted fue retirado/a de la zona "nord"`}, homeB, "report", "nord", "--what", "van", "--where", "parc")
}
