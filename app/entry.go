package app

import (
	"fyne.io/fyne/v2"
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

// base is the plain entry inside, for code that looks entries up.
func (e *formEntry) base() *widget.Entry { return &e.Entry }
