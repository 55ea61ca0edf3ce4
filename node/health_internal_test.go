package node

import (
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"lookout/crypto"
	"lookout/node/health"
	"lookout/protocol"
)

// healthNode is a node for the monitor alone: a clock stopped at t, and
// no zones.
type healthNode struct{ t time.Time }

func (f *healthNode) now() time.Time     { return f.t }
func (f *healthNode) liveZones() []*zone { return nil }

// warnLog is a log destination that keeps what was written, safe for
// concurrent writes.
type warnLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *warnLog) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// count is how many lines of the log contain s.
func (w *warnLog) count(s string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Count(w.b.String(), s)
}

// healthObserver is an Observer that records what it is told.
type healthObserver struct {
	mu        sync.Mutex
	validated []error
	served    []int
}

func (o *healthObserver) Validated(err error, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.validated = append(o.validated, err)
}

func (o *healthObserver) CatchUpServed(messages int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.served = append(o.served, messages)
}

// liveMessage is a message from the member numbered sender, stamped sent.
func liveMessage(sender byte, sent time.Time) *protocol.Message {
	a := &protocol.Alert{Sent: sent}
	a.Sender[0] = sender
	return &protocol.Message{Signed: &protocol.Signed{Alert: a}}
}

// TestMonitorClockWarning: through its node interface alone, the monitor
// warns in the log once the clock is off, not again within clockWarnEvery,
// again after it, and at once when the kind of warning changes.
func TestMonitorClockWarning(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	f := &healthNode{t: t0}
	w := &warnLog{}
	m := &monitor{node: f, log: slog.New(slog.NewTextHandler(w, nil))}
	const off, members = "CLOCK IS OFF", "MEMBERS' CLOCKS ARE OFF"

	m.checkClock(t0)
	if w.count("level=WARN") != 0 {
		t.Fatal("warned with no samples")
	}
	// Two members' messages sent 5 minutes before they arrived: this
	// node's clock is 5 minutes ahead.
	for i := range byte(2) {
		m.clock.Observe(crypto.MemberID{i + 1}.String(), t0.Add(-5*time.Minute), t0)
	}
	m.checkClock(t0)
	if n := w.count(off); n != 1 {
		t.Fatalf("%d clock warnings once the clock is off, want 1", n)
	}
	m.checkClock(t0.Add(clockWarnEvery - time.Second))
	if n := w.count(off); n != 1 {
		t.Fatalf("%d clock warnings within clockWarnEvery, want 1", n)
	}
	m.checkClock(t0.Add(clockWarnEvery))
	if n := w.count(off); n != 2 {
		t.Fatalf("%d clock warnings after clockWarnEvery, want 2", n)
	}
	// Two more members agree with this node: the median says its clock is
	// right, and the first two are strays.
	at := t0.Add(clockWarnEvery + time.Second)
	for i := range byte(2) {
		m.clock.Observe(crypto.MemberID{i + 3}.String(), at, at)
	}
	m.checkClock(at)
	if n, o := w.count(members), w.count(off); n != 1 || o != 2 {
		t.Fatalf("%d members' clock warnings and %d of this node's after the kind changed, want 1 and 2", n, o)
	}
	if n := w.count("level=WARN"); n != 3 {
		t.Fatalf("%d warnings in all, want 3", n)
	}
}

// TestMonitorValidation: through its node interface alone, the monitor
// counts accepted messages and rejections by reason, not duplicates, takes
// clock samples from other nodes' live messages only (not this node's, not
// forwarded ones), warns of the clock from them, and tells its Observer of
// every validation and catch-up answer.
func TestMonitorValidation(t *testing.T) {
	hs := mockHosts(t, 2, 0)
	self, other := hs[0], hs[1]
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	f := &healthNode{t: t0}
	w := &warnLog{}
	obs := &healthObserver{}
	m := &monitor{node: f, h: self, log: slog.New(slog.NewTextHandler(w, nil)), obs: obs}

	late := t0.Add(-5 * time.Minute)
	forwarded := liveMessage(3, late)
	forwarded.Alert.Via = &protocol.Forward{}
	m.observeValidation(nil, self.ID(), nil, liveMessage(1, late), nil, time.Now())
	m.observeValidation(nil, other.ID(), nil, forwarded, nil, time.Now())
	if est := m.clock.Estimate(t0); est.Senders != 0 {
		t.Fatalf("clock estimate rests on %d senders after this node's and a forwarded message, want 0", est.Senders)
	}
	for i := range byte(2) {
		m.observeValidation(nil, other.ID(), nil, liveMessage(i+1, late), nil, time.Now())
	}
	if est := m.clock.Estimate(t0); est.Senders != 2 || !est.Off() {
		t.Fatalf("clock estimate %+v after two members' messages 5 minutes late, want 2 senders and off", est)
	}
	if n := w.count("CLOCK IS OFF"); n != 1 {
		t.Fatalf("%d clock warnings, want 1", n)
	}
	m.observeValidation(nil, other.ID(), nil, liveMessage(1, t0), health.ErrDuplicate, time.Now())
	m.observeValidation(nil, other.ID(), nil, nil, protocol.ErrDecrypt, time.Now())
	m.observeValidation(nil, other.ID(), nil, nil, protocol.ErrDecrypt, time.Now())
	policy := errors.New("rate limit")
	m.observeValidation(nil, self.ID(), nil, nil, policy, time.Now())
	m.catchUpServed(7)

	if got := m.accepted.Load(); got != 4 {
		t.Errorf("%d accepted, want 4", got)
	}
	if got := m.rejects.Counts(); len(got) != 2 || got["decrypt"] != 2 || got["policy"] != 1 {
		t.Errorf("rejections %v, want decrypt 2, policy 1", got)
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	want := []error{nil, nil, nil, nil, health.ErrDuplicate, protocol.ErrDecrypt, protocol.ErrDecrypt, policy}
	if len(obs.validated) != len(want) {
		t.Fatalf("observer told of %d validations, want %d", len(obs.validated), len(want))
	}
	for i, err := range want {
		if obs.validated[i] != err {
			t.Errorf("validation %d told as %v, want %v", i, obs.validated[i], err)
		}
	}
	if len(obs.served) != 1 || obs.served[0] != 7 {
		t.Errorf("observer told of catch-up answers %v, want [7]", obs.served)
	}
}
