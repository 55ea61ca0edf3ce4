package app

import (
	"context"
	"errors"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"lookout/node/passphrase"
	"lookout/protocol"
)

// errorLabel is an inline message under a form; hidden while empty.
func errorLabel() *widget.Label {
	l := widget.NewLabel("")
	l.Importance = widget.DangerImportance
	l.Wrapping = fyne.TextWrapWord
	l.Hide()
	return l
}

func setError(l *widget.Label, msg string) {
	l.SetText(msg)
	if msg == "" {
		l.Hide()
	} else {
		l.Show()
	}
}

func wrapLabel(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	return l
}

// passphraseProblem says why a new passphrase is refused (too short, or
// too easy to guess as node/passphrase judges it, knowing related words
// such as the member's name), or "" if it is good.
func passphraseProblem(p string, related ...string) string {
	err := passphrase.Check([]byte(p), related...)
	switch {
	case err == nil:
		return ""
	case errors.Is(err, passphrase.ErrTooShort):
		return L("firstrun.err.short", args{"Min": passphrase.MinLen})
	}
	return L("firstrun.err.weak")
}

// suggestButton fills pass and confirm with a generated passphrase and
// shows it in shown, to be learnt or written down.
func suggestButton(pass, confirm passwordEntry, shown *widget.Label) *widget.Button {
	return widget.NewButtonWithIcon(L("firstrun.suggest"), theme.ViewRefreshIcon(), func() {
		g, err := passphrase.Generate(nil, passphrase.DefaultWords)
		if err != nil { // crypto/rand failed: nothing to offer
			shown.Hide()
			return
		}
		pass.SetText(g)
		confirm.SetText(g)
		shown.SetText(L("firstrun.suggested", args{"Pass": g}))
		shown.Show()
	})
}

// showFirstRun asks for an optional name and a passphrase and creates the
// identity.
func (u *UI) showFirstRun() {
	name := widget.NewEntry()
	pass, confirm := newPasswordEntry(), newPasswordEntry()
	msg := errorLabel()
	suggested := wrapLabel("")
	suggested.Hide()
	var create *widget.Button
	create = widget.NewButton(L("firstrun.create"), func() {
		p := []byte(pass.Text)
		switch {
		case protocol.CheckName(strings.TrimSpace(name.Text), protocol.MaxNameLen) != nil: // as every node checks it
			setError(msg, L("firstrun.err.name", args{"Max": protocol.MaxNameLen}))
			return
		case len(p) == 0:
			setError(msg, L("firstrun.err.nopass"))
			return
		case passphraseProblem(pass.Text, strings.Fields(name.Text)...) != "":
			setError(msg, passphraseProblem(pass.Text, strings.Fields(name.Text)...))
			return
		case pass.Text != confirm.Text:
			setError(msg, L("firstrun.err.mismatch"))
			return
		}
		setError(msg, "")
		create.Disable()
		nm := strings.TrimSpace(name.Text)
		var b Backend
		u.async(func(ctx context.Context) error {
			defer clear(p)
			// A retry after a failed start must not create a second identity.
			if !u.opt.Profile.Initialized() {
				if err := u.opt.Profile.Create(nm, p); err != nil {
					return err
				}
			}
			var err error
			b, err = u.opt.Profile.Unlock(ctx, p)
			return err
		}, func(err error) {
			create.Enable()
			switch {
			case err != nil && u.opt.Profile.Initialized():
				u.log.Error("start node", "err", err)
				setError(msg, L("unlock.err.start"))
				return
			case err != nil:
				u.log.Error("create identity", "err", err)
				setError(msg, L("firstrun.err.create"))
				return
			}
			pass.SetText("")
			confirm.SetText("")
			u.unlocked(b)
		})
	})
	create.Importance = widget.HighImportance
	// Enter moves on through the form and creates on the last field.
	name.OnSubmitted = func(string) { u.w.Canvas().Focus(pass.Entry) }
	pass.OnSubmitted = func(string) { u.w.Canvas().Focus(confirm.Entry) }
	confirm.OnSubmitted = func(string) { create.OnTapped() }
	u.home(screen{name: "first-run", title: L("firstrun.title"), focus: name, build: func() fyne.CanvasObject {
		return container.NewVBox(wrapLabel(L("firstrun.intro")),
			widget.NewLabel(L("firstrun.name")), name, wrapLabel(L("firstrun.name.hint")),
			widget.NewLabel(L("firstrun.pass")), pass.box,
			widget.NewLabel(L("firstrun.confirm")), confirm.box,
			suggestButton(pass, confirm, suggested), suggested,
			wrapLabel(L("firstrun.pass.help")), msg, create)
	}})
}

// showUnlock asks for the passphrase and starts the node.
func (u *UI) showUnlock() {
	pass := newPasswordEntry()
	msg := errorLabel()
	var unlock *widget.Button
	submit := func() {
		if pass.Text == "" {
			setError(msg, L("unlock.err.empty"))
			return
		}
		setError(msg, "")
		unlock.Disable()
		p := []byte(pass.Text)
		var b Backend
		u.async(func(ctx context.Context) error {
			var err error
			b, err = u.opt.Profile.Unlock(ctx, p)
			clear(p)
			return err
		}, func(err error) {
			unlock.Enable()
			switch {
			case errors.Is(err, ErrWrongPassphrase):
				setError(msg, L("unlock.err.wrong"))
			case err != nil:
				u.log.Error("unlock", "err", err)
				setError(msg, L("unlock.err.start"))
			default:
				pass.SetText("")
				u.unlocked(b)
			}
		})
	}
	unlock = widget.NewButton(L("unlock.button"), submit)
	unlock.Importance = widget.HighImportance
	pass.OnSubmitted = func(string) { submit() }
	u.home(screen{name: "unlock", title: L("unlock.title"), focus: pass.Entry, build: func() fyne.CanvasObject {
		return container.NewVBox(wrapLabel(L("unlock.intro")), pass.box, msg, unlock)
	}})
}

// unlocked switches to the node b and shows its zones, or the welcome
// screen if it has none.
func (u *UI) unlocked(b Backend) {
	u.log.Info("unlocked")
	u.real = b
	u.use(b)
	if len(b.Zones()) == 0 {
		u.showWelcome()
		return
	}
	u.showZones()
}

// StartUnlocked starts the UI and unlocks with passphrase instead of asking
// for it, creating an identity named name first if there is none. It is
// for automated runs (the smoke test); passphrase is cleared after use.
func (u *UI) StartUnlocked(name string, passphrase []byte) {
	// The window stays empty until the zones (or the unlock screen, on
	// failure) are shown.
	u.w.SetContent(container.NewStack())
	u.startPoll()
	var b Backend
	u.async(func(ctx context.Context) error {
		defer clear(passphrase)
		if !u.opt.Profile.Initialized() {
			if err := u.opt.Profile.Create(name, passphrase); err != nil {
				return err
			}
		}
		var err error
		b, err = u.opt.Profile.Unlock(ctx, passphrase)
		return err
	}, func(err error) {
		if err != nil {
			u.log.Error("unlock", "err", err)
			u.showUnlock()
			dialogError(u, L("unlock.err.start"))
			return
		}
		u.unlocked(b)
	})
}
