package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"lookout/node/api"
	"lookout/protocol"
)

// publish signs, seals and publishes an alert in its zone, then stores it
// locally. The local publish passes through the same validator as gossip.
func (n *Node) publish(ctx context.Context, z *zone, a *protocol.Alert) (*protocol.Message, error) {
	a.Zone = z.ID()
	if err := n.renewer.renewRoot(z); err != nil {
		return nil, err
	}
	st := z.snapshot()
	if st.removed {
		return nil, api.Fail(api.ErrForbidden, "zone.removed", "Zone", api.Quote(z.Name()))
	}
	if exp, ok := st.expiredSince(n.now()); ok {
		return nil, expiredProblem(z, exp)
	}
	if err := z.RateHeadroom(n.id.ID(), a.Kind, a.Sent); err != nil {
		return nil, err
	}
	s, err := protocol.Sign(n.id, st.chain, a)
	if err != nil {
		var fe *protocol.FieldError
		if errors.As(err, &fe) {
			return nil, fieldProblem(fe).With(fe)
		}
		return nil, err
	}
	env, err := protocol.Seal(st.secret.AlertKey(st.epoch), st.epoch, s, n.rand())
	if err != nil {
		return nil, err
	}
	if err := n.publishEnvelope(ctx, st.topic, env); err != nil {
		if n.replay.Has(s.ID) {
			// The same message (same content, same millisecond) was
			// already sent: nothing new to publish.
			return &protocol.Message{Signed: s, Epoch: st.epoch, Role: st.role}, nil
		}
		return nil, fmt.Errorf("publish: %w", err)
	}
	msg := &protocol.Message{Signed: s, Epoch: st.epoch, Role: st.role}
	if err := n.store(z, msg, env); err != nil {
		return nil, fmt.Errorf("sent, but not saved on this device: %w", err)
	}
	return msg, nil
}

func (n *Node) newAlert(kind protocol.Kind, exercise bool, ttl time.Duration) *protocol.Alert {
	now := n.now().Truncate(time.Millisecond).UTC()
	a := &protocol.Alert{Kind: kind, Sent: now, Expires: now.Add(ttl), Status: protocol.StatusActual,
		Urgency: protocol.UrgencyImmediate, Severity: protocol.SeveritySevere, Certainty: protocol.CertaintyObserved}
	if exercise {
		a.Status = protocol.StatusExercise
	}
	return a
}

func checkCount(name string, v int) error {
	if v < 0 || v > protocol.MaxCount {
		return api.Fail(api.ErrInvalid, "count.range", "Field", name, "Max", protocol.MaxCount)
	}
	return nil
}

// Report publishes a sighting (control API).
func (n *Node) Report(ctx context.Context, req api.ReportRequest) (api.Alert, error) {
	z, err := n.zone(req.Zone)
	if err != nil {
		return api.Alert{}, err
	}
	if err := checkCount("size", req.Size); err != nil {
		return api.Alert{}, err
	}
	q, err := protocol.ParseQuick(req.WhatCode, req.UniformCode, req.Vehicles)
	if err != nil {
		return api.Alert{}, quickProblem(req).With(err)
	}
	// The message lives as long as any zone may keep a sighting; the
	// sighting itself expires per the zone's settings (protocol.Fold).
	a := n.newAlert(protocol.KindSighting, req.Exercise, protocol.MaxLifetime)
	a.What, a.Area, a.Size = strings.TrimSpace(req.What), strings.TrimSpace(req.Where), uint16(req.Size)
	a.Activity, a.Uniform, a.Equipment = strings.TrimSpace(req.Activity), strings.TrimSpace(req.Uniform), strings.TrimSpace(req.Equipment)
	a.Observed, a.Quick = a.Sent, q
	msg, err := n.publish(ctx, z, a)
	if err != nil {
		return api.Alert{}, err
	}
	n.rememberPlace(z, a.Area)
	return n.view(z, msg.ID)
}

// rememberPlace puts a place this member reported first in the zone's
// recent places (zone.Record.Places), saved in the encrypted store.
func (n *Node) rememberPlace(z *zone, place string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	z.RememberPlace(place)
	if err := n.records.saveZone(z); err != nil {
		n.log.Warn("could not save recent places", "err", err)
	}
}

