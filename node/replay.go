package node

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"

	"lookout/protocol"
)

// replayCache remembers every accepted alert ID until the alert expires, so
// a message replayed after gossipsub's seen-cache forgot it (120 s), or
// after a restart, is dropped. It is an append-only file of fixed records:
//
//	16-byte alert ID | i64 expires (unix ms)
//
// compacted on open. A torn last record from a crash is ignored.
type replayCache struct {
	mu   sync.Mutex
	seen map[protocol.AlertID]time.Time
	f    *os.File
}

const replayRecordSize = protocol.AlertIDSize + 8

// maxReplayEntries bounds memory; past it, expired entries are pruned and,
// if still full, new alerts are refused until some expire.
const maxReplayEntries = 1 << 20

func openReplayCache(path string, now time.Time) (*replayCache, error) {
	c := &replayCache{seen: make(map[protocol.AlertID]time.Time)}
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read replay cache: %w", err)
	}
	for len(b) >= replayRecordSize {
		var id protocol.AlertID
		copy(id[:], b)
		exp := time.UnixMilli(int64(binary.BigEndian.Uint64(b[protocol.AlertIDSize:])))
		if exp.After(now) {
			c.seen[id] = exp
		}
		b = b[replayRecordSize:]
	}
	// Rewrite without expired or torn records, then append from there.
	out := make([]byte, 0, len(c.seen)*replayRecordSize)
	for id, exp := range c.seen {
		out = appendReplayRecord(out, id, exp)
	}
	if err := writeFileAtomic(path, out); err != nil {
		return nil, fmt.Errorf("compact replay cache: %w", err)
	}
	c.f, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open replay cache: %w", err)
	}
	return c, nil
}

func appendReplayRecord(b []byte, id protocol.AlertID, exp time.Time) []byte {
	b = append(b, id[:]...)
	return binary.BigEndian.AppendUint64(b, uint64(exp.UnixMilli()))
}

// Add records id and reports whether it was new.
func (c *replayCache) Add(id protocol.AlertID, expires, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.seen[id]; ok {
		return false
	}
	if len(c.seen) >= maxReplayEntries {
		for k, exp := range c.seen {
			if !exp.After(now) {
				delete(c.seen, k)
			}
		}
		if len(c.seen) >= maxReplayEntries {
			return false
		}
	}
	c.seen[id] = expires
	if c.f != nil {
		// A failed write only weakens replay protection across a restart.
		c.f.Write(appendReplayRecord(nil, id, expires))
	}
	return true
}

// Has reports whether id was accepted before.
func (c *replayCache) Has(id protocol.AlertID) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.seen[id]
	return ok
}

func (c *replayCache) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.f == nil {
		return nil
	}
	err := c.f.Close()
	c.f = nil
	return err
}
