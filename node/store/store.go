// Package store is Lookout's encrypted on-disk store: identity, zones,
// epochs, alerts, the replay cache and settings, kept in a home directory
// so that a seized laptop gives nothing away.
//
// A store is two files: a fixed-size key header holding the random data
// key wrapped under a passphrase (Argon2id) or a key file (HKDF), and a
// bbolt database whose every value is sealed with XChaCha20-Poly1305 and
// whose every bucket name and key is an HMAC. See STORE.md for the layout
// and what a seized copy reveals.
//
// Records are addressed by a bucket and a key, both strings chosen by the
// caller. On disk only HMAC-SHA256(index key, bucket|key) appears, so
// ForEach yields values only: a caller that needs a record's key while
// iterating stores it inside the value too (for example a zone record
// carries its zone ID). The logical bucket and key are also sealed inside
// each record for the store's own use (re-keying in a later version).
//
// A Store is safe for concurrent use.
package store

import (
	"bytes"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"lookout/crypto"
)

// Files of a store in its home directory.
const (
	headerFile  = "store.keys"       // key header (header.go)
	headerTmp   = "store.keys.tmp"   // a header being replaced
	dbFile      = "store.db"         // bbolt database of sealed records
	compactFile = "store.db.compact" // a database being compacted
)

// storeFiles lists every file a store may leave in its home, the key
// header last.
var storeFiles = []string{cacheTagFile, dbFile, compactFile, headerTmp, headerFile}

// Errors; returned errors wrap them, so test with errors.Is. No error
// carries a passphrase, key material, record contents, bucket or key.
var (
	ErrNoStore         = errors.New("no store in this home")
	ErrExists          = errors.New("a store already exists in this home")
	ErrWrongPassphrase = errors.New("wrong passphrase or key file")
	ErrNewerVersion    = errors.New("the store was written by a newer version of Lookout; upgrade to open it")
	ErrNotFound        = errors.New("record not found")
	ErrCorrupt         = errors.New("store is damaged")
	ErrClosed          = errors.New("store is closed")
	ErrBadSecret       = errors.New("unusable passphrase or key file")
	ErrInUse           = errors.New("store is in use by another Lookout process")
	ErrInvalid         = errors.New("invalid bucket, key or value")
)

// Options tune Create, Open and ChangeSecret.
type Options struct {
	// KDF are the Argon2id parameters for a new store (Create only; Open
	// and ChangeSecret use those recorded in the store). Zero means
	// DefaultKDF. Tests use tiny parameters to stay fast.
	KDF KDFParams
	// FailureDelay is slept, in this process, after a wrong passphrase or
	// key file before the error is returned. Zero means
	// DefaultFailureDelay; negative means none (tests).
	FailureDelay time.Duration
}

// DefaultFailureDelay is the pause after a failed unlock. It slows
// guessing through the user interface only: someone with a copy of the
// files is slowed by Argon2id alone.
const DefaultFailureDelay = time.Second

func (o Options) kdf() KDFParams {
	if o.KDF == (KDFParams{}) {
		return DefaultKDF
	}
	return o.KDF
}

func (o Options) failed() {
	switch {
	case o.FailureDelay < 0:
	case o.FailureDelay == 0:
		time.Sleep(DefaultFailureDelay)
	default:
		time.Sleep(o.FailureDelay)
	}
}

// Secret unlocks a store: exactly one of a passphrase or the path of a
// key file (KeyFileSize random bytes, see CreateKeyFile). A passphrase is
// used byte for byte; normalise it (e.g. Unicode NFC) before if it may be
// typed on different keyboards. The store keeps no copy of either.
type Secret struct {
	Passphrase []byte
	KeyFile    string
}

func (s Secret) validate() error {
	if (len(s.Passphrase) > 0) == (s.KeyFile != "") {
		return fmt.Errorf("%w: give exactly one of a passphrase or a key file", ErrBadSecret)
	}
	return nil
}

