package app

import (
	"context"

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
				dialogError(u, L("practice.err", args{"Err": err.Error()}))
				return
			}
			u.practice = p
			u.use(p)
			u.showZones()
		})
	})
	return b
}

// leavePractice stops the practice zone and returns to the member's own
// zones.
func (u *UI) leavePractice() {
	p := u.practice
	u.practice = nil
	if u.real != nil {
		u.unlocked(u.real)
	}
	u.async(func(context.Context) error { return p.Close() }, func(err error) {
		if err != nil {
			u.log.Error("stop practice zone", "err", err)
		}
	})
}
