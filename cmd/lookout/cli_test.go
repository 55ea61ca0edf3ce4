package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"lookout/app/i18n"
	"lookout/node/api"
	"lookout/node/control/controltest"
)

// serveFake serves a fake node for a fresh home and returns both.
func serveFake(t *testing.T) (*controltest.Fake, string) {
	t.Helper()
	home := controltest.Home(t)
	f := new(controltest.Fake)
	controltest.Serve(t, f, socketPath(home))
	return f, home
}

// lk runs the CLI in-process.
func lk(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(t.Context(), args, &out, &errb)
	return out.String(), errb.String(), code
}

// lkOK runs the CLI and fails the test unless it succeeds.
func lkOK(t *testing.T, args ...string) string {
	t.Helper()
	out, errs, code := lk(t, args...)
	if code != 0 || errs != "" {
		t.Fatalf("lookout %s: exit %d, stderr %q", strings.Join(args, " "), code, errs)
	}
	return out
}

// checkOneLine checks stderr is one line reporting an error.
func checkOneLine(t *testing.T, args []string, stderr string) {
	t.Helper()
	if !strings.HasPrefix(stderr, "lookout: ") || strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") {
		t.Errorf("lookout %s: stderr %q is not one line starting \"lookout: \"", strings.Join(args, " "), stderr)
	}
}

