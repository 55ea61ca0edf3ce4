package node_test

import (
	"path/filepath"
	"testing"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	libp2ptls "github.com/libp2p/go-libp2p/p2p/security/tls"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"

	"lookout/node"
	"lookout/node/sim"
)

// TestTCPOffersOnlyTLS checks that a node's TCP listener completes a
// handshake with TLS 1.3 and refuses Noise: an on-path attacker who
// rewrites the unauthenticated protocol negotiation can only break the
// connection, never move it to another handshake.
func TestTCPOffersOnlyTLS(t *testing.T) {
	ctx := testContext(t)
	home := filepath.Join(t.TempDir(), "home")
	if _, err := node.Init(home, testInit("Ada")); err != nil {
		t.Fatal(err)
	}
	n := &node.Node{Home: home, Secret: sim.Secret, StoreOptions: sim.StoreOptions, ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"}}
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	target := peer.AddrInfo{ID: n.PeerID(), Addrs: n.Addrs()}

	for _, tc := range []struct {
		name     string
		security libp2p.Option
		ok       bool
	}{
		{"noise only", libp2p.Security(noise.ID, noise.New), false},
		{"tls only", libp2p.Security(libp2ptls.ID, libp2ptls.New), true},
		{"noise first, then tls", libp2p.ChainOptions(libp2p.Security(noise.ID, noise.New), libp2p.Security(libp2ptls.ID, libp2ptls.New)), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := libp2p.New(libp2p.NoListenAddrs, libp2p.Transport(tcp.NewTCPTransport), tc.security)
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			err = h.Connect(ctx, target)
			if tc.ok && err != nil {
				t.Fatalf("connect offering %s: %v", tc.name, err)
			}
			if !tc.ok && err == nil {
				t.Fatalf("connect offering %s succeeded; the node must accept TLS 1.3 only", tc.name)
			}
			if tc.ok {
				conns := h.Network().ConnsToPeer(n.PeerID())
				if len(conns) == 0 {
					t.Fatal("no connection after a successful connect")
				}
				if got := conns[0].ConnState().Security; got != libp2ptls.ID {
					t.Errorf("negotiated security %q, want %q", got, libp2ptls.ID)
				}
			}
		})
	}
}

// TestStartDropsSecret checks that a started node keeps no reference to
// the passphrase it was given.
func TestStartDropsSecret(t *testing.T) {
	ctx := testContext(t)
	home := filepath.Join(t.TempDir(), "home")
	if _, err := node.Init(home, testInit("Ada")); err != nil {
		t.Fatal(err)
	}
	n := &node.Node{Home: home, Secret: sim.Secret, StoreOptions: sim.StoreOptions, ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"}}
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	if n.Secret.Passphrase != nil || n.Secret.KeyFile != "" {
		t.Error("Node.Secret still set after Start")
	}
}
