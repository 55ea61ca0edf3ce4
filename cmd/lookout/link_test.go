package main

import (
	"strings"
	"testing"

	"lookout/node/api"
)

// TestZoneLinkCommands: link, accept-link, links (text and JSON), unlink,
// and the errors for a code used twice, in the zone that made it, and by
// a member.
func TestZoneLinkCommands(t *testing.T) {
	f, home := serveFake(t)
	lkOK(t, "--home", home, "zone", "create", "north")
	lkOK(t, "--home", home, "zone", "create", "south")

	out, errs, code := lk(t, "--home", home, "zone", "link", "north", "--name", "Parkdale")
	code1 := strings.TrimSpace(out)
	if code != 0 || !strings.HasPrefix(code1, "lookoutlink2:") || strings.Count(out, "\n") != 1 || errs != "" {
		t.Fatalf("zone link: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	lkFails(t, "made this code", "--home", home, "zone", "accept-link", "north", code1)
	if got := lkOK(t, "--home", home, "zone", "accept-link", "south", code1); !strings.Contains(got, "linked south with Parkdale") {
		t.Errorf("zone accept-link: %q", got)
	}
	lkFails(t, "already used", "--home", home, "zone", "accept-link", "south", code1)
	lkFails(t, "invalid link code", "--home", home, "zone", "accept-link", "south", "lookoutlink2:nonsense")

	objs := jsonKeys(t, lkOK(t, "--home", home, "zone", "links", "south", "--json"), "id", "name", "peer", "since", "state")
	if len(objs) != 1 || objs[0]["peer"] != "Parkdale" || objs[0]["name"] != "south" || objs[0]["state"] != "active" || objs[0]["since"] == nil {
		t.Fatalf("zone links --json = %v", objs)
	}
	objs = jsonKeys(t, lkOK(t, "--home", home, "zone", "links", "north", "--json"), "id", "name", "peer", "since")
	if len(objs) != 1 || objs[0]["peer"] != "south" || objs[0]["name"] != "Parkdale" {
		t.Fatalf("zone links north --json = %v", objs)
	}
	if text := lkOK(t, "--home", home, "zone", "links", "south"); !strings.HasPrefix(text, "PEER") || !strings.Contains(text, "Parkdale") || !strings.Contains(text, "active") {
		t.Errorf("zone links:\n%s", text)
	}

	if err := f.SetRole("south", "member"); err != nil {
		t.Fatal(err)
	}
	lkFails(t, "only organizers", "--home", home, "zone", "unlink", "south", "Parkdale")
	lkFails(t, "only organizers", "--home", home, "zone", "link", "south")
	if err := f.SetRole("south", "organizer"); err != nil {
		t.Fatal(err)
	}
	if got := lkOK(t, "--home", home, "zone", "unlink", "south", "Parkdale"); !strings.Contains(got, "ended the link of south with Parkdale") {
		t.Errorf("zone unlink: %q", got)
	}
	objs = jsonKeys(t, lkOK(t, "--home", home, "zone", "links", "north", "--json"), "state")
	if objs[0]["state"] != "ended" {
		t.Errorf("the other side did not end: %v", objs)
	}
	lkFails(t, "already ended", "--home", home, "zone", "unlink", "south", objs[0]["id"].(string))
	lkFails(t, "no link", "--home", home, "zone", "unlink", "south", "Nowhere")
	if text := lkOK(t, "--home", home, "zone", "links", "nothing-here-yet"[:0]+"north"); !strings.Contains(text, "ended") {
		t.Errorf("zone links north:\n%s", text)
	}
}

// TestShareCommand: only verified sightings and callouts are shared, by
// verifiers and organizers, in a zone with an active link; alerts --json
// shows via for an alert that came over a link.
func TestShareCommand(t *testing.T) {
	f, home := serveFake(t)
	lkOK(t, "--home", home, "zone", "create", "north")
	lkOK(t, "--home", home, "zone", "create", "south")
	id := strings.TrimSpace(lkOK(t, "--home", home, "report", "north", "--what", "van", "--where", "Queen & Dunn"))
	other := strings.TrimSpace(lkOK(t, "--home", home, "report", "north", "--what", "car", "--where", "King & Bay"))
	lkOK(t, "--home", home, "confirm", other)
	lkFails(t, "no active links", "--home", home, "share", other)

	code := strings.TrimSpace(lkOK(t, "--home", home, "zone", "link", "north"))
	lkOK(t, "--home", home, "zone", "accept-link", "south", code)
	lkFails(t, "unconfirmed", "--home", home, "share", id)
	if out, errs, code := lk(t, "--home", home, "share", id, "--hops", "9"); code != 2 || out != "" || !strings.Contains(errs, "--hops must be 1 to 8") {
		t.Errorf("share --hops 9: exit %d, stdout %q, stderr %q; want usage error", code, out, errs)
	}

	if err := f.SetRole("north", "member"); err != nil {
		t.Fatal(err)
	}
	lkFails(t, "only verifiers and organizers", "--home", home, "share", id)
	if err := f.SetRole("north", "organizer"); err != nil {
		t.Fatal(err)
	}
	lkOK(t, "--home", home, "confirm", id) // an organizer's confirm verifies
	if got := lkOK(t, "--home", home, "share", id, "--city-wide"); !strings.Contains(got, "shared sighting") || !strings.Contains(got, "up to 8 links") {
		t.Errorf("share: %q", got)
	}

	if _, err := f.Receive(api.Alert{Zone: "south", Kind: "sighting", What: "van", Where: "Queen & Dunn", State: "verified", Verified: true, Via: "north", Origin: "north"}); err != nil {
		t.Fatal(err)
	}
	objs := jsonKeys(t, lkOK(t, "--home", home, "alerts", "south", "--json"), "via", "origin")
	if len(objs) != 1 || objs[0]["via"] != "north" {
		t.Errorf("alerts --json = %v, want via north", objs)
	}
	if text := lkOK(t, "--home", home, "alerts", "south"); !strings.Contains(text, "(via north)") {
		t.Errorf("alerts:\n%s", text)
	}
	objs = jsonKeys(t, lkOK(t, "--home", home, "alerts", "north", "--json"))
	if _, ok := objs[0]["via"]; ok {
		t.Errorf("a local alert shows via: %v", objs[0])
	}
	viaID := ""
	for _, o := range jsonKeys(t, lkOK(t, "--home", home, "alerts", "south", "--json")) {
		viaID = o["id"].(string)
	}
	lkFails(t, "came over a link", "--home", home, "share", viaID)
}

func TestZoneSettingsAutoShare(t *testing.T) {
	_, home := serveFake(t)
	lkOK(t, "--home", home, "zone", "create", "north")
	objs := jsonKeys(t, lkOK(t, "--home", home, "zone", "settings", "north", "--auto-share", "verified", "--json"), "auto_share")
	if objs[0]["auto_share"] != "verified" {
		t.Errorf("auto_share = %v", objs[0]["auto_share"])
	}
	if text := lkOK(t, "--home", home, "zone", "settings", "north"); !strings.Contains(text, "auto-share") || !strings.Contains(text, "verified") {
		t.Errorf("zone settings:\n%s", text)
	}
	out, errs, code := lk(t, "--home", home, "zone", "settings", "north", "--auto-share", "everything")
	if code != 2 || out != "" || !strings.Contains(errs, "must be one of") {
		t.Errorf("bad --auto-share: exit %d, stdout %q, stderr %q", code, out, errs)
	}
}
