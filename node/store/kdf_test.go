package store

import (
	"fmt"
	"runtime/metrics"
	"testing"
)

func TestKDFFor(t *testing.T) {
	const GiB = 1 << 30
	for _, tc := range []struct {
		ram  uint64
		want KDFParams
	}{
		{0, KDFParams{Time: 24, MemoryKiB: 64 << 10, Threads: 4}},           // unknown
		{1 * GiB, KDFParams{Time: 24, MemoryKiB: 64 << 10, Threads: 4}},     // a small board
		{2 * GiB, KDFParams{Time: 12, MemoryKiB: 128 << 10, Threads: 4}},    // an old phone
		{4 * GiB, KDFParams{Time: 6, MemoryKiB: 256 << 10, Threads: 4}},     // a phone
		{8 * GiB, KDFParams{Time: 3, MemoryKiB: 512 << 10, Threads: 4}},     // a laptop
		{64 * GiB, KDFParams{Time: 3, MemoryKiB: 512 << 10, Threads: 4}},    // capped
		{8*GiB - 1, KDFParams{Time: 6, MemoryKiB: 256 << 10, Threads: 4}},   // just under
		{3 * GiB / 2, KDFParams{Time: 24, MemoryKiB: 64 << 10, Threads: 4}}, // 96 MiB share
	} {
		got := KDFFor(tc.ram)
		if got != tc.want {
			t.Errorf("KDFFor(%d MiB) = %+v, want %+v", tc.ram>>20, got, tc.want)
		}
		if !got.valid() {
			t.Errorf("KDFFor(%d MiB) = %+v is out of the header's bounds", tc.ram>>20, got)
		}
	}
}

// TestUnlockGivesMemoryBack checks that after a passphrase unlock the
// derivation's memory is neither live nor kept by the Go heap: an
// always-on node must not hold it for its whole life.
func TestUnlockGivesMemoryBack(t *testing.T) {
	const kdfMiB = 128
	opt := Options{KDF: KDFParams{Time: 1, MemoryKiB: kdfMiB << 10, Threads: 1}, FailureDelay: -1}
	home := t.TempDir()
	s, err := Create(home, pass("correct horse"), nil, opt)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(home, pass("correct horse"), opt)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	held := heapHeld()
	t.Logf("heap held by the process after unlock: %d MiB (derivation used %d MiB)", held>>20, kdfMiB)
	if held >= kdfMiB<<20/2 {
		t.Errorf("after unlock the heap holds %d MiB (live, garbage or free but not returned); the %d MiB of the derivation were kept", held>>20, kdfMiB)
	}
}

// heapHeld returns the heap memory the process holds from the system:
// objects (live or not yet swept) and free spans not yet returned.
func heapHeld() uint64 {
	ms := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/free:bytes"}, {Name: "/memory/classes/heap/unused:bytes"}}
	metrics.Read(ms)
	var n uint64
	for _, m := range ms {
		n += m.Value.Uint64()
	}
	return n
}

// BenchmarkKDF measures one Argon2id derivation for each memory size
// KDFFor can choose, at the passes it pairs with it.
func BenchmarkKDF(b *testing.B) {
	salt := make([]byte, saltSize)
	for _, mib := range []uint32{64, 128, 256, 512} {
		kdf := KDFFor(uint64(mib) << 20 * kdfMemoryShare)
		b.Run(fmt.Sprintf("%dMiB-t%d", mib, kdf.Time), func(b *testing.B) {
			for b.Loop() {
				if _, err := deriveKEK(pass("correct horse"), kdf, salt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
