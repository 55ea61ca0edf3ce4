package main

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"lookout/app/i18n"
	"lookout/app/rights"
	"lookout/node/api"
	"lookout/node/control"
	"lookout/protocol"
)

// Zone documents on the command line: a zone's own know-your-rights
// cards (rights --zone, rights publish, rights withdraw) and its
// safe-services directory (places, place add|update|retire|suggest|confirm).

func docsCommands() []*command {
	placeFlags := "[--where T] [--hours T] [--languages fr,es] [--no-id] [--no-status-questions] [--walk-in] [--contact T] [--notes T]"
	return []*command{
		{"rights publish", "ZONE FILE [--replace]", "publish a zone's own know-your-rights cards from a JSON card set (organizers)", runRightsPublish},
		{"rights withdraw", "ZONE --lang en|fr|es", "withdraw a zone's cards in a language: members read the built-in ones again (organizers)", runRightsWithdraw},
		{"places", "ZONE [--kind K] [--lang L] [--search TEXT] [--json]", "list a zone's safe places, offline", runPlaces},
		{"place add", "ZONE --kind K --name NAME " + placeFlags + " [--share]", "add a safe place to a zone's directory (verifiers, organizers)", runPlaceOp("add")},
		{"place update", "ZONE PLACE [--kind K] [--name NAME] " + placeFlags + " [--share]", "change a directory entry (verifiers, organizers)", runPlaceOp("update")},
		{"place retire", "ZONE PLACE", "remove a directory entry for good (verifiers, organizers)", runPlaceOp("retire")},
		{"place suggest", "ZONE --kind K --name NAME " + placeFlags, "suggest a safe place; it shows as a suggestion until a verifier confirms it", runPlaceOp("suggest")},
		{"place confirm", "ZONE PLACE [--kind K] [--name NAME] " + placeFlags, "confirm a member's suggestion, with any corrections (verifiers, organizers)", runPlaceOp("confirm")},
		{"place share", "ZONE PLACE|--all [--hops N] [--city-wide]", "share a safe place (or every shareable one) with linked zones (organizers)", runPlaceShare},
	}
}

// docsCommand names the two-word commands of this file: "rights publish",
// "rights withdraw" and "place OP".
func docsCommand(name string, args []string) (string, []string) {
	switch {
	case name == "rights" && len(args) > 1 && (args[1] == "publish" || args[1] == "withdraw"),
		name == "place" && len(args) > 1 && lookup("place "+args[1]) != nil:
		return name + " " + args[1], args[1:]
	}
	return name, args
}

// zoneRights is the set a zone's members read in lang, and a heading
// line if the zone's own cards are in it.
func zoneRights(ctx context.Context, e *env, zone, lang string) (*rights.Set, string, error) {
	zc, err := e.client().ZoneCards(ctx, zone, lang)
	if err != nil {
		return nil, "", err
	}
	set, zoned := rights.ForZone(zc, lang)
	if !zoned {
		return set, e.tr.T("cli.rights.builtin", "Zone", clean(zone)), nil
	}
	return set, e.tr.T("cli.rights.zone", "Zone", clean(zc.Zone), "Revision", zc.Revision), nil
}

// maxCardFile bounds a card set file read by rights publish.
const maxCardFile = protocol.MaxCardSetSize + 1

func runRightsPublish(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	replace := fs.Bool("replace", false, e.tr.T("cli.flag.rights.publish.replace"))
	pos, err := e.parse("rights publish", fs, args, "ZONE", "FILE")
	if err != nil {
		return err
	}
	b, err := readCardFile(pos[1])
	if err != nil {
		return fmt.Errorf("%s", e.tr.T("cli.rights.badfile", "File", pos[1], "Err", err.Error()))
	}
	if _, err := protocol.ParseCardSet(b, protocol.MaxCardSetSize); err != nil {
		return fmt.Errorf("%s", e.tr.T("cli.rights.badfile", "File", pos[1], "Err", err.Error()))
	}
	req := api.PublishCardsRequest{Zone: pos[0], Mode: "add", Set: json.RawMessage(b)}
	if *replace {
		req.Mode = "replace"
	}
	zc, err := e.client().PublishCards(ctx, req)
	if err != nil {
		return hint(err, control.ErrForbidden, e.tr.T("cli.hint.cards", "Zone", clean(pos[0])))
	}
	_, err = fmt.Fprintln(e.stdout, e.tr.T("cli.rights.published", "Zone", clean(zc.Zone), "Lang", zc.Lang, "Revision", zc.Revision))
	return err
}

// readCardFile reads a card set file, refusing one larger than a zone's
// card set may be.
func readCardFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxCardFile))
	if err != nil {
		return nil, err
	}
	if len(b) > protocol.MaxCardSetSize {
		return nil, fmt.Errorf("more than %d bytes", protocol.MaxCardSetSize)
	}
	return b, nil
}

func runRightsWithdraw(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	lang := &choiceFlag{choices: rights.Languages}
	fs.Var(lang, "lang", e.tr.T("cli.flag.rights.withdraw.lang"))
	pos, err := e.parse("rights withdraw", fs, args, "ZONE")
	if err != nil {
		return err
	}
	if err := e.need("rights withdraw", "lang", lang.value); err != nil {
		return err
	}
	zc, err := e.client().PublishCards(ctx, api.PublishCardsRequest{Zone: pos[0], Mode: "withdraw", Lang: lang.value})
	if err != nil {
		return hint(err, control.ErrForbidden, e.tr.T("cli.hint.cards", "Zone", clean(pos[0])))
	}
	_, err = fmt.Fprintln(e.stdout, e.tr.T("cli.rights.withdrawn", "Zone", clean(zc.Zone), "Lang", zc.Lang))
	return err
}

func runPlaces(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	var f api.PlaceFilter
	kind := &choiceFlag{choices: api.PlaceKinds}
	fs.Var(kind, "kind", e.tr.T("cli.flag.place.kind"))
	fs.StringVar(&f.Lang, "lang", "", e.tr.T("cli.flag.places.lang"))
	fs.StringVar(&f.Text, "search", "", e.tr.T("cli.flag.places.search"))
	asJSON := fs.Bool("json", false, e.tr.T("cli.flag.places.json"))
	pos, err := e.parse("places", fs, args, "ZONE")
	if err != nil {
		return err
	}
	f.Kind = kind.value
	ps, err := e.client().Places(ctx, pos[0], f)
	if err != nil {
		return err
	}
	if *asJSON {
		for _, p := range ps {
			if err := printJSON(e.stdout, p); err != nil {
				return err
			}
		}
		return nil
	}
	if len(ps) == 0 {
		_, err := fmt.Fprintln(e.stdout, e.tr.T("cli.places.none", "Zone", clean(pos[0])))
		return err
	}
	now := time.Now()
	for _, p := range ps {
		writePlace(e.stdout, e.tr, p, now)
	}
	return nil
}

// writePlace prints a directory entry: its name, kind and status, then one
// line per detail given.
func writePlace(w io.Writer, tr *i18n.Localizer, p api.Place, now time.Time) {
	status := ""
	switch {
	case p.Suggested():
		status = " " + tr.T("cli.places.suggestion")
	case p.Stale(now):
		status = " " + tr.T("cli.places.stale")
	}
	fmt.Fprintf(w, "%s  %s  [%s]%s\n", shortID(p.ID), clean(p.Name), tr.T("cli.place.kind."+p.Kind), status)
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	row := func(label, v string) {
		if v != "" {
			fmt.Fprintf(tw, "    %s\t%s\n", label, clean(v))
		}
	}
	row(tr.T("cli.places.where"), p.Where)
	row(tr.T("cli.places.hours"), p.Hours)
	row(tr.T("cli.places.languages"), strings.Join(p.Languages, ", "))
	var flags []string
	for _, f := range []struct {
		on bool
		id string
	}{{p.NoID, "cli.places.noid"}, {p.NoStatusQuestions, "cli.places.nostatus"}, {p.WalkIn, "cli.places.walkin"}} {
		if f.on {
			flags = append(flags, tr.T(f.id))
		}
	}
	row("", strings.Join(flags, ", "))
	row(tr.T("cli.places.contact"), p.Contact)
	row(tr.T("cli.places.notes"), p.Notes)
	switch {
	case p.From != "" && p.Origin != "" && p.Origin != p.From:
		row(tr.T("cli.places.from"), tr.T("cli.places.via", "From", p.From, "Origin", p.Origin))
	case p.From != "":
		row(tr.T("cli.places.from"), p.From)
	case p.Shared > 0:
		row("", tr.N("cli.places.shared", p.Shared))
	}
	if p.ConfirmedAt != nil {
		row(tr.T("cli.places.checked"), tr.T("cli.places.checkedby", "When", localTime(*p.ConfirmedAt, now), "Who", shortID(p.ConfirmedBy)))
	}
	tw.Flush()
}

// runPlaceShare shares one directory entry, or every confirmed entry
// marked shareable (--all), over the zone's links, like lookout share.
func runPlaceShare(ctx context.Context, e *env, args []string) error {
	const name = "place share"
	fs := e.flags()
	hops := fs.Int("hops", 1, e.tr.T("cli.flag.place.share.hops"))
	city := fs.Bool("city-wide", false, e.tr.T("cli.flag.share.city-wide"))
	all := fs.Bool("all", false, e.tr.T("cli.flag.place.share.all"))
	pos, err := e.parse(name, fs, args, "ZONE", "PLACE")
	if u, ok := err.(*usageError); ok && *all && u.msg == e.tr.T("cli.err.missing", "What", "PLACE") {
		pos, err = e.parse(name, fs, args, "ZONE")
	}
	if err != nil {
		return err
	}
	if *all && len(pos) > 1 {
		return &usageError{cmd: name, msg: e.tr.T("cli.place.share.both")}
	}
	n := *hops
	if *city {
		n = protocol.MaxShareHops
	}
	if n < 1 || n > protocol.MaxShareHops {
		return &usageError{cmd: name, msg: e.tr.T("cli.share.hops")}
	}
	req := api.PlaceRequest{Zone: pos[0], Op: "share", Hops: n, All: *all}
	if len(pos) > 1 {
		req.Place = pos[1]
	}
	p, err := e.client().Place(ctx, req)
	if err != nil {
		return hint(err, control.ErrForbidden, e.tr.T("cli.hint.placeshare"))
	}
	if *all {
		_, err = fmt.Fprintln(e.stdout, e.tr.N("cli.place.shared.all", n, "Zone", clean(pos[0])))
	} else {
		_, err = fmt.Fprintln(e.stdout, e.tr.N("cli.place.shared", n, "Name", clean(p.Name), "Zone", clean(pos[0])))
	}
	return err
}

