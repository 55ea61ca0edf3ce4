package node

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"

	"lookout/crypto"
	core "lookout/node/internal/zone"
	"lookout/node/reach"
	"lookout/node/store"
	"lookout/protocol"
)

// Test access to what a running node keeps in its store: the tests look at
// stored state, and the attack tests forge it.

// StoredZones returns the zone records in n's store, as JSON.
func StoredZones(n *Node) ([][]byte, error) {
	var out [][]byte
	err := n.st.ForEach(bucketZones, func(b []byte) error {
		out = append(out, append([]byte(nil), b...))
		return nil
	})
	return out, err
}

// ReplaceStoredZones replaces every zone record in n's store; the records
// take effect at n's next start.
func ReplaceStoredZones(n *Node, recs [][]byte) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, z := range n.zones {
		if err := n.st.Delete(bucketZones, z.Label().ID); err != nil {
			return err
		}
	}
	for _, b := range recs {
		var r struct{ ID string }
		if err := json.Unmarshal(b, &r); err != nil {
			return err
		}
		if err := n.st.Put(bucketZones, r.ID, b); err != nil {
			return err
		}
	}
	return nil
}

// Identity returns n's member identity.
func Identity(n *Node) *crypto.Identity { return n.id }

// StoredMessageIDs returns the IDs of the alerts and updates in n's store.
func StoredMessageIDs(n *Node) ([]string, error) {
	var out []string
	err := n.st.ForEach(bucketMessages, func(v []byte) error {
		var id [16]byte
		copy(id[:], v)
		n.mu.Lock()
		z := n.zones[id]
		n.mu.Unlock()
		if z == nil {
			return nil
		}
		msg, err := z.reopen(v[storedZoneSize:])
		if err != nil {
			return err
		}
		out = append(out, msg.ID.String())
		return nil
	})
	return out, err
}

// Sweep deletes ended and expired alerts now, as the node does every
// sweepInterval.
func Sweep(n *Node) { n.sweeper.sweep(true) }

// Deliver runs env through the door (admit) as if it had arrived by gossip
// on one of n's zones, and stores it; tests replay traffic in any order
// with it. A duplicate is not an error.
func Deliver(n *Node, env []byte) error {
	a, err := n.admit(n.liveZones(), env)
	if errors.Is(err, errDuplicate) {
		return nil
	}
	if err != nil {
		return err
	}
	return n.store(a.z, a.msg, env)
}

// DeliverLive is Deliver as gossip delivers: through the door with the
// live window (the gossipsub validator's face of admitZone).
func DeliverLive(n *Node, env []byte) error {
	for _, z := range n.liveZones() {
		msg, err := n.admitZone(z, env, true)
		if msg == nil && (errors.Is(err, protocol.ErrUnknownEpoch) || errors.Is(err, protocol.ErrDecrypt)) {
			continue
		}
		if errors.Is(err, errDuplicate) {
			return nil
		}
		if err != nil {
			return err
		}
		return n.store(z, msg, env)
	}
	return errNoZone
}

// SetStrangerGrace sets how long a peer that proves no zone stays
// connected, for nodes started afterwards; it returns the old value.
func SetStrangerGrace(d time.Duration) time.Duration {
	old := strangerGrace
	strangerGrace = d
	return old
}

// SetOldTopicGrace sets how long a node keeps an epoch's topic and proves
// it after moving to the next; it returns the old value.
func SetOldTopicGrace(d time.Duration) time.Duration {
	old := oldTopicGrace
	oldTopicGrace = d
	return old
}

// Straggling reports whether one of n's zones still keeps a previous epoch's
// topic.
func Straggling(n *Node) bool {
	for _, z := range n.liveZones() {
		if z.Straggling() {
			return true
		}
	}
	return false
}

// GovStats is what a zone keeps of its governance.
type GovStats struct {
	Messages      int // governance messages held in memory
	Announcements int // of which member announcements
	Bytes         int // their envelopes, in bytes
	Stored        int // governance records in the store (every zone)
	StoredBytes   int // their values, in bytes
	RecordBytes   int // the zone record's JSON in the store
}

