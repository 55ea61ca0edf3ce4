package zone

import (
	"bytes"
	"slices"
	"sort"
	"strings"
	"time"

	"lookout/crypto"
	"lookout/protocol"
)

// The membership lifecycle of a zone, read from its State: forked epochs
// and their merge, certificates due for renewal, invites, the epochs a
// member proves, and the alerts found by ID prefix. Every exported method
// takes s.mu itself; the unexported ones are called with it held.

// RekeySetKey names one rekey set: its parts share sender and epochs.
type RekeySetKey struct {
	Sender crypto.MemberID
	Epoch  uint32 // the epoch it moves to
	Parent uint32 // the epoch its messages are sealed under (the PSK's)
}

// RekeySet is one rekey's parts as held.
type RekeySet struct {
	Key     RekeySetKey
	Lowest  protocol.AlertID            // its lowest part ID (winner rule)
	Members map[crypto.MemberID]bool    // who has an entry
	Parts   map[uint8]*protocol.Message // by part
}

// RekeySets groups the zone's rekeys into sets, under s.mu.
func (s *State) RekeySets() map[RekeySetKey]*RekeySet {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rekeySets()
}

// rekeySets groups the zone's rekeys into sets. Callers hold s.mu.
func (s *State) rekeySets() map[RekeySetKey]*RekeySet {
	sets := map[RekeySetKey]*RekeySet{}
	for _, g := range s.gov {
		a := g.Msg.Alert
		if a.Kind != protocol.KindRekey || a.Epoch <= g.Msg.Epoch {
			continue
		}
		k := RekeySetKey{a.Sender, a.Epoch, g.Msg.Epoch}
		rs := sets[k]
		if rs == nil {
			rs = &RekeySet{Key: k, Lowest: g.Msg.ID, Members: map[crypto.MemberID]bool{}, Parts: map[uint8]*protocol.Message{}}
			sets[k] = rs
		}
		if bytes.Compare(g.Msg.ID[:], rs.Lowest[:]) < 0 {
			rs.Lowest = g.Msg.ID
		}
		rs.Parts[a.Part] = g.Msg
		for _, e := range a.Rekey {
			rs.Members[e.Member] = true
		}
	}
	return sets
}

// ForkPlan is what a node should do about forked epochs in a zone.
type ForkPlan struct {
	Need   bool
	Parent uint32          // seal the merge under this epoch
	Target uint32          // and move to this one
	Merger crypto.MemberID // who merges at once
	// Organizer is whether this member is an organizer of the zone (it
	// may merge), read with the plan.
	Organizer bool
}

// ForkPlan works out, under s.mu, whether the zone needs a merge (see
// forkPlan) and whether this member is an organizer of it.
func (s *State) ForkPlan() ForkPlan {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.forkPlan()
	p.Organizer = s.role == protocol.RoleOrganizer
	return p
}

// forkPlan works out whether the zone needs a merge: an unresolved fork
// at or before its current epoch, or a current epoch whose rekey gave an
// entry to a member the roster now counts as removed. The result is the
// same on every node holding the same governance messages (Organizer is
// left false). Callers hold s.mu.
func (s *State) forkPlan() ForkPlan {
	cur := s.epoch
	if s.removed {
		return ForkPlan{}
	}
	sets := s.rekeySets()
	byEpoch := map[uint32][]*RekeySet{}
	for _, rs := range sets {
		if rs.Key.Epoch > cur {
			return ForkPlan{} // a later epoch exists: follow it, or wait
		}
		byEpoch[rs.Key.Epoch] = append(byEpoch[rs.Key.Epoch], rs)
	}
	spanned := func(f uint32) bool {
		for _, rs := range sets {
			if rs.Key.Parent < f && rs.Key.Epoch > f {
				return true
			}
		}
		return false
	}
	// The lowest unresolved fork: merge from its parent.
	var fork []*RekeySet
	var at uint32
	for f, ss := range byEpoch {
		if len(ss) >= 2 && !spanned(f) && (fork == nil || f < at) {
			fork, at = ss, f
		}
	}
	if fork != nil {
		plan := ForkPlan{Need: true, Target: cur + 1, Parent: fork[0].Key.Parent}
		win := fork[0]
		for _, rs := range fork {
			plan.Parent = min(plan.Parent, rs.Key.Parent)
			if bytes.Compare(rs.Lowest[:], win.Lowest[:]) < 0 {
				win = rs
			}
		}
		plan.Merger = win.Key.Sender
		if _, ok := s.epochs[plan.Parent]; !ok {
			return ForkPlan{}
		}
		return plan
	}
	// No fork: is the current epoch held by a removed member? Then the
	// organizer who removed it merges at once (in a fork, each side's
	// removal often arrives before the other side's rekey: the sides name
	// different mergers until the rekeys are in, and the fork rule takes
	// over).
	if ss := byEpoch[cur]; len(ss) == 1 {
		plan := ForkPlan{}
		for m := range ss[0].Members {
			if by, ok := s.remover(m); ok && (!plan.Need || bytes.Compare(by[:], plan.Merger[:]) < 0) {
				plan = ForkPlan{Need: true, Target: cur + 1, Parent: cur, Merger: by}
			}
		}
		return plan
	}
	return ForkPlan{}
}

