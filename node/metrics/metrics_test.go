package metrics_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"lookout/node"
	"lookout/node/api"
	"lookout/node/health"
	"lookout/node/metrics"
	"lookout/protocol"
)

var _ node.Observer = (*metrics.Metrics)(nil)

// fakeSource is a node with two zones.
type fakeSource struct{}

func (fakeSource) Status() api.Status {
	return api.Status{MemberID: "member-secret", Name: "Alice", PeerID: "12D3KooWSecret", Health: &api.Health{
		PeersDirect: 3, PeersRelayed: 1, StoreBytes: 4096, ClockOffsetMS: -1500, ClockSenders: 2,
		OlderPeers: []api.PeerVersion{{Peer: "12D3KooWOld", SyncProtocol: 1}},
	}}
}

func (fakeSource) Zones() []api.Zone {
	return []api.Zone{
		{ID: "zz-second", Name: "South", Topic: "topic-b", Peers: []string{"p1"}},
		{ID: "aa-first", Name: "North", Topic: "topic-a", Peers: []string{"p1", "p2"}},
	}
}

func (fakeSource) Members(zone string) ([]api.Member, error) {
	if zone == "aa-first" {
		return make([]api.Member, 5), nil
	}
	return make([]api.Member, 2), nil
}

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func TestMetrics(t *testing.T) {
	m := metrics.New("v1.2.3")
	if err := m.Watch(fakeSource{}); err != nil {
		t.Fatal(err)
	}
	m.Validated(nil, time.Millisecond)
	m.Validated(fmt.Errorf("x: %w", protocol.ErrBadSignature), time.Millisecond)
	m.Validated(health.ErrDuplicate, time.Microsecond)
	m.CatchUpServed(7)
	m.Tracer().RejectMessage(nil, "validation failed")
	m.Tracer().RejectMessage(nil, "something new")
	// A collector labelling with a source path, as go-libp2p's event bus does.
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bus_total", Help: "h"}, []string{"subscriber_name"})
	c.WithLabelValues("/home/alice/go/pkg/mod/github.com/libp2p/go-libp2p-pubsub@v0.19.0/gossipsub.go-L708").Inc()
	m.Registry().MustRegister(c)

	body := scrape(t, m)
	for _, want := range []string{
		"lookout_messages_accepted_total 1", `lookout_messages_rejected_total{reason="bad_signature"} 1`,
		`lookout_messages_rejected_total{reason="expired"} 0`, "lookout_messages_duplicate_total 1",
		"lookout_validation_seconds_count 3", "lookout_catchup_served_total 1", "lookout_catchup_served_messages_total 7",
		`lookout_peers{path="direct"} 3`, `lookout_peers{path="relayed"} 1`, "lookout_zones 2",
		`lookout_zone_members{zone="0"} 5`, `lookout_zone_members{zone="1"} 2`, `lookout_zone_peers{zone="0"} 2`,
		"lookout_store_bytes 4096", "lookout_clock_offset_seconds -1.5", `lookout_peers_protocol{generation="older"} 1`,
		`lookout_gossipsub_rejected_total{reason="validation_failed"} 1`, `lookout_gossipsub_rejected_total{reason="other"} 1`,
		fmt.Sprintf(`lookout_build_info{protocol="%d",version="v1.2.3"} 1`, protocol.Version), `bus_total{subscriber_name="gossipsub.go-L708"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	for _, secret := range []string{"member-secret", "Alice", "12D3Koo", "North", "South", "topic-", "aa-first", "zz-second", "alice", "/pkg/mod/"} {
		if strings.Contains(body, secret) {
			t.Errorf("scrape contains %q", secret)
		}
	}
}

// TestDashboardNames checks that every lookout_ metric the sample Grafana
// dashboard (docs/grafana-dashboard.json) queries exists.
func TestDashboardNames(t *testing.T) {
	b, err := os.ReadFile("../../docs/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("dashboard is not JSON: %v", err)
	}
	m := metrics.New("v0")
	if err := m.Watch(fakeSource{}); err != nil {
		t.Fatal(err)
	}
	m.Validated(nil, time.Millisecond)
	body := scrape(t, m)
	name := regexp.MustCompile(`lookout_[a-z_]+`)
	n := 0
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			for _, metric := range name.FindAllString(tg.Expr, -1) {
				n++
				if !strings.Contains(body, "\n"+metric) && !strings.HasPrefix(body, metric) {
					t.Errorf("panel %q queries %s, which the node does not export", p.Title, metric)
				}
			}
		}
	}
	if n < 15 {
		t.Errorf("dashboard queries only %d lookout metrics", n)
	}
}
