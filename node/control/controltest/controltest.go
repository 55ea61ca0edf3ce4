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
	"strings"
	"sync"
	"testing"
	"time"

	"lookout/node/api"
	"lookout/node/control"
	"lookout/protocol"
)

var _ control.Backend = (*Fake)(nil)

// Fake is a single-member node kept in memory. Its zero value is ready to
// use. It enforces roles like a node does: only organizers invite, send,
// update and co-sign callouts, promote and remove members and change
// settings; unknown zones, alerts and members are control.ErrNotFound.
//
// Every Confirm counts as a new witness holding the fake member's role: a
// confirm by a verifier or organizer verifies a sighting; otherwise it is
// corroborated once the zone's quorum of witnesses is reached. A report of
// the same place as an active sighting less than 15 minutes older joins its
// incident. Other members and their alerts come from AddMember and Receive.
type Fake struct {
	// Self is what Status reports; a zero PeerID gets made-up values.
	Self api.Status
	// Now is the fake's clock (sent, expiry, rate limits); nil means
	// time.Now. Set it before using the fake.
	Now func() time.Time

	mu       sync.Mutex
	zones    []*zone
	alerts   []*api.Alert
	invites  map[string]invite
	watchers map[*watcher]bool
	// Linked zones (links.go).
	links  map[string][]*api.Link // by zone ID
	offers map[string]*offer      // by code
	// Zone cards and safe places (docs.go).
	docs map[string]*zoneDocs // by zone ID
}

// zone is a zone with its roster and settings.
type zone struct {
	api.Zone
	// members holds the roster; members[0] is the fake member, kept in
	// step with Self and Zone.Role by sync.
	members  []*api.Member
	founder  string // member ID
	settings api.Settings
	// reports and confirms are the fake member's, for the rate limits.
	reports, confirms []time.Time
}

type invite struct {
	zone string // zone ID
	role string
	lan  bool // the request asked for local network addresses
}

type watcher struct {
	ctx  context.Context
	zone string
	ch   chan api.Alert
}

// Limits and defaults, as a node has them.
const (
	rateWindow     = 10 * time.Minute
	incidentWindow = 15 * time.Minute
	calloutTTL     = 12 * time.Hour
	maxLifetime    = 7 * 24 * time.Hour
	maxQuorum      = 50
	maxRateLimit   = 1000
	maxCount       = 10000
	maxVehicles    = 1000 // protocol.MaxVehicles
)

func (f *Fake) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

