package app

import (
	"context"
	"errors"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"lookout/node/api"
	"lookout/protocol"
)

// showWelcome offers the three ways to start: create a zone, join one, or
// practise.
func (u *UI) showWelcome() {
	u.home(screen{name: "welcome", title: L("welcome.title"), build: func() fyne.CanvasObject {
		create := widget.NewButtonWithIcon(L("welcome.create"), theme.ContentAddIcon(), u.showCreateZone)
		join := widget.NewButtonWithIcon(L("welcome.join"), theme.LoginIcon(), u.showJoin)
		join.Importance = widget.HighImportance
		box := container.NewVBox(wrapLabel(L("welcome.intro")), join, wrapLabel(L("welcome.join.help")),
			create, wrapLabel(L("welcome.create.help")))
		if u.opt.Practice != nil {
			box.Add(u.practiceButton())
			box.Add(wrapLabel(L("welcome.practice.help")))
		}
		return box
	}})
}

// showZones lists the zones with their active and unread alert counts.
func (u *UI) showZones() {
	u.log.Info("showing zone list", "zones", len(u.b.Zones()))
	u.zoneOpen = ""
	u.home(screen{name: "zones", title: L("zones.title"), live: true, build: u.zonesContent, actions: u.zonesActions})
}

func (u *UI) zonesContent() fyne.CanvasObject {
	u.zoneOpen = ""
	box := container.NewVBox()
	if l := u.realClockWarning(); l != nil {
		box.Add(l)
	}
	zs := u.b.Zones()
	if len(zs) == 0 {
		box.Add(wrapLabel(L("zones.none")))
	}
	for _, z := range zs {
		if z.Stale { // made by an older Lookout: not joined, nothing to open
			box.Add(boldWrap(z.Name))
			stale := wrapLabel(L("zones.stale"))
			stale.Importance = widget.WarningImportance
			box.Add(stale)
			var leave *widget.Button
			leave = widget.NewButtonWithIcon(L("zones.leave"), theme.DeleteIcon(), func() {
				leave.Disable()
				u.async(func(ctx context.Context) error {
					_, err := u.b.LeaveZone(ctx, z.ID)
					return err
				}, func(err error) {
					if err != nil {
						leave.Enable()
						u.log.Warn("leave a zone made by an older Lookout", "err", err)
						return
					}
					u.showZones()
				})
			})
			box.Add(leave)
			box.Add(widget.NewSeparator())
			continue
		}
		open := widget.NewButtonWithIcon(shorten(z.Name, buttonRunes), theme.NavigateNextIcon(), func() { u.showFeed(z) })
		open.Alignment = widget.ButtonAlignLeading
		row := container.NewVBox(open)
		if shorten(z.Name, buttonRunes) != z.Name {
			row.Add(boldWrap(z.Name))
		}
		active := u.activeCount(z.ID)
		counts := wrapLabel(N("zones.active", active, args{"N": active}) + " · " + roleWord(z.Role))
		if active > 0 {
			counts.Importance = widget.DangerImportance
		}
		row.Add(counts)
		if n := u.unread[z.ID]; n > 0 {
			l := widget.NewLabelWithStyle(N("zones.unread", n, args{"N": n}), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
			l.Importance = widget.HighImportance
			row.Add(l)
		}
		if len(z.Peers) == 0 {
			row.Add(noPeersLabel())
		}
		box.Add(row)
		box.Add(widget.NewSeparator())
	}
	box.Add(container.NewGridWithColumns(2,
		widget.NewButtonWithIcon(L("zones.join"), theme.LoginIcon(), u.showJoin),
		widget.NewButtonWithIcon(L("zones.create"), theme.ContentAddIcon(), u.showCreateZone),
	))
	if u.opt.Practice != nil || u.practice != nil {
		box.Add(u.practiceButton())
	}
	box.Add(u.rightsButton(nil)) // know your rights (app/rights.go)
	box.Add(widget.NewButtonWithIcon(L("zones.settings"), theme.SettingsIcon(), u.showSettings))
	return box
}

// zonesActions is the zone list's fixed bar: Report, one tap from the
// list (with several zones, one more to choose the zone).
func (u *UI) zonesActions() fyne.CanvasObject {
	report := widget.NewButtonWithIcon(L("feed.report"), theme.WarningIcon(), u.reportAnyZone)
	report.Importance = widget.DangerImportance
	if len(currentZones(u.b.Zones())) == 0 {
		report.Disable()
	}
	return report
}

// reportAnyZone opens the report form of the only zone, or asks which zone.
func (u *UI) reportAnyZone() {
	zs := currentZones(u.b.Zones())
	switch len(zs) {
	case 0:
		return
	case 1:
		u.showReport(zs[0])
		return
	}
	u.show(screen{name: "report-pick", title: L("report.pick"), build: func() fyne.CanvasObject {
		box := container.NewVBox()
		for _, z := range zs {
			b := widget.NewButtonWithIcon(shorten(z.Name, buttonRunes), theme.WarningIcon(), func() {
				u.back()
				u.showReport(z)
			})
			b.Alignment = widget.ButtonAlignLeading
			box.Add(b)
		}
		return box
	}})
}

// currentZones leaves out zones made by an older Lookout (api.Zone.Stale).
func currentZones(zs []api.Zone) []api.Zone {
	out := zs[:0:0]
	for _, z := range zs {
		if !z.Stale {
			out = append(out, z)
		}
	}
	return out
}

// buttonRunes is the longest text a button shows in a phone-sized window.
const buttonRunes = 24

// shorten cuts s to n runes, ending with an ellipsis if it was longer.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// noPeersLabel warns that nobody in a zone is connected.
func noPeersLabel() *widget.Label {
	l := wrapLabel(L("zones.nopeers"))
	l.Importance = widget.WarningImportance
	return l
}

// activeCount counts a zone's alerts that have not ended.
func (u *UI) activeCount(zoneID string) int {
	n := 0
	for _, v := range u.alerts {
		if a := u.effective(v.Alert); a.Zone == zoneID && a.State != "cleared" && a.State != "expired" {
			n++
		}
	}
	return n
}

func roleWord(role string) string {
	switch role {
	case "organizer":
		return L("role.organizer")
	case "verifier":
		return L("role.verifier")
	}
	return L("role.member")
}

// showCreateZone asks for a zone name and creates the zone.
func (u *UI) showCreateZone() {
	name := widget.NewEntry()
	name.SetPlaceHolder(L("create.name.hint"))
	msg := errorLabel()
	var create *widget.Button
	create = widget.NewButton(L("create.button"), func() {
		n := strings.TrimSpace(name.Text)
		switch {
		case n == "":
			setError(msg, L("create.err.empty"))
			return
		case len(n) > protocol.MaxZoneNameLen:
			setError(msg, L("err.toolong", args{"Field": L("create.name"), "Max": protocol.MaxZoneNameLen}))
			return
		case protocol.CheckText(n) != nil || strings.ContainsAny(n, "\n\t"):
			setError(msg, L("err.badtext", args{"Field": L("create.name")}))
			return
		}
		setError(msg, "")
		create.Disable()
		var z api.Zone
		u.async(func(ctx context.Context) error {
			var err error
			z, err = u.b.CreateZone(ctx, n)
			return err
		}, func(err error) {
			create.Enable()
			if err != nil {
				setError(msg, u.errText(err))
				return
			}
			u.watchZone(z.ID)
			u.showZones()
			u.showInvite(z)
		})
	})
	create.Importance = widget.HighImportance
	name.OnSubmitted = func(string) { create.OnTapped() }
	u.show(screen{name: "create-zone", title: L("create.title"), focus: name, build: func() fyne.CanvasObject {
		return container.NewVBox(wrapLabel(L("create.intro")), widget.NewLabel(L("create.name")), name, msg, create)
	}})
}

// errText turns a backend error into an inline message in the member's
// language: the node's own message where it has one (api.Problem), else
// what its kind means; the error itself, in English, goes to the debug
// log only (it may name zones and members).
func (u *UI) errText(err error) string {
	u.log.Debug("action failed", "err", err)
	if p, ok := errors.AsType[*api.Problem](err); ok {
		if text, ok := localizer().Problem(p); ok {
			return text
		}
	}
	switch {
	case errors.Is(err, api.ErrForbidden):
		return L("err.forbidden")
	case errors.Is(err, api.ErrInvalid):
		return L("err.invalid")
	case errors.Is(err, api.ErrNotFound):
		return L("err.notfound")
	}
	return L("err.other")
}
