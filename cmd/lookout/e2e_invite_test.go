package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestInviteWhileInviterAway runs three nodes on loopback: A founds a zone
// and invites B; A makes a verifier invite, which names B's node too, and
// stops; C redeems it at B's node, as a verifier, and reports a sighting
// that B receives.
func TestInviteWhileInviterAway(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: this test builds lookout and runs three node processes")
	}
	e := &e2e{t: t, bin: lookoutBinary(t)}
	root, err := os.MkdirTemp("", "lkinv")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	homeA, homeB, homeC := filepath.Join(root, "a"), filepath.Join(root, "b"), filepath.Join(root, "c")
	peers := map[string]string{}
	nodes := map[string]*proc{}
	start := func(h string) {
		p := e.start("node "+filepath.Base(h), h, "node", "--listen", "/ip4/127.0.0.1/tcp/0")
		addr := p.waitLine(t, 30*time.Second, "listen address", func(l string) bool {
			return strings.HasPrefix(l, "/ip4/127.0.0.1/tcp/") && strings.Contains(l, "/p2p/")
		})
		peers[h] = addr[strings.LastIndex(addr, "/p2p/")+len("/p2p/"):]
		nodes[h] = p
	}
	for _, h := range []string{homeA, homeB, homeC} {
		e.ok(h, "init", "--name", filepath.Base(h))
	}
	start(homeA)
	start(homeB)

	zoneID := e.ok(homeA, "zone", "create", "north")
	e.ok(homeB, "zone", "join", e.ok(homeA, "zone", "invite", "north"))
	eventually(t, 30*time.Second, "A and B zone peers", func() bool {
		return slices.Contains(e.zone(homeA, "north").Peers, peers[homeB]) && slices.Contains(e.zone(homeB, "north").Peers, peers[homeA])
	})
	code := e.ok(homeA, "zone", "invite", "north", "--role", "verifier", "--ttl", "1h")
	// A's sighting, sent after the invite, reaching B says B holds the
	// invite too (same topic, and catch-up carries governance first).
	id := e.ok(homeA, "report", "north", "--what", "a marker", "--where", "here")
	eventually(t, 30*time.Second, "A's sighting at B", func() bool {
		_, ok := e.alert(homeB, "north", id)
		return ok
	})
	nodes[homeA].stop(t)

	start(homeC)
	var joined string
	eventually(t, 60*time.Second, "C to redeem the invite at B's node", func() bool {
		r := e.run(homeC, "zone", "join", code)
		joined = strings.TrimSpace(r.stdout)
		if r.code != 0 && !strings.Contains(r.stderr, "do not know it") {
			t.Fatalf("zone join with the inviter away: exit %d, %s", r.code, r.stderr)
		}
		return r.code == 0
	})
	if f := strings.Fields(joined); len(f) != 2 || f[0] != zoneID {
		t.Fatalf("C zone join printed %q, want %s north", joined, zoneID)
	}
	if z := e.zone(homeC, "north"); z.Role != "verifier" {
		t.Errorf("C joined as %q, want verifier", z.Role)
	}
	sid := e.ok(homeC, "report", "north", "--what", "2 unmarked vans", "--where", "Jane & Finch plaza")
	eventually(t, 30*time.Second, "C's sighting at B", func() bool {
		_, ok := e.alert(homeB, "north", sid)
		return ok
	})
	// The code is used: B refuses it to anyone else.
	e.ok(filepath.Join(root, "d"), "init", "--name", "d")
	start(filepath.Join(root, "d"))
	e.fails("already used", filepath.Join(root, "d"), "zone", "join", code)
}
