package discovery

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/net/ipv4"
)

// multicastCheck reports why real mDNS cannot work here, or nil if it can:
// it joins 224.0.0.251 on every up multicast interface, sends an mDNS query
// for a random name and waits for it to loop back.
func multicastCheck() error {
	ifis, err := net.Interfaces()
	if err != nil {
		return fmt.Errorf("listing interfaces: %w", err)
	}
	group := &net.UDPAddr{IP: net.IPv4(224, 0, 0, 251), Port: 5353}
	conn, err := net.ListenUDP("udp4", group) // Go sets SO_REUSEADDR for multicast
	if err != nil {
		return fmt.Errorf("cannot bind UDP 224.0.0.251:5353: %w", err)
	}
	defer conn.Close()
	pc := ipv4.NewPacketConn(conn)
	var joined []net.Interface
	var errs []error
	for _, ifi := range ifis {
		if ifi.Flags&net.FlagUp == 0 || ifi.Flags&net.FlagMulticast == 0 {
			continue
		}
		if err := pc.JoinGroup(&ifi, group); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", ifi.Name, err))
			continue
		}
		joined = append(joined, ifi)
	}
	if len(joined) == 0 {
		return fmt.Errorf("IP multicast: could not join 224.0.0.251 on any up multicast interface (%v)", errors.Join(errs...))
	}
	_ = pc.SetMulticastLoopback(true)

	// A well-formed mDNS question for a random, unused name.
	var id [8]byte
	rand.Read(id[:])
	label := fmt.Sprintf("lookout-probe-%x", id)
	msg := binary.BigEndian.AppendUint16(nil, 0) // ID
	msg = binary.BigEndian.AppendUint16(msg, 0)  // flags: query
	msg = binary.BigEndian.AppendUint16(msg, 1)  // QDCOUNT
	msg = append(msg, 0, 0, 0, 0, 0, 0)          // AN, NS, AR
	for _, l := range []string{label, "local"} {
		msg = append(msg, byte(len(l)))
		msg = append(msg, l...)
	}
	msg = append(msg, 0, 0, 12, 0, 1) // root, type PTR, class IN

	for _, ifi := range joined {
		_ = pc.SetMulticastInterface(&ifi)
		if _, err := pc.WriteTo(msg, nil, group); err != nil {
			errs = append(errs, fmt.Errorf("send on %s: %w", ifi.Name, err))
		}
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 9000)
	for {
		n, _, _, err := pc.ReadFrom(buf)
		if err != nil {
			return fmt.Errorf("IP multicast loopback: own mDNS query to 224.0.0.251 never came back (%v; %v)", err, errors.Join(errs...))
		}
		if strings.Contains(string(buf[:n]), label) {
			return nil
		}
	}
}

// TestLiveDiscovery runs two Services on two real libp2p hosts over real
// multicast DNS and checks that each finds the other.
func TestLiveDiscovery(t *testing.T) {
	if testing.Short() {
		t.Skip("live multicast test skipped in -short mode")
	}
	if err := multicastCheck(); err != nil {
		t.Skipf("skipping: multicast DNS not usable in this environment: %v", err)
	}

	dk := testDayKey("live zone " + rand.Text()) // a zone no one else uses
	type side struct {
		svc   *Service
		id    peer.ID
		found chan peer.AddrInfo
	}
	var sides [2]side
	for i := range sides {
		h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableRelay())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		found := make(chan peer.AddrInfo, 16)
		s := &Service{
			Host:   h,
			DayKey: dk,
			Found: func(ai peer.AddrInfo) {
				select {
				case found <- ai:
				default:
				}
			},
			Interval: 5 * time.Second,
			Logger:   testLogger(t),
		}
		sides[i] = side{svc: s, id: h.ID(), found: found}
	}
	for _, sd := range sides {
		if err := sd.svc.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sd.svc.Close() })
	}

	timeout := time.After(60 * time.Second)
	for i, sd := range sides {
		other := sides[1-i]
	wait:
		for {
			select {
			case ai := <-sd.found:
				if ai.ID == sd.id {
					t.Fatal("Found called with own peer ID")
				}
				if ai.ID != other.id {
					continue // some other test's or user's zone peer: cannot happen with a random zone, but be lenient
				}
				if len(ai.Addrs) == 0 || !strings.HasPrefix(ai.Addrs[0].String(), "/ip4/127.0.0.1/tcp/") {
					t.Fatalf("found %v with unexpected addresses", ai)
				}
				break wait
			case <-timeout:
				t.Fatalf("host %d did not find host %d over mDNS within 60s", i, 1-i)
			}
		}
	}
	for _, sd := range sides {
		if err := sd.svc.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
