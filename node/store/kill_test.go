package store

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The kill test re-executes the test binary as a child that writes to a
// store in a loop and reports, on a pipe, each operation it completed. The
// parent kills it with SIGKILL at a random moment, reopens the store and
// checks that everything reported is there.
//
// Environment:
//
//	LOOKOUT_STORE_KILLS      number of kills (default 20; 100 with -long)
//	LOOKOUT_STORE_KILL_SEED  seed of the kill schedule (default 1)
const (
	childHomeEnv  = "LOOKOUT_STORE_KILL_CHILD_HOME"
	childStartEnv = "LOOKOUT_STORE_KILL_CHILD_START"
	killPass      = "kill test passphrase"
)

func killValue(i int) []byte {
	return bytes.Repeat([]byte(fmt.Sprintf("value %d;", i)), 1+i%40)
}

// TestKillChild is the child's side; it only runs when the parent sets
// childHomeEnv.
func TestKillChild(t *testing.T) {
	home := os.Getenv(childHomeEnv)
	if home == "" {
		t.Skip("not a test on its own: TestKill runs this in a child process it kills")
	}
	start, _ := strconv.Atoi(os.Getenv(childStartEnv))
	acks := os.NewFile(3, "acks")
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(2)
	}
	s, err := Open(home, pass(killPass), testOpt)
	if err != nil {
		fail(err)
	}
	fmt.Fprintf(acks, "open\n")
	for i := start; ; i++ {
		if err := s.Put("kill", fmt.Sprint(i), killValue(i)); err != nil {
			fail(err)
		}
		fmt.Fprintf(acks, "p %d\n", i)
		if i%3 == 0 {
			// Expired at once: the next DeleteExpired deletes it and compacts.
			if err := s.PutExpiring("short", fmt.Sprint(i), killValue(i), time.Now().Add(-time.Second)); err != nil {
				fail(err)
			}
		}
		if i%10 == 0 && i >= 5 {
			fmt.Fprintf(acks, "x %d\n", i-5) // about to delete
			if err := s.Delete("kill", fmt.Sprint(i-5)); err != nil {
				fail(err)
			}
			fmt.Fprintf(acks, "d %d\n", i-5)
		}
		if i%15 == 0 {
			if _, err := s.DeleteExpired(time.Now()); err != nil {
				fail(err)
			}
		}
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func TestKill(t *testing.T) {
	if os.Getenv(childHomeEnv) != "" {
		t.Skip("this process is TestKill's child; the parent runs TestKill")
	}
	kills := 20
	if *long {
		kills = 100
	}
	kills = envInt("LOOKOUT_STORE_KILLS", kills)
	seed := uint64(envInt("LOOKOUT_STORE_KILL_SEED", 1))
	rng := rand.New(rand.NewPCG(seed, 0))
	t.Logf("%d kills, seed %d", kills, seed)

	home := t.TempDir()
	s, err := Create(home, pass(killPass), nil, testOpt)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	present := map[int]bool{} // acknowledged puts not since (being) deleted
	deleted := map[int]bool{} // acknowledged deletes
	next := 0
	totalAcks := 0
	midCompaction := 0 // kills that left a compaction's temporary file
	for round := 0; round < kills; round++ {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestKillChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), childHomeEnv+"="+home, childStartEnv+"="+strconv.Itoa(next))
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

		apply := func(line string) {
			totalAcks++
			op, arg, _ := strings.Cut(line, " ")
			n, _ := strconv.Atoi(arg)
			switch op {
			case "p":
				present[n] = true
				delete(deleted, n)
				next = max(next, n+1)
			case "x":
				delete(present, n) // may or may not be deleted now
			case "d":
				deleted[n] = true
			}
		}
		// Kill during startup (while opening), or after some operations.
		waitFor := rng.IntN(80)
		if waitFor == 0 {
			time.Sleep(time.Duration(rng.IntN(60)) * time.Millisecond)
		} else {
			timeout := time.After(30 * time.Second)
			for seen := 0; seen < waitFor; {
				select {
				case line, ok := <-lines:
					if !ok {
						cmd.Wait()
						t.Fatalf("round %d: child exited early: %s", round, stderr.String())
					}
					apply(line)
					seen++
				case <-timeout:
					cmd.Process.Kill()
					t.Fatalf("round %d: child made no progress", round)
				}
			}
			time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond)
		}
		if err := cmd.Process.Kill(); err != nil { // SIGKILL on Unix
			t.Fatal(err)
		}
		for line := range lines { // reported before it died
			apply(line)
		}
		err = cmd.Wait()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != -1 {
			t.Fatalf("round %d: child ended with %v, not by the kill: %s", round, err, stderr.String())
		}

		if _, err := os.Stat(filepath.Join(home, compactFile)); err == nil {
			midCompaction++
		}
		s, err := Open(home, pass(killPass), testOpt)
		if err != nil {
			t.Fatalf("round %d: reopening after a kill: %v", round, err)
		}
		for n := range present {
			v, err := s.Get("kill", fmt.Sprint(n))
			if err != nil || !bytes.Equal(v, killValue(n)) {
				t.Fatalf("round %d: acknowledged record %d: %v", round, n, err)
			}
		}
		for n := range deleted {
			if _, err := s.Get("kill", fmt.Sprint(n)); !errors.Is(err, ErrNotFound) {
				t.Fatalf("round %d: record %d whose delete was acknowledged: %v", round, n, err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d operations acknowledged, %d records checked present, %d checked deleted; %d kills during a compaction",
		totalAcks, len(present), len(deleted), midCompaction)
}