// Store is an open, unlocked store.
type Store struct {
	home   string
	regKey string // key in the registry of open stores (wipe.go)

	mu     sync.RWMutex // guards db and keys; held exclusively to swap db
	db     *bbolt.DB    // nil once closed
	dbInfo fs.FileInfo  // of the file db was opened from
	aead   *crypto.AEADKey
	idx    []byte // HMAC key for on-disk bucket names and keys

	// scrub is set when a Delete or an overwrite left dead ciphertext in
	// free pages; DeleteExpired then compacts even if nothing expired.
	scrub atomic.Bool
}

// Limits on records.
const (
	MaxBucketLen = 255
	MaxKeyLen    = 1024
	MaxValueLen  = 16 << 20
)

// schemaVersion is the version of the records' layout, sealed in the meta
// bucket. A store with a higher one is refused with ErrNewerVersion.
const schemaVersion = 1

const (
	metaBucket = "" // reserved: callers' bucket names are not empty
	schemaKey  = "schema"
)

// lockTimeout bounds the wait for another process's lock on the database.
var lockTimeout = time.Second

// Exists reports whether home holds a store (its key header), whether or
// not it can be unlocked.
func Exists(home string) bool {
	_, err := os.Lstat(filepath.Join(home, headerFile))
	return err == nil
}

// Create makes a new store in home (created 0700 if missing) unlocked by
// secret and returns it open. If duress is not nil, entering it at Open
// later wipes the store and opens an empty one instead (see Open). Create
// refuses with ErrExists if home already holds a store.
func Create(home string, secret Secret, duress *Secret, opt Options) (*Store, error) {
	if err := secret.validate(); err != nil {
		return nil, err
	}
	if duress != nil {
		if err := duress.validate(); err != nil {
			return nil, fmt.Errorf("duress secret: %w", err)
		}
	}
	kdf := opt.kdf()
	if !kdf.valid() {
		return nil, fmt.Errorf("create store: KDF parameters out of range")
	}
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, fmt.Errorf("create store: %w", err)
	}
	if Exists(home) {
		return nil, ErrExists
	}
	var salt [saltSize]byte
	if _, err := rand.Read(salt[:]); err != nil {
		return nil, fmt.Errorf("create store: random: %w", err)
	}
	kek, err := deriveKEK(secret, kdf, salt[:])
	if err != nil {
		return nil, err
	}
	defer clear(kek)
	var dkek []byte
	if duress != nil {
		if dkek, err = deriveKEK(*duress, kdf, salt[:]); err != nil {
			return nil, fmt.Errorf("duress secret: %w", err)
		}
		defer clear(dkek)
		if sameKey(kek, dkek) {
			return nil, fmt.Errorf("%w: the duress secret must differ from the secret", ErrBadSecret)
		}
	}
	return create(home, kdf, salt, kek, dkek)
}

// create writes a new store: database first, then the key header, so a
// crash in between leaves no header (no store) and only a database no
// one can read, which the next create removes.
func create(home string, kdf KDFParams, salt [saltSize]byte, kek, duressKEK []byte) (*Store, error) {
	if Exists(home) {
		return nil, ErrExists
	}
	for _, name := range []string{dbFile, compactFile, headerTmp} {
		if err := shred(filepath.Join(home, name)); err != nil {
			return nil, fmt.Errorf("create store: remove stale file: %w", err)
		}
	}
	dataKey := make([]byte, keySize)
	defer clear(dataKey)
	var pick [1]byte
	if _, err := rand.Read(dataKey); err != nil {
		return nil, fmt.Errorf("create store: random: %w", err)
	}
	if _, err := rand.Read(pick[:]); err != nil {
		return nil, fmt.Errorf("create store: random: %w", err)
	}
	h := &header{kdf: kdf, salt: salt}
	real := int(pick[0] & 1) // the real slot's position is random
	if err := h.wrap(real, kek, slotReal, dataKey); err != nil {
		return nil, fmt.Errorf("create store: %w", err)
	}
	if duressKEK != nil {
		filler := make([]byte, keySize)
		if _, err := rand.Read(filler); err != nil {
			return nil, fmt.Errorf("create store: random: %w", err)
		}
		if err := h.wrap(1-real, duressKEK, slotDuress, filler); err != nil {
			return nil, fmt.Errorf("create store: %w", err)
		}
	} else if err := h.randomSlot(1 - real); err != nil {
		return nil, fmt.Errorf("create store: %w", err)
	}

	dbPath := filepath.Join(home, dbFile)
	db, err := boltOpen(dbPath)
	if err != nil {
		return nil, fmt.Errorf("create store: %w", err)
	}
	s, err := newStore(home, db, dataKey)
	if err == nil {
		s.setDB(db, dbPath)
		var v [4]byte
		binary.BigEndian.PutUint32(v[:], schemaVersion)
		err = s.put(metaBucket, schemaKey, v[:], time.Time{})
	}
	if err == nil {
		err = excludeFromBackups(home)
	}
	if err == nil {
		err = writeHeader(home, h.marshal())
	}
	if err != nil {
		db.Close()
		shred(dbPath)
		return nil, fmt.Errorf("create store: %w", err)
	}
	register(s)
	return s, nil
}

