package main

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lookout/node/control/controltest"
	"lookout/node/store"
)

// scripted is a console that answers prompts from a script and records
// them.
type scripted struct {
	interactive bool
	answers     []string
	prompts     []string
	hushed      bool
	loud        []string // prompts asked while not hushed
}

var _ console = (*scripted)(nil)

func (s *scripted) Interactive() bool { return s.interactive }

func (s *scripted) Hush() func() {
	s.hushed = true
	return func() { s.hushed = false }
}

func (s *scripted) next(prompt string) (string, error) {
	s.prompts = append(s.prompts, prompt)
	if !s.hushed {
		s.loud = append(s.loud, prompt)
	}
	if len(s.answers) == 0 {
		return "", io.EOF
	}
	a := s.answers[0]
	s.answers = s.answers[1:]
	return a, nil
}

func (s *scripted) Secret(prompt string) ([]byte, error) {
	a, err := s.next(prompt)
	return []byte(a), err
}

func (s *scripted) Line(prompt string) (string, error) { return s.next(prompt) }

// useConsole makes the CLI use c for the rest of the test, with no
// passphrase in the environment.
func useConsole(t *testing.T, c console) {
	t.Helper()
	old := newConsole
	newConsole = func(io.Writer) console { return c }
	t.Cleanup(func() { newConsole = old })
	for _, v := range []string{envPassphrase, envNewPassphrase, envDuress} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
}

