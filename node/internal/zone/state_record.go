package zone

import (
	"slices"

	"lookout/protocol"
)

// The zone's stored record (Record) as State holds it: the one copy, under
// the State's lock, changed together with what it records (ApplyGov,
// SetFounderRecord). The node writes Record() to its store; callers that
// write keep writes in order with their own lock (the node's Node.mu).

// Label returns the zone's ID and name as stored, fixed at creation.
func (s *State) Label() Label { return s.label }

// Name returns the zone's name, fixed at creation.
func (s *State) Name() string { return s.label.Name }

// Record returns a copy of the zone's record, to write or change and
// hand back (SetFounderRecord, GovChange.Record). It takes s.mu.
func (s *State) Record() Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rec.clone()
}

// clone copies r, slices and all, so the copy can be changed without a
// lock.
func (r Record) clone() Record {
	c := r
	c.Secret = slices.Clone(r.Secret)
	c.Root = slices.Clone(r.Root)
	c.Chain = slices.Clone(r.Chain)
	c.Peers = slices.Clone(r.Peers)
	c.Old = slices.Clone(r.Old)
	c.Gov = slices.Clone(r.Gov)
	c.Places = slices.Clone(r.Places)
	return c
}

// setGovernedLocked takes the fields of rec that governance changes: this
// member's chain and removal, the epochs. Callers hold s.mu.
func (s *State) setGovernedLocked(rec Record) {
	s.rec.Chain, s.rec.Removed = rec.Chain, rec.Removed
	s.rec.Epoch, s.rec.Secret, s.rec.EpochFrom, s.rec.Old = rec.Epoch, rec.Secret, rec.EpochFrom, rec.Old
}

// SetFounderRecord takes rec, whose chain is c, the founder's renewed
// self-issued certificate, as the zone's record, and c as this member's
// chain, with the organizer role. It takes s.mu.
func (s *State) SetFounderRecord(rec Record, c *protocol.Cert) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setGovernedLocked(rec)
	s.chain, s.role = protocol.Chain{c}, protocol.RoleOrganizer
}

// Peers returns a copy of the members' addresses the record keeps for
// redialling. It takes s.mu.
func (s *State) Peers() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.rec.Peers)
}

// RememberPeers adds addrs to the record's addresses: those seen again
// move to the end and, beyond limit, the least recently seen go. It reports
// whether the set changed (then the record is worth saving). It takes
// s.mu.
func (s *State) RememberPeers(addrs []string, limit int) (changed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]bool{}
	for _, a := range addrs {
		seen[a] = true
	}
	kept := make([]string, 0, len(s.rec.Peers)+len(seen))
	for _, a := range s.rec.Peers {
		if !seen[a] {
			kept = append(kept, a)
		}
	}
	added := false
	for _, a := range addrs {
		if !seen[a] {
			continue // a duplicate in addrs
		}
		seen[a] = false
		kept = append(kept, a)
		added = added || !slices.Contains(s.rec.Peers, a)
	}
	dropped := max(len(kept)-limit, 0)
	s.rec.Peers = kept[dropped:]
	return added || dropped > 0
}

// RecentPlaces returns a copy of the places this member reported, newest
// first (Record.Places). It takes s.mu.
func (s *State) RecentPlaces() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.rec.Places)
}

// RememberPlace puts place first in the record's recent places, keeping
// at most MaxRecentPlaces. It takes s.mu.
func (s *State) RememberPlace(place string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ps := []string{place}
	for _, p := range s.rec.Places {
		if p != place && len(ps) < MaxRecentPlaces {
			ps = append(ps, p)
		}
	}
	s.rec.Places = ps
}

// LegacyGov returns the governance envelopes of a record written before
// governance had store records of its own (Record.Gov). It takes s.mu.
func (s *State) LegacyGov() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.rec.Gov)
}

// DropLegacyGov clears Record.Gov once its envelopes were moved to their
// own records. It takes s.mu.
func (s *State) DropLegacyGov() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rec.Gov = nil
}