func TestUsageErrors(t *testing.T) {
	_, home := serveFake(t)
	for _, args := range [][]string{
		{"bogus"},
		{"--bogus", "status"},
		{"status", "--bogus"},
		{"status", "extra"},
		{"zone"},
		{"zone", "bogus"},
		{"zone", "create"},
		{"zone", "create", "a", "b"},
		{"zone", "create", ""},
		{"zone", "join"},
		{"zone", "invite", "north", "--role", "king"},
		{"zone", "invite", "north", "--ttl", "0"},
		{"zone", "invite", "north", "--ttl", "-1h"},
		{"zone", "invite", "north", "--ttl", "soon"},
		{"zone", "invite"},
		{"report", "north", "--where", "x"},
		{"report", "north", "--what", "x"},
		{"report", "--what", "x", "--where", "y"},
		{"report", "north", "--what", "x", "--where", "y", "--size", "many"},
		{"report", "north", "--what", "x", "--where", "y", "--size", "-1"},
		{"callout", "north", "--where", "x"},
		{"callout", "north", "--title", "x", "--where", "y", "--need", "-2"},
		{"confirm"},
		{"respond", "abc"},
		{"respond", "abc", "--status", "maybe"},
		{"clear"},
		{"alerts"},
		{"watch"},
		{"node", "extra"},
		{"init", "extra"},
		{"status", "--home", ""},
		{"zone", "members"},
		{"zone", "members", "north", "extra"},
		{"zone", "promote", "north", "bob"},
		{"zone", "promote", "north", "--role", "verifier"},
		{"zone", "promote", "north", "bob", "--role", "member"},
		{"zone", "promote", "north", "bob", "--role", "king"},
		{"zone", "remove", "north"},
		{"zone", "remove", "north", "bob", "carol"},
		{"zone", "settings"},
		{"zone", "settings", "north", "--quorum", "0"},
		{"zone", "settings", "north", "--quorum", "many"},
		{"zone", "settings", "north", "--window", "0"},
		{"zone", "settings", "north", "--window", "soon"},
		{"zone", "settings", "north", "--expiry", "-1h"},
		{"zone", "settings", "north", "--max-reports", "0"},
		{"zone", "settings", "north", "--max-confirms", "-3"},
		{"zone", "settings", "north", "--cosign-callouts=maybe"},
		{"callout", "update"},
		{"callout", "update", "abcdef12"},
		{"callout", "update", "abcdef12", "--title", " "},
		{"callout", "update", "abcdef12", "--need", "0"},
		{"callout", "update", "abcdef12", "--need", "-1"},
		{"callout", "update", "abcdef12", "--need", "x"},
		{"callout", "update", "abcdef12", "extra", "--title", "t"},
		{"callout", "update", "--title", "t", "--where", "w"},
		{"cosign"},
		{"cosign", "a", "b"},
	} {
		args = append([]string{"--home", home}, args...)
		out, errs, code := lk(t, args...)
		if code != 2 {
			t.Errorf("lookout %s: exit %d, want 2 (stderr %q)", strings.Join(args, " "), code, errs)
		}
		if out != "" {
			t.Errorf("lookout %s: stdout %q, want none", strings.Join(args, " "), out)
		}
		checkOneLine(t, args, errs)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{{}, {"help"}, {"help", "report"}, {"help", "zone", "invite"}, {"help", "callout", "update"}, {"help", "zone", "settings"}} {
		out, errs, code := lk(t, args...)
		if code != 2 || out != "" || !strings.HasPrefix(errs, "usage: lookout") {
			t.Errorf("lookout %s: exit %d, stdout %q, stderr %q; want usage on stderr, exit 2", strings.Join(args, " "), code, out, errs)
		}
	}
	out, _, code := lk(t, "report", "-h")
	if code != 0 || !strings.Contains(out, "usage: lookout report ZONE") || !strings.Contains(out, "-where") {
		t.Errorf("lookout report -h: exit %d, stdout %q", code, out)
	}
	out, _, code = lk(t, "--help")
	if code != 0 || !strings.Contains(out, "zone invite") {
		t.Errorf("lookout --help: exit %d, stdout %q", code, out)
	}
	for _, want := range []string{"zone members ZONE", "zone promote ZONE MEMBER --role verifier|organizer", "zone remove ZONE MEMBER",
		"zone settings ZONE [--quorum K] [--window 20m] [--expiry 4h] [--cosign-callouts]", "callout update ALERT", "cosign ALERT", `named "update"`} {
		if !strings.Contains(out, want) {
			t.Errorf("lookout --help lacks %q", want)
		}
	}
	out, _, code = lk(t, "callout", "update", "-h")
	if code != 0 || !strings.Contains(out, "usage: lookout callout update ALERT") || !strings.Contains(out, "-need") {
		t.Errorf("lookout callout update -h: exit %d, stdout %q", code, out)
	}
	out, _, code = lk(t, "zone", "settings", "-h")
	if code != 0 || !strings.Contains(out, "-cosign-callouts") || !strings.Contains(out, "-max-confirms") {
		t.Errorf("lookout zone settings -h: exit %d, stdout %q", code, out)
	}
}

func TestNoNode(t *testing.T) {
	home := controltest.Home(t)
	want := "lookout: no node is running for home " + home + "; start one with: lookout --home " + home + " node\n"
	for _, args := range [][]string{
		{"status"},
		{"zone", "create", "north"},
		{"zone", "invite", "north"},
		{"zone", "join", "code"},
		{"zone", "list"},
		{"report", "north", "--what", "x", "--where", "y"},
		{"callout", "north", "--title", "x", "--where", "y"},
		{"confirm", "a"},
		{"respond", "a", "--status", "cannot"},
		{"clear", "a"},
		{"alerts", "north"},
		{"watch", "north"},
		{"zone", "members", "north"},
		{"zone", "promote", "north", "bob", "--role", "verifier"},
		{"zone", "remove", "north", "bob"},
		{"zone", "settings", "north"},
		{"zone", "settings", "north", "--quorum", "3"},
		{"callout", "update", "abcdef12", "--title", "t"},
		{"cosign", "abcdef12"},
	} {
		args = append([]string{"--home", home}, args...)
		out, errs, code := lk(t, args...)
		if code != 1 || out != "" || errs != want {
			t.Errorf("lookout %s: exit %d, stdout %q, stderr %q; want exit 1 and %q", strings.Join(args, " "), code, out, errs, want)
		}
	}

	// The hint quotes a home a shell would split.
	spaced := controltest.Home(t) + "/my home"
	if err := os.Mkdir(spaced, 0o700); err != nil {
		t.Fatal(err)
	}
	_, errs, _ := lk(t, "--home", spaced, "status")
	if !strings.HasSuffix(errs, "lookout --home '"+spaced+"' node\n") {
		t.Errorf("stderr %q does not quote the home", errs)
	}
}

func TestHomeFlag(t *testing.T) {
	_, home := serveFake(t)
	lkOK(t, "--home", home, "zone", "create", "north")
	for _, args := range [][]string{
		{"--home", home, "zone", "list"},
		{"zone", "list", "--home", home},
		{"zone", "--home", home, "list"},
		{"--home=" + home, "zone", "list"},
		{"zone", "list", "-home", home},
	} {
		if out := lkOK(t, args...); !strings.Contains(out, "north") {
			t.Errorf("lookout %s: stdout %q lacks the zone", strings.Join(args, " "), out)
		}
	}
	t.Setenv("LOOKOUT_HOME", home)
	if out := lkOK(t, "zone", "list"); !strings.Contains(out, "north") {
		t.Errorf("with LOOKOUT_HOME: stdout %q lacks the zone", out)
	}
	other := controltest.Home(t)
	if _, errs, code := lk(t, "zone", "list", "--home", other); code != 1 || !strings.Contains(errs, other) {
		t.Errorf("--home did not override LOOKOUT_HOME: exit %d, stderr %q", code, errs)
	}
}

// jsonKeys decodes one JSON object per line and checks each has keys.
func jsonKeys(t *testing.T, out string, keys ...string) []map[string]any {
	t.Helper()
	var objs []map[string]any
	for line := range strings.Lines(out) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %q is not a JSON object: %v", line, err)
		}
		for _, k := range keys {
			if _, ok := m[k]; !ok {
				t.Errorf("line %q lacks key %q", line, k)
			}
		}
		objs = append(objs, m)
	}
	return objs
}

