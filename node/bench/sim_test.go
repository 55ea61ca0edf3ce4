package bench

import (
	"fmt"
	"testing"
	"time"
)

// smallSpec is a run small enough for go test -race.
func smallSpec(proto string, nodes int) Spec {
	return Spec{Scenario: "test", Protocol: proto, Nodes: nodes, Degree: 4, Zones: 1, Alerts: 3,
		Spread: 2 * time.Second, Latency: Latency{Min: 20 * time.Millisecond, Max: 80 * time.Millisecond},
		Seed: 1, Warmup: 5 * time.Second, Settle: 5 * time.Second}
}

// TestStretchAtLeastOne runs each protocol on a small network and checks
// that no node beats the shortest-path lower bound and all deliver.
func TestStretchAtLeastOne(t *testing.T) {
	for _, proto := range Protocols {
		t.Run(proto, func(t *testing.T) {
			n := 12
			if proto == Lookout {
				n = 6
			}
			res, err := Run(t, smallSpec(proto, n), nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%+v", fmt.Sprintf("delivery %.3f p50 %.1f ms p99 %.1f ms min stretch %.3f p99 stretch %.3f topology p99 stretch %.3f bytes/node/alert %.0f payload %d cpu µs/node/alert %.0f sim %.0f mesh %.1f conns %.1f",
				res.DeliveryRatio, res.P50MS, res.P99MS, res.MinStretch, res.P99Stretch, res.TopologyP99Stretch, res.BytesPerNodePerAlert, res.PayloadBytes,
				res.CPUMicrosPerAlert, res.CPUSimMicros, res.MeshDegreeMean, res.ConnsPerNode))
			if res.DeliveryRatio != 1 {
				t.Errorf("delivery ratio %v, want 1", res.DeliveryRatio)
			}
			if res.MinStretch < 1 {
				t.Errorf("min stretch %v < 1: the lower bound is wrong", res.MinStretch)
			}
			// Without connections beyond the topology's (no peer exchange;
			// on 6 nodes Lookout's members dial each other), the topology
			// bound is the own-connections bound.
			beyond := res.ConnsPerNode > 2*float64(res.Connections)/float64(res.Nodes)+0.01
			if !beyond && (res.TopologyMinStretch < 1 || res.TopologyP99Stretch != res.P99Stretch) {
				t.Errorf("topology stretch min %v p99 %v (own connections p99 %v): the topology bound is wrong",
					res.TopologyMinStretch, res.TopologyP99Stretch, res.P99Stretch)
			}
			if res.CPUMicrosPerAlert <= 0 {
				t.Errorf("no CPU attributed to nodes")
			}
		})
	}
}
