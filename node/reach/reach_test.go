package reach

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/client"
	relay "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/relay"
	ma "github.com/multiformats/go-multiaddr"
	"go.uber.org/goleak"
)

// memberSet is a fixed Members.
type memberSet map[peer.ID]bool

func (m memberSet) Member(p peer.ID) bool { return m[p] }

var _ Members = memberSet(nil)

func newHost(t *testing.T) host.Host {
	t.Helper()
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableRelay())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func TestACL(t *testing.T) {
	a, b, s := peer.ID("a"), peer.ID("b"), peer.ID("stranger")
	acl := NewACL(memberSet{a: true, b: true})
	cases := []struct {
		name      string
		got, want bool
	}{
		{"member reserves", acl.AllowReserve(a, nil), true},
		{"stranger reserves", acl.AllowReserve(s, nil), false},
		{"member to member", acl.AllowConnect(a, nil, b), true},
		{"member to stranger", acl.AllowConnect(a, nil, s), false},
		{"stranger to stranger", acl.AllowConnect(s, nil, s), false},
		{"no members source", ACL{}.AllowReserve(a, nil), false},
		{"zero ACL, newcomer", ACL{Members: memberSet{a: true}}.AllowConnect(s, nil, a), false},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s: allowed %v, want %v", c.name, c.got, c.want)
		}
	}
}

// TestRelayRefusesStranger runs a real relay with the zone ACL: a member
// gets a reservation, a stranger who knows the relay's address does not.
func TestRelayRefusesStranger(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t, goleak.IgnoreCurrent()) })
	rh, member, stranger := newHost(t), newHost(t), newHost(t)
	r, err := relay.New(rh, RelayOptions(memberSet{member.ID(): true}, nil)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	info := peer.AddrInfo{ID: rh.ID(), Addrs: rh.Addrs()}
	for _, h := range []host.Host{member, stranger} {
		if err := h.Connect(ctx, info); err != nil {
			t.Fatal(err)
		}
	}
	rsvp, err := client.Reserve(ctx, member, info)
	if err != nil {
		t.Fatalf("member reservation refused: %v", err)
	}
	if rsvp.LimitDuration != 0 || rsvp.LimitData != 0 {
		t.Errorf("member reservation limited to %v / %d bytes; relayed gossip needs no limit", rsvp.LimitDuration, rsvp.LimitData)
	}
	if _, err := client.Reserve(ctx, stranger, info); err == nil {
		t.Fatal("stranger got a relay reservation")
	}
}

// TestACLNewcomerBudget: a newcomer (redeeming an invite) may reach a
// member through the relay, NewcomerCircuits times per window in all.
func TestACLNewcomerBudget(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	acl := NewACL(memberSet{"m": true})
	acl.Now = func() time.Time { return now }
	for i := range NewcomerCircuits {
		if !acl.AllowConnect(peer.ID(fmt.Sprint("n", i)), nil, "m") {
			t.Fatalf("newcomer %d refused within the budget", i)
		}
	}
	if acl.AllowConnect("late", nil, "m") {
		t.Fatal("newcomer admitted beyond the budget")
	}
	if !acl.AllowConnect("m", nil, "m") {
		t.Fatal("member refused while newcomers are over budget")
	}
	now = now.Add(NewcomerWindow)
	if !acl.AllowConnect("late", nil, "m") {
		t.Fatal("newcomer refused after the window passed")
	}
}

func TestPeerSourceOffersOnlyCandidates(t *testing.T) {
	want := []peer.AddrInfo{{ID: "a"}, {ID: "b"}, {ID: "c"}}
	src := PeerSource(fixedPeers(want))
	var got []peer.ID
	for ai := range src(context.Background(), 2) {
		got = append(got, ai.ID)
	}
	if len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Errorf("peer source gave %v, want [a b]", got)
	}
	if n := len(PeerSource(nil)(context.Background(), 5)); n != 0 {
		t.Errorf("nil source gave %d candidates", n)
	}
}

type fixedPeers []peer.AddrInfo

func (f fixedPeers) RelayCandidates() []peer.AddrInfo { return f }

func TestDialable(t *testing.T) {
	m := func(s string) ma.Multiaddr { return ma.StringCast(s) }
	in := []ma.Multiaddr{
		m("/ip4/127.0.0.1/tcp/4719"),
		m("/ip4/10.0.1.2/tcp/4719"),
		m("/ip4/100.1.0.1/tcp/4719/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN/p2p-circuit"),
		m("/ip4/100.2.0.1/udp/4719/quic-v1"),
		m("/ip6/::1/tcp/4719"),
	}
	got := Dialable(in, 8)
	want := []string{"/ip4/100.2.0.1/udp/4719/quic-v1", in[2].String(), "/ip4/10.0.1.2/tcp/4719", "/ip4/127.0.0.1/tcp/4719", "/ip6/::1/tcp/4719"}
	if len(got) != len(want) {
		t.Fatalf("Dialable = %v, want %v", got, want)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("Dialable[%d] = %s, want %s", i, got[i], want[i])
		}
	}
	if got := Dialable(in, 1); len(got) != 1 || got[0].String() != want[0] {
		t.Errorf("Dialable(max 1) = %v", got)
	}
}

func TestLoopbackOnly(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want bool
	}{
		{[]string{"/ip4/127.0.0.1/tcp/0", "/ip6/::1/udp/0/quic-v1"}, true},
		{[]string{"/ip4/127.0.0.1/tcp/0", "/ip4/0.0.0.0/tcp/4719"}, false},
		{[]string{"not an address"}, false},
		{nil, false},
	} {
		if got := LoopbackOnly(c.in); got != c.want {
			t.Errorf("LoopbackOnly(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}
