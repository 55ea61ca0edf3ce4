package reach

import (
	"fmt"
	"sync"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/p2p/host/eventbus"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// Reachability verdicts as the status API reports them.
const (
	Public  = "public"
	Private = "private"
	Unknown = "unknown"
)

// Tracker follows what AutoNAT tells a host about its reachability, and
// runs hole punching for it.
type Tracker struct {
	h       host.Host
	punch   *puncher
	sub     event.Subscription
	done    chan struct{}
	changes chan struct{}

	mu        sync.Mutex
	verdict   network.Reachability
	reachable []ma.Multiaddr // confirmed by AutoNAT v2
}

// NewTracker subscribes to h's reachability events and starts hole
// punching towards members (m) reached only through relays. h must be
// built with Options. Close stops it.
func NewTracker(h host.Host, m Members) (*Tracker, error) {
	sub, err := h.EventBus().Subscribe([]any{
		new(event.EvtLocalReachabilityChanged),
		new(event.EvtHostReachableAddrsChanged),
	}, eventbus.Name("lookout reach"))
	if err != nil {
		return nil, fmt.Errorf("watch reachability: %w", err)
	}
	t := &Tracker{h: h, sub: sub, done: make(chan struct{}), changes: make(chan struct{}, 1)}
	if t.punch, err = startPuncher(h, m, PunchInterval); err != nil {
		sub.Close()
		return nil, err
	}
	go t.loop()
	return t, nil
}

func (t *Tracker) loop() {
	defer close(t.done)
	for ev := range t.sub.Out() {
		t.mu.Lock()
		switch e := ev.(type) {
		case event.EvtLocalReachabilityChanged:
			t.verdict = e.Reachability
		case event.EvtHostReachableAddrsChanged:
			t.reachable = append([]ma.Multiaddr(nil), e.Reachable...)
		}
		t.mu.Unlock()
		select {
		case t.changes <- struct{}{}:
		default:
		}
	}
}

// Changes receives a value after the verdict or the reachable addresses
// changed (coalesced).
func (t *Tracker) Changes() <-chan struct{} { return t.changes }

// Reachability is Public, Private or Unknown. An address confirmed by
// AutoNAT v2 makes the node public even before AutoNAT v1 decided.
func (t *Tracker) Reachability() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.verdict == network.ReachabilityPublic || len(t.reachable) > 0:
		return Public
	case t.verdict == network.ReachabilityPrivate:
		return Private
	}
	return Unknown
}

// PublicAddrs are the host's addresses that others can dial: those
// AutoNAT v2 confirmed, or, once the node is known public, its public
// non-relay addresses.
func (t *Tracker) PublicAddrs() []string {
	t.mu.Lock()
	addrs := append([]ma.Multiaddr(nil), t.reachable...)
	public := t.verdict == network.ReachabilityPublic
	t.mu.Unlock()
	if len(addrs) == 0 && public {
		for _, a := range t.h.Addrs() {
			if manet.IsPublicAddr(a) && !IsRelayed(a) {
				addrs = append(addrs, a)
			}
		}
	}
	out := make([]string, 0, len(addrs))
	for _, a := range addrs {
		out = append(out, a.String())
	}
	return out
}

// Close stops the tracker and hole punching.
func (t *Tracker) Close() error {
	err := t.punch.close()
	if cerr := t.sub.Close(); err == nil {
		err = cerr
	}
	<-t.done
	return err
}
