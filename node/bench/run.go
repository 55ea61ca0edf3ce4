// Package bench measures how fast an alert reaches every member of a zone:
// N real Lookout nodes (or, as baselines, bare gossipsub with library
// defaults and floodsub) on go-libp2p's virtual-time network (simnet: real
// QUIC, simulated links) inside a testing/synctest bubble, so that CPU load
// does not inflate latency and a 1000-node run is deterministic in its
// topology and link latencies.
//
// Run executes one scenario for one protocol and needs a *testing.T (the
// bubble is testing/synctest's); Main, for cmd/lookout-bench, builds this
// package's test binary and runs every scenario in its own process, then
// writes docs/perf.json, docs/perf.md and latency CDF plots.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/marcopolo/simnet"
)

// Protocols compared in every scenario.
const (
	// Lookout is real Lookout nodes with the node's own gossipsub
	// configuration.
	Lookout = "lookout"
	// GossipsubDefault is bare gossipsub with library defaults.
	GossipsubDefault = "gossipsub-default"
	// GossipsubFlood is bare gossipsub with library defaults and flood
	// publishing, as Lookout has.
	GossipsubFlood = "gossipsub-flood"
	// Floodsub is bare floodsub.
	Floodsub = "floodsub"
)

// Protocols lists the protocols in report order.
var Protocols = []string{Lookout, GossipsubDefault, GossipsubFlood, Floodsub}

// Spec is one run: a scenario, a protocol and the network.
type Spec struct {
	Scenario string `json:"scenario"`
	Protocol string `json:"protocol"`
	Nodes    int    `json:"nodes"`
	// Degree is how many others each node is connected to at the start.
	Degree int `json:"degree"`
	// Zones is how many zones (topics); every node is in every zone and
	// alerts go to the zones in turn.
	Zones int `json:"zones"`
	// Alerts is how many alerts are sent, evenly over Spread, each by a
	// different node while there are enough.
	Alerts int           `json:"alerts"`
	Spread time.Duration `json:"spread"`
	// Churn is the fraction of nodes cut off from Offline before the
	// first alert until Offline after it.
	Churn   float64       `json:"churn,omitempty"`
	Offline time.Duration `json:"offline,omitempty"`
	// Latency is the one-way latency distribution of a link.
	Latency Latency `json:"latency"`
	// Loss is the fraction of packets dropped on every link.
	Loss float64 `json:"loss,omitempty"`
	// Sybils is the fraction of nodes that are attackers sitting
	// sybilLatency from everyone and dropping every alert; they neither
	// publish nor count as expected receivers.
	Sybils float64 `json:"sybils,omitempty"`
	// BitsPerSecond caps each node's uplink and downlink; 0 is no cap.
	BitsPerSecond int    `json:"bits_per_second,omitempty"`
	Seed          uint64 `json:"seed"`
	// Tune changes the lookout protocol's gossipsub settings.
	Tune Tune `json:"tune,omitzero"`
	// Warmup is the time between connecting and the first alert (mesh
	// building); Settle is the time after the last alert before counting.
	Warmup time.Duration `json:"warmup"`
	Settle time.Duration `json:"settle"`
}

