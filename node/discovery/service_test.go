package discovery

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/zeroconf/v2"
	ma "github.com/multiformats/go-multiaddr"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const waitTimeout = 20 * time.Second

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// fakeHost implements the parts of host.Host the Service uses.
type fakeHost struct {
	host.Host // nil: any other method panics
	id        peer.ID
	mu        sync.Mutex
	addrs     []ma.Multiaddr
	connected map[peer.ID]bool
}

func (h *fakeHost) ID() peer.ID { return h.id }
func (h *fakeHost) Addrs() []ma.Multiaddr {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.addrs)
}
func (h *fakeHost) setAddrs(a []ma.Multiaddr) { h.mu.Lock(); h.addrs = a; h.mu.Unlock() }
func (h *fakeHost) Network() network.Network  { return fakeNet{h: h} }

type fakeNet struct {
	network.Network
	h *fakeHost
}

func (n fakeNet) Connectedness(p peer.ID) network.Connectedness {
	n.h.mu.Lock()
	defer n.h.mu.Unlock()
	if n.h.connected[p] {
		return network.Connected
	}
	return network.NotConnected
}

// lan is a fake mDNS medium: registrations, browse rounds and what each
// browse for a service name hands back.
type lan struct {
	mu      sync.Mutex
	changed chan struct{}
	regs    []*fakeReg            // every registration ever made, in order
	browses []string              // service name of every Browse call, in order
	answers map[string][][]string // service name -> TXT records to return
	failing map[string]bool       // service names whose Browse fails at once
	found   []peer.AddrInfo
}

type fakeReg struct {
	l                 *lan
	instance, service string
	port              int
	hostname          string
	txt               []string
	down              bool
}

func (r *fakeReg) Shutdown() {
	r.l.mu.Lock()
	r.down = true
	r.l.mu.Unlock()
	r.l.poke()
}

func newLAN() *lan {
	return &lan{changed: make(chan struct{}, 1), answers: map[string][][]string{}, failing: map[string]bool{}}
}

func (l *lan) poke() {
	select {
	case l.changed <- struct{}{}:
	default:
	}
}

func (l *lan) register(instance, service string, port int, hostname string, txt []string) (shutdowner, error) {
	r := &fakeReg{l: l, instance: instance, service: service, port: port, hostname: hostname, txt: txt}
	l.mu.Lock()
	l.regs = append(l.regs, r)
	l.mu.Unlock()
	l.poke()
	return r, nil
}

// browse behaves like zeroconf.Browse: sends entries, blocks until ctx is
// done, then closes the channel. A failing name returns an error at once
// without closing it, as zeroconf does when it cannot open a socket.
func (l *lan) browse(ctx context.Context, service string, entries chan<- *zeroconf.ServiceEntry) error {
	l.mu.Lock()
	fail := l.failing[service]
	answers := slices.Clone(l.answers[service])
	l.mu.Unlock()
	if fail {
		return errors.New("no multicast here")
	}
	defer close(entries)
	for _, txt := range answers {
		e := &zeroconf.ServiceEntry{Text: txt}
		select {
		case entries <- e:
		case <-ctx.Done():
			return nil
		}
	}
	<-ctx.Done()
	return nil
}

// addBrowse records one Browse call; called by the wrapped browse hook.
func (l *lan) addBrowse(service string) {
	l.mu.Lock()
	l.browses = append(l.browses, service)
	l.mu.Unlock()
	l.poke()
}

func (l *lan) foundPeer(ai peer.AddrInfo) {
	l.mu.Lock()
	l.found = append(l.found, ai)
	l.mu.Unlock()
	l.poke()
}

// waitFor polls cond each time the fake LAN changes, failing after waitTimeout.
func (l *lan) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for {
		l.mu.Lock()
		ok := cond()
		l.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-l.changed:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func newTestService(t *testing.T, clock *fakeClock, l *lan, h *fakeHost, dk func(time.Time) [32]byte) *Service {
	s := &Service{
		Host:     h,
		DayKey:   dk,
		Found:    l.foundPeer,
		Now:      clock.Now,
		Interval: 5 * time.Millisecond, // rounds repeat quickly; nothing waits on their length
		register: l.register,
		browse: func(ctx context.Context, service string, entries chan<- *zeroconf.ServiceEntry) error {
			l.addBrowse(service)
			return l.browse(ctx, service, entries)
		},
	}
	return s
}

func TestBrowseDaysAndRoundLength(t *testing.T) {
	mid := day2
	cases := []struct {
		now      time.Time
		days     []time.Time
		maxRound time.Duration
	}{
		{day1.Add(12 * time.Hour), []time.Time{day1}, time.Hour},
		{mid.Add(-time.Second), []time.Time{day1}, time.Second + 10*time.Millisecond},
		{mid, []time.Time{day2, day1}, time.Hour},
		{mid.Add(9*time.Minute + 59*time.Second), []time.Time{day2, day1}, time.Second + 10*time.Millisecond},
		{mid.Add(skewGrace), []time.Time{day2}, time.Hour},
		// Another time zone is the same instant: days are UTC days.
		{mid.Add(5 * time.Minute).In(time.FixedZone("X", -7*3600)), []time.Time{day2, day1}, time.Hour},
	}
	for _, c := range cases {
		got := browseDays(c.now)
		if !slices.EqualFunc(got, c.days, time.Time.Equal) {
			t.Errorf("browseDays(%v) = %v, want %v", c.now, got, c.days)
		}
		if d := roundLength(c.now, time.Hour); d > c.maxRound || d <= 0 {
			t.Errorf("roundLength(%v) = %v, want (0, %v]", c.now, d, c.maxRound)
		}
	}
	if d := roundLength(day1.Add(12*time.Hour), 15*time.Second); d != 15*time.Second {
		t.Errorf("midday round = %v, want the interval", d)
	}
}

func TestRotation(t *testing.T) {
	dk := testDayKey("zone")
	n1, n2 := ServiceName(dk(day1)), ServiceName(dk(day2))
	clock := &fakeClock{t: day1.Add(23 * time.Hour)}
	l := newLAN()
	self := &fakeHost{id: testPeerID(t, 10), addrs: addrs(t,
		"/ip4/192.168.1.10/tcp/4001", "/ip4/203.0.113.7/tcp/4001", "/ip4/127.0.0.1/tcp/4001")}
	s := newTestService(t, clock, l, self, dk)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	live := func() []*fakeReg {
		var out []*fakeReg
		for _, r := range l.regs {
			if !r.down {
				out = append(out, r)
			}
		}
		return out
	}
	browsedSince := func(from int, name string) bool {
		return slices.Contains(l.browses[min(from, len(l.browses)):], name)
	}

	// Day 1: one registration under day 1's name, browsing day 1's name.
	l.waitFor(t, "day 1 registration and browse", func() bool {
		return len(l.regs) == 1 && browsedSince(0, n1)
	})
	l.mu.Lock()
	r1 := l.regs[0]
	if r1.service != n1 {
		t.Fatalf("registered %q, want %q", r1.service, n1)
	}
	if r1.port < 49152 || r1.port > 65535 || len(r1.instance) != 16 || len(r1.hostname) != 12 {
		t.Fatalf("registration names/port not random-looking: %+v", r1)
	}
	ai, err := OpenRecord(dk(day1), day1, r1.txt)
	if err != nil {
		t.Fatalf("own record does not open: %v", err)
	}
	if ai.ID != self.id || len(ai.Addrs) != 2 || ai.Addrs[0].String() != "/ip4/192.168.1.10/tcp/4001" {
		t.Fatalf("own record = %v (public address must be left out, loopback last)", ai)
	}
	mark := len(l.browses)
	l.mu.Unlock()

	// Same day, same addresses: no re-registration, even after many rounds.
	l.waitFor(t, "more day 1 rounds", func() bool { return len(l.browses) > mark+5 })
	l.mu.Lock()
	if len(l.regs) != 1 || browsedSince(0, n2) {
		t.Fatalf("unexpected re-registration or day 2 browse before midnight")
	}
	l.mu.Unlock()

	// Just after UTC midnight: re-register under day 2's name with new
	// random names, and browse both today's and yesterday's names.
	clock.Set(day2.Add(3 * time.Second))
	l.mu.Lock()
	mark = len(l.browses)
	l.mu.Unlock()
	l.waitFor(t, "day 2 registration, browsing day 2 and day 1", func() bool {
		lv := live()
		return len(l.regs) == 2 && r1.down && len(lv) == 1 && lv[0].service == n2 &&
			browsedSince(mark, n2) && browsedSince(mark, n1)
	})
	l.mu.Lock()
	r2 := l.regs[1]
	if r2.instance == r1.instance || r2.hostname == r1.hostname {
		t.Fatal("instance or host name reused across announcements")
	}
	if _, err := OpenRecord(dk(day2), day2, r2.txt); err != nil {
		t.Fatalf("day 2 record does not open with day 2 key: %v", err)
	}
	if _, err := OpenRecord(dk(day1), day1, r2.txt); err == nil {
		t.Fatal("day 2 record opens with day 1 key")
	}
	l.mu.Unlock()

	// After the grace period only today's name is browsed.
	clock.Set(day2.Add(skewGrace + time.Second))
	l.mu.Lock()
	mark = len(l.browses)
	l.mu.Unlock()
	l.waitFor(t, "several rounds after the grace period", func() bool { return len(l.browses) > mark+6 })
	l.mu.Lock()
	// The round that was running when the clock moved may still show n1;
	// skip the first two browse calls after the mark.
	if slices.Contains(l.browses[mark+2:], n1) {
		t.Fatalf("still browsing yesterday's name after the grace period")
	}
	if len(l.regs) != 2 {
		t.Fatalf("%d registrations, want 2", len(l.regs))
	}
	l.mu.Unlock()

	// Address change: re-register (same day name, fresh random names).
	self.setAddrs(addrs(t, "/ip4/192.168.1.11/tcp/4001"))
	l.waitFor(t, "re-registration after address change", func() bool {
		lv := live()
		return len(l.regs) == 3 && len(lv) == 1 && lv[0].service == n2
	})

	// Close sends the goodbye for the last registration and returns only
	// after all goroutines are done (goleak checks in TestMain).
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if lv := live(); len(lv) != 0 {
		t.Fatalf("%d registrations left after Close", len(lv))
	}
}

func TestFoundFiltering(t *testing.T) {
	dk := testDayKey("zone")
	clock := &fakeClock{t: day2.Add(2 * time.Minute)} // in the grace period
	l := newLAN()
	self := &fakeHost{id: testPeerID(t, 20), addrs: addrs(t, "/ip4/192.168.1.20/tcp/4001"),
		connected: map[peer.ID]bool{}}
	s := newTestService(t, clock, l, self, dk)

	seal := func(day time.Time, key [32]byte, id peer.ID, as ...string) []string {
		txt, err := SealRecord(key, day, peer.AddrInfo{ID: id, Addrs: addrs(t, as...)}, newSeeded(byte(len(as))))
		if err != nil {
			t.Fatal(err)
		}
		return txt
	}
	today, yesterday := testPeerID(t, 21), testPeerID(t, 22)
	connected, stranger := testPeerID(t, 23), testPeerID(t, 24)
	self.connected[connected] = true
	n1, n2 := ServiceName(dk(day1)), ServiceName(dk(day2))
	l.answers[n2] = [][]string{
		{"garbage"},
		seal(day2, dk(day2), self.id, "/ip4/192.168.1.20/tcp/4001"),   // ourselves
		seal(day2, dk(day2), connected, "/ip4/192.168.1.23/tcp/4001"), // already connected
		seal(day2, testDayKey("other")(day2), stranger, "/ip4/192.168.1.24/tcp/1"),
		seal(day1, dk(day1), stranger, "/ip4/192.168.1.24/tcp/2"), // replayed yesterday's under today's name
		seal(day2, dk(day2), stranger, "/ip4/8.8.8.8/tcp/4001"),   // no LAN address
		seal(day2, dk(day2), today, "/ip4/192.168.1.21/tcp/4001", "/ip4/203.0.113.1/tcp/4001"),
	}
	l.answers[n1] = [][]string{seal(day1, dk(day1), yesterday, "/ip4/192.168.1.22/tcp/4001")}

	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	l.waitFor(t, "both zone peers found", func() bool {
		var ids []peer.ID
		for _, ai := range l.found {
			ids = append(ids, ai.ID)
		}
		return slices.Contains(ids, today) && slices.Contains(ids, yesterday)
	})
	s.Close()

	l.mu.Lock()
	defer l.mu.Unlock()
	for _, ai := range l.found {
		switch ai.ID {
		case today:
			if len(ai.Addrs) != 1 || ai.Addrs[0].String() != "/ip4/192.168.1.21/tcp/4001" {
				t.Errorf("today's peer addrs = %v, want only the LAN one", ai.Addrs)
			}
		case yesterday:
		default:
			t.Errorf("Found called for %s, which should have been ignored", ai.ID)
		}
	}
}

func TestBrowseFailureDoesNotStall(t *testing.T) {
	dk := testDayKey("zone")
	clock := &fakeClock{t: day1.Add(time.Hour)}
	l := newLAN()
	l.failing[ServiceName(dk(day1))] = true
	s := newTestService(t, clock, l, &fakeHost{id: testPeerID(t, 30), addrs: addrs(t, "/ip4/10.0.0.30/tcp/1")}, dk)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Rounds keep coming although every Browse fails at once.
	l.waitFor(t, "several failing rounds", func() bool { return len(l.browses) >= 5 })
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestStartClose(t *testing.T) {
	if err := (&Service{}).Start(context.Background()); err == nil {
		t.Fatal("Start without Host/DayKey/Found succeeded")
	}
	if err := (&Service{}).Close(); err != nil {
		t.Fatalf("Close before Start: %v", err)
	}
	dk := testDayKey("zone")
	l := newLAN()
	s := newTestService(t, &fakeClock{t: day1}, l, &fakeHost{id: testPeerID(t, 40)}, dk) // no addresses: browse only
	ctx, cancel := context.WithCancel(context.Background())
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(ctx); err == nil {
		t.Fatal("second Start succeeded")
	}
	l.waitFor(t, "a browse round", func() bool { return len(l.browses) > 0 })
	cancel() // cancelling the context stops the work too; Close still waits
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := s.Start(context.Background()); err == nil {
		t.Fatal("Start after Close succeeded")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.regs) != 0 {
		t.Fatal("registered with no LAN addresses")
	}
}

// testLogger sends the Service's log to the test log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
