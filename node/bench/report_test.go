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
	mk := func(proto string, p99, bytes float64) Result {
		return Result{Scenario: targetScenario, Protocol: proto, Nodes: 1000, Degree: 24, DeliveryRatio: 1,
			P50MS: p99 / 2, P99MS: p99, P99Stretch: 1.2, BytesPerNodePerAlert: bytes, MemBytesPerNode: 4e6,
			CDFMS: []float64{10, p99 / 2, p99}}
	}
	r.put(mk(Floodsub, 100, 400))
	r.put(mk(Lookout, 105, 90))
	r.put(mk(GossipsubDefault, 200, 80))
	r.put(mk(Lookout, 106, 91)) // replaces the first lookout result
	if len(r.Results) != 3 || r.Results[0].Protocol != Lookout || r.Results[0].P99MS != 106 {
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
		"| p99 latency vs floodsub | ≤ 1.1 × | 1.06 × (106 vs 100 ms) | yes |",
		"| bytes vs floodsub | ≤ 25 % | 23 % | yes |",
		"| memory per node | ≤ 8 MB | 4.0 MB | yes |",
		"perf/" + targetScenario + ".png",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("perf.md lacks %q", want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, plotDir, targetScenario+".png")); err != nil {
		t.Errorf("plot: %v", err)
	}
	back, err := loadReport(filepath.Join(dir, reportJSON))
	if err != nil || len(back.Results) != 3 {
		t.Fatalf("reload: %v, %d results", err, len(back.Results))
	}
}