// Open unlocks the store in home.
//
// Errors: ErrNoStore if there is none; ErrWrongPassphrase (after
// opt.FailureDelay, with nothing on disk changed) if secret unlocks
// neither slot; ErrNewerVersion if a newer Lookout wrote it; ErrInUse if
// another process has it open; ErrBadSecret for a missing or malformed
// key file.
//
// Duress: if secret is the store's duress secret, Open wipes the store
// (as Wipe) and returns a new, empty store unlocked by that same secret,
// with no error. From then on the duress secret is the store's only
// secret: the former real secret gets ErrWrongPassphrase, exactly as any
// wrong one, and the former data is gone.
func Open(home string, secret Secret, opt Options) (*Store, error) {
	if err := secret.validate(); err != nil {
		return nil, err
	}
	h, err := readHeader(filepath.Join(home, headerFile))
	if err != nil {
		return nil, err
	}
	kek, err := deriveKEK(secret, h.kdf, h.salt[:])
	if err != nil {
		return nil, err
	}
	defer clear(kek)
	_, kind, key, ok := h.unwrap(kek)
	if !ok {
		opt.failed()
		return nil, ErrWrongPassphrase
	}
	defer clear(key)
	if kind == slotDuress {
		return duressReset(home, h, kek)
	}
	return openDB(home, key)
}

// duressReset wipes home and creates an empty store there unlocked by
// kek, with the old salt and KDF parameters, so that it looks like any
// store and needs no second key derivation. The decoy lives in a new
// directory put in home's place, so the home's inode, birth and change
// times are those of a fresh install, not of the real profile.
func duressReset(home string, h *header, kek []byte) (*Store, error) {
	if err := Wipe(home); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	// Best effort: where the parent directory cannot be written (a home
	// under a root-owned directory), the decoy is made in the old one
	// rather than failing, which would reveal the duress unlock.
	_ = replaceDir(home)
	s, err := create(home, h.kdf, h.salt, kek, nil)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	return s, nil
}

// replaceDir is freshDir; tests make it fail.
var replaceDir = freshDir

// freshDir replaces the directory dir by a new, empty one with the same
// mode, made beside it and swapped in (atomically where the platform can).
// Entries other than the store's files, already wiped, are moved into the
// new directory as they are; the old directory is removed.
func freshDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("replace home: %w", err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+"-")
	if err != nil {
		return fmt.Errorf("replace home: %w", err)
	}
	if err := os.Chmod(tmp, fi.Mode().Perm()); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("replace home: %w", err)
	}
	if err := swapDirs(tmp, dir); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("replace home: %w", err)
	}
	// tmp now names the old directory.
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return fmt.Errorf("replace home: %w", err)
	}
	for _, e := range entries {
		if err := os.Rename(filepath.Join(tmp, e.Name()), filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("replace home: move %s: %w", e.Name(), err)
		}
	}
	if err := os.Remove(tmp); err != nil {
		return fmt.Errorf("replace home: %w", err)
	}
	syncDir(filepath.Dir(dir))
	return nil
}

func openDB(home string, dataKey []byte) (*Store, error) {
	dbPath := filepath.Join(home, dbFile)
	if _, err := os.Stat(dbPath); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: the database file is missing", ErrCorrupt)
	}
	// A leftover compaction target: a copy of live records; the database
	// itself is intact (compaction renames only a complete copy).
	if err := shred(filepath.Join(home, compactFile)); err != nil {
		return nil, fmt.Errorf("open store: remove stale file: %w", err)
	}
	db, err := boltOpen(dbPath)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	s, err := newStore(home, db, dataKey)
	if err == nil {
		s.setDB(db, dbPath)
		err = s.checkSchema()
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	register(s)
	return s, nil
}

func (s *Store) checkSchema() error {
	v, err := s.get(metaBucket, schemaKey)
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("%w: no schema record", ErrCorrupt)
	}
	if err != nil {
		return err
	}
	if len(v) != 4 {
		return fmt.Errorf("%w: malformed schema record", ErrCorrupt)
	}
	if n := binary.BigEndian.Uint32(v); n > schemaVersion {
		return fmt.Errorf("%w: record schema %d, this version reads up to %d", ErrNewerVersion, n, schemaVersion)
	}
	return nil
}

// boltOpen opens a bbolt file, turning its errors (and any panic on a
// damaged file) into ours.
func boltOpen(path string) (db *bbolt.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("%w: the database cannot be read", ErrCorrupt)
		}
	}()
	db, err = bbolt.Open(path, 0o600, &bbolt.Options{Timeout: lockTimeout, FreelistType: bbolt.FreelistMapType})
	switch {
	case err == nil:
		return db, nil
	case errors.Is(err, berrors.ErrTimeout):
		return nil, ErrInUse
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum), errors.Is(err, berrors.ErrVersionMismatch):
		return nil, fmt.Errorf("%w: the database cannot be read: %v", ErrCorrupt, err)
	default:
		return nil, err
	}
}

const (
	recordKeyInfo = "lookout store records v1"
	indexKeyInfo  = "lookout store index v1"
)

func newStore(home string, db *bbolt.DB, dataKey []byte) (*Store, error) {
	rk, err := hkdf.Key(sha256.New, dataKey, nil, recordKeyInfo, keySize)
	if err != nil {
		return nil, err
	}
	defer clear(rk)
	ik, err := hkdf.Key(sha256.New, dataKey, nil, indexKeyInfo, keySize)
	if err != nil {
		return nil, err
	}
	a, err := crypto.NewAEADKey(rk)
	if err != nil {
		return nil, err
	}
	return &Store{home: home, db: db, aead: a, idx: ik}, nil
}

// Close closes the store. Keys are dropped (the byte slices this package
// holds are zeroed; Go gives no guarantee about copies the runtime made).
// Closing twice is harmless.
func (s *Store) Close() error {
	unregister(s)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closeLocked()
}

func (s *Store) closeLocked() error {
	if s.db == nil {
		return nil
	}
	err := s.db.Close()
	s.db, s.aead = nil, nil
	clear(s.idx)
	s.idx = nil
	return err
}

// On-disk names: HMAC-SHA256 under the index key, with a domain byte and
// lengths so that distinct (bucket, key) pairs never collide.
const (
	domainBucket = 1
	domainRecord = 2
)

func (s *Store) mac(domain byte, bucket, key string) []byte {
	m := hmac.New(sha256.New, s.idx)
	m.Write([]byte{domain, byte(len(bucket))})
	m.Write([]byte(bucket))
	var n [2]byte
	binary.BigEndian.PutUint16(n[:], uint16(len(key)))
	m.Write(n[:])
	m.Write([]byte(key))
	return m.Sum(nil)
}

func (s *Store) bucketName(bucket string) []byte { return s.mac(domainBucket, bucket, "") }
func (s *Store) recordKey(bucket, key string) []byte {
	return s.mac(domainRecord, bucket, key)
}

func check(bucket, key string, value []byte) error {
	switch {
	case bucket == "" || len(bucket) > MaxBucketLen:
		return fmt.Errorf("%w: bucket name must be 1 to %d bytes", ErrInvalid, MaxBucketLen)
	case key == "" || len(key) > MaxKeyLen:
		return fmt.Errorf("%w: key must be 1 to %d bytes", ErrInvalid, MaxKeyLen)
	case len(value) > MaxValueLen:
		return fmt.Errorf("%w: value is longer than %d bytes", ErrInvalid, MaxValueLen)
	}
	return nil
}

