package zone

import (
	"testing"
	"time"

	"lookout/protocol"
)

// TestPending: updates for unknown alerts are held briefly and in bounded
// number, and handed over when their alert arrives.
func TestPending(t *testing.T) {
	f := newFixture(t)
	ada := f.identity(2)
	crt := f.cert(f.founder, ada, protocol.RoleMember)
	confirm := func(ref protocol.AlertID) *protocol.Message {
		m := f.msg(protocol.KindConfirm, ada, crt, protocol.RoleMember, 0, f.now)
		m.Alert.Ref = ref
		return m
	}
	known, bogus := protocol.AlertID{1}, protocol.AlertID{9, 9, 9}
	var p Pending
	if !p.Hold(confirm(known), []byte{1}, f.now) {
		t.Fatal("first held update refused")
	}
	// 300 answers to alerts that do not exist: held up to MaxPending.
	held := 0
	for i := range 300 {
		if p.Hold(confirm(protocol.AlertID{2, byte(i), byte(i >> 8)}), nil, f.now.Add(time.Second)) {
			held++
		}
	}
	if held != MaxPending-1 || p.Len() != MaxPending {
		t.Errorf("held %d bogus updates (%d in all), want %d (%d)", held, p.Len(), MaxPending-1, MaxPending)
	}
	if got := p.Take(bogus, f.now.Add(time.Second)); len(got) != 0 {
		t.Errorf("took %d updates for an alert nothing referred to", len(got))
	}
	got := p.Take(known, f.now.Add(time.Minute))
	if len(got) != 1 || got[0].Msg.Alert.Ref != known || got[0].Env[0] != 1 {
		t.Fatalf("updates handed over for the alert: %+v", got)
	}
	if again := p.Take(known, f.now.Add(time.Minute)); len(again) != 0 {
		t.Errorf("update handed over twice")
	}
	// After PendingTTL everything held is gone.
	p.Expire(f.now.Add(time.Second + PendingTTL))
	if p.Len() != 0 {
		t.Errorf("%d updates held past PendingTTL", p.Len())
	}
	if !p.Hold(confirm(known), nil, f.now.Add(time.Hour)) {
		t.Error("room not freed after expiry")
	}
	if got := p.Take(known, f.now.Add(time.Hour+PendingTTL)); len(got) != 0 {
		t.Error("an update handed over at PendingTTL")
	}
}
