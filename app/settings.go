package app

import (
	"context"
	"errors"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"lookout/node/api"
	"lookout/node/reach"
)

// languageName is how a language is offered, in that language.
func languageName(code string) string {
	switch code {
	case "en":
		return "English"
	case "fr":
		return "Français"
	case "es":
		return "Español"
	}
	return code
}

// showSettings: language, notifications, passphrase, connection status
// and the panic wipe.
func (u *UI) showSettings() {
	names := make([]string, len(languages))
	for i, c := range languages {
		names[i] = languageName(c)
	}
	lang := widget.NewSelect(names, nil)
	lang.SetSelected(languageName(u.fa.Preferences().String(prefLanguage)))
	lang.OnChanged = func(s string) {
		code := languages[max(0, index(names, s))]
		if code == u.fa.Preferences().String(prefLanguage) {
			return
		}
		u.fa.Preferences().SetString(prefLanguage, code)
		loadTranslations(code)
		u.showZones()
		u.showSettings()
	}
	notify := widget.NewCheck(L("settings.notify"), func(on bool) { u.fa.Preferences().SetBool(prefNotifications, !on) })
	notify.SetChecked(!u.fa.Preferences().Bool(prefNotifications))

	old, pass, confirm := newPasswordEntry(), newPasswordEntry(), newPasswordEntry()
	passMsg := errorLabel()
	suggested := wrapLabel("")
	suggested.Hide()
	passDone := wrapLabel(L("settings.pass.done"))
	passDone.Importance = widget.SuccessImportance
	passDone.Hide()
	var change *widget.Button
	change = widget.NewButton(L("settings.pass.change"), func() {
		passDone.Hide()
		switch {
		case old.Text == "" || pass.Text == "":
			setError(passMsg, L("firstrun.err.nopass"))
			return
		case passphraseProblem(pass.Text) != "":
			setError(passMsg, passphraseProblem(pass.Text))
			return
		case pass.Text != confirm.Text:
			setError(passMsg, L("firstrun.err.mismatch"))
			return
		}
		setError(passMsg, "")
		change.Disable()
		o, n := []byte(old.Text), []byte(pass.Text)
		u.async(func(context.Context) error {
			defer clear(o)
			defer clear(n)
			return u.opt.Profile.ChangePassphrase(o, n)
		}, func(err error) {
			change.Enable()
			switch {
			case errors.Is(err, ErrWrongPassphrase):
				setError(passMsg, L("settings.pass.wrong"))
			case err != nil:
				u.log.Error("change passphrase", "err", err)
				setError(passMsg, L("err.other"))
			default:
				old.SetText("")
				pass.SetText("")
				confirm.SetText("")
				suggested.SetText("") // the new passphrase leaves the screen
				suggested.Hide()
				passDone.Show()
			}
		})
	})
	u.enterMovesOn(func() { change.OnTapped() }, old.Entry, pass.Entry, confirm.Entry)
	passForm := widget.NewForm(
		widget.NewFormItem(L("settings.pass.old"), old.box),
		widget.NewFormItem(L("settings.pass.new"), pass.box),
		widget.NewFormItem(L("firstrun.confirm"), confirm.box))
	passForm.Orientation = widget.Vertical

	wipe := widget.NewButtonWithIcon(L("settings.wipe"), theme.DeleteIcon(), func() {
		u.confirm(L("settings.wipe.title"), L("settings.wipe.confirm"), L("settings.wipe.yes"), u.wipe)
	})
	wipe.Importance = widget.DangerImportance

	heading := func(key string) fyne.CanvasObject {
		return widget.NewLabelWithStyle(L(key), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	u.show(screen{name: "settings", title: L("settings.title"), build: func() fyne.CanvasObject {
		notes := container.NewVBox(notify, wrapLabel(L("settings.notify.help")))
		if !u.notificationsWork() {
			l := wrapLabel(L("settings.notify.unavailable"))
			l.Importance = widget.WarningImportance
			notes.Add(l)
		}
		return container.NewVBox(
			heading("settings.safety"), wrapLabel(L("settings.wipe.help")), wipe,
			widget.NewSeparator(),
			heading("settings.lang"), lang,
			heading("settings.notifications"), notes,
			widget.NewSeparator(),
			heading("settings.pass"), passForm, suggestButton(pass, confirm, suggested), suggested, passMsg, passDone, change,
			widget.NewSeparator(),
			heading("settings.status"), u.statusContent())
	}})
}

// clockWarning is the node's clock warning in red, or nil when it has
// none. The words are the node's (English). A wrong clock makes alerts
// look replayed or expired, so the zone list and each feed show it too,
// not only Settings.
func clockWarning(st api.Status) *widget.Label {
	h := st.Health
	if h == nil || h.ClockWarning == "" {
		return nil
	}
	l := wrapLabel(L("settings.status.clock", args{"Warning": h.ClockWarning}))
	l.Importance = widget.DangerImportance
	return l
}

// realClockWarning is clockWarning for the member's own node (also while
// practice is on screen: the clock is this computer's), or nil.
func (u *UI) realClockWarning() *widget.Label {
	if u.real == nil {
		return nil
	}
	return clockWarning(u.real.Status())
}

// statusContent shows peers per zone and the node's listening addresses.
func (u *UI) statusContent() fyne.CanvasObject {
	box := container.NewVBox()
	// The member's own node, also while practice is on screen.
	b := u.real
	if b == nil {
		return box
	}
	st := b.Status()
	box.Add(wrapLabel(L("settings.status.id", args{"ID": shortID(st.MemberID)})))
	box.Add(wrapLabel(N("settings.status.peers", len(st.Peers), args{"N": len(st.Peers)})))
	box.Add(reachLabel(st))
	if l := clockWarning(st); l != nil {
		box.Add(l)
	}
	for _, z := range b.Zones() {
		l := wrapLabel(N("settings.status.zone", len(z.Peers), args{"Zone": z.Name, "N": len(z.Peers)}))
		if len(z.Peers) == 0 {
			l.Importance = widget.WarningImportance
		}
		box.Add(l)
	}
	if len(st.Addrs) == 0 {
		box.Add(wrapLabel(L("settings.status.noaddrs")))
		return box
	}
	// The addresses are long and rarely needed: folded away.
	addrs := container.NewVBox()
	for _, a := range st.Addrs {
		l := widget.NewLabel(a)
		l.Wrapping = fyne.TextWrapBreak
		addrs.Add(l)
	}
	box.Add(widget.NewAccordion(widget.NewAccordionItem(N("settings.status.addrs", len(st.Addrs), args{"N": len(st.Addrs)}), addrs)))
	return box
}

// reachLabel says in words whether other homes can reach this node, from
// the node's reachability and its connections.
func reachLabel(st api.Status) *widget.Label {
	switch st.Reachability {
	case reach.Public:
		return wrapLabel(L("settings.status.public"))
	case reach.Private:
		// Behind a router, the node reaches the zone through the members'
		// nodes it is connected to directly.
		n := 0
		for _, c := range st.Connections {
			if c.Via == "direct" {
				n++
			}
		}
		l := wrapLabel(N("settings.status.private", n, args{"N": n}))
		if n == 0 {
			l.Importance = widget.WarningImportance
		}
		return l
	}
	return wrapLabel(L("settings.status.reachunknown"))
}

// wipe stops everything and destroys the identity, then shows the first
// run screen.
func (u *UI) wipe() {
	if u.watchCancel != nil {
		u.watchCancel()
	}
	u.newGen()
	if u.held != nil {
		u.held.watchCancel()
		u.held = nil
	}
	if u.practice != nil {
		if err := u.practice.Close(); err != nil {
			u.log.Error("stop practice zone", "err", err)
		}
		u.practice = nil
	}
	u.b, u.real = nil, nil
	u.alerts, u.unread, u.notified = map[string]*alertView{}, map[string]int{}, map[string]bool{}
	u.drafts = map[string]*reportDraft{}
	if err := u.opt.Profile.Wipe(); err != nil {
		u.log.Error("wipe", "err", err)
		dialogError(u, L("settings.wipe.failed"))
		return
	}
	// Nothing the app chose stays behind in the preferences file.
	for _, k := range []string{prefLanguage, prefNotifications} {
		u.fa.Preferences().RemoveValue(k)
	}
	loadTranslations("")
	u.first()
}

// dialogError shows msg in an error dialog.
func dialogError(u *UI, msg string) {
	dialog.ShowError(errors.New(msg), u.w)
}
