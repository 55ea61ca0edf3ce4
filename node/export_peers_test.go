package node

import (
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/record"
)

// AskPeersForTest runs the member-addresses exchange with p.
func (n *Node) AskPeersForTest(p peer.ID) error { return n.admission.askPeers(n.ctx, p) }

// ConsumePeerRecordsForTest checks signed peer records as if member from
// had sent them, and returns the peers learned.
func (n *Node) ConsumePeerRecordsForTest(recs [][]byte, from peer.ID) []peer.AddrInfo {
	return n.admission.consumePeerRecords(recs, from)
}

// PeersProtocol is the member-addresses stream protocol.
const PeersProtocol = peersProtocol

// PutPeerRecordForTest keeps env as p's signed record, as identify would.
func (n *Node) PutPeerRecordForTest(p peer.ID, env *record.Envelope) { n.admission.records.Put(p, env) }
