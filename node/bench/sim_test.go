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
			t.Logf("%+v", fmt.Sprintf("delivery %.3f p50 %.1f ms p99 %.1f ms min stretch %.3f p99 stretch %.3f bytes/node/alert %.0f payload %d",
				res.DeliveryRatio, res.P50MS, res.P99MS, res.MinStretch, res.P99Stretch, res.BytesPerNodePerAlert, res.PayloadBytes))
			if res.DeliveryRatio != 1 {
				t.Errorf("delivery ratio %v, want 1", res.DeliveryRatio)
			}
			if res.MinStretch < 1 {
				t.Errorf("min stretch %v < 1: the lower bound is wrong", res.MinStretch)
			}
		})
	}
}