// Result is one run's figures; JSON names are those of docs/perf.json.
type Result struct {
	Scenario      string  `json:"scenario"`
	Protocol      string  `json:"protocol"`
	Nodes         int     `json:"nodes"`
	Degree        int     `json:"degree"`
	Zones         int     `json:"zones"`
	Alerts        int     `json:"alerts"`
	Churn         float64 `json:"churn"`
	Seed          uint64  `json:"seed"`
	LatencyMinMS  float64 `json:"link_latency_min_ms"`
	LatencyMaxMS  float64 `json:"link_latency_max_ms"`
	DeliveryRatio float64 `json:"delivery_ratio"`
	P50MS         float64 `json:"p50_ms"`
	P95MS         float64 `json:"p95_ms"`
	P99MS         float64 `json:"p99_ms"`
	MaxMS         float64 `json:"max_ms"`
	// P50Stretch, P99Stretch and MinStretch are over the connections the
	// protocol had open when each alert was sent ("own connections").
	P50Stretch float64 `json:"p50_stretch"`
	P99Stretch float64 `json:"p99_stretch"`
	MinStretch float64 `json:"min_stretch"`
	// Topology stretches are over the topology the scenario built, the
	// same lower bound for every protocol. Below 1 only if the protocol
	// opened connections of its own (peer exchange).
	TopologyP50Stretch float64 `json:"topology_p50_stretch"`
	TopologyP99Stretch float64 `json:"topology_p99_stretch"`
	TopologyMinStretch float64 `json:"topology_min_stretch"`
	// BandwidthBPS is each node's uplink and downlink cap (0: none).
	BandwidthBPS int `json:"bandwidth_bps"`
	// Sybils is the fraction of nodes that were dropping attackers.
	Sybils float64 `json:"sybils,omitempty"`
	// BytesPerNodePerAlert is UDP bytes sent by all nodes between the
	// first alert and the end of Settle (heartbeats and gossip included),
	// divided by nodes × alerts.
	BytesPerNodePerAlert float64 `json:"bytes_per_node_per_alert"`
	// CPUMicrosPerAlert is the CPU time of the nodes' own goroutines over
	// the same span (profiler labels, cpu.go), divided by nodes × alerts:
	// what one node spends per alert. CPUMaxNodeMicros is the busiest
	// node's, per alert; CPUSimMicros is the simulator's (unlabelled), per
	// node per alert, not counted in the others.
	CPUMicrosPerAlert float64 `json:"cpu_us_per_alert"`
	CPUMaxNodeMicros  float64 `json:"cpu_us_per_alert_max_node"`
	CPUSimMicros      float64 `json:"cpu_sim_us_per_alert"`
	// ValidationMicros is the validator's CPU per message alone (a Go
	// benchmark; filled in by Main for lookout).
	ValidationMicros float64 `json:"validation_us,omitempty"`
	// MemBytesPerNode is live heap plus goroutine stacks with the network
	// up, minus the same before any host, divided by nodes.
	MemBytesPerNode float64 `json:"mem_bytes_per_node"`
	CatchUpP50MS    float64 `json:"catchup_p50_ms,omitempty"`
	CatchUpP99MS    float64 `json:"catchup_p99_ms,omitempty"`
	CatchUpMaxMS    float64 `json:"catchup_max_ms,omitempty"`
	PayloadBytes    int     `json:"payload_bytes"`
	// Connections is the topology's edge count; DegreeAtSend is the mean
	// number of open connections per node when alerts were sent
	// (gossipsub's peer exchange may add some).
	Connections  int     `json:"connections"`
	DegreeAtSend float64 `json:"degree_at_send"`
	// ConnsPerNode is DegreeAtSend under the name of issue 15;
	// MeshDegreeMean is the mean gossipsub mesh size per node and topic
	// when alerts were sent (0 for floodsub, which has no mesh).
	ConnsPerNode   float64 `json:"conns_per_node"`
	MeshDegreeMean float64 `json:"mesh_degree_mean"`
	WallSeconds    float64 `json:"wall_s"`
	// CDFMS is the delivery latency at each percentile 0..100.
	CDFMS []float64 `json:"cdf_ms"`
}

// heapProfile, if set (test flag -bench.heapprofile), is where a heap
// profile is written once the network is up.
var heapProfile string

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return pprof.WriteHeapProfile(f)
}

// cdfPoints is the number of latency quantiles kept for plots.
const cdfPoints = 101

// Run executes spec inside a synctest bubble and returns its figures.
func Run(t *testing.T, spec Spec, log *slog.Logger) (Result, error) {
	var (
		res Result
		err error
	)
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	start := time.Now()
	prof := newProfiler()
	defer prof.close()
	synctest.Test(t, func(*testing.T) {
		res, err = run(context.Background(), spec, log, prof)
		if err != nil {
			// Shown even if leftover goroutines then fail the bubble.
			log.Error("run failed", "scenario", spec.Scenario, "protocol", spec.Protocol, "err", err)
		}
	})
	res.WallSeconds = time.Since(start).Seconds()
	return res, err
}

// swarm is one protocol's nodes on the simulated hosts.
type swarm interface {
	// publish sends alert seq of zone z from node from and returns its ID.
	publish(ctx context.Context, from, z, seq int) (string, error)
	// arrivals is where deliveries are recorded.
	arrivals() *arrivals
	// payloadSize is the size of one alert on the wire (pubsub data).
	payloadSize() int
	// meshDegree is node i's mean mesh size over its topics; false if it
	// has no mesh.
	meshDegree(i int) (float64, bool)
	close() error
}

// arrivals records when each node first delivered each alert.
type arrivals struct {
	mu sync.Mutex
	m  map[string]map[int]time.Time
}

func (a *arrivals) record(node int, id string) {
	now := time.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.m == nil {
		a.m = map[string]map[int]time.Time{}
	}
	byNode := a.m[id]
	if byNode == nil {
		byNode = map[int]time.Time{}
		a.m[id] = byNode
	}
	if _, ok := byNode[node]; !ok {
		byNode[node] = now
	}
}

func (a *arrivals) of(id string) map[int]time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.m[id]
}

// memNow returns live heap plus stacks after a collection.
func memNow() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc + m.StackInuse
}

// sybilSet picks the Sybil nodes of spec (never node 0, Lookout's
// founder), from its own stream of the seed.
func sybilSet(spec Spec) []bool {
	out := make([]bool, spec.Nodes)
	n := int(spec.Sybils * float64(spec.Nodes))
	for _, v := range rand.New(rand.NewPCG(spec.Seed, sybilStream)).Perm(spec.Nodes - 1)[:n] {
		out[v+1] = true
	}
	return out
}

// sybilStream is the random stream of sybilSet.
const sybilStream = 0x5b1

// withSybils returns lat, except that any link to a Sybil takes
// sybilLatency: they sit nearest to everyone.
func withSybils(lat func(a, b int) time.Duration, sybil []bool) func(a, b int) time.Duration {
	return func(a, b int) time.Duration {
		if sybil[a] || sybil[b] {
			return sybilLatency
		}
		return lat(a, b)
	}
}

// LowerBound returns each node's shortest-path latency from src over g
// using only the nodes for which forwards is true (src always): the
// physical limit of any protocol on that graph. Nodes that cannot be
// reached get a negative duration.
func LowerBound(g *Graph, src int, forwards func(int) bool) []time.Duration {
	return g.Induced(func(v int) bool { return v == src || forwards(v) }).Dijkstra(src)
}

func run(ctx context.Context, spec Spec, log *slog.Logger, prof *profiler) (Result, error) {
	if spec.Nodes < 2 || spec.Degree < 1 || spec.Zones < 1 || spec.Alerts < 1 {
		return Result{}, fmt.Errorf("spec %s: need ≥ 2 nodes, degree ≥ 1, ≥ 1 zone and ≥ 1 alert", spec.Scenario)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rng := rand.New(rand.NewPCG(spec.Seed, 0))
	sybil := sybilSet(spec)
	lat := withSybils(pairLatency(spec.Latency, spec.Seed), sybil)
	topo := RandomGraph(spec.Nodes, spec.Degree, rng, lat)
	sn := newSimNet(spec.Nodes, lat, spec.Loss, spec.Seed)
	sn.sn.Logger = log
	mem0 := memNow()
	link := simnet.NodeBiDiLinkSettings{Uplink: simnet.LinkSettings{BitsPerSecond: spec.BitsPerSecond},
		Downlink: simnet.LinkSettings{BitsPerSecond: spec.BitsPerSecond}}
	if spec.BitsPerSecond == 0 {
		link.Uplink.BitsPerSecond, link.Downlink.BitsPerSecond = unlimitedBits, unlimitedBits
	}
	hosts := make([]host.Host, spec.Nodes)
	idx := map[peer.ID]int{}
	closeHosts := func() {
		for _, h := range hosts {
			if h != nil {
				h.Close()
			}
		}
	}
	for i := range hosts {
		var h host.Host
		var err error
		asNode(ctx, i, func(context.Context) { h, err = sn.newHost(i, link) })
		if err != nil {
			closeHosts()
			return Result{}, err
		}
		hosts[i] = h
		idx[h.ID()] = i
		serveWarm(h)
	}
	sn.sn.Start()
	defer sn.sn.Close()
	var sw swarm
	var err error
	switch spec.Protocol {
	case Lookout:
		sw, err = startLookout(ctx, spec, hosts, sybil)
	case GossipsubDefault, GossipsubFlood, Floodsub:
		sw, err = startBare(ctx, spec, hosts, sybil)
	default:
		err = fmt.Errorf("unknown protocol %q (use %v)", spec.Protocol, Protocols)
	}
	if err != nil {
		closeHosts()
		return Result{}, err
	}
	rec := sw.arrivals()
	defer func() {
		sw.close()
		closeHosts()
	}()

	// Connect the topology, every edge at once.
	failed := connectAll(ctx, hosts, topo)
	if failed > 0 {
		log.Warn("some connections failed", "failed", failed, "edges", topo.Edges())
	}
	time.Sleep(spec.Warmup)
	mem1 := memNow()
	if heapProfile != "" {
		if err := writeHeapProfile(heapProfile); err != nil {
			log.Warn("heap profile", "err", err)
		}
	}

	// Publishers: distinct honest nodes while there are enough; offline
	// nodes are chosen among the rest.
	perm := slices.DeleteFunc(rng.Perm(spec.Nodes), func(v int) bool { return sybil[v] })
	nOff := int(spec.Churn * float64(spec.Nodes))
	offNodes, online := perm[:nOff], perm[nOff:]
	offline := map[int]Window{}
	forwards := func(v int) bool { return !sybil[v] && !sn.off[v].Load() }
	if err := prof.start(); err != nil {
		log.Warn("cpu profile", "err", err)
	}
	bytes0 := sn.bytesSent()
	start := time.Now()
	var wg sync.WaitGroup
	if nOff > 0 {
		back := start.Add(spec.Offline)
		for _, v := range offNodes {
			sn.setOffline(v, true)
			offline[v] = Window{From: start, Back: back}
		}
		wg.Go(func() {
			time.Sleep(spec.Offline)
			reconnect(ctx, sn, hosts, topo, offNodes)
		})
	}
	obs := make([]AlertObs, spec.Alerts)
	ids := make([]string, spec.Alerts)
	errs := make([]error, spec.Alerts)
	degrees := make([]float64, spec.Alerts)
	meshes := make([]float64, spec.Alerts)
	for k := range spec.Alerts {
		from := online[k%len(online)]
		asNode(ctx, from, func(ctx context.Context) {
			wg.Go(func() {
				time.Sleep(spec.Spread * time.Duration(k) / time.Duration(spec.Alerts))
				g := connGraph(hosts, idx, lat, sn)
				o := AlertObs{From: from, Sent: time.Now(), Lower: LowerBound(g, from, forwards),
					LowerTopology: LowerBound(topo, from, forwards)}
				degrees[k] = 2 * float64(g.Edges()) / float64(spec.Nodes)
				meshes[k] = meanMesh(sw, spec.Nodes, forwards)
				for v := range spec.Nodes {
					if v != from && !sybil[v] {
						o.Expected = append(o.Expected, v)
					}
				}
				ids[k], errs[k] = sw.publish(ctx, from, k%spec.Zones, k)
				obs[k] = o
			})
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return Result{}, fmt.Errorf("publish: %w", err)
	}
	lastSent := start.Add(spec.Spread)
	time.Sleep(time.Until(lastSent.Add(spec.Settle)))
	bytes1 := sn.bytesSent()
	cpu, cpuErr := prof.stop()
	if cpuErr != nil {
		log.Warn("cpu profile", "err", cpuErr)
	}
	for k := range obs {
		obs[k].Arrived = rec.of(ids[k])
	}
	deadline := spec.Settle
	sum := Summarize(obs, offline, deadline)

	var sent int64
	for i := range bytes1 {
		sent += bytes1[i] - bytes0[i]
	}
	na := float64(spec.Nodes) * float64(spec.Alerts)
	proto := spec.Protocol
	if proto == Lookout {
		proto = spec.Tune.Label()
	}
	res := Result{Scenario: spec.Scenario, Protocol: proto, Nodes: spec.Nodes, Degree: spec.Degree,
		Zones: spec.Zones, Alerts: spec.Alerts, Churn: spec.Churn, Seed: spec.Seed,
		LatencyMinMS: ms(spec.Latency.Min), LatencyMaxMS: ms(spec.Latency.Max),
		DeliveryRatio: sum.DeliveryRatio,
		P50MS:         ms(Quantile(sum.Latencies, 0.50)), P95MS: ms(Quantile(sum.Latencies, 0.95)),
		P99MS: ms(Quantile(sum.Latencies, 0.99)), MaxMS: ms(Quantile(sum.Latencies, 1)),
		P50Stretch: Quantile(sum.Stretches, 0.50), P99Stretch: Quantile(sum.Stretches, 0.99), MinStretch: sum.MinStretch,
		TopologyP50Stretch: Quantile(sum.TopologyStretches, 0.50), TopologyP99Stretch: Quantile(sum.TopologyStretches, 0.99),
		TopologyMinStretch: sum.TopologyMinStretch, BandwidthBPS: spec.BitsPerSecond, Sybils: spec.Sybils,
		BytesPerNodePerAlert: float64(sent) / na,
		CPUSimMicros:         float64(cpu.Sim.Microseconds()) / na,
		MemBytesPerNode:      float64(int64(mem1)-int64(mem0)) / float64(spec.Nodes),
		CatchUpP50MS:         ms(Quantile(sum.CatchUp, 0.50)), CatchUpP99MS: ms(Quantile(sum.CatchUp, 0.99)),
		CatchUpMaxMS: ms(Quantile(sum.CatchUp, 1)),
		PayloadBytes: sw.payloadSize(), Connections: topo.Edges(),
	}
	for k, d := range degrees {
		res.DegreeAtSend += d / float64(len(degrees))
		res.MeshDegreeMean += meshes[k] / float64(len(meshes))
	}
	res.ConnsPerNode = res.DegreeAtSend
	var nodeCPU time.Duration
	for _, d := range cpu.ByNode {
		nodeCPU += d
		res.CPUMaxNodeMicros = max(res.CPUMaxNodeMicros, float64(d.Microseconds())/float64(spec.Alerts))
	}
	res.CPUMicrosPerAlert = float64(nodeCPU.Microseconds()) / na
	for p := range cdfPoints {
		res.CDFMS = append(res.CDFMS, ms(Quantile(sum.Latencies, float64(p)/float64(cdfPoints-1))))
	}
	return res, nil
}

// meanMesh is the mean mesh size of the nodes that forward and have a
// mesh (0 if none has: floodsub).
func meanMesh(sw swarm, n int, forwards func(int) bool) float64 {
	sum, k := 0.0, 0
	for v := range n {
		if !forwards(v) {
			continue
		}
		if d, ok := sw.meshDegree(v); ok {
			sum += d
			k++
		}
	}
	if k == 0 {
		return 0
	}
	return sum / float64(k)
}

// unlimitedBits stands for "no bandwidth cap" (simnet needs a rate).
const unlimitedBits = 100_000 * simnet.Mibps

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// connectAll dials every edge of g at once and returns how many failed.
func connectAll(ctx context.Context, hosts []host.Host, g *Graph) int {
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed int
	)
	for a := range g.N {
		for b := range g.Adj[a] {
			if b < a {
				continue
			}
			asNode(ctx, a, func(ctx context.Context) {
				wg.Go(func() {
					if err := dial(ctx, hosts[a], hosts[b]); err != nil {
						mu.Lock()
						failed++
						mu.Unlock()
					}
				})
			})
		}
	}
	wg.Wait()
	return failed
}

// warmProtocol carries warmBytes each way over every new connection, as
// Lookout's sync does with the zone's governance messages, so that QUIC's
// congestion window and RTT estimate are in the same state whichever
// protocol runs on top (a cold connection paces a 15 KiB alert over a few
// more milliseconds).
const (
	warmProtocol = "/lookout-bench/warm/1"
	warmBytes    = 16 << 10
)

// serveWarm answers warmProtocol on h.
func serveWarm(h host.Host) {
	h.SetStreamHandler(warmProtocol, func(s network.Stream) {
		defer s.Close()
		if _, err := io.CopyN(io.Discard, s, warmBytes); err != nil {
			s.Reset()
			return
		}
		s.Write(make([]byte, warmBytes))
	})
}

// dial connects from to to and exchanges warmBytes each way.
func dial(ctx context.Context, from, to host.Host) error {
	if err := from.Connect(ctx, peer.AddrInfo{ID: to.ID(), Addrs: to.Addrs()}); err != nil {
		return err
	}
	s, err := from.NewStream(ctx, to.ID(), warmProtocol)
	if err != nil {
		return fmt.Errorf("warm stream: %w", err)
	}
	defer s.Close()
	if _, err := s.Write(make([]byte, warmBytes)); err != nil {
		s.Reset()
		return fmt.Errorf("warm stream: %w", err)
	}
	s.CloseWrite()
	if _, err := io.CopyN(io.Discard, s, warmBytes); err != nil {
		s.Reset()
		return fmt.Errorf("warm stream: %w", err)
	}
	return nil
}

// reconnect brings nodes back online: each drops its dead connections and
// dials its topology neighbours again, as a laptop waking up would.
func reconnect(ctx context.Context, sn *simNet, hosts []host.Host, g *Graph, nodes []int) {
	for _, v := range nodes {
		sn.setOffline(v, false)
	}
	var wg sync.WaitGroup
	for _, v := range nodes {
		for _, p := range hosts[v].Network().Peers() {
			hosts[v].Network().ClosePeer(p)
		}
		for u := range g.Adj[v] {
			if sn.off[u].Load() {
				continue
			}
			asNode(ctx, v, func(ctx context.Context) { wg.Go(func() { dial(ctx, hosts[v], hosts[u]) }) })
		}
	}
	wg.Wait()
}

// connGraph is the graph of open connections between online hosts.
func connGraph(hosts []host.Host, idx map[peer.ID]int, lat func(a, b int) time.Duration, sn *simNet) *Graph {
	g := NewGraph(len(hosts))
	for a, h := range hosts {
		if sn.off[a].Load() {
			continue
		}
		for _, c := range h.Network().Conns() {
			if b, ok := idx[c.RemotePeer()]; ok && !sn.off[b].Load() {
				g.AddEdge(a, b, lat(a, b))
			}
		}
	}
	return g
}
