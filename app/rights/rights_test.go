package rights

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"lookout/node/api"
	"lookout/protocol"
)

// Every built-in set has the same topics, in the same order, every part
// filled in, the notice, the date and the legal-clinic line.
func TestBuiltinSets(t *testing.T) {
	want := Topics
	for _, l := range Languages {
		s := Builtin(l)
		if s == nil || s.Lang != l {
			t.Fatalf("Builtin(%q) = %+v", l, s)
		}
		var ids []string
		for _, c := range s.Cards {
			ids = append(ids, c.ID)
			if strings.TrimSpace(c.Title) == "" || strings.TrimSpace(c.Intro) == "" || len(c.Points) == 0 {
				t.Errorf("%s/%s: empty part", l, c.ID)
			}
			for i, p := range c.Points {
				if strings.TrimSpace(p) == "" {
					t.Errorf("%s/%s: point %d empty", l, c.ID, i+1)
				}
			}
		}
		if !slices.Equal(ids, want) {
			t.Errorf("%s topics %v, want %v", l, ids, want)
		}
		if d, err := time.Parse(WrittenLayout, s.Written); err != nil || d.Year() < 2026 {
			t.Errorf("%s: written %q", l, s.Written)
		}
		if s.Notice == "" || s.Check == "" {
			t.Errorf("%s: notice or legal-clinic line missing", l)
		}
	}
	// The same number of points per card in every language: a translation
	// that drops a step is caught.
	en := Builtin("en")
	for _, l := range Languages[1:] {
		s := Builtin(l)
		for i, c := range s.Cards {
			if len(c.Points) != len(en.Cards[i].Points) {
				t.Errorf("%s/%s has %d points, en has %d", l, c.ID, len(c.Points), len(en.Cards[i].Points))
			}
		}
		if s.Written != en.Written {
			t.Errorf("%s written %s, en %s: translations are of one text", l, s.Written, en.Written)
		}
	}
}

// The notice says what the cards are in each language.
func TestNoticeWording(t *testing.T) {
	for l, want := range map[string][]string{
		"en": {"not legal advice", "legal clinic"},
		"fr": {"pas un avis juridique", "clinique juridique"},
		"es": {"no es asesoría legal", "clínica jurídica"},
	} {
		s := Builtin(l)
		text := strings.ToLower(s.Notice + " " + s.Check)
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Errorf("%s: notice and check line lack %q", l, w)
			}
		}
	}
}

func TestBuiltinFallbackAndLang(t *testing.T) {
	for in, want := range map[string]string{"fr_CA.UTF-8": "fr", "es": "es", "EN": "en", "de_DE": "en", "": "en", "C": "en"} {
		if got := Builtin(in).Lang; got != want {
			t.Errorf("Builtin(%q).Lang = %s, want %s", in, got, want)
		}
	}
}

func TestCardLookup(t *testing.T) {
	s := Builtin("es")
	c, err := s.Card(" Door ")
	if err != nil || c.Title != "Agentes en la puerta" {
		t.Errorf("Card(door) = %+v, %v", c, err)
	}
	if _, err := s.Card("raid"); err == nil || !strings.Contains(err.Error(), "door, witness, accompany, stopped") {
		t.Errorf("Card(raid) = %v, want the list of topics", err)
	}
	for _, code := range []string{"door", "vehicle", "arrest", "checkpoint", "foot"} {
		if _, err := s.Card(ForWhatCode(code)); err != nil {
			t.Errorf("what code %s: %v", code, err)
		}
	}
	if ForWhatCode("") != "" {
		t.Errorf("no card for no code")
	}
}

func TestParseRejects(t *testing.T) {
	ok := `{"lang":"fr","language":"Français","title":"Connaître ses droits","written":"2026-12-02","notice":"n","check":"c","cards":[{"id":"door","title":"t","intro":"i","points":["p"]}]}`
	if _, err := Parse([]byte(ok)); err != nil {
		t.Fatalf("Parse(valid): %v", err)
	}
	for name, c := range map[string]struct{ in, want string }{
		"not JSON":         {"door", "card set"},
		"unknown field":    {strings.Replace(ok, `"lang"`, `"legal":1,"lang"`, 1), "unknown field"},
		"trailing data":    {ok + "{}", "after the set"},
		"language":         {strings.Replace(ok, `"lang":"fr"`, `"lang":"de"`, 1), "language"},
		"date":             {strings.Replace(ok, "2026-12-02", "yesterday", 1), "written"},
		"no notice":        {strings.Replace(ok, `"notice":"n"`, `"notice":" "`, 1), "notice is empty"},
		"no cards":         {strings.Replace(ok, `[{"id":"door","title":"t","intro":"i","points":["p"]}]`, `[]`, 1), "0 cards"},
		"bad id":           {strings.Replace(ok, `"id":"door"`, `"id":"Door St"`, 1), "id"},
		"empty title":      {strings.Replace(ok, `"title":"t"`, `"title":""`, 1), "title is empty"},
		"no points":        {strings.Replace(ok, `"points":["p"]`, `"points":[]`, 1), "0 points"},
		"empty point":      {strings.Replace(ok, `"points":["p"]`, `"points":["p",""]`, 1), "point 2 is empty"},
		"escape in intro":  {strings.Replace(ok, `"intro":"i"`, `"intro":"\u001b[2J"`, 1), "control"},
		"duplicate card":   {strings.Replace(ok, `]}]}`, `]},{"id":"door","title":"t","intro":"i","points":["p"]}]}`, 1), "twice"},
		"too long a point": {strings.Replace(ok, `"points":["p"]`, `"points":["`+strings.Repeat("x", MaxPointLen+1)+`"]`, 1), "at most"},
	} {
		if _, err := Parse([]byte(c.in)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Parse = %v, want an error with %q", name, err, c.want)
		}
	}
}

