package app

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"lookout/node/api"
	"lookout/protocol"
)

// textField is a form field with its protocol limit.
type textField struct {
	key      string // label translation key
	entry    *widget.Entry
	max      int // bytes
	required bool
}

// check returns an inline message for the first field that is empty but
// required, too long or holds characters the protocol refuses.
func check(fs []textField) string {
	for _, f := range fs {
		t := strings.TrimSpace(f.entry.Text)
		switch {
		case f.required && t == "":
			return L("err.required", args{"Field": L(f.key)})
		case utf8.RuneCountInString(t) > f.max: // the wire counts characters
			return L("err.toolong", args{"Field": L(f.key), "Max": f.max})
		case protocol.CheckText(t) != nil:
			return L("err.badtext", args{"Field": L(f.key)})
		}
	}
	return ""
}

// number parses an optional whole number field between 0 and
// protocol.MaxCount.
func number(key string, e *widget.Entry) (int, string) {
	t := strings.TrimSpace(e.Text)
	if t == "" {
		return 0, ""
	}
	n, err := strconv.Atoi(t)
	if err != nil || n < 0 || n > protocol.MaxCount {
		return 0, L("err.number", args{"Field": L(key), "Max": protocol.MaxCount})
	}
	return n, ""
}

func entry(hint string) *widget.Entry {
	e := widget.NewEntry()
	e.SetPlaceHolder(hint)
	return e
}

func multiEntry(hint string) *widget.Entry {
	e := widget.NewMultiLineEntry()
	e.SetPlaceHolder(hint)
	e.Wrapping = fyne.TextWrapWord
	e.SetMinRowsVisible(3)
	return e
}

// inPractice reports whether the practice zone is on screen; everything
// sent there is marked as an exercise.
func (u *UI) inPractice() bool { return u.practice != nil && u.b == Backend(u.practice) }

// reportDraft is a report form's fields, kept (in memory only) when the
// member goes Back so nothing typed or chosen is lost; sending clears it.
// How many officers is size, whether typed or chosen.
type reportDraft struct {
	what                                      *formEntry
	where, size, activity, uniform, equipment *widget.Entry
	whatCode, uniformCode, vehicles           string // quick choices; "" for none
}

func newReportDraft() *reportDraft {
	return &reportDraft{what: newFormEntry(L("report.what.hint"), 2), where: entry(L("report.where.hint")),
		size: entry(L("report.size.hint")), activity: entry(L("report.activity.hint")),
		uniform: entry(L("report.uniform.hint")), equipment: entry(L("report.equipment.hint"))}
}

// maxPlaces is how many recent places the report form offers.
const maxPlaces = 3

// recentPlaces are the places this member reported in the zone (kept by
// the node in its encrypted store, api.Zone.Places, so they outlive the
// alerts and nothing about them is readable on a seized laptop), then the
// places of the zone's alerts, newest first, without repeats: one tap
// fills "Where".
func (u *UI) recentPlaces(zoneID string) []string {
	var ps []string
	if z, ok := u.zone(zoneID); ok {
		for _, p := range z.Places {
			if !slices.Contains(ps, p) && len(ps) < maxPlaces {
				ps = append(ps, p)
			}
		}
	}
	as := make([]api.Alert, 0, len(u.alerts))
	for _, v := range u.alerts {
		if v.Zone == zoneID && v.Where != "" {
			as = append(as, v.Alert)
		}
	}
	slices.SortFunc(as, func(a, b api.Alert) int { return cmp.Or(b.Sent.Compare(a.Sent), strings.Compare(a.ID, b.ID)) })
	for _, a := range as {
		if len(ps) == maxPlaces {
			break
		}
		if !slices.Contains(ps, a.Where) {
			ps = append(ps, a.Where)
		}
	}
	return ps
}