func defaultSettings() api.Settings {
	return api.Settings{Quorum: 2, Window: api.Duration(20 * time.Minute), Expiry: api.Duration(4 * time.Hour),
		MaxReports: 10, MaxConfirms: 30, AutoShare: "none"}
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
	self := f.self()
	z := &zone{
		Zone:     api.Zone{ID: id, Name: name, Role: "organizer", Epoch: 0, Topic: "lookout/zone/" + id, Peers: []string{}},
		members:  []*api.Member{{ID: self.MemberID, Name: self.Name, Role: "organizer", CanRekey: true}},
		founder:  self.MemberID,
		settings: defaultSettings(),
	}
	f.zones = append(f.zones, z)
	return z.Zone, nil
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

// SetRemoved marks this member as removed from a zone, as a node does
// once it holds its removal.
func (f *Fake) SetRemoved(zone string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	z := f.zone(zone)
	if z == nil {
		return fmt.Errorf("zone %q: %w", zone, control.ErrNotFound)
	}
	z.Removed = true
	return nil
}

// SetPeers sets the peer IDs a zone reports as subscribed to its topic.
func (f *Fake) SetPeers(zone string, peers []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	z := f.zone(zone)
	if z == nil {
		return fmt.Errorf("zone %q: %w", zone, control.ErrNotFound)
	}
	z.Peers = slices.Clone(peers)
	return nil
}

// AddMember adds a member to a zone's roster, as if their announcement
// arrived. A zero ID gets a made-up one, a zero role is member. It returns
// the member added.
func (f *Fake) AddMember(zone string, m api.Member) (api.Member, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	z := f.zone(zone)
	if z == nil {
		return api.Member{}, fmt.Errorf("zone %q: %w", zone, control.ErrNotFound)
	}
	if m.ID == "" {
		m.ID = newID(32)
	}
	m.Role = cmp.Or(m.Role, "member")
	if !validRole(m.Role) {
		return api.Member{}, fmt.Errorf("%w: unknown role %q", control.ErrInvalid, m.Role)
	}
	if slices.ContainsFunc(z.members, func(o *api.Member) bool { return o.ID == m.ID }) {
		return api.Member{}, fmt.Errorf("%w: member %s is already in zone %q", control.ErrInvalid, m.ID, z.Name)
	}
	z.members = append(z.members, &m)
	return m, nil
}

// Receive stores an alert as if it arrived from another member, and sends
// it to the zone's watchers. Kind and Zone (name or ID) are required; a
// zero ID, Sender, Sent, Expires, State or count gets a plausible value.
// It returns the alert stored.
func (f *Fake) Receive(a api.Alert) (api.Alert, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	z := f.zone(a.Zone)
	if z == nil {
		return api.Alert{}, fmt.Errorf("zone %q: %w", a.Zone, control.ErrNotFound)
	}
	now := f.now().UTC()
	a.ID = cmp.Or(a.ID, newID(8))
	a.Zone, a.ZoneName = z.ID, z.Name
	a.Sender = cmp.Or(a.Sender, newID(32))
	a.SenderRole = cmp.Or(a.SenderRole, "member")
	if a.Sent.IsZero() {
		a.Sent = now
	}
	switch a.Kind {
	case "sighting":
		if a.Confirmations == nil {
			one := 1
			a.Confirmations = &one
		}
		a.Incident = cmp.Or(a.Incident, a.ID)
		if len(a.Sightings) == 0 {
			a.Sightings = []string{a.ID}
		}
		if a.Expires.IsZero() {
			a.Expires = a.Sent.Add(time.Duration(z.settings.Expiry))
		}
	case "callout":
		if a.Responders == nil {
			a.Responders = &api.Responders{}
		}
		a.Needed = cmp.Or(a.Needed, a.Need)
		a.Cosigned = a.Cosigned || len(a.Cosigners) > 0
		if a.Expires.IsZero() {
			a.Expires = a.Sent.Add(calloutTTL)
		}
	default:
		return api.Alert{}, fmt.Errorf("%w: kind %q: use sighting or callout", control.ErrInvalid, a.Kind)
	}
	if a.State == "" {
		a.State = restate(&a, z.settings)
	}
	stored := &a
	f.alerts = append(f.alerts, stored)
	f.publish(stored)
	return a, nil
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
	f.invites[code] = invite{zone: z.ID, role: role, lan: req.LAN}
	return api.InviteResponse{Code: code, Expires: f.now().Add(req.TTL).UTC()}, nil
}

// InviteLAN reports whether the invite with code was asked for with the
// node's local network addresses (api.InviteRequest.LAN), and whether the
// code is known.
func (f *Fake) InviteLAN(code string) (lan, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	inv, ok := f.invites[code]
	return inv.lan, ok
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
	return z.Zone, nil
}

func (f *Fake) Zones() []api.Zone {
	f.mu.Lock()
	defer f.mu.Unlock()
	zs := make([]api.Zone, len(f.zones))
	for i, z := range f.zones {
		zs[i] = z.Zone
		zs[i].Places = slices.Clone(z.Places)
	}
	return zs
}

// LeaveZone deletes a stale zone (api.Zone.Stale), as the node does.
func (f *Fake) LeaveZone(_ context.Context, ref string) (api.Zone, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	z := f.zone(ref)
	if z == nil {
		return api.Zone{}, fmt.Errorf("zone %q: %w", ref, control.ErrNotFound)
	}
	if !z.Stale {
		return api.Zone{}, fmt.Errorf("%w: zone %q is current; only a zone made by an older Lookout can be left", control.ErrInvalid, z.Name)
	}
	for i, o := range f.zones {
		if o == z {
			f.zones = append(f.zones[:i], f.zones[i+1:]...)
			break
		}
	}
	return z.Zone, nil
}

// AddStaleZone adds a zone made by an older Lookout (api.Zone.Stale).
func (f *Fake) AddStaleZone(name string) api.Zone {
	f.mu.Lock()
	defer f.mu.Unlock()
	z := &zone{Zone: api.Zone{ID: newID(16), Name: name, Peers: []string{}, Stale: true}, settings: defaultSettings()}
	f.zones = append(f.zones, z)
	return z.Zone
}

func (f *Fake) Report(ctx context.Context, req api.ReportRequest) (api.Alert, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	z := f.zone(req.Zone)
	switch {
	case z == nil:
		return api.Alert{}, fmt.Errorf("zone %q: %w", req.Zone, control.ErrNotFound)
	case (req.What == "" && req.WhatCode == "") || req.Where == "":
		return api.Alert{}, fmt.Errorf("%w: a sighting needs what (or a what code) and where", control.ErrInvalid)
	case req.WhatCode != "" && !slices.Contains(api.WhatCodes, req.WhatCode),
		req.UniformCode != "" && !slices.Contains(api.UniformCodes, req.UniformCode),
		req.Vehicles < 0 || req.Vehicles > maxVehicles:
		return api.Alert{}, fmt.Errorf("%w: quick-report code out of range", control.ErrInvalid)
	case req.Size < 0 || req.Size > maxCount:
		return api.Alert{}, fmt.Errorf("%w: size must be between 0 and %d", control.ErrInvalid, maxCount)
	}
	now := f.now().UTC()
	if err := z.allow(&z.reports, z.settings.MaxReports, "reports", now); err != nil {
		return api.Alert{}, err
	}
	id := newID(8)
	z.remember(strings.TrimSpace(req.Where))
	report := api.Report{ID: id, Sent: now, Sender: f.self().MemberID, Where: req.Where, What: req.What, Size: req.Size}
	if a := f.incident(z, req, now); a != nil {
		// The newest text, the largest size (protocol.View).
		a.Sightings, a.Reports = append(a.Sightings, id), append(a.Reports, report)
		a.Where, a.What, a.Size = req.Where, req.What, max(a.Size, req.Size)
		n := *a.Confirmations + 1
		a.Confirmations = &n
		a.Expires = now.Add(time.Duration(z.settings.Expiry))
		a.State = restate(a, z.settings)
		f.publish(a)
		return *a, nil
	}
	one := 1
	a := f.newAlert(z, "sighting", req.Where, req.Exercise)
	a.ID, a.Incident, a.Sightings, a.Reports = id, id, []string{id}, []api.Report{report}
	a.What, a.Size, a.Activity, a.Uniform, a.Equipment = req.What, req.Size, req.Activity, req.Uniform, req.Equipment
	a.WhatCode, a.UniformCode, a.Vehicles = req.WhatCode, req.UniformCode, req.Vehicles
	a.Observed = &now
	a.Confirmations = &one
	a.Expires = now.Add(time.Duration(z.settings.Expiry))
	a.State = restate(a, z.settings)
	f.publish(a)
	return *a, nil
}

// maxRecentPlaces is how many places a zone remembers, as the node does.
const maxRecentPlaces = 5

// remember puts a place first in the zone's recent places (api.Zone.Places).
func (z *zone) remember(place string) {
	ps := []string{place}
	for _, p := range z.Places {
		if p != place && len(ps) < maxRecentPlaces {
			ps = append(ps, p)
		}
	}
	z.Places = ps
}

// incident returns the active sighting a new report joins: same place and
// status, at most incidentWindow older.
func (f *Fake) incident(z *zone, req api.ReportRequest, now time.Time) *api.Alert {
	place := protocol.NormalizePlace(req.Where)
	for _, a := range f.alerts {
		if a.Zone == z.ID && a.Kind == "sighting" && f.counts(a, now) && a.Exercise == req.Exercise &&
			protocol.NormalizePlace(a.Where) == place && now.Sub(a.Sent) <= incidentWindow {
			return a
		}
	}
	return nil
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
	case req.Need < 0 || req.Need > maxCount:
		return api.Alert{}, fmt.Errorf("%w: need must be between 0 and %d", control.ErrInvalid, maxCount)
	}
	card, err := calloutCard(req.Card)
	if err != nil {
		return api.Alert{}, err
	}
	a := f.newAlert(z, "callout", req.Where, req.Exercise)
	a.Card = card
	a.Title, a.When, a.Need, a.Needed, a.Bring, a.Rights = req.Title, req.When, req.Need, req.Need, req.Bring, req.Rights
	a.Responders = &api.Responders{}
	a.Expires = a.Sent.Add(calloutTTL)
	a.State = restate(a, z.settings)
	f.publish(a)
	return *a, nil
}

