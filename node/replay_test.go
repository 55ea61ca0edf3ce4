package node

import (
	"testing"
	"time"

	"lookout/protocol"
)

func TestReplayCache(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	c := newReplayCache()
	a, b := protocol.AlertID{1}, protocol.AlertID{2}
	if !c.Add(a, now.Add(time.Minute), now) {
		t.Fatal("first Add of a new ID reported a duplicate")
	}
	if c.Add(a, now.Add(time.Minute), now) {
		t.Error("second Add of the same ID reported it new")
	}
	if !c.Has(a) || c.Has(b) {
		t.Errorf("Has(a)=%v Has(b)=%v, want true false", c.Has(a), c.Has(b))
	}
	c.Add(b, now.Add(time.Hour), now)
	c.Prune(now.Add(2 * time.Minute))
	if c.Has(a) || !c.Has(b) {
		t.Errorf("after pruning past a's expiry: Has(a)=%v Has(b)=%v, want false true", c.Has(a), c.Has(b))
	}
	c.Forget(b)
	if c.Has(b) {
		t.Error("Forget left the ID in the cache")
	}
}
