package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"lookout/app/i18n"
	"lookout/node"
	"lookout/node/api"
)

// quickStart returns the lines of README.md's "Quick start (command line)"
// code block.
func quickStart(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "## Quick start (command line)")
	if i < 0 {
		t.Fatal("README.md has no quick start section")
	}
	s = s[i:]
	start := strings.Index(s, "```sh\n")
	end := strings.Index(s[start+6:], "```")
	if start < 0 || end < 0 {
		t.Fatal("README.md quick start has no sh block")
	}
	return strings.Split(strings.TrimSpace(s[start+6:start+6+end]), "\n")
}

// shellWords splits a command line as sh would for the quoting the README
// uses ('...', "..." with $VAR, and words), dropping a trailing comment.
func shellWords(line string, env map[string]string) []string {
	var words []string
	var cur strings.Builder
	in, quote := false, rune(0)
	for _, r := range line {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, in = r, true
		case r == '#' && !in:
			return expand(words, env)
		case r == ' ' || r == '\t':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if in {
		words = append(words, cur.String())
	}
	return expand(words, env)
}

// expand replaces $VAR in words from env.
func expand(words []string, env map[string]string) []string {
	for i, w := range words {
		words[i] = os.Expand(w, func(k string) string { return env[k] })
	}
	return words
}

// TestReadmeQuickStart runs README.md's quick start as written, on
// loopback: Amira and Bea in homes of their own, each node started in the
// background (with --listen on loopback added where the README lets the
// node use the default port). Placeholders take the values printed
// before: the invite code and the last alert ID.
func TestReadmeQuickStart(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: this test builds lookout and runs two node processes")
	}
	e := &e2e{t: t, bin: lookoutBinary(t)}
	root, err := os.MkdirTemp("", "lkreadme")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	mk, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"PWD": root, "HOME": root, "PATH": os.Getenv("PATH")}
	var (
		who     string
		homes   = map[string]string{}
		code    string
		alertID string
		watch   *proc
	)
	for _, line := range quickStart(t) {
		if strings.HasPrefix(line, "# ") {
			who = strings.TrimSuffix(strings.TrimPrefix(line, "# "), ":")
			continue
		}
		w := shellWords(line, env)
		switch {
		case len(w) == 0:
			continue
		case w[0] == "make" && slices.Equal(w, []string{"make", "build"}):
			if !regexp.MustCompile(`(?m)^BIN := bin/lookout$`).Match(mk) {
				t.Fatal("the README says make build writes bin/lookout; the Makefile's BIN says otherwise")
			}
			continue // lookoutBinary built it
		case w[0] == "export" && strings.HasPrefix(w[1], "PATH="):
			continue
		case w[0] == "export" && strings.HasPrefix(w[1], "LOOKOUT_HOME="):
			homes[who] = strings.TrimPrefix(w[1], "LOOKOUT_HOME=")
			continue
		case w[0] != "lookout":
			t.Fatalf("README quick start line %q: not a lookout command", line)
		}
		home := homes[who]
		if home == "" {
			t.Fatalf("README quick start: %s runs %q before setting LOOKOUT_HOME", who, line)
		}
		args := w[1:]
		for i, a := range args {
			switch a {
			case "lookout1:...":
				args[i] = code
			case "ALERT-ID":
				args[i] = alertID
			}
		}
		t.Logf("%s: lookout %s", who, strings.Join(args, " "))
		switch args[0] {
		case "node":
			if !slices.Contains(args, "--listen") {
				args = append(args, "--listen", "/ip4/127.0.0.1/tcp/0") // not the shared machine's default port
			}
			p := e.start(who+"'s node", home, args...)
			p.waitLine(t, time.Minute, "listen address", func(l string) bool { return strings.Contains(l, "/p2p/") })
		case "watch":
			watch = e.start(who+"'s watch", home, args...)
			watch.waitLine(t, time.Minute, "watching", func(l string) bool { return strings.HasPrefix(l, "watching Parkdale…") })
		default:
			out := e.ok(home, args...)
			switch {
			case args[0] == "zone" && args[1] == "invite":
				code = out
			case args[0] == "report" || args[0] == "callout":
				alertID = out
			case args[0] == "zone" && args[1] == "join":
				// Bea's node must see Amira's before she reports.
				eventually(t, time.Minute, "Bea's node to see Amira's on the zone", func() bool {
					return len(e.zone(home, "Parkdale").Peers) > 0
				})
			case args[0] == "verify":
				eventually(t, time.Minute, "the verified sighting at Bea's", func() bool {
					a, ok := e.alert(homes["Bea"], "Parkdale", alertID)
					return ok && a.State == "verified"
				})
			case args[0] == "callout":
			}
			if args[0] == "callout" {
				id := alertID
				eventually(t, time.Minute, "the callout at Bea's", func() bool {
					_, ok := e.alert(homes["Bea"], "Parkdale", id)
					return ok
				})
			}
			if args[0] == "alerts" {
				var kinds []string
				for l := range strings.Lines(out) {
					var a api.Alert
					if err := json.Unmarshal([]byte(l), &a); err != nil {
						t.Fatalf("alerts --json line %q: %v", l, err)
					}
					kinds = append(kinds, a.Kind+" "+a.State)
				}
				if want := []string{"callout active", "sighting verified"}; !slices.Equal(kinds, want) {
					t.Errorf("alerts --json at the end = %v, want %v", kinds, want)
				}
			}
		}
	}
	if watch == nil || len(homes) != 2 {
		t.Fatalf("the quick start ran no watch or not two people: %v", homes)
	}
	// The watch began with what was active: the callout, its rights note
	// and the verified sighting.
	out := watch.stdout.String()
	for _, want := range []string{"[ACTIVE] callout", "know your rights: You do not have to open the door", "[VERIFIED] sighting"} {
		if !strings.Contains(out, want) {
			t.Errorf("watch output lacks %q:\n%s", want, out)
		}
	}
	if homes["Amira"] != filepath.Join(root, ".lookout-home") {
		t.Errorf("Amira's home is %s, not $PWD/.lookout-home as make node uses", homes["Amira"])
	}
	if !regexp.MustCompile(`(?m)^LOOKOUT_HOME \?= \$\(CURDIR\)/\.lookout-home$`).Match(mk) {
		t.Error("the README says make node uses $PWD/.lookout-home; the Makefile's LOOKOUT_HOME says otherwise")
	}
}

