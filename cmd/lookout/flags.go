package main

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

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
		return fmt.Errorf("must be one of %s", strings.Join(c.choices, ", "))
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
			return 0, errors.New("want a duration like 90m, 24h or 7d")
		}
		days, s, hasDays = time.Duration(n)*24*time.Hour, s[i+1:], true
	}
	var rest time.Duration
	if s != "" || !hasDays {
		var err error
		if rest, err = time.ParseDuration(s); err != nil {
			return 0, errors.New("want a duration like 90m, 24h or 7d")
		}
	}
	if days+rest <= 0 {
		return 0, errors.New("must be positive")
	}
	return days + rest, nil
}
