package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestOrganizerSession replays what a first organizer tripped over, on
// three nodes on loopback: Amira organizes; Bea is a member; Chloé is a
// French-speaking member with no display name.
func TestOrganizerSession(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: this test builds lookout and runs three node processes")
	}
	e := &e2e{t: t, bin: lookoutBinary(t)}
	root, err := os.MkdirTemp("", "lksession")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	amira, bea, chloe := filepath.Join(root, "amira"), filepath.Join(root, "bea"), filepath.Join(root, "chloe")
	e.ok(amira, "init", "--name", "Amira")
	e.ok(bea, "init", "--name", "Bea")
	chloeID := e.ok(chloe, "init") // no name
	if r := e.run(filepath.Join(root, "evil"), "init", "--name", "\u202eevil"); r.code != 2 || !strings.Contains(r.stderr, "--name must be one line") {
		t.Errorf("init --name with a direction override: exit %d, stderr %q", r.code, r.stderr)
	}
	nodes := map[string]*proc{}
	for _, h := range []string{amira, bea, chloe} {
		p := e.start("node "+filepath.Base(h), h, "node", "--listen", "/ip4/127.0.0.1/tcp/0")
		p.waitLine(t, time.Minute, "listen address", func(l string) bool { return strings.Contains(l, "/p2p/") })
		nodes[h] = p
	}
	e.ok(amira, "zone", "create", "Plateau")
	for _, h := range []string{bea, chloe} {
		e.ok(h, "zone", "join", e.ok(amira, "zone", "invite", "plateau")) // zone names ignore case
		eventually(t, time.Minute, filepath.Base(h)+" on the zone", func() bool { return len(e.zone(h, "Plateau").Peers) > 0 })
	}
	eventually(t, time.Minute, "Amira to see both", func() bool { return len(e.zone(amira, "Plateau").Peers) == 2 })
	watchChloe := e.start("Chloé's watch", chloe, "watch", "Plateau")
	watchChloe.waitLine(t, time.Minute, "watching", func(l string) bool { return strings.HasPrefix(l, "watching Plateau…") })

	// 1. An escalation of the same place, written differently, joins the
	// incident, which shows the newest text and the largest size.
	id := e.ok(bea, "report", "plateau", "--what", "2 agents à la porte du 7200", "--where", "Jarry & Saint-Denis", "--size", "2")
	eventually(t, time.Minute, "the report at Chloé's", func() bool { _, ok := e.alert(chloe, "Plateau", id); return ok })
	e.env = []string{"LC_ALL=fr_CA.UTF-8"}
	r := e.run(chloe, "report", "Plateau", "--what", "Maintenant 6 agents, une personne emmenée", "--where", "jarry et st-denis", "--size", "6")
	e.env = nil
	if r.code != 0 || strings.TrimSpace(r.stdout) != id || !strings.Contains(r.stderr, "a rejoint l'incident "+id) {
		t.Fatalf("Chloé's report: exit %d, stdout %q, stderr %q; want incident %s, joined, in French", r.code, r.stdout, r.stderr, id)
	}
	eventually(t, time.Minute, "both reports at Amira's", func() bool {
		a, ok := e.alert(amira, "Plateau", id)
		return ok && len(a.Reports) == 2 && a.What == "Maintenant 6 agents, une personne emmenée" && a.Size == 6 && a.Reports[0].Size == 2
	})

	// 2. Amira verifies; Bea (who reported first) and Chloé cannot end it:
	// their clears are notes; Amira's all clear ends it.
	e.fails("only verifiers and organizers verify", bea, "verify", id[:8])
	e.ok(amira, "verify", id[:8])
	e.ok(bea, "clear", id, "--reason", "partis")
	e.ok(chloe, "clear", id, "--reason", "ils sont partis")
	eventually(t, time.Minute, "two notes at Amira's", func() bool {
		a, ok := e.alert(amira, "Plateau", id)
		return ok && len(a.Notes) == 2
	})
	a, _ := e.alert(amira, "Plateau", id)
	if a.State != "verified" {
		t.Errorf("after the members' clears the incident is %s, want still verified", a.State)
	}
	if out := e.ok(amira, "alerts", "Plateau"); !strings.Contains(out, "says they left: ils sont partis") || !strings.Contains(out, "lookout clear "+id[:8]) {
		t.Errorf("Amira's alerts does not show the note and what to do:\n%s", out)
	}

	// 3, 4. Urgency order, drills last; the callout's rights note.
	e.ok(bea, "report", "Plateau", "--what", "drill van", "--where", "park", "--exercise")
	co := e.ok(amira, "callout", "Plateau", "--title", "Accompagner la famille", "--where", "7200 Saint-Denis", "--rights", "Vous n'avez pas à ouvrir la porte")
	eventually(t, time.Minute, "the drill and the callout at Amira's", func() bool {
		_, ok := e.alert(amira, "Plateau", co)
		return ok && strings.Count(e.ok(amira, "alerts", "Plateau", "--json"), "\n") == 2
	})
	var heads []string
	for l := range strings.Lines(e.ok(amira, "alerts", "Plateau")) {
		if !strings.HasPrefix(l, " ") {
			heads = append(heads, strings.Fields(l)[0])
		}
	}
	if want := []string{"[ACTIVE]", "[VERIFIED]", "[DRILL]"}; !slices.Equal(heads, want) {
		t.Errorf("alerts order %v, want %v", heads, want)
	}
	watchChloe.waitLine(t, time.Minute, "the rights note in French", func(l string) bool { return strings.Contains(l, "know your rights: Vous n'avez pas") })
	e.ok(amira, "clear", id)
	eventually(t, time.Minute, "the all clear at Bea's", func() bool { _, ok := e.alert(bea, "Plateau", id); return !ok })

	// 6, 7. Chloé, with no name, is listed and removed by an ID prefix in
	// capitals; her watch says so in words.
	if out := e.ok(amira, "zone", "members", "Plateau"); !strings.Contains(out, chloeID) {
		t.Errorf("zone members lacks the unnamed member %s:\n%s", chloeID, out)
	}
	watchChloe.ended = true
	e.ok(amira, "zone", "remove", "PLATEAU", strings.ToUpper(chloeID[:10]))
	watchChloe.waitStderr(t, time.Minute, "you were removed from zone Plateau")
	select {
	case <-watchChloe.exited:
		if c := watchChloe.cmd.ProcessState.ExitCode(); c != 1 {
			t.Errorf("Chloé's watch exit %d after her removal, want 1", c)
		}
	case <-time.After(time.Minute):
		t.Error("Chloé's watch still runs after her removal")
	}
	e.fails(`no zone "zz"`, amira, "zone", "members", "zz")

	// 10. A watch whose node stops says so in words.
	watchBea := e.start("Bea's watch", bea, "watch", "Plateau")
	watchBea.waitLine(t, time.Minute, "watching", func(l string) bool { return strings.HasPrefix(l, "watching Plateau…") })
	watchBea.ended = true
	nodes[bea].stop(t)
	select {
	case <-watchBea.exited:
	case <-time.After(time.Minute):
		t.Fatal("Bea's watch still runs after her node stopped")
	}
	if errs := watchBea.stderr.String(); !strings.Contains(errs, "the node stopped, so watching ended; start it again with: lookout --home "+bea+" node") {
		t.Errorf("Bea's watch after her node stopped: stderr %q", errs)
	}
}
