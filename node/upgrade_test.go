package node_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"lookout/node"
	"lookout/node/api"
	"lookout/protocol"
)

// v2Cert reads a certificate encoded by protocol version 2.
func v2Cert(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/v2_cert_founder.golden")
	if err != nil {
		t.Fatal(err)
	}
	var h strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "#") {
			h.WriteString(strings.TrimSpace(line))
		}
	}
	c, err := hex.DecodeString(h.String())
	if err != nil {
		t.Fatal(err)
	}
	if c[0] != 2 {
		t.Fatalf("golden certificate has version %d, want 2", c[0])
	}
	if _, err := protocol.ParseCert(c); !errors.Is(err, protocol.ErrVersion) {
		t.Fatalf("ParseCert(v2) = %v, want ErrVersion", err)
	}
	return c
}

// TestStartsWithZoneOfOlderVersion: a home holding a zone made under
// protocol version 2 still starts; the zone is listed as stale, not
// joined, and can be left; a current zone keeps working.
func TestStartsWithZoneOfOlderVersion(t *testing.T) {
	ctx := testContext(t)
	clock := newClock()
	nw := startNet(t, ctx, 1, clock)
	n := nw.Nodes[0]
	cur, err := n.CreateZone(ctx, "north")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := node.StoredZones(n)
	if err != nil {
		t.Fatal(err)
	}
	old := zoneRecord{ID: strings.Repeat("ab", protocol.ZoneIDSize), Name: "old block", Secret: bytes.Repeat([]byte{7}, 32),
		Root: node.Identity(n).Public().Bytes(), Chain: [][]byte{v2Cert(t)}, Peers: []string{}, Created: clock.Now()}
	b, err := json.Marshal(old)
	if err != nil {
		t.Fatal(err)
	}
	if err := node.ReplaceStoredZones(n, append(raw, b)); err != nil {
		t.Fatal(err)
	}
	if err := nw.Restart(ctx, 0); err != nil {
		t.Fatalf("a home with a version-2 zone must start: %v", err)
	}
	n = nw.Nodes[0]
	byName := map[string]api.Zone{}
	for _, z := range n.Zones() {
		byName[z.Name] = z
	}
	if z := byName["old block"]; !z.Stale || z.ID != old.ID || z.Topic != "" {
		t.Errorf("old zone listed as %+v, want stale and not joined", z)
	}
	if z := byName["north"]; z.Stale || z.ID != cur.ID || z.Topic == "" {
		t.Errorf("current zone listed as %+v, want joined", z)
	}
	if _, err := n.Report(ctx, api.ReportRequest{Zone: "old block", What: "van", Where: "corner"}); err == nil {
		t.Error("a report to a stale zone was accepted")
	}
	if _, err := n.Report(ctx, api.ReportRequest{Zone: "north", What: "van", Where: "corner"}); err != nil {
		t.Errorf("report to the current zone: %v", err)
	}
	if _, err := n.LeaveZone(ctx, "north"); !errors.Is(err, api.ErrInvalid) {
		t.Errorf("leaving a current zone: %v, want ErrInvalid", err)
	}
	if _, err := n.LeaveZone(ctx, "nowhere"); !errors.Is(err, api.ErrNotFound) {
		t.Errorf("leaving an unknown zone: %v, want ErrNotFound", err)
	}
	left, err := n.LeaveZone(ctx, "OLD BLOCK")
	if err != nil || left.ID != old.ID {
		t.Fatalf("leave stale zone = %+v, %v", left, err)
	}
	if err := nw.Restart(ctx, 0); err != nil {
		t.Fatal(err)
	}
	assertZoneIDs(t, nw, 0, cur.ID)
}
