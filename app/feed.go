package app

import (
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"lookout/node/api"
)

// zone returns the current view of a zone (role and peers change).
func (u *UI) zone(id string) (api.Zone, bool) {
	for _, z := range u.b.Zones() {
		if z.ID == id {
			return z, true
		}
	}
	return api.Zone{}, false
}

// showFeed shows a zone's alerts, most urgent first.
// The order is fixed while the feed is on screen: alerts that arrive
// meanwhile wait behind a "Show N new" button in the fixed bar, so no card
// moves under the reader's pointer.
func (u *UI) showFeed(z api.Zone) {
	u.show(screen{name: "feed", title: z.Name, live: true,
		// Coming (back) to the feed shows everything, one's own report too.
		enter: func() {
			u.zoneOpen = z.ID
			u.unread[z.ID] = 0
			u.feedShown = u.feedIDs(z.ID)
		},
		build:   func() fyne.CanvasObject { return u.feedContent(z.ID) },
		actions: func() fyne.CanvasObject { return u.feedActions(z.ID) }})
}

// feedIDs lists a zone's alert IDs in feed order.
func (u *UI) feedIDs(zoneID string) []string {
	var ids []string
	for _, a := range u.feedAlerts(zoneID) {
		ids = append(ids, a.ID)
	}
	return ids
}

// feedActions is the feed's fixed bar: Report, and a button that shows
// alerts that arrived since the feed was drawn (a blank in its place when
// there are none, so Report never moves).
func (u *UI) feedActions(zoneID string) fyne.CanvasObject {
	report := widget.NewButtonWithIcon(L("feed.report"), theme.WarningIcon(), func() {
		if z, ok := u.zone(zoneID); ok {
			u.showReport(z)
		}
	})
	report.Importance = widget.DangerImportance
	n := len(u.feedAlerts(zoneID)) - len(u.feedShown)
	if n <= 0 {
		return report
	}
	more := widget.NewButtonWithIcon(N("feed.shownew", n, args{"N": n}), theme.ViewRefreshIcon(), func() {
		u.feedShown = u.feedIDs(zoneID)
		u.render()
	})
	more.Importance = widget.HighImportance
	// Report keeps its place at the left; the new button takes the right.
	return container.NewBorder(nil, nil, nil, more, report)
}

// effective is a as it stands now: one that ran out without an update is
// expired.
func (u *UI) effective(a api.Alert) api.Alert {
	if a.State != "cleared" && !a.Expires.IsZero() && u.opt.Now().After(a.Expires) {
		a.State = "expired"
	}
	return a
}

// feedAlerts returns a zone's alerts in feed order.
func (u *UI) feedAlerts(zoneID string) []api.Alert {
	var as []api.Alert
	for _, v := range u.alerts {
		if v.Zone == zoneID {
			as = append(as, u.effective(v.Alert))
		}
	}
	api.SortByUrgency(as)
	return as
}

func (u *UI) feedContent(zoneID string) fyne.CanvasObject {
	u.zoneOpen = zoneID
	u.unread[zoneID] = 0
	z, ok := u.zone(zoneID)
	if !ok {
		return wrapLabel(L("feed.gone"))
	}
	box := container.NewVBox()
	if l := u.realClockWarning(); l != nil {
		box.Add(l)
	}
	var tools []fyne.CanvasObject
	if z.Role == "organizer" {
		tools = append(tools,
			widget.NewButtonWithIcon(L("feed.callout"), theme.MailSendIcon(), func() { u.showCallout(z) }),
			widget.NewButtonWithIcon(L("feed.invite"), theme.ContentAddIcon(), func() { u.showInvite(z) }))
	}
	tools = append(tools, widget.NewButtonWithIcon(L("feed.members"), theme.AccountIcon(), func() { u.showMembers(z) }),
		u.placesButton(z)) // safe places (places.go)
	box.Add(container.NewGridWithColumns(2, tools...))
	if len(z.Peers) == 0 {
		box.Add(noPeersLabel())
	}
	box.Add(widget.NewSeparator())
	byID := map[string]api.Alert{}
	for _, a := range u.feedAlerts(zoneID) {
		byID[a.ID] = a
	}
	var as []api.Alert
	for _, id := range u.feedShown {
		if a, ok := byID[id]; ok {
			as = append(as, a)
		}
	}
	if len(as) == 0 {
		box.Add(wrapLabel(L("feed.empty")))
	}
	for _, a := range as {
		box.Add(u.feedItem(a))
		box.Add(widget.NewSeparator())
	}
	return box
}

// feedItem is one alert in the feed: state in words and colour, what, where
// and when, and a button to open it.
func (u *UI) feedItem(a api.Alert) fyne.CanvasObject {
	head := container.NewVBox(stateLabel(a))
	if a.Exercise {
		head.Add(drillLabel())
	}
	what := u.whatText(a)
	if a.Kind == "callout" {
		what = L("feed.callout.title", args{"Title": a.Title})
	}
	lines := container.NewVBox(head, boldWrap(what),
		wrapLabel(L("feed.where", args{"Where": a.Where, "Time": u.clock(a.Sent)})))
	if a.Kind == "callout" && a.Responders != nil {
		lines.Add(wrapLabel(responderLine(a)))
	}
	open := widget.NewButton(L("feed.open"), func() { u.showAlert(a.ID) })
	lines.Add(open)
	return container.NewBorder(nil, nil, stateBar(a.State), nil, lines)
}

func boldWrap(text string) *widget.Label {
	l := widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	l.Wrapping = fyne.TextWrapWord
	return l
}

// clock formats a time of day in the app's time zone.
func (u *UI) clock(t time.Time) string {
	t = t.In(u.opt.Location)
	if y, m, d := t.Date(); y != u.opt.Now().In(u.opt.Location).Year() || m != u.opt.Now().In(u.opt.Location).Month() || d != u.opt.Now().In(u.opt.Location).Day() {
		return t.Format("2006-01-02 15:04")
	}
	return t.Format("15:04")
}

// responderLine gives a callout's answers against the number needed.
func responderLine(a api.Alert) string {
	r := api.Responders{}
	if a.Responders != nil {
		r = *a.Responders
	}
	return L("callout.counts", args{"EnRoute": r.EnRoute, "OnScene": r.OnScene, "Cannot": r.Cannot, "Need": a.Needed})
}

// linkedLines renders what each linked zone reported about a callout's
// responders, one line each, apart from the zone's own counts.
func linkedLines(a api.Alert) []string {
	var out []string
	for _, l := range a.Linked {
		zone := l.Zone
		if zone == "" {
			zone = "?"
		}
		reporter := l.Reporter
		if len(reporter) > 8 {
			reporter = reporter[:8]
		}
		line := L("callout.linked", args{"Zone": zone, "EnRoute": l.EnRoute, "OnScene": l.OnScene, "Reporter": reporter})
		if l.Capped {
			line += " " + L("callout.linked.capped")
		}
		out = append(out, line)
	}
	return out
}
