package discovery

import (
	"context"
	"crypto/rand"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// DefaultPadTo is the multiple to which a Pool pads a device's
// announcements: a device in 1 to 4 zones announces 4 services, in 5 to 8
// zones 8, so a LAN observer does not learn how many zones it is in.
const DefaultPadTo = 4

// Pool pads the zone Services of one device with decoys: Services under a
// fresh random day key that nobody else holds, announcing a record of the
// same size (sealed under that key) and browsing their own name, so that
// on the wire they behave exactly like a zone's. Set a zone Service's Pool
// before Start; the Pool starts and stops decoys as zone Services start
// and close, and the last zone Service to close stops every decoy.
type Pool struct {
	PadTo int // 0 = DefaultPadTo

	mu     sync.Mutex
	real   map[*Service]context.Context
	decoys []*Service
}

func (p *Pool) padTo() int {
	if p.PadTo > 0 {
		return p.PadTo
	}
	return DefaultPadTo
}

// Decoys returns how many decoys run now.
func (p *Pool) Decoys() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.decoys)
}

func (p *Pool) add(ctx context.Context, s *Service) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.real == nil {
		p.real = map[*Service]context.Context{}
	}
	p.real[s] = ctx
	p.pad(s)
}

func (p *Pool) remove(s *Service) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.real, s)
	p.pad(nil)
}

// pad starts or stops decoys so that zone Services plus decoys are a
// multiple of PadTo; like is a zone Service whose settings decoys copy.
// p.mu is held.
func (p *Pool) pad(like *Service) {
	n := len(p.real)
	want := 0
	if n > 0 {
		k := p.padTo()
		want = (n+k-1)/k*k - n
	}
	for len(p.decoys) > want {
		d := p.decoys[len(p.decoys)-1]
		p.decoys = p.decoys[:len(p.decoys)-1]
		d.Close()
	}
	if len(p.decoys) == want {
		return
	}
	var ctx context.Context
	if like == nil {
		for s, c := range p.real {
			like, ctx = s, c
			break
		}
	} else {
		ctx = p.real[like]
	}
	for len(p.decoys) < want {
		d := &Service{
			Host:     like.Host,
			DayKey:   randomDayKeys(),
			Found:    func(peer.AddrInfo) {},
			Now:      like.Now,
			Logger:   like.Logger,
			Interval: like.Interval,
			register: like.register,
			browse:   like.browse,
		}
		if err := d.Start(ctx); err != nil {
			like.Logger.Warn("mdns: starting a decoy", "err", err)
			return
		}
		p.decoys = append(p.decoys, d)
	}
}

// randomDayKeys returns a DayKey function giving a fresh random key for
// each day, remembered for two days (browsing looks at yesterday too).
func randomDayKeys() func(time.Time) [32]byte {
	var mu sync.Mutex
	keys := map[time.Time][32]byte{}
	return func(day time.Time) [32]byte {
		mu.Lock()
		defer mu.Unlock()
		k, ok := keys[day]
		if !ok {
			rand.Read(k[:])
			keys[day] = k
			for d := range keys {
				if day.Sub(d) > 48*time.Hour {
					delete(keys, d)
				}
			}
		}
		return k
	}
}
