package node

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"lookout/protocol"
)

func alertID(b byte) protocol.AlertID {
	var id protocol.AlertID
	for i := range id {
		id[i] = b ^ byte(i)
	}
	return id
}

func openCache(t *testing.T, path string, now time.Time) *replayCache {
	t.Helper()
	c, err := openReplayCache(path, now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func TestReplayCacheRepeat(t *testing.T) {
	now := time.Date(2031, 3, 14, 9, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), replayFile)
	c := openCache(t, path, now)
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("replay file: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
	if !c.Add(alertID(1), now.Add(time.Hour), now) {
		t.Fatal("first Add reported a repeat")
	}
	if c.Add(alertID(1), now.Add(time.Hour), now) {
		t.Error("second Add of the same ID reported it new")
	}
	if c.Add(alertID(1), now.Add(2*time.Hour), now) {
		t.Error("same ID with another expiry reported new")
	}
	if !c.Add(alertID(2), now.Add(time.Hour), now) {
		t.Error("a different ID reported a repeat")
	}
	if !c.Has(alertID(1)) || !c.Has(alertID(2)) || c.Has(alertID(3)) {
		t.Error("Has disagrees with Add")
	}
	if got := fileSize(t, path); got != 2*replayRecordSize {
		t.Errorf("file holds %d bytes, want 2 records", got)
	}
}

// TestReplayCacheReopen: what a reopened cache keeps, given records
// written by a previous run (one per entry) and the time it is reopened.
func TestReplayCacheReopen(t *testing.T) {
	now := time.Date(2031, 3, 14, 9, 0, 0, 0, time.UTC)
	type entry struct {
		b       byte
		expires time.Duration // from now
	}
	tests := []struct {
		name    string
		entries []entry
		tail    []byte        // bytes after the last whole record (a torn write)
		reopen  time.Duration // from now
		kept    []byte
		dropped []byte
	}{
		{"entries survive", []entry{{1, time.Hour}, {2, 2 * time.Hour}, {3, 24 * time.Hour}}, nil, 0, []byte{1, 2, 3}, nil},
		{"expired entries dropped", []entry{{1, time.Hour}, {2, 3 * time.Hour}, {3, 2 * time.Hour}}, nil, 2 * time.Hour, []byte{2}, []byte{1, 3}},
		{"all expired", []entry{{1, time.Hour}}, nil, 5 * time.Hour, nil, []byte{1}},
		{"torn last record ignored", []entry{{1, time.Hour}, {2, time.Hour}}, []byte{9, 9, 9, 9, 9, 9, 9, 9, 9, 9}, 0, []byte{1, 2}, nil},
		{"torn by one byte", []entry{{1, time.Hour}}, make([]byte, replayRecordSize-1), 0, []byte{1}, nil},
		{"only a torn record", nil, []byte{7, 7, 7}, 0, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), replayFile)
			c, err := openReplayCache(path, now)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range tc.entries {
				if !c.Add(alertID(e.b), now.Add(e.expires), now) {
					t.Fatalf("Add %d reported a repeat", e.b)
				}
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			if len(tc.tail) > 0 {
				f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := f.Write(tc.tail); err != nil {
					t.Fatal(err)
				}
				f.Close()
			}

			at := now.Add(tc.reopen)
			c = openCache(t, path, at)
			for _, b := range tc.kept {
				if !c.Has(alertID(b)) {
					t.Errorf("entry %d lost on reopen", b)
				}
				if c.Add(alertID(b), at.Add(time.Hour), at) {
					t.Errorf("entry %d accepted again after reopen", b)
				}
			}
			for _, b := range tc.dropped {
				if c.Has(alertID(b)) {
					t.Errorf("expired entry %d kept on reopen", b)
				}
			}
			// Compacted: only the kept records, whole.
			if got, want := fileSize(t, path), int64(len(tc.kept)*replayRecordSize); got != want {
				t.Errorf("file holds %d bytes after reopen, want %d", got, want)
			}
			// A record added now lands on a record boundary and is read back.
			if !c.Add(alertID(0xee), at.Add(time.Hour), at) {
				t.Fatal("new entry reported a repeat")
			}
			c.Close()
			c = openCache(t, path, at)
			if !c.Has(alertID(0xee)) {
				t.Error("entry added after reopening is lost on the next reopen")
			}
			for _, b := range tc.kept {
				if !c.Has(alertID(b)) {
					t.Errorf("entry %d lost on the second reopen", b)
				}
			}
		})
	}
}

func TestReplayCacheExpiryBoundary(t *testing.T) {
	now := time.Date(2031, 3, 14, 9, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), replayFile)
	c := openCache(t, path, now)
	c.Add(alertID(1), now.Add(time.Hour), now)
	c.Add(alertID(2), now.Add(time.Hour+time.Millisecond), now)
	c.Close()
	c = openCache(t, path, now.Add(time.Hour))
	if c.Has(alertID(1)) {
		t.Error("entry expiring exactly at reopen time kept")
	}
	if !c.Has(alertID(2)) {
		t.Error("entry expiring 1ms after reopen time dropped")
	}
}
