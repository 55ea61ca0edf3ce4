package node

import (
	"context"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/record"
	ma "github.com/multiformats/go-multiaddr"

	"lookout/node/membership"
	"lookout/node/reach"
	"lookout/protocol"
)

// peersProtocol tells a member the addresses of the other members of its
// zones: two homes that joined through the same always-on node learn of
// each other here, dial each other through that node's relay, and hole
// punching makes the connection direct, so they keep talking when that
// node is gone. The asking side opens the stream and sends nothing; the
// serving side answers with one frame (protocol/peers.go, docs/protocol.md
// "Member addresses"): the signed peer records, as they came in identify
// (reach.Records), of the peers it is connected to on the current topic of
// every zone the asking peer proved on this connection, never of another
// zone. A record is signed by the peer it describes, so a member cannot
// put addresses in another member's name.
const peersProtocol = "/peers/1.0.0"

const (
	peersTimeout = 30 * time.Second
	// learnedAddrTTL is how long addresses learned from a member stay in
	// the peerstore; they are also remembered in the zone record.
	learnedAddrTTL = time.Hour
	// learnedAddrsPerPeer bounds the addresses remembered per learned peer.
	learnedAddrsPerPeer = 12
)

// servePeers serves member addresses.
func (a *admission) servePeers() {
	a.h.SetStreamHandler(peersProtocol, a.handlePeers)
}

// sharedZones returns the live zones whose current topic p proved.
func (a *admission) sharedZones(p peer.ID) []*zone {
	var out []*zone
	for _, z := range a.node.liveZones() {
		if epoch, secret := z.Current(); a.gate.Shares(p, secret.TopicName(epoch)) {
			out = append(out, z)
		}
	}
	return out
}

// handlePeers answers a proven member with the records of the other
// members it is connected to in the zones they share.
func (a *admission) handlePeers(s network.Stream) {
	defer s.Close()
	from := s.Conn().RemotePeer()
	ctx, cancel := context.WithTimeout(a.ctx, membership.DefaultTimeout)
	err := a.gate.Wait(ctx, from)
	cancel()
	zones := a.sharedZones(from)
	if err != nil || len(zones) == 0 || !a.peersLimit.acquire(from, time.Now()) {
		s.Reset()
		return
	}
	defer a.peersLimit.release()
	s.SetDeadline(time.Now().Add(peersTimeout))
	if _, err := s.Write(protocol.AppendPeerRecords(nil, a.peerRecords(zones, from))); err != nil {
		s.Reset()
	}
}

// peerRecords returns the signed records of the peers on the zones'
// topics, except skip, at most protocol.MaxPeerRecords.
func (a *admission) peerRecords(zones []*zone, skip peer.ID) [][]byte {
	seen := map[peer.ID]bool{skip: true, a.h.ID(): true}
	var out [][]byte
	for _, z := range zones {
		for _, q := range z.snapshot().topic.ListPeers() {
			if seen[q] || len(out) >= protocol.MaxPeerRecords {
				continue
			}
			seen[q] = true
			if b := a.records.Get(q); len(b) > 0 && len(b) <= protocol.MaxPeerRecordSize {
				out = append(out, b)
			}
		}
	}
	return out
}

// askPeers learns from p the addresses of the other members of the zones
// they share, remembers them in those zones and dials the members it is
// not connected to, up to memberDialTarget connections.
func (a *admission) askPeers(ctx context.Context, p peer.ID) error {
	ctx, cancel := context.WithTimeout(ctx, peersTimeout)
	defer cancel()
	if err := a.gate.Wait(ctx, p); err != nil {
		return err
	}
	zones := a.sharedZones(p)
	if len(zones) == 0 {
		return nil
	}
	// The member asked is one to redial too: remember where it is now
	// rather than at the next redial tick, so a node restarted soon after
	// (on another port, say) still has a way back to it.
	own, err := peer.AddrInfoToP2pAddrs(&peer.AddrInfo{ID: p, Addrs: reach.Dialable(a.h.Peerstore().Addrs(p), learnedAddrsPerPeer)})
	if err == nil && len(own) > 0 {
		for _, z := range zones {
			a.node.rememberPeers(z, own)
		}
	}
	s, err := a.h.NewStream(network.WithAllowLimitedConn(ctx, "peers"), p, peersProtocol)
	if err != nil {
		return err // an older Lookout, or gone
	}
	defer s.Close()
	if dl, ok := ctx.Deadline(); ok {
		s.SetDeadline(dl)
	}
	s.CloseWrite()
	recs, err := protocol.ReadPeerRecords(s)
	if err != nil {
		s.Reset()
		return err
	}
	learned := a.consumePeerRecords(recs, p)
	var addrs []ma.Multiaddr
	for _, ai := range learned {
		if a, err := peer.AddrInfoToP2pAddrs(&ai); err == nil {
			addrs = append(addrs, a...)
		}
	}
	for _, z := range zones {
		a.node.rememberPeers(z, addrs)
	}
	dial := make([]string, 0, len(learned))
	for _, ai := range learned {
		dial = append(dial, "/p2p/"+ai.ID.String())
	}
	a.dials.dialMembers(dial)
	return nil
}

// consumePeerRecords checks signed peer records from member from and puts
// the most dialable addresses of each (reach.Dialable) in the peerstore.
// It returns the peers learned with those addresses. Records of this node
// or of from, and ones that do not open or are not signed by the peer they
// name, are left out.
func (a *admission) consumePeerRecords(recs [][]byte, from peer.ID) []peer.AddrInfo {
	var out []peer.AddrInfo
	for _, b := range recs {
		env, r, err := record.ConsumeEnvelope(b, peer.PeerRecordEnvelopeDomain)
		if err != nil {
			a.log.Debug("peer record", "from", from, "err", err)
			continue
		}
		pr, ok := r.(*peer.PeerRecord)
		if !ok || pr.PeerID == a.h.ID() || pr.PeerID == from || !pr.PeerID.MatchesPublicKey(env.PublicKey) {
			continue
		}
		addrs := reach.Dialable(pr.Addrs, learnedAddrsPerPeer)
		a.h.Peerstore().AddAddrs(pr.PeerID, addrs, learnedAddrTTL)
		out = append(out, peer.AddrInfo{ID: pr.PeerID, Addrs: addrs})
	}
	a.log.Debug("member addresses", "from", from, "records", len(recs), "learned", len(out))
	return out
}

// askPeersLogged is askPeers, logging a failure: upkeep asks again.
func (a *admission) askPeersLogged(p peer.ID) {
	if err := a.askPeers(a.ctx, p); err != nil {
		a.log.Debug("member addresses", "peer", p, "err", err)
	}
}
