package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"lookout/app/i18n"
	"lookout/node/control/controltest"
	"lookout/node/store"
)

// TestCatalogueIDsUsed: every message the CLI asks for is in the catalogue
// (which TestCatalogueComplete checks in all three languages).
func TestCatalogueIDsUsed(t *testing.T) {
	en := i18n.New("en")
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	idRE := regexp.MustCompile(`"(cli\.[a-z0-9.\-]*[a-z0-9])"`)
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range idRE.FindAllStringSubmatch(string(src), -1) {
			n++
			if en.T(m[1]) == m[1] {
				t.Errorf("%s: message %s is not in the catalogue", f, m[1])
			}
		}
	}
	// Built at run time: states, kinds, clear reasons, the summary of
	// every command the catalogue knows.
	for _, id := range []string{"cli.state.active", "cli.state.verified", "cli.state.corroborated", "cli.state.unconfirmed",
		"cli.state.awaiting-cosign", "cli.state.cleared", "cli.state.expired", "cli.kind.sighting", "cli.kind.callout",
		"cli.alert.allclear", "cli.alert.retracted", "cli.cmd.report", "cli.cmd.verify", "cli.cmd.zone.members",
		"cli.role.member", "cli.role.verifier", "cli.role.organizer", "cli.promote.done.verifier", "cli.promote.done.organizer",
		"cli.promote.done.member", "cli.doctor.mark.ok", "cli.doctor.mark.warn", "cli.doctor.mark.fail", "cli.doctor.mark.unknown",
		"cli.status.reachable.yes", "cli.status.reachable.no", "cli.status.reachable.unknown",
		"cli.service.key.kept", "cli.service.key.created"} {
		if en.T(id) == id {
			t.Errorf("message %s is not in the catalogue", id)
		}
	}
	for _, name := range []string{"running", "store", "peers", "reachable", "clock", "disk", "zones", "versions"} {
		if id := "cli.doctor.name." + name; en.T(id) == id {
			t.Errorf("message %s is not in the catalogue", id)
		}
	}
	for _, what := range []string{"passphrase", "new", "duress"} {
		for _, k := range []string{"choose", "generated", "nottext", "short", "weak"} {
			if id := "cli.secret." + k + "." + what; en.T(id) == id {
				t.Errorf("message %s is not in the catalogue", id)
			}
		}
	}
	if n < 40 {
		t.Errorf("found %d message IDs in the source; the pattern is broken", n)
	}
}

// TestLanguages: help, output and errors follow LC_ALL / LC_MESSAGES /
// LANG; --json keys and values stay English.
func TestLanguages(t *testing.T) {
	_, home := serveFake(t)
	lkOK(t, "--home", home, "zone", "create", "nord")
	for _, c := range []struct {
		env                 map[string]string
		help, none, unknown string
		reportHelp, witness string
	}{
		{map[string]string{"LC_ALL": "", "LC_MESSAGES": "", "LANG": "fr_CA.UTF-8"}, "usage : lookout", "aucune alerte active dans vide",
			"commande inconnue", "ce que vous voyez", "(1 témoin)"},
		{map[string]string{"LC_ALL": "", "LC_MESSAGES": "es_MX.UTF-8", "LANG": "fr_CA.UTF-8"}, "uso: lookout", "no hay alertas activas en vide",
			"comando desconocido", "lo que ve", "(1 testigo)"},
		{map[string]string{"LC_ALL": "C", "LANG": "es_MX.UTF-8"}, "usage: lookout", "no active alerts in vide",
			"unknown command", "what you see", "(1 witness)"},
	} {
		empty := "vide" + c.witness[3:6]
		lkOK(t, "--home", home, "zone", "create", empty)
		for k, v := range c.env {
			t.Setenv(k, v)
		}
		if out := lkOK(t, "--help"); !strings.Contains(out, c.help) {
			t.Errorf("%v: help = %q, want %q", c.env, out[:min(len(out), 80)], c.help)
		}
		if out := lkOK(t, "report", "-h"); !strings.Contains(out, c.reportHelp) {
			t.Errorf("%v: report -h = %q, want %q", c.env, out, c.reportHelp)
		}
		if out := lkOK(t, "--home", home, "alerts", empty); !strings.Contains(out, c.none+empty[4:]) {
			t.Errorf("%v: alerts = %q, want %q", c.env, out, c.none)
		}
		if _, errs, code := lk(t, "frobnicate"); code != 2 || !strings.Contains(errs, c.unknown) {
			t.Errorf("%v: unknown command: exit %d, stderr %q, want %q", c.env, code, errs, c.unknown)
		}
		id := strings.TrimSpace(lkOK(t, "--home", home, "report", "nord", "--what", "van", "--where", "parc "+c.witness))
		if out := lkOK(t, "--home", home, "alerts", "nord"); !strings.Contains(out, id) || !strings.Contains(out, c.witness) {
			t.Errorf("%v: alerts = %q, want %q", c.env, out, c.witness)
		}
		objs := jsonKeys(t, lkOK(t, "--home", home, "alerts", "nord", "--json"), "id", "state", "what", "where", "confirmations")
		for _, o := range objs {
			if o["state"] != "unconfirmed" || o["kind"] != "sighting" {
				t.Errorf("%v: --json = %v, want English values", c.env, o)
			}
		}
	}
}

