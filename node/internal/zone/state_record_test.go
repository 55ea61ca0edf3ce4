package zone

import (
	"fmt"
	"slices"
	"testing"

	"lookout/crypto"
	"lookout/protocol"
)

// recordState is a state opened from a record of f's zone that holds the
// addresses peers and the places places.
func recordState(f *fixture, peers, places []string) *State {
	rec := Record{ID: f.zone.String(), Name: "north", Epoch: 0, Secret: []byte{1}, Chain: [][]byte{f.rootCrt.Bytes()}, Peers: peers, Places: places}
	s := NewStateFrom(Membership{Zone: f.zone, Root: f.founder.Public(), Epochs: map[uint32]crypto.ZoneSecret{0: {1}}, Chain: protocol.Chain{f.rootCrt}, Role: protocol.RoleOrganizer}, rec)
	return &s
}

// TestStateRecord: the record State holds is its one copy: Record hands
// out a copy whose changes do not reach it, and the name and ID views show
// come from it.
func TestStateRecord(t *testing.T) {
	f := newFixture(t)
	s := recordState(f, []string{"/ip4/10.0.0.1/tcp/4719/p2p/a"}, []string{"Main St"})
	if l := s.Label(); l.ID != f.zone.String() || l.Name != "north" || s.Name() != "north" {
		t.Errorf("label %+v", l)
	}
	r := s.Record()
	r.Peers[0], r.Places[0], r.Chain[0], r.Secret[0] = "x", "y", nil, 9
	again := s.Record()
	if again.Peers[0] == "x" || again.Places[0] == "y" || again.Chain[0] == nil || again.Secret[0] != 1 {
		t.Errorf("a change to a copy reached the state: %+v", again)
	}
	if p := s.Peers(); !slices.Equal(p, []string{"/ip4/10.0.0.1/tcp/4719/p2p/a"}) {
		t.Errorf("Peers = %v", p)
	}
}

// TestRememberPeers: addresses seen again move to the end, new ones are
// added, the least recently seen go beyond the bound, and only a change
// of the set is reported.
func TestRememberPeers(t *testing.T) {
	f := newFixture(t)
	s := recordState(f, []string{"a", "b", "c"}, nil)
	if s.RememberPeers([]string{"a", "a"}, 4) {
		t.Error("seeing a known address again is reported as a change")
	}
	if p := s.Peers(); !slices.Equal(p, []string{"b", "c", "a"}) {
		t.Errorf("after a seen again: %v", p)
	}
	if !s.RememberPeers([]string{"d", "e"}, 4) {
		t.Error("two new addresses are not reported")
	}
	if p := s.Peers(); !slices.Equal(p, []string{"c", "a", "d", "e"}) {
		t.Errorf("after d, e beyond 4: %v; want the least recently seen gone", p)
	}
	var many []string
	for i := range 10 {
		many = append(many, fmt.Sprint(i))
	}
	s.RememberPeers(many, 3)
	if p := s.Peers(); !slices.Equal(p, []string{"7", "8", "9"}) {
		t.Errorf("after ten beyond 3: %v", p)
	}
	if r := s.Record(); !slices.Equal(r.Peers, []string{"7", "8", "9"}) {
		t.Errorf("the record keeps %v", r.Peers)
	}
}

// TestRememberPlace: a place reported goes first, once, and at most
// MaxRecentPlaces are kept, in the record.
func TestRememberPlace(t *testing.T) {
	f := newFixture(t)
	s := recordState(f, nil, []string{"a", "b"})
	s.RememberPlace("b")
	if p := s.RecentPlaces(); !slices.Equal(p, []string{"b", "a"}) {
		t.Errorf("after b again: %v", p)
	}
	for i := range MaxRecentPlaces + 2 {
		s.RememberPlace(fmt.Sprint(i))
	}
	want := []string{"6", "5", "4", "3", "2"}
	if p := s.RecentPlaces(); !slices.Equal(p, want) || !slices.Equal(s.Record().Places, want) {
		t.Errorf("recent places %v, record %v; want %v", p, s.Record().Places, want)
	}
}

// TestApplyGovRecord: a governance change that rewrites the record
// (ch.Dirty) changes the record State holds with the chain and epoch, at
// once; the record's other fields stay; a change not dirty leaves it.
func TestApplyGovRecord(t *testing.T) {
	f := newFixture(t)
	s := recordState(f, []string{"a"}, []string{"Main St"})
	rec := s.Record()
	next := EpochSwitch{Epoch: 1, Secret: crypto.ZoneSecret{2}}
	rec.SetEpoch(next, "rekey")
	rec.Peers, rec.Places = nil, nil // not governed: must not be taken
	s.ApplyGov(nil, nil, GovChange{Record: rec, Dirty: true, Next: &next})
	got := s.Record()
	if got.Epoch != 1 || got.EpochFrom != "rekey" || len(got.Old) != 1 || !slices.Equal(got.Peers, []string{"a"}) || !slices.Equal(got.Places, []string{"Main St"}) {
		t.Errorf("record after a rekey: %+v", got)
	}
	if e, _ := s.Current(); e != 1 {
		t.Errorf("epoch %d, want 1", e)
	}
	moved := s.Record()
	moved.Epoch = 7
	s.ApplyGov(nil, nil, GovChange{Record: moved})
	if s.Record().Epoch != 1 {
		t.Error("a change not dirty rewrote the record")
	}
}

// TestSetFounderRecord: the founder's renewed certificate becomes its
// chain and the record's at once.
func TestSetFounderRecord(t *testing.T) {
	f := newFixture(t)
	s := recordState(f, nil, nil)
	c := f.cert(f.founder, f.founder, protocol.RoleOrganizer)
	rec := s.Record()
	rec.Chain = [][]byte{c.Bytes()}
	s.SetFounderRecord(rec, c)
	if st := s.Standing(); len(st.Chain) != 1 || st.Chain[0] != c || st.Role != protocol.RoleOrganizer {
		t.Errorf("standing %+v", st)
	}
	if r := s.Record(); len(r.Chain) != 1 || string(r.Chain[0]) != string(c.Bytes()) {
		t.Error("the record does not hold the renewed certificate")
	}
}