// Gov returns what n keeps of a zone's governance, in memory and on disk.
func Gov(n *Node, zoneRef string) (GovStats, error) {
	z, err := n.zone(zoneRef)
	if err != nil {
		return GovStats{}, err
	}
	var s GovStats
	gov := z.GovMessages()
	s.Messages = len(gov)
	for _, g := range gov {
		s.Bytes += len(g.Env)
		if g.Msg.Alert.Kind == protocol.KindMember {
			s.Announcements++
		}
	}
	err = n.st.ForEach(bucketGov, func(v []byte) error {
		s.Stored++
		s.StoredBytes += len(v)
		return nil
	})
	if err != nil {
		return s, err
	}
	b, err := n.st.Get(bucketZones, z.Label().ID)
	s.RecordBytes = len(b)
	return s, err
}

// FailWrites makes n's governance writes (messages, epochs) fail with err
// until called with nil.
func FailWrites(n *Node, err error) {
	if err == nil {
		n.records.writeFault.Store(nil)
		return
	}
	f := func() error { return err }
	n.records.writeFault.Store(&f)
}

// SetMaxAnnouncements sets the cap on a zone's kept announcements; it
// returns the old value.
func SetMaxAnnouncements(v int) int {
	old := maxAnnouncements
	maxAnnouncements = v
	return old
}

// Epoch returns the epoch n's zone is at in memory.
func Epoch(n *Node, zoneRef string) (uint32, error) {
	z, err := n.zone(zoneRef)
	if err != nil {
		return 0, err
	}
	e, _ := z.Current()
	return e, nil
}

// MakeLegacyGov rewrites n's store in the form written before governance
// messages had records of their own: each zone record carries its
// governance envelopes (zoneRecord.Gov) and bucket gov is empty. It takes
// effect at n's next start.
func MakeLegacyGov(n *Node) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, z := range n.zones {
		rec := z.Record()
		var dels []store.Record
		for _, g := range z.GovMessages() {
			rec.Gov = append(rec.Gov, g.Env)
			dels = append(dels, govDeletion(z.ID(), g.Msg.ID))
		}
		zr, err := zoneRecordWrite(rec)
		if err != nil {
			return err
		}
		if err := n.st.PutMany(append(dels, zr)); err != nil {
			return err
		}
	}
	return nil
}

// ZoneKey returns the epoch and secret n's zone is at in memory.
func ZoneKey(n *Node, zoneRef string) (uint32, crypto.ZoneSecret, error) {
	z, err := n.zone(zoneRef)
	if err != nil {
		return 0, crypto.ZoneSecret{}, err
	}
	e, s := z.Current()
	return e, s, nil
}

// SyncItem is one message of what a node offers in catch-up: the epoch it
// was sealed under and its kind.
type SyncItem struct {
	Epoch uint32
	Kind  protocol.Kind
}

// SyncOffer returns what n offers in catch-up to a member of its zone at
// epoch, in offer order.
func SyncOffer(n *Node, zoneRef string, epoch uint32) ([]SyncItem, error) {
	z, err := n.zone(zoneRef)
	if err != nil {
		return nil, err
	}
	_, set := z.SyncSet(epoch, n.now())
	var out []SyncItem
	for _, it := range set {
		out = append(out, SyncItem{Epoch: it.Msg.Epoch, Kind: it.Msg.Alert.Kind})
	}
	return out, nil
}

// KEMKeys returns the KEM public key n announces and the one its store
// holds (and rekeys are opened with after a restart).
func KEMKeys(n *Node) (announced, stored []byte, err error) {
	k, err := loadKEMKey(n.st)
	if err != nil {
		return nil, nil, err
	}
	return n.kem.PublicBytes(), k.PublicBytes(), nil
}

// SetMergeFallback sets how long an organizer that is not a fork's winner
// waits before merging, and the least time between two merges of one
// node; it returns the old value.
func SetMergeFallback(d time.Duration) time.Duration {
	old := mergeFallback
	mergeFallback = d
	return old
}

// GovEnvelopes returns every governance envelope n keeps for a zone.
func GovEnvelopes(n *Node, zoneRef string) ([][]byte, error) {
	z, err := n.zone(zoneRef)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for _, g := range z.GovMessages() {
		out = append(out, g.Env)
	}
	return out, nil
}

