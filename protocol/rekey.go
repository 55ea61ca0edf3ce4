package protocol

import (
	"encoding/binary"
	"fmt"
	"io"

	"lookout/crypto"
)

// rekeyInfo is the HPKE info string of rekey entries.
const rekeyInfo = "lookout rekey v1"

// rekeyPSKID is "lookout rekey v1" ‖ zone ID ‖ u32 epoch.
func rekeyPSKID(zone ZoneID, epoch uint32) []byte {
	b := make([]byte, 0, len(rekeyInfo)+ZoneIDSize+4)
	b = append(b, rekeyInfo...)
	b = append(b, zone[:]...)
	return binary.BigEndian.AppendUint32(b, epoch)
}

// rekeyAAD is zone ID ‖ u32 epoch ‖ member ID.
func rekeyAAD(zone ZoneID, epoch uint32, member crypto.MemberID) []byte {
	b := make([]byte, 0, ZoneIDSize+4+crypto.MemberIDSize)
	b = append(b, zone[:]...)
	b = binary.BigEndian.AppendUint32(b, epoch)
	return append(b, member[:]...)
}

// SealRekeyEntry seals the zone secret next of the new epoch to one
// member's X-Wing public key kemPub, with HPKE in PSK mode:
//
//	info   = "lookout rekey v1"
//	psk    = old, the zone secret of the epoch being replaced
//	psk_id = "lookout rekey v1" ‖ zone ‖ u32 epoch
//	aad    = zone ‖ u32 epoch ‖ member
//
// The PSK binds the entry to the zone: a removed member who kept the old
// secret still lacks the remaining members' KEM private keys, and an
// outsider who broke X-Wing would still need the old secret. rand supplies
// the encapsulation randomness (nil means crypto/rand).
func SealRekeyEntry(kemPub []byte, zone ZoneID, old crypto.ZoneSecret, epoch uint32, member crypto.MemberID, next crypto.ZoneSecret, rand io.Reader) (RekeyEntry, error) {
	if epoch == 0 {
		return RekeyEntry{}, fmt.Errorf("seal rekey entry: %w: epoch 0", ErrEnum)
	}
	if member.IsZero() {
		return RekeyEntry{}, fmt.Errorf("seal rekey entry: member: %w", ErrMissing)
	}
	enc, ct, err := crypto.SealTo(kemPub, []byte(rekeyInfo), old[:], rekeyPSKID(zone, epoch), rekeyAAD(zone, epoch, member), next[:], rand)
	if err != nil {
		return RekeyEntry{}, fmt.Errorf("seal rekey entry: %w", err)
	}
	return RekeyEntry{Member: member, Enc: enc, Sealed: ct}, nil
}

// OpenRekeyEntry opens an entry sealed by SealRekeyEntry to kem. Any
// failure to open (wrong key, zone, old secret, epoch or member, or
// tampering) wraps ErrDecrypt (and crypto.ErrDecrypt); malformed sizes
// give ErrEnum.
func OpenRekeyEntry(kem *crypto.KEMKey, zone ZoneID, old crypto.ZoneSecret, epoch uint32, e RekeyEntry) (crypto.ZoneSecret, error) {
	var next crypto.ZoneSecret
	if len(e.Enc) != crypto.EncapsulatedKeySize || len(e.Sealed) != RekeySealedSize {
		return next, fmt.Errorf("open rekey entry: %w: sizes %d, %d", ErrEnum, len(e.Enc), len(e.Sealed))
	}
	pt, err := kem.Open(e.Enc, e.Sealed, []byte(rekeyInfo), old[:], rekeyPSKID(zone, epoch), rekeyAAD(zone, epoch, e.Member))
	if err != nil {
		return next, fmt.Errorf("open rekey entry: %w: %w", ErrDecrypt, err)
	}
	if len(pt) != crypto.ZoneSecretSize {
		return next, fmt.Errorf("open rekey entry: %w: %d-byte secret", ErrDecrypt, len(pt))
	}
	copy(next[:], pt)
	return next, nil
}
