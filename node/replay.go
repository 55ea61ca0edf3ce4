package node

import (
	"sync"
	"time"

	"lookout/protocol"
)

// replayCache remembers every accepted message ID until the message
// expires, so a message replayed after gossipsub's seen-cache forgot it
// (120 s) is dropped. It lives in memory; after a restart it is rebuilt
// from the messages in the store (loadMessages), which hold every
// accepted message until it expires.
type replayCache struct {
	mu   sync.Mutex
	seen map[protocol.AlertID]time.Time
}

// maxReplayEntries bounds memory; past it, expired entries are pruned and,
// if still full, new alerts are refused until some expire.
const maxReplayEntries = 1 << 20

func newReplayCache() *replayCache {
	return &replayCache{seen: make(map[protocol.AlertID]time.Time)}
}

// Add records id and reports whether it was new.
func (c *replayCache) Add(id protocol.AlertID, expires, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.seen[id]; ok {
		return false
	}
	if len(c.seen) >= maxReplayEntries {
		c.pruneLocked(now)
		if len(c.seen) >= maxReplayEntries {
			return false
		}
	}
	c.seen[id] = expires
	return true
}

// Forget removes id, for a message accepted but then not stored.
func (c *replayCache) Forget(id protocol.AlertID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.seen, id)
}

// Has reports whether id was accepted before.
func (c *replayCache) Has(id protocol.AlertID) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.seen[id]
	return ok
}

// Prune forgets expired IDs: the validator refuses expired messages.
func (c *replayCache) Prune(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pruneLocked(now)
}

func (c *replayCache) pruneLocked(now time.Time) {
	for k, exp := range c.seen {
		if !exp.After(now) {
			delete(c.seen, k)
		}
	}
}
