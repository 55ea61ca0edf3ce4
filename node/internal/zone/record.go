package zone

import (
	"fmt"
	"time"

	"lookout/crypto"
	"lookout/protocol"
)

// Record is a zone membership as a node stores it (JSON, bucket zones):
// the one record form of a zone.
type Record struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Epoch   uint32    `json:"epoch"`
	Secret  []byte    `json:"secret"`
	Root    []byte    `json:"root"`  // root (founder) public key
	Chain   [][]byte  `json:"chain"` // this member's certificate chain, leaf first
	Peers   []string  `json:"peers"` // known members' multiaddrs with /p2p/, for redialling
	Created time.Time `json:"created"`
	// Old holds the secrets of earlier epochs, to read governance messages
	// that members who were offline still need.
	Old []EpochSecret `json:"old,omitempty"`
	// EpochFrom is the ID of the rekey that set the current epoch.
	EpochFrom string `json:"epoch_from,omitempty"`
	// Gov is the governance envelopes of a record written before each
	// governance message had a store record of its own: read once at
	// start, moved to those records and cleared (node/govlog.go).
	Gov [][]byte `json:"gov,omitempty"`
	// Removed is set once this member has been removed from the zone.
	Removed bool `json:"removed,omitempty"`
	// Places are the places this member reported, newest first, at most
	// MaxRecentPlaces: the report form offers them (api.Zone.Places). They
	// live here, in the encrypted store, and go with the zone.
	Places []string `json:"places,omitempty"`
}

// MaxRecentPlaces bounds Record.Places.
const MaxRecentPlaces = 5

// EpochSecret is the secret of an earlier epoch.
type EpochSecret struct {
	Epoch  uint32 `json:"epoch"`
	Secret []byte `json:"secret"`
}

// Membership is what a checked Record says.
type Membership struct {
	Zone    protocol.ZoneID
	Root    *crypto.PublicKey
	Epoch   uint32                       // current epoch
	Epochs  map[uint32]crypto.ZoneSecret // every epoch's secret, the current one included
	Chain   protocol.Chain               // this member's certificate chain
	Role    protocol.Role                // from the chain
	Removed bool
	// Expired is when the chain expired if it is past that but otherwise
	// sound (it verifies just before): the membership can still read,
	// not send, until an organizer renews it. Zero if the chain is valid.
	Expired time.Time
}

// Open checks that a record is consistent (well-formed ID, secrets and
// root key; a certificate chain that verifies against the root at now and
// certifies self) and returns the membership it describes. A record read
// from a damaged or forged store fails here with the zone's name and the
// part that is wrong.
func (r *Record) Open(self *crypto.PublicKey, now time.Time) (Membership, error) {
	m := Membership{Epochs: map[uint32]crypto.ZoneSecret{}, Removed: r.Removed}
	var err error
	if m.Zone, err = protocol.ParseZoneID(r.ID); err != nil {
		return Membership{}, fmt.Errorf("zone %q: %w", r.Name, err)
	}
	if len(r.Secret) != crypto.ZoneSecretSize {
		return Membership{}, fmt.Errorf("zone %q: secret is damaged", r.Name)
	}
	m.Epoch, m.Epochs[r.Epoch] = r.Epoch, crypto.ZoneSecret(r.Secret)
	for _, o := range r.Old {
		if len(o.Secret) != crypto.ZoneSecretSize {
			return Membership{}, fmt.Errorf("zone %q: old secret is damaged", r.Name)
		}
		m.Epochs[o.Epoch] = crypto.ZoneSecret(o.Secret)
	}
	if m.Root, err = crypto.ParsePublicKey(r.Root); err != nil {
		return Membership{}, fmt.Errorf("zone %q: root key: %w", r.Name, err)
	}
	for _, b := range r.Chain {
		c, err := protocol.ParseCert(b)
		if err != nil {
			return Membership{}, fmt.Errorf("zone %q: certificate: %w", r.Name, err)
		}
		m.Chain = append(m.Chain, c)
	}
	cv := &protocol.ChainVerifier{Zone: m.Zone, Root: m.Root}
	if m.Role, err = cv.Verify(m.Chain, now); err != nil {
		exp := m.Chain.Expires()
		if exp.IsZero() || now.Before(exp) {
			return Membership{}, fmt.Errorf("zone %q: own certificate: %w", r.Name, err)
		}
		// Expired: sound if it verifies at its last valid instant.
		if m.Role, err = cv.Verify(m.Chain, exp.Add(-time.Nanosecond)); err != nil {
			return Membership{}, fmt.Errorf("zone %q: own certificate: %w", r.Name, err)
		}
		m.Expired = exp
	}
	if !m.Chain.Leaf().Subject.Equal(self) {
		return Membership{}, fmt.Errorf("zone %q: certificate belongs to another identity", r.Name)
	}
	return m, nil
}
