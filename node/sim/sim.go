// Package sim runs many Lookout nodes on an in-process simulated network
// (go-libp2p's mocknet): real nodes, real gossipsub, real crypto, no
// sockets. Tests, benchmarks and a practice zone share it.
package sim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/crypto"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	ma "github.com/multiformats/go-multiaddr"

	"lookout/node"
	"lookout/node/api"
	"lookout/node/store"
)

// Config describes a simulated network.
type Config struct {
	// Nodes is how many nodes to start.
	Nodes int
	// Dir holds one home directory per node.
	Dir string
	// PubsubOptions, if set, gives extra gossipsub options per node (tracers).
	PubsubOptions func(i int) []pubsub.Option
	// Now is every node's clock; nil means time.Now.
	Now func() time.Time
	// Logger, if set, receives every node's logs.
	Logger *slog.Logger
	// RedialInterval is every node's redial and governance-sync interval.
	RedialInterval time.Duration
	// Name, if set, names node i's member (default "node<i>").
	Name func(i int) string
}

// Network is a set of running nodes on one mocknet.
type Network struct {
	Mocknet mocknet.Mocknet
	Nodes   []*node.Node
	Homes   []string

	stopped []stoppedNode
}

// stoppedNode is what Resume needs to start a stopped node again.
type stoppedNode struct {
	i    int
	key  crypto.PrivKey
	addr ma.Multiaddr
	old  *node.Node
}

// Secret unlocks every simulated node's store.
var Secret = store.Secret{Passphrase: []byte("simulated member passphrase")}

// StoreOptions make simulated stores cheap to unlock: key derivation with
// the smallest Argon2id costs and no pause after a wrong secret. Never use
// them for a real profile.
var StoreOptions = store.Options{KDF: store.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}, FailureDelay: -1}

// Start creates cfg.Nodes nodes, each with its own identity, all linked
// (able to dial each other) but not yet connected.
func Start(ctx context.Context, cfg Config) (*Network, error) {
	mn := mocknet.New()
	nw := &Network{Mocknet: mn}
	for i := range cfg.Nodes {
		home := filepath.Join(cfg.Dir, fmt.Sprintf("n%d", i))
		name := fmt.Sprintf("node%d", i)
		if cfg.Name != nil {
			name = cfg.Name(i)
		}
		if _, err := node.Init(home, node.InitOptions{Name: name, Secret: Secret, Store: StoreOptions}); err != nil {
			nw.Close()
			return nil, fmt.Errorf("init node %d: %w", i, err)
		}
		h, err := mn.GenPeer()
		if err != nil {
			nw.Close()
			return nil, fmt.Errorf("create host %d: %w", i, err)
		}
		n := &node.Node{Home: home, Secret: Secret, StoreOptions: StoreOptions, Host: h, Now: cfg.Now, RedialInterval: cfg.RedialInterval}
		if cfg.Logger != nil {
			n.Logger = cfg.Logger.With("node", i)
		}
		if cfg.PubsubOptions != nil {
			n.PubsubOptions = cfg.PubsubOptions(i)
		}
		if err := n.Start(ctx); err != nil {
			nw.Close()
			return nil, fmt.Errorf("start node %d: %w", i, err)
		}
		nw.Nodes = append(nw.Nodes, n)
		nw.Homes = append(nw.Homes, home)
	}
	if err := mn.LinkAll(); err != nil {
		nw.Close()
		return nil, fmt.Errorf("link hosts: %w", err)
	}
	return nw, nil
}

// FormZone has node 0 create a zone and invite every other node, which
// joins. roles[i] is node i's role ("" or missing means member; node 0 is
// the founder).
func (nw *Network) FormZone(ctx context.Context, name string, roles map[int]string) (api.Zone, error) {
	z, err := nw.Nodes[0].CreateZone(ctx, name)
	if err != nil {
		return api.Zone{}, err
	}
	for i := 1; i < len(nw.Nodes); i++ {
		role := roles[i]
		if role == "" {
			role = "member"
		}
		inv, err := nw.Nodes[0].Invite(ctx, api.InviteRequest{Zone: z.ID, Role: role, TTL: time.Hour})
		if err != nil {
			return api.Zone{}, fmt.Errorf("invite node %d: %w", i, err)
		}
		if _, err := nw.Nodes[i].Join(ctx, inv.Code); err != nil {
			return api.Zone{}, fmt.Errorf("node %d joins: %w", i, err)
		}
	}
	return z, nil
}