// placeBools are a place's yes/no flags; only those given change an entry.
var placeBools = []struct{ name, id string }{
	{"no-id", "cli.flag.place.no-id"}, {"no-status-questions", "cli.flag.place.no-status-questions"}, {"walk-in", "cli.flag.place.walk-in"},
}

func runPlaceOp(op string) func(ctx context.Context, e *env, args []string) error {
	return func(ctx context.Context, e *env, args []string) error {
		name := "place " + op
		fs := e.flags()
		req := api.PlaceRequest{Op: op}
		kind := &choiceFlag{choices: api.PlaceKinds}
		var langs string
		var bools [3]bool
		var share bool
		if op != "retire" {
			fs.Var(kind, "kind", e.tr.T("cli.flag.place.kind"))
			fs.StringVar(&req.Name, "name", "", e.tr.T("cli.flag.place.name"))
			fs.StringVar(&req.Where, "where", "", e.tr.T("cli.flag.place.where"))
			fs.StringVar(&req.Hours, "hours", "", e.tr.T("cli.flag.place.hours"))
			fs.StringVar(&langs, "languages", "", e.tr.T("cli.flag.place.languages"))
			fs.StringVar(&req.Contact, "contact", "", e.tr.T("cli.flag.place.contact"))
			fs.StringVar(&req.Notes, "notes", "", e.tr.T("cli.flag.place.notes"))
			for i, b := range placeBools {
				fs.BoolVar(&bools[i], b.name, false, e.tr.T(b.id))
			}
			if op != "suggest" {
				fs.BoolVar(&share, "share", false, e.tr.T("cli.flag.place.share"))
			}
		}
		want := []string{"ZONE", "PLACE"}
		if op == "add" || op == "suggest" {
			want = want[:1]
		}
		pos, err := e.parse(name, fs, args, want...)
		if err != nil {
			return err
		}
		req.Zone, req.Kind = pos[0], kind.value
		if len(pos) > 1 {
			req.Place = pos[1]
		}
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		for i, dst := range []**bool{&req.NoID, &req.NoStatusQuestions, &req.WalkIn} {
			if set[placeBools[i].name] {
				*dst = &bools[i]
			}
		}
		if set["share"] {
			req.Share = &share
		}
		if set["languages"] {
			req.Languages = []string{}
			for _, l := range strings.Split(langs, ",") {
				if l = strings.TrimSpace(l); l != "" {
					req.Languages = append(req.Languages, l)
				}
			}
		}
		if op == "add" || op == "suggest" {
			if err := e.need(name, "kind", req.Kind, "name", req.Name); err != nil {
				return err
			}
		}
		if op == "update" && len(set) == 0 {
			return &usageError{cmd: name, msg: e.tr.T("cli.place.nothing")}
		}
		p, err := e.client().Place(ctx, req)
		if err != nil {
			return hint(err, control.ErrForbidden, e.tr.T("cli.hint.place", "Zone", clean(pos[0])))
		}
		if _, err := fmt.Fprintln(e.stdout, p.ID); err != nil {
			return err
		}
		if op == "suggest" {
			_, err = fmt.Fprintln(e.stderr, e.tr.T("cli.place.suggested", "Name", clean(p.Name)))
		}
		return err
	}
}

// cardDetail writes the card an alert offers under it: the callout's
// card, or the door-knock card for a sighting of officers at a door.
func cardDetail(w io.Writer, tr *i18n.Localizer, a api.Alert) {
	topic := a.Card
	if topic == "" && a.Kind == "sighting" && a.WhatCode == "door" {
		topic = rights.TopicDoor
	}
	if topic == "" {
		return
	}
	if a.Via != "" {
		// A callout from a linked zone names that zone's card, which this
		// zone does not hold: the built-in card of the topic, said so.
		if _, err := rights.Builtin(api.Lang(tr.Tag().String())).Card(topic); err == nil {
			fmt.Fprintln(w, "    "+clean(tr.T("cli.detail.card.linked", "Zone", a.Via, "Cmd", "lookout rights "+topic)))
		} else {
			fmt.Fprintln(w, "    "+clean(tr.T("cli.detail.card.away", "Zone", a.Via, "Topic", topic)))
		}
		return
	}
	fmt.Fprintln(w, "    "+clean(tr.T("cli.detail.card", "Cmd", "lookout rights "+topic+" --zone "+shellQuote(cmp.Or(a.ZoneName, a.Zone)))))
}
