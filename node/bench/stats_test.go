package bench

import (
	"math/rand/v2"
	"testing"
	"time"
)

const ms1 = time.Millisecond

// TestDijkstraHandMade checks shortest paths on a small graph where the
// direct link is slower than a detour:
//
//	0 —10— 1 —10— 2
//	 \_____50_____/      3 —5— 4 (not reachable from 0)
func TestDijkstraHandMade(t *testing.T) {
	g := NewGraph(5)
	g.AddEdge(0, 1, 10*ms1)
	g.AddEdge(1, 2, 10*ms1)
	g.AddEdge(0, 2, 50*ms1)
	g.AddEdge(3, 4, 5*ms1)
	got := g.Dijkstra(0)
	want := []time.Duration{0, 10 * ms1, 20 * ms1, -1, -1}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("dist[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	if e := g.Edges(); e != 4 {
		t.Errorf("edges = %d, want 4", e)
	}
}

func TestRandomGraphDegree(t *testing.T) {
	const n, d = 200, 6
	lat := pairLatency(DefaultLatency, 3)
	g := RandomGraph(n, d, rand.New(rand.NewPCG(3, 0)), lat)
	for v := range n {
		if len(g.Adj[v]) < d {
			t.Errorf("node %d has degree %d < %d", v, len(g.Adj[v]), d)
		}
		for u, l := range g.Adj[v] {
			if l != lat(v, u) || l != lat(u, v) || l < DefaultLatency.Min || l > DefaultLatency.Max {
				t.Errorf("edge %d-%d latency %v inconsistent or out of range", v, u, l)
			}
		}
	}
	// Same seed, same graph.
	g2 := RandomGraph(n, d, rand.New(rand.NewPCG(3, 0)), lat)
	for v := range n {
		if len(g.Adj[v]) != len(g2.Adj[v]) {
			t.Fatalf("graphs of the same seed differ at node %d", v)
		}
	}
}

// TestSummarizeCounts checks delivery counting, the deadline, stretch and
// the split between online latencies and catch-up after churn.
func TestSummarizeCounts(t *testing.T) {
	t0 := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	back := t0.Add(40 * time.Second)
	alerts := []AlertObs{
		{
			From: 0, Sent: t0, Expected: []int{1, 2, 3, 4},
			Lower: []time.Duration{0, 10 * ms1, 20 * ms1, 30 * ms1, 40 * ms1},
			Arrived: map[int]time.Time{
				1: t0.Add(10 * ms1),         // stretch 1
				2: t0.Add(30 * ms1),         // stretch 1.5
				3: t0.Add(11 * time.Second), // after the deadline: not counted
				// 4 (offline from t0) never catches up: counts as missed
				0: t0, // the sender itself: not expected, not counted
			},
		},
		{
			From: 1, Sent: t0.Add(time.Second), Expected: []int{0, 4},
			Lower: []time.Duration{10 * ms1, 0, 0, 0, 20 * ms1},
			Arrived: map[int]time.Time{
				0: t0.Add(time.Second + 40*ms1), // stretch 4
				4: back.Add(2 * time.Second),    // offline node, caught up 2 s after its return
			},
		},
	}
	offline := map[int]Window{4: {From: t0, Back: back}}
	s := Summarize(alerts, offline, 10*time.Second)
	if s.Expected != 6 || s.Delivered != 4 {
		t.Fatalf("expected/delivered = %d/%d, want 6/4", s.Expected, s.Delivered)
	}
	if s.DeliveryRatio != 4.0/6 {
		t.Errorf("ratio = %v", s.DeliveryRatio)
	}
	if len(s.Latencies) != 3 || s.Latencies[0] != 10*ms1 || s.Latencies[2] != 40*ms1 {
		t.Errorf("latencies = %v", s.Latencies)
	}
	if len(s.Stretches) != 3 || s.MinStretch != 1 || s.Stretches[1] != 1.5 || s.Stretches[2] != 4 {
		t.Errorf("stretches = %v", s.Stretches)
	}
	if len(s.CatchUp) != 1 || s.CatchUp[0] != 2*time.Second {
		t.Errorf("catch-up = %v", s.CatchUp)
	}
}

func TestQuantile(t *testing.T) {
	v := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, c := range []struct {
		q    float64
		want int
	}{{0, 1}, {0.5, 5}, {0.95, 10}, {0.99, 10}, {1, 10}, {0.1, 1}, {0.11, 2}} {
		if got := Quantile(v, c.q); got != c.want {
			t.Errorf("Quantile(%v) = %d, want %d", c.q, got, c.want)
		}
	}
	if Quantile([]int(nil), 0.5) != 0 {
		t.Error("empty quantile is not zero")
	}
}

// TestLowerBoundHandMade checks the shared lower bound on a small graph:
// shortest paths over the topology through nodes that forward only.
//
//	0 —10— 1 —10— 2 —5— 3
//	 \______50_____/
//	 \__30__ 4 (a Sybil or offline: does not forward)  4 —1— 3
func TestLowerBoundHandMade(t *testing.T) {
	g := NewGraph(5)
	g.AddEdge(0, 1, 10*ms1)
	g.AddEdge(1, 2, 10*ms1)
	g.AddEdge(0, 2, 50*ms1)
	g.AddEdge(2, 3, 5*ms1)
	g.AddEdge(0, 4, 30*ms1)
	g.AddEdge(4, 3, 1*ms1)
	all := func(int) bool { return true }
	for _, c := range []struct {
		name     string
		src      int
		forwards func(int) bool
		want     []time.Duration
	}{
		{"everyone forwards", 0, all, []time.Duration{0, 10 * ms1, 20 * ms1, 25 * ms1, 26 * ms1}},
		{"4 drops", 0, func(v int) bool { return v != 4 }, []time.Duration{0, 10 * ms1, 20 * ms1, 25 * ms1, -1}},
		{"1 and 4 drop", 0, func(v int) bool { return v != 1 && v != 4 }, []time.Duration{0, -1, 50 * ms1, 55 * ms1, -1}},
		{"the sender forwards even if marked", 4, func(v int) bool { return v != 4 }, []time.Duration{26 * ms1, 16 * ms1, 6 * ms1, 1 * ms1, 0}},
	} {
		got := LowerBound(g, c.src, c.forwards)
		for i := range c.want {
			if got[i] != c.want[i] {
				t.Errorf("%s: dist[%d] = %v, want %v", c.name, i, got[i], c.want[i])
			}
		}
	}
	if e := g.Edges(); e != 6 {
		t.Errorf("LowerBound changed the graph: %d edges, want 6", e)
	}
}
