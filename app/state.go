package app

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"lookout/node/api"
)

// stateWord names an alert's state in words: the colour only repeats it.
func stateWord(a api.Alert) string {
	switch a.State {
	case "unconfirmed":
		return L("state.unconfirmed")
	case "corroborated":
		n := 0
		if a.Confirmations != nil {
			n = *a.Confirmations
		}
		return N("state.corroborated", n, args{"N": n})
	case "verified":
		return L("state.verified")
	case "active":
		return L("state.active")
	case "awaiting-cosign":
		return L("state.awaiting")
	case "cleared":
		return L("state.cleared")
	case "expired":
		return L("state.expired")
	}
	return L("state.unknown", args{"State": a.State})
}

// stateImportance is the colour of a state's words.
func stateImportance(state string) widget.Importance {
	switch state {
	case "verified", "active":
		return widget.DangerImportance
	case "corroborated", "awaiting-cosign":
		return widget.WarningImportance
	case "cleared":
		return widget.SuccessImportance
	case "expired":
		return widget.LowImportance
	}
	return widget.MediumImportance
}

// stateColour is the bar beside an alert in the feed.
func stateColour(state string) color.Color {
	switch state {
	case "verified", "active":
		return color.NRGBA{R: 0xc6, G: 0x28, B: 0x28, A: 0xff}
	case "corroborated", "awaiting-cosign":
		return color.NRGBA{R: 0xef, G: 0x8f, B: 0x00, A: 0xff}
	case "cleared":
		return color.NRGBA{R: 0x2e, G: 0x7d, B: 0x32, A: 0xff}
	case "expired":
		return color.NRGBA{R: 0x9e, G: 0x9e, B: 0x9e, A: 0xff}
	}
	return color.NRGBA{R: 0x60, G: 0x7d, B: 0x8b, A: 0xff}
}

// stateLabel is an alert's state in bold coloured words.
func stateLabel(a api.Alert) *widget.Label {
	l := widget.NewLabelWithStyle(stateWord(a), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	l.Importance = stateImportance(a.State)
	return l
}

// drillLabel marks an exercise alert.
func drillLabel() *widget.Label {
	l := widget.NewLabelWithStyle(L("drill"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	l.Importance = widget.HighImportance
	return l
}

// stateBar is a coloured bar beside an alert.
func stateBar(state string) fyne.CanvasObject {
	r := canvas.NewRectangle(stateColour(state))
	r.SetMinSize(fyne.NewSize(6, 6))
	return container.NewStack(r)
}
