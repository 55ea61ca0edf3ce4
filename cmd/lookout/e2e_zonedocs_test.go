package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lookout/node/api"
)

func (e *e2e) places(home, zone string) []api.Place {
	e.t.Helper()
	var ps []api.Place
	for line := range strings.Lines(e.ok(home, "places", zone, "--json")) {
		var p api.Place
		if err := json.Unmarshal([]byte(line), &p); err != nil {
			e.t.Fatalf("decode places --json line %q: %v", line, err)
		}
		ps = append(ps, p)
	}
	return ps
}

// TestZoneDocsEndToEnd runs two nodes on loopback: A founds a zone and B
// joins as a member, then B's node stops; A publishes French zone cards
// and adds a safe place; B, back, reads both by catch-up, cannot publish
// cards or add a place, and suggests one that A confirms. B's home holds
// none of it in plain text.
func TestZoneDocsEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: this test builds lookout and runs two node processes")
	}
	e := &e2e{t: t, bin: lookoutBinary(t)}
	root, err := os.MkdirTemp("", "lkdocs")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	homeA, homeB := filepath.Join(root, "a"), filepath.Join(root, "b")
	nodes := map[string]*proc{}
	startNode := func(h string) {
		p := e.start("node "+filepath.Base(h), h, "node", "--listen", "/ip4/127.0.0.1/tcp/0")
		p.waitLine(t, 30*time.Second, "listen address", func(l string) bool { return strings.Contains(l, "/p2p/") })
		nodes[h] = p
	}
	for _, h := range []string{homeA, homeB} {
		e.ok(h, "init", "--name", filepath.Base(h))
		startNode(h)
	}
	e.ok(homeA, "zone", "create", "north")
	e.ok(homeB, "zone", "join", e.ok(homeA, "zone", "invite", "north"))
	eventually(t, 30*time.Second, "A to know B", func() bool { return e.members(homeA, "north")["b"].CanRekey })
	nodes[homeB].stop(t)

	set := filepath.Join(root, "fr.json")
	if err := os.WriteFile(set, []byte(testZoneSet), 0o600); err != nil {
		t.Fatal(err)
	}
	e.ok(homeA, "rights", "publish", "north", set)
	food := e.ok(homeA, "place", "add", "north", "--kind", "food", "--name", "Banque alimentaire Jarry", "--where", "Jarry & St-Michel",
		"--languages", "fr,es", "--no-id")

	startNode(homeB)
	eventually(t, 60*time.Second, "B to catch up on the zone's cards and places", func() bool {
		out := e.ok(homeB, "rights", "--zone", "north", "--lang", "fr")
		ps := e.places(homeB, "north")
		return strings.Contains(out, "revision 1") && len(ps) == 1 && ps[0].ID == food
	})
	if out := e.ok(homeB, "rights", "clinique", "--zone", "north", "--lang", "fr"); !strings.Contains(out, "Apportez vos papiers") {
		t.Errorf("B's zone card:\n%s", out)
	}
	e.fails("ask an organizer of north", homeB, "rights", "publish", "north", set)
	e.fails("lookout place suggest north", homeB, "place", "add", "north", "--kind", "food", "--name", "X")
	sug := e.ok(homeB, "place", "suggest", "north", "--kind", "legal", "--name", "Clinique juridique Villeray")
	eventually(t, 30*time.Second, "A to see B's suggestion", func() bool {
		for _, p := range e.places(homeA, "north") {
			if p.ID == sug && p.Suggested() {
				return true
			}
		}
		return false
	})
	e.ok(homeA, "place", "confirm", "north", sug)
	eventually(t, 30*time.Second, "B to see the confirmation", func() bool {
		for _, p := range e.places(homeB, "north") {
			if p.ID == sug && !p.Suggested() {
				return true
			}
		}
		return false
	})
	nodes[homeB].stop(t)
	scanFiles(t, homeB, "Apportez vos papiers", "Banque alimentaire Jarry", "Clinique juridique Villeray")
}
