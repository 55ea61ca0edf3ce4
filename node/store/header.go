package store

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime/debug"

	"github.com/pbnjay/memory"
	"golang.org/x/crypto/argon2"

	"lookout/crypto"
)

// The key header (headerFile) is a fixed-size file:
//
//	off  size
//	0    4    magic "LKST"
//	4    2    format version, big-endian (formatVersion)
//	6    1    KDF algorithm (kdfArgon2id)
//	7    1    Argon2 parallelism (threads)
//	8    4    Argon2 memory in KiB, big-endian
//	12   4    Argon2 passes (time), big-endian
//	16   32   salt
//	48   73   slot 0: 24-byte nonce | XChaCha20-Poly1305(KEK, kind | 32-byte key)
//	121  73   slot 1: the same
//
// Each slot is sealed with AAD = header[0:48] | slot index, so the KDF
// parameters cannot be altered and slots cannot be moved without the unwrap
// failing. A slot's kind is slotReal (the key is the data key) or
// slotDuress (the key is random filler). An unused slot is 73 random bytes,
// which no one can tell from a sealed one.
const (
	headerMagic   = "LKST"
	formatVersion = 1

	kdfArgon2id = 1

	saltSize      = 32
	keySize       = 32
	prefixSize    = 16 + saltSize // magic .. salt: the slots' AAD
	slotPlainSize = 1 + keySize
	slotSize      = crypto.NonceSize + slotPlainSize + crypto.Overhead
	headerSize    = prefixSize + 2*slotSize

	slotReal   = 1
	slotDuress = 2
)

// KDFParams are Argon2id parameters. They are recorded in the key header,
// so a store keeps opening after the defaults change.
type KDFParams struct {
	Time      uint32 // passes over memory
	MemoryKiB uint32 // memory in KiB
	Threads   uint8  // parallelism (lanes)
}

// DefaultKDF are the parameters of new stores on this device: see KDFFor.
var DefaultKDF = KDFFor(memory.TotalMemory())

// kdfCost is the product memory (MiB) × passes that every choice of
// KDFFor keeps: about 0.5 s for one derivation on a 2-core laptop
// (STORE.md, BenchmarkKDF).
const kdfCost = 1536

// Memory bounds of KDFFor, in MiB, and the share of the device's memory
// one derivation may take.
const (
	kdfMinMiB      = 64
	kdfMaxMiB      = 512
	kdfMemoryShare = 16 // at most 1/16 of the device's memory
)

// KDFFor returns the Argon2id parameters for a device with totalRAM bytes
// of memory (0 if unknown): as much memory as the device allows, up to
// 512 MiB and at most 1/16 of it, never below RFC 9106's 64 MiB, with the
// passes lowered to keep unlock time about constant (512 MiB × 3 passes,
// 256 × 6, 128 × 12, 64 × 24). A GPU cracker's parallelism is bounded by
// its memory, so memory, not passes, is what makes each guess expensive.
func KDFFor(totalRAM uint64) KDFParams {
	mib := uint32(kdfMaxMiB)
	for mib > kdfMinMiB && uint64(mib)<<20 > totalRAM/kdfMemoryShare {
		mib /= 2
	}
	return KDFParams{Time: max(3, kdfCost/mib), MemoryKiB: mib * 1024, Threads: 4}
}

// Bounds on parameters read from a header: a damaged or hostile file must
// not make Open allocate gigabytes or spin for minutes.
const (
	maxKDFTime      = 64
	maxKDFMemoryKiB = 1 << 20 // 1 GiB
	maxKDFThreads   = 64
)

func (p KDFParams) valid() bool {
	return p.Time >= 1 && p.Time <= maxKDFTime &&
		p.Threads >= 1 && p.Threads <= maxKDFThreads &&
		p.MemoryKiB >= 8*uint32(p.Threads) && p.MemoryKiB <= maxKDFMemoryKiB
}

// header is a parsed key header.
type header struct {
	kdf   KDFParams
	salt  [saltSize]byte
	slots [2][slotSize]byte
}

func (h *header) prefix() []byte {
	b := make([]byte, 0, prefixSize)
	b = append(b, headerMagic...)
	b = binary.BigEndian.AppendUint16(b, formatVersion)
	b = append(b, kdfArgon2id, h.kdf.Threads)
	b = binary.BigEndian.AppendUint32(b, h.kdf.MemoryKiB)
	b = binary.BigEndian.AppendUint32(b, h.kdf.Time)
	return append(b, h.salt[:]...)
}

func (h *header) marshal() []byte {
	b := h.prefix()
	return append(append(b, h.slots[0][:]...), h.slots[1][:]...)
}