// Reachable returns every zone secret the member of node r could learn
// from the governance messages node from keeps, starting from the secrets
// r holds and opening any rekey entry with r's KEM key, whatever r's node
// thinks of its own removal: what a removed member with modified code
// could read.
func Reachable(r, from *Node, zoneRef string) ([]crypto.ZoneSecret, error) {
	zr, err := r.zone(zoneRef)
	if err != nil {
		return nil, err
	}
	zf, err := from.zone(zoneRef)
	if err != nil {
		return nil, err
	}
	kem, err := loadKEMKey(r.st)
	if err != nil {
		return nil, err
	}
	type held struct {
		epoch  uint32
		secret crypto.ZoneSecret
	}
	var have []held
	for e, s := range zr.Secrets() {
		have = append(have, held{e, s})
	}
	var envs [][]byte
	for _, g := range zf.GovMessages() {
		if g.Msg.Alert.Kind == protocol.KindRekey {
			envs = append(envs, g.Env)
		}
	}
	known := func(s crypto.ZoneSecret) bool {
		for _, h := range have {
			if h.secret == s {
				return true
			}
		}
		return false
	}
	for grew := true; grew; {
		grew = false
		for _, env := range envs {
			for _, h := range have {
				v := protocol.NewValidator(zf.ID(), zf.Root(), func(e uint32) (*crypto.AEADKey, bool) {
					return h.secret.AlertKey(e), e == h.epoch
				})
				msg, err := v.Reopen(env)
				if err != nil {
					continue
				}
				for _, e := range msg.Alert.Rekey {
					if e.Member != r.id.ID() {
						continue
					}
					s, err := protocol.OpenRekeyEntry(kem, zf.ID(), h.secret, msg.Alert.Epoch, e)
					if err == nil && !known(s) {
						have = append(have, held{msg.Alert.Epoch, s})
						grew = true
					}
				}
			}
		}
	}
	out := make([]crypto.ZoneSecret, len(have))
	for i, h := range have {
		out[i] = h.secret
	}
	return out, nil
}

// ForkRekey has organizer n send a rekey competing with the one that set
// its current epoch: to the same epoch, sealed under the epoch before,
// with a fresh secret sealed to every member not removed; n stays where
// it is (a hostile organizer forking the zone on purpose).
func ForkRekey(ctx context.Context, n *Node, zoneRef string) error {
	z, err := n.zone(zoneRef)
	if err != nil {
		return err
	}
	st := z.snapshot()
	if st.epoch == 0 {
		return errors.New("fork rekey: epoch 0 has no parent")
	}
	parent, ok := z.Secrets()[st.epoch-1]
	if !ok {
		return errors.New("fork rekey: parent secret not held")
	}
	next, err := crypto.NewZoneSecret(n.rand())
	if err != nil {
		return err
	}
	entries, _, _, err := n.gov.rekeyEntries(z, parent, st.epoch, next, crypto.MemberID{})
	if err != nil {
		return err
	}
	pst := st
	pst.epoch, pst.secret = st.epoch-1, parent
	msgs, err := n.gov.sealRekey(z, pst, st.epoch, entries)
	if err != nil {
		return err
	}
	for _, g := range msgs {
		n.mu.Lock()
		err := n.records.commitGov(z, []*GovMsg{g}, nil, core.GovChange{Record: z.Record()})
		n.mu.Unlock()
		if err != nil {
			return err
		}
		if err := st.topic.Publish(ctx, g.Env); err != nil {
			return err
		}
	}
	return nil
}

// RekeySets counts the rekey sets n keeps in a zone sent by member.
func RekeySets(n *Node, zoneRef string, member crypto.MemberID) (int, error) {
	z, err := n.zone(zoneRef)
	if err != nil {
		return 0, err
	}
	c := 0
	for k := range z.RekeySets() {
		if k.Sender == member {
			c++
		}
	}
	return c, nil
}

// NoMerge keeps n from merging forked epochs, as a hostile organizer's
// node would.
func NoMerge(n *Node) { n.forks.mergeOff.Store(true) }

// CheckForks runs n's fork check on every zone, as its redial tick does,
// without the pull.
func CheckForks(n *Node) {
	for _, z := range n.liveZones() {
		n.forks.checkFork(z, false)
	}
}

// SetSlots gives n, before Start, its division of inbound connections and
// resource manager options.
func SetSlots(n *Node, s reach.Slots, opts ...rcmgr.Option) {
	n.inboundSlots, n.rcmgrOptions = s, opts
}

// Host returns n's libp2p host.
func Host(n *Node) host.Host { return n.h }

// StrangerConns is how many inbound connections n's stranger budget
// tracks (members' are forgotten as the budget is trimmed).
func StrangerConns(n *Node) int {
	s := &n.admission.strangers
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}
