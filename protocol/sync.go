package protocol

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
)

// Catch-up sync (/sync/4.0.0, docs/protocol.md "Catch-up sync"): the
// frames two members' nodes exchange on one stream.
//
//	hello:     u8 version | 16-byte nonce | u8 n | n × (u32 epoch | 16-byte token | 16-byte digest)
//	offer:     u32 m | m × 16-byte message ID
//	want:      u32 k | k × 16-byte message ID        (k ≤ m, each one offered)
//	envelopes: u32 k | k × (u32 len | envelope)
const (
	SyncVersion     = 2
	SyncNonceSize   = 16
	SyncTokenSize   = 16
	SyncDigestSize  = 16
	SyncZoneSize    = 4 + SyncTokenSize + SyncDigestSize // one hello entry
	MaxSyncZones    = 64                                 // hello entries
	MaxSyncMessages = 4096                               // IDs in an offer
	MaxSyncBytes    = 16 << 20                           // envelope bytes in one answer
	syncCountSize   = 4
	syncTokenLabel  = "lookout sync token v1"
	syncDigestLabel = "lookout sync digest v2"
)

// SyncZone is one hello entry: a zone the initiator is in, proved with a
// token and summarised by a digest.
type SyncZone struct {
	Epoch  uint32
	Token  [SyncTokenSize]byte
	Digest [SyncDigestSize]byte
}

// SyncHello opens a sync exchange.
type SyncHello struct {
	Nonce [SyncNonceSize]byte
	Zones []SyncZone
}

// SyncToken proves membership of a zone: HMAC-SHA256(sync key, label |
// nonce | initiator peer ID | responder peer ID)[:16]. Peer IDs are their
// raw bytes.
func SyncToken(key [32]byte, nonce []byte, from, to string) [SyncTokenSize]byte {
	m := hmac.New(sha256.New, key[:])
	m.Write([]byte(syncTokenLabel))
	m.Write(nonce)
	m.Write([]byte(from))
	m.Write([]byte(to))
	return [SyncTokenSize]byte(m.Sum(nil))
}

// SyncDigest is the keyed digest of a set of message IDs, in any order:
// HMAC-SHA256(sync key, label | nonce | the sorted IDs)[:16].
func SyncDigest(key [32]byte, nonce []byte, ids []AlertID) [SyncDigestSize]byte {
	ids = slices.Clone(ids)
	slices.SortFunc(ids, func(a, b AlertID) int { return bytes.Compare(a[:], b[:]) })
	m := hmac.New(sha256.New, key[:])
	m.Write([]byte(syncDigestLabel))
	m.Write(nonce)
	for _, id := range ids {
		m.Write(id[:])
	}
	return [SyncDigestSize]byte(m.Sum(nil))
}

// Bytes encodes the hello; at most MaxSyncZones entries are sent.
func (h SyncHello) Bytes() []byte {
	zones := h.Zones[:min(len(h.Zones), MaxSyncZones)]
	b := make([]byte, 0, 1+SyncNonceSize+1+len(zones)*SyncZoneSize)
	b = append(b, SyncVersion)
	b = append(b, h.Nonce[:]...)
	b = append(b, uint8(len(zones)))
	for _, z := range zones {
		b = binary.BigEndian.AppendUint32(b, z.Epoch)
		b = append(b, z.Token[:]...)
		b = append(b, z.Digest[:]...)
	}
	return b
}

// ReadSyncHello reads a hello from r.
func ReadSyncHello(r io.Reader) (SyncHello, error) {
	var h SyncHello
	head := make([]byte, 1+SyncNonceSize+1)
	if _, err := io.ReadFull(r, head); err != nil {
		return h, fmt.Errorf("sync hello: %w", truncated(err))
	}
	if head[0] != SyncVersion {
		return h, fmt.Errorf("sync hello: %w %d", ErrVersion, head[0])
	}
	copy(h.Nonce[:], head[1:])
	count := int(head[1+SyncNonceSize])
	if count > MaxSyncZones {
		return h, fmt.Errorf("sync hello: %d zones, more than %d: %w", count, MaxSyncZones, ErrTooLarge)
	}
	h.Zones = make([]SyncZone, count)
	b := make([]byte, SyncZoneSize)
	for i := range h.Zones {
		if _, err := io.ReadFull(r, b); err != nil {
			return h, fmt.Errorf("sync hello: zone %d: %w", i, truncated(err))
		}
		h.Zones[i].Epoch = binary.BigEndian.Uint32(b)
		copy(h.Zones[i].Token[:], b[4:])
		copy(h.Zones[i].Digest[:], b[4+SyncTokenSize:])
	}
	return h, nil
}

