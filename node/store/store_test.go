package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

var long = flag.Bool("long", false, "run long tests (100 kills in TestKill)")

// testKDF keeps unlocking instant in tests; TestDefaultKDF covers the
// real parameters.
var testKDF = KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}

var testOpt = Options{KDF: testKDF, FailureDelay: -1}

func pass(s string) Secret { return Secret{Passphrase: []byte(s)} }

func ptr[T any](v T) *T { return &v }

func mkStore(t testing.TB, home string) *Store {
	t.Helper()
	s, err := Create(home, pass("correct horse"), nil, testOpt)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return s
}

func reopen(t testing.TB, home string, sec Secret) *Store {
	t.Helper()
	s, err := Open(home, sec, testOpt)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func mustGet(t testing.TB, s *Store, bucket, key string, want []byte) {
	t.Helper()
	got, err := s.Get(bucket, key)
	if err != nil {
		t.Fatalf("Get(%q, %q): %v", bucket, key, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Get(%q, %q) = %q, want %q", bucket, key, got, want)
	}
}

func values(t testing.TB, s *Store, bucket string) []string {
	t.Helper()
	var out []string
	if err := s.ForEach(bucket, func(v []byte) error {
		out = append(out, string(v))
		return nil
	}); err != nil {
		t.Fatalf("ForEach(%q): %v", bucket, err)
	}
	slices.Sort(out)
	return out
}

// files returns every file under dir with its contents.
func files(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out[p] = b
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	home := t.TempDir()
	s := mkStore(t, home)
	if !Exists(home) {
		t.Fatal("Exists is false after Create")
	}
	if err := s.Put("zones", "z1", []byte("zone one")); err != nil {
		t.Fatal(err)
	}
	if err := s.Put("zones", "z2", []byte("zone two")); err != nil {
		t.Fatal(err)
	}
	if err := s.Put("settings", "z1", []byte("same key, other bucket")); err != nil {
		t.Fatal(err)
	}
	if err := s.Put("zones", "empty", nil); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte{0xA5}, 100_000)
	if err := s.Put("blobs", "big", big); err != nil {
		t.Fatal(err)
	}
	if err := s.PutExpiring("alerts", "live", []byte("live alert"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.PutExpiring("alerts", "gone", []byte("expired alert"), time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.Put("zones", "z2", []byte("zone two, renamed")); err != nil {
		t.Fatal(err)
	}
	check := func(s *Store) {
		t.Helper()
		mustGet(t, s, "zones", "z1", []byte("zone one"))
		mustGet(t, s, "zones", "z2", []byte("zone two, renamed"))
		mustGet(t, s, "settings", "z1", []byte("same key, other bucket"))
		mustGet(t, s, "zones", "empty", []byte{})
		mustGet(t, s, "blobs", "big", big)
		mustGet(t, s, "alerts", "live", []byte("live alert"))
		if _, err := s.Get("alerts", "gone"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get of an expired record: %v, want ErrNotFound", err)
		}
		if _, err := s.Get("zones", "nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get of a missing key: %v, want ErrNotFound", err)
		}
		if _, err := s.Get("nobucket", "z1"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get in a missing bucket: %v, want ErrNotFound", err)
		}
		if got, want := values(t, s, "zones"), []string{"", "zone one", "zone two, renamed"}; !slices.Equal(got, want) {
			t.Errorf("ForEach(zones) = %q, want %q", got, want)
		}
		if got, want := values(t, s, "alerts"), []string{"live alert"}; !slices.Equal(got, want) {
			t.Errorf("ForEach(alerts) = %q, want %q", got, want)
		}
		if got := values(t, s, "nobucket"); len(got) != 0 {
			t.Errorf("ForEach(nobucket) = %q", got)
		}
	}
	check(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := s.Get("zones", "z1"); !errors.Is(err, ErrClosed) {
		t.Errorf("Get after Close: %v, want ErrClosed", err)
	}
	if err := s.Put("zones", "z1", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Put after Close: %v, want ErrClosed", err)
	}

	s = reopen(t, home, pass("correct horse"))
	defer s.Close()
	check(s)

	// Delete, including a missing key and the last key of a bucket.
	if err := s.Delete("zones", "z1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete("zones", "z1"); err != nil {
		t.Fatalf("deleting a missing key: %v", err)
	}
	if err := s.Delete("settings", "z1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("zones", "z1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after Delete: %v", err)
	}
	mustGet(t, s, "zones", "z2", []byte("zone two, renamed"))

	// ForEach: the callback may use the store; its error stops iteration.
	stop := errors.New("stop")
	n := 0
	err := s.ForEach("zones", func(v []byte) error {
		n++
		if err := s.Put("other", fmt.Sprint(n), v); err != nil {
			return err
		}
		return stop
	})
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("ForEach returned %v after %d calls, want stop after 1", err, n)
	}

	// Invalid names and values.
	for _, c := range []struct{ bucket, key string }{
		{"", "k"}, {"b", ""}, {string(make([]byte, MaxBucketLen+1)), "k"}, {"b", string(make([]byte, MaxKeyLen+1))},
	} {
		if err := s.Put(c.bucket, c.key, nil); !errors.Is(err, ErrInvalid) {
			t.Errorf("Put(%d-byte bucket, %d-byte key): %v, want ErrInvalid", len(c.bucket), len(c.key), err)
		}
	}
	if err := s.Put("b", "k", make([]byte, MaxValueLen+1)); !errors.Is(err, ErrInvalid) {
		t.Errorf("Put of an oversized value: %v", err)
	}
}

func TestCreateRefusesExisting(t *testing.T) {
	home := t.TempDir()
	s := mkStore(t, home)
	s.Put("b", "k", []byte("v"))
	s.Close()
	if _, err := Create(home, pass("other"), nil, testOpt); !errors.Is(err, ErrExists) {
		t.Fatalf("Create over a store: %v, want ErrExists", err)
	}
	s = reopen(t, home, pass("correct horse"))
	defer s.Close()
	mustGet(t, s, "b", "k", []byte("v"))

	if _, err := Create(t.TempDir(), pass("same"), ptr(pass("same")), testOpt); !errors.Is(err, ErrBadSecret) {
		t.Errorf("Create with duress = secret: %v, want ErrBadSecret", err)
	}
	if _, err := Create(t.TempDir(), Secret{}, nil, testOpt); !errors.Is(err, ErrBadSecret) {
		t.Errorf("Create with an empty secret: %v, want ErrBadSecret", err)
	}
	if _, err := Create(t.TempDir(), Secret{Passphrase: []byte("p"), KeyFile: "/k"}, nil, testOpt); !errors.Is(err, ErrBadSecret) {
		t.Errorf("Create with both a passphrase and a key file: %v, want ErrBadSecret", err)
	}
	if _, err := Open(t.TempDir(), pass("x"), testOpt); !errors.Is(err, ErrNoStore) {
		t.Errorf("Open of an empty home: %v, want ErrNoStore", err)
	}
	if Exists(t.TempDir()) {
		t.Error("Exists in an empty home")
	}
}

// A database left by a Create that died before writing its header is
// unreadable by anyone and is replaced.
func TestCreateOverStaleDatabase(t *testing.T) {
	home := t.TempDir()
	s := mkStore(t, home)
	s.Put("b", "k", []byte("v"))
	s.Close()
	os.Remove(filepath.Join(home, headerFile))
	if Exists(home) {
		t.Fatal("Exists without a header")
	}
	if _, err := Open(home, pass("correct horse"), testOpt); !errors.Is(err, ErrNoStore) {
		t.Fatalf("Open without a header: %v, want ErrNoStore", err)
	}
	s = mkStore(t, home)
	defer s.Close()
	if _, err := s.Get("b", "k"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get in the new store: %v, want ErrNotFound", err)
	}
}

type fileState struct {
	data    []byte
	modTime time.Time
	mode    fs.FileMode
}

func snapshot(t *testing.T, dir string) map[string]fileState {
	t.Helper()
	out := map[string]fileState{}
	for p, b := range files(t, dir) {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		out[p] = fileState{b, fi.ModTime(), fi.Mode()}
	}
	return out
}

func TestWrongPassphrase(t *testing.T) {
	home := t.TempDir()
	s := mkStore(t, home)
	s.Put("b", "k", []byte("v"))
	s.Close()
	before := snapshot(t, home)

	opt := testOpt
	opt.FailureDelay = 30 * time.Millisecond
	start := time.Now()
	_, err := Open(home, pass("correct hors"), opt)
	if !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("Open with a wrong passphrase: %v, want ErrWrongPassphrase", err)
	}
	if d := time.Since(start); d < opt.FailureDelay {
		t.Errorf("failure returned after %v, before the %v delay", d, opt.FailureDelay)
	}
	if err := ChangeSecret(home, pass("wrong"), pass("new"), testOpt); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("ChangeSecret with a wrong passphrase: %v, want ErrWrongPassphrase", err)
	}
	if msg := err.Error(); bytes.Contains([]byte(msg), []byte("correct hors")) {
		t.Errorf("error message contains the passphrase: %q", msg)
	}
	after := snapshot(t, home)
	if len(after) != len(before) {
		t.Fatalf("files changed: %d before, %d after", len(before), len(after))
	}
	for p, b := range before {
		a, ok := after[p]
		if !ok || !bytes.Equal(a.data, b.data) || !a.modTime.Equal(b.modTime) || a.mode != b.mode {
			t.Errorf("%s changed after failed unlocks", filepath.Base(p))
		}
	}
	s = reopen(t, home, pass("correct horse"))
	defer s.Close()
	mustGet(t, s, "b", "k", []byte("v"))
}

func TestKeyFile(t *testing.T) {
	home, usb := t.TempDir(), t.TempDir()
	kf := filepath.Join(usb, "lookout.key")
	if err := CreateKeyFile(kf); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(kf)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != KeyFileSize || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file: %d bytes, mode %v; want %d bytes, 0600", fi.Size(), fi.Mode().Perm(), KeyFileSize)
	}
	if err := CreateKeyFile(kf); err == nil {
		t.Error("CreateKeyFile overwrote an existing file")
	}
	s, err := Create(home, Secret{KeyFile: kf}, nil, testOpt)
	if err != nil {
		t.Fatal(err)
	}
	s.Put("b", "k", []byte("headless"))
	s.Close()

	s = reopen(t, home, Secret{KeyFile: kf})
	mustGet(t, s, "b", "k", []byte("headless"))
	s.Close()

	other := filepath.Join(usb, "other.key")
	if err := CreateKeyFile(other); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(home, Secret{KeyFile: other}, testOpt); !errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("Open with another key file: %v, want ErrWrongPassphrase", err)
	}
	key, _ := os.ReadFile(kf)
	if _, err := Open(home, Secret{Passphrase: key}, testOpt); !errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("Open with the key file's bytes as a passphrase: %v, want ErrWrongPassphrase", err)
	}
	if _, err := Open(home, Secret{KeyFile: filepath.Join(usb, "missing")}, testOpt); !errors.Is(err, ErrBadSecret) {
		t.Errorf("Open with a missing key file: %v, want ErrBadSecret", err)
	}
	short := filepath.Join(usb, "short.key")
	os.WriteFile(short, key[:31], 0o600)
	if _, err := Open(home, Secret{KeyFile: short}, testOpt); !errors.Is(err, ErrBadSecret) {
		t.Errorf("Open with a 31-byte key file: %v, want ErrBadSecret", err)
	}
	longer := filepath.Join(usb, "long.key")
	os.WriteFile(longer, append(key, 0), 0o600)
	if _, err := Open(home, Secret{KeyFile: longer}, testOpt); !errors.Is(err, ErrBadSecret) {
		t.Errorf("Open with a 33-byte key file: %v, want ErrBadSecret", err)
	}
	// Switch a key-file store to a passphrase and back.
	if err := ChangeSecret(home, Secret{KeyFile: kf}, pass("now a passphrase"), testOpt); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(home, Secret{KeyFile: kf}, testOpt); !errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("old key file after ChangeSecret: %v", err)
	}
	s = reopen(t, home, pass("now a passphrase"))
	mustGet(t, s, "b", "k", []byte("headless"))
	s.Close()
}

