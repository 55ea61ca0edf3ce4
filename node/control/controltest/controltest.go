// Package controltest provides an in-memory control.Backend for tests of
// the control API's clients.
package controltest

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"lookout/node/api"
	"lookout/node/control"
)

var _ control.Backend = (*Fake)(nil)

// Fake is a single-member node kept in memory. Its zero value is ready to
// use. It enforces roles like a node does: only organizers invite and send
// callouts, unknown zones and alerts are control.ErrNotFound. Every Confirm
// counts as a new witness; two confirmations verify a sighting.
type Fake struct {
	// Self is what Status reports; a zero PeerID gets made-up values.
	Self api.Status

	mu       sync.Mutex
	zones    []*api.Zone
	alerts   []*api.Alert
	invites  map[string]invite
	watchers map[*watcher]bool
}

type invite struct {
	zone string // zone ID
	role string
}

type watcher struct {
	ctx  context.Context
	zone string
	ch   chan api.Alert
}

func (f *Fake) Status() api.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.self()
}

func (f *Fake) self() api.Status {
	st := f.Self
	if st.PeerID == "" {
		st.PeerID = "12D3KooWFakePeer"
		st.Addrs = []string{"/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWFakePeer"}
	}
	if st.MemberID == "" {
		st.MemberID = "fakemember"
	}
	if st.Peers == nil {
		st.Peers = []string{}
	}
	return st
}

func (f *Fake) CreateZone(ctx context.Context, name string) (api.Zone, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if name == "" {
		return api.Zone{}, fmt.Errorf("%w: zone name is empty", control.ErrInvalid)
	}
	if f.zone(name) != nil {
		return api.Zone{}, fmt.Errorf("%w: zone %q already exists", control.ErrInvalid, name)
	}
	id := newID(16)
	z := &api.Zone{ID: id, Name: name, Role: "organizer", Epoch: 1, Topic: "lookout/zone/" + id, Peers: []string{}}
	f.zones = append(f.zones, z)
	return *z, nil
}

// SetRole changes the fake member's role in a zone.
func (f *Fake) SetRole(zone, role string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	z := f.zone(zone)
	if z == nil {
		return fmt.Errorf("zone %q: %w", zone, control.ErrNotFound)
	}
	z.Role = role
	return nil
}

func (f *Fake) Invite(ctx context.Context, req api.InviteRequest) (api.InviteResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	z := f.zone(req.Zone)
	if z == nil {
		return api.InviteResponse{}, fmt.Errorf("zone %q: %w", req.Zone, control.ErrNotFound)
	}
	if z.Role != "organizer" {
		return api.InviteResponse{}, fmt.Errorf("only organizers can invite: %w", control.ErrForbidden)
	}
	role := cmp.Or(req.Role, "member")
	if !validRole(role) {
		return api.InviteResponse{}, fmt.Errorf("%w: unknown role %q", control.ErrInvalid, role)
	}
	if req.TTL <= 0 {
		return api.InviteResponse{}, fmt.Errorf("%w: invite ttl must be positive", control.ErrInvalid)
	}
	if f.invites == nil {
		f.invites = make(map[string]invite)
	}
	code := "lk1-" + newID(16)
	f.invites[code] = invite{zone: z.ID, role: role}
	return api.InviteResponse{Code: code, Expires: time.Now().Add(req.TTL).UTC()}, nil
}

// Join redeems a code from Invite, once: the fake member takes the invite's
// role in its zone.
func (f *Fake) Join(ctx context.Context, code string) (api.Zone, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	inv, ok := f.invites[code]
	if !ok {
		return api.Zone{}, fmt.Errorf("%w: invite code is not valid", control.ErrInvalid)
	}
	delete(f.invites, code)
	z := f.zone(inv.zone)
	z.Role = inv.role
	return *z, nil
}

func (f *Fake) Zones() []api.Zone {
	f.mu.Lock()
	defer f.mu.Unlock()
	zs := make([]api.Zone, len(f.zones))
	for i, z := range f.zones {
		zs[i] = *z
	}
	return zs
}

func (f *Fake) Report(ctx context.Context, req api.ReportRequest) (api.Alert, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	z := f.zone(req.Zone)
	switch {
	case z == nil:
		return api.Alert{}, fmt.Errorf("zone %q: %w", req.Zone, control.ErrNotFound)
	case req.What == "" || req.Where == "":
		return api.Alert{}, fmt.Errorf("%w: a sighting needs what and where", control.ErrInvalid)
	case req.Size < 0:
		return api.Alert{}, fmt.Errorf("%w: size is negative", control.ErrInvalid)
	}
	one := 1
	a := f.newAlert(z, "sighting", req.Where, req.Exercise)
	a.State = "unverified"
	a.What, a.Size, a.Activity, a.Uniform, a.Equipment = req.What, req.Size, req.Activity, req.Uniform, req.Equipment
	a.Confirmations = &one
	f.publish(a)
	return *a, nil
}

func (f *Fake) Callout(ctx context.Context, req api.CalloutRequest) (api.Alert, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	z := f.zone(req.Zone)
	switch {
	case z == nil:
		return api.Alert{}, fmt.Errorf("zone %q: %w", req.Zone, control.ErrNotFound)
	case z.Role != "organizer":
		return api.Alert{}, fmt.Errorf("only organizers can send callouts: %w", control.ErrForbidden)
	case req.Title == "" || req.Where == "":
		return api.Alert{}, fmt.Errorf("%w: a callout needs a title and where", control.ErrInvalid)
	case req.Need < 0:
		return api.Alert{}, fmt.Errorf("%w: need is negative", control.ErrInvalid)
	}
	a := f.newAlert(z, "callout", req.Where, req.Exercise)
	a.State = "active"
	a.Title, a.When, a.Need, a.Bring, a.Rights = req.Title, req.When, req.Need, req.Bring, req.Rights
	a.Responders = &api.Responders{}
	f.publish(a)
	return *a, nil
}