// Put stores value under bucket and key, replacing any earlier value. It
// returns once the record is on disk (fsynced).
func (s *Store) Put(bucket, key string, value []byte) error {
	return s.PutExpiring(bucket, key, value, time.Time{})
}

// PutExpiring is Put for a record that expires: from expires on, Get and
// ForEach no longer return it and DeleteExpired deletes it. A zero
// expires means never.
func (s *Store) PutExpiring(bucket, key string, value []byte, expires time.Time) error {
	if err := check(bucket, key, value); err != nil {
		return err
	}
	return s.put(bucket, key, value, expires)
}

func (s *Store) put(bucket, key string, value []byte, expires time.Time) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return ErrClosed
	}
	bn, rk := s.bucketName(bucket), s.recordKey(bucket, key)
	sealed, err := sealRecord(s.aead, bn, rk, record{bucket: bucket, key: key, value: value, expires: expires})
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bn)
		if err != nil {
			return err
		}
		if b.Get(rk) != nil {
			s.scrub.Store(true) // the old value lingers in a free page
		}
		return b.Put(rk, sealed)
	})
}

// Record is one record for PutMany.
type Record struct {
	Bucket, Key string
	Value       []byte
	Expires     time.Time // zero: never
	// Delete removes the record under Bucket and Key instead (Value and
	// Expires unused), as Delete does.
	Delete bool
}

// PutMany stores and deletes records in one transaction: all of it is on
// disk (fsynced) when it returns, or none of it is.
func (s *Store) PutMany(recs []Record) error {
	for _, r := range recs {
		if err := check(r.Bucket, r.Key, r.Value); err != nil {
			return err
		}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return ErrClosed
	}
	type sealedRec struct{ bn, rk, sealed []byte }
	out := make([]sealedRec, len(recs))
	for i, r := range recs {
		bn, rk := s.bucketName(r.Bucket), s.recordKey(r.Bucket, r.Key)
		out[i] = sealedRec{bn: bn, rk: rk}
		if r.Delete {
			continue
		}
		sealed, err := sealRecord(s.aead, bn, rk, record{bucket: r.Bucket, key: r.Key, value: r.Value, expires: r.Expires})
		if err != nil {
			return err
		}
		out[i].sealed = sealed
	}
	return s.db.Update(func(tx *bbolt.Tx) error {
		for _, r := range out {
			if r.sealed == nil {
				if err := deleteIn(tx, r.bn, r.rk, &s.scrub); err != nil {
					return err
				}
				continue
			}
			b, err := tx.CreateBucketIfNotExists(r.bn)
			if err != nil {
				return err
			}
			if b.Get(r.rk) != nil {
				s.scrub.Store(true)
			}
			if err := b.Put(r.rk, r.sealed); err != nil {
				return err
			}
		}
		return nil
	})
}

// deleteIn deletes the record rk of bucket bn in tx, and the bucket if it
// is left empty (no trace of an empty bucket); it sets scrub if it deleted.
func deleteIn(tx *bbolt.Tx, bn, rk []byte, scrub *atomic.Bool) error {
	b := tx.Bucket(bn)
	if b == nil || b.Get(rk) == nil {
		return nil
	}
	if err := b.Delete(rk); err != nil {
		return err
	}
	scrub.Store(true)
	if k, _ := b.Cursor().First(); k == nil {
		return tx.DeleteBucket(bn)
	}
	return nil
}

// Get returns the value stored under bucket and key, or ErrNotFound
// (also for an expired record).
func (s *Store) Get(bucket, key string) ([]byte, error) {
	if err := check(bucket, key, nil); err != nil {
		return nil, err
	}
	return s.get(bucket, key)
}

func (s *Store) get(bucket, key string) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return nil, ErrClosed
	}
	bn, rk := s.bucketName(bucket), s.recordKey(bucket, key)
	var r record
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bn)
		if b == nil {
			return ErrNotFound
		}
		v := b.Get(rk)
		if v == nil {
			return ErrNotFound
		}
		var err error
		r, err = openRecord(s.aead, bn, rk, v)
		return err
	})
	if err != nil {
		return nil, err
	}
	if r.expired(time.Now()) {
		return nil, ErrNotFound
	}
	return r.value, nil
}

