package node

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

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

// monitor is the node's health state (node/health); the zero value is
// ready.
type monitor struct {
	clock    health.Clock
	rejects  health.Rejects
	accepted atomic.Uint64
	started  atomic.Int64 // unix nanoseconds, this node's clock

	mu         sync.Mutex
	warned     time.Time // last clock warning in the log
	warnedHead string    // its kind: this node's clock, or members' clocks
}

// observeValidation is called by the gossip validator for every message
// (zones.go): it counts the result and feeds the clock estimate with live
// messages from other nodes. A message sent "in the future" is opened
// again for its sent time: it is a zone member's, and the estimate needs
// exactly those when this node's clock is behind.
func (n *Node) observeValidation(z *zone, from peer.ID, data []byte, msg *protocol.Message, err error, start time.Time) {
	now := n.now()
	switch {
	case err == nil:
		n.mon.accepted.Add(1)
		if from != n.h.ID() && msg.Alert.Via == nil {
			n.mon.clock.Observe(msg.Alert.Sender.String(), msg.Alert.Sent, now)
			n.checkClock(now)
		}
	case errors.Is(err, health.ErrDuplicate):
	default:
		n.mon.rejects.Add(err)
		// A clock far off shows as messages from the future, or as live
		// messages sent too long ago (core.ErrBackdated).
		if (errors.Is(err, protocol.ErrFuture) || errors.Is(err, core.ErrBackdated)) && from != n.h.ID() {
			if s := openForClock(z, data); s != nil && s.Alert.Via == nil {
				n.mon.clock.Observe(s.Alert.Sender.String(), s.Alert.Sent, now)
				n.checkClock(now)
			}
		}
	}
	if n.Observer != nil {
		n.Observer.Validated(err, time.Since(start))
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
func (n *Node) checkClock(now time.Time) {
	est := n.mon.clock.Estimate(now)
	if est.Warning() == "" {
		return
	}
	head := "CLOCK IS OFF: "
	if !est.Off() {
		head = "MEMBERS' CLOCKS ARE OFF: "
	}
	n.mon.mu.Lock()
	defer n.mon.mu.Unlock()
	if head == n.mon.warnedHead && !n.mon.warned.IsZero() && now.Sub(n.mon.warned) < clockWarnEvery && now.After(n.mon.warned) {
		return
	}
	n.mon.warned, n.mon.warnedHead = now, head
	n.log.Warn(head+est.Warning(), "offset", est.Offset.Round(time.Second), "senders", est.Senders, "strays", est.Strays)
}

// catchUpServed is called once a catch-up answer is sent (sync.go).
func (n *Node) catchUpServed(messages int) {
	if n.Observer != nil {
		n.Observer.CatchUpServed(messages)
	}
}

// markStarted records the start time for the uptime (Start).
func (n *Node) markStarted() { n.mon.started.Store(n.now().UnixNano()) }

// health describes the node's condition for Status.
func (n *Node) health() *api.Health {
	now := n.now()
	est := n.mon.clock.Estimate(now)
	h := &api.Health{
		Protocol:      protocol.Version,
		SyncProtocol:  syncProtocolVersion,
		Reachable:     "unknown",
		ClockOffsetMS: est.Offset.Milliseconds(),
		ClockSenders:  est.Senders,
		ClockStrays:   est.Strays,
		ClockWarning:  est.Warning(),
		Accepted:      n.mon.accepted.Load(),
		Rejected:      n.mon.rejects.Counts(),
	}
	if s := n.mon.started.Load(); s != 0 {
		h.Uptime = now.Sub(time.Unix(0, s)).Seconds()
	}
	for _, a := range n.h.Addrs() {
		if strings.Contains(a.String(), "/p2p-circuit") {
			h.RelayReservations++
		}
	}
	net := n.h.Network()
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
		protos, err := n.h.Peerstore().GetProtocols(p)
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
	for _, z := range n.liveZones() {
		if _, ok := z.snapshot().expiredSince(now); ok {
			h.ExpiredZones++
		}
	}
	h.StoreBytes = storeSize(n.Home)
	if _, err := n.st.Get(bucketMeta, "health-probe"); err != nil && !errors.Is(err, store.ErrNotFound) {
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
