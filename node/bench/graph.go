package bench

import (
	"container/heap"
	"math"
	"math/rand/v2"
	"time"
)

// Latency draws one link's one-way latency.
type Latency struct {
	Min, Max time.Duration // uniform in [Min, Max]
}

// Draw returns a latency drawn from r.
func (l Latency) Draw(r *rand.Rand) time.Duration {
	if l.Max <= l.Min {
		return l.Min
	}
	return l.Min + time.Duration(r.Int64N(int64(l.Max-l.Min)+1))
}

// Graph is an undirected graph of nodes 0..N-1 with a one-way latency per
// edge.
type Graph struct {
	N   int
	Adj []map[int]time.Duration
}

// NewGraph returns a graph of n nodes and no edges.
func NewGraph(n int) *Graph {
	g := &Graph{N: n, Adj: make([]map[int]time.Duration, n)}
	for i := range g.Adj {
		g.Adj[i] = map[int]time.Duration{}
	}
	return g
}

// AddEdge links a and b with latency d (both directions).
func (g *Graph) AddEdge(a, b int, d time.Duration) {
	g.Adj[a][b] = d
	g.Adj[b][a] = d
}

// Edges returns the number of undirected edges.
func (g *Graph) Edges() int {
	e := 0
	for _, m := range g.Adj {
		e += len(m)
	}
	return e / 2
}

// Induced returns the subgraph of the nodes for which keep is true (the
// others stay, without edges).
func (g *Graph) Induced(keep func(int) bool) *Graph {
	h := NewGraph(g.N)
	for a, m := range g.Adj {
		if !keep(a) {
			continue
		}
		for b, d := range m {
			if keep(b) {
				h.Adj[a][b] = d
			}
		}
	}
	return h
}

// maxPickTries bounds the random search for a partner in RandomGraph.
const maxPickTries = 64

// RandomGraph links each of n nodes to about d others chosen at random
// (every node ends with degree ≥ min(d, n-1) unless the pick gives up on a
// nearly full graph). Latencies come from pairLatency so that a connection
// made later between the same two nodes has the same latency.
func RandomGraph(n, d int, r *rand.Rand, pairLatency func(a, b int) time.Duration) *Graph {
	g := NewGraph(n)
	d = min(d, n-1)
	for a := range n {
		for tries := 0; len(g.Adj[a]) < d && tries < maxPickTries*d; tries++ {
			b := r.IntN(n)
			if b == a {
				continue
			}
			if _, ok := g.Adj[a][b]; ok {
				continue
			}
			// Prefer partners that still need edges; accept others only
			// when few remain, so degrees stay close to d.
			if len(g.Adj[b]) >= d && tries < maxPickTries {
				continue
			}
			g.AddEdge(a, b, pairLatency(a, b))
		}
	}
	return g
}

// Dijkstra returns the shortest-path latency from src to every node;
// unreachable nodes get a negative duration.
func (g *Graph) Dijkstra(src int) []time.Duration {
	dist := make([]time.Duration, g.N)
	for i := range dist {
		dist[i] = math.MaxInt64
	}
	dist[src] = 0
	q := &distHeap{{src, 0}}
	for q.Len() > 0 {
		it := heap.Pop(q).(distItem)
		if it.d > dist[it.node] {
			continue
		}
		for v, w := range g.Adj[it.node] {
			if nd := it.d + w; nd < dist[v] {
				dist[v] = nd
				heap.Push(q, distItem{v, nd})
			}
		}
	}
	for i := range dist {
		if dist[i] == math.MaxInt64 {
			dist[i] = -1
		}
	}
	return dist
}

type distItem struct {
	node int
	d    time.Duration
}

type distHeap []distItem

func (h distHeap) Len() int           { return len(h) }
func (h distHeap) Less(i, j int) bool { return h[i].d < h[j].d }
func (h distHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *distHeap) Push(x any)        { *h = append(*h, x.(distItem)) }
func (h *distHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}