// remover returns who removed member m, by the roster's rule (the first
// counted removal), if m is removed. Callers hold s.mu.
func (s *State) remover(m crypto.MemberID) (crypto.MemberID, bool) {
	if !s.fold.Roster.Removed(m) {
		return crypto.MemberID{}, false
	}
	var by *GovMsg
	for _, g := range s.gov {
		a := g.Msg.Alert
		if a.Kind == protocol.KindRemove && a.Subject == m && (by == nil || newer(by, g)) {
			by = g
		}
	}
	if by == nil {
		return crypto.MemberID{}, false
	}
	return by.Msg.Alert.Sender, true
}

// SecretOf returns, under s.mu, the secret of epoch, if held.
func (s *State) SecretOf(epoch uint32) (crypto.ZoneSecret, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec, ok := s.epochs[epoch]
	return sec, ok
}

// MemberRenewBefore is how long before a member's certificate chain
// expires an organizer re-issues its certificate (DueRenewals).
const MemberRenewBefore = 60 * 24 * time.Hour

// LatestChains returns, under s.mu, what latestChains does.
func (s *State) LatestChains() map[crypto.MemberID]time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.latestChains()
}

// latestChains returns, for every member, the latest expiry of a
// certificate chain it was seen with in the zone's governance messages:
// its own announcements (re-sent daily) and the role grants naming it,
// whose chain is the granted certificate and the granter's chain.
// Callers hold s.mu.
func (s *State) latestChains() map[crypto.MemberID]time.Time {
	out := map[crypto.MemberID]time.Time{}
	note := func(m crypto.MemberID, exp time.Time) {
		if exp.After(out[m]) {
			out[m] = exp
		}
	}
	for _, g := range s.gov {
		m := g.Msg
		if len(m.Chain) == 0 {
			continue
		}
		note(m.Alert.Sender, m.Chain.Expires())
		if m.Alert.Kind != protocol.KindRole {
			continue
		}
		if c, err := protocol.ParseCert(m.Alert.Cert); err == nil {
			note(c.Subject.ID(), append(protocol.Chain{c}, m.Chain...).Expires())
		}
	}
	return out
}

// invited lists the members an invite admitted (each invite's first
// redeemer) that no organizer has certified directly since: no role grant
// names them. Callers hold s.mu.
func (s *State) invited() map[crypto.MemberID]bool {
	out := map[crypto.MemberID]bool{}
	for id := range s.fold.Roster.Invites {
		if r, ok := s.fold.Roster.Redeemer(id); ok {
			out[r] = true
		}
	}
	if len(out) == 0 {
		return out
	}
	for _, g := range s.gov {
		if g.Msg.Alert.Kind != protocol.KindRole {
			continue
		}
		if c, err := protocol.ParseCert(g.Msg.Alert.Cert); err == nil {
			delete(out, c.Subject.ID())
		}
	}
	return out
}

// CertifiesInvited reports, under s.mu, whether this member should
// certify member directly: it is an organizer of the zone, not removed
// from it, and member was admitted by an invite and has no role grant
// naming it yet.
func (s *State) CertifiesInvited(member crypto.MemberID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.role == protocol.RoleOrganizer && !s.removed && s.invited()[member]
}

// Renewal is one member's certificate to re-issue, with its current role.
type Renewal struct {
	Member crypto.MemberID
	Key    *crypto.PublicKey
	Role   protocol.Role
}