func (f *Fake) Confirm(ctx context.Context, alertID string) (api.Alert, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, z, err := f.active(alertID, "sighting")
	if err != nil {
		return api.Alert{}, err
	}
	now := f.now().UTC()
	if err := z.allow(&z.confirms, z.settings.MaxConfirms, "confirmations", now); err != nil {
		return api.Alert{}, err
	}
	n := *a.Confirmations + 1
	a.Confirmations = &n
	if me := f.self().MemberID; z.Role != "member" && !slices.Contains(a.VerifiedBy, me) {
		a.VerifiedBy = append(a.VerifiedBy, me)
		a.Verified = true
	}
	a.Expires = now.Add(time.Duration(z.settings.Expiry))
	a.State = restate(a, z.settings)
	f.publish(a)
	return *a, nil
}

// Respond records the fake member's answer, replacing its earlier one.
func (f *Fake) Respond(ctx context.Context, alertID, status string) (api.Alert, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, _, err := f.active(alertID, "callout")
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

// Clear retracts the fake member's own alert, or gives the all clear as a
// verifier or organizer (only organizers end callouts).
func (f *Fake) Clear(ctx context.Context, alertID, reason string) (api.Alert, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, z, err := f.active(alertID, "")
	if err != nil {
		return api.Alert{}, err
	}
	witnessed := a.Kind == "sighting" && (a.Verified || (a.Confirmations != nil && *a.Confirmations > 1))
	switch {
	case a.Kind == "callout" && z.Role != "organizer" && a.Sender != f.self().MemberID:
		return api.Alert{}, fmt.Errorf("%w: only an organizer can end this callout", control.ErrForbidden)
	case a.Kind == "sighting" && z.Role == "member" && (a.Sender != f.self().MemberID || witnessed):
		// A note, shown and not obeyed: "they left", or a witnessed
		// report withdrawn (protocol.View.Notes).
		kind := "left"
		if a.Sender == f.self().MemberID {
			kind = "withdrawn"
		}
		a.Notes = append(a.Notes, api.Note{Sent: f.now().UTC(), Sender: f.self().MemberID, Kind: kind, Note: reason})
		f.publish(a)
		return *a, nil
	case a.Sender == f.self().MemberID:
		a.ClearReason = "retracted"
	default:
		a.ClearReason = "allclear"
	}
	a.State, a.ClearNote = "cleared", reason
	f.publish(a)
	return *a, nil
}

// UpdateCallout changes a callout's non-empty fields (organizers only).
func (f *Fake) UpdateCallout(ctx context.Context, req api.CalloutUpdateRequest) (api.Alert, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, z, err := f.find(req.Alert)
	if err != nil {
		return api.Alert{}, err
	}
	switch {
	case a.Kind != "callout":
		return api.Alert{}, fmt.Errorf("%w: %s is a %s; only callouts are updated", control.ErrInvalid, a.ID, a.Kind)
	case z.Role != "organizer":
		return api.Alert{}, fmt.Errorf("%w: only organizers can update callouts; you are a %s of zone %q", control.ErrForbidden, z.Role, z.Name)
	case req.Need < 0 || req.Need > maxCount:
		return api.Alert{}, fmt.Errorf("%w: need must be between 0 and %d", control.ErrInvalid, maxCount)
	case !f.counts(a, f.now()):
		return api.Alert{}, fmt.Errorf("%w: callout %s has ended", control.ErrInvalid, a.ID)
	}
	a.Title, a.Where, a.When = cmp.Or(req.Title, a.Title), cmp.Or(req.Where, a.Where), cmp.Or(req.When, a.When)
	card, err := calloutCard(cmp.Or(req.Card, a.Card))
	if err != nil {
		return api.Alert{}, err
	}
	a.Bring, a.Rights, a.Card = cmp.Or(req.Bring, a.Bring), cmp.Or(req.Rights, a.Rights), card
	a.Need = cmp.Or(req.Need, a.Need)
	a.Needed = a.Need
	f.publish(a)
	return *a, nil
}

// Cosign adds the fake member's signature to a callout another organizer
// sent (see Receive).
func (f *Fake) Cosign(ctx context.Context, alertID string) (api.Alert, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, z, err := f.find(alertID)
	if err != nil {
		return api.Alert{}, err
	}
	me := f.self().MemberID
	switch {
	case a.Kind != "callout":
		return api.Alert{}, fmt.Errorf("%w: %s is a %s; only callouts are co-signed", control.ErrInvalid, a.ID, a.Kind)
	case z.Role != "organizer":
		return api.Alert{}, fmt.Errorf("%w: only organizers can co-sign callouts; you are a %s of zone %q", control.ErrForbidden, z.Role, z.Name)
	case a.Sender == me:
		return api.Alert{}, fmt.Errorf("%w: a second organizer must co-sign; you sent this callout", control.ErrInvalid)
	case slices.Contains(a.Cosigners, me):
		return api.Alert{}, fmt.Errorf("%w: you already co-signed this callout", control.ErrInvalid)
	case !f.counts(a, f.now()):
		return api.Alert{}, fmt.Errorf("%w: alert %s has ended", control.ErrInvalid, a.ID)
	}
	a.Cosigners = append(a.Cosigners, me)
	a.Cosigned = true
	a.State = restate(a, z.settings)
	f.publish(a)
	return *a, nil
}

// Alerts returns the zone's active alerts, newest first.
func (f *Fake) Alerts(zone string) ([]api.Alert, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	z := f.zone(zone)
	if z == nil {
		return nil, fmt.Errorf("zone %q: %w", zone, control.ErrNotFound)
	}
	now := f.now()
	as := []api.Alert{}
	for _, a := range f.alerts {
		if a.Zone == z.ID && f.counts(a, now) {
			as = append(as, *a)
		}
	}
	slices.SortStableFunc(as, func(a, b api.Alert) int {
		return cmp.Or(b.Sent.Compare(a.Sent), strings.Compare(a.ID, b.ID))
	})
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

// Members lists a zone's roster, organizers first, then by name.
func (f *Fake) Members(zone string) ([]api.Member, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	z := f.zone(zone)
	if z == nil {
		return nil, fmt.Errorf("zone %q: %w", zone, control.ErrNotFound)
	}
	f.sync(z)
	ms := make([]api.Member, len(z.members))
	for i, m := range z.members {
		ms[i] = *m
	}
	slices.SortStableFunc(ms, func(a, b api.Member) int {
		return cmp.Or(rank(b.Role)-rank(a.Role), strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)),
			strings.Compare(a.Name, b.Name), strings.Compare(a.ID, b.ID))
	})
	return ms, nil
}

func (f *Fake) Promote(ctx context.Context, zone, member, role string) (api.Member, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if role != "verifier" && role != "organizer" {
		return api.Member{}, fmt.Errorf("%w: role %q: use verifier or organizer", control.ErrInvalid, role)
	}
	z, err := f.organizerZone(zone, "promote members")
	if err != nil {
		return api.Member{}, err
	}
	m, err := z.member(member)
	if err != nil {
		return api.Member{}, err
	}
	if m.Removed {
		return api.Member{}, fmt.Errorf("%w: %s was removed from the zone", control.ErrInvalid, member)
	}
	m.Role = role
	if m == z.members[0] {
		z.Role = role
	}
	return *m, nil
}

// Remove removes a member and moves the zone to the next epoch, reaching
// the remaining members whose key is known (CanRekey).
func (f *Fake) Remove(ctx context.Context, zone, member string) (api.RemoveResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	z, err := f.organizerZone(zone, "remove members")
	if err != nil {
		return api.RemoveResult{}, err
	}
	m, err := z.member(member)
	switch {
	case err != nil:
		return api.RemoveResult{}, err
	case m == z.members[0]:
		return api.RemoveResult{}, fmt.Errorf("%w: you cannot remove yourself", control.ErrInvalid)
	case m.ID == z.founder:
		return api.RemoveResult{}, fmt.Errorf("%w: the zone's founder cannot be removed", control.ErrForbidden)
	case m.Removed:
		return api.RemoveResult{}, fmt.Errorf("%w: %s was already removed", control.ErrInvalid, member)
	}
	m.Removed = true
	z.Epoch++
	z.Topic = "lookout/zone/" + newID(16)
	res := api.RemoveResult{Removed: m.ID, Epoch: z.Epoch, Unreached: []string{}}
	for _, o := range z.members {
		switch {
		case o.Removed:
		case o.CanRekey:
			res.Reached++
		default:
			res.Unreached = append(res.Unreached, o.ID)
		}
	}
	return res, nil
}