func TestNewerVersion(t *testing.T) {
	home := t.TempDir()
	s := mkStore(t, home)
	s.Put("b", "k", []byte("v"))
	s.Close()
	hp := filepath.Join(home, headerFile)
	orig, err := os.ReadFile(hp)
	if err != nil {
		t.Fatal(err)
	}

	// A newer header format, possibly of another size.
	for _, size := range []int{headerSize, headerSize + 100, 8} {
		b := make([]byte, size)
		copy(b, orig)
		binary.BigEndian.PutUint16(b[4:], formatVersion+1)
		os.WriteFile(hp, b, 0o600)
		if _, err := Open(home, pass("correct horse"), testOpt); !errors.Is(err, ErrNewerVersion) {
			t.Errorf("Open of a format %d header of %d bytes: %v, want ErrNewerVersion", formatVersion+1, size, err)
		}
	}
	// A KDF this version does not know.
	b := slices.Clone(orig)
	b[6] = 2
	os.WriteFile(hp, b, 0o600)
	if _, err := Open(home, pass("correct horse"), testOpt); !errors.Is(err, ErrNewerVersion) {
		t.Errorf("Open with an unknown KDF: %v, want ErrNewerVersion", err)
	}
	if err := ChangeSecret(home, pass("correct horse"), pass("x"), testOpt); !errors.Is(err, ErrNewerVersion) {
		t.Errorf("ChangeSecret with an unknown KDF: %v, want ErrNewerVersion", err)
	}
	os.WriteFile(hp, orig, 0o600)

	// A newer record schema inside the database.
	s = reopen(t, home, pass("correct horse"))
	var v [4]byte
	binary.BigEndian.PutUint32(v[:], schemaVersion+1)
	if err := s.put(metaBucket, schemaKey, v[:], time.Time{}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(home, pass("correct horse"), testOpt); !errors.Is(err, ErrNewerVersion) {
		t.Errorf("Open with a newer schema: %v, want ErrNewerVersion", err)
	}
	if !Exists(home) {
		t.Error("refusing a newer store removed it")
	}
}

func TestCorruptFiles(t *testing.T) {
	home := t.TempDir()
	s := mkStore(t, home)
	s.Put("b", "k", []byte("v"))
	s.Close()
	hp, dp := filepath.Join(home, headerFile), filepath.Join(home, dbFile)
	header, _ := os.ReadFile(hp)
	db, _ := os.ReadFile(dp)
	restore := func() {
		os.WriteFile(hp, header, 0o600)
		os.WriteFile(dp, db, 0o600)
	}
	try := func(what string, want ...error) {
		t.Helper()
		s, err := Open(home, pass("correct horse"), testOpt)
		if err == nil {
			s.Close()
		}
		for _, w := range want {
			if errors.Is(err, w) {
				return
			}
		}
		t.Errorf("%s: Open gave %v, want one of %v", what, err, want)
	}

	os.WriteFile(hp, header[:headerSize-1], 0o600)
	try("truncated header", ErrCorrupt)
	os.WriteFile(hp, append(slices.Clone(header), 0), 0o600)
	try("header with a trailing byte", ErrCorrupt)
	os.WriteFile(hp, []byte("not a header at all"), 0o600)
	try("foreign header", ErrCorrupt)
	b := slices.Clone(header)
	binary.BigEndian.PutUint32(b[8:], 0xFFFFFFFF) // 4 TiB of memory
	os.WriteFile(hp, b, 0o600)
	try("hostile KDF memory", ErrCorrupt)
	b = slices.Clone(header)
	b[20] ^= 1 // the salt: a different KEK
	os.WriteFile(hp, b, 0o600)
	try("altered salt", ErrWrongPassphrase)
	b = slices.Clone(header)
	b[prefixSize+30] ^= 1
	b[prefixSize+slotSize+30] ^= 1
	os.WriteFile(hp, b, 0o600)
	try("altered slots", ErrWrongPassphrase)
	restore()

	os.Remove(dp)
	try("missing database", ErrCorrupt)
	os.WriteFile(dp, bytes.Repeat([]byte{0x5A}, len(db)), 0o600)
	try("garbage database", ErrCorrupt)
	os.WriteFile(dp, db[:100], 0o600)
	try("truncated database", ErrCorrupt)
	restore()

	// A record swapped under another key fails to authenticate.
	s = reopen(t, home, pass("correct horse"))
	s.Put("b", "k2", []byte("v2"))
	bn := s.bucketName("b")
	k1, k2 := s.recordKey("b", "k"), s.recordKey("b", "k2")
	err := s.db.Update(func(tx *bbolt.Tx) error {
		bk := tx.Bucket(bn)
		v1 := slices.Clone(bk.Get(k1))
		return bk.Put(k2, v1)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("b", "k2"); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Get of a value moved from another key: %v, want ErrCorrupt", err)
	}
	if err := s.ForEach("b", func([]byte) error { return nil }); !errors.Is(err, ErrCorrupt) {
		t.Errorf("ForEach over a moved value: %v, want ErrCorrupt", err)
	}
	s.Close()
}

func TestInUse(t *testing.T) {
	defer func(d time.Duration) { lockTimeout = d }(lockTimeout)
	lockTimeout = 20 * time.Millisecond
	home := t.TempDir()
	s := mkStore(t, home)
	defer s.Close()
	if _, err := Open(home, pass("correct horse"), testOpt); !errors.Is(err, ErrInUse) {
		t.Fatalf("second Open: %v, want ErrInUse", err)
	}
}

func TestDuress(t *testing.T) {
	home := t.TempDir()
	real, duress := pass("real passphrase"), pass("duress passphrase")
	s, err := Create(home, real, &duress, testOpt)
	if err != nil {
		t.Fatal(err)
	}
	s.Put("zones", "z1", []byte("the real zone"))
	s.Put("profile", "name", []byte("the real name"))
	s.Close()
	s = reopen(t, home, real) // the real passphrase opens the real store
	mustGet(t, s, "zones", "z1", []byte("the real zone"))
	s.Close()
	oldFiles := files(t, home)
	oldHeader := oldFiles[filepath.Join(home, headerFile)]

	// The duress passphrase opens an empty store, without an error.
	d, err := Open(home, duress, testOpt)
	if err != nil {
		t.Fatalf("Open with the duress passphrase: %v", err)
	}
	if got := values(t, d, "zones"); len(got) != 0 {
		t.Errorf("decoy has zones: %q", got)
	}
	if _, err := d.Get("profile", "name"); !errors.Is(err, ErrNotFound) {
		t.Errorf("decoy Get: %v, want ErrNotFound", err)
	}
	if err := d.Put("profile", "name", []byte("decoy")); err != nil {
		t.Fatal(err)
	}
	d.Close()

	// The real data is gone: the real passphrase is now a wrong one...
	if _, err := Open(home, real, testOpt); !errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("real passphrase after duress: %v, want ErrWrongPassphrase", err)
	}
	// ...no old slot or sealed record remains in any file...
	newFiles := files(t, home)
	for i := 0; i < 2; i++ {
		slot := oldHeader[prefixSize+i*slotSize : prefixSize+(i+1)*slotSize]
		for p, b := range newFiles {
			if bytes.Contains(b, slot) {
				t.Errorf("old slot %d is still in %s", i, filepath.Base(p))
			}
		}
	}
	for _, chunk := range sealedChunks(t, oldFiles[filepath.Join(home, dbFile)]) {
		for p, b := range newFiles {
			if bytes.Contains(b, chunk) {
				t.Errorf("old sealed record bytes still in %s", filepath.Base(p))
			}
		}
	}
	// ...and the decoy looks like any store: same files, same header size,
	// and it keeps opening with the duress passphrase.
	if len(newFiles) != len(oldFiles) || len(newFiles[filepath.Join(home, headerFile)]) != headerSize {
		t.Errorf("decoy files differ in number or header size")
	}
	d = reopen(t, home, duress)
	defer d.Close()
	mustGet(t, d, "profile", "name", []byte("decoy"))
}

// sealedChunks returns 32-byte pieces of high-entropy data from a
// database file: pieces of sealed records (bbolt's own structures are
// low-entropy), used to check that records left the disk.
func sealedChunks(t *testing.T, db []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for off := 0; off+32 <= len(db); off += 32 {
		c := db[off : off+32]
		distinct := map[byte]bool{}
		for _, x := range c {
			distinct[x] = true
		}
		if len(distinct) >= 24 {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		t.Fatal("no sealed data found in the database file")
	}
	return out
}

// With or without a duress secret, the header looks the same: two slots
// of the same size, the real one at a random position.
func TestSlotsIndistinguishable(t *testing.T) {
	seen := map[int]bool{}
	for i := 0; i < 24; i++ {
		home := t.TempDir()
		var duress *Secret
		if i%2 == 0 {
			duress = ptr(pass("duress"))
		}
		s, err := Create(home, pass("real"), duress, testOpt)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		b, err := os.ReadFile(filepath.Join(home, headerFile))
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != headerSize {
			t.Fatalf("header is %d bytes, want %d", len(b), headerSize)
		}
		h, err := parseHeader(b)
		if err != nil {
			t.Fatal(err)
		}
		kek, _ := deriveKEK(pass("real"), h.kdf, h.salt[:])
		idx, kind, _, ok := h.unwrap(kek)
		if !ok || kind != slotReal {
			t.Fatal("real passphrase does not unwrap a real slot")
		}
		seen[idx] = true
		if duress != nil {
			dk, _ := deriveKEK(*duress, h.kdf, h.salt[:])
			j, kind, _, ok := h.unwrap(dk)
			if !ok || kind != slotDuress || j == idx {
				t.Fatalf("duress slot: ok %v kind %d index %d (real %d)", ok, kind, j, idx)
			}
		}
	}
	if !seen[0] || !seen[1] {
		t.Errorf("the real slot was always at position %v", seen)
	}
}

func TestWipe(t *testing.T) {
	home := t.TempDir()
	real, duress := pass("real"), pass("duress")
	s, err := Create(home, real, &duress, testOpt)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		s.Put("alerts", fmt.Sprint(i), bytes.Repeat([]byte("alert "), 100))
	}
	// Some unrelated file in home stays.
	other := filepath.Join(home, "unrelated.txt")
	os.WriteFile(other, []byte("x"), 0o600)
	// Keep a handle on the header to read what Wipe left in it.
	hf, err := os.Open(filepath.Join(home, headerFile))
	if err != nil {
		t.Fatal(err)
	}
	defer hf.Close()
	orig := make([]byte, headerSize)
	if _, err := hf.ReadAt(orig, 0); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	if err := Wipe(home); err != nil { // the store is still open
		t.Fatal(err)
	}
	t.Logf("Wipe took %v", time.Since(start))

	left := files(t, home)
	delete(left, other)
	if len(left) != 0 {
		t.Errorf("files left after Wipe: %v", slices.Collect(func(yield func(string) bool) {
			for p := range left {
				if !yield(p) {
					return
				}
			}
		}))
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("Wipe removed a file that is not the store's: %v", err)
	}
	// The keys were destroyed before the files went.
	after := make([]byte, headerSize)
	if _, err := hf.ReadAt(after, 0); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(after, orig[prefixSize:prefixSize+slotSize]) || bytes.Contains(after, orig[prefixSize+slotSize:]) {
		t.Error("a wrapped key survived in the wiped header")
	}
	if h, err := parseHeader(after); err == nil {
		for _, sec := range []Secret{real, duress} {
			kek, _ := deriveKEK(sec, h.kdf, h.salt[:])
			if _, _, _, ok := h.unwrap(kek); ok {
				t.Error("the wiped header still unwraps")
			}
		}
	}
	if Exists(home) {
		t.Error("Exists after Wipe")
	}
	if _, err := Open(home, real, testOpt); !errors.Is(err, ErrNoStore) {
		t.Errorf("Open after Wipe: %v, want ErrNoStore", err)
	}
	// The store that was open is closed.
	if err := s.Put("alerts", "late", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Put on a wiped store: %v, want ErrClosed", err)
	}
	s.Close()
	if err := Wipe(home); err != nil {
		t.Errorf("second Wipe: %v", err)
	}
	if err := Wipe(filepath.Join(home, "no such dir")); err != nil {
		t.Errorf("Wipe of a missing home: %v", err)
	}
	// A new store can be created in its place.
	s = mkStore(t, home)
	s.Close()
}

func TestChangeSecret(t *testing.T) {
	home := t.TempDir()
	real, duress := pass("old passphrase"), pass("duress passphrase")
	s, err := Create(home, real, &duress, testOpt)
	if err != nil {
		t.Fatal(err)
	}
	s.Put("b", "k", []byte("v"))
	s.Close()
	oldHeader, _ := os.ReadFile(filepath.Join(home, headerFile))

	if err := ChangeSecret(home, real, duress, testOpt); !errors.Is(err, ErrBadSecret) {
		t.Errorf("ChangeSecret to the duress secret: %v, want ErrBadSecret", err)
	}
	if err := ChangeSecret(home, real, Secret{}, testOpt); !errors.Is(err, ErrBadSecret) {
		t.Errorf("ChangeSecret to an empty secret: %v, want ErrBadSecret", err)
	}
	newp := pass("new passphrase")
	if err := ChangeSecret(home, real, newp, testOpt); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(home, real, testOpt); !errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("old passphrase after ChangeSecret: %v, want ErrWrongPassphrase", err)
	}
	s = reopen(t, home, newp)
	mustGet(t, s, "b", "k", []byte("v"))
	s.Close()
	newHeader, _ := os.ReadFile(filepath.Join(home, headerFile))
	if len(newHeader) != headerSize || !bytes.Equal(newHeader[:prefixSize], oldHeader[:prefixSize]) {
		t.Error("ChangeSecret changed the header's size, salt or KDF parameters")
	}
	for p := range files(t, home) {
		if filepath.Base(p) != headerFile && filepath.Base(p) != dbFile && filepath.Base(p) != cacheTagFile {
			t.Errorf("ChangeSecret left %s", filepath.Base(p))
		}
	}
	// The duress secret still works, and wipes.
	d, err := Open(home, duress, testOpt)
	if err != nil {
		t.Fatal(err)
	}
	if got := values(t, d, "b"); len(got) != 0 {
		t.Errorf("decoy after ChangeSecret has %q", got)
	}
	d.Close()
	if _, err := Open(home, newp, testOpt); !errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("real passphrase after duress: %v, want ErrWrongPassphrase", err)
	}

	// ChangeSecret given the duress secret wipes too, and the decoy gets the new one.
	home = t.TempDir()
	s, _ = Create(home, real, &duress, testOpt)
	s.Put("b", "k", []byte("v"))
	s.Close()
	if err := ChangeSecret(home, duress, newp, testOpt); err != nil {
		t.Fatalf("ChangeSecret from the duress secret: %v", err)
	}
	s = reopen(t, home, newp)
	if got := values(t, s, "b"); len(got) != 0 {
		t.Errorf("store after duress ChangeSecret has %q", got)
	}
	s.Close()
	if _, err := Open(home, real, testOpt); !errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("real passphrase after duress ChangeSecret: %v", err)
	}
}