// Callout publishes a callout; only organizers may (control API).
func (n *Node) Callout(ctx context.Context, req api.CalloutRequest) (api.Alert, error) {
	z, err := n.zone(req.Zone)
	if err != nil {
		return api.Alert{}, err
	}
	if err := z.requireOrganizer("callout"); err != nil {
		return api.Alert{}, err
	}
	if err := checkCount("need", req.Need); err != nil {
		return api.Alert{}, err
	}
	a := n.newAlert(protocol.KindCallout, req.Exercise, protocol.DefaultCalloutTTL)
	a.Title, a.Area, a.When, a.Need = strings.TrimSpace(req.Title), strings.TrimSpace(req.Where), strings.TrimSpace(req.When), uint16(req.Need)
	a.Bring, a.Rights = strings.TrimSpace(req.Bring), strings.TrimSpace(req.Rights)
	if a.Card, err = calloutCard(req.Card); err != nil {
		return api.Alert{}, err
	}
	msg, err := n.publish(ctx, z, a)
	if err != nil {
		return api.Alert{}, err
	}
	return n.view(z, msg.ID)
}

// update publishes an update referring to root and returns root's view.
func (n *Node) update(ctx context.Context, z *zone, root *protocol.Message, a *protocol.Alert) (api.Alert, error) {
	if !n.now().Before(root.Alert.Expires) {
		return api.Alert{}, api.Fail(api.ErrInvalid, "alert.expired", "ID", root.ID)
	}
	cur, err := n.view(z, root.ID)
	if err != nil {
		return api.Alert{}, err
	}
	switch protocol.State(cur.State) {
	case protocol.StateCleared:
		return api.Alert{}, api.Fail(api.ErrInvalid, "alert.cleared", "ID", root.ID)
	case protocol.StateExpired:
		return api.Alert{}, api.Fail(api.ErrInvalid, "alert.expired", "ID", root.ID)
	}
	a.Ref = root.ID
	if root.Alert.Exercise() {
		a.Status = protocol.StatusExercise
	}
	if _, err := n.publish(ctx, z, a); err != nil {
		return api.Alert{}, err
	}
	return n.view(z, root.ID)
}

// Confirm confirms a sighting as a witness (control API).
func (n *Node) Confirm(ctx context.Context, alertID string) (api.Alert, error) {
	z, root, err := n.findAlert(alertID)
	if err != nil {
		return api.Alert{}, err
	}
	if root.Alert.Kind != protocol.KindSighting {
		return api.Alert{}, api.Fail(api.ErrInvalid, "confirm.callout", "ID", root.ID)
	}
	if z.Confirmed(root.ID, n.id.ID()) { // a member confirms once; repeats would not count
		return n.view(z, root.ID)
	}
	return n.update(ctx, z, root, n.newAlert(protocol.KindConfirm, false, protocol.DefaultUpdateTTL))
}

// Respond answers a callout: enroute, onscene or cannot (control API).
func (n *Node) Respond(ctx context.Context, alertID, status string) (api.Alert, error) {
	r, err := protocol.ParseResponse(status)
	if err != nil {
		return api.Alert{}, api.Fail(api.ErrInvalid, "respond.status", "Status", api.Quote(status))
	}
	z, root, err := n.findAlert(alertID)
	if err != nil {
		return api.Alert{}, err
	}
	if root.Alert.Kind != protocol.KindCallout {
		return api.Alert{}, api.Fail(api.ErrInvalid, "respond.sighting", "ID", root.ID)
	}
	a := n.newAlert(protocol.KindRespond, false, protocol.DefaultUpdateTTL)
	a.Response = r
	return n.update(ctx, z, root, a)
}

