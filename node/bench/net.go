package bench

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/p2p/transport/quicreuse"
	"github.com/marcopolo/simnet"
	"github.com/quic-go/quic-go"
	"go.uber.org/fx"

	"lookout/node"
)

// Simulated network settings.
const (
	// simPort is every simulated host's UDP port.
	simPort = 8000
)

// simNet is a virtual-time network of n hosts: one simnet endpoint per
// host, a one-way latency per pair of hosts, optional loss, and hosts that
// can be taken offline (all their packets dropped).
type simNet struct {
	sn      *simnet.Simnet
	latency func(a, b int) time.Duration
	loss    float64
	seed    uint64

	mu    sync.Mutex
	byIP  map[[4]byte]int
	conns []*simConn
	off   []atomic.Bool
}

func newSimNet(n int, latency func(a, b int) time.Duration, loss float64, seed uint64) *simNet {
	s := &simNet{latency: latency, loss: loss, seed: seed, byIP: map[[4]byte]int{}, conns: make([]*simConn, n), off: make([]atomic.Bool, n)}
	s.sn = &simnet.Simnet{LatencyFunc: s.packetLatency}
	return s
}

func (s *simNet) index(a net.Addr) (int, bool) {
	u, ok := a.(*net.UDPAddr)
	if !ok {
		return 0, false
	}
	ip4 := u.IP.To4()
	if ip4 == nil {
		return 0, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.byIP[[4]byte(ip4)]
	return i, ok
}

func (s *simNet) packetLatency(p *simnet.Packet) time.Duration {
	a, ok1 := s.index(p.From)
	b, ok2 := s.index(p.To)
	if !ok1 || !ok2 {
		return 0
	}
	return s.latency(a, b)
}

// addr returns host i's listen multiaddr.
func addr(i int) string {
	return fmt.Sprintf("/ip4/%s/udp/%d/quic-v1", simnet.IntToPublicIPv4(i), simPort)
}

// setOffline cuts host i off the network, or reconnects it.
func (s *simNet) setOffline(i int, off bool) { s.off[i].Store(off) }

// bytesSent returns the UDP payload bytes each host has sent.
func (s *simNet) bytesSent() []int64 {
	out := make([]int64, len(s.conns))
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, c := range s.conns {
		if c != nil {
			out[i] = int64(c.Stats().BytesSent)
		}
	}
	return out
}

// newHost starts libp2p host i (QUIC only) on the simulated network.
func (s *simNet) newHost(i int, link simnet.NodeBiDiLinkSettings) (host.Host, error) {
	s.mu.Lock()
	s.byIP[[4]byte(simnet.IntToPublicIPv4(i).To4())] = i
	s.mu.Unlock()
	sel := &fixedSourceIP{}
	listen := func(_ string, a *net.UDPAddr) (net.PacketConn, error) {
		sel.ip.Store(&a.IP)
		c := &simConn{SimConn: s.sn.NewEndpoint(a, link), net: s, self: i,
			rng: rand.New(rand.NewPCG(s.seed, uint64(i)))}
		s.mu.Lock()
		s.conns[i] = c
		s.mu.Unlock()
		return c, nil
	}
	// The node's own connection manager, and libp2p's default resource
	// manager as the node has: a run cannot hold more connections than a
	// real node would.
	cm, err := node.NewConnManager()
	if err != nil {
		return nil, fmt.Errorf("connection manager: %w", err)
	}
	h, err := libp2p.New(
		libp2p.ListenAddrStrings(addr(i)),
		libp2p.QUICReuse(func(l fx.Lifecycle, reset quic.StatelessResetKey, token quic.TokenGeneratorKey, opts ...quicreuse.Option) (*quicreuse.ConnManager, error) {
			m, err := quicreuse.NewConnManager(reset, token, opts...)
			if err != nil {
				return nil, err
			}
			// libp2p does not close a QUIC connection manager it did not
			// build itself.
			l.Append(fx.StopHook(m.Close))
			return m, nil
		},
			quicreuse.OverrideSourceIPSelector(func() (quicreuse.SourceIPSelector, error) { return sel, nil }),
			quicreuse.OverrideListenUDP(listen)),
		// Identify's address discovery stalls synctest bubbles.
		libp2p.DisableIdentifyAddressDiscovery(),
		libp2p.ConnectionManager(cm),
	)
	if err != nil {
		return nil, fmt.Errorf("host %d: %w", i, err)
	}
	return h, nil
}

// fixedSourceIP answers quicreuse's source-address question without
// looking at the machine's routing table.
type fixedSourceIP struct{ ip atomic.Pointer[net.IP] }

func (f *fixedSourceIP) PreferredSourceIPForDestination(*net.UDPAddr) (net.IP, error) {
	return *f.ip.Load(), nil
}

// simConn is a simnet endpoint that drops packets of offline hosts and a
// random fraction of the rest.
type simConn struct {
	*simnet.SimConn
	net  *simNet
	self int

	mu  sync.Mutex
	rng *rand.Rand
}

func (c *simConn) WriteTo(p []byte, to net.Addr) (int, error) {
	if c.net.off[c.self].Load() {
		return len(p), nil
	}
	if j, ok := c.net.index(to); ok && c.net.off[j].Load() {
		return len(p), nil
	}
	if c.net.loss > 0 {
		c.mu.Lock()
		drop := c.rng.Float64() < c.net.loss
		c.mu.Unlock()
		if drop {
			return len(p), nil
		}
	}
	return c.SimConn.WriteTo(p, to)
}

// pairLatency returns a latency function that draws each unordered pair's
// one-way latency from l, the same for every call with that pair and seed.
func pairLatency(l Latency, seed uint64) func(a, b int) time.Duration {
	var mu sync.Mutex
	cache := map[[2]int]time.Duration{}
	return func(a, b int) time.Duration {
		if a > b {
			a, b = b, a
		}
		mu.Lock()
		defer mu.Unlock()
		if d, ok := cache[[2]int{a, b}]; ok {
			return d
		}
		h := fnv.New64a()
		fmt.Fprintf(h, "%d/%d", a, b)
		d := l.Draw(rand.New(rand.NewPCG(seed, h.Sum64())))
		cache[[2]int{a, b}] = d
		return d
	}
}
