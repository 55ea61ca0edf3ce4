package node_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"lookout/node"
	"lookout/node/api"
	"lookout/node/sim"
)

// The node's kill test re-executes the test binary as a child that runs a
// node and reports sightings in a loop, writing each alert ID on a pipe
// once Report has returned (acknowledged). The parent kills it with
// SIGKILL at a random moment, starts a node on the same home and checks
// that every acknowledged alert is there.
//
// LOOKOUT_NODE_KILLS sets the number of kills (default 100) and
// LOOKOUT_NODE_KILL_SEED the schedule's seed (default 1).
const (
	nodeKillHomeEnv  = "LOOKOUT_NODE_KILL_HOME"
	nodeKillRoundEnv = "LOOKOUT_NODE_KILL_ROUND"
	killZone         = "kill"
)

// killClock is round r's fixed clock: 11 minutes apart, so each round has
// a fresh rate-limit window.
func killClock(round int) func() time.Time {
	t := t0.Add(time.Duration(round) * 11 * time.Minute)
	return func() time.Time { return t }
}

func killNode(home string, round int) *node.Node {
	return &node.Node{Home: home, Secret: sim.Secret, StoreOptions: sim.StoreOptions, ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"}, Now: killClock(round)}
}

// TestNodeKillChild is the child's side; it only runs when the parent sets
// nodeKillHomeEnv.
func TestNodeKillChild(t *testing.T) {
	home := os.Getenv(nodeKillHomeEnv)
	if home == "" {
		t.Skip("not a test on its own: TestNodeKill runs this in a child process it kills")
	}
	round, _ := strconv.Atoi(os.Getenv(nodeKillRoundEnv))
	acks := os.NewFile(3, "acks")
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(2)
	}
	n := killNode(home, round)
	if err := n.Start(t.Context()); err != nil {
		fail(err)
	}
	fmt.Fprintln(acks, "started")
	for i := 0; ; i++ {
		a, err := n.Report(t.Context(), api.ReportRequest{Zone: killZone, What: fmt.Sprintf("vans, round %d", round), Where: fmt.Sprintf("corner %d-%d", round, i)})
		if err != nil {
			fail(err)
		}
		fmt.Fprintln(acks, a.ID)
	}
}

func TestNodeKill(t *testing.T) {
	if os.Getenv(nodeKillHomeEnv) != "" {
		t.Skip("this process is TestNodeKill's child; the parent runs TestNodeKill")
	}
	kills := envInt("LOOKOUT_NODE_KILLS", 100)
	seed := uint64(envInt("LOOKOUT_NODE_KILL_SEED", 1))
	rng := rand.New(rand.NewPCG(seed, 0))
	t.Logf("%d kills, seed %d", kills, seed)
	ctx := testContext(t)

	home := filepath.Join(t.TempDir(), "home")
	if _, err := node.Init(home, testInit("killed")); err != nil {
		t.Fatal(err)
	}
	n := killNode(home, 0)
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := n.CreateZone(ctx, killZone); err != nil {
		t.Fatal(err)
	}
	limit := 1000
	if _, err := n.SetSettings(ctx, api.SettingsRequest{Zone: killZone, MaxReports: &limit}); err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}

	total := 0
	for round := 1; round <= kills; round++ {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestNodeKillChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), nodeKillHomeEnv+"="+home, nodeKillRoundEnv+"="+strconv.Itoa(round))
		cmd.ExtraFiles = []*os.File{w}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		w.Close()
		lines := make(chan string, 1024)
		go func() {
			sc := bufio.NewScanner(r)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
			r.Close()
		}()
		var acked []string
		take := func(line string) {
			if line != "started" {
				acked = append(acked, line)
			}
		}
		// Kill while starting, or after some acknowledged reports.
		waitFor := rng.IntN(30)
		if waitFor == 0 {
			time.Sleep(time.Duration(rng.IntN(100)) * time.Millisecond)
		} else {
			timeout := time.After(time.Minute)
			for seen := 0; seen < waitFor; {
				select {
				case line, ok := <-lines:
					if !ok {
						cmd.Wait()
						t.Fatalf("round %d: child exited early: %s", round, stderr.String())
					}
					take(line)
					seen++
				case <-timeout:
					cmd.Process.Kill()
					t.Fatalf("round %d: child made no progress: %s", round, stderr.String())
				}
			}
			time.Sleep(time.Duration(rng.IntN(5000)) * time.Microsecond)
		}
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		for line := range lines {
			take(line)
		}
		err = cmd.Wait()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != -1 {
			t.Fatalf("round %d: child ended with %v, not by the kill: %s", round, err, stderr.String())
		}
		total += len(acked)

		n := killNode(home, round)
		if err := n.Start(ctx); err != nil {
			t.Fatalf("round %d: starting after a kill: %v", round, err)
		}
		as, err := n.Alerts(killZone)
		if err != nil {
			t.Fatal(err)
		}
		var have []string
		for _, a := range as {
			have = append(have, a.ID)
			have = append(have, a.Sightings...)
		}
		for _, id := range acked {
			if !slices.Contains(have, id) {
				t.Errorf("round %d: acknowledged alert %s lost", round, id)
			}
		}
		if err := n.Close(); err != nil {
			t.Fatal(err)
		}
		if t.Failed() {
			return
		}
	}
	t.Logf("%d acknowledged alerts over %d kills, none lost", total, kills)
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(strings.TrimSpace(os.Getenv(name))); err == nil && v > 0 {
		return v
	}
	return def
}
