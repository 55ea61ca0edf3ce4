package controltest

import (
	"context"
	"fmt"
	"strings"
	"time"

	"lookout/node/api"
	"lookout/node/control"
)

// Linked zones, as a node has them: an organizer's offer code links its
// zone to another zone of the same Fake once accepted there; a code works
// once, not in the zone that made it, and not after it expires.

// offer is a link offer code the Fake made.
type offer struct {
	zone    string // zone ID
	link    *api.Link
	expires time.Time
	used    bool
}

const (
	linkCodePrefix = "lookoutlink2:"
	linkOfferTTL   = 24 * time.Hour
	maxShareHops   = 8
)

func (f *Fake) LinkOffer(ctx context.Context, req api.LinkOfferRequest) (api.LinkOffer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	z, err := f.organizerZone(req.Zone, "link zones")
	if err != nil {
		return api.LinkOffer{}, err
	}
	name := strings.TrimSpace(req.Name)
	if name == "" {
		name = z.Name
	}
	ttl := req.TTL
	if ttl == 0 {
		ttl = linkOfferTTL
	}
	exp := time.Now().Add(ttl).UTC()
	l := &api.Link{ID: newID(16), Name: name, State: "offered", Expires: &exp}
	code := linkCodePrefix + newID(32)
	if f.offers == nil {
		f.offers = map[string]*offer{}
		f.links = map[string][]*api.Link{}
	}
	f.offers[code] = &offer{zone: z.ID, link: l, expires: exp}
	f.links[z.ID] = append(f.links[z.ID], l)
	return api.LinkOffer{Code: code, Link: l.ID, Name: name, Expires: exp}, nil
}

func (f *Fake) AcceptLink(ctx context.Context, req api.AcceptLinkRequest) (api.Link, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	z, err := f.organizerZone(req.Zone, "link zones")
	if err != nil {
		return api.Link{}, err
	}
	o := f.offers[strings.TrimSpace(req.Code)]
	switch {
	case o == nil:
		return api.Link{}, fmt.Errorf("%w: invalid link code: copy the whole line again", control.ErrInvalid)
	case o.zone == z.ID:
		return api.Link{}, fmt.Errorf("%w: link code belongs to another zone: zone %q made this code; accept it in the other zone", control.ErrInvalid, z.Name)
	case o.used:
		return api.Link{}, fmt.Errorf("%w: link code already used: ask for a new one", control.ErrInvalid)
	case !time.Now().Before(o.expires):
		return api.Link{}, fmt.Errorf("%w: link code expired; ask the other zone's organizer for a new code", control.ErrInvalid)
	}
	name := strings.TrimSpace(req.Name)
	if name == "" {
		name = z.Name
	}
	o.used = true
	now := time.Now().UTC()
	o.link.State, o.link.Peer, o.link.Since, o.link.Expires = "active", name, &now, nil
	l := &api.Link{ID: o.link.ID, Name: name, Peer: o.link.Name, State: "active", Since: &now}
	f.links[z.ID] = append(f.links[z.ID], l)
	return *l, nil
}

func (f *Fake) Links(zone string) ([]api.Link, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	z := f.zone(zone)
	if z == nil {
		return nil, fmt.Errorf("%w: no zone %q; see lookout zone list", control.ErrNotFound, zone)
	}
	out := []api.Link{}
	for _, l := range f.links[z.ID] {
		out = append(out, *l)
	}
	return out, nil
}

func (f *Fake) Unlink(ctx context.Context, zone, link string) (api.Link, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	z, err := f.organizerZone(zone, "end links")
	if err != nil {
		return api.Link{}, err
	}
	for _, l := range f.links[z.ID] {
		if l.ID == link || (len(link) >= 8 && strings.HasPrefix(l.ID, link)) || (l.Peer != "" && l.Peer == link) {
			if l.State == "ended" {
				return api.Link{}, fmt.Errorf("%w: link %s has already ended", control.ErrInvalid, l.ID)
			}
			// Both sides end, as the link ends tell each other.
			for _, ls := range f.links {
				for _, x := range ls {
					if x.ID == l.ID {
						x.State = "ended"
					}
				}
			}
			return *l, nil
		}
	}
	return api.Link{}, fmt.Errorf("%w: no link %q in zone %q; see lookout zone links", control.ErrNotFound, link, z.Name)
}

func (f *Fake) Share(ctx context.Context, req api.ShareRequest) (api.Alert, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	hops := req.Hops
	if hops == 0 {
		hops = 1
	}
	if hops < 1 || hops > maxShareHops {
		return api.Alert{}, fmt.Errorf("%w: hops must be 1 to %d", control.ErrInvalid, maxShareHops)
	}
	a, z, err := f.active(req.Alert, "")
	if err != nil {
		return api.Alert{}, err
	}
	f.sync(z)
	switch {
	case z.Role == "member":
		return api.Alert{}, fmt.Errorf("%w: only verifiers and organizers share alerts; you are a member of zone %q", control.ErrForbidden, z.Name)
	case a.Via != "":
		return api.Alert{}, fmt.Errorf("%w: alert %s came over a link; the zone it came from decides how far it goes", control.ErrInvalid, a.ID)
	case a.Kind == "sighting" && a.State != "verified":
		return api.Alert{}, fmt.Errorf("%w: alert %s is %s; only verified sightings and callouts cross links: confirm it first", control.ErrInvalid, a.ID, a.State)
	}
	active := false
	for _, l := range f.links[z.ID] {
		active = active || l.State == "active"
	}
	if !active {
		return api.Alert{}, fmt.Errorf("%w: zone %q has no active links; see lookout zone link", control.ErrInvalid, z.Name)
	}
	return *a, nil
}
