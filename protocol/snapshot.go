package protocol

import (
	"bytes"
	"fmt"
	"slices"
)

// Governance snapshots (version 4, kind 17). An organizer names the role
// grants of its zone that a later grant for the same member has
// superseded; catch-up then offers the snapshot and every governance
// message it does not cover, so a member who joins years later does not
// fetch every renewal ever sent. A snapshot carries no state of its own:
// the roster a late joiner folds from the snapshot's tail is the one an
// old member folds from everything, because every covered grant is one
// the fold overrides. A node honours a covered ID only after checking,
// against its own log, that the ID is such a superseded grant (node/
// snapshot.go), so a snapshot can hide no removal, rekey, settings change,
// announcement or link.

// Limits of snapshots.
const (
	// MaxSnapshotCovered bounds the message IDs one snapshot covers
	// (32 KiB of IDs, within MaxBodySize).
	MaxSnapshotCovered = 2048
)

// SnapshotDoc is the body of a kind 17 message: the IDs of the governance
// messages it covers, in ascending byte order, each once.
type SnapshotDoc struct {
	Covered []AlertID
}

// Covers reports whether id is among the covered IDs.
func (d *SnapshotDoc) Covers(id AlertID) bool {
	if d == nil {
		return false
	}
	_, ok := slices.BinarySearchFunc(d.Covered, id, func(a, b AlertID) int { return bytes.Compare(a[:], b[:]) })
	return ok
}

func (d *SnapshotDoc) validate() error {
	switch {
	case len(d.Covered) == 0:
		return &FieldError{Field: "covered", Err: ErrMissing}
	case len(d.Covered) > MaxSnapshotCovered:
		return &FieldError{Field: "covered", Err: fmt.Errorf("%w: %d IDs, at most %d", ErrTooLarge, len(d.Covered), MaxSnapshotCovered)}
	}
	for i := 1; i < len(d.Covered); i++ {
		if bytes.Compare(d.Covered[i-1][:], d.Covered[i][:]) >= 0 {
			return &FieldError{Field: "covered", Err: fmt.Errorf("%w: IDs not in ascending order or repeated", ErrEnum)}
		}
	}
	for _, id := range d.Covered {
		if id.IsZero() {
			return &FieldError{Field: "covered", Err: fmt.Errorf("%w: a zero ID", ErrEnum)}
		}
	}
	return nil
}

func (d *SnapshotDoc) encode(w *writer) {
	w.u16(uint16(len(d.Covered)))
	for _, id := range d.Covered {
		w.raw(id[:])
	}
}

func parseSnapshotDoc(r *reader) *SnapshotDoc {
	d := &SnapshotDoc{}
	n := int(r.u16("covered"))
	if r.err == nil && n > MaxSnapshotCovered {
		r.fail(&FieldError{Field: "covered", Err: fmt.Errorf("%w: %d IDs, at most %d", ErrTooLarge, n, MaxSnapshotCovered)})
		return d
	}
	for i := 0; i < n && r.err == nil; i++ {
		var id AlertID
		r.fixed(id[:], "covered")
		d.Covered = append(d.Covered, id)
	}
	return d
}

// validateSnapshot checks that Snapshot is set in kind 17 only.
func (a *Alert) validateSnapshot() error {
	if (a.Snapshot != nil) != (a.Kind == KindSnapshot) {
		if a.Snapshot != nil {
			return &FieldError{Field: "snapshot", Err: fmt.Errorf("%w: not used by %s", ErrEnum, a.Kind)}
		}
		return &FieldError{Field: "snapshot", Err: ErrMissing}
	}
	if a.Snapshot != nil {
		return a.Snapshot.validate()
	}
	return nil
}

// NewSnapshotDoc sorts ids and drops repeats: the canonical covered list.
func NewSnapshotDoc(ids []AlertID) *SnapshotDoc {
	c := slices.Clone(ids)
	slices.SortFunc(c, func(a, b AlertID) int { return bytes.Compare(a[:], b[:]) })
	return &SnapshotDoc{Covered: slices.Compact(c)}
}
