package node_test

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// listedPackage is the part of `go list -json` the layering rules read.
type listedPackage struct {
	ImportPath string
	Imports    []string // the packages it imports directly
	Deps       []string // every package it imports, directly or not
}

// zoneCore is the zone core: it decides and holds state, with no input or
// output of its own.
const zoneCore = "lookout/node/internal/zone"

// zoneCoreNoIO are the packages the zone core may not import directly:
// those that reach the disk, the network or the log.
var zoneCoreNoIO = []string{"os", "net", "log", "log/slog", "io/fs", "lookout/node/store"}

// testSupport are the production packages allowed to import testing, and
// why.
var testSupport = map[string]string{
	"lookout/node/control/controltest":    "fakes for tests of the CLI and the app",
	"lookout/node/bench":                  "runs nodes in testing/synctest's virtual time, which needs a *testing.T",
	"lookout/cmd/lookout-bench":           "drives node/bench",
	"lookout/node/reach/netbed":           "the network-namespace test bed, used only by tests",
	"lookout/node/internal/zone/zonetest": "a zone's members and their signed governance messages, for tests",
}

// under reports whether pkg is root or inside it.
func under(pkg, root string) bool { return pkg == root || strings.HasPrefix(pkg, root+"/") }

// layeringViolations returns one line per import the project's layering
// forbids:
//   - protocol and crypto import neither libp2p nor node;
//   - node/... imports neither app nor Fyne;
//   - the zone core imports neither libp2p nor any node package but
//     node/api, and none of zoneCoreNoIO directly;
//   - production packages do not import testing (bar testSupport).
func layeringViolations(pkgs []listedPackage) []string {
	var out []string
	for _, p := range pkgs {
		if under(p.ImportPath, zoneCore) {
			for _, d := range p.Imports {
				if slices.ContainsFunc(zoneCoreNoIO, func(io string) bool { return under(d, io) }) {
					out = append(out, p.ImportPath+" imports "+d+": the zone core does no input or output; the node does")
				}
			}
		}
		for _, d := range p.Deps {
			var why string
			switch {
			case (under(p.ImportPath, "lookout/protocol") || under(p.ImportPath, "lookout/crypto")) &&
				(under(d, "github.com/libp2p") || under(d, "lookout/node")):
				why = "wire formats and keys know nothing of libp2p or the node"
			case under(p.ImportPath, "lookout/node") && (under(d, "lookout/app") || under(d, "fyne.io")):
				why = "the headless node knows nothing of the user interface"
			case under(p.ImportPath, zoneCore) && (under(d, "github.com/libp2p") ||
				under(d, "lookout/node") && d != "lookout/node/api" && !under(d, zoneCore)):
				why = "the zone core knows nothing of libp2p or the node's input and output"
			case d == "testing" && testSupport[p.ImportPath] == "":
				why = "production code does not import testing; test helpers go in _test.go files or an xxxtest package"
			default:
				continue
			}
			out = append(out, p.ImportPath+" imports "+d+": "+why)
		}
	}
	return out
}

// TestLayering checks the module's real import graph.
func TestLayering(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.Command(gobin, "list", "-json=ImportPath,Imports,Deps", "lookout/...")
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v: %s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	var pkgs []listedPackage
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	var names []string
	for _, p := range pkgs {
		names = append(names, p.ImportPath)
	}
	for _, must := range []string{"lookout/protocol", "lookout/crypto", "lookout/node", "lookout/node/store", zoneCore} {
		if !slices.Contains(names, must) {
			t.Fatalf("go list did not list %s (got %v)", must, names)
		}
	}
	for _, v := range layeringViolations(pkgs) {
		t.Error(v)
	}
}

// TestLayeringRules: each rule catches a fabricated forbidden import, and
// allowed imports pass.
func TestLayeringRules(t *testing.T) {
	tests := []struct {
		pkg, dep string
		bad      bool
	}{
		{"lookout/protocol", "github.com/libp2p/go-libp2p/core/peer", true},
		{"lookout/crypto", "lookout/node/api", true},
		{"lookout/protocol", "lookout/crypto", false},
		{"lookout/node", "lookout/app", true},
		{"lookout/node/sim", "fyne.io/fyne/v2", true},
		{"lookout/node/store", "testing", true},
		{"lookout/node", "github.com/libp2p/go-libp2p", false},
		{"lookout/app", "fyne.io/fyne/v2", false},
		{"lookout/node/control/controltest", "testing", false},
		{"lookout/nodeish", "lookout/app", false},
		{zoneCore, "github.com/libp2p/go-libp2p-pubsub", true},
		{zoneCore, "lookout/node/store", true},
		{zoneCore, "lookout/node", true},
		{zoneCore, "os", true},
		{zoneCore, "net/netip", true},
		{zoneCore, "log/slog", true},
		{zoneCore, "lookout/node/api", false},
		{zoneCore, "lookout/protocol", false},
		{zoneCore, "time", false},
		{"lookout/node/internal/enroll", "lookout/node", false},
	}
	for _, tc := range tests {
		got := layeringViolations([]listedPackage{{ImportPath: tc.pkg, Imports: []string{"fmt", tc.dep}, Deps: []string{"fmt", tc.dep}}})
		if (len(got) > 0) != tc.bad {
			t.Errorf("%s importing %s: violations %q, want forbidden=%v", tc.pkg, tc.dep, got, tc.bad)
		}
	}
}