// showReport is the SALUTE sighting form: what and where are enough. What,
// how many, uniform and vehicles are one tap each (quick choices, sent as
// codes each reader sees in their language); words are optional once a
// what is chosen. The keyboard starts in the words; Enter moves to "Where"
// and then sends; a recent place is one tap. From the zone list a report
// is four taps: Report, a what, the place, Send (how many is optional).
func (u *UI) showReport(z api.Zone) {
	d := u.drafts[z.ID]
	if d == nil {
		d = newReportDraft()
		u.drafts[z.ID] = d
	}
	what, where, size, activity, uniform, equipment := d.what, d.where, d.size, d.activity, d.uniform, d.equipment
	drill := widget.NewCheck(L("report.drill"), nil)
	if u.inPractice() {
		drill.SetChecked(true)
		drill.Disable()
	}
	msg := errorLabel()
	fields := []textField{
		{"field.what", what.TextEntry(), protocol.MaxTextLen, true},
		{"field.where", where, protocol.MaxPlaceLen, true},
		{"field.activity", activity, protocol.MaxTextLen, false},
		{"field.uniform", uniform, protocol.MaxTextLen, false},
		{"field.equipment", equipment, protocol.MaxTextLen, false},
	}
	fields[0].required = d.whatCode == ""
	lang := u.cardLang()
	whatC := whatChips(lang, d.whatCode, func(v string) {
		d.whatCode = v
		fields[0].required = v == ""
	})
	officersC := countChips(api.CountOfficers, quickOfficers, lang, strings.TrimSpace(size.Text), func(v string) { size.SetText(v) })
	size.OnChanged = func(s string) { officersC.set(strings.TrimSpace(s)) }
	uniformC := uniformChips(lang, d.uniformCode, func(v string) { d.uniformCode = v })
	vehiclesC := countChips(api.CountVehicles, quickVehicles, lang, d.vehicles, func(v string) { d.vehicles = v })
	b := u.b
	send := u.sendButton(L("report.send"), msg, fields, "field.size", size, func(n int) func(context.Context) (api.Alert, error) {
		vehicles, _ := strconv.Atoi(d.vehicles) // only chips set it
		req := api.ReportRequest{Zone: z.ID, What: strings.TrimSpace(what.Text), Where: strings.TrimSpace(where.Text), Size: n,
			Activity: strings.TrimSpace(activity.Text), Uniform: strings.TrimSpace(uniform.Text),
			Equipment: strings.TrimSpace(equipment.Text), Exercise: drill.Checked,
			WhatCode: d.whatCode, UniformCode: d.uniformCode, Vehicles: vehicles}
		return func(ctx context.Context) (api.Alert, error) {
			a, err := b.Report(ctx, req)
			if err == nil {
				u.do(func() {
					if u.drafts[z.ID] == d {
						delete(u.drafts, z.ID)
					}
				})
			}
			return a, err
		}
	})
	what.OnSubmitted = func(string) {
		if strings.TrimSpace(where.Text) == "" {
			u.w.Canvas().Focus(where)
			return
		}
		send.OnTapped()
	}
	where.OnSubmitted = func(string) { send.OnTapped() }
	more := widget.NewAccordion(widget.NewAccordionItem(L("report.more"), container.NewVBox(
		widget.NewLabel(L("field.size")), size,
		widget.NewLabel(L("field.activity")), activity,
		widget.NewLabel(L("field.uniform")), uniform,
		widget.NewLabel(L("field.equipment")), equipment,
	)))
	places := container.NewVBox()
	for _, p := range u.recentPlaces(z.ID) {
		pb := widget.NewButtonWithIcon(shorten(p, buttonRunes+8), theme.HistoryIcon(), func() {
			where.SetText(p)
			u.w.Canvas().Focus(where)
		})
		pb.Alignment = widget.ButtonAlignLeading
		places.Add(pb)
	}
	focus := fyne.Focusable(what)
	if what.Text != "" && where.Text == "" {
		focus = where
	}
	u.show(screen{name: "report", title: L("report.title", args{"Zone": z.Name}), focus: focus,
		actions: func() fyne.CanvasObject { return send },
		build: func() fyne.CanvasObject {
			// Words and Where are next to each other for Tab and Enter.
			box := container.NewVBox(
				widget.NewLabel(L("field.what")), whatC.box,
				wrapLabel(L("report.words")), what,
				widget.NewLabel(L("field.where")), where)
			if len(places.Objects) > 0 {
				box.Add(widget.NewLabel(L("report.places")))
				box.Add(places)
			}
			box.Add(widget.NewLabel(L("report.officers")))
			box.Add(officersC.box)
			box.Add(widget.NewLabel(L("report.uniformq")))
			box.Add(uniformC.box)
			box.Add(widget.NewLabel(L("report.vehicles")))
			box.Add(vehiclesC.box)
			box.Add(msg)
			box.Add(more)
			box.Add(drill)
			if cur, ok := u.zone(z.ID); ok && len(cur.Peers) == 0 {
				box.Add(noPeersLabel())
			}
			if l := u.realClockWarning(); l != nil {
				box.Add(l) // a report sent with a wrong clock may be refused
			}
			return box
		}})
}

