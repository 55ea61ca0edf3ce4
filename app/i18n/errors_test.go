package i18n

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"

	"lookout/node/api"
)

// TestProblemCatalogue: every message ID the node can emit (api.Messages,
// checked against the node's sources by api.TestProblemIDs) is in the
// catalogue in all three languages, and the English catalogue says exactly
// what the node says.
func TestProblemCatalogue(t *testing.T) {
	cats := map[string]map[string][]string{}
	for _, lang := range []string{"en", "fr", "es"} {
		cats[lang] = catalogue(t, lang)
	}
	ids := []string{"api.format", "api.kind.notfound", "api.kind.forbidden", "api.kind.invalid"}
	for _, id := range slices.Sorted(maps.Keys(api.Messages)) {
		ids = append(ids, "api."+id)
		if en := cats["en"]["api."+id]; len(en) != 1 || en[0] != api.Messages[id] {
			t.Errorf("en: api.%s is %q; the node says %q", id, en, api.Messages[id])
		}
	}
	for lang, cat := range cats {
		for _, id := range ids {
			if _, ok := cat[id]; !ok {
				t.Errorf("%s: %s is missing", lang, id)
			}
		}
	}
}

func TestErrorRendered(t *testing.T) {
	removed := api.Fail(api.ErrForbidden, "organizer.only.callout", "Role", "verifier", "Zone", api.Quote("Parkdale"))
	cases := []struct {
		lang string
		err  error
		want string
	}{
		{"en", removed, `not allowed: only organizers can issue callouts; you are a verifier of zone "Parkdale"`},
		{"fr", removed, `non autorisé : seuls les organisateurs peuvent lancer des appels ; vous êtes vérificateur·rice de la zone "Parkdale"`},
		{"es", removed, `no permitido: solo los organizadores pueden lanzar convocatorias; usted es verificador/a de la zona "Parkdale"`},
		// English context around the Problem is kept.
		{"fr", fmt.Errorf("end link: %w", api.Fail(api.ErrNotFound, "alert.gone", "ID", "ab12")), "end link: introuvable : alerte ab12"},
		// No Problem, or an ID this catalogue lacks (a newer node): English.
		{"fr", errors.New("disk full"), "disk full"},
		{"es", api.Fail(api.ErrInvalid, "from.a.newer.node"), "invalid request: from.a.newer.node"},
		{"es", nil, ""},
	}
	for _, c := range cases {
		if got := New(c.lang).Error(c.err); got != c.want {
			t.Errorf("%s: Error(%v) = %q, want %q", c.lang, c.err, got, c.want)
		}
	}
}
