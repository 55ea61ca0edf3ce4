package reach

import (
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/p2p/host/eventbus"
	ma "github.com/multiformats/go-multiaddr"
	"go.uber.org/goleak"
)

// TestTrackerFollowsAutoNAT feeds the host's event bus what AutoNAT
// would emit and checks the verdict and addresses the status shows.
func TestTrackerFollowsAutoNAT(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t, goleak.IgnoreCurrent()) })
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	tr, err := NewTracker(h, memberSet{})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if got := tr.Reachability(); got != Unknown {
		t.Fatalf("fresh tracker says %q, want %q", got, Unknown)
	}
	emit := func(typ, ev any) {
		t.Helper()
		em, err := h.EventBus().Emitter(typ, eventbus.Stateful)
		if err != nil {
			t.Fatal(err)
		}
		defer em.Close()
		if err := em.Emit(ev); err != nil {
			t.Fatal(err)
		}
	}
	wait := func(want string) {
		t.Helper()
		deadline := time.After(time.Minute)
		for tr.Reachability() != want {
			select {
			case <-tr.Changes():
			case <-deadline:
				t.Fatalf("reachability %q, want %q", tr.Reachability(), want)
			}
		}
	}
	emit(new(event.EvtLocalReachabilityChanged), event.EvtLocalReachabilityChanged{Reachability: network.ReachabilityPrivate})
	wait(Private)
	if a := tr.PublicAddrs(); len(a) != 0 {
		t.Errorf("private node lists public addresses %v", a)
	}
	confirmed := ma.StringCast("/ip4/100.1.0.1/udp/4719/quic-v1")
	emit(new(event.EvtHostReachableAddrsChanged), event.EvtHostReachableAddrsChanged{Reachable: []ma.Multiaddr{confirmed}})
	wait(Public)
	if a := tr.PublicAddrs(); len(a) != 1 || a[0] != confirmed.String() {
		t.Errorf("public addresses %v, want [%s]", a, confirmed)
	}
}
