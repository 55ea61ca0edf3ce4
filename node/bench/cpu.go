package bench

import (
	"bytes"
	"context"
	"fmt"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/google/pprof/profile"
)

// CPU per node. Every goroutine a node starts (its libp2p host, QUIC
// connections, pubsub, the Lookout node) carries a profiler label naming
// the node: goroutines inherit their creator's labels. A CPU profile over
// the alerts' span then splits the process's CPU time between nodes; what
// carries no label is the simulator (simnet's links and scheduler).
const nodeLabel = "node"

// asNode runs f with ctx labelled as node i.
func asNode(ctx context.Context, i int, f func(context.Context)) {
	pprof.Do(ctx, pprof.Labels(nodeLabel, strconv.Itoa(i)), f)
}

// cpuSplit is a CPU profile's time by node, and the unlabelled rest.
type cpuSplit struct {
	ByNode map[int]time.Duration
	Sim    time.Duration
}

// profiler runs CPU profiles on behalf of a synctest bubble: its goroutine
// is outside the bubble, so the profile writer sleeps in real time and
// does not hold the bubble's virtual clock. Its channels are made outside
// the bubble too (a bubble's channels are its own); one request is under
// way at a time.
type profiler struct {
	req   chan struct{}
	reply chan profReply
	done  chan struct{}
}

type profReply struct {
	split cpuSplit
	err   error
}

// newProfiler starts the profiler's goroutine; call it outside the bubble.
func newProfiler() *profiler {
	p := &profiler{req: make(chan struct{}), reply: make(chan profReply), done: make(chan struct{})}
	go p.loop()
	return p
}

func (p *profiler) loop() {
	defer close(p.done)
	var buf bytes.Buffer
	running := false
	for range p.req {
		if !running {
			buf.Reset()
			err := pprof.StartCPUProfile(&buf)
			running = err == nil
			p.reply <- profReply{err: err}
			continue
		}
		pprof.StopCPUProfile()
		running = false
		split, err := splitCPU(buf.Bytes())
		p.reply <- profReply{split: split, err: err}
	}
	if running {
		pprof.StopCPUProfile()
	}
}

// start begins a CPU profile.
func (p *profiler) start() error {
	p.req <- struct{}{}
	return (<-p.reply).err
}

// stop ends the profile and splits it by node.
func (p *profiler) stop() (cpuSplit, error) {
	p.req <- struct{}{}
	rep := <-p.reply
	return rep.split, rep.err
}

func (p *profiler) close() {
	close(p.req)
	<-p.done
}

// splitCPU sums a CPU profile's samples by node label.
func splitCPU(b []byte) (cpuSplit, error) {
	s := cpuSplit{ByNode: map[int]time.Duration{}}
	prof, err := profile.ParseData(b)
	if err != nil {
		return s, fmt.Errorf("parse cpu profile: %w", err)
	}
	col := -1
	for i, st := range prof.SampleType {
		if st.Type == "cpu" && st.Unit == "nanoseconds" {
			col = i
		}
	}
	if col < 0 {
		return s, fmt.Errorf("cpu profile has no cpu/nanoseconds column")
	}
	for _, smp := range prof.Sample {
		d := time.Duration(smp.Value[col])
		if v := smp.Label[nodeLabel]; len(v) == 1 {
			if i, err := strconv.Atoi(v[0]); err == nil {
				s.ByNode[i] += d
				continue
			}
		}
		s.Sim += d
	}
	return s, nil
}
