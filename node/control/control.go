// Package control is Lookout's local control API: HTTP with JSON bodies over
// a Unix socket in the node's home directory. The node serves it; the CLI and
// the desktop app are its clients.
package control

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"lookout/node/api"
)

// Backend is what the control API needs from a node.
type Backend interface {
	Status() api.Status
	CreateZone(ctx context.Context, name string) (api.Zone, error)
	Invite(ctx context.Context, req api.InviteRequest) (api.InviteResponse, error)
	Join(ctx context.Context, code string) (api.Zone, error)
	Zones() []api.Zone
	// LeaveZone deletes a zone made by an older Lookout (api.Zone.Stale)
	// from the node.
	LeaveZone(ctx context.Context, zone string) (api.Zone, error)
	Report(ctx context.Context, req api.ReportRequest) (api.Alert, error)
	Callout(ctx context.Context, req api.CalloutRequest) (api.Alert, error)
	Confirm(ctx context.Context, alertID string) (api.Alert, error)
	Respond(ctx context.Context, alertID, status string) (api.Alert, error)
	Clear(ctx context.Context, alertID, reason string) (api.Alert, error)
	// Alerts returns the active alerts of a zone, given by name or ID.
	Alerts(zone string) ([]api.Alert, error)
	// Watch streams new alerts and updates of a zone. It closes the channel
	// when ctx ends.
	Watch(ctx context.Context, zone string) (<-chan api.Alert, error)

	// Members lists a zone's members as the node knows them, removed ones
	// included.
	Members(zone string) ([]api.Member, error)
	// Promote grants a member, given by ID, unique ID prefix or unique
	// name, the verifier or organizer role (organizers only).
	Promote(ctx context.Context, zone, member, role string) (api.Member, error)
	// Remove removes a member and moves the zone to a new epoch
	// (organizers only).
	Remove(ctx context.Context, zone, member string) (api.RemoveResult, error)
	Settings(zone string) (api.Settings, error)
	// SetSettings changes the settings the request names (organizers only)
	// and returns them all.
	SetSettings(ctx context.Context, req api.SettingsRequest) (api.Settings, error)
	// UpdateCallout changes a callout's fields (organizers only).
	UpdateCallout(ctx context.Context, req api.CalloutUpdateRequest) (api.Alert, error)
	// Cosign adds the node's organizer signature to a callout another
	// organizer sent.
	Cosign(ctx context.Context, alertID string) (api.Alert, error)

	// LinkOffer creates a link offer for a zone and returns its code
	// (organizers only).
	LinkOffer(ctx context.Context, req api.LinkOfferRequest) (api.LinkOffer, error)
	// AcceptLink accepts another zone's link offer code for a zone
	// (organizers only); the offering node must be online.
	AcceptLink(ctx context.Context, req api.AcceptLinkRequest) (api.Link, error)
	// Links lists a zone's links, ended ones included.
	Links(zone string) ([]api.Link, error)
	// Unlink ends a link, given by ID, ID prefix or peer name
	// (organizers only).
	Unlink(ctx context.Context, zone, link string) (api.Link, error)
	// Share shares a verified sighting or a callout over the zone's links
	// (verifiers and organizers).
	Share(ctx context.Context, req api.ShareRequest) (api.Alert, error)

	// ZoneCards returns a zone's own know-your-rights cards in a language
	// (Revision 0 if it has none there).
	ZoneCards(zone, lang string) (api.ZoneCards, error)
	// PublishCards publishes a zone's card set (organizers only).
	PublishCards(ctx context.Context, req api.PublishCardsRequest) (api.ZoneCards, error)
	// Places lists a zone's safe-services directory, filtered.
	Places(zone string, f api.PlaceFilter) ([]api.Place, error)
	// Place changes the directory: add, update, retire and confirm by
	// verifiers and organizers; suggest by any member.
	Place(ctx context.Context, req api.PlaceRequest) (api.Place, error)
}

// Wiper is a Backend that can destroy its own keys and store and stop
// (POST /v1/wipe). It answers before it stops.
type Wiper interface {
	Wipe() error
}

// The errors a Backend wraps, declared in node/api (see api.ErrNotFound);
// the names stay here for the API's clients.
var (
	ErrNotFound  = api.ErrNotFound
	ErrForbidden = api.ErrForbidden
	ErrInvalid   = api.ErrInvalid
)

// ErrNoNode is returned, wrapped, when nothing listens on the socket.
var ErrNoNode = errors.New("no lookout node is running")

// maxSocketPath is the longest path a Unix socket address holds on Linux.
const maxSocketPath = 107

// Listen listens on the Unix socket at socketPath with mode 0600. It removes
// a stale socket file nothing answers on, and refuses to start if another
// node answers on it. Closing the listener removes the socket file.
//
// The socket is briefly more open (per umask) before its mode is set; the
// home directory it lives in should be private to the user.
func Listen(socketPath string) (net.Listener, error) {
	if len(socketPath) > maxSocketPath {
		return nil, fmt.Errorf("control socket path %s is %d bytes long; the limit is %d: use a shorter home directory", socketPath, len(socketPath), maxSocketPath)
	}
	conn, err := net.DialTimeout("unix", socketPath, time.Second)
	switch {
	case err == nil:
		conn.Close()
		return nil, fmt.Errorf("another lookout node is already running with home %s", filepath.Dir(socketPath))
	case errors.Is(err, fs.ErrNotExist):
	case errors.Is(err, syscall.ECONNREFUSED):
		fi, err := os.Lstat(socketPath)
		if err != nil {
			return nil, fmt.Errorf("check stale control socket: %w", err)
		}
		if fi.Mode().Type() != fs.ModeSocket {
			return nil, fmt.Errorf("%s exists and is not a socket: move it away", socketPath)
		}
		if err := os.Remove(socketPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("remove stale control socket: %w", err)
		}
	default:
		return nil, fmt.Errorf("check control socket %s: %w", socketPath, err)
	}
	ln, err := net.Listen("unix", socketPath)
	if err != nil {
		return nil, fmt.Errorf("listen on control socket: %w", err)
	}
	if err := os.Chmod(socketPath, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("set control socket mode: %w", err)
	}
	return ln, nil
}
