package app

import (
	"context"
	"errors"

	"lookout/node/api"
)

// Backend is what the app needs from a node: the methods of
// control.Backend it calls. *node.Node and controltest.Fake implement it.
type Backend interface {
	Status() api.Status
	CreateZone(ctx context.Context, name string) (api.Zone, error)
	Invite(ctx context.Context, req api.InviteRequest) (api.InviteResponse, error)
	Join(ctx context.Context, code string) (api.Zone, error)
	Zones() []api.Zone
	LeaveZone(ctx context.Context, zone string) (api.Zone, error)
	Report(ctx context.Context, req api.ReportRequest) (api.Alert, error)
	Callout(ctx context.Context, req api.CalloutRequest) (api.Alert, error)
	Confirm(ctx context.Context, alertID string) (api.Alert, error)
	Respond(ctx context.Context, alertID, status string) (api.Alert, error)
	Clear(ctx context.Context, alertID, reason string) (api.Alert, error)
	Cosign(ctx context.Context, alertID string) (api.Alert, error)
	Alerts(zone string) ([]api.Alert, error)
	Watch(ctx context.Context, zone string) (<-chan api.Alert, error)
	Members(zone string) ([]api.Member, error)
	Promote(ctx context.Context, zone, member, role string) (api.Member, error)
	Remove(ctx context.Context, zone, member string) (api.RemoveResult, error)
	// Zone documents (places.go, rights.go): read from the node's store.
	ZoneCards(zone, lang string) (api.ZoneCards, error)
	Places(zone string, f api.PlaceFilter) ([]api.Place, error)
	// Place adds, updates, retires, suggests or confirms an entry
	// (placeform.go).
	Place(ctx context.Context, req api.PlaceRequest) (api.Place, error)
}

// Profile is the member's identity on this device and its lifecycle.
// Passphrases are passed as byte slices the profile may keep only as long
// as it needs them; the app never logs or stores them.
type Profile interface {
	// Initialized reports whether an identity exists on this device.
	Initialized() bool
	// Create makes a new identity protected by passphrase. name may be
	// empty.
	Create(name string, passphrase []byte) error
	// Unlock opens the identity and starts its node. A wrong passphrase
	// is an error wrapping ErrWrongPassphrase.
	Unlock(ctx context.Context, passphrase []byte) (Backend, error)
	// Lock stops the node Unlock started, if any.
	Lock() error
	// ChangePassphrase re-protects the identity with a new passphrase.
	ChangePassphrase(old, new []byte) error
	// Wipe stops the node and destroys the identity and everything the
	// node stored.
	Wipe() error
}

// ErrWrongPassphrase is wrapped by Profile.Unlock and
// Profile.ChangePassphrase when the passphrase does not open the identity.
var ErrWrongPassphrase = errors.New("wrong passphrase")

// PracticeZone is a practice node with simulated members, running in this
// process on a simulated network: nothing it does leaves the machine.
type PracticeZone interface {
	Backend
	// Close stops the practice node and the simulated members and removes
	// their temporary homes.
	Close() error
}

// PracticeScript is what the simulated members of a practice zone send, in
// the member's language.
type PracticeScript struct {
	Zone                        string // the practice zone's name
	SightingWhat, SightingWhere string
	CalloutTitle, CalloutWhere  string
	CalloutBring                string
}

// StartPractice starts a practice zone; Options.Practice holds one.
type StartPractice func(ctx context.Context, s PracticeScript) (PracticeZone, error)