// WaitMesh waits until every node sees at least min other members on the
// zone's topic.
func (nw *Network) WaitMesh(ctx context.Context, zoneID string, min int) error {
	polls := 0
	return WaitFor(ctx, func() bool {
		// Every 2 s, reconnect linked nodes that lost their connection (a
		// membership proof that failed under load closes it, and nothing
		// in a simulated zone remembers every member's address).
		if polls++; polls%200 == 0 && nw.Mocknet != nil {
			_ = nw.Mocknet.ConnectAllButSelf()
		}
		for _, n := range nw.Nodes {
			ok := false
			for _, z := range n.Zones() {
				if z.ID == zoneID && len(z.Peers) >= min {
					ok = true
				}
			}
			if !ok {
				return false
			}
		}
		return true
	})
}

// WaitFor polls cond until it holds or ctx ends.
func WaitFor(ctx context.Context, cond func() bool) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// Close stops every node and the mocknet.
func (nw *Network) Close() error {
	var errs []error
	for _, n := range nw.Nodes {
		errs = append(errs, n.Close())
	}
	if nw.Mocknet != nil {
		errs = append(errs, nw.Mocknet.Close())
	}
	return errors.Join(errs...)
}

// Restart stops node i and starts it again from the same home directory
// and with the same peer identity, as a real restart would.
func (nw *Network) Restart(ctx context.Context, i int) error {
	if err := nw.Stop(ctx, i); err != nil {
		return err
	}
	return nw.Resume(ctx, i)
}

// Stop stops node i, as a laptop closed: its links go, and Stop waits
// until no other node holds a connection to it. Resume starts it again.
func (nw *Network) Stop(ctx context.Context, i int) error {
	old := nw.Nodes[i]
	oh := nw.Mocknet.Host(old.PeerID())
	nw.stopped = append(nw.stopped, stoppedNode{i: i, key: oh.Peerstore().PrivKey(oh.ID()), addr: oh.Addrs()[0], old: old})
	if err := old.Close(); err != nil {
		return fmt.Errorf("stop node %d: %w", i, err)
	}
	// Drop the old incarnation's links, or dials would still reach it, and
	// wait until no other node holds a connection to it.
	for _, p := range nw.Mocknet.Peers() {
		if p != old.PeerID() {
			nw.Mocknet.DisconnectPeers(old.PeerID(), p)
			nw.Mocknet.DisconnectPeers(p, old.PeerID())
			nw.Mocknet.UnlinkPeers(old.PeerID(), p)
		}
	}
	err := WaitFor(ctx, func() bool {
		done := true
		for j, n := range nw.Nodes {
			if j == i {
				continue
			}
			if len(nw.Mocknet.Net(n.PeerID()).ConnsToPeer(old.PeerID())) > 0 {
				// A dial that was under way when the links went: close it too.
				nw.Mocknet.DisconnectPeers(n.PeerID(), old.PeerID())
				done = false
			}
			// And gossipsub must have forgotten the old incarnation, or it
			// may ignore the new one's connection.
			for _, z := range n.Zones() {
				for _, p := range z.Peers {
					if p == old.PeerID().String() {
						done = false
					}
				}
			}
		}
		return done
	})
	if err != nil {
		return fmt.Errorf("stop node %d: others still connected: %w", i, err)
	}
	return nil
}

// Resume starts node i, stopped by Stop, from its home directory with its
// peer identity, linked to every node.
func (nw *Network) Resume(ctx context.Context, i int) error {
	return nw.resume(ctx, i, nil)
}