func (f *Fake) Confirm(ctx context.Context, alertID string) (api.Alert, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, err := f.active(alertID, "sighting")
	if err != nil {
		return api.Alert{}, err
	}
	n := *a.Confirmations + 1
	a.Confirmations = &n
	if n >= 2 {
		a.Verified, a.State = true, "verified"
	}
	f.publish(a)
	return *a, nil
}

// Respond records the fake member's answer, replacing its earlier one.
func (f *Fake) Respond(ctx context.Context, alertID, status string) (api.Alert, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, err := f.active(alertID, "callout")
	if err != nil {
		return api.Alert{}, err
	}
	r := api.Responders{}
	switch status {
	case "enroute":
		r.EnRoute = 1
	case "onscene":
		r.OnScene = 1
	case "cannot":
		r.Cannot = 1
	default:
		return api.Alert{}, fmt.Errorf("%w: unknown response status %q", control.ErrInvalid, status)
	}
	a.Responders = &r
	f.publish(a)
	return *a, nil
}

func (f *Fake) Clear(ctx context.Context, alertID, reason string) (api.Alert, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, err := f.active(alertID, "")
	if err != nil {
		return api.Alert{}, err
	}
	switch f.zone(a.Zone).Role {
	case "verifier", "organizer":
		a.ClearReason = "allclear"
	default:
		a.ClearReason = "retracted"
	}
	a.State, a.ClearNote = "cleared", reason
	f.publish(a)
	return *a, nil
}

func (f *Fake) Alerts(zone string) ([]api.Alert, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	z := f.zone(zone)
	if z == nil {
		return nil, fmt.Errorf("zone %q: %w", zone, control.ErrNotFound)
	}
	as := []api.Alert{}
	for _, a := range f.alerts {
		if a.Zone == z.ID && a.State != "cleared" {
			as = append(as, *a)
		}
	}
	return as, nil
}

func (f *Fake) Watch(ctx context.Context, zone string) (<-chan api.Alert, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	z := f.zone(zone)
	if z == nil {
		return nil, fmt.Errorf("zone %q: %w", zone, control.ErrNotFound)
	}
	w := &watcher{ctx: ctx, zone: z.ID, ch: make(chan api.Alert, 16)}
	if f.watchers == nil {
		f.watchers = make(map[*watcher]bool)
	}
	f.watchers[w] = true
	context.AfterFunc(ctx, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		delete(f.watchers, w)
		close(w.ch)
	})
	return w.ch, nil
}

// Watchers returns how many watch streams are open.
func (f *Fake) Watchers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.watchers)
}

// zone finds a zone by name or ID.
func (f *Fake) zone(nameOrID string) *api.Zone {
	for _, z := range f.zones {
		if z.ID == nameOrID || z.Name == nameOrID {
			return z
		}
	}
	return nil
}

// active finds an alert that is not cleared, of kind if kind is set.
func (f *Fake) active(id, kind string) (*api.Alert, error) {
	i := slices.IndexFunc(f.alerts, func(a *api.Alert) bool { return a.ID == id })
	if i < 0 {
		return nil, fmt.Errorf("alert %q: %w", id, control.ErrNotFound)
	}
	a := f.alerts[i]
	if a.State == "cleared" {
		return nil, fmt.Errorf("%w: alert %s is cleared", control.ErrInvalid, id)
	}
	if kind != "" && a.Kind != kind {
		return nil, fmt.Errorf("%w: alert %s is a %s, not a %s", control.ErrInvalid, id, a.Kind, kind)
	}
	return a, nil
}

func (f *Fake) newAlert(z *api.Zone, kind, where string, exercise bool) *api.Alert {
	now := time.Now().UTC()
	a := &api.Alert{
		ID:         newID(8),
		Zone:       z.ID,
		ZoneName:   z.Name,
		Kind:       kind,
		Sent:       now,
		Expires:    now.Add(2 * time.Hour),
		Exercise:   exercise,
		Sender:     f.self().MemberID,
		SenderRole: z.Role,
		Where:      where,
	}
	f.alerts = append(f.alerts, a)
	return a
}

// publish sends a copy of a to the zone's watchers. Called with f.mu held.
func (f *Fake) publish(a *api.Alert) {
	for w := range f.watchers {
		if w.zone != a.Zone {
			continue
		}
		select {
		case w.ch <- *a:
		case <-w.ctx.Done():
		}
	}
}

func validRole(role string) bool {
	return role == "member" || role == "verifier" || role == "organizer"
}

func newID(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Serve serves the control API for b on a socket at socketPath until the
// test ends. Listen errors fail the test.
func Serve(t testing.TB, b control.Backend, socketPath string) {
	t.Helper()
	ln, err := control.Listen(socketPath)
	if err != nil {
		t.Fatal(err)
	}
	s := &control.Server{Backend: b}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close control server: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("serve control api: %v", err)
		}
	})
}

// Home makes a short-lived directory short enough to hold a Unix socket,
// removed when the test ends.
func Home(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "lk")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}
