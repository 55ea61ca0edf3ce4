package api

import (
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// failRE finds a Problem's ID at its construction: api.Fail(kind, "id" or
// "prefix."+…; requireOrganizer("action") and resolve("what", … build IDs
// from their arguments.
var (
	failRE      = regexp.MustCompile(`Fail\([\w.]+, "([\w.]+)"(\+)?`)
	organizerRE = regexp.MustCompile(`requireOrganizer\("(\w+)"\)`)
	resolveRE   = regexp.MustCompile(`resolve\("(\w+)", `)
	literalRE   = regexp.MustCompile(`"([a-z]+\.[\w.]+)"`)
)

// usedIDs scans the node's production sources (node/... and this package)
// for the Problem IDs they can emit: at Fail, and (mentioned) any literal
// naming a Messages ID, as tables of IDs do.
func usedIDs(t *testing.T) (emitted, mentioned map[string]string) {
	t.Helper()
	ids := map[string]string{} // ID → a file using it
	mentioned = map[string]string{}
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		src := string(b)
		if filepath.Base(path) != "errors.go" || filepath.Dir(path) != "../api" {
			for _, m := range literalRE.FindAllStringSubmatch(src, -1) {
				mentioned[m[1]] = path
			}
		}
		for _, m := range failRE.FindAllStringSubmatch(src, -1) {
			if m[2] == "" { // "prefix."+action: expanded below
				ids[m[1]] = path
			}
		}
		for _, m := range organizerRE.FindAllStringSubmatch(src, -1) {
			ids["organizer.only."+m[1]] = path
		}
		for _, m := range resolveRE.FindAllStringSubmatch(src, -1) {
			ids[m[1]+".notfound"], ids[m[1]+".ambiguous"] = path, path
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids, mentioned
}

// TestProblemIDs: every Problem ID the node emits has an English text,
// and every text is used.
func TestProblemIDs(t *testing.T) {
	used, mentioned := usedIDs(t)
	if len(used) < 50 {
		t.Fatalf("found only %d IDs in the node's sources; is the scan broken?", len(used))
	}
	for _, id := range slices.Sorted(maps.Keys(used)) {
		if _, ok := Messages[id]; !ok {
			t.Errorf("%s emits %q, which has no text in Messages", used[id], id)
		}
	}
	for id := range Messages {
		if _, ok := used[id]; !ok && mentioned[id] == "" {
			t.Errorf("Messages[%q] is never emitted", id)
		}
	}
}

func TestProblemText(t *testing.T) {
	p := Fail(ErrNotFound, "member.notfound", "Ref", Quote("ana\x1b[2J"), "Zone", "Parkdale")
	if got, want := p.Error(), `not found: no member "ana\x1b[2J"; see lookout zone members Parkdale`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(p, ErrNotFound) || errors.Is(p, ErrInvalid) {
		t.Error("a Problem must match its kind only")
	}
	cause := errors.New("text too long")
	if p := Fail(ErrInvalid, "field.missing", "Field", "what").With(cause); !errors.Is(p, cause) || !errors.Is(p, ErrInvalid) || p.Error() != "invalid request: what: required field is empty" {
		t.Errorf("a Problem with a cause: %v; want it to match its kind and cause, its text unchanged", p)
	}
	if got := Fail(ErrInvalid, "no.such.id").Error(); got != "invalid request: no.such.id" {
		t.Errorf("unknown ID renders %q; want the ID", got)
	}
	if got := Fail(ErrInvalid, "member.removed").Text(); got != " was removed from the zone" {
		t.Errorf("missing field renders %q; want it empty", got)
	}
	for _, k := range []error{ErrNotFound, ErrForbidden, ErrInvalid} {
		if KindID(k) == "" {
			t.Errorf("kind %v has no message ID", k)
		}
	}
	if KindID(errors.New("other")) != "" {
		t.Error("an unknown kind has a message ID")
	}
}
