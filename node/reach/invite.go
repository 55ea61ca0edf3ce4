package reach

import (
	"net"

	ma "github.com/multiformats/go-multiaddr"
)

// lanNets are the address ranges only a joiner on the same network or VPN
// can reach: RFC 1918, shared address space (carrier-grade NAT and VPNs
// such as Tailscale), IPv6 unique-local.
var lanNets = func() []*net.IPNet {
	var out []*net.IPNet
	for _, s := range []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7"} {
		_, n, err := net.ParseCIDR(s)
		if err != nil {
			panic(err)
		}
		out = append(out, n)
	}
	return out
}()

// addrClass is what an address's leading IP says about who can dial it.
type addrClass int

const (
	classOther     addrClass = iota // public, or not an IP (DNS names)
	classLoopback                   // this machine only
	classLinkLocal                  // this link only, and needs an interface zone
	classLAN                        // the same network or VPN
)

func classify(a ma.Multiaddr) addrClass {
	c, _ := ma.SplitFirst(a)
	if c == nil {
		return classOther
	}
	switch c.Protocol().Code {
	case ma.P_IP4, ma.P_IP6:
	case ma.P_IP6ZONE: // only link-local addresses carry an interface zone
		return classLinkLocal
	default:
		return classOther
	}
	ip := net.IP(c.RawValue())
	switch {
	case ip.IsLoopback():
		return classLoopback
	case ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast():
		return classLinkLocal
	}
	for _, n := range lanNets {
		if n.Contains(ip) {
			return classLAN
		}
	}
	return classOther
}

// InviteAddrs picks, from a node's addresses, those that can help a joiner
// reach it, in Dialable order, at most max: never link-local; loopback only
// when every address is loopback (a node that listens only on loopback);
// LAN, VPN and unique-local addresses only when lan is set (the user asked
// for them: they tell the joiner about the inviter's network). Relay
// addresses are judged by the relay's address.
func InviteAddrs(addrs []ma.Multiaddr, lan bool, max int) []ma.Multiaddr {
	loopOnly := len(addrs) > 0
	for _, a := range addrs {
		if classify(a) != classLoopback {
			loopOnly = false
		}
	}
	var keep []ma.Multiaddr
	for _, a := range addrs {
		switch classify(a) {
		case classLinkLocal:
			continue
		case classLoopback:
			if !loopOnly {
				continue
			}
		case classLAN:
			if !lan {
				continue
			}
		}
		keep = append(keep, a)
	}
	return Dialable(keep, max)
}
