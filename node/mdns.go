package node

import (
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"lookout/node/discovery"
)

// startDiscovery runs private local-network discovery for a zone when the
// node was started with MDNS. The zone closes it.
func (n *Node) startDiscovery(z *zone) error {
	if !n.MDNS {
		return nil
	}
	s := &discovery.Service{
		Host: n.h,
		// The current epoch's secret: after a removal, the removed member
		// can no longer find or be found by the zone on the LAN.
		DayKey: func(day time.Time) [32]byte {
			_, secret := z.Current()
			return secret.DiscoveryKey(day)
		},
		Found: func(ai peer.AddrInfo) {
			if ai.ID == n.h.ID() {
				return
			}
			n.spawn(func() {
				if err := n.h.Connect(n.ctx, ai); err != nil {
					n.log.Debug("local peer dial failed", "peer", ai.ID, "err", err)
				}
			})
		},
		Now:    n.Now,
		Logger: n.log,
		Pool:   &n.pad,
	}
	if err := s.Start(n.ctx); err != nil {
		return fmt.Errorf("start local discovery for zone %q: %w", z.Name(), err)
	}
	z.discovery = s
	return nil
}
