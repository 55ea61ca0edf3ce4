package app

import (
	"context"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
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
		case len(t) > f.max:
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

// showReport is the SALUTE sighting form: what and where are enough.
func (u *UI) showReport(z api.Zone) {
	what := multiEntry(L("report.what.hint"))
	where := entry(L("report.where.hint"))
	size := entry(L("report.size.hint"))
	activity := entry(L("report.activity.hint"))
	uniform := entry(L("report.uniform.hint"))
	equipment := entry(L("report.equipment.hint"))
	drill := widget.NewCheck(L("report.drill"), nil)
	if u.inPractice() {
		drill.SetChecked(true)
		drill.Disable()
	}
	msg := errorLabel()
	fields := []textField{
		{"field.what", what, protocol.MaxTextLen, true},
		{"field.where", where, protocol.MaxPlaceLen, true},
		{"field.activity", activity, protocol.MaxTextLen, false},
		{"field.uniform", uniform, protocol.MaxTextLen, false},
		{"field.equipment", equipment, protocol.MaxTextLen, false},
	}
	send := u.sendButton(L("report.send"), msg, fields, "field.size", size, func(n int) func(context.Context) (api.Alert, error) {
		req := api.ReportRequest{Zone: z.ID, What: strings.TrimSpace(what.Text), Where: strings.TrimSpace(where.Text), Size: n,
			Activity: strings.TrimSpace(activity.Text), Uniform: strings.TrimSpace(uniform.Text),
			Equipment: strings.TrimSpace(equipment.Text), Exercise: drill.Checked}
		return func(ctx context.Context) (api.Alert, error) { return u.b.Report(ctx, req) }
	})
	where.OnSubmitted = func(string) { send.OnTapped() }
	more := widget.NewAccordion(widget.NewAccordionItem(L("report.more"), container.NewVBox(
		widget.NewLabel(L("field.size")), size,
		widget.NewLabel(L("field.activity")), activity,
		widget.NewLabel(L("field.uniform")), uniform,
		widget.NewLabel(L("field.equipment")), equipment,
	)))
	u.show(screen{title: L("report.title", args{"Zone": z.Name}), build: func() fyne.CanvasObject {
		box := container.NewVBox(
			widget.NewLabel(L("field.what")), what,
			widget.NewLabel(L("field.where")), where,
			send, msg, more, drill)
		if len(z.Peers) == 0 {
			box.Add(noPeersLabel())
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
				setError(msg, errText(err))
				return
			}
			u.notified[a.ID] = true
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
	rights := multiEntry(L("callout.rights.hint"))
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
		{"field.rights", rights, protocol.MaxRightsLen, false},
	}
	send := u.sendButton(L("callout.send"), msg, fields, "field.need", need, func(n int) func(context.Context) (api.Alert, error) {
		req := api.CalloutRequest{Zone: z.ID, Title: strings.TrimSpace(title.Text), Where: strings.TrimSpace(where.Text),
			When: strings.TrimSpace(when.Text), Need: n, Bring: strings.TrimSpace(bring.Text),
			Rights: strings.TrimSpace(rights.Text), Exercise: drill.Checked}
		return func(ctx context.Context) (api.Alert, error) { return u.b.Callout(ctx, req) }
	})
	u.show(screen{title: L("callout.formtitle", args{"Zone": z.Name}), build: func() fyne.CanvasObject {
		return container.NewVBox(
			widget.NewLabel(L("field.title")), title,
			widget.NewLabel(L("field.where")), where,
			widget.NewLabel(L("field.when")), when,
			widget.NewLabel(L("field.need")), need,
			widget.NewLabel(L("field.bring")), bring,
			widget.NewLabel(L("field.rights")), rights,
			drill, msg, send)
	}})
}
