// Command lookout-bench measures how fast an alert reaches every member of
// a zone, on a simulated network, for Lookout and for two baselines
// (gossipsub with library defaults, floodsub), and writes docs/perf.md,
// docs/perf.json and latency CDF plots. See node/bench.
//
//	lookout-bench --set reduced                  # what `make bench` runs
//	lookout-bench --scenario zone --nodes 1000   # one scenario, every protocol
//
// Run it from the repository: it builds node/bench's test binary with the
// go command, because the virtual-time network runs inside testing/synctest.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"lookout/node/bench"
)

func main() {
	var (
		o         bench.Options
		protocols string
		latMin    time.Duration
		latMax    time.Duration
		seed      uint64
	)
	flag.StringVar(&o.Set, "set", "", "scenario set: reduced (make bench), full or tune (make bench-full); overrides --scenario")
	flag.StringVar(&o.Scenario, "scenario", "zone", "scenario: zone, zones, burst or churn")
	flag.IntVar(&o.Network.Nodes, "nodes", 100, "number of nodes")
	flag.IntVar(&o.Network.Degree, "degree", bench.DefaultDegree, "connections per node at the start")
	flag.Uint64Var(&seed, "seed", bench.DefaultSeed, "seed for topology, link latencies, publishers and churn")
	flag.DurationVar(&latMin, "latency-min", bench.DefaultLatency.Min, "smallest one-way link latency")
	flag.DurationVar(&latMax, "latency-max", bench.DefaultLatency.Max, "largest one-way link latency")
	flag.Float64Var(&o.Network.Loss, "loss", 0, "fraction of packets lost on every link")
	flag.IntVar(&o.Network.BitsPerSecond, "bandwidth", 0, "uplink and downlink cap per node in bits/s (0: none)")
	flag.StringVar(&protocols, "protocols", strings.Join(bench.Protocols, ","), "protocols to compare (\"none\": only the --tune or set's lookout variants)")
	tunes := flag.String("tune", "", "also run lookout with these settings, separated by commas: D/Dlo/Dhi triples (e.g. 8/6/10), latency-blind, peer-exchange, no-flood-publish, flood-all; join several with + (latency-blind+peer-exchange)")
	flag.StringVar(&o.Out, "out", "docs", "directory for perf.md, perf.json and perf/*.png")
	verbose := flag.Bool("v", false, "show the scenario runs' own output")
	flag.Parse()
	o.Network.Seed = seed
	o.Network.Latency = bench.Latency{Min: latMin, Max: latMax}
	o.Protocols = []string{}
	if protocols != "none" {
		o.Protocols = strings.Split(protocols, ",")
	}
	o.Log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	if *verbose {
		o.Stderr = os.Stderr
	}
	for _, t := range strings.FieldsFunc(*tunes, func(r rune) bool { return r == ',' }) {
		var tu bench.Tune
		for _, part := range strings.Split(t, "+") {
			switch part {
			case "latency-blind":
				tu.LatencyBlind = true
			case "peer-exchange":
				tu.PeerExchange = true
			case "no-flood-publish":
				tu.NoFloodPublish = true
			case "flood-all":
				tu.FloodAll = true
			default:
				if _, err := fmt.Sscanf(part, "%d/%d/%d", &tu.D, &tu.Dlo, &tu.Dhi); err != nil {
					fmt.Fprintf(os.Stderr, "lookout-bench: --tune %q: want D/Dlo/Dhi, latency-blind, peer-exchange, no-flood-publish or flood-all: %v\n", part, err)
					os.Exit(2)
				}
			}
		}
		o.Tunes = append(o.Tunes, tu)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := bench.Main(ctx, o); err != nil {
		fmt.Fprintf(os.Stderr, "lookout-bench: %v\n", err)
		os.Exit(1)
	}
}
