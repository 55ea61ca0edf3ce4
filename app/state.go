package app

import (
	"cmp"
	"image/color"
	"slices"
	"strings"

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

// urgency ranks states: lower is shown first.
func urgency(a api.Alert) int {
	switch a.State {
	case "active":
		return 0
	case "verified":
		return 1
	case "corroborated":
		return 2
	case "unconfirmed":
		return 3
	case "awaiting-cosign":
		return 4
	case "cleared":
		return 6
	case "expired":
		return 7
	}
	return 5
}

// sortFeed orders alerts by urgency, real alerts before drills, then
// newest first.
func sortFeed(as []api.Alert) {
	slices.SortStableFunc(as, func(a, b api.Alert) int {
		return cmp.Or(cmp.Compare(urgency(a), urgency(b)), boolRank(a.Exercise)-boolRank(b.Exercise),
			b.Sent.Compare(a.Sent), strings.Compare(a.ID, b.ID))
	})
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
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
