package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"lookout/node/api"
	"lookout/node/health"
	"lookout/protocol"
)

// fakeDisk makes doctor see free of total bytes.
func fakeDisk(t *testing.T, free, total uint64) {
	old := diskSpace
	diskSpace = func(string) (uint64, uint64, error) { return free, total, nil }
	t.Cleanup(func() { diskSpace = old })
}

// doctorLines runs doctor and returns its checks by name (JSON output).
func doctorLines(t *testing.T, home string) (map[string][]check, string, int) {
	t.Helper()
	out, errs, code := lk(t, "--home", home, "doctor", "--json")
	got := map[string][]check{}
	for line := range strings.Lines(out) {
		var c check
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			t.Fatalf("doctor --json line %q: %v", line, err)
		}
		got[c.Name] = append(got[c.Name], c)
	}
	return got, errs, code
}

func wantCheck(t *testing.T, got map[string][]check, name, status, text string) {
	t.Helper()
	for _, c := range got[name] {
		if c.Status == status && strings.Contains(c.Text, text) {
			return
		}
	}
	t.Errorf("doctor: no %s check %q mentioning %q; got %+v", status, name, text, got[name])
}

func TestDoctorNoNode(t *testing.T) {
	fakeDisk(t, 50<<30, 100<<30)
	home := t.TempDir()
	got, errs, code := doctorLines(t, home)
	if code != 1 || !strings.Contains(errs, "doctor found 1 problem;") {
		t.Fatalf("exit %d, stderr %q; want 1 and one problem", code, errs)
	}
	wantCheck(t, got, "running", "fail", "no node is running for home "+home)
	wantCheck(t, got, "disk", "ok", "50.0 GiB free of 100.0 GiB")
}

// TestDoctorNoPeers: a node alone, in no zone, on a nearly full disk.
func TestDoctorNoPeers(t *testing.T) {
	fakeDisk(t, 50<<20, 100<<30)
	f, home := serveFake(t)
	f.Self.Health = &api.Health{Protocol: 2, SyncProtocol: 2, Reachable: "unknown", StoreBytes: 3 << 20, Uptime: 3600}
	got, errs, code := doctorLines(t, home)
	if code != 1 || !strings.Contains(errs, "doctor found 3 problems") {
		t.Fatalf("exit %d, stderr %q; want 1 and 3 problems", code, errs)
	}
	wantCheck(t, got, "running", "ok", "up 60 minutes")
	wantCheck(t, got, "store", "ok", "3.0 MiB")
	wantCheck(t, got, "peers", "warn", "alerts reach nobody")
	wantCheck(t, got, "zones", "warn", "not a member of any zone")
	wantCheck(t, got, "reachable", "unknown", "forward port 4719 TCP and UDP")
	wantCheck(t, got, "clock", "unknown", "no live message")
	wantCheck(t, got, "versions", "ok", "protocol 2")
	wantCheck(t, got, "disk", "fail", "only 50.0 MiB free")

	// A zone with no other member's node reachable.
	lkOK(t, "--home", home, "zone", "create", "north")
	got, _, _ = doctorLines(t, home)
	wantCheck(t, got, "zone north", "warn", "1 members; no other member's node is reachable")

	// A zone made by an older Lookout: what to do.
	f.AddStaleZone("old block")
	got, _, _ = doctorLines(t, home)
	wantCheck(t, got, "zone old block", "warn", "made by an older Lookout: ask an organizer for a new invite, then lookout zone leave old block")
}

