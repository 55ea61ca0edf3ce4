package store

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"time"

	"lookout/crypto"
)

// A record's value on disk is a 24-byte random nonce followed by
// XChaCha20-Poly1305(record key, plaintext, AAD) where
//
//	AAD       = "lookout store record v1\x00" | on-disk bucket | on-disk key
//	plaintext = version (1) | expires, unix ms, big-endian int64 (0: never)
//	          | u8 len | bucket | u16 len | key | u32 len | value
//	          | zero padding to a multiple of recordPad bytes
//
// The on-disk bucket and key are HMACs of the logical ones, so binding
// them binds the logical names: a value moved to another key or bucket
// fails to open. Padding hides values' exact lengths.
const (
	recordVersion = 1
	recordPad     = 64
	recordAADTag  = "lookout store record v1\x00"
	recordFixed   = 1 + 8 + 1 + 2 + 4
)

type record struct {
	bucket, key string
	value       []byte
	expires     time.Time // zero: never
}

func (r record) expired(now time.Time) bool {
	return !r.expires.IsZero() && !now.Before(r.expires)
}

func recordAAD(diskBucket, diskKey []byte) []byte {
	aad := make([]byte, 0, len(recordAADTag)+len(diskBucket)+len(diskKey))
	return append(append(append(aad, recordAADTag...), diskBucket...), diskKey...)
}

func sealRecord(a *crypto.AEADKey, diskBucket, diskKey []byte, r record) ([]byte, error) {
	n := recordFixed + len(r.bucket) + len(r.key) + len(r.value)
	n += (recordPad - n%recordPad) % recordPad
	pt := make([]byte, 0, n)
	pt = append(pt, recordVersion)
	var exp int64
	if !r.expires.IsZero() {
		exp = r.expires.UnixMilli()
		if exp == 0 {
			exp = 1 // the epoch itself: still "expires", not "never"
		}
	}
	pt = binary.BigEndian.AppendUint64(pt, uint64(exp))
	pt = append(pt, byte(len(r.bucket)))
	pt = append(pt, r.bucket...)
	pt = binary.BigEndian.AppendUint16(pt, uint16(len(r.key)))
	pt = append(pt, r.key...)
	pt = binary.BigEndian.AppendUint32(pt, uint32(len(r.value)))
	pt = append(pt, r.value...)
	pt = pt[:n] // zero padding (make zeroed the capacity)

	out := make([]byte, crypto.NonceSize, crypto.NonceSize+n+crypto.Overhead)
	if _, err := rand.Read(out); err != nil {
		return nil, fmt.Errorf("random: %w", err)
	}
	out, err := a.Seal(out, out[:crypto.NonceSize], pt, recordAAD(diskBucket, diskKey))
	clear(pt)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// openRecord authenticates and decodes a sealed record read from disk. It
// never panics on malformed input; errors wrap ErrCorrupt or
// ErrNewerVersion.
func openRecord(a *crypto.AEADKey, diskBucket, diskKey, sealed []byte) (record, error) {
	if len(sealed) < crypto.NonceSize+crypto.Overhead {
		return record{}, fmt.Errorf("%w: a record is truncated", ErrCorrupt)
	}
	pt, err := a.Open(nil, sealed[:crypto.NonceSize], sealed[crypto.NonceSize:], recordAAD(diskBucket, diskKey))
	if err != nil {
		return record{}, fmt.Errorf("%w: a record does not authenticate", ErrCorrupt)
	}
	bad := fmt.Errorf("%w: a record is malformed", ErrCorrupt)
	if len(pt) < recordFixed {
		return record{}, bad
	}
	if pt[0] != recordVersion {
		if pt[0] > recordVersion {
			return record{}, fmt.Errorf("%w: record version %d", ErrNewerVersion, pt[0])
		}
		return record{}, bad
	}
	var r record
	if exp := int64(binary.BigEndian.Uint64(pt[1:9])); exp != 0 {
		r.expires = time.UnixMilli(exp)
	}
	p := pt[9:]
	take := func(n int) ([]byte, bool) {
		if n > len(p) {
			return nil, false
		}
		b := p[:n]
		p = p[n:]
		return b, true
	}
	lb, ok := take(1)
	if !ok {
		return record{}, bad
	}
	b, ok := take(int(lb[0]))
	if !ok {
		return record{}, bad
	}
	r.bucket = string(b)
	lk, ok := take(2)
	if !ok {
		return record{}, bad
	}
	k, ok := take(int(binary.BigEndian.Uint16(lk)))
	if !ok {
		return record{}, bad
	}
	r.key = string(k)
	lv, ok := take(4)
	if !ok {
		return record{}, bad
	}
	nv := binary.BigEndian.Uint32(lv)
	if uint64(nv) > uint64(len(p)) {
		return record{}, bad
	}
	v, _ := take(int(nv))
	if len(p) >= recordPad {
		return record{}, bad // more padding than sealRecord writes
	}
	for _, c := range p {
		if c != 0 {
			return record{}, bad
		}
	}
	r.value = v
	return r, nil
}
