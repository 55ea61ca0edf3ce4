package discovery

import (
	"context"
	"fmt"
	"testing"
)

// TestPoolPadsAnnouncements: a device announces a multiple of PadTo
// services, all alike on the wire, whatever the number of its zones; the
// decoys stop with the last zone.
func TestPoolPadsAnnouncements(t *testing.T) {
	clock := &fakeClock{t: day1.Add(12 * 3600e9)}
	l := newLAN()
	self := &fakeHost{id: testPeerID(t, 10), addrs: addrs(t, "/ip4/192.168.1.10/tcp/4001")}
	pool := &Pool{}
	live := func() (n int, services map[string]bool, sizes map[int]bool) {
		services, sizes = map[string]bool{}, map[int]bool{}
		for _, r := range l.regs {
			if !r.down {
				n++
				services[r.service] = true
				size := 0
				for _, s := range r.txt {
					size += len(s)
				}
				sizes[size] = true
			}
		}
		return n, services, sizes
	}
	var zones []*Service
	for i, want := range []int{4, 4, 4, 4, 8} {
		s := newTestService(t, clock, l, self, testDayKey(fmt.Sprint("zone", i)))
		s.Pool = pool
		if err := s.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		zones = append(zones, s)
		l.waitFor(t, fmt.Sprintf("%d announcements for %d zones", want, i+1), func() bool {
			n, _, _ := live()
			return n == want
		})
		l.mu.Lock()
		_, services, sizes := live()
		l.mu.Unlock()
		if len(services) != want {
			t.Errorf("%d zones: %d distinct service names among %d announcements", i+1, len(services), want)
		}
		if len(sizes) != 1 {
			t.Errorf("%d zones: TXT records of %d different sizes; decoys must look like zones", i+1, len(sizes))
		}
	}
	if got := pool.Decoys(); got != 3 {
		t.Errorf("5 zones run %d decoys, want 3", got)
	}
	zones[4].Close()
	l.waitFor(t, "4 announcements after a zone closed", func() bool { n, _, _ := live(); return n == 4 })
	for _, s := range zones[:4] {
		s.Close()
	}
	l.waitFor(t, "no announcement after the last zone closed", func() bool { n, _, _ := live(); return n == 0 })
	if got := pool.Decoys(); got != 0 {
		t.Errorf("%d decoys left after every zone closed", got)
	}
}