// TestWipeAcceptsOui: the wipe prompt takes yes in the user's language.
func TestWipeAcceptsOui(t *testing.T) {
	for lang, yes := range map[string]string{"fr_CA.UTF-8": "oui", "es_MX.UTF-8": "sí", "es_ES.UTF-8": "si", "C": "yes"} {
		c := &scripted{interactive: true}
		useConsole(t, c)
		t.Setenv("LC_ALL", lang)
		home := filepath.Join(controltest.Home(t), "home")
		t.Setenv(envPassphrase, "the first passphrase")
		lkOK(t, "--home", home, "init")
		c.answers = []string{"non"}
		if _, _, code := lk(t, "--home", home, "wipe"); code != 1 || !store.Exists(home) {
			t.Errorf("%s: wipe answered non: exit %d, store kept %v", lang, code, store.Exists(home))
		}
		c.answers = []string{yes}
		lkOK(t, "--home", home, "wipe")
		if store.Exists(home) {
			t.Errorf("%s: wipe answered %q left the store", lang, yes)
		}
		if want := map[string]string{"fr_CA.UTF-8": "Tapez oui", "C": "Type yes"}[lang]; want != "" && !strings.Contains(c.prompts[len(c.prompts)-1], want) {
			t.Errorf("%s: prompt %q, want %q", lang, c.prompts[len(c.prompts)-1], want)
		}
	}
}

// TestHelpTranslated: `--help` of lookout and of every command under
// LANG=fr_CA.UTF-8 or es_MX.UTF-8
// has no line left as in English but command lines and flag names: every
// flag's help and every summary are translated.
func TestHelpTranslated(t *testing.T) {
	help := func(lang string, c *command) []string {
		t.Setenv("LC_ALL", "")
		t.Setenv("LC_MESSAGES", "")
		t.Setenv("LANG", lang)
		args := []string{"--help"}
		if c != nil {
			args = append(strings.Fields(c.name), "--help")
		}
		out, errs, code := lk(t, args...)
		if code != 0 || errs != "" || out == "" {
			t.Fatalf("%s: lookout %s: exit %d, stderr %q", lang, strings.Join(args, " "), code, errs)
		}
		return strings.Split(strings.TrimRight(out, "\n"), "\n")
	}
	// Lines that are the same in every language: a flag's name and
	// argument ("  -json", "  -ttl DURATION" also match once translated)
	// and blank lines.
	flagLine := regexp.MustCompile(`^  -[a-z-]+( \S+)?$`)
	name := func(c *command) string {
		if c == nil {
			return "lookout"
		}
		return c.name
	}
	// The top level's command lines ("  report ZONE --what TEXT ...") are
	// syntax, the same in every language.
	syntax := map[string]bool{}
	for _, c := range commands {
		syntax["  "+c.name+" "+c.args] = true
	}
	for _, c := range append([]*command{nil}, commands...) {
		en := help("C", c)
		if len(en) < 3 {
			t.Errorf("%s --help: %q is too short", name(c), en)
		}
		english := map[string]bool{}
		for _, l := range en {
			english[l] = true
		}
		for _, lang := range []string{"fr_CA.UTF-8", "es_MX.UTF-8"} {
			tr := help(lang, c)
			if len(tr) != len(en) {
				t.Errorf("%s: %s --help has %d lines, English %d", lang, name(c), len(tr), len(en))
			}
			for _, l := range tr {
				if strings.TrimSpace(l) == "" || flagLine.MatchString(l) || (c == nil && syntax[l]) {
					continue
				}
				if english[l] {
					t.Errorf("%s: %s --help: line left in English: %q", lang, name(c), l)
				}
			}
		}
	}
}

