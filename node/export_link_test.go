package node

import (
	"context"

	"lookout/protocol"
)

// PlaintextsForTest returns the decrypted plaintext (chain, body,
// signature) of every message this node holds, in every zone: what its
// member could read from what it received.
func (n *Node) PlaintextsForTest() [][]byte {
	var out [][]byte
	for _, z := range n.liveZones() {
		for _, env := range z.Envelopes() {
			epoch, err := protocol.EnvelopeEpoch(env)
			if err != nil {
				continue
			}
			key, ok := z.AlertKey(epoch)
			if !ok {
				continue
			}
			s, err := protocol.Open(key, env)
			if err != nil {
				continue
			}
			if b, err := s.MarshalBinary(); err == nil {
				out = append(out, b)
			}
		}
	}
	return out
}

// SendLinkFrameForTest seals payload as a frame of type typ on link (ID)
// of zone with the link secret n's member holds, and sends it to the
// link's other end: what any member of the zone can do.
func SendLinkFrameForTest(ctx context.Context, n *Node, zone, link string, typ uint8, payload []byte) error {
	l, err := linkForTest(n, zone, link)
	if err != nil {
		return err
	}
	return n.links.sendFrame(ctx, l.Secret, l.PeerNode, typ, l.ID, payload)
}

// SendPlaceForTest has n, the end of zone's link (ID), sign and send a
// place endorsement of op with digest d: what a hostile organizer at the
// other zone's end can send, whatever its zone holds.
func SendPlaceForTest(ctx context.Context, n *Node, zone, link string, d protocol.Digest, op *protocol.PlaceOp) error {
	l, err := linkForTest(n, zone, link)
	if err != nil {
		return err
	}
	a := &protocol.Alert{Kind: protocol.KindPlace, Status: protocol.StatusActual, Place: op,
		Via: &protocol.Forward{Link: l.ID, Digest: d, Hops: 1, Origin: l.Name, At: n.now()}}
	body, err := protocol.Endorse(n.id, a)
	if err != nil {
		return err
	}
	return n.links.sendFrame(ctx, l.Secret, l.PeerNode, protocol.FrameEndorse, l.ID, protocol.EncodeEndorsement(body, a.Via.Sig))
}

// linkForTest finds the link (ID) of n's zone.
func linkForTest(n *Node, zoneRef, link string) (*protocol.Link, error) {
	n.mu.Lock()
	z, err := n.zoneLocked(zoneRef)
	n.mu.Unlock()
	if err != nil {
		return nil, err
	}
	for _, l := range z.Links() {
		if l.ID.String() == link {
			return l, nil
		}
	}
	return nil, errNoLink
}
