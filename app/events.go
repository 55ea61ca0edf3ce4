package app

import (
	"context"
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"

	"lookout/node/api"
)

// use puts backend b on screen: it stops watching the previous one and
// forgets its alerts, then watches every zone of b.
func (u *UI) use(b Backend) {
	if u.watchCancel != nil {
		u.watchCancel()
	}
	u.switchTo(b)
}

// switchTo makes b the backend on screen with empty alert state, without
// stopping the watches of the previous one (practice keeps the real node
// watched).
func (u *UI) switchTo(b Backend) {
	u.newGen()
	u.b = b
	u.alerts = map[string]*alertView{}
	u.unread = map[string]int{}
	u.zoneOpen = ""
	u.watching = map[string]bool{}
	ctx, cancel := context.WithCancel(u.ctx)
	u.watchCtx, u.watchCancel = ctx, cancel
	for _, z := range b.Zones() {
		u.watch(ctx, z.ID)
		u.load(z.ID)
	}
}

// heldView is the member's own node and its alert state while the practice
// zone is on screen: its zones stay watched and its alerts keep notifying.
type heldView struct {
	b           Backend
	gen         int
	alerts      map[string]*alertView
	unread      map[string]int
	watching    map[string]bool
	watchCtx    context.Context
	watchCancel context.CancelFunc
	banner      []string // IDs of real alerts that arrived during practice, oldest first
}

// hold sets the backend on screen aside, still watched, and returns it.
func (u *UI) hold() *heldView {
	return &heldView{b: u.b, gen: u.gen, alerts: u.alerts, unread: u.unread, watching: u.watching,
		watchCtx: u.watchCtx, watchCancel: u.watchCancel}
}

// restore puts a held backend back on screen with its alerts and unread
// marks, stopping the watches of the backend on screen.
func (u *UI) restore(h *heldView) {
	if u.watchCancel != nil {
		u.watchCancel()
	}
	u.b, u.gen, u.alerts, u.unread, u.watching = h.b, h.gen, h.alerts, h.unread, h.watching
	u.watchCtx, u.watchCancel = h.watchCtx, h.watchCancel
	u.zoneOpen = ""
	// Alerts that changed while practice was on screen.
	for _, z := range u.b.Zones() {
		u.load(z.ID)
	}
}

// onHeldAlert records an alert of the member's own node that arrived while
// practice is on screen: it is counted as new, notifies as any real alert
// does, and is announced in a banner above the practice screens.
func (u *UI) onHeldAlert(a api.Alert) {
	h := u.held
	now := u.opt.Now()
	v, ok := h.alerts[a.ID]
	if !ok {
		v = &alertView{Alert: a, timeline: []timelineEntry{{at: a.Sent, text: sentText(a)}}}
		h.alerts[a.ID] = v
		h.unread[a.Zone]++
	} else {
		for _, t := range changes(v.Alert, a) {
			v.timeline = append(v.timeline, timelineEntry{at: now, text: t})
		}
		v.Alert = a
	}
	u.notify(a)
	if !a.Exercise && !slices.Contains(h.banner, a.ID) {
		// The banner appears on the practice screen at once.
		h.banner = append(h.banner, a.ID)
		u.render()
	}
}

// watchZone starts watching a zone just created or joined.
func (u *UI) watchZone(zoneID string) {
	u.watch(u.watchCtx, zoneID)
	u.load(zoneID)
}

// load reads a zone's active alerts into the cache, without notifying.
func (u *UI) load(zoneID string) {
	as, err := u.b.Alerts(zoneID)
	if err != nil {
		u.log.Warn("load alerts", "zone", zoneID, "err", err)
		return
	}
	for _, a := range as {
		if _, ok := u.alerts[a.ID]; !ok {
			u.alerts[a.ID] = &alertView{Alert: a, timeline: []timelineEntry{{at: a.Sent, text: sentText(a)}}}
			u.notified[a.ID] = true // already there when the app opened
		}
	}
}

