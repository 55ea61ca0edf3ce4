package discovery

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/zeroconf/v2"
	ma "github.com/multiformats/go-multiaddr"
)

const (
	// DefaultInterval is how long one browse round lasts when Interval is 0.
	DefaultInterval = 15 * time.Second

	// skewGrace is how long after UTC midnight yesterday's service name is
	// still browsed, so peers whose clocks lag a little are still found.
	skewGrace = 10 * time.Minute

	// recordTTL is the DNS TTL of our records (seconds). Short, because
	// names rotate and addresses change.
	recordTTL = 120

	mdnsDomain = "local."
)

// Service announces this node to, and finds, members of one zone on the LAN.
// Fill in the exported fields, then call Start; call Close when done.
type Service struct {
	Host   host.Host
	DayKey func(day time.Time) [32]byte // day is midnight UTC
	// Found is called for every zone member seen that is not this node and
	// not already connected. It runs on a browse goroutine (two may call it
	// concurrently around midnight) and should return promptly: dial in a
	// goroutine. It is never called after Close returns.
	Found    func(peer.AddrInfo)
	Now      func() time.Time // nil = time.Now
	Logger   *slog.Logger     // nil = discard
	Interval time.Duration    // browse round length, 0 = DefaultInterval
	// Pool, if set, pads the device's announcements with decoys (see
	// Pool). Every zone Service of a device shares one.
	Pool *Pool

	// Hooks replaced by tests; nil = real zeroconf.
	register func(instance, service string, port int, hostname string, txt []string) (shutdowner, error)
	browse   func(ctx context.Context, service string, entries chan<- *zeroconf.ServiceEntry) error

	mu      sync.Mutex
	started bool
	closed  bool
	cancel  context.CancelFunc
	done    chan struct{}

	cur *announcement // owned by the run goroutine
}

type shutdowner interface{ Shutdown() }

type announcement struct {
	day     time.Time
	addrs   string // canonical form of the announced address set
	service string
	srv     shutdowner
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) interval() time.Duration {
	if s.Interval > 0 {
		return s.Interval
	}
	return DefaultInterval
}

