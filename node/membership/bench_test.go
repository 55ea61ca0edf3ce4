package membership

import (
	"context"
	"fmt"
	"testing"

	"lookout/protocol"
)

func benchKeys(n int) []ZoneKey {
	keys := make([]ZoneKey, n)
	for i := range keys {
		keys[i] = zone(byte(i), uint32(i))
	}
	return keys
}

// BenchmarkProofRun is the cost the gate adds to a new connection: one
// whole exchange (hello, proof, ack: two round trips and 1,058 bytes each
// way) on an open loopback TCP connection, with each side holding n zone
// epochs, all shared.
func BenchmarkProofRun(b *testing.B) {
	for _, n := range []int{1, 16, protocol.MembershipSlots} {
		b.Run(fmt.Sprintf("epochs=%d", n), func(b *testing.B) {
			ctx := context.Background()
			ha, hb := newHost(b), newHost(b)
			ga, err := New(ha, &keyring{keys: benchKeys(n)})
			if err != nil {
				b.Fatal(err)
			}
			defer ga.Close()
			gb, err := New(hb, &keyring{keys: benchKeys(n)})
			if err != nil {
				b.Fatal(err)
			}
			defer gb.Close()
			connect(b, ctx, ha, hb)
			if err := ga.Wait(ctx, hb.ID()); err != nil {
				b.Fatal(err)
			}
			ga.mu.Lock()
			st := ga.peers[hb.ID()]
			ga.mu.Unlock()
			b.ResetTimer()
			refused, runs := 0, 0
			for b.Loop() {
				runs++
				// Back to back, the other side may still be closing the
				// previous run (one run per peer at a time): it refuses
				// before its hello, and the run is retried at once.
				for tries := 0; ; tries++ {
					started, err := ga.initiate(ctx, hb.ID(), st)
					if err == nil {
						break
					}
					if started || tries > 1000 {
						b.Fatal(err)
					}
					refused++
				}
			}
			b.ReportMetric(float64(refused)/float64(runs), "refused/op")
			b.StopTimer()
			if !ga.Shares(hb.ID(), benchKeys(n)[n-1].Topic) {
				b.Fatal("not proven")
			}
		})
	}
}

// BenchmarkProofCPU is one side's computation in a run: its n tags, the
// padded proof, and checking the other side's proof against n keys.
func BenchmarkProofCPU(b *testing.B) {
	self, remote := []byte("self peer id, 38 bytes long.........."), []byte("remote peer id, 38 bytes long........")
	var mine, theirs [protocol.MembershipNonceSize]byte
	for _, n := range []int{1, 16, protocol.MembershipSlots} {
		b.Run(fmt.Sprintf("epochs=%d", n), func(b *testing.B) {
			keys := benchKeys(n)
			tags := make([][protocol.MembershipTagSize]byte, n)
			for i, k := range keys {
				tags[i] = protocol.MembershipTag(k.Key, remote, self, theirs, mine)
			}
			other, err := protocol.NewMembershipProof(tags, nil)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				for i, k := range keys {
					tags[i] = protocol.MembershipTag(k.Key, self, remote, mine, theirs)
				}
				if _, err := protocol.NewMembershipProof(tags, nil); err != nil {
					b.Fatal(err)
				}
				for _, k := range keys {
					if !other.Contains(protocol.MembershipTag(k.Key, remote, self, theirs, mine)) {
						b.Fatal("tag missing")
					}
				}
			}
		})
	}
}