func TestWriteCard(t *testing.T) {
	s := Builtin("fr")
	c, _ := s.Card(TopicStopped)
	var b strings.Builder
	if err := s.WriteCard(&b, c, 60); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"SI ON VOUS INTERPELLE", "  - Restez calme.", "pas un avis juridique", "(2026-12-02)", "clinique juridique"} {
		if !strings.Contains(out, want) {
			t.Errorf("card text lacks %q:\n%s", want, out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if n := utf8.RuneCountInString(line); n > 60 {
			t.Errorf("line of %d columns: %q", n, line)
		}
	}
	// Every word of every point is there, in order.
	flat := strings.Join(strings.Fields(out), " ")
	for _, p := range c.Points {
		if !strings.Contains(flat, strings.Join(strings.Fields(p), " ")) {
			t.Errorf("point missing or broken: %q", p)
		}
	}
}

// The package stays free of user-interface code, so the headless CLI can
// use it without cgo.
func TestNoFyne(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	if strings.Contains(string(out), "fyne.io") {
		t.Errorf("app/rights depends on Fyne")
	}
}

// FuzzParse: a card set from elsewhere (a zone's cards, later) never
// panics the parser, and whatever parses passes its checks again.
func FuzzParse(f *testing.F) {
	for _, l := range Languages {
		b, err := cardFS.ReadFile("cards/" + l + ".json")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	f.Add([]byte(`{"lang":"es","cards":[{"id":"x"}]}`))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Parse(b)
		if err != nil {
			if s != nil {
				t.Fatalf("set with an error")
			}
			return
		}
		if err := s.check(); err != nil {
			t.Fatalf("parsed set fails its checks: %v", err)
		}
		var out strings.Builder
		for _, c := range s.Cards {
			if err := s.WriteCard(&out, c, 40); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// TestCardLangs: the languages a zone's cards may be in are Lookout's.
func TestCardLangs(t *testing.T) {
	if !slices.Equal(Languages, protocol.CardLangs) {
		t.Errorf("protocol.CardLangs %v, want %v", protocol.CardLangs, Languages)
	}
}

// TestForZone: a zone's cards add to or replace the built-in ones; a
// withdrawal or none is the built-in set.
func TestForZone(t *testing.T) {
	set := `{"lang":"fr","language":"Français","title":"Nos droits","written":"2026-12-02","notice":"n","check":"c",` +
		`"cards":[{"id":"door","title":"Porte (zone)","intro":"i","points":["p"]},{"id":"clinique","title":"Clinique","intro":"i","points":["p"]}]}`
	ids := func(s *Set) []string {
		var out []string
		for _, c := range s.Cards {
			out = append(out, c.ID+"="+c.Title)
		}
		return out
	}
	add, zoned := ForZone(api.ZoneCards{Lang: "fr", Revision: 1, Mode: "add", Set: []byte(set)}, "fr")
	if want := []string{"door=Porte (zone)", "witness=" + Builtin("fr").Cards[1].Title, "accompany=" + Builtin("fr").Cards[2].Title,
		"stopped=" + Builtin("fr").Cards[3].Title, "clinique=Clinique"}; !zoned || !slices.Equal(ids(add), want) || add.Title != "Nos droits" {
		t.Errorf("add: %v %v", zoned, ids(add))
	}
	repl, _ := ForZone(api.ZoneCards{Lang: "fr", Revision: 2, Mode: "replace", Set: []byte(set)}, "fr")
	if got := ids(repl); len(got) != 2 {
		t.Errorf("replace: %v", got)
	}
	for _, zc := range []api.ZoneCards{{Lang: "fr"}, {Lang: "fr", Revision: 3, Mode: "withdraw"}, {Lang: "fr", Revision: 1, Mode: "add", Set: []byte(`{"lang":"fr"}`)}} {
		if s, zoned := ForZone(zc, "fr"); zoned || s != Builtin("fr") {
			t.Errorf("%+v: not the built-in cards", zc)
		}
	}
	if add == Builtin("fr") || len(Builtin("fr").Cards) != 4 {
		t.Errorf("ForZone changed the built-in set")
	}
}
