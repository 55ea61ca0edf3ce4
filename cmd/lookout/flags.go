package main

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Errors of this command line's flag types. The flag package prints them
// inside its own English ("invalid value … for flag -x: …"); flagError
// says both in the user's language.
var (
	errNotDuration = errors.New("want a duration like 90m, 24h or 7d")
	errNotPositive = errors.New("must be positive")
)

const mustBeOneOf = "must be one of "

// The flag package's parse errors (package flag, FlagSet.Parse): plain
// text, so they are recognised by their form.
var (
	flagUndefinedRE = regexp.MustCompile(`^flag provided but not defined: (-\S*)$`)
	flagNoArgRE     = regexp.MustCompile(`^flag needs an argument: (-\S*)$`)
	flagValueRE     = regexp.MustCompile(`^invalid (boolean )?value ("(?:[^"\\]|\\.)*") for (?:flag )?(-\S*): (.*)$`)
	flagSyntaxRE    = regexp.MustCompile(`^bad flag syntax: (.*)$`)
)

// flagError says a FlagSet.Parse error in the user's language; an error
// of another form stays as it is.
func (e *env) flagError(err error) string {
	msg := err.Error()
	if m := flagUndefinedRE.FindStringSubmatch(msg); m != nil {
		return e.tr.T("cli.flagerr.undefined", "Flag", m[1])
	}
	if m := flagNoArgRE.FindStringSubmatch(msg); m != nil {
		return e.tr.T("cli.flagerr.noarg", "Flag", m[1])
	}
	if m := flagSyntaxRE.FindStringSubmatch(msg); m != nil {
		return e.tr.T("cli.flagerr.syntax", "Arg", m[1])
	}
	m := flagValueRE.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	why := m[4]
	switch {
	case why == "parse error": // the flag package's errParse
		why = e.tr.T("cli.flagerr.parse")
	case why == "value out of range": // its errRange
		why = e.tr.T("cli.flagerr.range")
	case why == errNotDuration.Error():
		why = e.tr.T("cli.flagerr.duration")
	case why == errNotPositive.Error():
		why = e.tr.T("cli.flagerr.positive")
	case strings.HasPrefix(why, mustBeOneOf):
		why = e.tr.T("cli.flagerr.oneof", "List", strings.TrimPrefix(why, mustBeOneOf))
	}
	if m[1] != "" {
		return e.tr.T("cli.flagerr.bool", "Value", m[2], "Flag", m[3], "Err", why)
	}
	return e.tr.T("cli.flagerr.value", "Value", m[2], "Flag", m[3], "Err", why)
}

// listFlag collects a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ", ") }

func (l *listFlag) Set(s string) error {
	*l = append(*l, s)
	return nil
}

// choiceFlag is a string flag limited to some values.
type choiceFlag struct {
	value   string
	choices []string
}

func (c *choiceFlag) String() string { return c.value }

func (c *choiceFlag) Set(s string) error {
	if !slices.Contains(c.choices, s) {
		return fmt.Errorf("%s%s", mustBeOneOf, strings.Join(c.choices, ", "))
	}
	c.value = s
	return nil
}

// ttlFlag is a positive duration in Go syntax, optionally led by whole
// days: 90m, 24h, 7d, 1d12h.
type ttlFlag time.Duration

func (d *ttlFlag) String() string { return time.Duration(*d).String() }

func (d *ttlFlag) Set(s string) error {
	v, err := parseTTL(s)
	if err != nil {
		return err
	}
	*d = ttlFlag(v)
	return nil
}

func parseTTL(s string) (time.Duration, error) {
	var days time.Duration
	hasDays := false
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.Atoi(s[:i])
		if err != nil || n < 0 || n > 10000 {
			return 0, errNotDuration
		}
		days, s, hasDays = time.Duration(n)*24*time.Hour, s[i+1:], true
	}
	var rest time.Duration
	if s != "" || !hasDays {
		var err error
		if rest, err = time.ParseDuration(s); err != nil {
			return 0, errNotDuration
		}
	}
	if days+rest <= 0 {
		return 0, errNotPositive
	}
	return days + rest, nil
}
