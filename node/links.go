package node

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"

	"lookout/crypto"
	"lookout/node/membership"
	"lookout/protocol"
)

// Linked zones. A link's state in each zone is folded from that zone's
// KindLink governance messages (protocol.FoldLinks), so it is stored,
// synced and restored with the roster. Only the two link ends (one
// organizer's node per zone, the sender of that zone's accept) talk over
// linkProtocol; every other node only validates what its end relays.
//
// A request on linkProtocol is
//
//	u32 len | frame (protocol.SealLinkFrame)
//
// and the answer is u8 status (0 accepted, 1 refused) | u16 len | reason.
const linkProtocol = "/link/3.0.0"

const (
	linkTimeout      = 30 * time.Second
	linkStatusOK     = 0
	linkStatusRefuse = 1
	// linkAddrTTL is how long a link end's addresses stay in the peerstore.
	linkAddrTTL = peerstore.PermanentAddrTTL
)

// linkEnds is this node's ends of its zones' links: what they sent
// (state), what they do with their zones' messages (link_relay.go,
// link_places.go) and with the frames of the other ends (link_stream.go).
// It reaches its node only through node and the values it was made with.
type linkEnds struct {
	node nodeForLinks
	ctx  context.Context  // the node's: done once it closes
	id   *crypto.Identity // this node's member: signs hellos, endorsements, ends
	h    host.Host        // dials the other ends, opens link streams
	gate *membership.Gate // waits for a peer's membership proof
	log  *slog.Logger

	state linkState
}

// nodeForLinks is what the link ends use of their node: its zones, clock
// and randomness, the publish path (whose messages pass the door like any
// other), its goroutines and which peers proved a shared zone.
type nodeForLinks interface {
	liveZones() []*zone
	now() time.Time
	rand() io.Reader
	newAlert(kind protocol.Kind, exercise bool, ttl time.Duration) *protocol.Alert
	publish(ctx context.Context, z *zone, a *protocol.Alert) (*protocol.Message, error)
	spawn(f func())
	Member(p peer.ID) bool
}

// newLinkEnds makes n's link ends, once Start has loaded its identity and
// started its host and gate.
func newLinkEnds(n *Node) *linkEnds {
	return &linkEnds{node: n, ctx: n.ctx, id: n.id, h: n.h, gate: n.gate, log: n.log}
}

// linkState is what this node remembers about what it sent over links it
// ends. It lives in memory: after a restart the node sends again and the
// other end drops what it already has (dedupe by digest).
type linkState struct {
	mu   sync.Mutex // serializes reconciling and sending; never held by handlers
	sent map[protocol.LinkID]map[protocol.Digest]*sentShare
	// in counts frames received per link, for the per-link rate limit.
	inMu sync.Mutex
	in   map[protocol.LinkID][]time.Time
	// ending marks links whose end this node received from the other end,
	// so it does not echo the end back.
	ending map[protocol.LinkID]bool
	// Safe places (link_places.go): what crossed per link and digest,
	// place endorsements sent per link (the pace), zones waiting for it.
	places       map[protocol.LinkID]map[protocol.Digest]*sentPlace
	placeOut     map[protocol.LinkID][]time.Time
	placesBehind map[*zone]bool
}

// sentShare is what crossed one link for one shared alert.
type sentShare struct {
	shared  bool
	cleared bool
	content [32]byte // hash of the last callout content sent
	tally   protocol.Tally
}

func (s *linkState) get(l protocol.LinkID, d protocol.Digest) *sentShare {
	if s.sent == nil {
		s.sent = map[protocol.LinkID]map[protocol.Digest]*sentShare{}
	}
	m := s.sent[l]
	if m == nil {
		m = map[protocol.Digest]*sentShare{}
		s.sent[l] = m
	}
	if m[d] == nil {
		m[d] = &sentShare{}
	}
	return m[d]
}

// allowIn records a frame received on link l at t and reports whether it
// is within protocol.MaxLinkMessages per protocol.RateWindow.
func (s *linkState) allowIn(l protocol.LinkID, t time.Time) bool {
	s.inMu.Lock()
	defer s.inMu.Unlock()
	if s.in == nil {
		s.in = map[protocol.LinkID][]time.Time{}
	}
	from := t.Add(-protocol.RateWindow)
	list := slices.DeleteFunc(s.in[l], func(x time.Time) bool { return !x.After(from) })
	if len(list) >= protocol.MaxLinkMessages {
		s.in[l] = list
		return false
	}
	s.in[l] = append(list, t)
	return true
}

// endorser is the zone validator's hook: the key this zone accepted for
// the other end of an active link, if relay is this zone's end of it
// (core.State.Endorser).
func (z *zone) endorser(id protocol.LinkID, relay crypto.MemberID) (*crypto.PublicKey, error) {
	return z.State.Endorser(id, relay)
}
