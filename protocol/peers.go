package protocol

import (
	"encoding/binary"
	"fmt"
	"io"
)

// Member addresses (/peers/1.0.0, docs/protocol.md "Member addresses"):
// the one frame a member's node answers with, listing the other members
// it is connected to in the zones the asking peer proved.
//
//	records: u8 version | u8 n | n × (u16 len | signed peer record)
//
// A record is opaque here: a libp2p signed envelope holding a peer record
// (peer ID, sequence number, addresses), checked by the node.
const (
	PeersVersion      = 1
	MaxPeerRecords    = 32   // records in one answer
	MaxPeerRecordSize = 2048 // bytes of one signed record
)

// AppendPeerRecords appends a records frame. It keeps at most
// MaxPeerRecords records and leaves out empty ones and ones over
// MaxPeerRecordSize.
func AppendPeerRecords(b []byte, recs [][]byte) []byte {
	var keep [][]byte
	for _, r := range recs {
		if len(r) > 0 && len(r) <= MaxPeerRecordSize && len(keep) < MaxPeerRecords {
			keep = append(keep, r)
		}
	}
	b = append(b, PeersVersion, uint8(len(keep)))
	for _, r := range keep {
		b = binary.BigEndian.AppendUint16(b, uint16(len(r)))
		b = append(b, r...)
	}
	return b
}

// ReadPeerRecords reads a records frame.
func ReadPeerRecords(r io.Reader) ([][]byte, error) {
	var head [2]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return nil, fmt.Errorf("peer records: %w", truncated(err))
	}
	if head[0] != PeersVersion {
		return nil, fmt.Errorf("peer records: %w %d", ErrVersion, head[0])
	}
	count := int(head[1])
	if count > MaxPeerRecords {
		return nil, fmt.Errorf("peer records: %d, more than %d: %w", count, MaxPeerRecords, ErrTooLarge)
	}
	recs := make([][]byte, 0, count)
	for i := range count {
		var l2 [2]byte
		if _, err := io.ReadFull(r, l2[:]); err != nil {
			return nil, fmt.Errorf("peer records: record %d: %w", i, truncated(err))
		}
		l := int(binary.BigEndian.Uint16(l2[:]))
		if l == 0 || l > MaxPeerRecordSize {
			return nil, fmt.Errorf("peer records: record %d of %d bytes (1 to %d allowed): %w", i, l, MaxPeerRecordSize, ErrTooLarge)
		}
		rec := make([]byte, l)
		if _, err := io.ReadFull(r, rec); err != nil {
			return nil, fmt.Errorf("peer records: record %d: %w", i, truncated(err))
		}
		recs = append(recs, rec)
	}
	return recs, nil
}
