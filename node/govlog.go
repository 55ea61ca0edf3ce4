package node

import (
	pubsub "github.com/libp2p/go-libp2p-pubsub"

	core "lookout/node/internal/zone"
	"lookout/protocol"
)

// Governance as a durable, compacted log. Each admitted governance message
// (member announcements, roles, removals, rekeys, settings, links) is its
// own store record in bucketGov (govRecord, records.go), written once and
// never rewritten; the roster, settings, links and grants are folded from
// them (in the zone core, node/internal/zone: core.State.ApplyGov,
// RestoreGov), and the zone record (epoch, secrets, this member's chain)
// is written in the same transaction as the message that changes it
// (records.commitGov). Only what can change the fold is kept
// (core.State.AdmitGov, RestoreGov).

// maxAnnouncements caps the member announcements a zone keeps
// (core.State.AdmitGov): a safety cap on announcements only (compaction
// keeps at most a few per member). No cap ever drops a removal, rekey,
// role, settings or link message.
var maxAnnouncements = 4096 // tests shorten it

// restoreGov rebuilds the roster from stored governance envelopes,
// checking each as of the time it was sent, then compacts
// (core.State.RestoreGov). It returns the messages kept and the IDs
// compaction dropped.
func (z *zone) restoreGov(envs [][]byte) (kept []*GovMsg, drop []protocol.AlertID) {
	var opened []*GovMsg
	for _, env := range envs {
		if msg, err := z.reopen(env); err == nil { // takes the State's lock (AlertKey)
			opened = append(opened, &GovMsg{Msg: msg, Env: env})
		}
	}
	return z.RestoreGov(opened)
}

// govApplied is what applying governance changed in memory (applyGov),
// for the node to act on.
type govApplied struct {
	twice   bool          // an invite newly seen redeemed twice, in a zone this member organizes
	newRole bool          // this member has a new chain and role
	removed bool          // this member was removed, and was not before
	moved   *switchedFrom // this member moved to a new epoch, leaving this one
}

// applyGov applies in memory governance messages that are written, the
// deletion of the announcements in drop and what ch plans for this
// member: the State's part at once (core.State.ApplyGov: the messages
// held and seen, senders' keys, the fold, the zone record, this member's
// chain and role, its removal, the move to the next epoch), then, under
// z.mu, the topic and subscription left and z.gone closed on removal.
// Lock order: callers hold n.mu (which keeps governance writes in order);
// applyGov takes z.mu, then the State's lock.
func (z *zone) applyGov(msgs []*GovMsg, drop []protocol.AlertID, ch core.GovChange) govApplied {
	z.mu.Lock()
	defer z.mu.Unlock()
	st := z.ApplyGov(msgs, drop, ch)
	got := govApplied{twice: st.Twice, newRole: st.NewRole, removed: st.Removed}
	if st.Removed {
		close(z.gone) // ends watch streams
	}
	if st.Moved {
		got.moved = &switchedFrom{epoch: st.From, topic: z.topic, sub: z.sub}
	}
	return got
}

// switchedFrom is the epoch, topic and subscription a zone left.
type switchedFrom struct {
	epoch uint32
	topic *pubsub.Topic
	sub   *pubsub.Subscription
}