// Clear retracts one's own alert, gives the all clear as a verifier or
// organizer (only organizers end callouts), or, from another member, sends
// a note that the agents left, shown but not obeyed (control API).
func (n *Node) Clear(ctx context.Context, alertID, reason string) (api.Alert, error) {
	z, root, err := n.findAlert(alertID)
	if err != nil {
		return api.Alert{}, err
	}
	a := n.newAlert(protocol.KindClear, false, protocol.DefaultUpdateTTL)
	a.Note = strings.TrimSpace(reason)
	role := z.snapshot().role
	switch {
	case root.Alert.Kind == protocol.KindSighting:
		if err := n.clearTarget(z, root, role, a); err != nil {
			return api.Alert{}, err
		}
	case root.Alert.Sender == n.id.ID():
		a.Reason = protocol.ClearRetracted
	case root.Alert.Kind == protocol.KindCallout && role != protocol.RoleOrganizer:
		return api.Alert{}, api.Fail(api.ErrForbidden, "callout.endorganizer")
	case role == protocol.RoleMember:
		a.Reason = protocol.ClearRetracted
	default:
		a.Reason = protocol.ClearAllClear
	}
	return n.update(ctx, z, root, a)
}

// clearTarget sets the reason of a clear of the incident root belongs to.
// A verifier or an organizer gives the all clear, unless root is their own
// report, the only one standing, and nobody else witnessed the incident
// (then it is withdrawn, as anyone's own report; that ends it just the
// same). Anyone else withdraws
// root if they sent it; otherwise their clear is a "they left" note: every
// node shows it on the incident, none obeys it (protocol.View.Notes); a
// verifier or an organizer acts on it.
func (n *Node) clearTarget(z *zone, root *protocol.Message, role protocol.Role, a *protocol.Alert) error {
	a.Reason = protocol.ClearRetracted
	if role < protocol.RoleVerifier {
		return nil
	}
	cur, err := n.view(z, root.ID)
	if err != nil {
		return err
	}
	standing := 0
	for _, r := range cur.Reports {
		if !r.Withdrawn {
			standing++
		}
	}
	alone := root.Alert.Sender == n.id.ID() && standing == 1 && cur.Confirmations != nil && *cur.Confirmations <= 1
	if !alone {
		a.Reason = protocol.ClearAllClear
	}
	return nil
}

func (n *Node) view(z *zone, id protocol.AlertID) (api.Alert, error) {
	v, ok := z.View(id, n.now())
	if !ok {
		return api.Alert{}, api.Fail(api.ErrNotFound, "alert.gone", "ID", id)
	}
	return v, nil
}

// Alerts returns a zone's active alerts, newest first (control API).
func (n *Node) Alerts(zoneRef string) ([]api.Alert, error) {
	z, err := n.zone(zoneRef)
	if err != nil {
		return nil, err
	}
	return z.Active(n.now()), nil
}

