package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestMetricsEndToEnd runs two nodes, A with --metrics on loopback, has B
// report a sighting to their zone, scrapes A and checks the expected
// metrics are there and that nothing identifying (names, IDs, topics)
// appears anywhere in the scrape. Then doctor runs against the live node.
func TestMetricsEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: this test builds lookout and runs two node processes")
	}
	e := &e2e{t: t, bin: lookoutBinary(t)}
	root, err := os.MkdirTemp("", "lkmet")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	homeA, homeB := filepath.Join(root, "a"), filepath.Join(root, "b")
	memberA := e.ok(homeA, "init", "--name", "Alice Organizer")
	memberB := e.ok(homeB, "init", "--name", "Bob Member")

	if r := e.run(homeA, "node", "--metrics", "0.0.0.0:0"); r.code != 2 || !strings.Contains(r.stderr, "not a loopback address") || !strings.Contains(r.stderr, "--metrics-public") {
		t.Errorf("public metrics without --metrics-public: exit %d, %q; want 2 naming --metrics-public", r.code, r.stderr)
	}

	a := e.start("node a", homeA, "node", "--listen", "/ip4/127.0.0.1/tcp/0", "--metrics", "127.0.0.1:0")
	url := strings.TrimPrefix(a.waitLine(t, 30*time.Second, "metrics URL", func(l string) bool {
		return strings.HasPrefix(l, "metrics http://127.0.0.1:")
	}), "metrics ")
	b := e.start("node b", homeB, "node", "--listen", "/ip4/127.0.0.1/tcp/0")
	b.waitLine(t, 30*time.Second, "listen address", func(l string) bool { return strings.HasPrefix(l, "/ip4/127.0.0.1/tcp/") })
	peerA, peerB := e.status(homeA).PeerID, e.status(homeB).PeerID

	zoneID := e.ok(homeA, "zone", "create", "Riverside North")
	code := e.ok(homeA, "zone", "invite", zoneID)
	e.ok(homeB, "zone", "join", code)
	eventually(t, 30*time.Second, "A and B on the zone topic", func() bool {
		return slices.Contains(e.zone(homeA, "Riverside North").Peers, peerB) && slices.Contains(e.zone(homeB, "Riverside North").Peers, peerA)
	})
	topic := e.zone(homeA, "Riverside North").Topic
	alertID := e.ok(homeB, "report", zoneID, "--what", "two grey vans", "--where", "Elm and 5th")
	eventually(t, 30*time.Second, "A holds B's report", func() bool { _, ok := e.alert(homeA, zoneID, alertID); return ok })

	scrape := func() string {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("scrape %s: %v", url, err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("scrape %s: %d, %v", url, resp.StatusCode, err)
		}
		return string(body)
	}
	var body string
	eventually(t, 30*time.Second, "A's metrics count B's report", func() bool {
		body = scrape()
		return regexp.MustCompile(`(?m)^lookout_messages_accepted_total [1-9]`).MatchString(body)
	})
	for _, want := range []string{
		`lookout_peers{path="direct"} 1`, `lookout_peers{path="relayed"} 0`, "lookout_zones 1",
		`lookout_zone_members{zone="0"} 2`, `lookout_zone_peers{zone="0"} 1`,
		`lookout_messages_rejected_total{reason="bad_signature"} 0`, `lookout_messages_rejected_total{reason="future"} 0`,
		"lookout_catchup_served_total ", "lookout_catchup_served_messages_total ", "lookout_validation_seconds_bucket{",
		"lookout_store_bytes ", "lookout_store_healthy 1", "lookout_relay_reservations 0", "lookout_clock_offset_seconds ",
		"lookout_clock_senders 1", `lookout_peers_protocol{generation="older"} 0`, "lookout_build_info{",
		"lookout_gossipsub_delivered_total ", "lookout_gossipsub_graft_total ", "lookout_gossipsub_rpc_received_total ",
		"libp2p_rcmgr_", "libp2p_swarm_", "libp2p_identify_", "go_goroutines ", "process_resident_memory_bytes ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	// Nothing identifying anywhere, labels or not.
	for _, secret := range []string{
		"Alice", "Bob", "Riverside", zoneID, topic, memberA, memberB, peerA, peerB, alertID, "grey vans", "Elm",
	} {
		if secret != "" && strings.Contains(body, secret) {
			t.Errorf("scrape contains identifying %q", secret)
		}
	}
	// Label values are fixed words or numbers.
	labelValue := regexp.MustCompile(`="([^"]*)"`)
	for _, m := range labelValue.FindAllStringSubmatch(body, -1) {
		if len(m[1]) > 64 || strings.Contains(m[1], "12D3Koo") || strings.Contains(m[1], root) || strings.Contains(m[1], "/pkg/mod/") {
			t.Errorf("suspicious label value %q", m[1])
		}
	}

	// Doctor on the live node: running, store, one zone with B reachable.
	r := e.run(homeA, "doctor")
	for _, want := range []string{`ok +running +the node runs`, `ok +store +the store reads fine`, `ok +peers +1 connected \(1 direct`, `ok +zone Riverside North +2 members; 1 members' nodes reachable now`} {
		if !regexp.MustCompile(want).MatchString(r.stdout) {
			t.Errorf("doctor output lacks %q:\n%s", want, r.stdout)
		}
	}
}
