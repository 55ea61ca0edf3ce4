package node

import (
	"io"
	"sort"
	"sync"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"

	"lookout/crypto"
	"lookout/node/api"
	core "lookout/node/internal/zone"
	"lookout/protocol"
)

// A zone this node is a member of: its state (the zone core's State,
// node/internal/zone, which holds its stored record too), its topic and
// watchers.

// zoneRecord is a zone membership as stored: core.Record, the one record
// form of a zone.
type zoneRecord = core.Record

// zone is a zone this node is a member of, with its topic and alerts.
//
// Fixed at creation: val, discovery and what State fixes (its ID, name,
// the founder's key). The zone's input and output are guarded by z.mu;
// what it knows, its record included, by State's own mutex. Lock order:
// Node.mu (which keeps writes of the zone's records in order), then z.mu,
// then State's.
type zone struct {
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

// snapshot is a consistent view of a zone's mutable membership state.
type snapshot struct {
	chain   protocol.Chain
	role    protocol.Role
	topic   *pubsub.Topic
	epoch   uint32
	secret  crypto.ZoneSecret
	removed bool
}

// snapshot returns the zone's topic and this member's standing, read
// under z.mu and, within it, the State's lock.
func (z *zone) snapshot() snapshot {
	z.mu.Lock()
	defer z.mu.Unlock()
	st := z.Standing()
	return snapshot{chain: st.Chain, role: st.Role, topic: z.topic, epoch: st.Epoch, secret: st.Secret, removed: st.Removed}
}

// newZone rebuilds a zone from its record, checking it is consistent.
func newZone(rec zoneRecord, self *crypto.Identity, now time.Time) (*zone, error) {
	m, err := rec.Open(self.Public(), now)
	if err != nil {
		return nil, err
	}
	z := &zone{State: core.NewStateFrom(m, rec),
		watchers: map[chan api.Alert]struct{}{}}
	z.gone = make(chan struct{})
	if m.Removed {
		close(z.gone)
	}
	z.val = protocol.NewValidator(z.ID(), z.Root(), z.AlertKey)
	z.val.Revoked = func(_ [32]byte, m crypto.MemberID) bool { return z.MemberRemoved(m) }
	z.val.Endorser = z.endorser // linked zones (links.go)
	return z, nil
}

func (n *Node) zone(ref string) (*zone, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.zoneLocked(ref)
}

func (z *zone) info(now time.Time) api.Zone {
	z.mu.Lock()
	topic := z.topic
	z.mu.Unlock()
	st := z.Standing()
	info := api.Zone{ID: z.Label().ID, Name: z.Name(), Role: st.Role.String(), Epoch: st.Epoch, Topic: topic.String(), Peers: []string{}, Removed: st.Removed,
		Places: z.RecentPlaces(), InvitesRedeemedTwice: st.RedeemedTwice}
	if exp, ok := (snapshot{chain: st.Chain}).expiredSince(now); ok {
		info.Expired = exp.UTC().Format(time.DateOnly)
	}
	for _, p := range topic.ListPeers() {
		info.Peers = append(info.Peers, p.String())
	}
	sort.Strings(info.Peers)
	return info
}
