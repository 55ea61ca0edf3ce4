package reach

import (
	"testing"

	ma "github.com/multiformats/go-multiaddr"
)

func TestInviteAddrs(t *testing.T) {
	const relay = "/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN/p2p-circuit"
	all := []string{
		"/ip4/127.0.0.1/tcp/4719",
		"/ip6/::1/udp/4719/quic-v1",
		"/ip4/169.254.3.4/tcp/4719",
		"/ip6/fe80::1/tcp/4719",
		"/ip6zone/eth0/ip6/fe80::2/tcp/4719",
		"/ip4/192.168.1.20/tcp/4719",
		"/ip4/10.8.0.2/tcp/4719",
		"/ip4/172.20.0.5/tcp/4719",
		"/ip4/100.101.102.103/udp/4719/quic-v1", // VPN (shared address space)
		"/ip6/fd12:3456::1/tcp/4719",            // unique-local
		"/ip4/192.168.1.30/tcp/4719" + relay,    // relay on the LAN
		"/ip4/100.2.0.1/tcp/4719" + relay,       // relay on the internet
		"/ip4/100.1.0.1/udp/4719/quic-v1",       // public
		"/ip6/2001:4860::8/tcp/4719",            // public
	}
	for _, tc := range []struct {
		name string
		in   []string
		lan  bool
		want []string
	}{
		{"public only", all, false, []string{
			"/ip4/100.1.0.1/udp/4719/quic-v1", "/ip6/2001:4860::8/tcp/4719", "/ip4/100.2.0.1/tcp/4719" + relay}},
		{"with lan", all, true, []string{
			"/ip4/100.1.0.1/udp/4719/quic-v1", "/ip6/2001:4860::8/tcp/4719",
			"/ip4/192.168.1.30/tcp/4719" + relay, "/ip4/100.2.0.1/tcp/4719" + relay,
			"/ip4/192.168.1.20/tcp/4719", "/ip4/10.8.0.2/tcp/4719", "/ip4/172.20.0.5/tcp/4719",
			"/ip4/100.101.102.103/udp/4719/quic-v1", "/ip6/fd12:3456::1/tcp/4719"}},
		{"loopback only", []string{"/ip4/127.0.0.1/tcp/4719", "/ip6/::1/tcp/4719"}, false,
			[]string{"/ip4/127.0.0.1/tcp/4719", "/ip6/::1/tcp/4719"}},
		{"lan and loopback, no lan asked", []string{"/ip4/127.0.0.1/tcp/4719", "/ip4/192.168.1.20/tcp/4719", "/ip6/fe80::1/tcp/4719"}, false, nil},
		{"link-local never", []string{"/ip6/fe80::1/tcp/4719", "/ip4/169.254.3.4/tcp/4719"}, true, nil},
		{"none", nil, true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var in []ma.Multiaddr
			for _, s := range tc.in {
				in = append(in, ma.StringCast(s))
			}
			got := InviteAddrs(in, tc.lan, 16)
			if len(got) != len(tc.want) {
				t.Fatalf("InviteAddrs = %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i].String() != tc.want[i] {
					t.Errorf("InviteAddrs[%d] = %s, want %s", i, got[i], tc.want[i])
				}
			}
		})
	}
	if got := InviteAddrs([]ma.Multiaddr{ma.StringCast(all[12]), ma.StringCast(all[13])}, false, 1); len(got) != 1 {
		t.Errorf("InviteAddrs(max 1) = %v", got)
	}
}