// TestOutputTranslated: tables, confirmations and the command line's own
// errors follow the locale; doctor --json's text stays English.
func TestOutputTranslated(t *testing.T) {
	_, home := serveFake(t)
	lkOK(t, "--home", home, "zone", "create", "nord")
	t.Setenv("LC_ALL", "fr_CA.UTF-8")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"status"}, "ID de membre"},
		{[]string{"zone", "list"}, "NOM"},
		{[]string{"zone", "members", "nord"}, "RÔLE"},
		{[]string{"zone", "settings", "nord"}, "fenêtre"},
		{[]string{"zone", "settings", "nord"}, "par membre par 10 minutes"},
		{[]string{"zone", "links", "nord"}, "n'a aucun lien"},
		{[]string{"version"}, "protocole réseau"},
	} {
		if out := lkOK(t, append([]string{"--home", home}, c.args...)...); !strings.Contains(out, c.want) {
			t.Errorf("lookout %s: %q, want %q", strings.Join(c.args, " "), out, c.want)
		}
	}
	out, _, _ := lk(t, "--home", home, "doctor")
	if !strings.Contains(out, "le nœud tourne") || strings.Contains(out, "the node runs") {
		t.Errorf("doctor in French: %q", out)
	}
	out, _, _ = lk(t, "--home", home, "doctor", "--json")
	if !strings.Contains(out, `"text":"the node runs`) || strings.Contains(out, "nœud") {
		t.Errorf("doctor --json is not English: %q", out)
	}
	t.Setenv("LC_ALL", "es_MX.UTF-8")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"report", "nord", "--where", "x"}, "falta --what (o --what-code)"},
		{[]string{"callout", "nord", "--title", "t"}, "falta --where"},
		{[]string{"zone"}, "zone necesita un subcomando"},
		{[]string{"share", "abc", "--hops", "9"}, "--hops debe ser de 1 a 8"},
	} {
		_, errs, code := lk(t, append([]string{"--home", home}, c.args...)...)
		if code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("lookout %s: exit %d, stderr %q, want %q", strings.Join(c.args, " "), code, errs, c.want)
		}
	}
}

// TestFlagErrorsTranslated: the flag package's parse errors (unknown flag,
// missing or bad value, bad syntax) are said in the user's language, and
// exactly as the flag package says them in English.
func TestFlagErrorsTranslated(t *testing.T) {
	for _, c := range []struct {
		args       []string
		en, fr, es string
	}{
		{[]string{"--bogus"}, "flag provided but not defined: -bogus", "option inconnue : -bogus", "opción no definida: -bogus"},
		{[]string{"report", "nord", "--bogus"}, "flag provided but not defined: -bogus", "option inconnue : -bogus", "opción no definida: -bogus"},
		{[]string{"zone", "--bogus"}, "flag provided but not defined: -bogus", "option inconnue : -bogus", "opción no definida: -bogus"},
		{[]string{"report", "nord", "--where", "x", "--size"}, "flag needs an argument: -size", "l'option -size demande une valeur", "la opción -size necesita un valor"},
		{[]string{"report", "nord", "--where", "x", "--size", "ten"}, `invalid value "ten" for flag -size: parse error`,
			`valeur "ten" invalide pour l'option -size : illisible`, `valor "ten" no válido para la opción -size: no se puede leer`},
		{[]string{"report", "nord", "--where", "x", "--size", "99999999999999999999"}, `invalid value "99999999999999999999" for flag -size: value out of range`,
			`pour l'option -size : hors limites`, `para la opción -size: fuera de rango`},
		{[]string{"zone", "invite", "nord", "--ttl", "soon"}, `invalid value "soon" for flag -ttl: want a duration like 90m, 24h or 7d`,
			`valeur "soon" invalide pour l'option -ttl : il faut une durée comme 90m, 24h ou 7d`, `valor "soon" no válido para la opción -ttl: hace falta una duración como 90m, 24h o 7d`},
		{[]string{"zone", "invite", "nord", "--ttl", "0s"}, `invalid value "0s" for flag -ttl: must be positive`, `: doit être positive`, `: debe ser positiva`},
		{[]string{"respond", "deadbeef", "--status", "maybe"}, `invalid value "maybe" for flag -status: must be one of enroute, onscene, cannot`,
			`valeur "maybe" invalide pour l'option -status : doit être parmi enroute, onscene, cannot`, `valor "maybe" no válido para la opción -status: debe ser uno de enroute, onscene, cannot`},
		{[]string{"report", "nord", "--exercise=maybe"}, `invalid boolean value "maybe" for -exercise: parse error`,
			`valeur booléenne "maybe" invalide pour -exercise : illisible`, `valor booleano "maybe" no válido para -exercise: no se puede leer`},
		{[]string{"---x"}, "bad flag syntax: ---x", "option mal écrite : ---x", "opción mal escrita: ---x"},
	} {
		for lang, want := range map[string]string{"C": c.en, "fr_CA.UTF-8": c.fr, "es_MX.UTF-8": c.es} {
			t.Setenv("LC_ALL", lang)
			_, errs, code := lk(t, c.args...)
			if code != 2 || !strings.Contains(errs, want) {
				t.Errorf("%s: lookout %s: exit %d, stderr %q; want exit 2 and %q", lang, strings.Join(c.args, " "), code, errs, want)
			}
			checkOneLine(t, c.args, errs)
			if lang != "C" && strings.Contains(errs, "flag") {
				t.Errorf("%s: lookout %s: stderr %q is still English", lang, strings.Join(c.args, " "), errs)
			}
		}
	}
}
