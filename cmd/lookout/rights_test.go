package main

import (
	"strings"
	"testing"

	"lookout/node/control/controltest"
)

// setLang sets the locale environment for one test.
func setLang(t *testing.T, lcAll, lcMessages, lang string) {
	t.Setenv("LC_ALL", lcAll)
	t.Setenv("LC_MESSAGES", lcMessages)
	t.Setenv("LANG", lang)
}

// TestRights: the cards read with no node running, in the language asked
// for or the environment's.
func TestRights(t *testing.T) {
	home := controltest.Home(t) // no node: the cards are offline
	setLang(t, "", "", "en_CA.UTF-8")

	list := lkOK(t, "--home", home, "rights")
	for _, want := range []string{"door", "Officers at the door", "witness", "Witnessing", "accompany", "Accompaniment: what to bring",
		"stopped", "If you are stopped", "not legal advice", "legal clinic", "2026-12-02"} {
		if !strings.Contains(list, want) {
			t.Errorf("lookout rights lacks %q:\n%s", want, list)
		}
	}

	for _, c := range []struct {
		env  [3]string // LC_ALL, LC_MESSAGES, LANG
		args []string
		want []string
	}{
		{[3]string{"", "", "fr_CA.UTF-8"}, []string{"rights"}, []string{"Des agents à la porte", "Être témoin", "pas un avis juridique"}},
		{[3]string{"", "es_MX.UTF-8", "fr_CA.UTF-8"}, []string{"rights"}, []string{"Agentes en la puerta", "Ser testigo"}},
		{[3]string{"fr_FR.UTF-8", "es_MX.UTF-8", "en_CA.UTF-8"}, []string{"rights"}, []string{"Accompagnement : quoi apporter"}},
		{[3]string{"C", "", "fr_CA.UTF-8"}, []string{"rights"}, []string{"If you are stopped"}},
		{[3]string{"", "", "de_DE.UTF-8"}, []string{"rights"}, []string{"Officers at the door"}},
		{[3]string{"", "", "fr_CA.UTF-8"}, []string{"rights", "--lang", "es", "door"}, []string{"AGENTES EN LA PUERTA", "  - No abra la puerta.", "no es asesoría legal", "clínica jurídica"}},
		{[3]string{"", "", "en_CA.UTF-8"}, []string{"rights", "stopped", "--lang=fr"}, []string{"SI ON VOUS INTERPELLE", "Restez calme."}},
		{[3]string{"", "", "es_MX.UTF-8"}, []string{"rights", "witness", "--lang", "en"}, []string{"WITNESSING", "Stay at a safe distance.", "not legal advice"}},
	} {
		setLang(t, c.env[0], c.env[1], c.env[2])
		out := lkOK(t, append([]string{"--home", home}, c.args...)...)
		for _, want := range c.want {
			if !strings.Contains(out, want) {
				t.Errorf("%v with %v lacks %q:\n%s", c.args, c.env, want, out)
			}
		}
	}

	setLang(t, "", "", "en_CA.UTF-8")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"rights", "raid"}, "door, witness, accompany, stopped"},
		{[]string{"rights", "door", "witness"}, "unexpected argument"},
		{[]string{"rights", "--lang", "de"}, "must be one of en, fr, es"},
	} {
		args := append([]string{"--home", home}, c.args...)
		out, errs, code := lk(t, args...)
		if code != 2 || out != "" || !strings.Contains(errs, c.want) {
			t.Errorf("lookout %s: exit %d, stdout %q, stderr %q; want exit 2 and %q", strings.Join(args, " "), code, out, errs, c.want)
		}
		checkOneLine(t, args, errs)
	}

	// An unknown topic, in the reader's language.
	setLang(t, "", "", "fr_CA.UTF-8")
	if _, errs, code := lk(t, "--home", home, "rights", "raid"); code != 2 || !strings.Contains(errs, `aucun sujet "raid" ; les sujets sont door, witness`) {
		t.Errorf("lookout rights raid in French: exit %d, stderr %q", code, errs)
	}
	setLang(t, "", "", "en_CA.UTF-8")

	out, _, code := lk(t, "rights", "-h")
	if code != 0 || !strings.Contains(out, "-lang") || !strings.Contains(out, "--zone ZONE") {
		t.Errorf("lookout rights -h: exit %d, stdout %q", code, out)
	}
}

