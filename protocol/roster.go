package protocol

import (
	"bytes"
	"slices"
	"strings"
	"time"

	"lookout/crypto"
)

// MemberInfo is what a zone knows about one member.
type MemberInfo struct {
	ID crypto.MemberID
	// Name is from the latest counted KindMember announcement of the member.
	Name string
	// KEM is the X-Wing public key of the same announcement (nil if none).
	KEM []byte
	// Role is the role of the latest counted KindRole grant for the member;
	// without one, the highest role the member has sent a message with.
	Role Role
	// Removed: an organizer removed the member. Removal is permanent.
	Removed bool
	// RemovedAt is the sent time of the first counted KindRemove.
	RemovedAt time.Time
}

// InviteInfo is an invite an organizer published: a KindRole grant of an
// invite certificate (see InviteIdentity).
type InviteInfo struct {
	// Cert is the invite certificate: subject the invite key, role
	// InviteRole of the role it grants, expiry the invite's.
	Cert *Cert
	// Chain is the invite certificate and its issuer's chain: what a
	// joiner's own certificate goes under.
	Chain Chain
	// Redeemers are the members that announced themselves (KindMember)
	// with a certificate the invite key issued, in (certificate issued
	// time, member ID) order. The first is the one the invite admits; more
	// than one means the invite was redeemed twice (a copied code, or two
	// members answering during a network split).
	Redeemers []crypto.MemberID
}

// Roster is a zone's governance state: its members and settings.
type Roster struct {
	// Invites are the published invites, by invite ID (InviteIDOf the key).
	Invites map[[InviteIDSize]byte]*InviteInfo
	Members map[crypto.MemberID]*MemberInfo
	// Settings are from the latest counted KindSettings, else the base.
	Settings Settings
}