func TestStatus(t *testing.T) {
	f, home := serveFake(t)
	f.Self = api.Status{MemberID: "m1", Name: "Ana", PeerID: "12D3KooWA", Addrs: []string{"/ip4/127.0.0.1/tcp/1/p2p/12D3KooWA"}, Peers: []string{"12D3KooWB", "12D3KooWC"}}
	objs := jsonKeys(t, lkOK(t, "--home", home, "status", "--json"), "member_id", "peer_id", "addrs", "peers")
	if len(objs) != 1 || objs[0]["peer_id"] != "12D3KooWA" {
		t.Errorf("status --json = %v", objs)
	}
	out := lkOK(t, "--home", home, "status")
	for _, want := range []string{"m1", "Ana", "12D3KooWA", "/ip4/127.0.0.1/tcp/1/p2p/12D3KooWA", "12D3KooWB", "12D3KooWC"} {
		if !strings.Contains(out, want) {
			t.Errorf("status output lacks %q:\n%s", want, out)
		}
	}
}

var idRE = regexp.MustCompile(`^[0-9a-f]+\n$`)

func TestZones(t *testing.T) {
	_, home := serveFake(t)
	out := lkOK(t, "--home", home, "zone", "list")
	if !strings.Contains(out, "no zones yet") {
		t.Errorf("empty zone list: %q", out)
	}
	id := lkOK(t, "--home", home, "zone", "create", "north")
	if !idRE.MatchString(id) {
		t.Fatalf("zone create printed %q, want an ID line", id)
	}
	id = strings.TrimSpace(id)

	objs := jsonKeys(t, lkOK(t, "zone", "list", "--json", "--home", home), "id", "name", "role", "epoch", "topic", "peers")
	if len(objs) != 1 || objs[0]["id"] != id || objs[0]["name"] != "north" || objs[0]["role"] != "organizer" {
		t.Errorf("zone list --json = %v", objs)
	}
	if out := lkOK(t, "--home", home, "zone", "list"); !strings.Contains(out, "north") || !strings.Contains(out, id) || !strings.Contains(out, "organizer") {
		t.Errorf("zone list = %q", out)
	}

	code := lkOK(t, "--home", home, "zone", "invite", "--role", "verifier", "north", "--ttl", "7d")
	if strings.Count(code, "\n") != 1 || len(code) < 5 {
		t.Fatalf("zone invite printed %q, want one code line", code)
	}
	if out := lkOK(t, "--home", home, "zone", "join", strings.TrimSpace(code)); out != id+" north\n" {
		t.Errorf("zone join printed %q, want %q", out, id+" north\n")
	}
	if out := lkOK(t, "--home", home, "zone", "list", "--json"); !strings.Contains(out, `"role":"verifier"`) {
		t.Errorf("after joining as verifier: %q", out)
	}

	args := []string{"--home", home, "zone", "join", "garbage"}
	_, errs, c := lk(t, args...)
	if c != 1 || !strings.Contains(errs, "invite code") {
		t.Errorf("join garbage: exit %d, stderr %q", c, errs)
	}
	checkOneLine(t, args, errs)

	args = []string{"--home", home, "zone", "invite", "north"}
	_, errs, c = lk(t, args...)
	if c != 1 || !strings.Contains(errs, "ask an organizer of north") {
		t.Errorf("invite as verifier: exit %d, stderr %q", c, errs)
	}
	checkOneLine(t, args, errs)
}

func TestAlerts(t *testing.T) {
	f, home := serveFake(t)
	lkOK(t, "--home", home, "zone", "create", "north")

	// Flags before, after and around the zone.
	ids := map[string]bool{}
	for _, args := range [][]string{
		{"report", "north", "--what", "2 vans", "--where", "Jane & Finch", "--uniform", "CBSA jackets"},
		{"report", "--what", "agents", "--where", "plaza", "north", "--size", "4"},
		{"report", "--what=car", "north", "--where=school", "--exercise"},
	} {
		out := lkOK(t, append([]string{"--home", home}, args...)...)
		if !idRE.MatchString(out) {
			t.Fatalf("lookout %s printed %q, want an ID line", strings.Join(args, " "), out)
		}
		ids[strings.TrimSpace(out)] = true
	}
	objs := jsonKeys(t, lkOK(t, "--home", home, "alerts", "north", "--json"), "id", "zone", "kind", "state", "where", "sent", "incident", "confirmations", "verified_by")
	if len(objs) != 3 {
		t.Fatalf("alerts --json: %d alerts, want 3", len(objs))
	}
	for _, o := range objs {
		if !ids[o["id"].(string)] || o["kind"] != "sighting" || o["state"] != "unconfirmed" || o["incident"] != o["id"] {
			t.Errorf("unexpected alert %v", o)
		}
	}
	// Newest first, drills last.
	if objs[0]["size"] != 4.0 || objs[2]["exercise"] != true || objs[1]["where"] != "Jane & Finch" {
		t.Errorf("alert fields lost: %v", objs)
	}

	first := objs[1]["id"].(string)
	out := lkOK(t, "--home", home, "confirm", first)
	if want := "[VERIFIED] sighting " + first + " at Jane & Finch: 2 vans, CBSA jackets (2 witnesses) - VERIFIED by fakememb\n"; out != want {
		t.Errorf("confirm printed %q, want %q", out, want)
	}
	out = lkOK(t, "--home", home, "alerts", "north")
	if strings.Count(out, "\n") != 3 || !strings.Contains(out, "[DRILL] (unconfirmed) sighting") || !strings.Contains(out, "plaza: agents, size 4") {
		t.Errorf("alerts:\n%s", out)
	}
	objs = jsonKeys(t, lkOK(t, "--home", home, "alerts", "north", "--json"))
	if vb := objs[0]["verified_by"].([]any); objs[0]["state"] != "verified" || len(vb) != 1 || vb[0] != "fakemember" || objs[0]["confirmations"] != 2.0 {
		t.Errorf("confirmed alert = %v", objs[0])
	}

	co := strings.TrimSpace(lkOK(t, "--home", home, "callout", "--title", "Accompany family", "north", "--where", "school", "--need", "5", "--when", "15:30"))
	out = lkOK(t, "--home", home, "respond", co, "--status", "enroute")
	if want := "[ACTIVE] callout " + co + " at school: Accompany family, when 15:30 (needed 5, en route 1, on scene 0)\n"; out != want {
		t.Errorf("respond printed %q, want %q", out, want)
	}
	objs = jsonKeys(t, lkOK(t, "--home", home, "alerts", "north", "--json"))
	if o := objs[0]; o["id"] != co || o["state"] != "active" || o["needed"] != 5.0 || o["cosigned"] != false || o["responders"] == nil {
		t.Errorf("callout --json = %v, want state, needed, cosigned, responders", o)
	}
	out = lkOK(t, "--home", home, "clear", "--reason", "vans left", first)
	if !strings.Contains(out, "[CLEARED]") || !strings.HasSuffix(out, "- retracted: vans left\n") {
		t.Errorf("clear printed %q", out)
	}
	if n := len(jsonKeys(t, lkOK(t, "--home", home, "alerts", "north", "--json"))); n != 3 {
		t.Errorf("after clear: %d active alerts, want 3", n)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"confirm", "nope"}, `"nope"`},
		{[]string{"report", "south", "--what", "x", "--where", "y"}, `"south"`},
		{[]string{"alerts", "south"}, `"south"`},
		{[]string{"watch", "south"}, `"south"`},
		{[]string{"respond", first, "--status", "cannot"}, "cleared"},
	} {
		args := append([]string{"--home", home}, tc.args...)
		_, errs, code := lk(t, args...)
		if code != 1 || !strings.Contains(errs, tc.want) {
			t.Errorf("lookout %s: exit %d, stderr %q; want exit 1 mentioning %q", strings.Join(args, " "), code, errs, tc.want)
		}
		checkOneLine(t, args, errs)
	}

	if err := f.SetRole("north", "member"); err != nil {
		t.Fatal(err)
	}
	args := []string{"--home", home, "callout", "north", "--title", "t", "--where", "w"}
	_, errs, code := lk(t, args...)
	if code != 1 || !strings.Contains(errs, "organizer") {
		t.Errorf("callout by a member: exit %d, stderr %q", code, errs)
	}
	checkOneLine(t, args, errs)
}