func (f *Fake) Settings(zone string) (api.Settings, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	z := f.zone(zone)
	if z == nil {
		return api.Settings{}, fmt.Errorf("zone %q: %w", zone, control.ErrNotFound)
	}
	return z.settings, nil
}

// SetSettings changes the settings req names and folds the zone's alerts
// again under them.
func (f *Fake) SetSettings(ctx context.Context, req api.SettingsRequest) (api.Settings, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	z, err := f.organizerZone(req.Zone, "change zone settings")
	if err != nil {
		return api.Settings{}, err
	}
	s := z.settings
	if req.Quorum != nil {
		s.Quorum = *req.Quorum
	}
	if req.Window != nil {
		s.Window = api.Duration(*req.Window)
	}
	if req.Expiry != nil {
		s.Expiry = api.Duration(*req.Expiry)
	}
	if req.Cosign != nil {
		s.Cosign = *req.Cosign
	}
	if req.MaxReports != nil {
		s.MaxReports = *req.MaxReports
	}
	if req.MaxConfirms != nil {
		s.MaxConfirms = *req.MaxConfirms
	}
	if req.AutoShare != nil {
		if !slices.Contains([]string{"none", "verified", "callouts", "all"}, *req.AutoShare) {
			return api.Settings{}, fmt.Errorf("%w: auto-share %q: use verified, callouts, all or none", control.ErrInvalid, *req.AutoShare)
		}
		s.AutoShare = *req.AutoShare
	}
	window, expiry := time.Duration(s.Window), time.Duration(s.Expiry)
	switch {
	case s.Quorum < 1 || s.Quorum > maxQuorum || s.MaxReports < 1 || s.MaxReports > maxRateLimit || s.MaxConfirms < 1 || s.MaxConfirms > maxRateLimit:
		return api.Settings{}, fmt.Errorf("%w: quorum must be 1 to %d and rate limits 1 to %d", control.ErrInvalid, maxQuorum, maxRateLimit)
	case window < time.Minute || window > 24*time.Hour || window%time.Second != 0:
		return api.Settings{}, fmt.Errorf("%w: window: whole seconds from 1m to 24h", control.ErrInvalid)
	case expiry < 10*time.Minute || expiry > maxLifetime || expiry%time.Second != 0:
		return api.Settings{}, fmt.Errorf("%w: expiry: whole seconds from 10m to %s", control.ErrInvalid, maxLifetime)
	}
	z.settings = s
	for _, a := range f.alerts {
		if a.Zone == z.ID && a.State != "cleared" {
			a.State = restate(a, s)
		}
	}
	return s, nil
}

// zone finds a zone by name or ID.
func (f *Fake) zone(nameOrID string) *zone {
	for _, z := range f.zones {
		if z.ID == nameOrID || z.Name == nameOrID {
			return z
		}
	}
	return nil
}

// organizerZone finds a zone in which the fake member may do what only
// organizers do.
func (f *Fake) organizerZone(nameOrID, what string) (*zone, error) {
	z := f.zone(nameOrID)
	if z == nil {
		return nil, fmt.Errorf("%w: no zone %q; see lookout zone list", control.ErrNotFound, nameOrID)
	}
	if z.Role != "organizer" {
		return nil, fmt.Errorf("%w: only organizers can %s; you are a %s of zone %q", control.ErrForbidden, what, z.Role, z.Name)
	}
	f.sync(z)
	return z, nil
}

// sync brings the fake member's roster entry in step with Self and its
// role.
func (f *Fake) sync(z *zone) {
	self := f.self()
	me := z.members[0]
	if me.ID == z.founder {
		z.founder = self.MemberID
	}
	me.ID, me.Name, me.Role = self.MemberID, self.Name, z.Role
}

// member resolves a member by ID, unique ID prefix (8 characters or more)
// or unique name.
func (z *zone) member(ref string) (*api.Member, error) {
	var found *api.Member
	for _, m := range z.members {
		if m.ID == ref || (len(ref) >= 8 && strings.HasPrefix(m.ID, ref)) || (m.Name != "" && m.Name == ref) {
			if found != nil && found != m {
				return nil, fmt.Errorf("%w: %q matches more than one member; use the member ID", control.ErrInvalid, ref)
			}
			found = m
		}
	}
	if found == nil {
		return nil, fmt.Errorf("%w: no member %q in zone %q; see lookout zone members", control.ErrNotFound, ref, z.Name)
	}
	return found, nil
}