// sendButton is a form's send button: it checks the text fields and the
// count field, reads the form into a request with prepare (on the UI
// goroutine), sends it off the UI goroutine, and on success opens the new
// alert; errors stay on the form, with nothing typed lost.
func (u *UI) sendButton(label string, msg *widget.Label, fields []textField, countKey string, count *widget.Entry, prepare func(n int) func(context.Context) (api.Alert, error)) *widget.Button {
	var send *widget.Button
	send = widget.NewButton(label, func() {
		if m := check(fields); m != "" {
			setError(msg, m)
			return
		}
		n, m := number(countKey, count)
		if m != "" {
			setError(msg, m)
			return
		}
		call := prepare(n)
		setError(msg, "")
		send.Disable()
		var a api.Alert
		u.async(func(ctx context.Context) error {
			var err error
			a, err = call(ctx)
			return err
		}, func(err error) {
			send.Enable()
			if err != nil {
				setError(msg, u.errText(err))
				return
			}
			u.notified[a.ID] = true
			if z, ok := u.zone(a.Zone); ok && len(z.Peers) == 0 {
				u.undelivered[a.ID] = true
			}
			u.onAlert(a)
			u.back()
			u.showAlert(a.ID)
		})
	})
	send.Importance = widget.DangerImportance
	return send
}

// showCallout is the callout form, for organizers.
func (u *UI) showCallout(z api.Zone) {
	title := entry(L("callout.title.hint"))
	where := entry(L("callout.where.hint"))
	when := entry(L("callout.when.hint"))
	need := entry(L("callout.need.hint"))
	bring := entry(L("callout.bring.hint"))
	rights := newFormEntry(L("callout.rights.hint"), 3)
	drill := widget.NewCheck(L("report.drill"), nil)
	if u.inPractice() {
		drill.SetChecked(true)
		drill.Disable()
	}
	msg := errorLabel()
	fields := []textField{
		{"field.title", title, protocol.MaxTitleLen, true},
		{"field.where", where, protocol.MaxPlaceLen, true},
		{"field.when", when, protocol.MaxWhenLen, false},
		{"field.bring", bring, protocol.MaxTextLen, false},
		{"field.rights", rights.TextEntry(), protocol.MaxRightsLen, false},
	}
	send := u.sendButton(L("callout.send"), msg, fields, "field.need", need, func(n int) func(context.Context) (api.Alert, error) {
		req := api.CalloutRequest{Zone: z.ID, Title: strings.TrimSpace(title.Text), Where: strings.TrimSpace(where.Text),
			When: strings.TrimSpace(when.Text), Need: n, Bring: strings.TrimSpace(bring.Text),
			Rights: strings.TrimSpace(rights.Text), Exercise: drill.Checked}
		return func(ctx context.Context) (api.Alert, error) { return u.b.Callout(ctx, req) }
	})
	// Enter moves through the fields and sends from the last; Tab moves on
	// from the rights box too. The send button is fixed.
	u.enterMovesOn(func() { send.OnTapped() }, title, where, when, need, bring, rights)
	u.show(screen{name: "callout-form", title: L("callout.formtitle", args{"Zone": z.Name}), focus: title,
		actions: func() fyne.CanvasObject { return send }, build: func() fyne.CanvasObject {
			return container.NewVBox(
				widget.NewLabel(L("field.title")), title,
				widget.NewLabel(L("field.where")), where,
				widget.NewLabel(L("field.when")), when,
				widget.NewLabel(L("field.need")), need,
				widget.NewLabel(L("field.bring")), bring,
				widget.NewLabel(L("field.rights")), rights,
				drill, msg)
		}})
}