// Start begins announcing and browsing in the background. It returns an
// error only for a misconfigured Service or a second Start; network trouble
// (no multicast interface, say) is logged and retried every round. The
// background work stops when ctx is cancelled or Close is called.
func (s *Service) Start(ctx context.Context) error {
	if s.Host == nil || s.DayKey == nil || s.Found == nil {
		return errors.New("discovery: Host, DayKey and Found are required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("discovery: service closed")
	}
	if s.started {
		return errors.New("discovery: already started")
	}
	s.started = true
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.register == nil {
		s.register = zeroconfRegister
	}
	if s.browse == nil {
		s.browse = zeroconfBrowse
	}
	parent := ctx
	ctx, s.cancel = context.WithCancel(ctx)
	s.done = make(chan struct{})
	go s.run(ctx)
	if s.Pool != nil {
		s.Pool.add(parent, s)
	}
	return nil
}

// Close stops announcing (sending mDNS goodbyes) and browsing, and waits for
// every goroutine the Service started to finish.
func (s *Service) Close() error {
	s.mu.Lock()
	s.closed = true
	cancel, done := s.cancel, s.done
	s.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	<-done
	if s.Pool != nil {
		s.Pool.remove(s)
	}
	return nil
}

func (s *Service) run(ctx context.Context) {
	defer close(s.done)
	defer s.unannounce()
	for ctx.Err() == nil {
		now := s.now()
		s.announce(now)
		rctx, cancel := context.WithTimeout(ctx, roundLength(now, s.interval()))
		s.browseRound(rctx, browseDays(now))
		cancel()
	}
}

// browseDays returns the days whose service names are browsed at now:
// today, and for skewGrace after midnight also yesterday. (A peer whose clock
// runs ahead is found by that peer browsing our "yesterday"; one connection
// either way is enough.)
func browseDays(now time.Time) []time.Time {
	today := utcDay(now)
	if now.Sub(today) < skewGrace {
		return []time.Time{today, today.AddDate(0, 0, -1)}
	}
	return []time.Time{today}
}

// roundLength is how long the browse round starting at now lasts: the
// interval, cut short so a new round starts just after the next change of
// plan (UTC midnight, or the end of the skew grace period).
func roundLength(now time.Time, interval time.Duration) time.Duration {
	const slack = 10 * time.Millisecond
	today := utcDay(now)
	next := today.AddDate(0, 0, 1)
	if g := today.Add(skewGrace); now.Before(g) {
		next = g
	}
	if d := next.Sub(now) + slack; d < interval {
		return d
	}
	return interval
}

// announce makes sure the current registration is for now's day and the
// host's current LAN addresses, re-registering with fresh random names if
// not. On failure there is no registration and the next round retries.
func (s *Service) announce(now time.Time) {
	day := utcDay(now)
	addrs := lanAddrs(s.Host.Addrs())
	sig := addrSig(addrs)
	if s.cur != nil && s.cur.day.Equal(day) && s.cur.addrs == sig {
		return
	}
	s.unannounce()
	if len(addrs) == 0 {
		s.Logger.Debug("mdns: no LAN addresses to announce")
		return
	}
	key := s.DayKey(day)
	var txt []string
	var err error
	for n := len(addrs); n > 0; n-- {
		txt, err = SealRecord(key, day, peer.AddrInfo{ID: s.Host.ID(), Addrs: addrs[:n]}, rand.Reader)
		if !errors.Is(err, ErrTooLarge) {
			break
		}
	}
	if err != nil {
		s.Logger.Warn("mdns: sealing record", "err", err)
		return
	}
	service := ServiceName(key)
	srv, err := s.register(randomLabel(8), service, randomPort(), randomLabel(6), txt)
	if err != nil {
		s.Logger.Warn("mdns: registering service", "err", err)
		return
	}
	s.Logger.Debug("mdns: announcing", "day", day.Format("2006-01-02"))
	s.cur = &announcement{day: day, addrs: sig, service: service, srv: srv}
}

func (s *Service) unannounce() {
	if s.cur != nil {
		s.cur.srv.Shutdown()
		s.cur = nil
	}
}

// browseRound browses the service names of days until ctx ends, reporting
// zone members found. It returns when ctx is done and every browse goroutine
// has finished, even if browsing failed early.
func (s *Service) browseRound(ctx context.Context, days []time.Time) {
	var wg sync.WaitGroup
	for _, day := range days {
		key := s.DayKey(day)
		service := ServiceName(key)
		entries := make(chan *zeroconf.ServiceEntry)
		browsed := make(chan struct{})
		wg.Add(2)
		go func() {
			defer wg.Done()
			defer close(browsed)
			if err := s.browse(ctx, service, entries); err != nil && ctx.Err() == nil {
				s.Logger.Warn("mdns: browsing", "err", err)
			}
		}()
		go func() {
			defer wg.Done()
			// zeroconf closes entries when it is done with them, but not if
			// Browse fails before it starts; once Browse has returned
			// nothing more is sent either way.
			for {
				select {
				case e, ok := <-entries:
					if !ok {
						return
					}
					s.handleEntry(key, day, e)
				case <-browsed:
					return
				}
			}
		}()
	}
	<-ctx.Done()
	wg.Wait()
}

func (s *Service) handleEntry(key [32]byte, day time.Time, e *zeroconf.ServiceEntry) {
	if e == nil {
		return
	}
	ai, err := OpenRecord(key, day, e.Text)
	if err != nil {
		return // someone else's service, or garbage: ignore silently
	}
	if ai.ID == s.Host.ID() {
		return
	}
	ai.Addrs = lanAddrs(ai.Addrs)
	if len(ai.Addrs) == 0 {
		return
	}
	if s.Host.Network().Connectedness(ai.ID) == network.Connected {
		return
	}
	s.Logger.Debug("mdns: found zone peer", "peer", ai.ID)
	s.Found(ai)
}

func addrSig(addrs []ma.Multiaddr) string {
	ss := make([]string, len(addrs))
	for i, a := range addrs {
		ss[i] = string(a.Bytes())
	}
	slices.Sort(ss)
	return strings.Join(ss, "\x00")
}

// randomLabel returns 2n lowercase hex characters.
func randomLabel(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// randomPort returns a port in the dynamic range for the SRV record. The
// real addresses are in the sealed TXT record; the SRV port is only there
// because DNS-SD needs one, and must not reveal the (possibly stable)
// libp2p listen port.
func randomPort() int {
	var b [2]byte
	rand.Read(b[:])
	return 49152 + int(binary.BigEndian.Uint16(b[:]))%(65536-49152)
}

// zeroconfRegister registers with random instance and host names and no
// explicit IPs: zeroconf then answers with the addresses of the interface the
// query came in on, which anyone on that link can see anyway, rather than
// listing every address this machine has (VPN, containers...).
func zeroconfRegister(instance, service string, port int, hostname string, txt []string) (shutdowner, error) {
	return zeroconf.RegisterProxy(instance, service, mdnsDomain, port, hostname, nil, txt, nil, zeroconf.TTL(recordTTL))
}

func zeroconfBrowse(ctx context.Context, service string, entries chan<- *zeroconf.ServiceEntry) error {
	return zeroconf.Browse(ctx, service, mdnsDomain, entries)
}