// removed reports whether member id was removed from the zone.
func (z *zone) removed(id string) bool {
	return slices.ContainsFunc(z.members, func(m *api.Member) bool { return m.ID == id && m.Removed })
}

// allow records one of the fake member's reports or confirms at now if
// the zone's rate limit lets it through.
func (z *zone) allow(sent *[]time.Time, limit int, what string, now time.Time) error {
	*sent = slices.DeleteFunc(*sent, func(t time.Time) bool { return now.Sub(t) >= rateWindow })
	if len(*sent) >= limit {
		return fmt.Errorf("%w: this zone allows %d %s per member per %s; wait a few minutes", control.ErrForbidden, limit, what, rateWindow)
	}
	*sent = append(*sent, now)
	return nil
}

// counts reports whether an alert is still shown: not cleared, not
// expired, and not sent by a removed member.
func (f *Fake) counts(a *api.Alert, now time.Time) bool {
	z := f.zone(a.Zone)
	return a.State != "cleared" && a.State != "expired" && now.Before(a.Expires) && !z.removed(a.Sender)
}

// find finds an alert by ID, unique ID prefix (8 characters or more) or
// the ID of any sighting of its incident.
func (f *Fake) find(ref string) (*api.Alert, *zone, error) {
	var found *api.Alert
	for _, a := range f.alerts {
		ids := append([]string{a.ID}, a.Sightings...)
		if slices.ContainsFunc(ids, func(id string) bool { return id == ref || (len(ref) >= 8 && strings.HasPrefix(id, ref)) }) {
			if found != nil && found != a {
				return nil, nil, fmt.Errorf("%w: alert ID %q is ambiguous; give more of it", control.ErrInvalid, ref)
			}
			found = a
		}
	}
	if found == nil || f.zone(found.Zone).removed(found.Sender) {
		return nil, nil, fmt.Errorf("alert %q: %w", ref, control.ErrNotFound)
	}
	return found, f.zone(found.Zone), nil
}

// active finds an alert that has not ended, of kind if kind is set.
func (f *Fake) active(ref, kind string) (*api.Alert, *zone, error) {
	a, z, err := f.find(ref)
	if err != nil {
		return nil, nil, err
	}
	if !f.counts(a, f.now()) {
		ended := "expired"
		if a.State == "cleared" {
			ended = "cleared"
		}
		return nil, nil, fmt.Errorf("%w: alert %s is %s", control.ErrInvalid, a.ID, ended)
	}
	if kind != "" && a.Kind != kind {
		return nil, nil, fmt.Errorf("%w: alert %s is a %s, not a %s", control.ErrInvalid, a.ID, a.Kind, kind)
	}
	return a, z, nil
}

// restate returns the state an alert that is not cleared has under s.
func restate(a *api.Alert, s api.Settings) string {
	switch {
	case a.State == "cleared":
		return a.State
	case a.Kind == "callout" && s.Cosign && !a.Cosigned:
		return "awaiting-cosign"
	case a.Kind == "callout":
		return "active"
	case a.Verified:
		return "verified"
	case a.Confirmations != nil && *a.Confirmations >= s.Quorum:
		return "corroborated"
	}
	return "unconfirmed"
}

func (f *Fake) newAlert(z *zone, kind, where string, exercise bool) *api.Alert {
	now := f.now().UTC()
	a := &api.Alert{
		ID:         newID(8),
		Zone:       z.ID,
		ZoneName:   z.Name,
		Kind:       kind,
		Sent:       now,
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

func rank(role string) int {
	return slices.Index([]string{"member", "verifier", "organizer"}, role)
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
