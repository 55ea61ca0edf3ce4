package reach

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/protocol/holepunch"
	"github.com/libp2p/go-libp2p/p2p/protocol/identify"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// Hole punching retries.
const (
	// PunchInterval is how often members reached only through a relay are
	// offered a hole punch again.
	PunchInterval = 15 * time.Second
	// MaxPunches bounds the retries per peer and relayed connection
	// lifetime; a symmetric NAT never lets one through.
	MaxPunches = 8
)

// puncher runs DCUtR (go-libp2p's hole punching service) and retries it.
// go-libp2p tries once, when a relayed connection comes in; a node that
// had not yet learned its public address from a peer then misses its only
// chance, which is the common case for a member who just joined.
type puncher struct {
	h      host.Host
	m      Members
	svc    *holepunch.Service
	every  time.Duration
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	tries  map[peer.ID]int
}

// hostInternals are what the puncher needs from go-libp2p's basic host.
type hostInternals interface {
	IDService() identify.IDService
	AllAddrs() []ma.Multiaddr
}

func startPuncher(h host.Host, m Members, every time.Duration) (*puncher, error) {
	bh, ok := h.(hostInternals)
	if !ok {
		return nil, fmt.Errorf("hole punching: host %T has no identify service", h)
	}
	public := func() []ma.Multiaddr {
		return slices.DeleteFunc(bh.AllAddrs(), func(a ma.Multiaddr) bool { return !manet.IsPublicAddr(a) })
	}
	svc, err := holepunch.NewService(h, bh.IDService(), public)
	if err != nil {
		return nil, fmt.Errorf("hole punching: %w", err)
	}
	p := &puncher{h: h, m: m, svc: svc, every: every, tries: map[peer.ID]int{}}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	p.wg.Add(1)
	go p.loop()
	return p, nil
}

func (p *puncher) loop() {
	defer p.wg.Done()
	t := time.NewTicker(p.every)
	defer t.Stop()
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-t.C:
		}
		// DirectConnect waits (without a context) until the service has a
		// public address; it has one once it serves the DCUtR protocol.
		if !slices.Contains(p.h.Mux().Protocols(), holepunch.Protocol) {
			continue
		}
		for id := range p.tries {
			if ConnKind(p.h.Network(), id) != Relayed {
				delete(p.tries, id)
			}
		}
		for _, id := range p.h.Network().Peers() {
			if ConnKind(p.h.Network(), id) != Relayed || p.tries[id] >= MaxPunches || p.m == nil || !p.m.Member(id) {
				continue
			}
			p.tries[id]++
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				p.svc.DirectConnect(id) // failures are expected behind symmetric NATs
			}()
		}
	}
}

func (p *puncher) close() error {
	p.cancel()
	err := p.svc.Close()
	p.wg.Wait()
	return err
}
