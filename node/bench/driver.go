package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// Options configure Main.
type Options struct {
	// Set is a key of Sets, or "" to run one Scenario on Network.
	Set      string
	Scenario string
	Network  Network
	// Protocols to compare; nil means all of Protocols, empty means none
	// (only Tunes).
	Protocols []string
	// Tunes adds lookout runs with these gossipsub changes.
	Tunes []Tune
	// Out is the docs directory: perf.json, perf.md and perf/*.png are
	// written there. Results already in perf.json for other scenarios or
	// protocols are kept.
	Out string
	// Package is the import path of this package, whose test binary runs
	// the scenarios (synctest needs a *testing.T).
	Package string
	// Log receives progress; nil discards it.
	Log *slog.Logger
	// Stderr receives the runs' own output; nil discards it.
	Stderr io.Writer
}

// DefaultPackage is this package's import path.
const DefaultPackage = "lookout/node/bench"

// Main runs the chosen scenarios, each protocol in its own process, and
// writes the report.
func Main(ctx context.Context, o Options) error {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	if o.Package == "" {
		o.Package = DefaultPackage
	}
	if o.Protocols == nil {
		o.Protocols = Protocols
	}
	specs, err := o.specs()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "lookout-bench-")
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "bench.test")
	o.Log.Info("building the scenario runner", "package", o.Package)
	build := exec.CommandContext(ctx, "go", "test", "-c", "-o", bin, o.Package)
	build.Stdout, build.Stderr = o.Stderr, o.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build %s test binary: %w", o.Package, err)
	}
	validation, err := validationMicros()
	if err != nil {
		return err
	}
	o.Log.Info("validation CPU per alert", "us", fmt.Sprintf("%.1f", validation))
	report, err := loadReport(filepath.Join(o.Out, reportJSON))
	if err != nil {
		return err
	}
	report.ValidationMicros = validation
	if len(specs) == 0 {
		// Nothing to run: render perf.md from perf.json again.
		return report.write(o.Out)
	}
	for i, s := range specs {
		proto := s.Protocol
		if proto == Lookout {
			proto = s.Tune.Label()
		}
		o.Log.Info("running", "n", fmt.Sprintf("%d/%d", i+1, len(specs)), "scenario", s.Scenario, "protocol", proto)
		res, err := runOne(ctx, bin, s, tmp, o.Stderr)
		if err != nil {
			return fmt.Errorf("%s %s: %w", s.Scenario, s.Protocol, err)
		}
		if s.Protocol == Lookout {
			res.ValidationMicros = validation
		}
		o.Log.Info("result", "scenario", res.Scenario, "protocol", res.Protocol, "delivery", res.DeliveryRatio,
			"p50_ms", res.P50MS, "p99_ms", res.P99MS, "p99_stretch", fmt.Sprintf("%.2f", res.P99Stretch),
			"bytes_per_node_per_alert", int(res.BytesPerNodePerAlert), "mem_mb_per_node", fmt.Sprintf("%.1f", res.MemBytesPerNode/1e6),
			"wall_s", int(res.WallSeconds))
		report.put(res)
		// Write after every run so an interrupted run keeps what it has.
		if err := report.write(o.Out); err != nil {
			return err
		}
	}
	return nil
}

func (o Options) specs() ([]Spec, error) {
	var entries []setEntry
	if o.Set != "" {
		set, ok := Sets[o.Set]
		if !ok {
			return nil, fmt.Errorf("unknown set %q (use reduced, full or tune)", o.Set)
		}
		entries = set
		if len(o.Tunes) == 0 {
			o.Tunes = SetTunes[o.Set]
		}
	} else {
		if o.Network.Nodes < 2 {
			return nil, errors.New("need at least 2 nodes")
		}
		entries = append(entries, setEntry{name: o.Scenario, nodes: o.Network.Nodes, degree: o.Network.Degree, bps: o.Network.BitsPerSecond})
	}
	var specs []Spec
	for _, e := range entries {
		nw := o.Network
		nw.Nodes, nw.Degree, nw.BitsPerSecond = e.nodes, e.degree, e.bps
		protocols := o.Protocols
		if e.protocols != nil {
			protocols = e.protocols
		}
		for _, p := range protocols {
			s, err := NewSpec(e.name, nw, p)
			if err != nil {
				return nil, err
			}
			specs = append(specs, s)
		}
		for _, t := range append(slices.Clone(o.Tunes), e.tunes...) {
			s, err := NewSpec(e.name, nw, Lookout)
			if err != nil {
				return nil, err
			}
			s.Tune = t
			specs = append(specs, s)
		}
	}
	return specs, nil
}

// runOne runs one Spec in a fresh process of the test binary.
func runOne(ctx context.Context, bin string, s Spec, tmp string, stderr io.Writer) (Result, error) {
	spec, err := json.Marshal(s)
	if err != nil {
		return Result{}, err
	}
	out := filepath.Join(tmp, "result.json")
	os.Remove(out)
	cmd := exec.CommandContext(ctx, bin, "-test.run", "^TestRun$", "-test.timeout", "0", "-test.count", "1",
		"-bench.spec", string(spec), "-bench.out", out)
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Run(); err != nil {
		return Result{}, fmt.Errorf("scenario runner: %w", err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return Result{}, fmt.Errorf("read result: %w", err)
	}
	var r Result
	if err := json.Unmarshal(b, &r); err != nil {
		return Result{}, fmt.Errorf("decode result: %w", err)
	}
	return r, nil
}

// validationRounds is how many times the validation benchmark runs; the
// fastest round is kept, as the machine is shared.
const validationRounds = 3

// validationMicros measures the CPU time of validating one alert with warm
// certificate caches (decrypt, decode, chain, composite signature, rules):
// what every node spends on every alert it accepts.
func validationMicros() (float64, error) {
	env, v, err := sampleEnvelope()
	if err != nil {
		return 0, err
	}
	now := time.Now()
	var verr error
	best := time.Duration(0)
	for range validationRounds {
		r := testing.Benchmark(func(b *testing.B) {
			for b.Loop() {
				if _, err := v.Validate(env, now); err != nil {
					verr = err
					return
				}
			}
		})
		if verr != nil {
			return 0, fmt.Errorf("validation benchmark: %w", verr)
		}
		if d := time.Duration(r.NsPerOp()); best == 0 || d < best {
			best = d
		}
	}
	return float64(best.Nanoseconds()) / 1e3, nil
}