// TestDoctorSkewedClock: the node reports its clock 5 minutes ahead of
// three members' and one older peer; doctor and status say so loudly.
func TestDoctorSkewedClock(t *testing.T) {
	fakeDisk(t, 50<<30, 100<<30)
	f, home := serveFake(t)
	est := health.ClockEstimate{Offset: 5*time.Minute + 300*time.Millisecond, Senders: 3, Strays: 3}
	f.Self.Health = &api.Health{
		Protocol: 2, SyncProtocol: 2, Reachable: "unknown", PeersDirect: 3,
		ClockOffsetMS: est.Offset.Milliseconds(), ClockSenders: est.Senders, ClockStrays: est.Strays, ClockWarning: est.Warning(),
		OlderPeers: []api.PeerVersion{{Peer: "12D3KooWOld", SyncProtocol: 1}},
		Rejected:   map[string]uint64{"version": 2},
	}
	got, _, code := doctorLines(t, home)
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	wantCheck(t, got, "clock", "fail", "CLOCK WRONG: this computer's clock is about 5 minutes ahead of the clocks of 3 members")
	wantCheck(t, got, "versions", "warn", "1 connected nodes run an older Lookout than this one (catch-up protocol 2): they should upgrade: 12D3KooWOld (protocol 1)")
	wantCheck(t, got, "versions", "warn", "2 messages in an unknown format were refused")
	wantCheck(t, got, "peers", "ok", "3 connected (3 direct, 0 through a relay)")

	// The plain report and status carry the warning too.
	out, _, _ := lk(t, "--home", home, "doctor")
	if !strings.Contains(out, "FAIL  clock") || !strings.Contains(out, "CLOCK WRONG") {
		t.Errorf("doctor output lacks the clock failure:\n%s", out)
	}
	st := lkOK(t, "--home", home, "status")
	if !strings.Contains(st, "clock      !! CLOCK WRONG") || !strings.Contains(st, "versions   !! 1 connected nodes run an older Lookout") {
		t.Errorf("status lacks the loud clock and version lines:\n%s", st)
	}
}

// TestDoctorHealthyClock: a clock within bounds is reported with the
// number of members it was compared with; refused messages in the future
// still make doctor warn.
func TestDoctorHealthyClock(t *testing.T) {
	for _, tc := range []struct {
		h            api.Health
		status, text string
	}{
		{api.Health{ClockOffsetMS: 400, ClockSenders: 4}, "ok", "agrees with 4 members' clocks (this one +0.4 s"},
		{api.Health{ClockOffsetMS: -200, ClockSenders: 1, Rejected: map[string]uint64{"future": 3}}, "warn", "3 messages were refused as sent in the future"},
		{api.Health{ClockSenders: 1, ClockStrays: 1, ClockWarning: health.ClockEstimate{Offset: time.Hour, Senders: 1, Strays: 1}.Warning()}, "warn", "1 member's clock differs"},
	} {
		if c := clockCheck(&tc.h); c.Status != tc.status || !strings.Contains(c.Text, tc.text) {
			t.Errorf("clockCheck(%+v) = %+v, want %s mentioning %q", tc.h, c, tc.status, tc.text)
		}
	}
}

func TestVersion(t *testing.T) {
	out := lkOK(t, "version")
	if want := fmt.Sprintf("lookout dev (commit unknown) wire protocol %d, go", protocol.Version); !strings.HasPrefix(out, want) || strings.Count(out, "\n") != 1 {
		t.Errorf("lookout version = %q", out)
	}
	if _, errs, code := lk(t, "version", "extra"); code != 2 || !strings.Contains(errs, "unexpected argument") {
		t.Errorf("lookout version extra: exit %d, %q", code, errs)
	}
}

// TestDoctorReachableAndStore: doctor and status say in words whether
// members can reach the node from the internet, and doctor fails when the
// store cannot be read.
func TestDoctorReachableAndStore(t *testing.T) {
	fakeDisk(t, 50<<30, 100<<30)
	for _, tc := range []struct {
		reachable, status, doctor, statusLine string
	}{
		{"yes", "ok", "other members can reach this node from the internet", "reachable  yes"},
		{"no", "warn", "cannot reach this node from the internet: forward port 4719 TCP and UDP", "reachable  no"},
	} {
		f, home := serveFake(t)
		f.Self.Health = &api.Health{Protocol: 2, SyncProtocol: 2, Reachable: tc.reachable, PeersDirect: 1, Uptime: 60}
		got, _, _ := doctorLines(t, home)
		wantCheck(t, got, "reachable", tc.status, tc.doctor)
		if st := lkOK(t, "--home", home, "status"); !strings.Contains(st, tc.statusLine) {
			t.Errorf("status lacks %q:\n%s", tc.statusLine, st)
		}
	}

	f, home := serveFake(t)
	f.Self.Health = &api.Health{Protocol: 2, SyncProtocol: 2, Reachable: "yes", PeersDirect: 1, StoreError: "read meta: bolt: page 7 corrupt"}
	got, errs, code := doctorLines(t, home)
	if code != 1 || !strings.Contains(errs, "doctor found") {
		t.Fatalf("exit %d, stderr %q; want 1 and a problem count", code, errs)
	}
	wantCheck(t, got, "store", "fail", "the store cannot be read: read meta: bolt: page 7 corrupt; stop the node and restore the home")
}
