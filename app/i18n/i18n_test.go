package i18n

import (
	"encoding/json"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// catalogue reads one language's file as id → the set of its texts (one,
// or each plural form).
func catalogue(t *testing.T, lang string) map[string][]string {
	t.Helper()
	data, err := Files.ReadFile(path.Join(Dir, lang+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatalf("%s.json: %v", lang, err)
	}
	out := map[string][]string{}
	for id, v := range raw {
		switch v := v.(type) {
		case string:
			out[id] = []string{v}
		case map[string]any:
			for _, form := range slices.Sorted(maps.Keys(v)) {
				s, ok := v[form].(string)
				if !ok || (form != "one" && form != "other" && form != "many") {
					t.Errorf("%s.json: %s: plural form %q", lang, id, form)
				}
				out[id] = append(out[id], s)
			}
		default:
			t.Errorf("%s.json: %s is neither text nor plural forms", lang, id)
		}
	}
	return out
}

var fieldRE = regexp.MustCompile(`{{\s*\.(\w+)\s*}}`)

// fields returns the template fields a message uses, sorted, distinct.
func fields(texts []string) []string {
	var fs []string
	for _, s := range texts {
		for _, m := range fieldRE.FindAllStringSubmatch(s, -1) {
			fs = append(fs, m[1])
		}
	}
	slices.Sort(fs)
	return slices.Compact(fs)
}

// TestCatalogueComplete: every message exists in English, French and
// Spanish, with the same template fields.
func TestCatalogueComplete(t *testing.T) {
	en := catalogue(t, "en")
	if len(en) == 0 {
		t.Fatal("empty English catalogue")
	}
	for _, lang := range []string{"fr", "es"} {
		other := catalogue(t, lang)
		for id, texts := range en {
			tr, ok := other[id]
			if !ok {
				t.Errorf("%s: %s is missing", lang, id)
				continue
			}
			if a, b := fields(texts), fields(tr); !slices.Equal(a, b) {
				t.Errorf("%s: %s uses fields %v, English %v", lang, id, b, a)
			}
		}
		for id := range other {
			if _, ok := en[id]; !ok {
				t.Errorf("%s: %s is not in the English catalogue", lang, id)
			}
		}
	}
}

// TestCatalogueRenders: every message renders in every language with its
// fields filled (a broken template would show the message ID), and none
// is empty.
func TestCatalogueRenders(t *testing.T) {
	for _, lang := range []string{"en", "fr", "es"} {
		l := New(lang)
		for id, texts := range catalogue(t, lang) {
			var args []any
			for _, f := range fields(texts) {
				if f != "Count" {
					args = append(args, f, "x")
				}
			}
			for _, n := range []int{1, 2} {
				got := l.T(id, args...)
				if len(texts) > 1 {
					got = l.N(id, n, args...)
				}
				if got == id || strings.TrimSpace(got) == "" || strings.Contains(got, "{{") || strings.Contains(got, "<no value>") {
					t.Errorf("%s: %s renders as %q", lang, id, got)
				}
			}
		}
	}
}

func TestFromEnv(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{}, "en"},
		{map[string]string{"LANG": "fr_CA.UTF-8"}, "fr"},
		{map[string]string{"LANG": "es_MX.UTF-8"}, "es"},
		{map[string]string{"LANG": "fr_CA.UTF-8", "LC_MESSAGES": "es_MX.UTF-8"}, "es"},
		{map[string]string{"LANG": "es_MX.UTF-8", "LC_ALL": "fr_FR@euro"}, "fr"},
		{map[string]string{"LANG": "C"}, "en"},
		{map[string]string{"LC_ALL": "POSIX", "LANG": "fr_CA.UTF-8"}, "en"},
		{map[string]string{"LANG": "de_DE.UTF-8"}, "en"},
		{map[string]string{"LANG": "garbage!!"}, "en"},
	} {
		got := FromEnv(func(k string) string { return c.env[k] }).Tag().String()
		if got != c.want {
			t.Errorf("FromEnv(%v) = %s, want %s", c.env, got, c.want)
		}
	}
}

func TestRender(t *testing.T) {
	fr := New("fr_CA.UTF-8")
	if got := fr.N("cli.alert.witnesses", 1); got != "1 témoin" {
		t.Errorf("N(witnesses, 1) = %q", got)
	}
	if got := fr.N("cli.alert.witnesses", 3); got != "3 témoins" {
		t.Errorf("N(witnesses, 3) = %q", got)
	}
	if got := New("es").T("cli.alerts.none", "Zone", "norte"); got != "no hay alertas activas en norte" {
		t.Errorf("T = %q", got)
	}
	if got := New("en").T("no.such.message"); got != "no.such.message" {
		t.Errorf("unknown id = %q, want the id", got)
	}
}
