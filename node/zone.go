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

	core.State // what the zone knows, under its own mutex

	// mu guards the zone's input and output below. Lock it before the
	// State's mutex when both are needed.
	mu         sync.Mutex
	topic      *pubsub.Topic
	sub        *pubsub.Subscription
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
	z.Mu.Lock()
	defer z.Mu.Unlock()
	s, ok := z.Epochs[epoch]
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
	z.Mu.Lock()
	defer z.Mu.Unlock()
	return snapshot{chain: z.Chain, role: z.Role, topic: z.topic, epoch: z.Epoch, secret: z.Epochs[z.Epoch], removed: z.Removed}
}

// current returns the epoch and secret in use.
func (z *zone) current() (uint32, crypto.ZoneSecret) {
	z.Mu.Lock()
	defer z.Mu.Unlock()
	return z.Epoch, z.Epochs[z.Epoch]
}

// newZone rebuilds a zone from its record, checking it is consistent.
func newZone(rec zoneRecord, self *crypto.Identity, now time.Time) (*zone, error) {
	z := &zone{rec: rec, State: core.NewState(),
		watchers: map[chan api.Alert]struct{}{}}
	m, err := rec.Open(self.Public(), now)
	if err != nil {
		return nil, err
	}
	z.id, z.root, z.Epoch, z.Epochs, z.Chain, z.Role, z.Removed = m.Zone, m.Root, m.Epoch, m.Epochs, m.Chain, m.Role, m.Removed
	z.gone = make(chan struct{})
	if z.Removed {
		close(z.gone)
	}
	z.val = protocol.NewValidator(z.id, z.root, z.key)
	z.val.Revoked = func(_ [32]byte, m crypto.MemberID) bool {
		z.Mu.Lock()
		defer z.Mu.Unlock()
		return z.Fold.Roster.Removed(m)
	}
	z.val.Endorser = z.endorser // linked zones (links.go)
	z.Fold = core.NewFolded(z.root.ID())
	return z, nil
}

// alertsLocked lends the zone's alert state to the zone core's views.
// Callers hold z.mu.
func (z *zone) alertsLocked() core.Alerts {
	return core.Alerts{ZoneID: z.rec.ID, ZoneName: z.rec.Name, Roots: z.Msgs.Roots, Updates: z.Msgs.Updates,
		Settings: z.Fold.Settings(), Roster: &z.Fold.Roster, Links: z.Fold.Links}
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
	topic := z.topic
	z.mu.Unlock()
	z.Mu.Lock()
	role, epoch, removed, chain, twice := z.Role, z.Epoch, z.Removed, z.Chain, len(z.Fold.Twice)
	z.Mu.Unlock()
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
	z.Mu.Lock()
	defer z.Mu.Unlock()
	var cards []card
	if ended {
		cards = z.cardsLocked(now)
	}
	return z.Msgs.Prune(now, cards)
}
