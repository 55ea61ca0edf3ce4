package api

import (
	"cmp"
	"slices"
	"strings"
)

// Urgency ranks an alert's state for display: lower is shown first (an
// active callout, then a verified sighting, then the rest by how much
// they still need attention; ended alerts last).
func Urgency(a Alert) int {
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

// SortByUrgency orders alerts as every screen shows them (the app's feed,
// `lookout alerts` and `watch`): real alerts before drills, then by
// Urgency, then newest first.
func SortByUrgency(as []Alert) {
	slices.SortStableFunc(as, func(a, b Alert) int {
		return cmp.Or(drill(a)-drill(b), cmp.Compare(Urgency(a), Urgency(b)),
			b.Sent.Compare(a.Sent), strings.Compare(a.ID, b.ID))
	})
}

func drill(a Alert) int {
	if a.Exercise {
		return 1
	}
	return 0
}