// AppendSyncIDs appends an offer or a want: a count, then the IDs.
func AppendSyncIDs(b []byte, ids []AlertID) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(ids)))
	for _, id := range ids {
		b = append(b, id[:]...)
	}
	return b
}

// ReadSyncIDs reads an offer or a want of at most limit IDs.
func ReadSyncIDs(r io.Reader, limit int) ([]AlertID, error) {
	var b4 [syncCountSize]byte
	if _, err := io.ReadFull(r, b4[:]); err != nil {
		return nil, fmt.Errorf("sync message IDs: %w", truncated(err))
	}
	count := binary.BigEndian.Uint32(b4[:])
	if count > uint32(max(limit, 0)) {
		return nil, fmt.Errorf("sync message IDs: %d, more than the %d allowed: %w", count, limit, ErrTooLarge)
	}
	ids := make([]AlertID, count)
	for i := range ids {
		if _, err := io.ReadFull(r, ids[i][:]); err != nil {
			return nil, fmt.Errorf("sync message IDs: %w", truncated(err))
		}
	}
	return ids, nil
}

// AppendSyncEnvelopes appends an answer: a count, then each envelope
// with its length.
func AppendSyncEnvelopes(b []byte, envs [][]byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(envs)))
	for _, env := range envs {
		b = binary.BigEndian.AppendUint32(b, uint32(len(env)))
		b = append(b, env...)
	}
	return b
}

// WriteSyncEnvelopes writes what AppendSyncEnvelopes appends, without
// holding the whole answer in memory.
func WriteSyncEnvelopes(w io.Writer, envs [][]byte) error {
	var b4 [syncCountSize]byte
	binary.BigEndian.PutUint32(b4[:], uint32(len(envs)))
	if _, err := w.Write(b4[:]); err != nil {
		return err
	}
	for _, env := range envs {
		binary.BigEndian.PutUint32(b4[:], uint32(len(env)))
		if _, err := w.Write(b4[:]); err != nil {
			return err
		}
		if _, err := w.Write(env); err != nil {
			return err
		}
	}
	return nil
}

// ReadSyncEnvelopes reads an answer of at most limit envelopes, each at
// most MaxEnvelopeSize and MaxSyncBytes in all.
func ReadSyncEnvelopes(r io.Reader, limit int) ([][]byte, error) {
	var b4 [syncCountSize]byte
	if _, err := io.ReadFull(r, b4[:]); err != nil {
		return nil, fmt.Errorf("sync envelopes: %w", truncated(err))
	}
	count := binary.BigEndian.Uint32(b4[:])
	if count > uint32(max(limit, 0)) {
		return nil, fmt.Errorf("sync envelopes: %d, more than the %d asked for: %w", count, limit, ErrTooLarge)
	}
	total := 0
	envs := make([][]byte, 0, count)
	for range count {
		if _, err := io.ReadFull(r, b4[:]); err != nil {
			return nil, fmt.Errorf("sync envelopes: %w", truncated(err))
		}
		l := int(binary.BigEndian.Uint32(b4[:]))
		total += l
		if l > MaxEnvelopeSize || total > MaxSyncBytes {
			return nil, fmt.Errorf("sync envelopes: %w", ErrTooLarge)
		}
		env := make([]byte, l)
		if _, err := io.ReadFull(r, env); err != nil {
			return nil, fmt.Errorf("sync envelopes: %w", truncated(err))
		}
		envs = append(envs, env)
	}
	return envs, nil
}

// truncated maps a short read to ErrTruncated, keeping other I/O errors.
func truncated(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return ErrTruncated
	}
	return err
}
