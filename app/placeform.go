package app

import (
	"context"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"lookout/node/api"
	"lookout/protocol"
)

// Changing a zone's safe places from the app: verifiers and organizers
// add, edit and retire entries and confirm members' suggestions; members
// suggest one. Entries from a linked zone are read-only here.

// editsPlaces reports whether the member's role changes the directory
// directly (the node checks again).
func editsPlaces(z api.Zone) bool { return z.Role == "organizer" || z.Role == "verifier" }

// placeAddButton opens the form to add a place, or for a member to
// suggest one.
func (u *UI) placeAddButton(z api.Zone) fyne.CanvasObject {
	op, key := "suggest", "places.suggest"
	if editsPlaces(z) {
		op, key = "add", "places.add"
	}
	b := widget.NewButton(L(key), func() { u.showPlaceForm(z, op, api.Place{}) })
	b.Importance = widget.HighImportance
	return b
}

// placeActions are the buttons under an entry for a verifier or
// organizer: confirm a suggestion, edit, retire. None for an entry from
// a linked zone, nor for a member.
func (u *UI) placeActions(z api.Zone, p api.Place) fyne.CanvasObject {
	if !editsPlaces(z) || p.From != "" {
		return nil
	}
	row := container.NewHBox()
	if p.Suggested() {
		c := widget.NewButton(L("places.confirm"), func() { u.showPlaceForm(z, "confirm", p) })
		c.Importance = widget.HighImportance
		row.Add(c)
	} else {
		row.Add(widget.NewButton(L("places.edit"), func() { u.showPlaceForm(z, "update", p) }))
	}
	row.Add(widget.NewButton(L("places.retire"), func() {
		u.confirm(L("places.retire.title"), L("places.retire.ask", args{"Name": p.Name}), L("places.retire.yes"), func() {
			u.async(func(ctx context.Context) error {
				_, err := u.b.Place(ctx, api.PlaceRequest{Zone: z.ID, Op: "retire", Place: p.ID})
				return err
			}, func(err error) {
				if err != nil {
					dialogError(u, u.errText(err))
					return
				}
				u.render()
			})
		})
	}))
	return row
}

// placeFormKeys name each form's title and save button in the catalogue.
var placeFormKeys = map[string]struct{ title, save string }{
	"add":     {"places.form.add", "places.form.save.add"},
	"suggest": {"places.form.suggest", "places.form.save.suggest"},
	"update":  {"places.form.update", "places.form.save.update"},
	"confirm": {"places.form.confirm", "places.form.save.confirm"},
}

// showPlaceForm is the form for op (add, suggest, update or confirm) of
// a place; cur is the entry for update and confirm. A member's form says
// the place will be a suggestion. On success it goes back to the list.
func (u *UI) showPlaceForm(z api.Zone, op string, cur api.Place) {
	kinds := make([]string, len(api.PlaceKinds))
	for i, k := range api.PlaceKinds {
		kinds[i] = L(placeKindKeys[k])
	}
	kind := widget.NewSelect(kinds, nil)
	kind.PlaceHolder = L("places.form.kind.choose")
	if i := slices.Index(api.PlaceKinds, cur.Kind); i >= 0 {
		kind.SetSelectedIndex(i)
	}
	name := entry(L("places.form.name.hint"))
	where := entry(L("places.form.where.hint"))
	hours := entry("")
	langs := entry(L("places.form.languages.hint"))
	contact := entry("")
	notes := newFormEntry("", 3)
	name.SetText(cur.Name)
	where.SetText(cur.Where)
	hours.SetText(cur.Hours)
	langs.SetText(strings.Join(cur.Languages, ", "))
	contact.SetText(cur.Contact)
	notes.SetText(cur.Notes)
	tick := func(key string, on bool) *widget.Check {
		c := widget.NewCheck(L(key), nil)
		c.SetChecked(on)
		return c
	}
	noID, noStatus, walkIn := tick("places.noid", cur.NoID), tick("places.nostatus", cur.NoStatusQuestions), tick("places.walkin", cur.WalkIn)
	share := tick("places.form.share", cur.Share)
	msg := errorLabel()
	fields := []textField{
		{"places.form.name", name, protocol.MaxPlaceNameLen, true},
		{"places.form.where", where, protocol.MaxPlaceWhereLen, false},
		{"places.form.hours", hours, protocol.MaxPlaceHoursLen, false},
		{"places.form.contact", contact, protocol.MaxPlaceContactLen, false},
		{"places.form.notes", notes.TextEntry(), protocol.MaxPlaceNotesLen, false},
	}
	var save *widget.Button
	save = widget.NewButton(L(placeFormKeys[op].save), func() {
		if kind.SelectedIndex() < 0 {
			setError(msg, L("places.form.kind.missing"))
			return
		}
		if m := check(fields); m != "" {
			setError(msg, m)
			return
		}
		req := api.PlaceRequest{Zone: z.ID, Op: op, Place: cur.ID, Kind: api.PlaceKinds[kind.SelectedIndex()],
			Name: strings.TrimSpace(name.Text), Where: strings.TrimSpace(where.Text), Hours: strings.TrimSpace(hours.Text),
			Contact: strings.TrimSpace(contact.Text), Notes: strings.TrimSpace(notes.Text), Languages: []string{}}
		for _, l := range strings.FieldsFunc(langs.Text, func(r rune) bool { return r == ',' || r == ' ' }) {
			req.Languages = append(req.Languages, strings.ToLower(l))
		}
		req.NoID, req.NoStatusQuestions, req.WalkIn = &noID.Checked, &noStatus.Checked, &walkIn.Checked
		if op != "suggest" {
			req.Share = &share.Checked
		}
		setError(msg, "")
		save.Disable()
		u.async(func(ctx context.Context) error {
			_, err := u.b.Place(ctx, req)
			return err
		}, func(err error) {
			save.Enable()
			if err != nil {
				setError(msg, u.errText(err))
				return
			}
			u.back()
		})
	})
	save.Importance = widget.HighImportance
	u.enterMovesOn(func() { save.OnTapped() }, name, where, hours, langs, contact, notes)
	title := L(placeFormKeys[op].title, args{"Zone": z.Name, "Name": cur.Name})
	u.show(screen{name: "place-form", title: title, focus: name, actions: func() fyne.CanvasObject { return save }, build: func() fyne.CanvasObject {
		box := container.NewVBox()
		switch op {
		case "suggest":
			note := wrapLabel(L("places.form.suggestion"))
			note.Importance = widget.WarningImportance
			box.Add(note)
		case "confirm":
			box.Add(wrapLabel(L("places.form.confirming")))
		}
		box.Add(wrapLabel(L("places.form.noperson")))
		box.Add(widget.NewLabel(L("places.form.kind")))
		box.Add(kind)
		for _, f := range []struct {
			key string
			e   *widget.Entry
		}{{"places.form.name", name}, {"places.form.where", where}, {"places.form.hours", hours}, {"places.form.languages", langs}} {
			box.Add(widget.NewLabel(L(f.key)))
			box.Add(f.e)
		}
		box.Add(noID)
		box.Add(noStatus)
		box.Add(walkIn)
		box.Add(widget.NewLabel(L("places.form.contact")))
		box.Add(contact)
		box.Add(widget.NewLabel(L("places.form.notes")))
		box.Add(notes)
		if op != "suggest" {
			box.Add(share)
		}
		box.Add(msg)
		return box
	}})
}
