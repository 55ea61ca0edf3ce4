package protocol

import (
	"bytes"
	"errors"
	"testing"

	"lookout/crypto"
)

func TestRekeyEntry(t *testing.T) {
	f := fx(t)
	old, next := f.secret, f.next
	var otherOld crypto.ZoneSecret
	copy(otherOld[:], testBytes(0x24, crypto.ZoneSecretSize))
	e, err := SealRekeyEntry(f.memberKEM.PublicBytes(), testZone, old, rekeyEpoch, f.member.ID(), next, testReader(0x10))
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Enc) != crypto.EncapsulatedKeySize || len(e.Sealed) != RekeySealedSize || e.Member != f.member.ID() {
		t.Fatalf("entry sizes %d, %d", len(e.Enc), len(e.Sealed))
	}
	with := func(mut func(e *RekeyEntry)) RekeyEntry {
		c := RekeyEntry{Member: e.Member, Enc: bytes.Clone(e.Enc), Sealed: bytes.Clone(e.Sealed)}
		mut(&c)
		return c
	}
	cases := []struct {
		name  string
		kem   *crypto.KEMKey
		zone  ZoneID
		old   crypto.ZoneSecret
		epoch uint32
		e     RekeyEntry
		want  error
	}{
		{"opens", f.memberKEM, testZone, old, rekeyEpoch, e, nil},
		{"another member's KEM key", f.member2KEM, testZone, old, rekeyEpoch, e, ErrDecrypt},
		{"another zone", f.memberKEM, otherZone, old, rekeyEpoch, e, ErrDecrypt},
		// A removed member kept the old secret but not the KEM key; an
		// outsider with the KEM key but not the old secret fails too.
		{"another old secret", f.memberKEM, testZone, otherOld, rekeyEpoch, e, ErrDecrypt},
		{"another epoch", f.memberKEM, testZone, old, rekeyEpoch + 1, e, ErrDecrypt},
		{"entry relabelled for another member", f.memberKEM, testZone, old, rekeyEpoch, with(func(e *RekeyEntry) { e.Member = f.member2.ID() }), ErrDecrypt},
		{"enc tampered", f.memberKEM, testZone, old, rekeyEpoch, with(func(e *RekeyEntry) { e.Enc = flip(e.Enc, 10) }), ErrDecrypt},
		{"enc tampered (last byte)", f.memberKEM, testZone, old, rekeyEpoch, with(func(e *RekeyEntry) { e.Enc = flip(e.Enc, len(e.Enc)-1) }), ErrDecrypt},
		{"sealed tampered", f.memberKEM, testZone, old, rekeyEpoch, with(func(e *RekeyEntry) { e.Sealed = flip(e.Sealed, 0) }), ErrDecrypt},
		{"tag tampered", f.memberKEM, testZone, old, rekeyEpoch, with(func(e *RekeyEntry) { e.Sealed = flip(e.Sealed, RekeySealedSize-1) }), ErrDecrypt},
		{"enc short", f.memberKEM, testZone, old, rekeyEpoch, with(func(e *RekeyEntry) { e.Enc = e.Enc[:10] }), ErrEnum},
		{"sealed long", f.memberKEM, testZone, old, rekeyEpoch, with(func(e *RekeyEntry) { e.Sealed = append(e.Sealed, 0) }), ErrEnum},
		{"empty entry", f.memberKEM, testZone, old, rekeyEpoch, RekeyEntry{}, ErrEnum},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := OpenRekeyEntry(c.kem, c.zone, c.old, c.epoch, c.e)
			if c.want == nil {
				if err != nil || got != next {
					t.Fatalf("OpenRekeyEntry = %x, %v", got, err)
				}
				return
			}
			if !errors.Is(err, c.want) || got != (crypto.ZoneSecret{}) {
				t.Fatalf("OpenRekeyEntry = %x, %v; want %v", got, err, c.want)
			}
			if c.want == ErrDecrypt && !errors.Is(err, crypto.ErrDecrypt) {
				t.Errorf("error does not wrap crypto.ErrDecrypt: %v", err)
			}
		})
	}

	// Sealing is deterministic given the reader, and different per reader.
	again, _ := SealRekeyEntry(f.memberKEM.PublicBytes(), testZone, old, rekeyEpoch, f.member.ID(), next, testReader(0x10))
	other, _ := SealRekeyEntry(f.memberKEM.PublicBytes(), testZone, old, rekeyEpoch, f.member.ID(), next, testReader(0x11))
	if !bytes.Equal(again.Enc, e.Enc) || !bytes.Equal(again.Sealed, e.Sealed) || bytes.Equal(other.Enc, e.Enc) || bytes.Equal(other.Sealed, e.Sealed) {
		t.Errorf("sealing is not a function of the reader")
	}

	// The parameters are those of the spec: the entry opens with the raw
	// HPKE call.
	pskID := append(append([]byte("lookout rekey v1"), testZone[:]...), 0, 0, 0, byte(rekeyEpoch))
	aad := append(append(bytes.Clone(testZone[:]), 0, 0, 0, byte(rekeyEpoch)), e.Member[:]...)
	pt, err := f.memberKEM.Open(e.Enc, e.Sealed, []byte("lookout rekey v1"), old[:], pskID, aad)
	if err != nil || !bytes.Equal(pt, next[:]) {
		t.Errorf("raw HPKE open: %v", err)
	}

	for _, c := range []struct {
		name   string
		pub    []byte
		epoch  uint32
		member crypto.MemberID
		want   error
	}{
		{"epoch 0", f.memberKEM.PublicBytes(), 0, f.member.ID(), ErrEnum},
		{"zero member", f.memberKEM.PublicBytes(), rekeyEpoch, crypto.MemberID{}, ErrMissing},
		{"short KEM key", f.memberKEM.PublicBytes()[:100], rekeyEpoch, f.member.ID(), crypto.ErrBadKEMKey},
		{"no KEM key", nil, rekeyEpoch, f.member.ID(), crypto.ErrBadKEMKey},
	} {
		t.Run("seal/"+c.name, func(t *testing.T) {
			if _, err := SealRekeyEntry(c.pub, testZone, old, c.epoch, c.member, next, testReader(1)); !errors.Is(err, c.want) {
				t.Errorf("SealRekeyEntry = %v, want %v", err, c.want)
			}
		})
	}
}