// watch forwards a zone's alert stream to onAlert until ctx ends or the
// backend is replaced.
func (u *UI) watch(ctx context.Context, zoneID string) {
	if u.watching[zoneID] {
		return
	}
	u.watching[zoneID] = true
	b, gen := u.b, u.gen
	ch, err := b.Watch(ctx, zoneID)
	if err != nil {
		u.log.Warn("watch zone", "zone", zoneID, "err", err)
		return
	}
	go func() {
		for a := range ch {
			u.do(func() {
				switch {
				case u.gen == gen:
					u.onAlert(a)
				case u.held != nil && u.held.gen == gen:
					u.onHeldAlert(a)
				}
			})
		}
	}()
}

// onAlert records a new alert or an update, notifies if it calls for it,
// and refreshes the screen.
func (u *UI) onAlert(a api.Alert) {
	now := u.opt.Now()
	v, ok := u.alerts[a.ID]
	if !ok {
		v = &alertView{Alert: a, timeline: []timelineEntry{{at: a.Sent, text: sentText(a)}}}
		u.alerts[a.ID] = v
		if u.zoneOpen != a.Zone {
			u.unread[a.Zone]++
		}
	} else {
		for _, t := range changes(v.Alert, a) {
			v.timeline = append(v.timeline, timelineEntry{at: now, text: t})
		}
		v.Alert = a
	}
	u.notify(a)
	u.refresh()
}

// notify alerts the member to a verified sighting or an active callout,
// once per alert, never for drills. The system notification is discreet:
// it names no zone, text or place, because the OS keeps a history of them.
// Where the desktop cannot show notifications, the window comes to the
// front with the alert in a dialog instead.
func (u *UI) notify(a api.Alert) {
	if a.Exercise || u.notified[a.ID] || u.fa.Preferences().Bool(prefNotifications) {
		return
	}
	switch {
	case a.Kind == "sighting" && a.State == "verified":
	case a.Kind == "callout" && a.State == "active":
	default:
		return
	}
	u.notified[a.ID] = true
	if u.notificationsWork() {
		u.fa.SendNotification(fyne.NewNotification(L("app.title"), L("notify.discreet")))
		return
	}
	u.inAppAlert(a)
}

// notificationsWork reports whether system notifications can be shown.
func (u *UI) notificationsWork() bool {
	return u.opt.Notifications == nil || u.opt.Notifications()
}

// inAppAlert brings the window to the front with a dialog naming the alert
// and one button to open it.
func (u *UI) inAppAlert(a api.Alert) {
	u.w.Show()
	u.w.RequestFocus()
	text := L("notify.inapp", args{"Zone": a.ZoneName})
	d := dialog.NewConfirm(L("notify.discreet"), text, func(open bool) {
		if open {
			if u.held != nil && u.held.alerts[a.ID] != nil {
				u.leavePractice()
			}
			u.showAlert(a.ID)
		}
	}, u.w)
	d.SetConfirmText(L("notify.open"))
	d.SetDismissText(L("notify.later"))
	d.Show()
	u.inApp++
}

// sentText is the first timeline entry of an alert.
func sentText(a api.Alert) string {
	if a.Kind == "callout" {
		return L("timeline.callout")
	}
	return L("timeline.reported")
}

// changes describes what changed from old to new, for the timeline.
func changes(old, new api.Alert) []string {
	var out []string
	if new.Confirmations != nil && (old.Confirmations == nil || *new.Confirmations > *old.Confirmations) {
		out = append(out, N("timeline.witnesses", *new.Confirmations, args{"N": *new.Confirmations}))
	}
	if new.State != old.State {
		out = append(out, L("timeline.state", args{"State": stateWord(new)}))
	}
	if r, o := new.Responders, old.Responders; r != nil && o != nil && *r != *o {
		out = append(out, L("timeline.responders", args{"EnRoute": r.EnRoute, "OnScene": r.OnScene, "Cannot": r.Cannot}))
	}
	if len(new.Cosigners) > len(old.Cosigners) {
		out = append(out, L("timeline.cosigned"))
	}
	return out
}
