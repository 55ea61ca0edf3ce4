package protocol

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// newSnapshot is the organizer's snapshot covering alert_role.golden's ID
// and a second, made-up grant ID.
func newSnapshot() *Alert {
	a := governance(KindSnapshot, fixtureOnce().org.ID())
	role, err := newRole().MarshalBinary()
	if err != nil {
		panic(err)
	}
	var other AlertID
	for i := range other {
		other[i] = 1
	}
	a.Snapshot = NewSnapshotDoc([]AlertID{ComputeAlertID(role), other})
	return a
}

func TestSnapshotEncoding(t *testing.T) {
	a := newSnapshot()
	b := mustBody(t, a)
	// The fixed part, then u16 count and the IDs.
	if Kind(b[1]) != KindSnapshot || !bytes.Equal(b[86:88], []byte{0, 0}) || !bytes.Equal(b[88:90], []byte{0, 2}) || len(b) != 90+2*AlertIDSize {
		t.Fatalf("snapshot body % x", b)
	}
	got, err := ParseAlert(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Snapshot.Covered) != 2 || !got.Snapshot.Covers(a.Snapshot.Covered[1]) || got.Snapshot.Covers(AlertID{2}) {
		t.Fatalf("parsed snapshot %+v", got.Snapshot)
	}
	if !KindSnapshot.IsGovernance() || KindSnapshot.IsZoneDoc() {
		t.Error("a snapshot is governance, not a zone document")
	}
	full := make([]AlertID, MaxSnapshotCovered)
	for i := range full {
		full[i] = AlertID{byte(i >> 8), byte(i), 1}
	}
	a.Snapshot = NewSnapshotDoc(full)
	if _, err := a.MarshalBinary(); err != nil {
		t.Errorf("a snapshot of %d IDs: %v", MaxSnapshotCovered, err)
	}
}

// TestSnapshotRejects: every malformed snapshot is refused, by the encoder
// and by the decoder.
func TestSnapshotRejects(t *testing.T) {
	id := func(b byte) AlertID { return AlertID{b, 1} }
	for name, c := range map[string]struct {
		edit func(*Alert) *Alert
		want error
	}{
		"missing":     {func(a *Alert) *Alert { a.Snapshot = nil; return a }, ErrMissing},
		"empty":       {func(a *Alert) *Alert { a.Snapshot = &SnapshotDoc{}; return a }, ErrMissing},
		"unsorted":    {func(a *Alert) *Alert { a.Snapshot = &SnapshotDoc{Covered: []AlertID{id(2), id(1)}}; return a }, ErrEnum},
		"repeated":    {func(a *Alert) *Alert { a.Snapshot = &SnapshotDoc{Covered: []AlertID{id(1), id(1)}}; return a }, ErrEnum},
		"zero ID":     {func(a *Alert) *Alert { a.Snapshot = &SnapshotDoc{Covered: []AlertID{{}, id(1)}}; return a }, ErrEnum},
		"on a remove": {func(a *Alert) *Alert { r := newRemove(); r.Snapshot = a.Snapshot; return r }, ErrEnum},
		"with a ref":  {func(a *Alert) *Alert { a.Ref = id(3); return a }, ErrEnum},
		"too many": {func(a *Alert) *Alert {
			ids := make([]AlertID, MaxSnapshotCovered+1)
			for i := range ids {
				ids[i] = AlertID{byte(i >> 8), byte(i), 1}
			}
			a.Snapshot = NewSnapshotDoc(ids)
			return a
		}, ErrTooLarge},
	} {
		a := c.edit(newSnapshot())
		if _, err := a.MarshalBinary(); !errors.Is(err, c.want) {
			t.Errorf("%s: encode = %v, want %v", name, err, c.want)
		}
	}
	// The decoder: swap the two IDs of a good body; claim more IDs than
	// the body holds; claim more than the limit.
	b := mustBody(t, newSnapshot())
	swapped := bytes.Clone(b)
	copy(swapped[90:], b[90+AlertIDSize:])
	copy(swapped[90+AlertIDSize:], b[90:90+AlertIDSize])
	if _, err := ParseAlert(swapped); !errors.Is(err, ErrEnum) {
		t.Errorf("swapped IDs: %v", err)
	}
	short := bytes.Clone(b)
	short[89] = 3
	if _, err := ParseAlert(short); !errors.Is(err, ErrTruncated) {
		t.Errorf("short: %v", err)
	}
	huge := bytes.Clone(b[:90])
	binary.BigEndian.PutUint16(huge[88:], MaxSnapshotCovered+1)
	if _, err := ParseAlert(huge); !errors.Is(err, ErrTooLarge) {
		t.Errorf("over the limit: %v", err)
	}
}

// TestSnapshotOrganizersOnly: only an organizer's snapshot passes the
// validator.
func TestSnapshotOrganizersOnly(t *testing.T) {
	f := fx(t)
	for _, c := range []struct {
		name  string
		s     *Signed
		allow bool
	}{
		{"organizer", mustSign(t, f.org, f.orgChain, newSnapshot()), true},
		{"verifier", mustSign(t, f.verifier, f.verifierChain, newSnapshot()), false},
		{"member", mustSign(t, f.member, f.memberChain, newSnapshot()), false},
	} {
		_, err := f.validator().Check(c.s, t0)
		if c.allow != (err == nil) || (!c.allow && !errors.Is(err, ErrNotAllowed)) {
			t.Errorf("%s: Check = %v", c.name, err)
		}
	}
	if err := CheckRole(newSnapshot(), RoleVerifier); !errors.Is(err, ErrNotAllowed) {
		t.Errorf("CheckRole(verifier) = %v", err)
	}
}