func TestNoAlerts(t *testing.T) {
	_, home := serveFake(t)
	lkOK(t, "--home", home, "zone", "create", "north")
	if out := lkOK(t, "--home", home, "alerts", "north"); out != "no active alerts in north\n" {
		t.Errorf("alerts = %q", out)
	}
	if out := lkOK(t, "--home", home, "alerts", "north", "--json"); out != "" {
		t.Errorf("alerts --json = %q, want nothing", out)
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
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

func TestWatch(t *testing.T) {
	for _, asJSON := range []bool{false, true} {
		f, home := serveFake(t)
		lkOK(t, "--home", home, "zone", "create", "north")
		ctx, cancel := context.WithCancel(t.Context())
		var out, errs syncBuffer
		args := []string{"watch", "north", "--home", home}
		if asJSON {
			args = append(args, "--json")
		}
		done := make(chan int)
		go func() { done <- run(ctx, args, &out, &errs) }()
		waitFor(t, "watch to start", func() bool { return f.Watchers() == 1 })

		id := strings.TrimSpace(lkOK(t, "--home", home, "report", "north", "--what", "van", "--where", "corner"))
		lkOK(t, "--home", home, "confirm", id)
		lines := 2
		if !asJSON {
			lines = 4 // no active alerts in north; watching north…
		}
		waitFor(t, "the lines", func() bool { return strings.Count(out.String(), "\n") == lines })
		cancel()
		select {
		case code := <-done:
			if code != 0 || errs.String() != "" {
				t.Errorf("watch after interrupt: exit %d, stderr %q", code, errs.String())
			}
		case <-time.After(10 * time.Second):
			t.Fatal("watch did not stop on interrupt")
		}
		if asJSON {
			objs := jsonKeys(t, out.String(), "id", "kind", "state")
			if objs[0]["id"] != id || objs[0]["kind"] != "sighting" || objs[1]["confirmations"] != 2.0 {
				t.Errorf("watch --json = %v", objs)
			}
		} else if !regexp.MustCompile(`^no active alerts in north\nwatching north… \(Ctrl-C to stop; times are local\)\n\d\d:\d\d:\d\d \S+ \[UNCONFIRMED\] sighting ` + id + ` at corner: van \(1 witness\)\n\d\d:\d\d:\d\d \S+ \[VERIFIED\] .* \(2 witnesses\) - VERIFIED by fakememb\n$`).MatchString(out.String()) {
			t.Errorf("watch =\n%s", out.String())
		}
	}
}

func TestParseTTL(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"24h": 24 * time.Hour, "90m": 90 * time.Minute, "7d": 7 * 24 * time.Hour, "1d12h": 36 * time.Hour, "1s": time.Second,
	} {
		if got, err := parseTTL(in); err != nil || got != want {
			t.Errorf("parseTTL(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "0d", "0s", "-1h", "-1d", "d", "1.5d", "1dd", "x", "1d-25h", "99999999d"} {
		if got, err := parseTTL(in); err == nil {
			t.Errorf("parseTTL(%q) = %v, want an error", in, got)
		}
	}
}

func TestFormatAlert(t *testing.T) {
	en := i18n.New("en")
	three, five := 3, 5
	names := map[string]string{"m1": "Ana", "m2": ""}
	name := func(id string) string { return who(id, names[id]) }
	for _, tc := range []struct {
		a    api.Alert
		want string
	}{{
		api.Alert{ID: "3f2a", Kind: "sighting", State: "verified", Where: "Jane & Finch", What: "2 vans", Uniform: "CBSA jackets", Confirmations: &three, VerifiedBy: []string{"m1", "m2deadbeefcafe"}},
		"[VERIFIED] sighting 3f2a at Jane & Finch: 2 vans, CBSA jackets (3 witnesses) - VERIFIED by Ana (m1), m2deadbe",
	}, {
		api.Alert{ID: "4a", Kind: "sighting", State: "corroborated", Where: "plaza", What: "agents", Confirmations: &five, Sightings: []string{"4a", "4b", "4c"}},
		"[CORROBORATED] sighting 4a at plaza: agents (5 witnesses, 3 reports)",
	}, {
		api.Alert{ID: "9c", Kind: "callout", State: "active", Where: "school", Title: "Accompany family", Need: 5, Needed: 5, Bring: "phone", Exercise: true, Responders: &api.Responders{EnRoute: 2, OnScene: 1, Cannot: 1}},
		"[DRILL] (active) callout 9c at school: Accompany family, bring phone (needed 5, en route 2, on scene 1, cannot 1)",
	}, {
		api.Alert{ID: "7b", Kind: "callout", State: "awaiting-cosign", Where: "school", Title: "Witness", Needed: 4, Responders: &api.Responders{}},
		"[AWAITING-COSIGN] callout 7b at school: Witness (needed 4, en route 0, on scene 0) - awaiting a second organizer: do not go yet",
	}, {
		api.Alert{ID: "7c", Kind: "callout", State: "awaiting-cosign", Where: "school", Title: "Witness", Exercise: true},
		"[DRILL] (awaiting-cosign) callout 7c at school: Witness (en route 0, on scene 0) - awaiting a second organizer",
	}, {
		api.Alert{ID: "7d", Kind: "callout", State: "active", Where: "school", Title: "Witness", Cosigned: true, Cosigners: []string{"m1"}},
		"[ACTIVE] callout 7d at school: Witness (en route 0, on scene 0) - co-signed by Ana (m1)",
	}, {
		api.Alert{ID: "5e", Kind: "sighting", State: "verified", Where: "park", What: "van", Exercise: true, Confirmations: &three, VerifiedBy: []string{"m1"}},
		"[DRILL] (verified) sighting 5e at park: van (3 witnesses) - verified by Ana (m1)",
	}, {
		api.Alert{ID: "1", Kind: "sighting", State: "cleared", Where: "x", What: "y", ClearReason: "retracted"},
		"[CLEARED] sighting 1 at x: y - retracted",
	}, {
		api.Alert{ID: "1", Kind: "sighting", State: "cleared", Where: "x", What: "y", Confirmations: &three, VerifiedBy: []string{"m1"}, ClearReason: "allclear", ClearNote: "gone"},
		"[CLEARED] sighting 1 at x: y (3 witnesses) - VERIFIED by Ana (m1) - all clear: gone",
	}, {
		api.Alert{ID: "8a", Kind: "callout", State: "active", Where: "court", Title: "Watch", Need: 3, Needed: 3, Via: "Junction",
			Responders: &api.Responders{EnRoute: 1},
			Linked:     []api.LinkedTally{{Zone: "Junction", Reporter: "m1", Responders: api.Responders{EnRoute: 3, OnScene: 3}, Capped: true}, {Zone: "Bloor\x1b", Reporter: "m2deadbeef", Responders: api.Responders{EnRoute: 2}}}},
		"[ACTIVE] callout 8a at court (via Junction): Watch (needed 3, en route 1, on scene 0) - from Junction: en route 3, on scene 3 (as reported by that zone, relayed by Ana (m1)) (capped: that zone reported more) - from Bloor : en route 2, on scene 0 (as reported by that zone, relayed by m2deadbe)",
	}, {
		api.Alert{ID: "2", Kind: "sighting", State: "unconfirmed", Where: "a\x1b[2Jb", What: "line\nbreak"},
		"[UNCONFIRMED] sighting 2 at a [2Jb: line break",
	}} {
		if got := formatAlert(en, tc.a, name); got != tc.want {
			t.Errorf("formatAlert = %q\nwant          %q", got, tc.want)
		}
	}
	if got := formatAlert(en, api.Alert{ID: "3", Kind: "sighting", State: "verified", Where: "x", VerifiedBy: []string{"0123456789abcdef"}}, nil); got != "[VERIFIED] sighting 3 at x - VERIFIED by 01234567" {
		t.Errorf("formatAlert without names = %q", got)
	}
	if got := who("m3", "Evil\x1b[31m"); got != "Evil [31m (m3)" {
		t.Errorf("who = %q, want the name cleaned", got)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	waitWithin(t, what, 90*time.Second, cond) // slowness is load, not a bug
}

// waitWithin is waitFor with a limit for slow steps (real Argon2id
// derivations on a loaded machine).
func waitWithin(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestDoubleDash(t *testing.T) {
	_, home := serveFake(t)
	lkOK(t, "--home", home, "zone", "create", "--", "-south")
	if out := lkOK(t, "--home", home, "zone", "list", "--json"); !strings.Contains(out, `"name":"-south"`) {
		t.Errorf("zone list after creating -south: %q", out)
	}
	out, _, code := lk(t, "--home", home, "zone", "-h")
	if code != 0 || !strings.Contains(out, "zone create") {
		t.Errorf("zone -h: exit %d, stdout %q", code, out)
	}
}

// TestZoneListRemoved: a member removed from a zone sees it in zone list,
// with what to do, instead of its old role.
func TestZoneListRemoved(t *testing.T) {
	f, home := serveFake(t)
	lkOK(t, "--home", home, "zone", "create", "north")
	lkOK(t, "--home", home, "zone", "create", "south")
	if err := f.SetRemoved("north"); err != nil {
		t.Fatal(err)
	}
	lines := map[string]string{}
	for _, l := range strings.Split(lkOK(t, "--home", home, "zone", "list"), "\n") {
		if name, _, ok := strings.Cut(l, " "); ok {
			lines[name] = l
		}
	}
	if l := lines["north"]; !strings.Contains(l, "removed: ask an organizer for a new invite") || strings.Contains(l, "organizer  ") {
		t.Errorf("zone list line of a zone this member was removed from = %q", l)
	}
	if l := lines["south"]; !strings.Contains(l, "organizer") || strings.Contains(l, "removed") {
		t.Errorf("zone list line of a zone this member is in = %q", l)
	}
	if out := lkOK(t, "--home", home, "zone", "list", "--json"); strings.Count(out, `"removed":true`) != 1 {
		t.Errorf("zone list --json = %q, want one zone marked removed", out)
	}
}

// TestZoneMadeByOlderLookout: zone list marks a zone made by an older
// Lookout and says what to do; zone leave deletes it, and only it.
func TestZoneMadeByOlderLookout(t *testing.T) {
	f, home := serveFake(t)
	lkOK(t, "--home", home, "zone", "create", "north")
	old := f.AddStaleZone("old block")
	out := lkOK(t, "--home", home, "zone", "list")
	var line string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "old block") {
			line = l
		}
	}
	if !strings.Contains(line, "made by an older Lookout: ask an organizer for a new invite") || !strings.Contains(line, old.ID) {
		t.Errorf("zone list line of the old zone = %q", line)
	}
	if out := lkOK(t, "--home", home, "zone", "list", "--json"); !strings.Contains(out, `"stale":true`) {
		t.Errorf("zone list --json = %q, want the old zone marked stale", out)
	}
	args := []string{"--home", home, "zone", "leave", "north"}
	_, errs, c := lk(t, args...)
	if c != 1 || !strings.Contains(errs, "only a zone made by an older Lookout can be left") {
		t.Errorf("leave a current zone: exit %d, stderr %q", c, errs)
	}
	checkOneLine(t, args, errs)
	if out := lkOK(t, "--home", home, "zone", "leave", "old block"); !strings.Contains(out, "left zone old block") {
		t.Errorf("zone leave printed %q", out)
	}
	if out := lkOK(t, "--home", home, "zone", "list"); strings.Contains(out, "old block") || !strings.Contains(out, "north") {
		t.Errorf("zone list after leaving = %q", out)
	}
}
