package node

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"lookout/protocol"
)

// syncNode is a node for catch-up's accepting alone: its door opens an
// envelope once the envelopes it needs were stored (a rekey before the
// next epoch's messages), and it records what it stores.
type syncNode struct {
	nodeForSync // the rest is not used by acceptSynced
	kinds       map[string]protocol.Kind
	needs       map[string]string // envelope → the envelope it opens after
	refused     map[string]bool
	stored      map[string]bool
	log         []string // "gov " or "batch " and the envelopes, in order
}

func (f *syncNode) admit(zones []*zone, env []byte) (admitted, error) {
	name := string(env)
	switch {
	case f.refused[name]:
		return admitted{}, errors.New("refused")
	case f.needs[name] != "" && !f.stored[f.needs[name]]:
		return admitted{}, errNoZone
	case f.kinds[name] == 0:
		return admitted{}, errNoZone // no zone of this node opens it, ever
	}
	msg := &protocol.Message{Signed: &protocol.Signed{Alert: &protocol.Alert{Kind: f.kinds[name]}}}
	return admitted{z: zones[0], msg: msg, env: env}, nil
}

func (f *syncNode) store(_ *zone, _ *protocol.Message, env []byte) error {
	f.stored[string(env)] = true
	f.log = append(f.log, "gov "+string(env))
	return nil
}

func (f *syncNode) storeBatch(batch []admitted) {
	if len(batch) == 0 {
		return
	}
	entry := "batch"
	for _, a := range batch {
		f.stored[string(a.env)] = true
		entry += " " + string(a.env)
	}
	f.log = append(f.log, entry)
}

// TestCatchUpAcceptPasses: catch-up runs what it received through its
// node's door in passes. Governance is stored one message at a time, the
// alerts of a pass in one batch; what the door could not open is tried
// again after a pass that stored something (a rekey opens the next
// epoch), and accepting ends once a pass opens nothing more.
func TestCatchUpAcceptPasses(t *testing.T) {
	f := &syncNode{
		kinds: map[string]protocol.Kind{
			"rekey": protocol.KindRekey, "member2": protocol.KindMember,
			"sighting1": protocol.KindSighting, "sighting2": protocol.KindSighting, "confirm2": protocol.KindConfirm,
			"forged": protocol.KindSighting,
		},
		needs:   map[string]string{"member2": "rekey", "sighting2": "rekey", "confirm2": "rekey"},
		refused: map[string]bool{"forged": true},
		stored:  map[string]bool{},
	}
	c := &catchUp{node: f}
	var envs [][]byte
	for _, e := range []string{"sighting2", "member2", "other-zone", "rekey", "forged", "sighting1", "confirm2"} {
		envs = append(envs, []byte(e))
	}
	c.acceptSynced([]*zone{{}}, envs)
	want := []string{"gov rekey", "batch sighting1 confirm2", "gov member2", "batch sighting2"}
	if !slices.Equal(f.log, want) {
		t.Errorf("stored %q, want %q", f.log, want)
	}
	if f.stored["forged"] || f.stored["other-zone"] {
		t.Error("stored an envelope the door refused or could not open")
	}
}

func alertNo(i int) protocol.AlertID {
	var id protocol.AlertID
	id[0], id[1] = byte(i), byte(i>>8)
	return id
}

// TestCatchUpClaim: rounds with several peers at once ask for each
// offered message once, never for one the door already accepted, and a
// message released unaccepted may be asked of another peer.
func TestCatchUpClaim(t *testing.T) {
	const offered, rounds = 64, 4
	c := &catchUp{replay: newReplayCache()}
	now := time.Now()
	var offer []protocol.AlertID
	for i := range offered {
		offer = append(offer, alertNo(i))
		if i%4 == 0 {
			c.replay.Add(alertNo(i), now.Add(time.Hour), now) // accepted before
		}
	}
	wants := make([][]protocol.AlertID, rounds)
	var wg sync.WaitGroup
	for r := range rounds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wants[r] = c.claim(offer)
		}()
	}
	wg.Wait()
	askedOf := map[protocol.AlertID]int{}
	for r, want := range wants {
		for _, id := range want {
			if c.replay.Has(id) {
				t.Errorf("round %d asks for %x, accepted before", r, id[:2])
			}
			if prev, ok := askedOf[id]; ok {
				t.Fatalf("rounds %d and %d both ask for %x", prev, r, id[:2])
			}
			askedOf[id] = r
		}
	}
	if len(askedOf) != offered-offered/4 {
		t.Fatalf("%d messages asked for, want the %d not accepted", len(askedOf), offered-offered/4)
	}

	// Round 0 ends: what it got is accepted, the rest may be asked again;
	// what the other rounds asked for is still theirs.
	got, lost := wants[0][:len(wants[0])/2], wants[0][len(wants[0])/2:]
	for _, id := range got {
		c.replay.Add(id, now.Add(time.Hour), now)
	}
	c.release(wants[0])
	again := c.claim(offer)
	if !slices.Equal(again, lost) {
		t.Errorf("asked again for %d messages, want the %d round 0 did not get", len(again), len(lost))
	}
	for _, want := range wants[1:] {
		c.release(want)
	}
	c.release(again)
	if n := len(c.claim(offer)); n != offered-offered/4-len(got) {
		t.Errorf("after every round: %d messages asked for, want %d", n, offered-offered/4-len(got))
	}
}

// TestCatchUpLimit: catch-up serves a peer syncBurst times at once, then
// once per syncRefill, other peers meanwhile, and at most maxSyncServing
// requests at a time.
func TestCatchUpLimit(t *testing.T) {
	c := &catchUp{}
	now := time.Now()
	a, b := peer.ID("a"), peer.ID("b")
	for i := range syncBurst {
		if !c.limit.acquire(a, now) {
			t.Fatalf("request %d of a refused within the burst", i+1)
		}
		c.limit.release()
	}
	if c.limit.acquire(a, now) {
		t.Fatal("a served past its burst")
	}
	if !c.limit.acquire(b, now) {
		t.Fatal("b refused while a is over its burst")
	}
	c.limit.release()
	if !c.limit.acquire(a, now.Add(syncRefill)) {
		t.Fatal("a refused after a refill")
	}
	c.limit.release()
	for i := range maxSyncServing {
		if !c.limit.acquire(peer.ID(rune('c'+i)), now) {
			t.Fatalf("peer %d refused below maxSyncServing", i)
		}
	}
	if c.limit.acquire(b, now) {
		t.Fatal("served past maxSyncServing at once")
	}
	c.limit.release()
	if !c.limit.acquire(b, now) {
		t.Fatal("b refused once a request ended")
	}
}
