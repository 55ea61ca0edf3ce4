package main

import (
	"bufio"
	"errors"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"lookout/protocol"
)

// stdin is where `--what -` and `--where -` read from; tests replace it.
var stdin io.Reader = os.Stdin

// maxNeed is the most people a callout may ask for from the command line:
// more than any neighbourhood turns out, so a typo (--need 5000) is caught.
const maxNeed = 500

// textFlag is a text flag and the wire limit of its field, in characters.
type textFlag struct {
	name string // the flag as the user types it, without "--"
	v    *string
	max  int
}

// readTexts replaces each value "-" by a line read from standard input: a
// prompt in a terminal (so the text is in neither argv nor the shell's
// history), else the next line of the input. Then it checks every value
// against its limit, counted in characters, naming the flag as typed.
func (e *env) readTexts(cmd string, flags ...textFlag) error {
	var in *bufio.Reader
	for _, f := range flags {
		if *f.v != "-" {
			continue
		}
		var line string
		var err error
		if e.con.Interactive() {
			line, err = e.con.Line(e.tr.T("cli.text.prompt", "Flag", "--"+f.name) + " ")
		} else {
			if in == nil {
				in = bufio.NewReader(io.LimitReader(stdin, 64<<10))
			}
			line, err = in.ReadString('\n')
			if errors.Is(err, io.EOF) && line != "" {
				err = nil
			}
		}
		if err != nil {
			return &usageError{cmd: cmd, msg: e.tr.T("cli.text.noinput", "Flag", "--"+f.name)}
		}
		*f.v = strings.TrimRight(line, "\r\n")
	}
	for _, f := range flags {
		if err := protocol.CheckText(*f.v); err != nil {
			return &usageError{cmd: cmd, msg: e.tr.T("cli.text.control", "Flag", "--"+f.name)}
		}
		if n := utf8.RuneCountInString(*f.v); n > f.max {
			return &usageError{cmd: cmd, msg: e.tr.T("cli.text.toolong", "Flag", "--"+f.name, "N", n, "Max", f.max)}
		}
	}
	return nil
}

// checkCount checks a count flag is within 0..max (at least 1 if required).
func (e *env) checkCount(cmd, name string, v, lo, hi int) error {
	if v < lo || v > hi {
		return &usageError{cmd: cmd, msg: e.tr.T("cli.count.range", "Flag", "--"+name, "Min", lo, "Max", hi)}
	}
	return nil
}

// checkTTL checks a --ttl against its maximum.
func (e *env) checkTTL(cmd string, ttl ttlFlag, max string, maxD ttlFlag) error {
	if ttl > maxD {
		return &usageError{cmd: cmd, msg: e.tr.T("cli.ttl.max", "Max", max)}
	}
	return nil
}

// yes reports whether answer is "yes" in English or in the user's
// language (oui, sí), ignoring case and accents on the í.
func (e *env) yes(answer string) bool {
	a := strings.ToLower(strings.TrimSpace(answer))
	return a == "yes" || a == strings.ToLower(e.tr.T("cli.yes")) || (a == "si" && e.tr.T("cli.yes") == "sí")
}
