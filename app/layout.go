package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
)

// maxContentWidth caps how wide a screen's content grows on a desktop, so
// buttons and lines stay readable.
const maxContentWidth = 640

// capWidth lays its one object out at most maxContentWidth wide, centred.
type capWidth struct{}

func (capWidth) MinSize(objs []fyne.CanvasObject) fyne.Size {
	if len(objs) == 0 {
		return fyne.Size{}
	}
	return objs[0].MinSize()
}

func (capWidth) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	w := min(size.Width, maxContentWidth)
	for _, o := range objs {
		o.Resize(fyne.NewSize(w, size.Height))
		o.Move(fyne.NewPos((size.Width-w)/2, 0))
	}
}

// confirm asks once before a consequential action, with the action named
// on its button (never a bare yes/no) and Cancel to back out.
func (u *UI) confirm(title, message, yes string, do func()) {
	d := dialog.NewConfirm(title, message, func(ok bool) {
		if ok {
			do()
		}
	}, u.w)
	d.SetConfirmText(yes)
	d.SetDismissText(L("nav.cancel"))
	d.Show()
}