// Delete removes the record under bucket and key; deleting a missing
// record is not an error. The sealed bytes may linger in a free page of
// the file until the next compaction (DeleteExpired runs one after any
// Delete; call Compact to scrub at once).
func (s *Store) Delete(bucket, key string) error {
	if err := check(bucket, key, nil); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return ErrClosed
	}
	bn, rk := s.bucketName(bucket), s.recordKey(bucket, key)
	return s.db.Update(func(tx *bbolt.Tx) error { return deleteIn(tx, bn, rk, &s.scrub) })
}

// ForEach calls fn with the value of every unexpired record in bucket,
// in no meaningful order (that of the HMACed keys), until fn returns an
// error, which ForEach returns. The values are read first, so fn may
// call the store.
func (s *Store) ForEach(bucket string, fn func(value []byte) error) error {
	if err := check(bucket, "-", nil); err != nil {
		return err
	}
	var values [][]byte
	err := func() error {
		s.mu.RLock()
		defer s.mu.RUnlock()
		if s.db == nil {
			return ErrClosed
		}
		bn := s.bucketName(bucket)
		now := time.Now()
		return s.db.View(func(tx *bbolt.Tx) error {
			b := tx.Bucket(bn)
			if b == nil {
				return nil
			}
			return b.ForEach(func(k, v []byte) error {
				r, err := openRecord(s.aead, bn, k, v)
				if err != nil {
					return err
				}
				if !r.expired(now) {
					values = append(values, r.value)
				}
				return nil
			})
		})
	}()
	if err != nil {
		return err
	}
	for _, v := range values {
		if err := fn(v); err != nil {
			return err
		}
	}
	return nil
}

// DeleteExpired deletes every record that expired at or before now and
// returns how many. If it deleted any, or a Delete or an overwrite ran
// since the last compaction, it then compacts the file (see Compact) so
// the deleted bytes do not linger in free pages.
func (s *Store) DeleteExpired(now time.Time) (int, error) {
	n := 0
	err := func() error {
		s.mu.RLock()
		defer s.mu.RUnlock()
		if s.db == nil {
			return ErrClosed
		}
		meta := s.bucketName(metaBucket)
		return s.db.Update(func(tx *bbolt.Tx) error {
			var empty [][]byte
			err := tx.ForEach(func(name []byte, b *bbolt.Bucket) error {
				if bytes.Equal(name, meta) {
					return nil
				}
				var dead [][]byte
				live := 0
				err := b.ForEach(func(k, v []byte) error {
					r, err := openRecord(s.aead, name, k, v)
					if err != nil {
						return err
					}
					if r.expired(now) {
						dead = append(dead, bytes.Clone(k))
					} else {
						live++
					}
					return nil
				})
				if err != nil {
					return err
				}
				for _, k := range dead {
					if err := b.Delete(k); err != nil {
						return err
					}
				}
				n += len(dead)
				if live == 0 {
					empty = append(empty, bytes.Clone(name))
				}
				return nil
			})
			if err != nil {
				return err
			}
			for _, name := range empty {
				if err := tx.DeleteBucket(name); err != nil {
					return err
				}
			}
			return nil
		})
	}()
	if err != nil {
		return 0, err
	}
	if n > 0 || s.scrub.Load() {
		if err := s.Compact(); err != nil {
			return n, err
		}
	}
	return n, nil
}

