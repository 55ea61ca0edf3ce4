package main

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"lookout/node/api"
	"lookout/node/control/controltest"
)

const anaID = "aaaa1111aaaa1111aaaa1111aaaa1111aaaa1111aaaa1111aaaa1111aaaa1111"

// zoneWithMembers serves a fake whose member Ana organizes north, with Bob
// and Dee (keys known) and Carol (key not seen yet).
func zoneWithMembers(t *testing.T) (f *controltest.Fake, home string, bob, carol, dee api.Member) {
	t.Helper()
	f, home = serveFake(t)
	f.Self = api.Status{MemberID: anaID, Name: "Ana"}
	lkOK(t, "--home", home, "zone", "create", "north")
	add := func(m api.Member) api.Member {
		m, err := f.AddMember("north", m)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	bob = add(api.Member{Name: "Bob", CanRekey: true})
	carol = add(api.Member{Name: "Carol"})
	dee = add(api.Member{Name: "Dee", CanRekey: true})
	return f, home, bob, carol, dee
}

// lkFails runs the CLI and checks it exits 1 with one line on stderr that
// mentions want, and prints nothing on stdout.
func lkFails(t *testing.T, want string, args ...string) {
	t.Helper()
	out, errs, code := lk(t, args...)
	if code != 1 || out != "" || !strings.Contains(errs, want) {
		t.Errorf("lookout %s: exit %d, stdout %q, stderr %q; want exit 1 mentioning %q", strings.Join(args, " "), code, out, errs, want)
	}
	checkOneLine(t, args, errs)
}

func TestZoneMembers(t *testing.T) {
	_, home, bob, carol, _ := zoneWithMembers(t)
	for _, args := range [][]string{
		{"--home", home, "zone", "members", "north", "--json"},
		{"--home", home, "zone", "members", "--json", "north"},
	} {
		objs := jsonKeys(t, lkOK(t, args...), "id", "name", "role", "removed", "can_rekey")
		if len(objs) != 4 {
			t.Fatalf("zone members --json: %d members, want 4", len(objs))
		}
		if o := objs[0]; o["id"] != anaID || o["name"] != "Ana" || o["role"] != "organizer" || o["removed"] != false || o["can_rekey"] != true {
			t.Errorf("first member = %v, want Ana, organizer", o)
		}
		if o := objs[1]; o["id"] != bob.ID || o["role"] != "member" || o["can_rekey"] != true {
			t.Errorf("second member = %v, want Bob", o)
		}
		if o := objs[2]; o["id"] != carol.ID || o["can_rekey"] != false {
			t.Errorf("third member = %v, want Carol without a key", o)
		}
	}
	out := lkOK(t, "--home", home, "zone", "members", "north")
	lines := strings.Split(out, "\n")
	if !strings.HasPrefix(lines[0], "NAME") || !strings.Contains(lines[1], "Ana") || !strings.Contains(lines[1], "organizer") || !strings.Contains(lines[1], anaID) {
		t.Errorf("zone members:\n%s", out)
	}
	if !strings.Contains(lines[3], "Carol") || !strings.Contains(lines[3], "key not seen yet") || strings.Contains(lines[2], "key not seen yet") {
		t.Errorf("zone members does not mark Carol's unknown key:\n%s", out)
	}
	if !strings.Contains(out, "new invite") {
		t.Errorf("zone members does not say what an unknown key means:\n%s", out)
	}
	lkFails(t, `"south"`, "--home", home, "zone", "members", "south")
}

func TestZonePromote(t *testing.T) {
	f, home, bob, carol, _ := zoneWithMembers(t)
	if out := lkOK(t, "--home", home, "zone", "promote", "north", "Bob", "--role", "verifier"); out != "Bob ("+bob.ID[:8]+") is now a verifier in north\n" {
		t.Errorf("promote Bob printed %q", out)
	}
	if out := lkOK(t, "--home", home, "zone", "promote", "--role", "organizer", "north", carol.ID[:10]); out != "Carol ("+carol.ID[:8]+") is now an organizer in north\n" {
		t.Errorf("promote Carol by ID prefix printed %q", out)
	}
	objs := jsonKeys(t, lkOK(t, "--home", home, "zone", "promote", "north", "Dee", "--role", "verifier", "--json"), "id", "name", "role", "removed", "can_rekey")
	if len(objs) != 1 || objs[0]["name"] != "Dee" || objs[0]["role"] != "verifier" {
		t.Errorf("promote --json = %v", objs)
	}
	roles := map[string]string{}
	for _, o := range jsonKeys(t, lkOK(t, "--home", home, "zone", "members", "north", "--json")) {
		roles[o["name"].(string)] = o["role"].(string)
	}
	if roles["Bob"] != "verifier" || roles["Carol"] != "organizer" || roles["Dee"] != "verifier" {
		t.Errorf("roles after promoting = %v", roles)
	}

	lkFails(t, "zone members", "--home", home, "zone", "promote", "north", "Zed", "--role", "verifier")
	if _, err := f.AddMember("north", api.Member{Name: "Bob"}); err != nil {
		t.Fatal(err)
	}
	lkFails(t, "more than one member", "--home", home, "zone", "promote", "north", "Bob", "--role", "organizer")
	lkFails(t, `"south"`, "--home", home, "zone", "promote", "south", "Bob", "--role", "organizer")
	if err := f.SetRole("north", "member"); err != nil {
		t.Fatal(err)
	}
	lkFails(t, "organizer", "--home", home, "zone", "promote", "north", bob.ID, "--role", "organizer")
}

func TestZoneRemove(t *testing.T) {
	f, home, bob, carol, dee := zoneWithMembers(t)
	out := lkOK(t, "--home", home, "zone", "remove", "north", "Bob")
	want := "removed Bob (" + bob.ID[:8] + ") from north\n" +
		"new epoch 1 reached 2 members; members who are offline get it when they reconnect\n" +
		"1 member was not reached: their key was never seen, so each needs a new invite (lookout --home " + home + " zone invite north):\n" +
		"  Carol (" + carol.ID[:8] + ")\n"
	if out != want {
		t.Errorf("zone remove printed\n%s\nwant\n%s", out, want)
	}
	for _, o := range jsonKeys(t, lkOK(t, "--home", home, "zone", "members", "north", "--json")) {
		if o["removed"] != (o["id"] == bob.ID) {
			t.Errorf("after removing Bob: %v", o)
		}
	}
	if out := lkOK(t, "--home", home, "zone", "list", "--json"); !strings.Contains(out, `"epoch":1`) {
		t.Errorf("zone list after removal: %s", out)
	}
	lkFails(t, "already removed", "--home", home, "zone", "remove", "north", bob.ID)
	lkFails(t, "yourself", "--home", home, "zone", "remove", "north", "Ana")

	objs := jsonKeys(t, lkOK(t, "--home", home, "zone", "remove", "--json", "north", dee.ID[:12]), "removed", "epoch", "reached", "unreached")
	if o := objs[0]; o["removed"] != dee.ID || o["epoch"] != 2.0 || o["reached"] != 1.0 || len(o["unreached"].([]any)) != 1 {
		t.Errorf("zone remove --json = %v", o)
	}
	if out := lkOK(t, "--home", home, "zone", "remove", "north", "Carol"); strings.Contains(out, "not reached") || !strings.Contains(out, "new epoch 3 reached 1 member;") {
		t.Errorf("removing the last unreached member printed %q", out)
	}

	if err := f.SetRole("north", "verifier"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.AddMember("north", api.Member{Name: "Eve", CanRekey: true}); err != nil {
		t.Fatal(err)
	}
	lkFails(t, "ask an organizer of north", "--home", home, "zone", "remove", "north", "Eve")
}

func TestZoneSettings(t *testing.T) {
	f, home := serveFake(t)
	lkOK(t, "--home", home, "zone", "create", "north")
	out := lkOK(t, "--home", home, "zone", "settings", "north")
	for _, want := range []string{"quorum", "2 witnesses", "20m", "4h after", "cosign callouts  no", "max reports      10 per member per 10 minutes", "max confirms     30"} {
		if !strings.Contains(out, want) {
			t.Errorf("zone settings lacks %q:\n%s", want, out)
		}
	}
	objs := jsonKeys(t, lkOK(t, "--home", home, "zone", "settings", "north", "--json"), "quorum", "window", "expiry", "cosign", "max_reports", "max_confirms")
	if o := objs[0]; len(objs) != 1 || o["quorum"] != 2.0 || o["window"] != "20m0s" || o["expiry"] != "4h0m0s" || o["cosign"] != false {
		t.Errorf("zone settings --json = %v", objs)
	}

	o := jsonKeys(t, lkOK(t, "--home", home, "zone", "settings", "--quorum", "3", "north", "--window", "30m", "--cosign-callouts", "--max-reports", "5", "--json"))[0]
	if o["quorum"] != 3.0 || o["window"] != "30m0s" || o["cosign"] != true || o["max_reports"] != 5.0 || o["max_confirms"] != 30.0 || o["expiry"] != "4h0m0s" {
		t.Errorf("after changing settings: %v", o)
	}
	out = lkOK(t, "--home", home, "zone", "settings", "north", "--cosign-callouts=false", "--expiry", "1d")
	if !strings.Contains(out, "cosign callouts  no") || !strings.Contains(out, "3 witnesses") || !strings.Contains(out, "1d after") {
		t.Errorf("after turning co-signing off:\n%s", out)
	}
	if out := lkOK(t, "--home", home, "zone", "settings", "north", "--cosign-callouts"); !strings.Contains(out, "cosign callouts  yes") {
		t.Errorf("after turning co-signing on:\n%s", out)
	}
	lkFails(t, "window", "--home", home, "zone", "settings", "north", "--window", "30s")
	lkFails(t, `"south"`, "--home", home, "zone", "settings", "south")

	if err := f.SetRole("north", "member"); err != nil {
		t.Fatal(err)
	}
	if out := lkOK(t, "--home", home, "zone", "settings", "north", "--json"); !strings.Contains(out, `"quorum":3`) {
		t.Errorf("a member reading settings: %q", out)
	}
	lkFails(t, "organizer", "--home", home, "zone", "settings", "north", "--quorum", "4")
}

func TestCalloutUpdate(t *testing.T) {
	f, home := serveFake(t)
	lkOK(t, "--home", home, "zone", "create", "north")
	id := strings.TrimSpace(lkOK(t, "--home", home, "callout", "north", "--title", "Accompany family", "--where", "school", "--need", "5"))
	out := lkOK(t, "--home", home, "callout", "update", id, "--where", "library", "--need", "8", "--when", "now")
	if want := "[ACTIVE] callout " + id + " at library: Accompany family, when now (needed 8, en route 0, on scene 0)\n"; out != want {
		t.Errorf("callout update printed %q, want %q", out, want)
	}
	if out := lkOK(t, "--home", home, "callout", "update", "--title", "Witness", id[:8]); !strings.Contains(out, ": Witness, when now (needed 8") {
		t.Errorf("callout update by ID prefix printed %q", out)
	}
	if o := jsonKeys(t, lkOK(t, "--home", home, "alerts", "north", "--json"))[0]; o["title"] != "Witness" || o["needed"] != 8.0 || o["where"] != "library" {
		t.Errorf("alerts after update: %v", o)
	}

	sid := strings.TrimSpace(lkOK(t, "--home", home, "report", "north", "--what", "van", "--where", "corner"))
	lkFails(t, "only callouts", "--home", home, "callout", "update", sid, "--title", "x")
	lkFails(t, `"nope"`, "--home", home, "callout", "update", "nope", "--title", "x")

	// A zone named "update" is given to callout by its ID.
	zid := strings.TrimSpace(lkOK(t, "--home", home, "zone", "create", "update"))
	if _, _, code := lk(t, "--home", home, "callout", "update", "--title", "t", "--where", "w"); code != 2 {
		t.Errorf("callout update without an alert: exit %d, want 2", code)
	}
	if out := lkOK(t, "--home", home, "callout", zid, "--title", "t", "--where", "w"); !idRE.MatchString(out) {
		t.Errorf("callout in zone update by ID printed %q", out)
	}

	if err := f.SetRole("north", "verifier"); err != nil {
		t.Fatal(err)
	}
	lkFails(t, "organizer", "--home", home, "callout", "update", id, "--title", "x")
}

func TestCosign(t *testing.T) {
	f, home, bob, _, _ := zoneWithMembers(t)
	if _, err := f.Promote(t.Context(), "north", "Bob", "organizer"); err != nil {
		t.Fatal(err)
	}
	lkOK(t, "--home", home, "zone", "settings", "north", "--cosign-callouts")
	own := strings.TrimSpace(lkOK(t, "--home", home, "callout", "north", "--title", "Accompany family", "--where", "school"))
	out := lkOK(t, "--home", home, "alerts", "north")
	if want := "[AWAITING-COSIGN] callout " + own + " at school: Accompany family (en route 0, on scene 0) - awaiting a second organizer: do not go yet\n"; out != want {
		t.Errorf("alerts printed %q, want %q", out, want)
	}
	lkFails(t, "second organizer", "--home", home, "cosign", own)

	theirs, err := f.Receive(api.Alert{Zone: "north", Kind: "callout", Sender: bob.ID, SenderRole: "organizer", Title: "Witness", Where: "plaza", Need: 3})
	if err != nil {
		t.Fatal(err)
	}
	out = lkOK(t, "--home", home, "cosign", theirs.ID)
	if want := "[ACTIVE] callout " + theirs.ID + " at plaza: Witness (needed 3, en route 0, on scene 0) - co-signed by Ana (aaaa1111)\n"; out != want {
		t.Errorf("cosign printed %q, want %q", out, want)
	}
	objs := jsonKeys(t, lkOK(t, "--home", home, "alerts", "north", "--json"), "state", "needed", "responders", "cosigned")
	for _, o := range objs {
		switch o["id"] {
		case own:
			if o["state"] != "awaiting-cosign" || o["cosigned"] != false {
				t.Errorf("own callout = %v", o)
			}
		case theirs.ID:
			if o["state"] != "active" || o["cosigned"] != true || o["cosigners"].([]any)[0] != anaID {
				t.Errorf("co-signed callout = %v", o)
			}
		}
	}
	lkFails(t, "already co-signed", "--home", home, "cosign", theirs.ID)

	drill, err := f.Receive(api.Alert{Zone: "north", Kind: "callout", Sender: bob.ID, SenderRole: "organizer", Title: "Practice", Where: "park", Exercise: true})
	if err != nil {
		t.Fatal(err)
	}
	out = lkOK(t, "--home", home, "alerts", "north")
	if want := "[DRILL] (awaiting-cosign) callout " + drill.ID + " at park: Practice (en route 0, on scene 0) - awaiting a second organizer\n"; !strings.Contains(out, want) {
		t.Errorf("alerts lacks the drill line %q:\n%s", want, out)
	}

	if err := f.SetRole("north", "member"); err != nil {
		t.Fatal(err)
	}
	lkFails(t, "organizer", "--home", home, "cosign", drill.ID)
}

// TestIncidentAndVerifiers: an incident shows its newest text and largest
// size with each report, report says it joined one, a member's "they left"
// is a note, verify is refused to members, alerts are ordered by urgency
// with drills last, a callout's rights note is shown in text.
func TestIncidentAndVerifiers(t *testing.T) {
	f, home, bob, _, _ := zoneWithMembers(t)
	if err := f.SetRole("north", "member"); err != nil {
		t.Fatal(err)
	}
	id := lkOK(t, "--home", home, "report", "north", "--what", "2 agents", "--where", "Jarry & Saint-Denis", "--size", "2")
	out, errs, code := lk(t, "--home", home, "report", "north", "--what", "Maintenant 6 agents", "--where", "jarry et st-denis", "--size", "6")
	id = strings.TrimSpace(id)
	if code != 0 || strings.TrimSpace(out) != id || !strings.Contains(errs, "joined incident "+id+" (2 reports)") {
		t.Errorf("second report of the place: exit %d, stdout %q, stderr %q; want the incident's ID and that it joined it", code, out, errs)
	}
	out = lkOK(t, "--home", home, "alerts", "north")
	re := regexp.MustCompile(`^\[CORROBORATED\] sighting ` + id + ` at jarry et st-denis: Maintenant 6 agents, size 6 \(2 witnesses, 2 reports\)` + "\n" +
		`    \d\d:\d\d \S+ Ana \(aaaa1111\): 2 agents at Jarry & Saint-Denis \(size 2\)` + "\n" +
		`    \d\d:\d\d \S+ Ana \(aaaa1111\): Maintenant 6 agents at jarry et st-denis \(size 6\)` + "\n$")
	if !re.MatchString(out) {
		t.Errorf("alerts printed\n%s\nwant the newest text, the largest size and each report", out)
	}
	o := jsonKeys(t, lkOK(t, "--home", home, "alerts", "north", "--json"), "incident", "sightings", "verified_by", "reports")[0]
	if rs := o["reports"].([]any); len(o["sightings"].([]any)) != 2 || len(rs) != 2 || rs[1].(map[string]any)["what"] != "Maintenant 6 agents" ||
		rs[0].(map[string]any)["size"] != 2.0 || rs[0].(map[string]any)["sent"] == nil || o["size"] != 6.0 {
		t.Errorf("incident --json = %v", o)
	}

	// A member is not a verifier; verify says so and sends nothing.
	lkFails(t, "only verifiers and organizers verify", "--home", home, "verify", id)

	// A member who did not report it: "they left" is a note, not an end.
	five := 5
	v, err := f.Receive(api.Alert{Zone: "north", Kind: "sighting", Where: "plaza", What: "agents", Confirmations: &five, Verified: true, VerifiedBy: []string{bob.ID}, State: "verified", Sender: bob.ID})
	if err != nil {
		t.Fatal(err)
	}
	out, errs, code = lk(t, "--home", home, "clear", v.ID, "--reason", "partis")
	if code != 0 || !strings.HasPrefix(out, "[VERIFIED]") || !strings.Contains(out, "says they left: partis") || !strings.Contains(errs, "a verifier or organizer gives the all clear") {
		t.Errorf("member's clear of a verified sighting: exit %d, stdout %q, stderr %q; want it still verified, with the note", code, out, errs)
	}

	// Order: callout, verified, corroborated; drills last.
	if err := f.SetRole("north", "organizer"); err != nil {
		t.Fatal(err)
	}
	lkOK(t, "--home", home, "report", "north", "--what", "drill van", "--where", "park", "--exercise")
	co := strings.TrimSpace(lkOK(t, "--home", home, "callout", "north", "--title", "Accompany family", "--where", "school", "--rights", "You do not have to open the door"))
	out = lkOK(t, "--home", home, "alerts", "north")
	var firsts []string
	for l := range strings.Lines(out) {
		if !strings.HasPrefix(l, " ") {
			firsts = append(firsts, strings.Fields(l)[0])
		}
	}
	if want := []string{"[ACTIVE]", "[VERIFIED]", "[CORROBORATED]", "[DRILL]"}; !slices.Equal(firsts, want) {
		t.Errorf("alerts in order %v, want %v:\n%s", firsts, want, out)
	}
	if !strings.Contains(out, "callout "+co) || !strings.Contains(out, "\n    know your rights: You do not have to open the door\n") {
		t.Errorf("alerts does not show the callout's rights note:\n%s", out)
	}
	// As organizer, verify sends the confirm that verifies.
	out = lkOK(t, "--home", home, "verify", id)
	if !strings.HasPrefix(out, "[VERIFIED] sighting "+id) {
		t.Errorf("verify printed %q", out)
	}
	if out := lkOK(t, "--home", home, "confirm", "--help"); !strings.Contains(out, "also verifies it") {
		t.Errorf("confirm --help does not say what a verifier's confirm does:\n%s", out)
	}
}
