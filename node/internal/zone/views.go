package zone

import (
	"bytes"
	"maps"
	"slices"
	"time"

	"lookout/node/api"
	"lookout/protocol"
)

// Alerts is what a zone's views are folded from. The zone lends its own
// maps, under its lock; nothing here changes them.
type Alerts struct {
	ZoneID, ZoneName string
	Roots            map[protocol.AlertID]*protocol.Message   // sightings and callouts
	Updates          map[protocol.AlertID][]*protocol.Message // by the alert they refer to
	Settings         protocol.Settings
	Roster           *protocol.Roster
	Links            map[protocol.LinkID]*protocol.Link
}

// Card is one alert as shown: an incident of sightings, or a callout.
type Card struct {
	Roots []protocol.AlertID // every root message folded into it
	View  api.Alert
}

// Cards folds the zone's alerts into cards as of now. Sightings are
// grouped into incidents; a report that came after its incident ended
// starts a new one. Cards with nothing left that counts (every sender
// removed) are dropped.
func (a Alerts) Cards(now time.Time) []Card {
	var sightings []*protocol.Message
	var out []Card
	for _, m := range a.Roots {
		if m.Alert.Kind == protocol.KindSighting {
			sightings = append(sightings, m)
		} else if v, ok := a.View([]*protocol.Message{m}, now); ok {
			out = append(out, Card{Roots: []protocol.AlertID{m.ID}, View: v})
		}
	}
	queue := protocol.Incidents(sightings, protocol.IncidentWindow)
	for len(queue) > 0 {
		g := queue[0]
		queue = queue[1:]
		v, ok := a.View(g, now)
		var in, rest []*protocol.Message
		for _, m := range g {
			if ok && slices.Contains(v.Sightings, m.ID.String()) {
				in = append(in, m)
			} else {
				rest = append(rest, m)
			}
		}
		if ok {
			c := Card{View: v}
			for _, m := range in {
				c.Roots = append(c.Roots, m.ID)
			}
			out = append(out, c)
		}
		if len(rest) > 0 && len(rest) < len(g) {
			queue = append(queue, protocol.Incidents(rest, protocol.IncidentWindow)...)
		}
	}
	return out
}

// CardOf returns the card the root id belongs to: its incident for a
// sighting, itself for a callout.
func (a Alerts) CardOf(id protocol.AlertID, now time.Time) (Card, bool) {
	for _, c := range a.Cards(now) {
		if slices.Contains(c.Roots, id) {
			return c, true
		}
	}
	return Card{}, false
}

// View folds an incident (or a callout) and the updates that refer to it
// into its view (protocol.Fold), with what links add.
func (a Alerts) View(roots []*protocol.Message, now time.Time) (api.Alert, bool) {
	var ups []*protocol.Message
	for _, r := range roots {
		ups = append(ups, a.Updates[r.ID]...)
	}
	v := protocol.Fold(roots, ups, a.Settings, a.Roster.Removed, now)
	root := v.Root
	if root == nil {
		return api.Alert{}, false // nothing in it counts (e.g. its sender was removed)
	}
	cur := v.Current
	out := api.Alert{
		ID: v.Incident.String(), Zone: a.ZoneID, ZoneName: a.ZoneName, Kind: cur.Kind.String(), State: string(v.State),
		Sent: root.Alert.Sent, Expires: v.Expires, Exercise: cur.Exercise(), Sender: root.Alert.Sender.String(), SenderRole: root.Role.String(),
		Where: cur.Area,
	}
	switch cur.Kind {
	case protocol.KindSighting:
		// The newest report's text, the largest size (protocol.View).
		l := v.Latest
		out.Where, out.What, out.Size, out.Activity, out.Uniform, out.Equipment = l.Area, l.What, int(v.MaxSize), l.Activity, l.Uniform, l.Equipment
		out.WhatCode, out.UniformCode, out.Vehicles = l.Quick.What.String(), l.Quick.Uniform.String(), int(l.Quick.Vehicles)
		sightingView(&out, roots, v)
		if !cur.Observed.IsZero() {
			t := cur.Observed
			out.Observed = &t
		}
		c := len(v.Confirmers)
		out.Confirmations = &c
		out.Verified = v.Verified
		out.Incident = v.Incident.String()
		for _, id := range v.Sightings {
			out.Sightings = append(out.Sightings, id.String())
		}
		for _, m := range v.VerifiedBy {
			out.VerifiedBy = append(out.VerifiedBy, m.String())
		}
	case protocol.KindCallout:
		out.Title, out.When, out.Need, out.Needed, out.Bring, out.Rights = cur.Title, cur.When, int(cur.Need), int(cur.Need), cur.Bring, cur.Rights
		out.Card = cur.Card
		out.Cosigned = len(v.Cosigners) > 0
		for _, m := range v.Cosigners {
			out.Cosigners = append(out.Cosigners, m.String())
		}
		out.Responders = &api.Responders{
			EnRoute: v.Count(protocol.ResponseEnRoute),
			OnScene: v.Count(protocol.ResponseOnScene),
			Cannot:  v.Count(protocol.ResponseCannot),
		}
	}
	if v.Clear != nil {
		out.ClearReason = v.Clear.Alert.Reason.String()
		out.ClearNote = v.Clear.Alert.Note
	}
	a.linkView(root, ups, &out)
	return out, true
}

