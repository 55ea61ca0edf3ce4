package protocol

import (
	"bytes"
	"errors"
	"testing"
)

// syncFixture is a fixed hello with two zones, keyed by a fixed sync key.
func syncFixture() (key [32]byte, h SyncHello, ids []AlertID) {
	for i := range key {
		key[i] = byte(i)
	}
	for i := range h.Nonce {
		h.Nonce[i] = 0xa0 + byte(i)
	}
	ids = []AlertID{{0x33, 1}, {0x11, 2}, {0x22, 3}}
	h.Zones = []SyncZone{
		{Epoch: 0, Token: SyncToken(key, h.Nonce[:], "initiator", "responder"), Digest: SyncDigest(key, h.Nonce[:], ids)},
		{Epoch: 7, Token: SyncToken(key, h.Nonce[:], "initiator", "other"), Digest: SyncDigest(key, h.Nonce[:], nil)},
	}
	return key, h, ids
}

func TestGoldenSync(t *testing.T) {
	_, h, ids := syncFixture()
	b := h.Bytes()
	checkGoldenHex(t, "sync_hello", "catch-up sync hello: version 2 | nonce a0..af | 2 zones | (epoch | token | digest) each\nkey 00..1f; tokens for peer IDs \"initiator\"→\"responder\" and \"initiator\"→\"other\"; digest of IDs 33 01.., 11 02.., 22 03.. and of none", b)
	if len(b) != 1+SyncNonceSize+1+2*SyncZoneSize {
		t.Errorf("hello is %d bytes", len(b))
	}
	got, err := ReadSyncHello(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if got.Nonce != h.Nonce || len(got.Zones) != 2 || got.Zones[0] != h.Zones[0] || got.Zones[1] != h.Zones[1] {
		t.Errorf("hello round trip: %+v, want %+v", got, h)
	}
	offer := AppendSyncIDs(nil, ids)
	checkGoldenHex(t, "sync_offer", "catch-up sync offer (or want): u32 count 3 | 3 message IDs", offer)
	gotIDs, err := ReadSyncIDs(bytes.NewReader(offer), 3)
	if err != nil || len(gotIDs) != 3 || gotIDs[0] != ids[0] || gotIDs[2] != ids[2] {
		t.Errorf("offer round trip: %v, %v", gotIDs, err)
	}
	envs := [][]byte{[]byte("first envelope"), {}, []byte{1, 2, 3}}
	answer := AppendSyncEnvelopes(nil, envs)
	checkGoldenHex(t, "sync_envelopes", "catch-up sync answer: u32 count 3 | (u32 len | envelope) × 3, the second empty", answer)
	var w bytes.Buffer
	if err := WriteSyncEnvelopes(&w, envs); err != nil || !bytes.Equal(w.Bytes(), answer) {
		t.Errorf("WriteSyncEnvelopes wrote %x (%v), want %x", w.Bytes(), err, answer)
	}
	gotEnvs, err := ReadSyncEnvelopes(bytes.NewReader(answer), 3)
	if err != nil || len(gotEnvs) != 3 || !bytes.Equal(gotEnvs[0], envs[0]) || len(gotEnvs[1]) != 0 || !bytes.Equal(gotEnvs[2], envs[2]) {
		t.Errorf("answer round trip: %q, %v", gotEnvs, err)
	}
}

// TestSyncDigestOrder: the digest is of the set, and keyed by nonce and key.
func TestSyncDigestOrder(t *testing.T) {
	key, h, ids := syncFixture()
	d := SyncDigest(key, h.Nonce[:], ids)
	if SyncDigest(key, h.Nonce[:], []AlertID{ids[2], ids[0], ids[1]}) != d {
		t.Error("digest depends on the order of IDs")
	}
	if ids[0] != (AlertID{0x33, 1}) {
		t.Error("SyncDigest reordered its argument")
	}
	if SyncDigest(key, make([]byte, SyncNonceSize), ids) == d {
		t.Error("digest ignores the nonce")
	}
	key[0] ^= 1
	if SyncDigest(key, h.Nonce[:], ids) == d {
		t.Error("digest ignores the key")
	}
	if SyncToken(key, h.Nonce[:], "a", "b") == SyncToken(key, h.Nonce[:], "b", "a") {
		t.Error("token ignores the direction")
	}
}

func TestSyncDecodeErrors(t *testing.T) {
	_, h, ids := syncFixture()
	hello := h.Bytes()
	tooMany := append([]byte{SyncVersion}, make([]byte, SyncNonceSize)...)
	tooMany = append(tooMany, MaxSyncZones+1)
	bigEnv := AppendSyncEnvelopes(nil, [][]byte{make([]byte, MaxEnvelopeSize+1)})
	tests := []struct {
		name string
		read func() error
		want error
	}{
		{"hello empty", func() error { _, err := ReadSyncHello(bytes.NewReader(nil)); return err }, ErrTruncated},
		{"hello version", func() error {
			b := bytes.Clone(hello)
			b[0] = 1
			_, err := ReadSyncHello(bytes.NewReader(b))
			return err
		}, ErrVersion},
		{"hello zones", func() error { _, err := ReadSyncHello(bytes.NewReader(tooMany)); return err }, ErrTooLarge},
		{"hello cut", func() error { _, err := ReadSyncHello(bytes.NewReader(hello[:len(hello)-1])); return err }, ErrTruncated},
		{"ids over limit", func() error { _, err := ReadSyncIDs(bytes.NewReader(AppendSyncIDs(nil, ids)), 2); return err }, ErrTooLarge},
		{"ids cut", func() error {
			b := AppendSyncIDs(nil, ids)
			_, err := ReadSyncIDs(bytes.NewReader(b[:len(b)-1]), 3)
			return err
		}, ErrTruncated},
		{"envelopes over limit", func() error {
			_, err := ReadSyncEnvelopes(bytes.NewReader(AppendSyncEnvelopes(nil, [][]byte{{1}, {2}})), 1)
			return err
		}, ErrTooLarge},
		{"envelope too large", func() error { _, err := ReadSyncEnvelopes(bytes.NewReader(bigEnv), 1); return err }, ErrTooLarge},
		{"envelope cut", func() error {
			b := AppendSyncEnvelopes(nil, [][]byte{{1, 2, 3}})
			_, err := ReadSyncEnvelopes(bytes.NewReader(b[:len(b)-1]), 1)
			return err
		}, ErrTruncated},
	}
	for _, tc := range tests {
		if err := tc.read(); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

// TestSyncEnvelopesTotal: an answer stops at MaxSyncBytes in all.
func TestSyncEnvelopesTotal(t *testing.T) {
	n := MaxSyncBytes/MaxEnvelopeSize + 1
	envs := make([][]byte, n)
	for i := range envs {
		envs[i] = make([]byte, MaxEnvelopeSize)
	}
	if _, err := ReadSyncEnvelopes(bytes.NewReader(AppendSyncEnvelopes(nil, envs)), n); !errors.Is(err, ErrTooLarge) {
		t.Errorf("%d full envelopes: %v, want ErrTooLarge", n, err)
	}
	if _, err := ReadSyncEnvelopes(bytes.NewReader(AppendSyncEnvelopes(nil, envs[:n-1])), n); err != nil {
		t.Errorf("%d full envelopes: %v", n-1, err)
	}
}

// FuzzReadSync: the sync decoders never panic on untrusted bytes, and what
// they accept encodes back to the bytes they read.
func FuzzReadSync(f *testing.F) {
	_, h, ids := syncFixture()
	f.Add(h.Bytes())
	f.Add(AppendSyncIDs(nil, ids))
	f.Add(AppendSyncEnvelopes(nil, [][]byte{[]byte("x"), {}}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bytes.NewReader(b)
		if got, err := ReadSyncHello(r); err == nil {
			if used := b[:len(b)-r.Len()]; !bytes.Equal(got.Bytes(), used) {
				t.Fatalf("hello %x re-encodes as %x", used, got.Bytes())
			}
		}
		r = bytes.NewReader(b)
		if got, err := ReadSyncIDs(r, MaxSyncMessages); err == nil {
			if used := b[:len(b)-r.Len()]; !bytes.Equal(AppendSyncIDs(nil, got), used) {
				t.Fatalf("IDs %x re-encode differently", used)
			}
		}
		r = bytes.NewReader(b)
		if got, err := ReadSyncEnvelopes(r, MaxSyncMessages); err == nil {
			if used := b[:len(b)-r.Len()]; !bytes.Equal(AppendSyncEnvelopes(nil, got), used) {
				t.Fatalf("envelopes %x re-encode differently", used)
			}
		}
	})
}
