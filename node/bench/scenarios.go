package bench

import (
	"fmt"
	"slices"
	"time"
)

// Scenario defaults.
const (
	// DefaultSeed fixes topology, link latencies, publishers and churn.
	DefaultSeed = 1
	// DefaultDegree is the connections per node once zone members have
	// found each other; a fresh invite graph is nearer to 6.
	DefaultDegree = 24
	// zoneAlerts is how many alerts the zone scenarios send, one every
	// zoneAlertGap so that each settles before the next.
	zoneAlerts   = 10
	zoneAlertGap = 2 * time.Second
	// manyZones is how many zones share the nodes in the "zones" scenario.
	manyZones = 4
	// burstAlerts are sent within burstSpread.
	burstAlerts = 100
	burstSpread = time.Second
	// churnFraction of the nodes is offline for churnOffline, from just
	// before a burst (longer than QUIC's 30 s idle timeout, so their
	// connections die and must be made again).
	churnFraction = 0.3
	churnOffline  = 40 * time.Second
	// warmup lets gossipsub build its meshes (a few heartbeats); settle
	// gives late deliveries (gossip on later heartbeats) time to arrive.
	warmup = 10 * time.Second
	settle = 10 * time.Second
	// linkMin and linkMax bound the default one-way link latency.
	linkMin = 20 * time.Millisecond
	linkMax = 80 * time.Millisecond
	// sybilFraction of the nodes in the "sybil" scenario are attackers
	// that sit sybilLatency from everyone (nearer than any honest link)
	// and drop every alert.
	sybilFraction = 0.2
	sybilLatency  = linkMin / 4
	// Uplink caps of the capped scenarios: a home connection and a phone.
	homeUplink  = 20_000_000
	phoneUplink = 5_000_000
)

// DefaultLatency is the default link latency: uniform 20–80 ms one way.
var DefaultLatency = Latency{Min: linkMin, Max: linkMax}

// Scenario builds the Spec of a named scenario for a network.
type Scenario struct {
	Name  string
	Title string
	spec  func(Spec) Spec
}

// Scenarios are the named scenarios, in report order.
var Scenarios = []Scenario{
	{"zone", "One zone, one alert at a time", func(s Spec) Spec {
		s.Alerts, s.Spread = zoneAlerts, zoneAlerts*zoneAlertGap
		return s
	}},
	{"zones", "Several zones over the same nodes", func(s Spec) Spec {
		s.Zones, s.Alerts, s.Spread = manyZones, zoneAlerts, zoneAlerts*zoneAlertGap
		return s
	}},
	{"burst", "A burst of 100 alerts in one second", func(s Spec) Spec {
		s.Alerts, s.Spread = burstAlerts, burstSpread
		return s
	}},
	{"sybil", "One zone, 20 % of nodes Sybils nearest to everyone that drop every alert", func(s Spec) Spec {
		s.Alerts, s.Spread = zoneAlerts, zoneAlerts*zoneAlertGap
		s.Sybils = sybilFraction
		return s
	}},
	{"churn", "30 % of nodes offline during a burst", func(s Spec) Spec {
		s.Alerts, s.Spread = burstAlerts, burstSpread
		s.Churn, s.Offline = churnFraction, churnOffline
		s.Settle = churnOffline + settle
		return s
	}},
}

// Network is the part of a Spec that the command line chooses.
type Network struct {
	Nodes         int
	Degree        int
	Seed          uint64
	Latency       Latency
	Loss          float64
	BitsPerSecond int
}

// NewSpec returns the Spec of scenario name on nw for protocol.
func NewSpec(name string, nw Network, protocol string) (Spec, error) {
	i := slices.IndexFunc(Scenarios, func(s Scenario) bool { return s.Name == name })
	if i < 0 {
		return Spec{}, fmt.Errorf("unknown scenario %q (use zone, zones, burst, sybil or churn)", name)
	}
	s := Spec{Scenario: ID(name, nw.Nodes, nw.Degree, nw.BitsPerSecond), Protocol: protocol, Nodes: nw.Nodes, Degree: nw.Degree, Zones: 1,
		Latency: nw.Latency, Loss: nw.Loss, BitsPerSecond: nw.BitsPerSecond, Seed: nw.Seed,
		Warmup: warmup, Settle: settle}
	return Scenarios[i].spec(s), nil
}