// parseHeader decodes a key header. It never panics; errors wrap
// ErrNewerVersion or ErrCorrupt and say nothing about the contents.
func parseHeader(b []byte) (*header, error) {
	if len(b) < 6 || string(b[:4]) != headerMagic {
		return nil, fmt.Errorf("%w: key header is not a Lookout store header", ErrCorrupt)
	}
	v := binary.BigEndian.Uint16(b[4:6])
	if v > formatVersion {
		return nil, fmt.Errorf("%w: store format %d, this version reads up to %d", ErrNewerVersion, v, formatVersion)
	}
	if v != formatVersion {
		return nil, fmt.Errorf("%w: key header has unknown format %d", ErrCorrupt, v)
	}
	if len(b) != headerSize {
		return nil, fmt.Errorf("%w: key header is %d bytes, want %d", ErrCorrupt, len(b), headerSize)
	}
	if b[6] != kdfArgon2id {
		return nil, fmt.Errorf("%w: key header names KDF %d, unknown to this version", ErrNewerVersion, b[6])
	}
	h := &header{kdf: KDFParams{
		Threads:   b[7],
		MemoryKiB: binary.BigEndian.Uint32(b[8:12]),
		Time:      binary.BigEndian.Uint32(b[12:16]),
	}}
	if !h.kdf.valid() {
		return nil, fmt.Errorf("%w: key header has out-of-range KDF parameters", ErrCorrupt)
	}
	copy(h.salt[:], b[16:prefixSize])
	copy(h.slots[0][:], b[prefixSize:])
	copy(h.slots[1][:], b[prefixSize+slotSize:])
	return h, nil
}

func readHeader(path string) (*header, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNoStore
	}
	if err != nil {
		return nil, fmt.Errorf("read key header: %w", err)
	}
	defer f.Close()
	// Read at most one byte more than a header: enough to reject a longer
	// file without reading a huge one.
	b, err := io.ReadAll(io.LimitReader(f, headerSize+1))
	if err != nil {
		return nil, fmt.Errorf("read key header: %w", err)
	}
	return parseHeader(b)
}

func slotAAD(h *header, i int) []byte {
	return append(h.prefix(), byte(i))
}

// wrap seals kind|key into slot i under kek.
func (h *header) wrap(i int, kek []byte, kind byte, key []byte) error {
	a, err := crypto.NewAEADKey(kek)
	if err != nil {
		return err
	}
	var slot [slotSize]byte
	nonce := slot[:crypto.NonceSize]
	if _, err := rand.Read(nonce); err != nil {
		return fmt.Errorf("random: %w", err)
	}
	pt := make([]byte, 0, slotPlainSize)
	pt = append(append(pt, kind), key...)
	ct, err := a.Seal(nil, nonce, pt, slotAAD(h, i))
	clear(pt)
	if err != nil {
		return err
	}
	copy(slot[crypto.NonceSize:], ct)
	h.slots[i] = slot
	return nil
}

// randomSlot fills slot i with random bytes: an unused slot.
func (h *header) randomSlot(i int) error {
	if _, err := rand.Read(h.slots[i][:]); err != nil {
		return fmt.Errorf("random: %w", err)
	}
	return nil
}

// unwrap tries kek on both slots (always both, so the time taken does not
// depend on which one matches). It returns the matching slot's index,
// kind and key, or ok false.
func (h *header) unwrap(kek []byte) (idx int, kind byte, key []byte, ok bool) {
	a, err := crypto.NewAEADKey(kek)
	if err != nil {
		return 0, 0, nil, false
	}
	idx = -1
	for i := range h.slots {
		s := h.slots[i][:]
		pt, err := a.Open(nil, s[:crypto.NonceSize], s[crypto.NonceSize:], slotAAD(h, i))
		if err != nil || len(pt) != slotPlainSize || (pt[0] != slotReal && pt[0] != slotDuress) {
			continue
		}
		if idx < 0 {
			idx, kind, key = i, pt[0], pt[1:]
		}
	}
	if idx < 0 {
		return 0, 0, nil, false
	}
	return idx, kind, key, true
}

const keyFileInfo = "lookout store key-file kek v1"

// deriveKEK turns a secret into the key-encryption key for a header's
// salt: Argon2id for a passphrase, HKDF-SHA256 for a 32-byte key file
// (already uniformly random, so stretching it would add nothing).
func deriveKEK(s Secret, kdf KDFParams, salt []byte) ([]byte, error) {
	if err := s.validate(); err != nil {
		return nil, err
	}
	if s.KeyFile == "" {
		k := argon2.IDKey(s.Passphrase, salt, kdf.Time, kdf.MemoryKiB, kdf.Threads, keySize)
		// Argon2id's blocks are garbage now: give them back to the system
		// at once, so an always-on node does not keep the derivation's
		// memory resident for its whole life.
		debug.FreeOSMemory()
		return k, nil
	}
	k, err := readKeyFile(s.KeyFile)
	if err != nil {
		return nil, err
	}
	defer clear(k)
	return hkdf.Key(sha256.New, k, salt, keyFileInfo, keySize)
}

// KeyFileSize is the size of a key file.
const KeyFileSize = 32

func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: key file not found", ErrBadSecret)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: key file cannot be read", ErrBadSecret)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, KeyFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%w: key file cannot be read", ErrBadSecret)
	}
	if len(b) != KeyFileSize {
		clear(b)
		return nil, fmt.Errorf("%w: key file must be exactly %d bytes", ErrBadSecret, KeyFileSize)
	}
	return b, nil
}

// CreateKeyFile writes a new random key file at path (mode 0600) for a
// headless node. It refuses to overwrite an existing file. Keep the file
// off the machine's disk (a USB stick) or it protects nothing.
func CreateKeyFile(path string) error {
	k := make([]byte, KeyFileSize)
	defer clear(k)
	if _, err := rand.Read(k); err != nil {
		return fmt.Errorf("create key file: random: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create key file: %w", err)
	}
	if _, err := f.Write(k); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("create key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("create key file: %w", err)
	}
	return f.Close()
}

// sameKey compares two keys in constant time.
func sameKey(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }
