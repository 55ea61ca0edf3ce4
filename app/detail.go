package app

import (
	"context"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"lookout/node/api"
)

// showAlert shows every field of an alert, its timeline and what the
// member can do about it.
func (u *UI) showAlert(id string) {
	v, ok := u.alerts[id]
	if !ok {
		return
	}
	msg := errorLabel()
	title := L("detail.sighting")
	if v.Kind == "callout" {
		title = L("detail.callout")
	}
	u.show(screen{name: "detail", title: title, live: true, build: func() fyne.CanvasObject {
		v := u.alerts[id]
		a := u.effective(v.Alert)
		box := container.NewVBox()
		head := container.NewVBox(stateLabel(a))
		if v.Exercise {
			head.Add(drillLabel())
		}
		box.Add(head)
		if v.Exercise {
			box.Add(wrapLabel(L("detail.drill.help")))
		}
		if l := u.deliveryLabel(a); l != nil {
			box.Add(l)
		}
		box.Add(u.actions(a, msg))
		box.Add(u.rightsButton(&a)) // know your rights, one tap from every alert (app/rights.go)
		box.Add(msg)
		box.Add(widget.NewSeparator())
		for _, f := range u.fields(a) {
			box.Add(field(f[0], f[1]))
		}
		if len(a.Reports) > 1 || len(a.Notes) > 0 {
			box.Add(widget.NewSeparator())
			box.Add(widget.NewLabelWithStyle(N("detail.reports", len(a.Reports), args{"N": len(a.Reports)}), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
			for _, line := range u.reportLines(a) {
				box.Add(wrapLabel(line))
			}
		}
		box.Add(widget.NewSeparator())
		box.Add(widget.NewLabelWithStyle(L("detail.timeline"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
		for _, t := range v.timeline {
			box.Add(wrapLabel(u.clock(t.at) + "  " + t.text))
		}
		return box
	}})
}

// reportLines lists an incident's reports, oldest first, then what
// members said about it (a report withdrawn, the agents left).
func (u *UI) reportLines(a api.Alert) []string {
	me := u.b.Status().MemberID
	who := func(id string) string {
		if id == me {
			return L("detail.you")
		}
		return shortID(id)
	}
	var out []string
	for _, r := range a.Reports {
		line := L("detail.report", args{"Time": u.clock(r.Sent), "Who": who(r.Sender), "What": r.What, "Where": r.Where})
		if r.Size > 0 {
			line += " · " + L("detail.report.size", args{"N": r.Size})
		}
		if r.Withdrawn {
			line += " · " + L("detail.report.withdrawn")
		}
		out = append(out, line)
	}
	for _, n := range a.Notes {
		switch {
		case n.Kind == "withdrawn":
			out = append(out, L("detail.note.withdrawn", args{"Time": u.clock(n.Sent), "Who": who(n.Sender)}))
		case n.Note != "":
			out = append(out, L("detail.note.leftwhy", args{"Time": u.clock(n.Sent), "Who": who(n.Sender), "Note": n.Note}))
		default:
			out = append(out, L("detail.note.left", args{"Time": u.clock(n.Sent), "Who": who(n.Sender)}))
		}
	}
	return out
}

// field is one "name: value" line.
func field(name, value string) fyne.CanvasObject {
	n := widget.NewLabelWithStyle(name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	return container.NewVBox(n, wrapLabel(value))
}

// fields lists an alert's non-empty fields, in the order a reader needs.
func (u *UI) fields(a api.Alert) [][2]string {
	var fs [][2]string
	add := func(key, value string) {
		if value != "" {
			fs = append(fs, [2]string{L(key), value})
		}
	}
	if a.Kind == "callout" {
		add("field.title", a.Title)
		add("field.where", a.Where)
		add("field.when", a.When)
		if a.Needed > 0 {
			add("field.need", strconv.Itoa(a.Needed))
		}
		add("field.responders", strings.Join(append([]string{responderLine(a)}, linkedLines(a)...), "\n"))
		add("field.bring", a.Bring)
		add("field.rights", a.Rights)
		if len(a.Cosigners) > 0 {
			add("field.cosigners", strconv.Itoa(len(a.Cosigners)))
		}
	} else {
		add("field.what", u.whatText(a))
		add("field.where", a.Where)
		if a.Size > 0 {
			add("field.size", strconv.Itoa(a.Size))
		}
		add("field.activity", a.Activity)
		add("field.uniform", a.Uniform)
		add("field.equipment", a.Equipment)
		if a.Observed != nil {
			add("field.observed", u.clock(*a.Observed))
		}
		if a.Confirmations != nil {
			add("field.witnesses", strconv.Itoa(*a.Confirmations))
		}
		if len(a.VerifiedBy) > 0 {
			add("field.verifiers", strconv.Itoa(len(a.VerifiedBy)))
		}
		if len(a.Sightings) > 1 {
			add("field.reports", strconv.Itoa(len(a.Sightings)))
		}
	}
	add("field.sent", u.clock(a.Sent))
	add("field.expires", u.clock(a.Expires))
	add("field.sender", roleWord(a.SenderRole))
	add("field.zone", a.ZoneName)
	add("field.clear", a.ClearReason)
	add("field.clearnote", a.ClearNote)
	add("field.id", a.ID)
	return fs
}

// actions are the buttons for what the member can do with an alert now.
func (u *UI) actions(a api.Alert, msg *widget.Label) fyne.CanvasObject {
	box := container.NewVBox()
	if a.State == "cleared" || a.State == "expired" {
		return box
	}
	z, _ := u.zone(a.Zone)
	me := u.b.Status().MemberID
	act := func(b *widget.Button, f func(ctx context.Context) (api.Alert, error)) {
		b.Disable()
		var res api.Alert
		u.async(func(ctx context.Context) error {
			var err error
			res, err = f(ctx)
			return err
		}, func(err error) {
			b.Enable()
			if err != nil {
				setError(msg, u.errText(err))
				return
			}
			setError(msg, "")
			u.notified[res.ID] = true
			u.onAlert(res)
		})
	}
	button := func(key string, icon fyne.Resource, imp widget.Importance, f func(ctx context.Context) (api.Alert, error)) *widget.Button {
		var b *widget.Button
		b = widget.NewButtonWithIcon(L(key), icon, func() { act(b, f) })
		b.Importance = imp
		box.Add(b)
		return b
	}
	switch a.Kind {
	case "sighting":
		switch {
		case a.Sender == me:
			box.Add(wrapLabel(L("detail.yours")))
		case u.confirmed[a.ID]:
			l := wrapLabel(L("detail.confirmed"))
			l.Importance = widget.SuccessImportance
			box.Add(l)
		default:
			button("detail.confirm", theme.VisibilityIcon(), widget.HighImportance, func(ctx context.Context) (api.Alert, error) {
				res, err := u.b.Confirm(ctx, a.ID)
				if err == nil {
					u.do(func() { u.confirmed[a.ID] = true })
				}
				return res, err
			})
		}
	case "callout":
		if a.State == "active" {
			row := container.NewVBox()
			chosen := u.responded[a.ID]
			for _, r := range []struct{ key, status string }{{"detail.enroute", "enroute"}, {"detail.onscene", "onscene"}, {"detail.cannot", "cannot"}} {
				var b *widget.Button
				b = widget.NewButton(L(r.key), func() {
					act(b, func(ctx context.Context) (api.Alert, error) {
						res, err := u.b.Respond(ctx, a.ID, r.status)
						if err == nil {
							u.do(func() { u.responded[a.ID] = r.status })
						}
						return res, err
					})
				})
				switch {
				case chosen == r.status:
					b.Icon = theme.ConfirmIcon()
					b.Importance = widget.SuccessImportance
				case chosen == "" && r.status == "enroute":
					b.Importance = widget.HighImportance
				}
				row.Add(b)
			}
			box.Add(row)
			if chosen != "" {
				l := wrapLabel(L("detail.answered", args{"Answer": L(answerKey(chosen))}))
				l.Importance = widget.SuccessImportance
				box.Add(l)
			}
			box.Add(wrapLabel(responderLine(a)))
		}
		if a.State == "awaiting-cosign" && z.Role == "organizer" && a.Sender != me {
			button("detail.cosign", theme.ConfirmIcon(), widget.HighImportance, func(ctx context.Context) (api.Alert, error) {
				return u.b.Cosign(ctx, a.ID)
			})
		}
	}
	if a.Sender == me || z.Role == "organizer" || (z.Role == "verifier" && a.Kind == "sighting") {
		key, ask := "detail.clear", "detail.clear.confirm"
		if a.Kind == "callout" {
			key, ask = "detail.end", "detail.end.confirm"
		}
		// Ending an alert reaches the whole zone and cannot be undone: ask
		// once.
		var b *widget.Button
		b = widget.NewButtonWithIcon(L(key), theme.CancelIcon(), func() {
			u.confirm(L(key), L(ask), L(key), func() {
				act(b, func(ctx context.Context) (api.Alert, error) { return u.b.Clear(ctx, a.ID, "") })
			})
		})
		box.Add(b)
	}
	return box
}

// answerKey is the translation key of a callout answer.
func answerKey(status string) string {
	switch status {
	case "enroute":
		return "detail.enroute"
	case "onscene":
		return "detail.onscene"
	}
	return "detail.cannot"
}

// deliveryLabel warns that an alert the member sent while nobody in its
// zone was connected has not reached anyone yet. The app knows only the
// zone's connected peers: the warning holds until one is connected (the
// node then sends it), not until a peer acknowledges it.
func (u *UI) deliveryLabel(a api.Alert) *widget.Label {
	if !u.undelivered[a.ID] {
		return nil
	}
	if z, ok := u.zone(a.Zone); ok && len(z.Peers) > 0 {
		delete(u.undelivered, a.ID)
		return nil
	}
	l := wrapLabel(L("detail.undelivered"))
	l.Importance = widget.WarningImportance
	return l
}