// FoldRoster folds the zone's governance state from msgs: every sender of
// any message is a member; governance messages change names, roles,
// removals and settings. Messages are processed in (sent, ID) order.
//
//   - KindRole, KindRemove and KindSettings count only if actual (not
//     exercise) and sent by an organizer (msg.Role) who had not been
//     removed before the message's sent time; so a removed organizer's
//     earlier actions stand.
//   - KindMember (actual) counts for its own sender, unless removed before.
//   - KindRole: the subject is the granted certificate's subject; the
//     certificate must be issued by the message's sender.
//   - root (the founder) cannot be removed, is not re-granted a role, and is
//     always listed as an organizer.
//   - KindRole with an invite certificate publishes an invite (Invites);
//     the invite key is not a member.
//   - KindMember whose leaf certificate an invite key issued records its
//     sender as a redeemer of that invite.
//   - KindSettings: the latest counted one wins, except that once callouts
//     need co-signing, turning that off needs settings from two different
//     organizers (since co-signing was last on).
//
// The result depends only on the set of messages.
func FoldRoster(msgs []*Message, root crypto.MemberID, base Settings) Roster {
	ms := make([]*Message, 0, len(msgs))
	for _, m := range msgs {
		if usable(m) {
			ms = append(ms, m)
		}
	}
	slices.SortFunc(ms, func(a, b *Message) int {
		if c := a.Alert.Sent.Compare(b.Alert.Sent); c != 0 {
			return c
		}
		if c := bytes.Compare(a.ID[:], b.ID[:]); c != 0 {
			return c
		}
		return int(a.Role) - int(b.Role)
	})
	ms = slices.CompactFunc(ms, func(a, b *Message) bool { return a.ID == b.ID })

	r := Roster{Members: map[crypto.MemberID]*MemberInfo{}, Invites: map[[InviteIDSize]byte]*InviteInfo{}, Settings: base}
	type redeemer struct {
		id     crypto.MemberID
		issued time.Time
	}
	redeemers := map[[InviteIDSize]byte][]redeemer{}
	seenRole := map[crypto.MemberID]Role{}
	granted := map[crypto.MemberID]Role{}
	var offBy map[crypto.MemberID]bool // organizers asking to turn co-signing off
	get := func(id crypto.MemberID) *MemberInfo {
		mi := r.Members[id]
		if mi == nil {
			mi = &MemberInfo{ID: id}
			r.Members[id] = mi
		}
		return mi
	}
	if !root.IsZero() {
		get(root)
		seenRole[root] = RoleOrganizer
	}
	for _, m := range ms {
		a := m.Alert
		sender := get(a.Sender)
		seenRole[a.Sender] = max(seenRole[a.Sender], m.Role)
		if a.Status != StatusActual || (sender.Removed && sender.RemovedAt.Before(a.Sent)) {
			continue
		}
		if a.Kind == KindMember {
			sender.Name, sender.KEM = a.Name, slices.Clone(a.KEM)
			if key, ok := m.Chain.InviteKey(); ok {
				id := InviteIDOf(key.Subject)
				if r.Invites[id] == nil {
					r.Invites[id] = &InviteInfo{Cert: key, Chain: m.Chain[1:]}
				}
				if !slices.ContainsFunc(redeemers[id], func(x redeemer) bool { return x.id == a.Sender }) {
					redeemers[id] = append(redeemers[id], redeemer{a.Sender, m.Chain.Leaf().Issued})
				}
			}
			continue
		}
		if m.Role != RoleOrganizer {
			continue
		}
		switch a.Kind {
		case KindRole:
			c, err := ParseCert(a.Cert)
			if err != nil || c.Issuer != a.Sender {
				continue
			}
			if _, invite := c.Role.Invited(); invite {
				if id := InviteIDOf(c.Subject); r.Invites[id] == nil || r.Invites[id].Cert.Issuer != c.Issuer {
					r.Invites[id] = &InviteInfo{Cert: c, Chain: append(Chain{c}, m.Chain...)}
				}
				continue
			}
			if subject := c.Subject.ID(); subject != root {
				get(subject)
				granted[subject] = c.Role
			}
		case KindRemove:
			if a.Subject == root {
				continue
			}
			if mi := get(a.Subject); !mi.Removed {
				mi.Removed, mi.RemovedAt = true, a.Sent
			}
		case KindSettings:
			next := SettingsFromWire(a.Settings)
			if r.Settings.Cosign && !next.Cosign {
				// Turning co-signing off takes two organizers, or one
				// stolen key could switch it off and then send people
				// somewhere alone. Until a second one asks, it stays on.
				if offBy == nil {
					offBy = map[crypto.MemberID]bool{}
				}
				offBy[a.Sender] = true
				if len(offBy) < 2 {
					next.Cosign = true
				}
			}
			if a.Settings.Cosign {
				offBy = nil // asked for on: any earlier requests to turn it off lapse
			}
			r.Settings = next
		}
	}
	for id, rs := range redeemers {
		slices.SortFunc(rs, func(a, b redeemer) int {
			if c := a.issued.Compare(b.issued); c != 0 {
				return c
			}
			return bytes.Compare(a.id[:], b.id[:])
		})
		for _, x := range rs {
			r.Invites[id].Redeemers = append(r.Invites[id].Redeemers, x.id)
		}
	}
	for id, mi := range r.Members {
		if g, ok := granted[id]; ok {
			mi.Role = g
		} else {
			mi.Role = seenRole[id]
		}
	}
	return r
}

// Redeemer reports the member an invite admits: the first of its
// redeemers, if any announced itself.
func (r *Roster) Redeemer(invite [InviteIDSize]byte) (crypto.MemberID, bool) {
	if r == nil || r.Invites[invite] == nil || len(r.Invites[invite].Redeemers) == 0 {
		return crypto.MemberID{}, false
	}
	return r.Invites[invite].Redeemers[0], true
}

// Removed reports whether id has been removed. A nil roster removes nobody.
func (r *Roster) Removed(id crypto.MemberID) bool {
	if r == nil {
		return false
	}
	mi := r.Members[id]
	return mi != nil && mi.Removed
}

// Sorted returns the members, removed ones included: organizers first,
// then verifiers, then members; within a role by name (case-insensitive,
// then exact), then by ID.
func (r *Roster) Sorted() []*MemberInfo {
	out := make([]*MemberInfo, 0, len(r.Members))
	for _, mi := range r.Members {
		out = append(out, mi)
	}
	slices.SortFunc(out, func(a, b *MemberInfo) int {
		if a.Role != b.Role {
			return int(b.Role) - int(a.Role)
		}
		if c := strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)); c != 0 {
			return c
		}
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return bytes.Compare(a.ID[:], b.ID[:])
	})
	return out
}