// rawValues returns the sealed bytes on disk of the given records.
func rawValues(t *testing.T, s *Store, bucket string, keys []string) [][]byte {
	t.Helper()
	var out [][]byte
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(s.bucketName(bucket))
		for _, k := range keys {
			v := b.Get(s.recordKey(bucket, k))
			if v == nil {
				return fmt.Errorf("no raw value for %q", k)
			}
			out = append(out, slices.Clone(v))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// countIn reports how many of the sealed values' middles occur in the file.
func countIn(t *testing.T, path string, sealed [][]byte) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, v := range sealed {
		if bytes.Contains(b, v[len(v)/2-16:len(v)/2+16]) {
			n++
		}
	}
	return n
}

func TestDeleteExpiredAndCompact(t *testing.T) {
	home := t.TempDir()
	s := mkStore(t, home)
	defer s.Close()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	var old, fresh []string
	for i := range 300 {
		k := fmt.Sprintf("alert-%d", i)
		exp := now.Add(time.Hour) // expires in the test's "future"
		if i%3 == 0 {
			exp = now.Add(-time.Minute)
			old = append(old, k)
		} else {
			fresh = append(fresh, k)
		}
		if err := s.PutExpiring("alerts", k, bytes.Repeat([]byte{byte(i)}, 200), exp); err != nil {
			t.Fatal(err)
		}
	}
	s.Put("zones", "z", []byte("never expires"))
	s.PutExpiring("replay", "only", []byte("x"), now.Add(-time.Second)) // empties its bucket
	dbPath := filepath.Join(home, dbFile)
	oldRaw := rawValues(t, s, "alerts", old)
	if n := countIn(t, dbPath, oldRaw); n != len(old) {
		t.Fatalf("only %d of %d sealed values found before deleting", n, len(old))
	}
	fi, _ := os.Stat(dbPath)
	sizeBefore := fi.Size()

	n, err := s.DeleteExpired(now)
	if err != nil {
		t.Fatal(err)
	}
	if n != len(old)+1 {
		t.Fatalf("DeleteExpired = %d, want %d", n, len(old)+1)
	}
	if n := countIn(t, dbPath, oldRaw); n != 0 {
		t.Errorf("%d deleted records' bytes are still in the file after DeleteExpired", n)
	}
	fi, _ = os.Stat(dbPath)
	t.Logf("database %d bytes before, %d after DeleteExpired", sizeBefore, fi.Size())
	if _, err := os.Stat(filepath.Join(home, compactFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Error("compaction left its temporary file")
	}
	for _, k := range old {
		if _, err := s.Get("alerts", k); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get(%s) after DeleteExpired: %v", k, err)
		}
	}
	for _, k := range fresh {
		if _, err := s.Get("alerts", k); err != nil {
			t.Fatalf("Get(%s) of a live record: %v", k, err)
		}
	}
	mustGet(t, s, "zones", "z", []byte("never expires"))
	if n, err := s.DeleteExpired(now); err != nil || n != 0 {
		t.Errorf("second DeleteExpired = %d, %v", n, err)
	}
	err = s.db.View(func(tx *bbolt.Tx) error {
		if tx.Bucket(s.bucketName("replay")) != nil {
			return errors.New("an emptied bucket remains")
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}

	// Delete leaves the sealed bytes in a free page until compaction;
	// DeleteExpired compacts afterwards even when nothing expired.
	gone := rawValues(t, s, "alerts", fresh[:50])
	for _, k := range fresh[:50] {
		if err := s.Delete("alerts", k); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("after Delete, %d of %d deleted records' bytes linger in free pages", countIn(t, dbPath, gone), len(gone))
	if n, err := s.DeleteExpired(now); err != nil || n != 0 {
		t.Fatalf("DeleteExpired = %d, %v", n, err)
	}
	if n := countIn(t, dbPath, gone); n != 0 {
		t.Errorf("%d deleted records' bytes still in the file after compaction", n)
	}
	// Overwritten values too.
	overwritten := rawValues(t, s, "alerts", fresh[50:60])
	for _, k := range fresh[50:60] {
		s.PutExpiring("alerts", k, []byte("updated state"), now.Add(time.Hour))
	}
	if err := s.Compact(); err != nil {
		t.Fatal(err)
	}
	if n := countIn(t, dbPath, overwritten); n != 0 {
		t.Errorf("%d overwritten values still in the file after Compact", n)
	}
	mustGet(t, s, "alerts", fresh[55], []byte("updated state"))
	s.Close()
	s = reopen(t, home, pass("correct horse"))
	mustGet(t, s, "alerts", fresh[55], []byte("updated state"))
	mustGet(t, s, "zones", "z", []byte("never expires"))
	if got := len(values(t, s, "alerts")); got != len(fresh)-50 {
		t.Errorf("%d alerts after reopening, want %d", got, len(fresh)-50)
	}
}

// Compact runs while other goroutines use the store.
func TestConcurrentUse(t *testing.T) {
	home := t.TempDir()
	s := mkStore(t, home)
	defer s.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for g := range 4 {
		wg.Go(func() {
			for i := range 40 {
				k := fmt.Sprintf("%d-%d", g, i)
				if err := s.Put("c", k, []byte(k)); err != nil {
					errs <- err
					return
				}
				if v, err := s.Get("c", k); err != nil || string(v) != k {
					errs <- fmt.Errorf("Get(%s) = %q, %v", k, v, err)
					return
				}
				if i%10 == 0 {
					if err := s.Delete("c", k); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Go(func() {
		for range 5 {
			if err := s.Compact(); err != nil {
				errs <- err
				return
			}
			if _, err := s.DeleteExpired(time.Now()); err != nil {
				errs <- err
				return
			}
		}
	})
	wg.Go(func() {
		for range 20 {
			if err := s.ForEach("c", func([]byte) error { return nil }); err != nil {
				errs <- err
				return
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := len(values(t, s, "c")); got != 4*36 {
		t.Errorf("%d records, want %d", got, 4*36)
	}
}

// TestDefaultKDF checks the default parameters and reports how long an
// unlock takes with them on this machine (no assertion on time).
func TestDefaultKDF(t *testing.T) {
	if DefaultKDF.MemoryKiB < 64*1024 || DefaultKDF.Threads != 4 || !DefaultKDF.valid() {
		t.Fatalf("DefaultKDF = %+v, want at least 64 MiB and 4 lanes (RFC 9106 second option)", DefaultKDF)
	}
	if DefaultKDF.Time < 3 {
		t.Fatalf("DefaultKDF.Time = %d, below RFC 9106's 3 passes", DefaultKDF.Time)
	}
	if testing.Short() {
		t.Skip("short: not timing the default KDF")
	}
	home := t.TempDir()
	s, err := Create(home, pass("correct horse"), nil, Options{FailureDelay: -1})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	b, _ := os.ReadFile(filepath.Join(home, headerFile))
	h, err := parseHeader(b)
	if err != nil || h.kdf != DefaultKDF {
		t.Fatalf("header KDF = %+v, %v; want the defaults recorded", h.kdf, err)
	}
	var times []time.Duration
	for range 3 {
		start := time.Now()
		s, err := Open(home, pass("correct horse"), Options{FailureDelay: -1})
		d := time.Since(start)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		times = append(times, d)
	}
	slices.Sort(times)
	t.Logf("unlock with DefaultKDF %+v: median %v (runs %v)", DefaultKDF, times[1], times)
}

// A store wiped and replaced by another process (a duress unlock there)
// must not clobber the new store when it compacts.
func TestCompactAfterForeignWipe(t *testing.T) {
	home := t.TempDir()
	s := mkStore(t, home)
	s.Put("b", "k", []byte("real"))
	unregister(s) // as if s were open in another process
	if err := Wipe(home); err != nil {
		t.Fatal(err)
	}
	d, err := Create(home, pass("decoy"), nil, testOpt)
	if err != nil {
		t.Fatal(err)
	}
	d.Put("b", "k", []byte("decoy"))
	d.Close()
	if err := s.Compact(); !errors.Is(err, ErrClosed) {
		t.Errorf("Compact of a replaced store: %v, want ErrClosed", err)
	}
	s.Close()
	d = reopen(t, home, pass("decoy"))
	defer d.Close()
	mustGet(t, d, "b", "k", []byte("decoy"))
}

func TestPutMany(t *testing.T) {
	home := t.TempDir()
	s := mkStore(t, home)
	recs := []Record{
		{Bucket: "a", Key: "1", Value: []byte("one")},
		{Bucket: "b", Key: "2", Value: []byte("two"), Expires: time.Now().Add(time.Hour)},
		{Bucket: "a", Key: "3", Value: []byte("gone"), Expires: time.Now().Add(-time.Second)},
	}
	if err := s.PutMany(recs); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = reopen(t, home, pass("correct horse"))
	defer s.Close()
	for _, r := range recs[:2] {
		if v, err := s.Get(r.Bucket, r.Key); err != nil || string(v) != string(r.Value) {
			t.Errorf("Get(%s, %s) = %q, %v; want %q", r.Bucket, r.Key, v, err, r.Value)
		}
	}
	if _, err := s.Get("a", "3"); !errors.Is(err, ErrNotFound) {
		t.Errorf("expired record: %v, want ErrNotFound", err)
	}
	bad := []Record{{Bucket: "a", Key: "4", Value: []byte("x")}, {Bucket: "", Key: "5"}}
	if err := s.PutMany(bad); !errors.Is(err, ErrInvalid) {
		t.Fatalf("PutMany with a bad record: %v, want ErrInvalid", err)
	}
	if _, err := s.Get("a", "4"); !errors.Is(err, ErrNotFound) {
		t.Error("a refused PutMany wrote part of its records")
	}
}

func TestPutManyDeletes(t *testing.T) {
	home := t.TempDir()
	s := mkStore(t, home)
	if err := s.PutMany([]Record{{Bucket: "a", Key: "1", Value: []byte("one")}, {Bucket: "c", Key: "only", Value: []byte("x")}}); err != nil {
		t.Fatal(err)
	}
	// Delete one, write another and delete a missing one, in one go.
	err := s.PutMany([]Record{
		{Bucket: "a", Key: "1", Delete: true},
		{Bucket: "a", Key: "2", Value: []byte("two")},
		{Bucket: "a", Key: "missing", Delete: true},
		{Bucket: "c", Key: "only", Delete: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = reopen(t, home, pass("correct horse"))
	defer s.Close()
	if _, err := s.Get("a", "1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted record: %v, want ErrNotFound", err)
	}
	mustGet(t, s, "a", "2", []byte("two"))
	n := 0
	if err := s.ForEach("c", func([]byte) error { n++; return nil }); err != nil || n != 0 {
		t.Errorf("bucket emptied by PutMany: %d records, %v", n, err)
	}
}
