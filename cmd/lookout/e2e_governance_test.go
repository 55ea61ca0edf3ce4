package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"lookout/node/api"
)

func (e *e2e) members(home, zone string) map[string]api.Member {
	e.t.Helper()
	ms := map[string]api.Member{}
	for line := range strings.Lines(e.ok(home, "zone", "members", zone, "--json")) {
		var m api.Member
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			e.t.Fatalf("decode zone members --json line %q: %v", line, err)
		}
		ms[m.Name] = m
	}
	return ms
}

func (e *e2e) settings(home, zone string) api.Settings {
	e.t.Helper()
	var st api.Settings
	if err := json.Unmarshal([]byte(e.ok(home, "zone", "settings", zone, "--json")), &st); err != nil {
		e.t.Fatalf("decode zone settings --json: %v", err)
	}
	return st
}

// TestGovernanceEndToEnd runs three nodes on loopback: A founds a zone with
// B as member and C as organizer, turns co-signing on, co-signs C's
// callout, promotes B to verifier, and removes B, moving A and C to a new
// epoch that B cannot read.
func TestGovernanceEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: this test builds lookout and runs three node processes")
	}
	e := &e2e{t: t, bin: lookoutBinary(t)}
	root, err := os.MkdirTemp("", "lkgov")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	homeA, homeB, homeC := filepath.Join(root, "a"), filepath.Join(root, "b"), filepath.Join(root, "c")
	ids := map[string]string{} // home → member ID
	for _, h := range []string{homeA, homeB, homeC} {
		ids[h] = e.ok(h, "init", "--name", filepath.Base(h))
		p := e.start("node "+filepath.Base(h), h, "node", "--listen", "/ip4/127.0.0.1/tcp/0")
		p.waitLine(t, 30*time.Second, "listen address", func(l string) bool { return strings.Contains(l, "/p2p/") })
	}
	e.ok(homeA, "zone", "create", "north")
	e.ok(homeB, "zone", "join", e.ok(homeA, "zone", "invite", "north"))
	e.ok(homeC, "zone", "join", e.ok(homeA, "zone", "invite", "north", "--role", "organizer"))

	eventually(t, 30*time.Second, "A to know B's and C's keys", func() bool {
		ms := e.members(homeA, "north")
		return ms["b"].CanRekey && ms["c"].CanRekey && ms["c"].Role == "organizer" && ms["a"].Role == "organizer"
	})
	e.fails("organizer", homeB, "zone", "settings", "north", "--quorum", "3")
	e.fails("organizer", homeB, "zone", "promote", "north", "c", "--role", "verifier")

	// Co-signed callouts.
	if st := e.settings(homeA, "north"); st.Cosign || st.Quorum != 2 {
		t.Errorf("default settings = %+v", st)
	}
	e.ok(homeA, "zone", "settings", "north", "--cosign-callouts")
	eventually(t, 30*time.Second, "C to see co-signing on", func() bool { return e.settings(homeC, "north").Cosign })
	cid := e.ok(homeC, "callout", "north", "--title", "Accompany family", "--where", "library", "--need", "5")
	e.fails("second organizer", homeC, "cosign", cid)
	eventually(t, 30*time.Second, "the callout at A", func() bool {
		_, ok := e.alert(homeA, "north", cid)
		return ok
	})
	if a, _ := e.alert(homeA, "north", cid); a.State != "awaiting-cosign" {
		t.Errorf("callout at A before co-signing = %+v, want awaiting-cosign", a)
	}
	e.fails("organizer", homeB, "cosign", cid)
	e.ok(homeA, "cosign", cid)
	eventually(t, 30*time.Second, "B to see the callout co-signed", func() bool {
		a, ok := e.alert(homeB, "north", cid)
		return ok && a.State == "active" && a.Cosigned && slices.Contains(a.Cosigners, ids[homeA])
	})
	e.ok(homeC, "callout", "update", cid, "--need", "9", "--where", "library side door")
	eventually(t, 30*time.Second, "B to see the updated callout", func() bool {
		a, ok := e.alert(homeB, "north", cid)
		return ok && a.Needed == 9 && a.Where == "library side door"
	})

	// Promotion: B verifies C's sighting.
	e.ok(homeA, "zone", "promote", "north", "b", "--role", "verifier")
	eventually(t, 30*time.Second, "B to hold the verifier role", func() bool { return e.zone(homeB, "north").Role == "verifier" })
	sid := e.ok(homeC, "report", "north", "--what", "2 vans", "--where", "Jane & Finch")
	eventually(t, 30*time.Second, "the sighting at B", func() bool {
		_, ok := e.alert(homeB, "north", sid)
		return ok
	})
	if out := e.ok(homeB, "confirm", sid); !strings.Contains(out, "[VERIFIED]") || !strings.Contains(out, "VERIFIED by b (") {
		t.Errorf("B's confirm printed %q, want it verified by b", out)
	}
	eventually(t, 30*time.Second, "A to see the sighting verified by B", func() bool {
		a, ok := e.alert(homeA, "north", sid)
		return ok && a.State == "verified" && slices.Contains(a.VerifiedBy, ids[homeB])
	})

	// Removal: a new epoch for A and C only.
	var res api.RemoveResult
	if err := json.Unmarshal([]byte(e.ok(homeA, "zone", "remove", "north", "b", "--json")), &res); err != nil {
		t.Fatal(err)
	}
	if res.Removed != ids[homeB] || res.Epoch != 1 || res.Reached != 2 || len(res.Unreached) != 0 {
		t.Errorf("remove b = %+v, want epoch 1 reaching A and C", res)
	}
	eventually(t, 30*time.Second, "C at epoch 1", func() bool { return e.zone(homeC, "north").Epoch == 1 })
	eventually(t, 30*time.Second, "B to learn it was removed", func() bool {
		r := e.run(homeB, "report", "north", "--what", "x", "--where", "y")
		return r.code == 1 && strings.Contains(r.stderr, "removed")
	})
	if !e.members(homeC, "north")["b"].Removed {
		t.Errorf("C's member list does not show b removed")
	}
	after := e.ok(homeA, "report", "north", "--what", "agents", "--where", "plaza")
	eventually(t, 30*time.Second, "C to get A's report in the new epoch", func() bool {
		_, ok := e.alert(homeC, "north", after)
		return ok
	})
	if _, ok := e.alert(homeB, "north", after); ok {
		t.Errorf("removed member B received a report sent in the new epoch")
	}
}