// userDocs are the documents written for the people who use Lookout.
var userDocs = []string{"../../README.md", "../../docs/user-guide.md", "../../docs/app.md", "../../docs/operations.md"}

// TestUserDocs keeps mistakes a first organizer found out of the user
// documents: no tracker issue numbers, the columns `zone links` prints are
// the ones the user guide names, and `node --help` gives the default port.
func TestUserDocs(t *testing.T) {
	issue := regexp.MustCompile(`(?i)\bissues?\s+#?\d+`)
	for _, p := range userDocs {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if m := issue.Find(b); m != nil {
			t.Errorf("%s mentions %q: user documents describe Lookout, not its tracker", p, m)
		}
	}
	b, err := os.ReadFile("../../docs/user-guide.md")
	if err != nil {
		t.Fatal(err)
	}
	if out := lkOK(t, "node", "--help"); !strings.Contains(out, fmt.Sprintf("port %d", node.DefaultPort)) || strings.Contains(out, "random") {
		t.Errorf("node --help does not give the default port %d:\n%s", node.DefaultPort, out)
	}
	cols := strings.ReplaceAll(i18n.New("en").T("cli.links.header"), "\t", ", ")
	if !strings.Contains(string(b), "lookout zone links Parkdale            # "+cols+"\n") {
		t.Errorf("docs/user-guide.md does not name the columns of zone links as it prints them: %s", cols)
	}
}
