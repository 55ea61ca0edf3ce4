package store

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// Wipe destroys the store in home without needing its secret: it first
// overwrites the key header with random bytes and fsyncs it, which alone
// makes the database unreadable (the data key existed nowhere else), then
// removes every store file and fsyncs the directory. It takes
// milliseconds whatever the store's size. Stores open on home in this
// process are closed first; their methods then return ErrClosed. Other
// files in home are left alone. Wiping a home without a store is not an
// error. If Wipe fails part way, run it again.
func Wipe(home string) error {
	var first error
	keep := func(err error) {
		if err != nil && !errors.Is(err, fs.ErrNotExist) && first == nil {
			first = err
		}
	}
	// Destroy the keys first: the header and any header being replaced.
	keep(scramble(filepath.Join(home, headerTmp)))
	keep(scramble(filepath.Join(home, headerFile)))
	closeRegistered(home)
	for _, name := range storeFiles {
		keep(os.Remove(filepath.Join(home, name)))
	}
	syncDir(home)
	if first != nil {
		return fmt.Errorf("wipe store: %w", first)
	}
	return nil
}

// scramble overwrites a file in place with random bytes (at least a
// header's worth) and fsyncs it.
func scramble(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	n := max(fi.Size(), headerSize)
	if _, err := io.CopyN(f, rand.Reader, n); err != nil {
		return err
	}
	return f.Sync()
}

type fill int

const (
	zeroes fill = iota
	randoms
)

// overwrite overwrites an open file's current contents from offset 0 and
// fsyncs it.
func overwrite(f *os.File, with fill) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	var src io.Reader = zeroReader{}
	if with == randoms {
		src = rand.Reader
	}
	if _, err := io.CopyN(f, src, fi.Size()); err != nil {
		return err
	}
	return f.Sync()
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// shred overwrites a file with zeros, fsyncs it and removes it. A missing
// file is not an error.
func shred(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	err = overwrite(f, zeroes)
	f.Close()
	if rerr := os.Remove(path); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
		return rerr
	}
	return err
}

// syncDir fsyncs a directory so renames and removals in it are durable.
// Best effort: not every platform can.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// writeHeader replaces home's key header atomically (temporary file,
// fsync, rename, directory fsync), then overwrites the replaced header's
// contents with random bytes so the old wrap of the data key does not
// stay in the file system's free space.
func writeHeader(home string, b []byte) error {
	path := filepath.Join(home, headerFile)
	tmp := filepath.Join(home, headerTmp)
	if err := shred(tmp); err != nil {
		return err
	}
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		shred(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		shred(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		shred(tmp)
		return err
	}
	old, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err == nil {
		defer old.Close()
	}
	if err := os.Rename(tmp, path); err != nil {
		shred(tmp)
		return err
	}
	syncDir(home)
	if old != nil {
		_ = overwrite(old, randoms) // best effort; the new header is in place
	}
	return nil
}

// registry tracks the stores open in this process by home, so that Wipe
// can close them.
var registry = struct {
	sync.Mutex
	m map[string]map[*Store]struct{}
}{m: make(map[string]map[*Store]struct{})}

func homeKey(home string) string {
	if abs, err := filepath.Abs(home); err == nil {
		home = abs
	}
	if real, err := filepath.EvalSymlinks(home); err == nil {
		home = real
	}
	return home
}

func register(s *Store) {
	k := homeKey(s.home)
	s.regKey = k
	registry.Lock()
	defer registry.Unlock()
	if registry.m[k] == nil {
		registry.m[k] = make(map[*Store]struct{})
	}
	registry.m[k][s] = struct{}{}
}

func unregister(s *Store) {
	k := s.regKey
	registry.Lock()
	defer registry.Unlock()
	delete(registry.m[k], s)
	if len(registry.m[k]) == 0 {
		delete(registry.m, k)
	}
}

func closeRegistered(home string) {
	k := homeKey(home)
	registry.Lock()
	open := registry.m[k]
	delete(registry.m, k)
	registry.Unlock()
	for s := range open {
		s.mu.Lock()
		s.closeLocked()
		s.mu.Unlock()
	}
}

// Shred overwrites a file with zeros, fsyncs it and removes it; a missing
// file is not an error. The node uses it on plain files left by versions
// before the store.
func Shred(path string) error { return shred(path) }
