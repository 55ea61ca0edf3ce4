package health

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"lookout/protocol"
)

var t0 = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)

func TestClockEstimate(t *testing.T) {
	var c Clock
	if e := c.Estimate(t0); e.Known() || e.Off() || e.Warning() != "" {
		t.Fatalf("empty clock estimate = %+v, want unknown", e)
	}
	// This node is 5 minutes ahead of four honest senders (delivery adds
	// under a second); one liar stamps its messages an hour in the past.
	for i, lag := range []time.Duration{300 * time.Millisecond, 800 * time.Millisecond, 500 * time.Millisecond, 1200 * time.Millisecond} {
		sent := t0.Add(time.Duration(i) * time.Minute)
		c.Observe(fmt.Sprintf("member%d", i), sent, sent.Add(5*time.Minute+lag))
	}
	c.Observe("liar", t0.Add(-time.Hour), t0)
	e := c.Estimate(t0.Add(5 * time.Minute))
	if e.Senders != 5 || e.Offset < 5*time.Minute || e.Offset > 5*time.Minute+2*time.Second {
		t.Fatalf("estimate = %+v, want about +5m from 5 senders", e)
	}
	if w := e.Warning(); !strings.Contains(w, "about 5 minutes ahead of the clocks of 5 members") {
		t.Errorf("warning = %q", w)
	}
	// A later sample replaces a sender's earlier one.
	for i := range 4 {
		c.Observe(fmt.Sprintf("member%d", i), t0.Add(time.Hour), t0.Add(time.Hour+time.Second))
	}
	if e := c.Estimate(t0.Add(time.Hour)); e.Off() || e.Senders != 5 || e.Strays != 1 || !strings.Contains(e.Warning(), "1 member's clock differs") {
		t.Errorf("after clock fix estimate = %+v (%q), want within bounds and the liar a stray", e, e.Warning())
	}
	// Two senders disagreeing (one right, one off) do not make this clock off.
	var two Clock
	two.Observe("right", t0, t0.Add(time.Second))
	two.Observe("fast", t0.Add(5*time.Minute), t0)
	if e := two.Estimate(t0); e.Off() || e.Strays != 1 {
		t.Errorf("one right, one fast: estimate = %+v, want not off, one stray", e)
	}
	// Samples older than a day are forgotten.
	if e := c.Estimate(t0.Add(time.Hour + ClockSampleTTL + time.Minute)); e.Known() {
		t.Errorf("estimate a day later = %+v, want unknown", e)
	}
}

func TestClockBehindAndBounded(t *testing.T) {
	var c Clock
	for i := range MaxClockSenders + 10 {
		at := t0.Add(time.Duration(i) * time.Second)
		c.Observe(fmt.Sprintf("m%d", i), at.Add(3*time.Minute), at) // senders 3 minutes ahead
	}
	e := c.Estimate(t0.Add(time.Hour))
	if e.Senders != MaxClockSenders || e.Offset != -3*time.Minute {
		t.Fatalf("estimate = %+v, want -3m from %d senders", e, MaxClockSenders)
	}
	if w := e.Warning(); !strings.Contains(w, "3 minutes behind") {
		t.Errorf("warning = %q", w)
	}
}

func TestReason(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("alert %w at x", protocol.ErrExpired), "expired"},
		{&protocol.FieldError{Field: "sent", Err: protocol.ErrFuture}, "future"},
		{fmt.Errorf("decode alert: %w: 3", protocol.ErrVersion), "version"},
		{ErrDuplicate, "duplicate"},
		{errors.New("over the zone's rate limit: member Alice"), "policy"},
	} {
		if got := Reason(tc.err); got != tc.want {
			t.Errorf("Reason(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
	seen := map[string]bool{}
	for _, r := range Reasons() {
		if seen[r] || r == "" || strings.ToLower(r) != r {
			t.Errorf("reason label %q repeated, empty or not lower case", r)
		}
		seen[r] = true
	}
	var r Rejects
	r.Add(protocol.ErrFuture)
	r.Add(protocol.ErrFuture)
	r.Add(protocol.ErrBadSignature)
	if c := r.Counts(); c["future"] != 2 || c["bad_signature"] != 1 || len(c) != 2 {
		t.Errorf("counts = %v", c)
	}
}

func TestSyncVersion(t *testing.T) {
	for _, tc := range []struct {
		protos []string
		want   int
	}{
		{nil, 0},
		{[]string{"/ipfs/id/1.0.0", "/meshsub/1.2.0"}, 0},
		{[]string{"/lookout/sync/1"}, 1},
		{[]string{"/lookout/sync/2", "/lookout/sync/3", "/lookout/join/1"}, 3},
		{[]string{"/lookout/sync/x", "/lookout/sync/-1", "/lookout/sync/99999999999"}, 0},
		{[]string{"/lookout/sync/2", "/sync/3.0.0", "/join/2.0.0", "/auth/1.0.0"}, 3},
		{[]string{"/sync/4.1.0", "/sync/3.0.0"}, 4},
		{[]string{"/sync/3", "/sync/x.0.0", "/sync/-1.0.0", "/sync/3.0"}, 0},
	} {
		if got := SyncVersion(tc.protos); got != tc.want {
			t.Errorf("SyncVersion(%v) = %d, want %d", tc.protos, got, tc.want)
		}
	}
}

func TestApprox(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Second: "1 second", 40 * time.Second: "40 seconds", 5 * time.Minute: "5 minutes",
		3 * time.Hour: "3 hours", 72 * time.Hour: "3 days",
	} {
		if got := Approx(d); got != want {
			t.Errorf("Approx(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestClockOneSender(t *testing.T) {
	var c Clock
	c.Observe("only", t0.Add(10*time.Minute), t0)
	if e := c.Estimate(t0); e.Off() || e.Strays != 1 || !strings.Contains(e.Warning(), "check this computer's time") {
		t.Errorf("one sender 10 minutes ahead: estimate = %+v (%q), want a stray, not off", e, e.Warning())
	}
}
