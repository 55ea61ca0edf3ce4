package app

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// practiceButton starts the practice zone, or leaves it while it is on
// screen.
func (u *UI) practiceButton() *widget.Button {
	if u.inPractice() {
		return widget.NewButtonWithIcon(L("practice.leave"), theme.LogoutIcon(), u.leavePractice)
	}
	var b *widget.Button
	b = widget.NewButtonWithIcon(L("practice.start"), theme.MediaPlayIcon(), func() {
		u.confirm(L("practice.confirm.title"), L("practice.confirm"), L("practice.confirm.yes"), func() { u.startPractice(b) })
	})
	return b
}

// startPractice starts the practice zone and puts it on screen; the
// member's own node stays watched underneath.
func (u *UI) startPractice(b *widget.Button) {
	b.Disable()
	b.SetText(L("practice.starting"))
	var p PracticeZone
	u.async(func(ctx context.Context) error {
		var err error
		p, err = u.opt.Practice(ctx, PracticeScript{
			Zone:          L("practice.zone"),
			SightingWhat:  L("practice.what"),
			SightingWhere: L("practice.where"),
			CalloutTitle:  L("practice.callout"),
			CalloutWhere:  L("practice.callout.where"),
			CalloutBring:  L("practice.callout.bring"),
		})
		return err
	}, func(err error) {
		b.Enable()
		b.SetText(L("practice.start"))
		if err != nil {
			u.log.Error("start practice zone", "err", err)
			dialogError(u, L("practice.err"))
			return
		}
		u.practice = p
		if u.b != nil && u.held == nil {
			u.held = u.hold()
		}
		u.switchTo(p)
		u.showZones()
	})
}

// leavePractice stops the practice zone and returns to the member's own
// zones.
func (u *UI) leavePractice() {
	p := u.practice
	u.practice = nil
	if h := u.held; h != nil {
		u.held = nil
		u.restore(h)
		u.showZones()
	} else if u.real != nil {
		u.unlocked(u.real)
	}
	u.async(func(context.Context) error { return p.Close() }, func(err error) {
		if err != nil {
			u.log.Error("stop practice zone", "err", err)
		}
	})
}

// realBanner announces, above every practice screen, real alerts that
// arrived during practice; one tap leaves practice and opens the newest.
func (u *UI) realBanner() fyne.CanvasObject {
	if u.held == nil || len(u.held.banner) == 0 {
		return nil
	}
	id := u.held.banner[len(u.held.banner)-1]
	v := u.held.alerts[id]
	if v == nil {
		return nil
	}
	b := widget.NewButtonWithIcon(L("practice.real", args{"Zone": v.ZoneName}), theme.WarningIcon(), func() {
		u.leavePractice()
		u.showAlert(id)
	})
	b.Importance = widget.DangerImportance
	return b
}
