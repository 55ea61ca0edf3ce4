package node_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"lookout/node/api"
	"lookout/node/sim"
)

// BenchmarkMeshDelivery measures, on a 20-node mocknet zone, the time from
// Report returning to the last node showing the sighting. Reported as
// p50/p99 of that time across iterations, in milliseconds.
func BenchmarkMeshDelivery(b *testing.B) {
	for _, n := range []int{10, 20} {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) { benchDelivery(b, n) })
	}
}

func benchDelivery(b *testing.B, n int) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	nw, err := sim.Start(ctx, sim.Config{Nodes: n, Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer nw.Close()
	z, err := nw.FormZone(ctx, "bench", nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := nw.WaitMesh(ctx, z.ID, 2); err != nil {
		b.Fatal(err)
	}
	type arrival struct {
		id string
		at time.Time
	}
	arrivals := make(chan arrival, 1024)
	for _, nd := range nw.Nodes {
		ch, err := nd.Watch(ctx, z.ID)
		if err != nil {
			b.Fatal(err)
		}
		go func() {
			for a := range ch {
				arrivals <- arrival{a.ID, time.Now()}
			}
		}()
	}
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		sender := nw.Nodes[i%n]
		start := time.Now()
		a, err := sender.Report(ctx, api.ReportRequest{Zone: z.ID, What: fmt.Sprintf("bench %d", i), Where: "loop"})
		if err != nil {
			b.Fatal(err)
		}
		got := 0
		var last time.Time
		for got < n {
			select {
			case r := <-arrivals:
				if r.id == a.ID {
					got++
					last = r.at
				}
			case <-ctx.Done():
				b.Fatalf("alert %d reached %d of %d nodes", i, got, n)
			}
		}
		lat = append(lat, last.Sub(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
