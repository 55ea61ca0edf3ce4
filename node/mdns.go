package node

import (
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"lookout/node/discovery"
)

// startMDNS runs private local-network discovery for every zone.
func (n *Node) startMDNS() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, z := range n.zones {
		secret := z.secret
		s := &discovery.Service{
			Host:   n.h,
			DayKey: func(day time.Time) [32]byte { return secret.DiscoveryKey(day) },
			Found: func(ai peer.AddrInfo) {
				if ai.ID != n.h.ID() {
					go n.h.Connect(n.ctx, ai)
				}
			},
			Now:    n.Now,
			Logger: n.log,
		}
		if err := s.Start(n.ctx); err != nil {
			return fmt.Errorf("start local discovery for zone %q: %w", z.rec.Name, err)
		}
		n.mdns = append(n.mdns, s)
	}
	return nil
}
