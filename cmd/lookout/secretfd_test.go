package main

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"lookout/node/control/controltest"
	"lookout/node/passphrase"
	"lookout/node/store"
)

// pipeFD returns the number of a descriptor from which this process reads
// text, as a service manager or a script would pass it.
func pipeFD(t *testing.T, text string) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	if _, err := w.WriteString(text); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return strconv.Itoa(int(r.Fd()))
}

func opens(t *testing.T, home, pass string) bool {
	t.Helper()
	s, err := store.Open(home, store.Secret{Passphrase: []byte(pass)}, store.Options{FailureDelay: -1})
	if err != nil {
		return false
	}
	s.Close()
	return true
}

func TestPassphraseFD(t *testing.T) {
	useConsole(t, &scripted{})
	home := filepath.Join(controltest.Home(t), "home")
	const first, duress, second = "otter lantern quarry velvet", "maple drizzle orbit canyon", "cobalt harvest tundra whistle"

	lkOK(t, "--home", home, "init", "--duress", "--passphrase-fd", pipeFD(t, first+"\n"+duress+"\n"))
	if !opens(t, home, first) {
		t.Fatal("the passphrase read from the descriptor does not open the store")
	}

	lkOK(t, "--home", home, "passphrase", "change", "--passphrase-fd", pipeFD(t, first+"\r\n"+second))
	if !opens(t, home, second) {
		t.Fatal("the new passphrase read from the descriptor does not open the store")
	}

	for _, tc := range []struct{ name, input, want string }{
		{"empty input", "", "ended before a passphrase line"},
		{"empty line", "\n", "is empty"},
		{"weak new passphrase", second + "\npassword123\n", "too easy to guess"},
		{"line too long", strings.Repeat("x", maxSecretLine+1) + "\n", "longer than 1024 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"--home", home, "passphrase", "change", "--passphrase-fd", pipeFD(t, tc.input)}
			_, errs, code := lk(t, args...)
			if code != 1 || !strings.Contains(errs, tc.want) {
				t.Errorf("exit %d, stderr %q; want %q", code, errs, tc.want)
			}
			checkOneLine(t, args, errs)
			if strings.Contains(errs, "password123") {
				t.Errorf("stderr %q repeats the passphrase", errs)
			}
			if !opens(t, home, second) {
				t.Error("a refused change changed the passphrase")
			}
		})
	}
	args := []string{"--home", home, "passphrase", "change", "--passphrase-fd", "987"}
	if _, errs, code := lk(t, args...); code != 1 || !strings.Contains(errs, "descriptor 987") {
		t.Errorf("closed descriptor: exit %d, stderr %q", code, errs)
	}
}

func TestInitRefusesWeakPassphrase(t *testing.T) {
	useConsole(t, &scripted{})
	home := filepath.Join(controltest.Home(t), "home")
	for _, weak := range []string{"password", "12345678", "qwertyuiop", "ada lovelace 1"} {
		t.Setenv(envPassphrase, weak)
		args := []string{"--home", home, "init", "--name", "Ada Lovelace"}
		_, errs, code := lk(t, args...)
		if code != 1 || !strings.Contains(errs, "too easy to guess") {
			t.Errorf("init with %q: exit %d, stderr %q", weak, code, errs)
		}
		if store.Exists(home) {
			t.Fatalf("init with %q created a store", weak)
		}
	}
}

// TestInitGeneratesPassphrase: an empty answer at the prompt gives a
// generated passphrase, shown once and then typed again.
func TestInitGeneratesPassphrase(t *testing.T) {
	seed := [32]byte{7}
	want, err := passphrase.Generate(rand.NewChaCha8(seed), passphrase.DefaultWords)
	if err != nil {
		t.Fatal(err)
	}
	genRand = rand.NewChaCha8(seed)
	t.Cleanup(func() { genRand = nil })
	c := &scripted{interactive: true, answers: []string{"", "", want}}
	useConsole(t, c)
	home := filepath.Join(controltest.Home(t), "home")
	out, errs, code := lk(t, "--home", home, "init", "--name", "Ada")
	if code != 0 {
		t.Fatalf("init: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if !strings.Contains(errs, want) || strings.Contains(out, want) {
		t.Errorf("the generated passphrase must be shown on stderr only; stdout %q, stderr %q", out, errs)
	}
	if !opens(t, home, want) {
		t.Error("the generated passphrase does not open the store")
	}
}

// TestPassphraseFDWithKeyFile: with --key-file the descriptor's only line
// is the duress passphrase (init) or the new passphrase (change).
func TestPassphraseFDWithKeyFile(t *testing.T) {
	useConsole(t, &scripted{})
	dir := controltest.Home(t)
	home, key := filepath.Join(dir, "home"), filepath.Join(dir, "node.key")
	const duress, next = "maple drizzle orbit canyon", "cobalt harvest tundra whistle"
	lkOK(t, "--home", home, "init", "--key-file", key, "--duress", "--passphrase-fd", pipeFD(t, duress+"\n"))
	s, err := store.Open(home, store.Secret{KeyFile: key}, store.Options{FailureDelay: -1})
	if err != nil {
		t.Fatalf("the key file does not open the store: %v", err)
	}
	s.Close()
	lkOK(t, "--home", home, "passphrase", "change", "--key-file", key, "--passphrase-fd", pipeFD(t, next+"\n"))
	if !opens(t, home, next) {
		t.Error("the new passphrase from the descriptor does not open the store")
	}
}
