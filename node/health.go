package node

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"lookout/node/api"
	"lookout/node/health"
	core "lookout/node/internal/zone"
	"lookout/node/store"
	"lookout/protocol"
)

// Observer is told what the node validates and serves; node/metrics
// implements it. Calls must not block.
type Observer interface {
	// Validated reports one message through the door: err is nil when it
	// was accepted, health.ErrDuplicate when the node already had it.
	Validated(err error, took time.Duration)
	// CatchUpServed reports one catch-up answer and how many messages it
	// carried.
	CatchUpServed(messages int)
}

// clockWarnEvery is how often the node log repeats a clock warning.
const clockWarnEvery = 10 * time.Minute

// monitor watches the node's health (node/health): it counts what the
// gossip validator accepts and rejects, estimates this node's clock offset
// from members' live messages and warns in the log while it is off, tells
// the Observer of each validation and catch-up answer, and describes the
// node's condition for Status. Its counters and clock estimate are its
// own, and so is the last clock warning, under its own lock; it reaches
// its node only through node and the values it was made with.
type monitor struct {
	node    nodeForHealth
	h       host.Host    // this node's peer ID, addresses and connections
	st      *store.Store // probed for the status
	home    string       // where the store's files are, for their size
	log     *slog.Logger
	obs     Observer // nil: nobody is told
	started int64    // unix nanoseconds, this node's clock: when Start began

	clock    health.Clock
	rejects  health.Rejects
	accepted atomic.Uint64

	mu         sync.Mutex
	warned     time.Time // last clock warning in the log
	warnedHead string    // its kind: this node's clock, or members' clocks
}

// nodeForHealth is what the monitor uses of its node: its clock and live
// zones (the expired ones are counted in the status).
type nodeForHealth interface {
	now() time.Time
	liveZones() []*zone
}

// newMonitor makes n's monitor once Start has opened its store and
// started its host, before the gossip validator and catch-up report to it
// (startGate, startPubsub). started is when Start began, for the uptime.
func newMonitor(n *Node, started time.Time) *monitor {
	return &monitor{node: n, h: n.h, st: n.st, home: n.Home, log: n.log, obs: n.Observer, started: started.UnixNano()}
}

// observeValidation is called by the gossip validator for every message
// (door.go): it counts the result and feeds the clock estimate with live
// messages from other nodes. A message sent "in the future" is opened
// again for its sent time: it is a zone member's, and the estimate needs
// exactly those when this node's clock is behind.
func (m *monitor) observeValidation(z *zone, from peer.ID, data []byte, msg *protocol.Message, err error, start time.Time) {
	now := m.node.now()
	switch {
	case err == nil:
		m.accepted.Add(1)
		if from != m.h.ID() && msg.Alert.Via == nil {
			m.clock.Observe(msg.Alert.Sender.String(), msg.Alert.Sent, now)
			m.checkClock(now)
		}
	case errors.Is(err, health.ErrDuplicate):
	default:
		m.rejects.Add(err)
		// A clock far off shows as messages from the future, or as live
		// messages sent too long ago (core.ErrBackdated).
		if (errors.Is(err, protocol.ErrFuture) || errors.Is(err, core.ErrBackdated)) && from != m.h.ID() {
			if s := openForClock(z, data); s != nil && s.Alert.Via == nil {
				m.clock.Observe(s.Alert.Sender.String(), s.Alert.Sent, now)
				m.checkClock(now)
			}
		}
	}
	if m.obs != nil {
		m.obs.Validated(err, time.Since(start))
	}
}

// openForClock decrypts an envelope with its zone's key, for its sent time.
func openForClock(z *zone, data []byte) *protocol.Signed {
	epoch, err := protocol.EnvelopeEpoch(data)
	if err != nil {
		return nil
	}
	key, ok := z.val.Key(epoch)
	if !ok {
		return nil
	}
	s, err := protocol.Open(key, data)
	if err != nil {
		return nil
	}
	return s
}

// checkClock warns in the node log while the clock is off, at most every
// clockWarnEvery, and at once when the kind of warning changes (this
// node's clock, or members' clocks: the first message seen can make the
// one look like the other).
func (m *monitor) checkClock(now time.Time) {
	est := m.clock.Estimate(now)
	if est.Warning() == "" {
		return
	}
	head := "CLOCK IS OFF: "
	if !est.Off() {
		head = "MEMBERS' CLOCKS ARE OFF: "
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if head == m.warnedHead && !m.warned.IsZero() && now.Sub(m.warned) < clockWarnEvery && now.After(m.warned) {
		return
	}
	m.warned, m.warnedHead = now, head
	m.log.Warn(head+est.Warning(), "offset", est.Offset.Round(time.Second), "senders", est.Senders, "strays", est.Strays)
}

// catchUpServed is called once a catch-up answer is sent (sync.go).
func (m *monitor) catchUpServed(messages int) {
	if m.obs != nil {
		m.obs.CatchUpServed(messages)
	}
}

// health describes the node's condition for Status.
func (m *monitor) health() *api.Health {
	now := m.node.now()
	est := m.clock.Estimate(now)
	h := &api.Health{
		Protocol:      protocol.Version,
		SyncProtocol:  syncProtocolVersion,
		Reachable:     "unknown",
		ClockOffsetMS: est.Offset.Milliseconds(),
		ClockSenders:  est.Senders,
		ClockStrays:   est.Strays,
		ClockWarning:  est.Warning(),
		Accepted:      m.accepted.Load(),
		Rejected:      m.rejects.Counts(),
	}
	if s := m.started; s != 0 {
		h.Uptime = now.Sub(time.Unix(0, s)).Seconds()
	}
	for _, a := range m.h.Addrs() {
		if strings.Contains(a.String(), "/p2p-circuit") {
			h.RelayReservations++
		}
	}
	net := m.h.Network()
	for _, p := range net.Peers() {
		if net.Connectedness(p) != network.Connected {
			continue
		}
		direct := slices.ContainsFunc(net.ConnsToPeer(p), func(c network.Conn) bool { return !c.Stat().Limited })
		if direct {
			h.PeersDirect++
		} else {
			h.PeersRelayed++
		}
		protos, err := m.h.Peerstore().GetProtocols(p)
		if err != nil {
			continue
		}
		names := make([]string, len(protos))
		for i, pr := range protos {
			names[i] = string(pr)
		}
		v := health.SyncVersion(names)
		switch {
		case v == 0: // not a Lookout node, or identify not done yet
		case v < syncProtocolVersion:
			h.OlderPeers = append(h.OlderPeers, api.PeerVersion{Peer: p.String(), SyncProtocol: v})
		case v > syncProtocolVersion:
			h.NewerPeers = append(h.NewerPeers, api.PeerVersion{Peer: p.String(), SyncProtocol: v})
		}
	}
	for _, z := range m.node.liveZones() {
		if _, ok := z.snapshot().expiredSince(now); ok {
			h.ExpiredZones++
		}
	}
	h.StoreBytes = storeSize(m.home)
	if _, err := m.st.Get(bucketMeta, "health-probe"); err != nil && !errors.Is(err, store.ErrNotFound) {
		h.StoreError = err.Error()
	}
	return h
}

// storeSize is the size of the store's files in home.
func storeSize(home string) int64 {
	var total int64
	for _, name := range []string{"store.db", "store.keys"} {
		if fi, err := os.Stat(filepath.Join(home, name)); err == nil {
			total += fi.Size()
		}
	}
	return total
}