// ID names a scenario on a network size and uplink cap, e.g.
// "zone-n1000-d24" or "zone-n1000-d24-bw20m".
func ID(name string, nodes, degree, bitsPerSecond int) string {
	id := fmt.Sprintf("%s-n%d-d%d", name, nodes, degree)
	if bitsPerSecond > 0 {
		id += fmt.Sprintf("-bw%gm", float64(bitsPerSecond)/1e6)
	}
	return id
}

// Run sets: scenario name, nodes, degree, uplink cap (0: none); protocols,
// if set, replace the run's protocol list, and tunes are added to the
// set's.
type setEntry struct {
	name          string
	nodes, degree int
	bps           int
	protocols     []string
	tunes         []Tune
}

// Protocol lists of set entries: the capped and Sybil scenarios compare
// Lookout with the flood-publishing baselines and, under a cap, with
// Lookout publishing to its mesh only and to every connection (what the
// bounded flood publish gains; docs/perf.md "Publish order").
var (
	floodBaselines = []string{Lookout, GossipsubFlood, Floodsub}
	cappedTunes    = []Tune{{NoFloodPublish: true}, {FloodAll: true}}
)

// Sets are the scenario lists of `make bench` (reduced: about 10 minutes
// on an idle 2-core machine; the multi-alert scenarios at 50 nodes, since
// a 100-alert burst costs about a CPU-second per node) and `make
// bench-full`.
var Sets = map[string][]setEntry{
	"reduced": {
		{name: "zone", nodes: 100, degree: 24},
		{name: "zone", nodes: 100, degree: 24, bps: homeUplink, protocols: floodBaselines, tunes: cappedTunes},
		{name: "zone", nodes: 100, degree: 24, bps: phoneUplink, protocols: floodBaselines, tunes: cappedTunes},
		{name: "sybil", nodes: 100, degree: 24, protocols: floodBaselines},
		{name: "zones", nodes: 50, degree: 24}, {name: "burst", nodes: 50, degree: 24}, {name: "churn", nodes: 50, degree: 24},
	},
	"full": {
		{name: "zone", nodes: 100, degree: 6}, {name: "zone", nodes: 100, degree: 24}, {name: "zones", nodes: 100, degree: 24},
		{name: "burst", nodes: 100, degree: 24}, {name: "churn", nodes: 100, degree: 24},
		{name: "zone", nodes: 200, degree: 24},
		{name: "zone", nodes: 200, degree: 24, bps: homeUplink, protocols: floodBaselines, tunes: cappedTunes},
		{name: "zone", nodes: 200, degree: 24, bps: phoneUplink, protocols: floodBaselines, tunes: cappedTunes},
		{name: "sybil", nodes: 200, degree: 24, protocols: floodBaselines},
		{name: "zone", nodes: 1000, degree: 24},
		{name: "zone", nodes: 1000, degree: 24, bps: homeUplink, protocols: floodBaselines, tunes: cappedTunes},
		{name: "zone", nodes: 1000, degree: 24, bps: phoneUplink, protocols: floodBaselines, tunes: cappedTunes},
		{name: "sybil", nodes: 1000, degree: 24, protocols: floodBaselines},
		{name: "zone", nodes: 1000, degree: 6}, {name: "zones", nodes: 1000, degree: 24},
		{name: "burst", nodes: 1000, degree: 24}, {name: "churn", nodes: 1000, degree: 24},
	},
	// tune compares settings (SetTunes) on a mid-size zone.
	"tune": {{name: "zone", nodes: 200, degree: 24, protocols: []string{}}},
}

// SetTunes are the lookout variants a set runs besides the protocols.
var SetTunes = map[string][]Tune{
	"tune": {
		{LatencyBlind: true},
		{LatencyBlind: true, PeerExchange: true},
		{D: 4, Dlo: 3, Dhi: 6},
		{D: 8, Dlo: 6, Dhi: 10},
		{Heartbeat: 500 * time.Millisecond},
		{NoFloodPublish: true},
		{FloodAll: true},
	},
}