// ResumeLinked is Resume with node i linked only to the nodes linkTo
// (none if empty), as a laptop back on a network with few members.
func (nw *Network) ResumeLinked(ctx context.Context, i int, linkTo []int) error {
	if linkTo == nil {
		linkTo = []int{}
	}
	return nw.resume(ctx, i, linkTo)
}

func (nw *Network) resume(ctx context.Context, i int, linkTo []int) error {
	var st stoppedNode
	found := false
	for j, s := range nw.stopped {
		if s.i == i {
			st, found = s, true
			nw.stopped = append(nw.stopped[:j], nw.stopped[j+1:]...)
			break
		}
	}
	if !found {
		return fmt.Errorf("resume node %d: it was not stopped", i)
	}
	old, key, addrs := st.old, st.key, []ma.Multiaddr{st.addr}
	// Same peer key and address, as a real node's restart keeps them.
	h, err := nw.Mocknet.AddPeer(key, addrs[0])
	if err != nil {
		return fmt.Errorf("create host %d: %w", i, err)
	}
	if linkTo == nil {
		if err := nw.Mocknet.LinkAll(); err != nil {
			return fmt.Errorf("link hosts: %w", err)
		}
	}
	for _, j := range linkTo {
		if _, err := nw.Mocknet.LinkPeers(h.ID(), nw.Nodes[j].PeerID()); err != nil {
			return fmt.Errorf("link hosts: %w", err)
		}
	}
	n := &node.Node{Home: nw.Homes[i], Secret: Secret, StoreOptions: StoreOptions, Host: h, Now: old.Now, Logger: old.Logger, PubsubOptions: old.PubsubOptions, RedialInterval: old.RedialInterval}
	if err := n.Start(ctx); err != nil {
		return fmt.Errorf("restart node %d: %w", i, err)
	}
	nw.Nodes[i] = n
	return nil
}

// ZoneSpec is one zone for FormZones: Founder creates it and invites
// Members; Roles gives a member's role by node index (default member).
type ZoneSpec struct {
	Name    string
	Founder int
	Members []int
	Roles   map[int]string
}

// FormZones forms several zones on one network, each from its own nodes,
// and waits until every member of each zone sees every other on the
// zone's topic. Zones are independent: a node may be in several.
func (nw *Network) FormZones(ctx context.Context, specs []ZoneSpec) ([]api.Zone, error) {
	var out []api.Zone
	for _, s := range specs {
		founder := nw.Nodes[s.Founder]
		z, err := founder.CreateZone(ctx, s.Name)
		if err != nil {
			return nil, fmt.Errorf("zone %q: %w", s.Name, err)
		}
		for _, i := range s.Members {
			role := s.Roles[i]
			if role == "" {
				role = "member"
			}
			inv, err := founder.Invite(ctx, api.InviteRequest{Zone: z.ID, Role: role, TTL: time.Hour})
			if err != nil {
				return nil, fmt.Errorf("zone %q: invite node %d: %w", s.Name, i, err)
			}
			if _, err := nw.Nodes[i].Join(ctx, inv.Code); err != nil {
				return nil, fmt.Errorf("zone %q: node %d joins: %w", s.Name, i, err)
			}
		}
		all := append([]int{s.Founder}, s.Members...)
		if err := nw.WaitZoneMesh(ctx, z.ID, all, len(all)-1); err != nil {
			return nil, fmt.Errorf("zone %q: mesh did not form: %w", s.Name, err)
		}
		out = append(out, z)
	}
	return out, nil
}

// WaitZoneMesh waits until each of the given nodes sees at least min
// other members on the zone's topic.
func (nw *Network) WaitZoneMesh(ctx context.Context, zoneID string, nodes []int, min int) error {
	return WaitFor(ctx, func() bool {
		for _, i := range nodes {
			ok := false
			for _, z := range nw.Nodes[i].Zones() {
				if z.ID == zoneID && len(z.Peers) >= min {
					ok = true
				}
			}
			if !ok {
				return false
			}
		}
		return true
	})
}