// Watch streams views of a zone's alerts as they arrive or change, until
// ctx ends (control API).
func (n *Node) Watch(ctx context.Context, zoneRef string) (<-chan api.Alert, error) {
	z, err := n.zone(zoneRef)
	if err != nil {
		return nil, err
	}
	in := make(chan api.Alert, watchBuffer)
	z.mu.Lock()
	z.watchers[in] = struct{}{}
	z.mu.Unlock()
	out := make(chan api.Alert)
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		defer close(out)
		defer func() {
			z.mu.Lock()
			delete(z.watchers, in)
			z.mu.Unlock()
		}()
		for {
			select {
			case <-ctx.Done():
				return
			case <-n.ctx.Done():
				return
			case <-z.gone:
				return // removed from the zone: nothing more will come
			case a := <-in:
				select {
				case out <- a:
				case <-ctx.Done():
					return
				case <-n.ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}

// UpdateCallout changes a callout's fields; only organizers (control API).
func (n *Node) UpdateCallout(ctx context.Context, req api.CalloutUpdateRequest) (api.Alert, error) {
	z, root, err := n.findAlert(req.Alert)
	if err != nil {
		return api.Alert{}, err
	}
	if root.Alert.Kind != protocol.KindCallout {
		return api.Alert{}, api.Fail(api.ErrInvalid, "update.sighting", "ID", root.ID)
	}
	if err := z.requireOrganizer("update"); err != nil {
		return api.Alert{}, err
	}
	if err := checkCount("need", req.Need); err != nil {
		return api.Alert{}, err
	}
	cur, err := n.view(z, root.ID)
	if err != nil {
		return api.Alert{}, err
	}
	if cur.State == string(protocol.StateCleared) || cur.State == string(protocol.StateExpired) {
		return api.Alert{}, api.Fail(api.ErrInvalid, "callout.ended", "ID", root.ID)
	}
	pick := func(v, old string) string {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
		return old
	}
	a := n.newAlert(protocol.KindCallout, root.Alert.Exercise(), 0)
	a.Expires = root.Alert.Expires
	if !a.Expires.After(a.Sent) {
		return api.Alert{}, api.Fail(api.ErrInvalid, "callout.expired", "ID", root.ID)
	}
	a.Title, a.Area, a.When = pick(req.Title, cur.Title), pick(req.Where, cur.Where), pick(req.When, cur.When)
	a.Bring, a.Rights = pick(req.Bring, cur.Bring), pick(req.Rights, cur.Rights)
	if a.Card, err = calloutCard(pick(req.Card, cur.Card)); err != nil {
		return api.Alert{}, err
	}
	a.Need = uint16(cur.Need)
	if req.Need > 0 {
		a.Need = uint16(req.Need)
	}
	return n.update(ctx, z, root, a)
}

// Cosign adds this organizer's signature to another organizer's callout
// (control API).
func (n *Node) Cosign(ctx context.Context, alertID string) (api.Alert, error) {
	z, root, err := n.findAlert(alertID)
	if err != nil {
		return api.Alert{}, err
	}
	if root.Alert.Kind != protocol.KindCallout {
		return api.Alert{}, api.Fail(api.ErrInvalid, "cosign.sighting", "ID", root.ID)
	}
	if err := z.requireOrganizer("cosign"); err != nil {
		return api.Alert{}, err
	}
	if root.Alert.Sender == n.id.ID() {
		return api.Alert{}, api.Fail(api.ErrInvalid, "cosign.own")
	}
	cur, err := n.view(z, root.ID)
	if err != nil {
		return api.Alert{}, err
	}
	if slices.Contains(cur.Cosigners, n.id.ID().String()) {
		return api.Alert{}, api.Fail(api.ErrInvalid, "cosign.already")
	}
	return n.update(ctx, z, root, n.newAlert(protocol.KindCosign, false, protocol.DefaultUpdateTTL))
}

// apiField names a protocol field as the control API and the CLI call it.
// fieldProblem says what is wrong with a field of a message the user
// sends.
func fieldProblem(fe *protocol.FieldError) *api.Problem {
	field := apiField(fe.Field)
	var n, max int
	switch {
	case errors.Is(fe.Err, protocol.ErrTooLong):
		// protocol.FieldError text: "text too long: N characters, at most M"
		if _, err := fmt.Sscanf(fe.Err.Error(), protocol.ErrTooLong.Error()+": %d characters, at most %d", &n, &max); err == nil {
			return api.Fail(api.ErrInvalid, "field.toolong", "Field", field, "N", n, "Max", max)
		}
	case errors.Is(fe.Err, protocol.ErrMissing):
		return api.Fail(api.ErrInvalid, "field.missing", "Field", field)
	case errors.Is(fe.Err, protocol.ErrBadText):
		return api.Fail(api.ErrInvalid, "field.badtext", "Field", field)
	}
	return api.Fail(api.ErrInvalid, "field.invalid", "Field", field, "Err", fe.Err)
}

// quickProblem says which quick-report code of req is wrong.
func quickProblem(req api.ReportRequest) *api.Problem {
	norm := func(s string) string { return api.Quote(strings.ToLower(strings.TrimSpace(s))) }
	if _, err := protocol.ParseWhatCode(req.WhatCode); err != nil {
		return api.Fail(api.ErrInvalid, "quick.what", "Code", norm(req.WhatCode))
	}
	if _, err := protocol.ParseUniformCode(req.UniformCode); err != nil {
		return api.Fail(api.ErrInvalid, "quick.uniform", "Code", norm(req.UniformCode))
	}
	return api.Fail(api.ErrInvalid, "quick.vehicles", "Max", protocol.MaxVehicles)
}

func apiField(f string) string {
	if f == "area" {
		return "where"
	}
	return f
}
