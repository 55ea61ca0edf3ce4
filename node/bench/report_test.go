package bench

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReportWrite renders a report of made-up results and checks the
// targets, the relative columns and the files.
func TestReportWrite(t *testing.T) {
	dir := t.TempDir()
	r := &report{ValidationMicros: 120}
	mk := func(scenario, proto string, p99, bytes float64) Result {
		return Result{Scenario: scenario, Protocol: proto, Nodes: 1000, Degree: 24, DeliveryRatio: 1,
			P50MS: p99 / 2, P99MS: p99, P99Stretch: 1.2, TopologyP50Stretch: 1.05, TopologyP99Stretch: 1.6,
			BytesPerNodePerAlert: bytes, MemBytesPerNode: 4e6, ConnsPerNode: 24.2,
			CDFMS: []float64{10, p99 / 2, p99}}
	}
	home := ID("zone", 1000, 24, homeUplink)
	r.put(mk(targetScenario, Floodsub, 100, 400))
	r.put(mk(targetScenario, Lookout, 105, 90))
	r.put(mk(targetScenario, GossipsubDefault, 200, 80))
	r.put(mk(targetScenario, Lookout, 104, 91)) // replaces the first lookout result
	capped := func(r Result) Result { r.BandwidthBPS = homeUplink; return r }
	r.put(capped(mk(home, Floodsub, 400, 400)))
	r.put(capped(mk(home, Lookout, 320, 91)))
	r.put(mk(ID("sybil", 1000, 24, 0), Floodsub, 120, 400))
	r.put(mk(ID("sybil", 1000, 24, 0), Lookout, 250, 91))
	if len(r.Results) != 7 || r.Results[0].Protocol != Lookout || r.Results[0].P99MS != 104 {
		t.Fatalf("results not replaced or ordered: %+v", r.Results)
	}
	if err := r.write(dir); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, reportMD))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| p99 vs floodsub (unlimited bandwidth) | ≤ 1.05 × | 1.04 × (104 vs 100 ms) | yes |",
		"| bytes vs floodsub | ≤ 25 % | 23 % | yes |",
		"| p99 vs floodsub, 20 Mbit/s uplinks | ≤ 0.75 × | 0.80 × (320 vs 400 ms) | **no** |",
		"| delivery and p99, 5 Mbit/s uplinks | 100 %, < 1000 ms | (not run) | **no** |",
		"| p50 / p99 stretch over the shared topology | ≤ 1.1 / ≤ 1.5 | 1.05 / 1.60 | **no** |",
		"| memory per node | ≤ 4 MB | 4.0 MB | yes |",
		"| connections per node | ≤ 128 (the node's connection manager) | 24.2 | yes |",
		"100.00 %, 2.40 × (250 vs 104 ms) | **no** |",
		"perf/" + targetScenario + ".png",
		"uplinks of 20 Mbit/s",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("perf.md lacks %q", want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, plotDir, targetScenario+".png")); err != nil {
		t.Errorf("plot: %v", err)
	}
	back, err := loadReport(filepath.Join(dir, reportJSON))
	if err != nil || len(back.Results) != 7 {
		t.Fatalf("reload: %v, %d results", err, len(back.Results))
	}
	b, err := os.ReadFile(filepath.Join(dir, reportJSON))
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"topology_p99_stretch", "bandwidth_bps", "conns_per_node", "mesh_degree_mean", "p99_stretch", "bytes_per_node_per_alert"} {
		if !strings.Contains(string(b), `"`+key+`"`) {
			t.Errorf("perf.json lacks key %q", key)
		}
	}
}

// TestTargetsFallBack: a target whose 1000-node companion was not run is
// checked on the largest size that was, and the row names it; a target
// that compares with floodsub is not met by a missing floodsub run.
func TestTargetsFallBack(t *testing.T) {
	r := &report{ValidationMicros: 120}
	mk := func(scenario, proto string, nodes int, p99 float64) Result {
		return Result{Scenario: scenario, Protocol: proto, Nodes: nodes, Degree: 24, DeliveryRatio: 1,
			P50MS: p99 / 2, P99MS: p99, BytesPerNodePerAlert: 90, MemBytesPerNode: 3e6, CDFMS: []float64{p99}}
	}
	r.put(mk(targetScenario, Lookout, 1000, 150))                 // no floodsub at 1000
	r.put(mk(ID("zone", 200, 24, 0), Floodsub, 200, 100))         // a smaller zone: not the headline
	r.put(mk(ID("zone", 200, 24, homeUplink), Lookout, 200, 300)) // capped runs only at 200 and 100
	r.put(mk(ID("zone", 200, 24, homeUplink), Floodsub, 200, 500))
	r.put(mk(ID("zone", 100, 24, homeUplink), Lookout, 100, 250))
	r.put(mk(ID("zone", 100, 24, homeUplink), Floodsub, 100, 400))
	r.put(mk(ID("sybil", 1000, 24, 0), Lookout, 1000, 240))          // no floodsub needed
	r.put(mk(ID("zone", 2000, 24, phoneUplink), Lookout, 2000, 900)) // larger than the headline: not used
	v := r.view(r.groups())
	got := map[string]target{}
	for _, tg := range v.Targets {
		got[tg.What] = tg
	}
	for what, want := range map[string]target{
		"p99 vs floodsub (unlimited bandwidth)": {Got: "(not run)"},
		"p99 vs floodsub, 20 Mbit/s uplinks":    {Got: "0.60 × (300 vs 500 ms)", Met: true, Scenario: "zone-n200-d24-bw20m"},
		"delivery and p99, 5 Mbit/s uplinks":    {Got: "(not run)"},
		"memory per node":                       {Got: "3.0 MB", Met: true, Scenario: targetScenario},
		"20 % nearest Sybils dropping alerts: delivery to honest nodes, p99 vs benign": {Got: "100.00 %, 1.60 × (240 vs 150 ms)", Met: true, Scenario: "sybil-n1000-d24"},
	} {
		g := got[what]
		if g.Got != want.Got || g.Met != want.Met || g.Scenario != want.Scenario {
			t.Errorf("%s: got %q met=%v on %q, want %q met=%v on %q", what, g.Got, g.Met, g.Scenario, want.Got, want.Met, want.Scenario)
		}
	}
	if v.TargetScenario != targetScenario {
		t.Errorf("headline %q, want %q", v.TargetScenario, targetScenario)
	}
}
