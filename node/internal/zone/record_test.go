package zone

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"lookout/protocol"
)

// TestRecordOpen: a consistent record opens to its membership; a damaged
// or forged one fails naming the zone and the part that is wrong.
func TestRecordOpen(t *testing.T) {
	f := newFixture(t)
	ada := f.identity(2)
	leaf := f.cert(f.founder, ada, protocol.RoleVerifier)
	good := func() Record {
		return Record{ID: f.zone.String(), Name: "north", Epoch: 3, Secret: bytes.Repeat([]byte{3}, 32),
			Root: f.founder.Public().Bytes(), Chain: [][]byte{leaf.Bytes()},
			Old: []EpochSecret{{Epoch: 2, Secret: bytes.Repeat([]byte{2}, 32)}}}
	}
	r := good()
	m, err := r.Open(ada.Public(), f.now)
	if err != nil {
		t.Fatal(err)
	}
	if m.Zone != f.zone || m.Epoch != 3 || m.Role != protocol.RoleVerifier || len(m.Epochs) != 2 || m.Epochs[2][0] != 2 || m.Epochs[3][0] != 3 {
		t.Errorf("membership %+v", m)
	}
	tests := []struct {
		name   string
		damage func(*Record)
		self   bool // open as another identity
		at     time.Duration
		want   string
	}{
		{"zone ID", func(r *Record) { r.ID = "zz" }, false, 0, "zone \"north\""},
		{"short secret", func(r *Record) { r.Secret = r.Secret[:31] }, false, 0, "secret is damaged"},
		{"short old secret", func(r *Record) { r.Old[0].Secret = nil }, false, 0, "old secret is damaged"},
		{"root key", func(r *Record) { r.Root = r.Root[:10] }, false, 0, "root key"},
		{"certificate bytes", func(r *Record) { r.Chain[0] = r.Chain[0][:20] }, false, 0, "certificate"},
		{"chain of another root", func(r *Record) { r.Root = f.identity(7).Public().Bytes() }, false, 0, "own certificate"},
		{"expired chain of another root", func(r *Record) { r.Root = f.identity(7).Public().Bytes() }, false, 48 * time.Hour, "own certificate"},
		{"expired forged certificate", func(r *Record) {
			b := bytes.Clone(r.Chain[0])
			b[len(b)-1] ^= 1
			r.Chain[0] = b
		}, false, 48 * time.Hour, "own certificate"},
		{"certificate from the future", func(*Record) {}, false, -48 * time.Hour, "own certificate"},
		{"another member's chain", func(*Record) {}, true, 0, "another identity"},
	}
	for _, tc := range tests {
		r := good()
		tc.damage(&r)
		self := ada.Public()
		if tc.self {
			self = f.identity(8).Public()
		}
		if _, err := r.Open(self, f.now.Add(tc.at)); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "north") {
			t.Errorf("%s: %v, want an error naming the zone and %q", tc.name, err, tc.want)
		}
	}
}

// TestRecordOpenExpired: a sound chain past its expiry opens, marked
// Expired at its earliest expiry, so the node starts and reads the zone.
func TestRecordOpenExpired(t *testing.T) {
	f := newFixture(t)
	ada := f.identity(2)
	leaf := f.cert(f.founder, ada, protocol.RoleMember)
	r := Record{ID: f.zone.String(), Name: "north", Secret: bytes.Repeat([]byte{3}, 32),
		Root: f.founder.Public().Bytes(), Chain: [][]byte{leaf.Bytes()}}
	m, err := r.Open(ada.Public(), f.now)
	if err != nil || !m.Expired.IsZero() {
		t.Fatalf("valid: Expired %v, err %v", m.Expired, err)
	}
	m, err = r.Open(ada.Public(), f.now.Add(48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !m.Expired.Equal(leaf.Expires) || m.Role != protocol.RoleMember {
		t.Errorf("expired: Expired %v role %v, want %v member", m.Expired, m.Role, leaf.Expires)
	}
}

// TestRecordJSON pins the stored form: field names are what stores hold.
func TestRecordJSON(t *testing.T) {
	r := Record{ID: "i", Name: "n", Epoch: 1, Secret: []byte{1}, Root: []byte{2}, Chain: [][]byte{{3}}, Peers: []string{"p"},
		Created: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Old: []EpochSecret{{Epoch: 0, Secret: []byte{4}}}, EpochFrom: "e", Gov: [][]byte{{5}}, Removed: true}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"id":"i","name":"n","epoch":1,"secret":"AQ==","root":"Ag==","chain":["Aw=="],"peers":["p"],"created":"2026-01-02T03:04:05Z","old":[{"epoch":0,"secret":"BA=="}],"epoch_from":"e","gov":["BQ=="],"removed":true}`
	if string(b) != want {
		t.Errorf("stored form\n got %s\nwant %s", b, want)
	}
}
