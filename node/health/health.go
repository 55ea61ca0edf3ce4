// Package health keeps what a node knows about its own condition beyond
// its state: how far its clock is from its peers', why it rejected
// messages, which Lookout protocol its peers speak. The node feeds it;
// `lookout status`, `lookout doctor` and the metrics endpoint read it.
// Nothing here names a member, a peer or a zone.
package health

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"lookout/protocol"
)

// Clock estimate limits.
const (
	// ClockWarnOffset is how far this node's clock may be from its peers'
	// before the node warns. Delivery takes a second or two; the validator
	// accepts alerts sent up to protocol.MaxClockSkew in the future.
	ClockWarnOffset = 30 * time.Second
	// MinClockSenders is how many senders must agree before this node's
	// clock is called off; with fewer, a differing clock is a stray.
	MinClockSenders = 2
	// MaxClockSenders bounds the senders the estimate remembers.
	MaxClockSenders = 64
	// ClockSampleTTL is how long a sender's sample counts.
	ClockSampleTTL = 24 * time.Hour
)

// Clock estimates how far this node's clock is ahead of its peers' from
// live messages: the arrival time (this node's clock) minus the sent time
// the sender stamped. One sample per sender (the latest) and the median
// over senders, so one member with a wrong clock, or one lying about its
// timestamps, does not move the estimate.
type Clock struct {
	mu      sync.Mutex
	samples map[string]clockSample
}

type clockSample struct {
	offset time.Duration
	at     time.Time // arrival, this node's clock
}

// Observe records that a message stamped sent by sender arrived at
// arrived. Only live messages count: catch-up hands over old ones.
func (c *Clock) Observe(sender string, sent, arrived time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.samples == nil {
		c.samples = make(map[string]clockSample)
	}
	c.samples[sender] = clockSample{arrived.Sub(sent), arrived}
	for len(c.samples) > MaxClockSenders {
		oldest, first := "", time.Time{}
		for s, v := range c.samples {
			if oldest == "" || v.at.Before(first) {
				oldest, first = s, v.at
			}
		}
		delete(c.samples, oldest)
	}
}

// ClockEstimate is the clock check's result.
type ClockEstimate struct {
	// Offset is how far this node's clock is ahead (+) of or behind (-)
	// its peers' (median over senders), including delivery time.
	Offset time.Duration
	// Senders is how many senders' messages it rests on; 0 means unknown.
	Senders int
	// Strays is how many senders' clocks are ClockWarnOffset or more from
	// this node's: their alerts may be refused here, or this node's there.
	Strays int
}

// Known reports whether any sender's message was seen.
func (e ClockEstimate) Known() bool { return e.Senders > 0 }

// Off reports whether the clock is off by ClockWarnOffset or more,
// according to at least MinClockSenders senders.
func (e ClockEstimate) Off() bool {
	return e.Senders >= MinClockSenders && abs(e.Offset) >= ClockWarnOffset
}

// Warning says in plain words what is wrong with the clock, or "".
func (e ClockEstimate) Warning() string {
	if !e.Off() {
		if e.Strays > 0 {
			return plural(e.Strays, "member's clock differs", "members' clocks differ") + " from this computer's by " +
				Approx(ClockWarnOffset) + " or more: alerts between you may be refused; check this computer's time and ask them to check theirs"
		}
		return ""
	}
	dir, d := "ahead of", e.Offset
	if d < 0 {
		dir, d = "behind", -d
	}
	return "this computer's clock is about " + Approx(d) + " " + dir + " the clocks of " +
		plural(e.Senders, "member", "members") + ": alerts may be refused or look expired; set the clock right (turn on automatic time, e.g. timedatectl set-ntp true)"
}

// Estimate returns the current estimate, forgetting samples older than
// ClockSampleTTL before now.
func (c *Clock) Estimate(now time.Time) ClockEstimate {
	c.mu.Lock()
	defer c.mu.Unlock()
	var offs []time.Duration
	for s, v := range c.samples {
		if now.Sub(v.at) > ClockSampleTTL {
			delete(c.samples, s)
			continue
		}
		offs = append(offs, v.offset)
	}
	if len(offs) == 0 {
		return ClockEstimate{}
	}
	slices.Sort(offs)
	// The median; of two middle values the one nearer zero, so the clock
	// counts as off only when more than half of the senders say so.
	m := offs[len(offs)/2]
	if len(offs)%2 == 0 && abs(offs[len(offs)/2-1]) < abs(m) {
		m = offs[len(offs)/2-1]
	}
	strays := 0
	for _, o := range offs {
		if abs(o) >= ClockWarnOffset {
			strays++
		}
	}
	return ClockEstimate{Offset: m, Senders: len(offs), Strays: strays}
}

