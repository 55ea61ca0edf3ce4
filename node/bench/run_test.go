package bench

import (
	"encoding/json"
	"flag"
	"log/slog"
	"os"
	"testing"
)

// Flags of the test binary that Main runs: one Spec in, one Result out.
var (
	specFlag = flag.String("bench.spec", "", "JSON Spec to run (set by cmd/lookout-bench)")
	outFlag  = flag.String("bench.out", "", "file to write the JSON Result to")
	heapFlag = flag.String("bench.heapprofile", "", "write a heap profile here once the network is up")
)

// TestRun is the entry point cmd/lookout-bench uses to run one scenario in
// a synctest bubble; without -bench.spec it is skipped.
func TestRun(t *testing.T) {
	if *specFlag == "" {
		t.Skip("runs only when cmd/lookout-bench passes -bench.spec")
	}
	heapProfile = *heapFlag
	var spec Spec
	if err := json.Unmarshal([]byte(*specFlag), &spec); err != nil {
		t.Fatalf("bad -bench.spec: %v", err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	res, err := Run(t, spec, log)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(*outFlag, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
