package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// formEntry is a text box that wraps like a multi-line entry but behaves as
// a form field on the keyboard: Enter calls OnSubmitted (nothing sent needs
// a line break) and Tab moves to the next field instead of typing a tab.
type formEntry struct {
	widget.Entry
}

func newFormEntry(hint string, rows int) *formEntry {
	e := &formEntry{}
	e.MultiLine = true
	e.Wrapping = fyne.TextWrapWord
	e.ExtendBaseWidget(e)
	e.SetPlaceHolder(hint)
	e.SetMinRowsVisible(rows)
	return e
}

// TypedKey handles Enter and Tab as form keys; other keys edit the text.
func (e *formEntry) TypedKey(k *fyne.KeyEvent) {
	switch k.Name {
	case fyne.KeyReturn, fyne.KeyEnter:
		if e.OnSubmitted != nil {
			e.OnSubmitted(e.Text)
		}
	case fyne.KeyTab:
		if c := fyne.CurrentApp().Driver().CanvasForObject(e); c != nil {
			c.FocusNext()
		}
	default:
		e.Entry.TypedKey(k)
	}
}

// TextEntry is the plain entry inside, for code that looks entries up
// (tests here and in cmd/lookout-app).
func (e *formEntry) TextEntry() *widget.Entry { return &e.Entry }

// passwordEntry is a passphrase field that lets the mouse wheel scroll the
// page: Fyne's entry keeps its text in a scroller of its own, which takes
// every wheel event over the field. This one has none; it is laid out at
// the width it is given (long passphrases are clipped, their dots are
// unreadable anyway) instead of growing with its text.
type passwordEntry struct {
	*widget.Entry
	box *fyne.Container
}

func newPasswordEntry() passwordEntry {
	e := widget.NewPasswordEntry()
	e.Wrapping = fyne.TextWrapOff
	e.Scroll = fyne.ScrollNone
	return passwordEntry{Entry: e, box: container.New(fieldWidth{}, e)}
}

// fieldWidth lays its objects out at the size given, asking for their
// minimum height but only minFieldWidth of width.
type fieldWidth struct{}

// minFieldWidth is the least width a passphrase field asks for.
const minFieldWidth = 120

func (fieldWidth) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var h float32
	for _, o := range objs {
		h = max(h, o.MinSize().Height)
	}
	return fyne.NewSize(minFieldWidth, h)
}

func (fieldWidth) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
}

// enterMovesOn makes a form work from the keyboard: Enter in each field
// moves to the next, and in the last one calls submit. Fields are
// *widget.Entry or *formEntry, as laid out in the form.
func (u *UI) enterMovesOn(submit func(), fields ...fyne.Focusable) {
	for i, f := range fields {
		next := func(string) { submit() }
		if i+1 < len(fields) {
			to := fields[i+1]
			next = func(string) { u.w.Canvas().Focus(to) }
		}
		switch e := f.(type) {
		case *widget.Entry:
			e.OnSubmitted = next
		case *formEntry:
			e.OnSubmitted = next
		}
	}
}