func abs(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// Approx writes d in round words: "40 seconds", "3 minutes", "2 hours".
func Approx(d time.Duration) string {
	switch {
	case d < 90*time.Second:
		return plural(int((d+time.Second/2)/time.Second), "second", "seconds")
	case d < 90*time.Minute:
		return plural(int((d+time.Minute/2)/time.Minute), "minute", "minutes")
	case d < 48*time.Hour:
		return plural(int((d+time.Hour/2)/time.Hour), "hour", "hours")
	default:
		return plural(int((d+12*time.Hour)/(24*time.Hour)), "day", "days")
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// ErrDuplicate marks a message the node already had (not a rejection).
var ErrDuplicate = errors.New("duplicate")

// Reasons a message is rejected, as metric label values and status keys.
var reasons = []struct {
	err   error
	label string
}{
	{ErrDuplicate, "duplicate"},
	{protocol.ErrTooLarge, "too_large"},
	{protocol.ErrTruncated, "truncated"},
	{protocol.ErrTrailing, "trailing"},
	{protocol.ErrVersion, "version"},
	{protocol.ErrKind, "kind"},
	{protocol.ErrEnum, "enum"},
	{protocol.ErrTooLong, "too_long"},
	{protocol.ErrBadText, "bad_text"},
	{protocol.ErrMissing, "missing"},
	{protocol.ErrBadTime, "bad_time"},
	{protocol.ErrBadPadding, "bad_padding"},
	{protocol.ErrDecrypt, "decrypt"},
	{protocol.ErrUnknownEpoch, "unknown_epoch"},
	{protocol.ErrBadSignature, "bad_signature"},
	{protocol.ErrChain, "chain"},
	{protocol.ErrWrongZone, "wrong_zone"},
	{protocol.ErrNotAllowed, "not_allowed"},
	{protocol.ErrExpired, "expired"},
	{protocol.ErrFuture, "future"},
	{protocol.ErrLifetime, "lifetime"},
	{protocol.ErrLink, "link"},
	{protocol.ErrEndorser, "endorser"},
	{protocol.ErrHops, "hops"},
}

// Reasons lists every label Reason returns, "policy" last.
func Reasons() []string {
	out := make([]string, 0, len(reasons)+1)
	for _, r := range reasons {
		out = append(out, r.label)
	}
	return append(out, "policy")
}

// Reason names why err rejected a message: a fixed label (Reasons), never
// text from the message. "policy" covers the node's own checks (rate
// limits, superseded certificates).
func Reason(err error) string {
	for _, r := range reasons {
		if errors.Is(err, r.err) {
			return r.label
		}
	}
	return "policy"
}

// Rejects counts rejected messages by reason.
type Rejects struct {
	mu sync.Mutex
	n  map[string]uint64
}

// Add counts one rejection for err.
func (r *Rejects) Add(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n == nil {
		r.n = make(map[string]uint64)
	}
	r.n[Reason(err)]++
}

// Counts returns a copy of the counts.
func (r *Rejects) Counts() map[string]uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]uint64, len(r.n))
	for k, v := range r.n {
		out[k] = v
	}
	return out
}

// SyncPrefix is the catch-up protocol's name without its version
// ("/sync/4.0.0"): every Lookout node speaks it, so its major version
// tells a peer's generation. LegacySyncPrefix is its name up to sync
// version 2 ("/lookout/sync/2").
const (
	SyncPrefix       = "/sync/"
	LegacySyncPrefix = "/lookout/sync/"
)

// SyncVersion returns the highest catch-up protocol version in protos (a
// peer's protocols from identify): the major version of "/sync/M.m.p", or
// N of "/lookout/sync/N"; 0 if it speaks none.
func SyncVersion(protos []string) int {
	best := 0
	for _, p := range protos {
		v, ok := strings.CutPrefix(p, LegacySyncPrefix)
		if !ok {
			if v, ok = strings.CutPrefix(p, SyncPrefix); !ok {
				continue
			}
			parts := strings.Split(v, ".")
			if len(parts) != 3 {
				continue
			}
			v = parts[0]
		}
		if n, err := strconv.Atoi(v); err == nil && n > best && n < 1<<16 {
			best = n
		}
	}
	return best
}
