package reach

import (
	"fmt"
	"sync"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/record"
	"github.com/libp2p/go-libp2p/p2p/host/eventbus"
)

// MaxRecords bounds the peer records a Records keeps.
const MaxRecords = 1024

// Records keeps the newest signed peer record (peer ID, addresses, signed
// by the peer) that each connected peer sent in identify, and on every
// address change since, so a node can pass members' own word on their
// addresses to other members. go-libp2p's identify checks the signature
// and then drops the record; Records keeps what it checked.
type Records struct {
	sub  event.Subscription
	done chan struct{}

	mu   sync.Mutex
	recs map[peer.ID]*record.Envelope
}

// NewRecords follows identify on h until Close.
func NewRecords(h host.Host) (*Records, error) {
	sub, err := h.EventBus().Subscribe([]any{
		new(event.EvtPeerIdentificationCompleted),
		new(event.EvtPeerConnectednessChanged),
	}, eventbus.Name("lookout peer records"))
	if err != nil {
		return nil, fmt.Errorf("watch peer records: %w", err)
	}
	r := &Records{sub: sub, done: make(chan struct{}), recs: map[peer.ID]*record.Envelope{}}
	go r.loop()
	return r, nil
}

func (r *Records) loop() {
	defer close(r.done)
	for ev := range r.sub.Out() {
		switch e := ev.(type) {
		case event.EvtPeerIdentificationCompleted:
			if e.SignedPeerRecord != nil {
				r.Put(e.Peer, e.SignedPeerRecord)
			}
		case event.EvtPeerConnectednessChanged:
			if e.Connectedness == network.NotConnected {
				r.mu.Lock()
				delete(r.recs, e.Peer)
				r.mu.Unlock()
			}
		}
	}
}

// Put keeps env as p's record unless it is not a peer record of p or
// older than the one kept (by sequence number), or MaxRecords are kept.
func (r *Records) Put(p peer.ID, env *record.Envelope) {
	rec, err := env.Record()
	if err != nil {
		return
	}
	pr, ok := rec.(*peer.PeerRecord)
	if !ok || pr.PeerID != p || !p.MatchesPublicKey(env.PublicKey) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	old, have := r.recs[p]
	if !have && len(r.recs) >= MaxRecords {
		return
	}
	if have {
		if o, err := old.Record(); err == nil && o.(*peer.PeerRecord).Seq > pr.Seq {
			return
		}
	}
	r.recs[p] = env
}

// Get returns p's record, marshalled, or nil.
func (r *Records) Get(p peer.ID) []byte {
	r.mu.Lock()
	env := r.recs[p]
	r.mu.Unlock()
	if env == nil {
		return nil
	}
	b, err := env.Marshal()
	if err != nil {
		return nil
	}
	return b
}

// Close stops following identify.
func (r *Records) Close() error {
	err := r.sub.Close()
	<-r.done
	return err
}
