package app

import (
	"context"

	"fyne.io/fyne/v2"

	"lookout/node/api"
)

// use puts backend b on screen: it forgets the alerts of the previous one
// and watches every zone of b.
func (u *UI) use(b Backend) {
	if u.watchCancel != nil {
		u.watchCancel()
	}
	u.gen++
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
				if u.gen == gen {
					u.onAlert(a)
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

// notify sends a desktop notification for a verified sighting or an
// active callout, once per alert, never for drills.
func (u *UI) notify(a api.Alert) {
	if a.Exercise || u.notified[a.ID] || u.fa.Preferences().Bool(prefNotifications) {
		return
	}
	var n *fyne.Notification
	switch {
	case a.Kind == "sighting" && a.State == "verified":
		n = fyne.NewNotification(L("notify.verified.title", args{"Zone": a.ZoneName}), L("notify.verified.body", args{"What": u.whatText(a), "Where": a.Where}))
	case a.Kind == "callout" && a.State == "active":
		n = fyne.NewNotification(L("notify.callout.title", args{"Zone": a.ZoneName}), L("notify.callout.body", args{"Title": a.Title, "Where": a.Where, "Need": a.Needed}))
	default:
		return
	}
	u.notified[a.ID] = true
	u.fa.SendNotification(n)
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
