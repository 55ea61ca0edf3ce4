package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"lookout/app/rights"
	"lookout/node/api"
)

// cardWidth is the column the cards are wrapped at.
const cardWidth = 72

// envLang is the user's language from the environment (LC_ALL, then
// LC_MESSAGES, then LANG, the first one set), if Lookout has texts in it;
// English otherwise.
func envLang() string {
	for _, v := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if s := os.Getenv(v); s != "" {
			if l := api.Lang(s); l != "" {
				return l
			}
			return api.Languages[0]
		}
	}
	return api.Languages[0]
}

// langFlag is --lang: en, fr or es; the environment's language if unset.
func langFlag() *choiceFlag {
	return &choiceFlag{value: envLang(), choices: rights.Languages}
}

func runRights(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	lang := langFlag()
	fs.Var(lang, "lang", "language of the cards: `en|fr|es` (default from LC_ALL, LC_MESSAGES or LANG)")
	zone := fs.String("zone", "", "a zone's own cards (`ZONE`), over the built-in ones")
	pos, err := e.parseOptional("rights", fs, args, "TOPIC")
	if err != nil {
		return err
	}
	set, head := rights.Builtin(lang.value), ""
	if *zone != "" {
		if set, head, err = zoneRights(ctx, e, *zone, lang.value); err != nil { // zonedocs.go
			return err
		}
		fmt.Fprintln(e.stdout, head+"\n")
	}
	if len(pos) == 0 {
		tw := tabwriter.NewWriter(e.stdout, 0, 8, 2, ' ', 0)
		for _, c := range set.Cards {
			fmt.Fprintf(tw, "%s\t%s\n", c.ID, c.Title)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		_, err := fmt.Fprintf(e.stdout, "\n%s\n%s", e.cmdline("rights TOPIC [--zone ZONE] [--lang en|fr|es]"), set.Footer(cardWidth))
		return err
	}
	c, err := set.Card(pos[0])
	if err != nil {
		ids := make([]string, len(set.Cards))
		for i, c := range set.Cards {
			ids[i] = c.ID
		}
		return &usageError{cmd: "rights", msg: e.tr.T("cli.rights.unknown", "Topic", fmt.Sprintf("%q", strings.ToLower(strings.TrimSpace(pos[0]))), "List", strings.Join(ids, ", "))}
	}
	return set.WriteCard(e.stdout, c, cardWidth)
}

// parseOptional is parse for a command with one optional positional
// argument: it returns it, or nothing.
func (e *env) parseOptional(name string, fs *flag.FlagSet, args []string, want string) ([]string, error) {
	pos, err := e.parse(name, fs, args, want)
	if u, ok := err.(*usageError); ok && u.msg == e.tr.T("cli.err.missing", "What", want) {
		return e.parse(name, fs, args)
	}
	return pos, err
}

// quickDetails is a sighting's quick report in the user's language, ""
// if it has none (see api.QuickText).
func quickDetails(a api.Alert) string { return api.QuickText(a, envLang()) }

// whatCodeUsage lists the what codes with their meaning in the user's
// language, for `lookout report --help`.
func whatCodeUsage(e *env) string {
	lang := envLang()
	parts := make([]string, len(api.WhatCodes))
	for i, c := range api.WhatCodes {
		parts[i] = c + " (" + api.WhatCodeText(c, lang) + ")"
	}
	return e.tr.T("cli.report.whatcode.usage", "Codes", strings.Join(parts, ", "))
}

// uniformUsage explains --uniform: a code, or text sent as typed.
func uniformUsage(e *env) string {
	lang := envLang()
	return e.tr.T("cli.report.uniform.usage", "Marked", api.UniformCodeText(api.UniformMarked, lang), "Plain", api.UniformCodeText(api.UniformPlain, lang))
}
