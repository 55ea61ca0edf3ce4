package app

import (
	"cmp"
	"os"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"lookout/app/rights"
	"lookout/node/api"
)

// cardLang is the language the cards open in: the app's language, else
// the system's (LANGUAGE, LC_ALL, LC_MESSAGES, LANG), else English.
func (u *UI) cardLang() string {
	if l := rights.Lang(u.fa.Preferences().String(prefLanguage)); l != "" {
		return l
	}
	for _, v := range []string{"LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"} {
		first, _, _ := strings.Cut(os.Getenv(v), ":")
		if l := rights.Lang(first); l != "" {
			return l
		}
	}
	return rights.Languages[0]
}

// rightsButton opens the know-your-rights cards: the list, or the card
// for a callout's card or a sighting's quick report when a is one (nil:
// the list). The cards are the alert's zone's (or, from the zone list,
// the only zone's) over the built-in ones.
func (u *UI) rightsButton(a *api.Alert) fyne.CanvasObject {
	zone, topic, from := u.onlyZone(), "", ""
	if a != nil {
		zone, topic = a.Zone, cmp.Or(a.Card, rights.ForWhatCode(a.WhatCode))
		if a.Via != "" && a.Card != "" {
			// A linked zone's callout names that zone's card, which this
			// zone does not hold: the built-in card of the topic, said so.
			zone, from = "", a.Via
		}
	}
	set, _ := u.zoneCards(zone, u.cardLang())
	text := set.Title
	if c, err := set.Card(topic); err == nil {
		text = c.Title
	}
	b := widget.NewButtonWithIcon(shorten(text, buttonRunes), theme.InfoIcon(), func() {
		u.cardsZone, u.cardsFrom = zone, from
		u.showRights(topic, "")
	})
	b.Alignment = widget.ButtonAlignLeading
	return b
}

// showRights shows the card for topic, or the list of cards if topic is
// "", in lang ("" for cardLang). The cards are built in: they read offline.
func (u *UI) showRights(topic, lang string) {
	if lang == "" {
		lang = u.cardLang()
	}
	set, zoned := u.zoneCards(u.cardsZone, lang)
	c, err := set.Card(topic)
	title := set.Title
	if err == nil {
		title = c.Title
	}
	u.show(screen{name: "rights", title: title, build: func() fyne.CanvasObject {
		box := container.NewVBox(u.cardLanguages(topic, set.Lang))
		if zoned {
			box.Add(u.zoneCardsLabel())
		}
		if u.cardsFrom != "" {
			note := wrapLabel(L("rights.linked", args{"Zone": u.cardsFrom}))
			if err != nil && topic != "" {
				note.SetText(L("rights.linked.away", args{"Zone": u.cardsFrom, "Topic": topic}))
			}
			note.Importance = widget.WarningImportance
			box.Add(note)
		}
		if err != nil {
			for _, c := range set.Cards {
				open := widget.NewButtonWithIcon(shorten(c.Title, buttonRunes), theme.NavigateNextIcon(), func() { u.showRights(c.ID, set.Lang) })
				open.Alignment = widget.ButtonAlignLeading
				box.Add(open)
				if shorten(c.Title, buttonRunes) != c.Title {
					box.Add(boldWrap(c.Title))
				}
				box.Add(wrapLabel(c.Intro))
				box.Add(widget.NewSeparator())
			}
		} else {
			box.Add(boldWrap(c.Title))
			box.Add(wrapLabel(c.Intro))
			for _, p := range c.Points {
				box.Add(wrapLabel("• " + p))
			}
			box.Add(widget.NewSeparator())
		}
		notice := wrapLabel(set.Notice)
		notice.Importance = widget.WarningImportance
		box.Add(notice)
		box.Add(wrapLabel("(" + set.Written + ") " + set.Check))
		return box
	}})
}

// cardLanguages switches the cards on screen to another language, so a
// member can show a neighbour the card in the neighbour's language.
func (u *UI) cardLanguages(topic, current string) fyne.CanvasObject {
	row := container.NewGridWithColumns(len(rights.Languages))
	for _, l := range rights.Languages {
		b := widget.NewButton(rights.Builtin(l).Language, func() {
			u.back()
			u.showRights(topic, l)
		})
		if l == current {
			b.Importance = widget.HighImportance
		}
		row.Add(b)
	}
	return row
}

// whatText is a sighting's what for the feed, notifications and detail:
// its quick report in the reader's language (see api.QuickText), then
// its free text as typed.
func (u *UI) whatText(a api.Alert) string {
	parts := []string{}
	if q := api.QuickText(a, u.cardLang()); q != "" {
		parts = append(parts, q)
	}
	if a.What != "" {
		parts = append(parts, a.What)
	}
	return strings.Join(parts, " · ")
}
