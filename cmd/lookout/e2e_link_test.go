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

// viaAlert finds the alert of zone with the given what that came over a link.
func (e *e2e) viaAlert(home, zone, what string) (api.Alert, bool) {
	e.t.Helper()
	for line := range strings.Lines(e.ok(home, "alerts", zone, "--json")) {
		var a api.Alert
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			e.t.Fatalf("decode alerts --json line %q: %v", line, err)
		}
		if a.What == what && a.Via != "" {
			return a, true
		}
	}
	return api.Alert{}, false
}

// TestLinkEndToEnd runs four nodes on loopback: A founds north with D as
// member, B founds south with C as member. A links north to south, B
// accepts; D's sighting, verified by A, is shared and reaches C via
// "Parkdale"; A's all clear follows; then B ends the link and A sees it.
func TestLinkEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: this test builds lookout and runs four node processes")
	}
	e := &e2e{t: t, bin: lookoutBinary(t)}
	root, err := os.MkdirTemp("", "lklink")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	homeA, homeB, homeC, homeD := filepath.Join(root, "a"), filepath.Join(root, "b"), filepath.Join(root, "c"), filepath.Join(root, "d")
	for _, h := range []string{homeA, homeB, homeC, homeD} {
		e.ok(h, "init", "--name", filepath.Base(h))
		p := e.start("node "+filepath.Base(h), h, "node", "--listen", "/ip4/127.0.0.1/tcp/0")
		p.waitLine(t, 30*time.Second, "listen address", func(l string) bool { return strings.Contains(l, "/p2p/") })
	}
	e.ok(homeA, "zone", "create", "north")
	e.ok(homeD, "zone", "join", e.ok(homeA, "zone", "invite", "north"))
	e.ok(homeB, "zone", "create", "south")
	e.ok(homeC, "zone", "join", e.ok(homeB, "zone", "invite", "south"))

	e.fails("organizer", homeD, "zone", "link", "north")
	code := e.ok(homeA, "zone", "link", "north", "--name", "Parkdale")
	e.fails("another zone", homeA, "zone", "accept-link", "north", code)
	e.ok(homeB, "zone", "accept-link", "south", code)
	e.fails("already", homeB, "zone", "accept-link", "south", code)
	eventually(t, 30*time.Second, "C to know the link", func() bool {
		return strings.Contains(e.ok(homeC, "zone", "links", "south", "--json"), `"peer":"Parkdale"`)
	})

	sid := e.ok(homeD, "report", "north", "--what", "2 vans", "--where", "Queen & Dunn")
	eventually(t, 30*time.Second, "the sighting at A", func() bool {
		_, ok := e.alert(homeA, "north", sid)
		return ok
	})
	e.fails("unconfirmed", homeA, "share", sid)
	e.ok(homeA, "confirm", sid)
	e.ok(homeA, "share", sid)
	eventually(t, 30*time.Second, "C to get the shared sighting via Parkdale", func() bool {
		a, ok := e.viaAlert(homeC, "south", "2 vans")
		return ok && a.Via == "Parkdale" && a.State == "verified"
	})
	e.ok(homeA, "clear", sid, "--reason", "gone")
	eventually(t, 30*time.Second, "the all clear to reach C", func() bool {
		_, ok := e.viaAlert(homeC, "south", "2 vans")
		return !ok
	})

	e.ok(homeB, "zone", "unlink", "south", "Parkdale")
	eventually(t, 30*time.Second, "A to see the link ended", func() bool {
		return strings.Contains(e.ok(homeA, "zone", "links", "north", "--json"), `"state":"ended"`)
	})
}
