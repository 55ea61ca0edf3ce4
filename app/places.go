package app

import (
	"cmp"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"lookout/app/rights"
	"lookout/node/api"
)

// A zone's own know-your-rights cards and its safe-services directory:
// both are kept by the node, offline, and read here.

// zoneCards is the set the rights screens show in lang for zone: the
// zone's own cards over the built-in ones (rights.ForZone), or the
// built-in ones. zoned reports whether the zone's cards are used.
func (u *UI) zoneCards(zone, lang string) (*rights.Set, bool) {
	if zone == "" || u.b == nil {
		return rights.Builtin(lang), false
	}
	zc, err := u.b.ZoneCards(zone, lang)
	if err != nil {
		return rights.Builtin(lang), false
	}
	return rights.ForZone(zc, lang)
}

// onlyZone is the member's zone when there is just one, else "".
func (u *UI) onlyZone() string {
	if u.b == nil {
		return ""
	}
	if zs := currentZones(u.b.Zones()); len(zs) == 1 {
		return zs[0].ID
	}
	return ""
}

// zoneCardsLabel says whose cards are on screen.
func (u *UI) zoneCardsLabel() fyne.CanvasObject {
	name := u.cardsZone
	if z, ok := u.zone(u.cardsZone); ok {
		name = z.Name
	}
	l := wrapLabel(L("rights.zone", args{"Zone": name}))
	l.Importance = widget.HighImportance
	return l
}

// placesButton opens a zone's safe places.
func (u *UI) placesButton(z api.Zone) fyne.CanvasObject {
	return widget.NewButtonWithIcon(L("places.open"), theme.HomeIcon(), func() { u.showPlaces(z) })
}

// placeKindKeys names each kind of place (api.PlaceKinds) in the catalogue.
var placeKindKeys = map[string]string{"shelter": "places.kind.shelter", "food": "places.kind.food", "health": "places.kind.health",
	"legal": "places.kind.legal", "school": "places.kind.school", "work": "places.kind.work", "other": "places.kind.other"}

// placeFilter is what the safe places screen shows.
type placeFilter struct{ kind, lang string }

// showPlaces shows a zone's safe places with kind and language filters.
// Entries last checked more than six months ago are marked.
func (u *UI) showPlaces(z api.Zone) {
	f := &placeFilter{}
	u.show(screen{name: "places", title: L("places.title", args{"Zone": z.Name}), build: func() fyne.CanvasObject { return u.placesContent(z, f) }})
}

func (u *UI) placesContent(z api.Zone, f *placeFilter) fyne.CanvasObject {
	all, err := u.b.Places(z.ID, api.PlaceFilter{})
	if err != nil {
		return wrapLabel(L("feed.gone"))
	}
	box := container.NewVBox(u.placeAddButton(z)) // placeform.go
	if len(all) == 0 {
		box.Add(wrapLabel(L("places.none")))
		box.Add(wrapLabel(L("places.how")))
		return box
	}
	kinds := []string{L("places.kind.all")}
	for _, k := range api.PlaceKinds {
		kinds = append(kinds, L(placeKindKeys[k]))
	}
	langs := []string{}
	for _, p := range all {
		for _, l := range p.Languages {
			if !slices.Contains(langs, l) {
				langs = append(langs, l)
			}
		}
	}
	slices.Sort(langs)
	kindSel := widget.NewSelect(kinds, nil)
	kindSel.SetSelectedIndex(max(0, slices.Index(api.PlaceKinds, f.kind)+1))
	kindSel.OnChanged = func(string) {
		f.kind = ""
		if i := kindSel.SelectedIndex(); i > 0 {
			f.kind = api.PlaceKinds[i-1]
		}
		u.render()
	}
	langSel := widget.NewSelect(append([]string{L("places.lang.all")}, langs...), nil)
	langSel.SetSelectedIndex(max(0, slices.Index(langs, f.lang)+1))
	langSel.OnChanged = func(string) {
		f.lang = ""
		if i := langSel.SelectedIndex(); i > 0 {
			f.lang = langs[i-1]
		}
		u.render()
	}
	box.Add(container.NewGridWithColumns(2, kindSel, langSel))
	box.Add(widget.NewSeparator())
	shown := 0
	for _, p := range all {
		if (f.kind != "" && p.Kind != f.kind) || (f.lang != "" && !slices.Contains(p.Languages, f.lang)) {
			continue
		}
		box.Add(u.placeItem(z, p))
		box.Add(widget.NewSeparator())
		shown++
	}
	if shown == 0 {
		box.Add(wrapLabel(L("places.nomatch")))
	}
	return box
}

// placeItem is one entry: name, kind and place, then what a frightened
// person most needs to know, then whether someone checked it lately.
func (u *UI) placeItem(z api.Zone, p api.Place) fyne.CanvasObject {
	box := container.NewVBox(boldWrap(p.Name))
	head := L(cmp.Or(placeKindKeys[p.Kind], "places.kind.other"))
	if p.Where != "" {
		head += " · " + p.Where
	}
	box.Add(wrapLabel(head))
	var flags []string
	for _, f := range []struct {
		on bool
		id string
	}{{p.NoID, "places.noid"}, {p.NoStatusQuestions, "places.nostatus"}, {p.WalkIn, "places.walkin"}} {
		if f.on {
			flags = append(flags, L(f.id))
		}
	}
	if len(flags) > 0 {
		l := wrapLabel(strings.Join(flags, " · "))
		l.Importance = widget.SuccessImportance
		box.Add(l)
	}
	for _, line := range []struct{ id, v string }{
		{"places.hours", p.Hours}, {"places.languages", strings.Join(p.Languages, ", ")}, {"places.contact", p.Contact}, {"places.notes", p.Notes},
	} {
		if line.v != "" {
			box.Add(wrapLabel(L(line.id, args{"Text": line.v})))
		}
	}
	var status *widget.Label
	switch {
	case p.Suggested():
		status = wrapLabel(L("places.suggestion"))
		status.Importance = widget.WarningImportance
	case p.Stale(u.opt.Now()):
		status = wrapLabel(L("places.stale", args{"Date": p.ConfirmedAt.In(u.opt.Location).Format("2006-01-02")}))
		status.Importance = widget.WarningImportance
	default:
		status = wrapLabel(L("places.checked", args{"Date": p.ConfirmedAt.In(u.opt.Location).Format("2006-01-02")}))
	}
	box.Add(status)
	switch {
	case p.From != "":
		from := wrapLabel(L("places.from", args{"Zone": p.From}))
		from.Importance = widget.HighImportance
		box.Add(from)
	case p.Shared > 0:
		box.Add(wrapLabel(L("places.shared")))
	}
	if a := u.placeActions(z, p); a != nil { // placeform.go
		box.Add(a)
	}
	return box
}