// Compact rewrites the database with live records only, so that deleted
// and overwritten records' bytes leave the file: it copies the records to
// a new file, fsyncs it, renames it over the old one, then overwrites the
// old file's contents with zeros and fsyncs before its last reference
// goes. A crash at any point leaves either the old or the new database,
// both complete. Other calls wait while it runs.
//
// On SSDs and copy-on-write or journaling file systems, overwritten
// blocks may survive in places the file system no longer maps; what
// survives there is ciphertext under the data key (see STORE.md).
func (s *Store) Compact() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		return ErrClosed
	}
	dbPath := filepath.Join(s.home, dbFile)
	tmpPath := filepath.Join(s.home, compactFile)
	// If another process wiped this store (or one replaced it after a
	// duress unlock), the file open here is no longer the one in home:
	// renaming a compacted copy into place would clobber the new store.
	if !s.stillInPlace(dbPath) {
		s.closeLocked()
		return ErrClosed
	}
	if err := shred(tmpPath); err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	dst, err := boltOpen(tmpPath)
	if err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	if err := bbolt.Compact(dst, s.db, 0); err != nil {
		dst.Close()
		shred(tmpPath)
		return fmt.Errorf("compact: %w", err)
	}
	if err := dst.Close(); err != nil {
		shred(tmpPath)
		return fmt.Errorf("compact: %w", err)
	}
	// Hold the old file open across the rename to scrub it afterwards.
	old, err := os.OpenFile(dbPath, os.O_RDWR, 0)
	if err != nil {
		shred(tmpPath)
		return fmt.Errorf("compact: %w", err)
	}
	defer old.Close()
	if err := s.db.Close(); err != nil {
		shred(tmpPath)
		return fmt.Errorf("compact: %w", err)
	}
	s.db = nil
	renameErr := os.Rename(tmpPath, dbPath)
	if renameErr == nil {
		syncDir(s.home)
		s.scrub.Store(false)
		// Best effort: the new store is in place whether or not this works.
		_ = overwrite(old, zeroes)
	} else {
		shred(tmpPath)
	}
	// Reopen whichever file is now in place.
	db, err := boltOpen(dbPath)
	if err != nil {
		s.closeLocked()
		return fmt.Errorf("compact: reopen: %w", err)
	}
	s.setDB(db, dbPath)
	if renameErr != nil {
		return fmt.Errorf("compact: %w", renameErr)
	}
	return nil
}

// stillInPlace reports whether path is the database file s has open.
func (s *Store) stillInPlace(path string) bool {
	cur, err := os.Stat(path)
	return err == nil && s.dbInfo != nil && os.SameFile(s.dbInfo, cur)
}

// setDB installs db, opened from path, as s's database.
func (s *Store) setDB(db *bbolt.DB, path string) {
	s.db = db
	s.dbInfo, _ = os.Stat(path)
}

// ChangeSecret replaces the secret that unlocks the store in home; the
// data key stays, so no record is rewritten. A duress secret set at
// Create keeps working. The KDF parameters and salt stay as recorded
// (both slots share them, and the duress slot cannot be rewrapped without
// its secret), so opt.KDF is ignored.
//
// Errors as Open's; ErrBadSecret if new is the duress secret. Given the
// duress secret as old, ChangeSecret does what Open does (wipes the
// store, leaving an empty one) and the empty store gets new.
//
// The old header is overwritten with random bytes after the new one is
// in place; see STORE.md for what that does not cover.
func ChangeSecret(home string, old, new Secret, opt Options) error {
	if err := old.validate(); err != nil {
		return err
	}
	if err := new.validate(); err != nil {
		return fmt.Errorf("new secret: %w", err)
	}
	h, err := readHeader(filepath.Join(home, headerFile))
	if err != nil {
		return err
	}
	kek, err := deriveKEK(old, h.kdf, h.salt[:])
	if err != nil {
		return err
	}
	defer clear(kek)
	idx, kind, key, ok := h.unwrap(kek)
	if !ok {
		opt.failed()
		return ErrWrongPassphrase
	}
	defer clear(key)
	nkek, err := deriveKEK(new, h.kdf, h.salt[:])
	if err != nil {
		return fmt.Errorf("new secret: %w", err)
	}
	defer clear(nkek)
	if kind == slotDuress {
		if err := Wipe(home); err != nil {
			return fmt.Errorf("change secret: %w", err)
		}
		s, err := create(home, h.kdf, h.salt, nkek, nil)
		if err != nil {
			return fmt.Errorf("change secret: %w", err)
		}
		return s.Close()
	}
	if j, _, k2, ok := h.unwrap(nkek); ok {
		clear(k2)
		if j != idx {
			return fmt.Errorf("%w: the new secret must differ from the duress secret", ErrBadSecret)
		}
	}
	if err := h.wrap(idx, nkek, slotReal, key); err != nil {
		return fmt.Errorf("change secret: %w", err)
	}
	if err := writeHeader(home, h.marshal()); err != nil {
		return fmt.Errorf("change secret: %w", err)
	}
	return nil
}