// TestQuickReportCLI: a quick report sent with codes by a French member
// reads in Spanish and English; the free text stays as typed.
func TestQuickReportCLI(t *testing.T) {
	_, home := serveFake(t)
	setLang(t, "", "", "fr_CA.UTF-8")
	lkOK(t, "--home", home, "zone", "create", "villeray")
	lkOK(t, "--home", home, "report", "villeray", "--what-code", "door", "--where", "Jarry et Saint-Denis", "--size", "3",
		"--uniform", "plain", "--vehicles", "1", "--activity", "rue Jarry, 2e étage")

	objs := jsonKeys(t, lkOK(t, "--home", home, "alerts", "villeray", "--json"), "what_code", "uniform_code", "vehicles")
	if len(objs) != 1 || objs[0]["what_code"] != "door" || objs[0]["uniform_code"] != "plain" || objs[0]["vehicles"] != 1.0 || objs[0]["what"] != nil {
		t.Fatalf("alerts --json: %v", objs)
	}
	for lang, want := range map[string]string{
		"fr_CA.UTF-8": "Agents à une porte, 3 agents, en civil, 1 véhicule, rue Jarry, 2e étage",
		"es_MX.UTF-8": "Agentes en una puerta, 3 agentes, vestidos de civil, 1 vehículo, rue Jarry, 2e étage",
		"en_CA.UTF-8": "Officers at a door, 3 officers, plain clothes, 1 vehicle, rue Jarry, 2e étage",
	} {
		setLang(t, "", "", lang)
		if out := lkOK(t, "--home", home, "alerts", "villeray"); !strings.Contains(out, want) {
			t.Errorf("LANG=%s: alerts %q, want %q", lang, out, want)
		}
	}

	// Uniform text that is not a code goes as typed.
	setLang(t, "", "", "en_CA.UTF-8")
	lkOK(t, "--home", home, "report", "villeray", "--what", "two vans", "--where", "Parc Jarry", "--uniform", "vests marked CBSA")
	if out := lkOK(t, "--home", home, "alerts", "villeray"); !strings.Contains(out, "two vans, vests marked CBSA") {
		t.Errorf("free-text report: %q", out)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"report", "villeray", "--where", "x"}, "missing --what (or --what-code)"},
		{[]string{"report", "villeray", "--where", "x", "--what-code", "raid"}, "must be one of door, vehicle, arrest, checkpoint, foot"},
		{[]string{"report", "villeray", "--where", "x", "--what-code", "door", "--vehicles", "-1"}, "--vehicles is negative"},
	} {
		args := append([]string{"--home", home}, c.args...)
		_, errs, code := lk(t, args...)
		if code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("lookout %s: exit %d, stderr %q; want exit 2 and %q", strings.Join(args, " "), code, errs, c.want)
		}
		checkOneLine(t, args, errs)
	}

	// --help lists the codes in the user's language.
	for lang, want := range map[string]string{
		"es_MX.UTF-8": "door (Agentes en una puerta), vehicle (Vehículo de los agentes estacionado), arrest (Arresto en curso), checkpoint (Punto de control), foot (Agentes a pie)",
		"fr_CA.UTF-8": "plain (en civil)",
		"en_CA.UTF-8": "checkpoint (Checkpoint)",
	} {
		setLang(t, "", "", lang)
		out, _, code := lk(t, "report", "--help")
		if code != 0 || !strings.Contains(out, want) || !strings.Contains(out, "-vehicles") {
			t.Errorf("LANG=%s: report --help: exit %d, lacks %q:\n%s", lang, code, want, out)
		}
	}
}
