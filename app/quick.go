package app

import (
	"strconv"
	"unicode"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"lookout/node/api"
)

// Quick choices of the report form: the commonest facts in one tap each,
// sent as codes (api.ReportRequest.WhatCode, UniformCode, Vehicles, Size)
// that every reader sees in their own language.
const (
	quickOfficers = 5 // "1 officer" … "5 officers"; more in "More details"
	quickVehicles = 3 // "1 vehicle" … "3 vehicles"
)

// chips is a group of one-tap choices, at most one on: tapping one turns
// it on and the others off; tapping it again turns it off.
type chips struct {
	box     *fyne.Container
	buttons []*widget.Button
	values  []string
	value   string
	changed func(value string) // after a tap, with "" for none
}

// newChips lays the choices out in cols columns, value on.
func newChips(labels, values []string, cols int, value string, changed func(string)) *chips {
	c := &chips{box: container.NewGridWithColumns(cols), values: values, changed: changed}
	for i, l := range labels {
		v := values[i]
		b := widget.NewButton(l, func() {
			next := v
			if c.value == v {
				next = ""
			}
			c.set(next)
			if c.changed != nil {
				c.changed(c.value)
			}
		})
		c.buttons = append(c.buttons, b)
		c.box.Add(b)
	}
	c.set(value)
	return c
}

// set turns value on (none for "" or a value not offered).
func (c *chips) set(value string) {
	c.value = ""
	for i, b := range c.buttons {
		imp := widget.MediumImportance
		if c.values[i] == value {
			imp, c.value = widget.HighImportance, value
		}
		if b.Importance != imp {
			b.Importance = imp
			b.Refresh()
		}
	}
}

// countChips offers 1 … n officers or vehicles in lang (the words
// readers see, api.CountText).
func countChips(what string, n int, lang, value string, changed func(string)) *chips {
	var labels, values []string
	for i := 1; i <= n; i++ {
		labels = append(labels, api.CountText(what, i, lang))
		values = append(values, strconv.Itoa(i))
	}
	return newChips(labels, values, 3, value, changed)
}

// whatChips offers the what codes in lang.
func whatChips(lang, value string, changed func(string)) *chips {
	var labels []string
	for _, c := range api.WhatCodes {
		labels = append(labels, api.WhatCodeText(c, lang))
	}
	return newChips(labels, api.WhatCodes, 1, value, changed)
}

// uniformChips offers the uniform codes in lang, capitalised as choices.
func uniformChips(lang, value string, changed func(string)) *chips {
	var labels []string
	for _, c := range api.UniformCodes {
		labels = append(labels, capitalize(api.UniformCodeText(c, lang)))
	}
	return newChips(labels, api.UniformCodes, len(labels), value, changed)
}

// capitalize upper-cases the first letter of s.
func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}
