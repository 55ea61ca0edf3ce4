package app

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"lookout/app/i18n"
)

// keyPattern matches the translation keys the app's code uses.
var keyPattern = regexp.MustCompile(`^(app|callout|create|detail|err|feed|field|firstrun|invite|join|members|nav|notify|places|practice|report|rights|role|settings|state|timeline|tray|unlock|welcome|zones)(\.[a-z]+)+$|^drill$`)

// usedKeys collects the string literals in the package's non-test files
// that look like translation keys.
func usedKeys(t *testing.T) map[string]bool {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil && keyPattern.MatchString(s) {
					keys[s] = true
				}
			}
			return true
		})
	}
	return keys
}

func TestTranslationsComplete(t *testing.T) {
	used := usedKeys(t)
	if len(used) < 100 {
		t.Fatalf("found only %d keys in the code; is the key pattern right?", len(used))
	}
	var en map[string]any
	for _, code := range []string{"en", "fr", "es"} {
		b, err := i18n.Files.ReadFile(path.Join(i18n.Dir, code+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s.json: %v", code, err)
		}
		// The command line's messages are checked by its own tests, the
		// node's errors by app/i18n's (TestProblemCatalogue).
		maps.DeleteFunc(m, func(k string, _ any) bool { return strings.HasPrefix(k, "cli.") || strings.HasPrefix(k, "api.") })
		for k := range used {
			if _, ok := m[k]; !ok {
				t.Errorf("%s.json lacks %q", code, k)
			}
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if !used[k] {
				t.Errorf("%s.json has %q, which the code does not use", code, k)
			}
			switch v := m[k].(type) {
			case string:
				if strings.TrimSpace(v) == "" {
					t.Errorf("%s.json: %q is empty", code, k)
				}
			case map[string]any:
				if v["one"] == nil || v["other"] == nil {
					t.Errorf("%s.json: plural %q needs one and other", code, k)
				}
			}
		}
		if code == "en" {
			en = m
			continue
		}
		// The same template fields in every language.
		fields := regexp.MustCompile(`\{\{\.[A-Za-z]+\}\}`)
		for k, v := range m {
			want, got := fields.FindAllString(jsonText(en[k]), -1), fields.FindAllString(jsonText(v), -1)
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(slices.Compact(want), slices.Compact(got)) {
				t.Errorf("%s.json: %q uses %v, English uses %v", code, k, got, want)
			}
		}
	}
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestLanguageSwitch(t *testing.T) {
	t.Cleanup(func() { loadTranslations("en") })
	for code, want := range map[string]string{"en": "VERIFIED", "fr": "VÉRIFIÉ", "es": "VERIFICADO"} {
		loadTranslations(code)
		if got := L("state.verified"); got != want {
			t.Errorf("%s: state.verified is %q, want %q", code, got, want)
		}
	}
	loadTranslations("fr")
	if got := N("state.corroborated", 3, args{"N": 3}); got != "CORROBORÉ : 3 témoins" {
		t.Errorf("French plural: %q", got)
	}
	// One catalogue with the command line: its messages are there too.
	if got := L("cli.state.verified"); got != "vérifié" {
		t.Errorf("the app's catalogue lacks the CLI's messages: %q", got)
	}
}
