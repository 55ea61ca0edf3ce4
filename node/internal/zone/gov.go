package zone

import (
	"fmt"
	"slices"
	"time"

	"lookout/crypto"
	"lookout/protocol"
)

// Self is this member, as governance planning needs it.
type Self struct {
	ID  crypto.MemberID
	Key *crypto.PublicKey
	KEM *crypto.KEMKey // opens the rekey entries sealed to this member
}

// GovState is what a zone holds that a governance message can change for
// this member.
type GovState struct {
	Zone   protocol.ZoneID
	Root   *crypto.PublicKey
	Record Record                       // the zone record as stored
	Epoch  uint32                       // the current epoch
	Epochs map[uint32]crypto.ZoneSecret // every epoch's secret held; lent, only read
	Chain  protocol.Chain               // this member's certificate chain
	Role   protocol.Role                // its role
}

// EpochSwitch is a move to a new epoch.
type EpochSwitch struct {
	Epoch  uint32
	Secret crypto.ZoneSecret
}

// GovChange is what governance messages change for this member's zone
// record and state: planned (PlanGov), written with the messages, then
// applied in memory.
type GovChange struct {
	Record  Record         // the zone record as it will be, if Dirty
	Dirty   bool           // Record differs from the stored one
	Chain   protocol.Chain // if set, this member's new chain, with Role
	Role    protocol.Role
	Removed bool         // this member was removed
	Next    *EpochSwitch // this member moves to the next epoch
	// Reason, if set, says for the log why a grant or rekey entry for
	// this member could not be used; Detail is the error behind it, if
	// any. Neither holds a secret.
	Reason string
	Detail error
}

// Reasons a grant or a rekey entry for this member is not used.
const (
	ReasonChainTooDeep = "granted role not usable: certificate chain too deep"
	ReasonGrant        = "granted role not usable"
	ReasonRekeyEntry   = "rekey: cannot open this member's entry"
)

// PlanGov works out what an admitted governance message msg changes for
// this member at now: a role granted to it, its removal, a rekey moving it
// to a later epoch. Anything else changes nothing.
func PlanGov(st GovState, self Self, msg *protocol.Message, now time.Time) GovChange {
	ch := GovChange{Record: st.Record}
	a := msg.Alert
	switch a.Kind {
	case protocol.KindRole:
		chain, role, ok := granted(st, self, msg, now, &ch)
		if ok && !StaleRenewal(st.Chain, st.Role, chain, role) {
			ch.Chain, ch.Role, ch.Dirty = chain, role, true
			ch.Record.Chain = make([][]byte, 0, len(chain))
			for _, c := range chain {
				ch.Record.Chain = append(ch.Record.Chain, c.Bytes())
			}
		}
	case protocol.KindRemove:
		if a.Subject == self.ID {
			ch.Removed, ch.Dirty = true, true
			ch.Record.Removed = true
		}
	case protocol.KindRekey:
		if next, ok := rekeyEntry(st, self, msg, &ch); ok {
			ch.Next, ch.Dirty = &next, true
			ch.Record.SetEpoch(next, msg.ID.String())
		}
	}
	return ch
}

// granted returns the chain and role a role grant gives this member, if
// it is for this member and its chain verifies at now; a grant for this
// member that does not is noted in ch's Reason.
func granted(st GovState, self Self, msg *protocol.Message, now time.Time, ch *GovChange) (protocol.Chain, protocol.Role, bool) {
	c, err := protocol.ParseCert(msg.Alert.Cert)
	if err != nil || !c.Subject.Equal(self.Key) {
		return nil, 0, false
	}
	chain := append(protocol.Chain{c}, msg.Chain...)
	if len(chain) > protocol.MaxChainLen {
		ch.Reason = ReasonChainTooDeep
		return nil, 0, false
	}
	cv := &protocol.ChainVerifier{Zone: st.Zone, Root: st.Root}
	role, err := cv.Verify(chain, now)
	if err != nil {
		ch.Reason, ch.Detail = ReasonGrant, fmt.Errorf("verify granted chain: %w", err)
		return nil, 0, false
	}
	return chain, role, true
}

// StaleRenewal reports whether a grant of chain with role to this member,
// which holds held with heldRole, is a renewal older than the chain it
// has (same role, expiring no later): installing it would shorten the
// membership. A direct certificate replacing one an invite key issued is
// never stale.
func StaleRenewal(held protocol.Chain, heldRole protocol.Role, chain protocol.Chain, role protocol.Role) bool {
	if _, invited := held.InviteKey(); invited {
		if _, still := chain.InviteKey(); !still {
			return false
		}
	}
	return role == heldRole && len(held) > 0 && !chain.Expires().After(held.Expires())
}

// rekeyEntry opens this member's entry of a rekey to an epoch after the
// current one. The entry's PSK is the secret of the epoch the rekey is
// sealed under: the epoch before for a rekey after a removal, the fork's
// parent for a merge, which may skip an epoch. An entry for this member
// that does not open is noted in ch's Reason.
func rekeyEntry(st GovState, self Self, msg *protocol.Message, ch *GovChange) (EpochSwitch, bool) {
	a := msg.Alert
	old, haveOld := st.Epochs[msg.Epoch]
	if a.Epoch <= st.Epoch || a.Epoch <= msg.Epoch || !haveOld {
		return EpochSwitch{}, false
	}
	for _, e := range a.Rekey {
		if e.Member != self.ID {
			continue
		}
		next, err := protocol.OpenRekeyEntry(self.KEM, st.Zone, old, a.Epoch, e)
		if err != nil {
			ch.Reason, ch.Detail = ReasonRekeyEntry, err
			return EpochSwitch{}, false
		}
		return EpochSwitch{Epoch: a.Epoch, Secret: next}, true
	}
	return EpochSwitch{}, false
}

// SetEpoch moves a record to a new epoch, set by the message from (its ID),
// keeping the current secret among the old ones.
func (r *Record) SetEpoch(next EpochSwitch, from string) {
	r.Old = append(slices.Clip(r.Old), EpochSecret{Epoch: r.Epoch, Secret: append([]byte(nil), r.Secret...)})
	r.Epoch, r.Secret, r.EpochFrom = next.Epoch, append([]byte(nil), next.Secret[:]...), from
}
