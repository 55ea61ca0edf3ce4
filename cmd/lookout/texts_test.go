package main

import (
	"path/filepath"
	"strings"
	"testing"

	"lookout/node"
	"lookout/node/control/controltest"
)

// TestTextLimits: limits are counted in characters, and an error names
// the flag as the user typed it.
func TestTextLimits(t *testing.T) {
	_, home := serveFake(t)
	lkOK(t, "--home", home, "zone", "create", "north")
	french := strings.Repeat("é", 200) // 400 bytes, 200 characters: fits 280
	lkOK(t, "--home", home, "report", "north", "--what", french, "--where", strings.Repeat("à", 200))
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"report", "north", "--what", strings.Repeat("é", 281), "--where", "x"}, "--what has 281 characters, at most 280"},
		{[]string{"report", "north", "--what", "x", "--where", strings.Repeat("a", 201)}, "--where has 201 characters, at most 200"},
		{[]string{"report", "north", "--what", "x", "--where", "\u202eevil"}, "--where contains control characters"},
		{[]string{"report", "north", "--what", "x", "--where", "y", "--size", "-1"}, "--size must be between 0 and 10000"},
		{[]string{"callout", "north", "--title", "t", "--where", "w", "--need", "5000"}, "--need must be between 0 and 500"},
		{[]string{"callout", "north", "--title", "t", "--where", "w", "--rights", strings.Repeat("r", 1001)}, "--rights has 1001 characters, at most 1000"},
		{[]string{"zone", "invite", "north", "--ttl", "31d"}, "--ttl is at most 30d"},
		{[]string{"zone", "link", "north", "--ttl", "8d"}, "--ttl is at most 7d"},
	} {
		args := append([]string{"--home", home}, c.args...)
		_, errs, code := lk(t, args...)
		if code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("lookout %s: exit %d, stderr %q; want exit 2 mentioning %q", strings.Join(c.args, " ")[:min(60, len(strings.Join(c.args, " ")))], code, errs, c.want)
		}
		checkOneLine(t, args, errs)
	}
	if out := lkOK(t, "zone", "invite", "-h"); !strings.Contains(out, "at most 30d") {
		t.Errorf("zone invite -h does not say the --ttl maximum:\n%s", out)
	}
	if out := lkOK(t, "callout", "-h"); !strings.Contains(out, "at most 500") {
		t.Errorf("callout -h does not say the --need maximum:\n%s", out)
	}
}

// TestTextFromStdin: --what - and --where - read the text from standard
// input, so it is in neither argv nor the shell's history; in a terminal
// they prompt.
func TestTextFromStdin(t *testing.T) {
	f, home := serveFake(t)
	lkOK(t, "--home", home, "zone", "create", "north")
	old := stdin
	t.Cleanup(func() { stdin = old })
	stdin = strings.NewReader("2 agents at the door\nJarry & Saint-Denis\n")
	lkOK(t, "--home", home, "report", "north", "--what", "-", "--where", "-")

	c := &scripted{interactive: true, answers: []string{"a van", "the park"}}
	useConsole(t, c)
	lkOK(t, "--home", home, "report", "north", "--what", "-", "--where", "-")
	if len(c.prompts) != 2 || !strings.Contains(c.prompts[0], "--what") || !strings.Contains(c.prompts[1], "--where") {
		t.Errorf("prompts %q, want one for --what, one for --where", c.prompts)
	}
	as, err := f.Alerts("north")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, a := range as {
		got[a.What] = a.Where
	}
	if got["2 agents at the door"] != "Jarry & Saint-Denis" || got["a van"] != "the park" {
		t.Errorf("alerts %v, want the texts read from standard input", got)
	}

	// The reason given with clear is alert text too (shown on the card).
	c.interactive, c.answers = false, nil
	stdin = strings.NewReader("vans left by Jarry\n")
	for _, a := range as {
		if a.What != "a van" {
			continue
		}
		if out := lkOK(t, "--home", home, "clear", "--reason", "-", a.ID); !strings.HasSuffix(out, ": vans left by Jarry\n") {
			t.Errorf("clear --reason - printed %q, want the reason read from standard input", out)
		}
		c.interactive, c.answers = true, []string{"\x1b[2J"}
		if _, errs, code := lk(t, "--home", home, "clear", "--reason", "-", a.ID); code != 2 || !strings.Contains(errs, "--reason") {
			t.Errorf("clear --reason - with a control character: exit %d, stderr %q", code, errs)
		}
		if len(c.prompts) != 3 || !strings.Contains(c.prompts[2], "--reason") {
			t.Errorf("prompts %q, want a third one for --reason", c.prompts)
		}
	}

	c.interactive, c.answers = false, nil
	stdin = strings.NewReader("")
	if _, errs, code := lk(t, "--home", home, "report", "north", "--what", "-", "--where", "x"); code != 2 || !strings.Contains(errs, "--what - found nothing to read") {
		t.Errorf("--what - with empty input: exit %d, stderr %q", code, errs)
	}
}

// TestInitName: init refuses a name every node would refuse on the wire
// (control characters, direction overrides, too many characters), before
// creating anything.
func TestInitName(t *testing.T) {
	t.Setenv(envPassphrase, "the first passphrase")
	for _, name := range []string{"\u202eevil", "two\nlines", "\x1b[31mred", strings.Repeat("é", 65)} {
		home := filepath.Join(controltest.Home(t), "home")
		_, errs, code := lk(t, "--home", home, "init", "--name", name)
		if code != 2 || !strings.Contains(errs, "--name must be one line of at most 64 characters") {
			t.Errorf("init --name %q: exit %d, stderr %q", name, code, errs)
		}
		if node.Initialized(home) {
			t.Errorf("init --name %q created a profile", name)
		}
	}
	home := filepath.Join(controltest.Home(t), "home")
	lkOK(t, "--home", home, "init", "--name", strings.Repeat("é", 64))
}