// linkView adds what links say to an alert's view: the link it came over
// and the responder totals of linked zones (each link's latest tally).
func (a Alerts) linkView(root *protocol.Message, ups []*protocol.Message, out *api.Alert) {
	if v := root.Alert.Via; v != nil {
		if l := a.Links[v.Link]; l != nil {
			out.Via = l.Peer
		}
		out.Origin = v.Origin
	}
	if root.Alert.Kind != protocol.KindCallout || out.Responders == nil {
		return
	}
	latest := map[protocol.LinkID]*protocol.Message{}
	for _, u := range ups {
		t := u.Alert
		if t.Kind != protocol.KindTally || t.Ref != root.ID || t.Via == nil || a.Roster.Removed(t.Sender) {
			continue
		}
		if p := latest[t.Via.Link]; p == nil || t.Via.At.After(p.Alert.Via.At) || (t.Via.At.Equal(p.Alert.Via.At) && t.Sent.After(p.Alert.Sent)) {
			latest[t.Via.Link] = u
		}
	}
	if len(latest) == 0 {
		return
	}
	// A linked zone's totals cannot be checked: each is capped, and shown
	// apart from the zone's own, with the link's name and who relayed it.
	limit := api.MaxLinkedResponders
	if out.Need > 0 {
		limit = out.Need
	}
	capped := func(x int, c *bool) int {
		if x > limit {
			*c = true
			return limit
		}
		return x
	}
	links := slices.SortedFunc(maps.Keys(latest), func(x, y protocol.LinkID) int { return bytes.Compare(x[:], y[:]) })
	linked := &api.Responders{}
	for _, id := range links {
		u := latest[id]
		t := u.Alert.Tally
		lt := api.LinkedTally{Reporter: u.Alert.Sender.String()}
		if l := a.Links[id]; l != nil {
			lt.Zone = l.Peer
		}
		lt.EnRoute = capped(int(t.EnRoute), &lt.Capped)
		lt.OnScene = capped(int(t.OnScene), &lt.Capped)
		lt.Cannot = capped(int(t.Cannot), &lt.Capped)
		out.Linked = append(out.Linked, lt)
		linked.EnRoute += lt.EnRoute
		linked.OnScene += lt.OnScene
		linked.Cannot += lt.Cannot
	}
	var over bool
	linked.EnRoute = capped(linked.EnRoute, &over)
	linked.OnScene = capped(linked.OnScene, &over)
	linked.Cannot = capped(linked.Cannot, &over)
	out.LinkedResponders = linked
}

// sightingView adds an incident's reports and notes to its view.
func sightingView(out *api.Alert, roots []*protocol.Message, v protocol.View) {
	byID := make(map[protocol.AlertID]*protocol.Message, len(roots))
	for _, m := range roots {
		byID[m.ID] = m
	}
	var part []*protocol.Message
	for _, id := range v.Sightings {
		if m := byID[id]; m != nil {
			part = append(part, m)
		}
	}
	slices.SortFunc(part, func(a, b *protocol.Message) int { return a.Alert.Sent.Compare(b.Alert.Sent) })
	for _, m := range part {
		a := m.Alert
		out.Reports = append(out.Reports, api.Report{ID: m.ID.String(), Sent: a.Sent, Sender: a.Sender.String(),
			Where: a.Area, What: a.What, Size: int(a.Size), Withdrawn: slices.Contains(v.Withdrawn, m.ID)})
	}
	for _, c := range v.Notes {
		kind := "left"
		if r := byID[c.Alert.Ref]; r != nil && r.Alert.Sender == c.Alert.Sender {
			kind = "withdrawn"
		}
		out.Notes = append(out.Notes, api.Note{Sent: c.Alert.Sent, Sender: c.Alert.Sender.String(), Kind: kind, Note: c.Alert.Note})
	}
}