// DueRenewals lists, under s.mu and in the roster's order
// (protocol.Roster.Sorted), the members whose certificate this organizer
// (self) should re-issue at now: not removed, not the founder or
// itself, and either admitted by an invite and not yet certified
// directly, or whose latest chain seen expires within MemberRenewBefore
// (or has) and for whom a chain through this organizer would last longer
// than the one seen, so a member renewed by another organizer, or whose
// renewal would gain nothing until this organizer is renewed itself, is
// skipped. Members whose key is unknown are left out. It is empty unless
// this member is an organizer, not removed, whose chain is short enough
// to issue under and has not expired.
func (s *State) DueRenewals(self crypto.MemberID, now time.Time) []Renewal {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.role != protocol.RoleOrganizer || s.removed || len(s.chain) >= protocol.MaxChainLen {
		return nil
	}
	mine := s.chain.Expires()
	if !now.Before(mine) {
		return nil
	}
	latest := s.latestChains()
	invited := s.invited()
	var out []Renewal
	for _, mi := range s.fold.Roster.Sorted() {
		if mi.Removed || mi.ID == self || mi.ID == s.rootID {
			continue
		}
		if pk := s.pubkeys[mi.ID]; invited[mi.ID] && pk != nil {
			// Certified by an invite key: certified directly at once, so
			// its chain is short enough for an organizer to invite.
			out = append(out, Renewal{Member: mi.ID, Key: pk, Role: mi.Role})
			continue
		}
		seen, ok := latest[mi.ID]
		if !ok || !mine.After(seen) {
			continue
		}
		if now.Before(seen.Add(-MemberRenewBefore)) {
			continue
		}
		if pk := s.pubkeys[mi.ID]; pk != nil {
			out = append(out, Renewal{Member: mi.ID, Key: pk, Role: mi.Role})
		}
	}
	return out
}

// Invite returns, under s.mu, a copy of the published invite id (its
// redeemers copied too), if the roster holds it.
func (s *State) Invite(id [protocol.InviteIDSize]byte) (protocol.InviteInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	inv := s.fold.Roster.Invites[id]
	if inv == nil {
		return protocol.InviteInfo{}, false
	}
	c := *inv
	c.Redeemers = slices.Clone(inv.Redeemers)
	return c, true
}

// InviteStanding is what the roster says of a joiner asking for an
// invite (State.InviteStanding).
type InviteStanding struct {
	IssuerRemoved bool            // the invite's issuer was removed
	Redeemed      bool            // the invite admitted a member
	Redeemer      crypto.MemberID // the member it admitted, if Redeemed
	Member        bool            // the joiner is in the roster, not removed
}

// InviteStanding reads, in one section under s.mu, whether issuer (the
// invite's) was removed, whom invite id admitted, and whether member is
// already a member of the zone.
func (s *State) InviteStanding(id [protocol.InviteIDSize]byte, issuer, member crypto.MemberID) InviteStanding {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := InviteStanding{IssuerRemoved: s.fold.Roster.Removed(issuer)}
	st.Redeemer, st.Redeemed = s.fold.Roster.Redeemer(id)
	m, known := s.fold.Roster.Members[member]
	st.Member = known && !m.Removed
	return st
}

// HeldEpoch is an epoch whose secret this member holds.
type HeldEpoch struct {
	Epoch  uint32
	Secret crypto.ZoneSecret
	Live   bool // the current epoch, or the previous one while straggling
}

// HeldEpochs lists, under s.mu, every epoch whose secret is held, newest
// first, marking the live ones.
func (s *State) HeldEpochs() []HeldEpoch {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]HeldEpoch, 0, len(s.epochs))
	for e, sec := range s.epochs {
		out = append(out, HeldEpoch{Epoch: e, Secret: sec, Live: e == s.epoch || s.straggle != nil && e == *s.straggle})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Epoch > out[j].Epoch })
	return out
}

// LiveEpochs lists, under s.mu, the current epoch, then the straggling
// one if its secret is held. The current epoch's secret is the zero
// secret if not held.
func (s *State) LiveEpochs() []HeldEpoch {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []HeldEpoch{{Epoch: s.epoch, Secret: s.epochs[s.epoch], Live: true}}
	if s.straggle != nil {
		if sec, ok := s.epochs[*s.straggle]; ok {
			out = append(out, HeldEpoch{Epoch: *s.straggle, Secret: sec, Live: true})
		}
	}
	return out
}

// GovExpiries returns, under s.mu, the expiry of every governance
// message held, by ID.
func (s *State) GovExpiries() map[protocol.AlertID]time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[protocol.AlertID]time.Time, len(s.gov))
	for id, g := range s.gov {
		out[id] = g.Msg.Alert.Expires
	}
	return out
}

// RootsByPrefix returns, under s.mu, up to limit of the alerts held
// (sightings and callouts) whose ID in hex starts with prefix.
func (s *State) RootsByPrefix(prefix string, limit int) []*protocol.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*protocol.Message
	for id, m := range s.msgs.Roots {
		if len(out) == limit {
			break
		}
		if strings.HasPrefix(id.String(), prefix) {
			out = append(out, m)
		}
	}
	return out
}
