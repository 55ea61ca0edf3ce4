package node

import (
	"io"
	"slices"
	"sort"
	"sync"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"

	"lookout/crypto"
	"lookout/node/api"
	core "lookout/node/internal/zone"
	"lookout/protocol"
)

// A zone this node is a member of: its stored record, its state, and the
// views lent to the zone core (node/internal/zone).

// zoneRecord is a zone membership as stored: core.Record, the one record
// form of a zone.
type zoneRecord = core.Record

// zone is a zone this node is a member of, with its topic and alerts.
//
// Fixed at creation: id, root, val. rec is guarded by Node.mu; the rest by
// z.mu (lock Node.mu first when both are needed).
type zone struct {
	rec       zoneRecord
	id        protocol.ZoneID
	root      *crypto.PublicKey
	val       *protocol.Validator
	discovery io.Closer // local-network discovery, if on

	mu         sync.Mutex
	chain      protocol.Chain // this member's certificate chain
	role       protocol.Role
	topic      *pubsub.Topic
	sub        *pubsub.Subscription
	epoch      uint32
	epochs     map[uint32]crypto.ZoneSecret
	straggle   *uint32 // the previous epoch, still proven to peers during oldTopicGrace
	gov        map[protocol.AlertID]*govMsg
	fold       core.Folded                          // what the governance messages say: roster, settings, links, docs; admission rules
	coverable  map[protocol.AlertID]*govMsg         // what a snapshot may cover (govsnap.go); nil until asked after each refold
	skipped    map[uint32]map[protocol.AlertID]bool // what catch-up leaves out, by epoch (govsnap.go); reset at each refold
	pubkeys    map[crypto.MemberID]*crypto.PublicKey
	msgs       core.Messages // alerts, updates, their envelopes, updates waiting for their alert, what was applied
	removed    bool
	gone       chan struct{} // closed once removed: ends watch streams
	watchers   map[chan api.Alert]struct{}
	announced  time.Time // last own member announcement
	certifying bool      // a direct certification of invited members is under way (certifyInvitedSoon)
	// grantMu is held by this organizer's node from reading a member's
	// role to publishing a role grant for it (Promote, renewMembers), so
	// a renewal never re-issues a role a promotion has just replaced.
	// Lock it before Node.mu and z.mu. lastGrant is the sent time of this
	// node's last grant in the zone, guarded by grantMu.
	grantMu   sync.Mutex
	lastGrant time.Time
	forkSince time.Time // when this node saw its epochs forked (fork.go), zero if not
	merged    time.Time // when this node last sent a merge (fork.go)
}

const watchBuffer = 256

func (z *zone) close() {
	if z.discovery != nil {
		z.discovery.Close()
	}
	if z.sub != nil {
		z.sub.Cancel()
	}
	if z.topic != nil {
		z.topic.Close()
	}
}

func (z *zone) key(epoch uint32) (*crypto.AEADKey, bool) {
	z.mu.Lock()
	defer z.mu.Unlock()
	s, ok := z.epochs[epoch]
	if !ok {
		return nil, false
	}
	return s.AlertKey(epoch), true
}

// snapshot is a consistent view of a zone's mutable membership state.
type snapshot struct {
	chain   protocol.Chain
	role    protocol.Role
	topic   *pubsub.Topic
	epoch   uint32
	secret  crypto.ZoneSecret
	removed bool
}

func (z *zone) snapshot() snapshot {
	z.mu.Lock()
	defer z.mu.Unlock()
	return snapshot{chain: z.chain, role: z.role, topic: z.topic, epoch: z.epoch, secret: z.epochs[z.epoch], removed: z.removed}
}

// current returns the epoch and secret in use.
func (z *zone) current() (uint32, crypto.ZoneSecret) {
	z.mu.Lock()
	defer z.mu.Unlock()
	return z.epoch, z.epochs[z.epoch]
}

// newZone rebuilds a zone from its record, checking it is consistent.
func newZone(rec zoneRecord, self *crypto.Identity, now time.Time) (*zone, error) {
	z := &zone{rec: rec, msgs: core.NewMessages(),
		watchers: map[chan api.Alert]struct{}{},
		gov:      map[protocol.AlertID]*govMsg{},
		pubkeys:  map[crypto.MemberID]*crypto.PublicKey{}}
	m, err := rec.Open(self.Public(), now)
	if err != nil {
		return nil, err
	}
	z.id, z.root, z.epoch, z.epochs, z.chain, z.role, z.removed = m.Zone, m.Root, m.Epoch, m.Epochs, m.Chain, m.Role, m.Removed
	z.gone = make(chan struct{})
	if z.removed {
		close(z.gone)
	}
	z.val = protocol.NewValidator(z.id, z.root, z.key)
	z.val.Revoked = func(_ [32]byte, m crypto.MemberID) bool {
		z.mu.Lock()
		defer z.mu.Unlock()
		return z.fold.Roster.Removed(m)
	}
	z.val.Endorser = z.endorser // linked zones (links.go)
	z.fold = core.NewFolded(z.root.ID())
	return z, nil
}

// alertsLocked lends the zone's alert state to the zone core's views.
// Callers hold z.mu.
func (z *zone) alertsLocked() core.Alerts {
	return core.Alerts{ZoneID: z.rec.ID, ZoneName: z.rec.Name, Roots: z.msgs.Roots, Updates: z.msgs.Updates,
		Settings: z.fold.Settings(), Roster: &z.fold.Roster, Links: z.fold.Links}
}

// card is one alert as shown (core.Card).
type card = core.Card

// viewOfLocked returns the view, as of now, of the card alert id belongs
// to. Callers hold z.mu.
func (z *zone) viewOfLocked(id protocol.AlertID, now time.Time) (api.Alert, bool) {
	c, ok := z.alertsLocked().CardOf(id, now)
	return c.View, ok
}

// cardsLocked folds the zone's alerts into cards as of now. Callers hold
// z.mu.
func (z *zone) cardsLocked(now time.Time) []card { return z.alertsLocked().Cards(now) }

func (n *Node) zone(ref string) (*zone, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.zoneLocked(ref)
}

func (z *zone) info(now time.Time) api.Zone {
	z.mu.Lock()
	topic, role, epoch, removed, chain, twice := z.topic, z.role, z.epoch, z.removed, z.chain, len(z.fold.Twice)
	z.mu.Unlock()
	info := api.Zone{ID: z.rec.ID, Name: z.rec.Name, Role: role.String(), Epoch: epoch, Topic: topic.String(), Peers: []string{}, Removed: removed,
		Places: slices.Clone(z.rec.Places), InvitesRedeemedTwice: twice}
	if exp, ok := (snapshot{chain: chain}).expiredSince(now); ok {
		info.Expired = exp.UTC().Format(time.DateOnly)
	}
	for _, p := range topic.ListPeers() {
		info.Peers = append(info.Peers, p.String())
	}
	sort.Strings(info.Peers)
	return info
}

// prune forgets alerts and updates whose messages expired more than
// core.PruneGrace ago and, if ended, every alert that ended (expired or
// cleared) with no activity for core.PruneGrace, with its updates
// (core.Messages.Prune). It returns the IDs forgotten, for the caller to
// delete from the store. The replay cache keeps their IDs until their
// messages expire.
func (z *zone) prune(now time.Time, ended bool) []protocol.AlertID {
	z.mu.Lock()
	defer z.mu.Unlock()
	var cards []card
	if ended {
		cards = z.cardsLocked(now)
	}
	return z.msgs.Prune(now, cards)
}
