package node

import (
	"testing"

	"github.com/libp2p/go-libp2p/core/host"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
)

// mockHosts returns n linked hosts on a mock network closed at cleanup,
// for the internal tests of the objects split off Node; the first is
// connected to the next connected ones.
func mockHosts(t *testing.T, n, connected int) []host.Host {
	t.Helper()
	mn := mocknet.New()
	t.Cleanup(func() { mn.Close() })
	hs := make([]host.Host, n)
	for i := range hs {
		h, err := mn.GenPeer()
		if err != nil {
			t.Fatal(err)
		}
		hs[i] = h
	}
	if err := mn.LinkAll(); err != nil {
		t.Fatal(err)
	}
	for _, h := range hs[1 : 1+connected] {
		if _, err := mn.ConnectPeers(hs[0].ID(), h.ID()); err != nil {
			t.Fatal(err)
		}
	}
	return hs
}
