package app

import (
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// syncBuffer is a log destination safe for the UI's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestScreenLog: each screen change logs the screen's fixed name at debug
// level, never its title (which holds the zone's name); the mobile
// simulation's touch test (cmd/lookout-app TestMobileTouch) waits on it.
func TestScreenLog(t *testing.T) {
	var buf syncBuffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := newHarness(t, Options{Logger: log})
	h.zone("Parkdale", "member")
	h.unlocked()
	h.waitFor("zone list", func() bool { return h.ui.cur.name == "zones" })
	h.tap("Report a sighting")
	h.tap("Back")
	var got []string
	for _, l := range strings.Split(buf.String(), "\n") {
		if !strings.Contains(l, "msg=screen ") {
			continue
		}
		if strings.Contains(l, "Parkdale") {
			t.Errorf("screen log line names the zone: %s", l)
		}
		_, name, _ := strings.Cut(l, "name=")
		got = append(got, name)
	}
	want := []string{"unlock", "zones", "report", "zones"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("screens logged %q, want %q", got, want)
	}

	// At the default level the line is not written.
	buf = syncBuffer{}
	h.ui.log = slog.New(slog.NewTextHandler(&buf, nil))
	h.tap("Report a sighting")
	if strings.Contains(buf.String(), "msg=screen") {
		t.Errorf("screen change logged at the default level: %s", buf.String())
	}
}

// TestScreenNames: every screen the app builds has a fixed name, and no
// two share one, so a log line says exactly which screen is shown.
func TestScreenNames(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	seen := map[string]string{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			lit, ok := n.(*ast.CompositeLit)
			if !ok {
				return true
			}
			if id, ok := lit.Type.(*ast.Ident); !ok || id.Name != "screen" {
				return true
			}
			at := fset.Position(lit.Pos()).String()
			name := ""
			for _, e := range lit.Elts {
				kv, ok := e.(*ast.KeyValueExpr)
				if !ok {
					continue
				}
				if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "name" {
					if v, ok := kv.Value.(*ast.BasicLit); ok && v.Kind == token.STRING {
						name, _ = strconv.Unquote(v.Value)
					}
				}
			}
			switch {
			case name == "":
				t.Errorf("%s: screen without a fixed name", at)
			case seen[name] != "":
				t.Errorf("%s: screen name %q already used at %s", at, name, seen[name])
			default:
				seen[name] = at
			}
			return true
		})
	}
	if len(seen) == 0 {
		t.Fatal("found no screens")
	}
}