func TestInitAsksForPassphrase(t *testing.T) {
	home := filepath.Join(controltest.Home(t), "home")
	c := &scripted{interactive: true, answers: []string{
		"",                       // passphrase or key file: the default
		"short",                  // too short
		"long enough passphrase", // then a mismatch
		"long enough passphrasf",
		"long enough passphrase",
		"long enough passphrase",
	}}
	useConsole(t, c)
	out, errs, code := lk(t, "--home", home, "init", "--name", "Ada")
	if code != 0 || len(strings.TrimSpace(out)) != 64 {
		t.Fatalf("init: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if !strings.Contains(errs, "use at least 8") || !strings.Contains(errs, "did not match") {
		t.Errorf("init did not explain the refused passphrases; stderr %q", errs)
	}
	if len(c.answers) != 0 {
		t.Errorf("init left %d answers unread", len(c.answers))
	}
	if _, err := store.Open(home, store.Secret{Passphrase: []byte("long enough passphrase")}, store.Options{FailureDelay: -1}); err != nil {
		t.Errorf("the chosen passphrase does not open the store: %v", err)
	}
	// A second init refuses before asking anything.
	c.prompts = nil
	_, errs, code = lk(t, "--home", home, "init")
	if code != 1 || !strings.Contains(errs, "already initialised") || len(c.prompts) != 0 {
		t.Errorf("second init: exit %d, stderr %q, prompts %q", code, errs, c.prompts)
	}
}

func TestInitWithKeyFileAndDuress(t *testing.T) {
	dir := controltest.Home(t)
	home, key := filepath.Join(dir, "home"), filepath.Join(dir, "node.key")
	useConsole(t, &scripted{interactive: true, answers: []string{"k", key, "a duress passphrase", "a duress passphrase"}})
	if out, errs, code := lk(t, "--home", home, "init", "--duress"); code != 0 {
		t.Fatalf("init: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if fi, err := os.Stat(key); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v", err)
	}
	if _, err := store.Open(home, store.Secret{KeyFile: key}, store.Options{FailureDelay: -1}); err != nil {
		t.Errorf("the key file does not open the store: %v", err)
	}
}

func TestInitScripted(t *testing.T) {
	useConsole(t, &scripted{})
	home := filepath.Join(controltest.Home(t), "home")
	args := []string{"--home", home, "init"}
	_, errs, code := lk(t, args...)
	if code != 1 || !strings.Contains(errs, envPassphrase) || !strings.Contains(errs, "--key-file") {
		t.Errorf("init with no terminal and no passphrase: exit %d, stderr %q", code, errs)
	}
	checkOneLine(t, args, errs)
	t.Setenv(envPassphrase, "four")
	if _, errs, code := lk(t, args...); code != 1 || !strings.Contains(errs, "at least 8") {
		t.Errorf("init with a 4-character passphrase: exit %d, stderr %q", code, errs)
	}
	t.Setenv(envPassphrase, "a scripted passphrase")
	lkOK(t, args...)
}

func TestWipeAndPassphraseChange(t *testing.T) {
	useConsole(t, &scripted{})
	home := filepath.Join(controltest.Home(t), "home")
	t.Setenv(envPassphrase, "the first passphrase")
	lkOK(t, "--home", home, "init")

	t.Setenv(envNewPassphrase, "the second passphrase")
	if out := lkOK(t, "--home", home, "passphrase", "change"); !strings.Contains(out, "changed") {
		t.Errorf("passphrase change printed %q", out)
	}
	args := []string{"--home", home, "passphrase", "change"}
	_, errs, code := lk(t, args...) // the old passphrase is wrong now
	if code != 1 || !strings.Contains(errs, "wrong passphrase") || !strings.Contains(errs, "nothing was changed") {
		t.Errorf("change with a wrong passphrase: exit %d, stderr %q", code, errs)
	}
	checkOneLine(t, args, errs)
	if _, err := store.Open(home, store.Secret{Passphrase: []byte("the second passphrase")}, store.Options{FailureDelay: -1}); err != nil {
		t.Errorf("new passphrase: %v", err)
	}

	args = []string{"--home", home, "wipe"}
	if _, errs, code := lk(t, args...); code != 2 || !strings.Contains(errs, "--yes") {
		t.Errorf("wipe without --yes and no terminal: exit %d, stderr %q", code, errs)
	}
	start := time.Now()
	lkOK(t, "--home", home, "wipe", "--yes")
	t.Logf("wiped in %v", time.Since(start))
	if store.Exists(home) {
		t.Error("store still there after wipe")
	}
	if _, err := store.Open(home, store.Secret{Passphrase: []byte("the second passphrase")}, store.Options{FailureDelay: -1}); !errors.Is(err, store.ErrNoStore) {
		t.Errorf("open after wipe: %v, want ErrNoStore", err)
	}
	if _, errs, code := lk(t, args...); code != 1 || !strings.Contains(errs, "nothing to wipe") {
		t.Errorf("second wipe: exit %d, stderr %q", code, errs)
	}
}

func TestWipeAsksInTerminal(t *testing.T) {
	c := &scripted{interactive: true, answers: []string{"no"}}
	useConsole(t, c)
	home := filepath.Join(controltest.Home(t), "home")
	t.Setenv(envPassphrase, "the first passphrase")
	lkOK(t, "--home", home, "init")
	if _, errs, code := lk(t, "--home", home, "wipe"); code != 1 || !strings.Contains(errs, "not wiped") || !store.Exists(home) {
		t.Errorf("wipe answered no: exit %d, stderr %q, store kept %v", code, errs, store.Exists(home))
	}
	c.answers = []string{"yes"}
	lkOK(t, "--home", home, "wipe")
	if store.Exists(home) {
		t.Error("wipe answered yes left the store")
	}
}

// TestNodeAsksAgain: `lookout node` in a terminal asks again after a
// wrong passphrase, then runs until interrupted.
func TestNodeAsksAgain(t *testing.T) {
	c := &scripted{interactive: true}
	useConsole(t, c)
	home := filepath.Join(controltest.Home(t), "home")
	t.Setenv(envPassphrase, "the right passphrase")
	lkOK(t, "--home", home, "init")
	os.Unsetenv(envPassphrase)
	c.answers = []string{"a wrong passphrase", "the right passphrase"}
	ctx, cancel := context.WithCancel(t.Context())
	var out, errs syncBuffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"--home", home, "node", "--listen", "/ip4/127.0.0.1/tcp/0"}, &out, &errs)
	}()
	// Two real-cost Argon2id derivations (the wrong passphrase, then the
	// right one) take many seconds on a loaded machine: wait generously.
	waitWithin(t, "the node to print its addresses", 10*time.Minute, func() bool { return strings.Contains(out.String(), "/ip4/127.0.0.1/tcp/") })
	checkHardened(t)
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("node: exit %d, stderr %q", code, errs.String())
		}
	case <-time.After(5 * time.Minute):
		t.Fatal("node did not stop on interrupt")
	}
	if !strings.Contains(errs.String(), "Wrong passphrase; try again.") || len(c.prompts) != 2 {
		t.Errorf("node: prompts %q, stderr %q; want a second prompt after the wrong passphrase", c.prompts, errs.String())
	}
	if len(c.loud) != 0 || c.hushed {
		t.Errorf("node: prompts %q asked with the terminal echoing (still hushed after: %v); echo must stay off across retries", c.loud, c.hushed)
	}
}
