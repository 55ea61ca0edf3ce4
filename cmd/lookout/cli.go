package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode"

	"lookout/app/i18n"
	"lookout/node"
	"lookout/node/control"
)

// env is what every command runs with.
type env struct {
	home   string
	stdout io.Writer
	stderr io.Writer
	con    console
	tr     *i18n.Localizer // the user's language (LC_ALL, LC_MESSAGES, LANG)
}

// command is one line of usage and the function that runs it.
type command struct {
	name    string // "report", "zone invite"
	args    string
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

var commands []*command

func init() {
	commands = []*command{
		{"init", "[--name NAME] [--key-file FILE] [--duress]", "create this home's encrypted profile and member identity, protected by a passphrase ($LOOKOUT_PASSPHRASE for scripts) or a key file; prints the member ID", runInit},
		{"node", "[--listen MULTIADDR]... [--mdns] [--verbose] [--key-file FILE] [--metrics ADDR [--metrics-public]]", "unlock the profile and run the node in the foreground until interrupted", runNode},
		{"wipe", "[--yes]", "destroy this home's keys, zones and alerts at once, without the passphrase; a running node stops", runWipe},
		{"passphrase change", "[--key-file FILE] [--new-key-file FILE]", "protect the profile with a new passphrase ($LOOKOUT_NEW_PASSPHRASE) or key file", runPassphraseChange},
		{"status", "[--json]", "show the running node's peer ID, addresses and connected peers", runStatus},
		{"zone create", "NAME", "create a zone with you as organizer; prints its ID", runZoneCreate},
		{"zone invite", "ZONE [--role member|verifier|organizer] [--ttl 24h] [--lan]", "make a one-line invite code (organizers)", runZoneInvite},
		{"zone join", "CODE", "join a zone with an invite code; prints its ID and name", runZoneJoin},
		{"zone list", "[--json]", "list your zones", runZoneList},
		{"zone leave", "ZONE", "delete a zone made by an older Lookout (zone list marks it)", runZoneLeave},
		{"zone members", "ZONE [--json]", "list a zone's members: name, role and member ID", runZoneMembers},
		{"zone promote", "ZONE MEMBER --role verifier|organizer [--json]", "give a member a role (organizers); MEMBER is an ID, a unique ID prefix or a unique name", runZonePromote},
		{"zone remove", "ZONE MEMBER [--json]", "remove a member and move the zone to a new epoch (organizers); prints who still needs a new invite", runZoneRemove},
		{"zone settings", "ZONE [--quorum K] [--window 20m] [--expiry 4h] [--cosign-callouts] [--max-reports N] [--max-confirms N] [--auto-share verified|callouts|all|none] [--json]", "show a zone's settings, or change them (organizers)", runZoneSettings},
		{"zone link", "ZONE [--name NAME] [--ttl 24h]", "make a one-line link offer code for another zone (organizers)", runZoneLink},
		{"zone accept-link", "ZONE CODE [--name NAME] [--json]", "accept another zone's link offer code (organizers)", runZoneAcceptLink},
		{"zone links", "ZONE [--json]", "list a zone's links: peer, state, since and link ID", runZoneLinks},
		{"zone unlink", "ZONE LINK", "end a link, given by ID, ID prefix or peer name (organizers)", runZoneUnlink},
		{"report", "ZONE --what TEXT|--what-code CODE --where TEXT [--size N] [--activity T] [--uniform marked|plain|T] [--vehicles N] [--equipment T] [--exercise]", "report a sighting; prints its alert ID. Codes (--what-code, --uniform marked|plain) are shown to each member in their own language; -h lists them", runReport},
		{"callout", "ZONE --title TEXT --where TEXT [--when TIME] [--need N] [--bring T] [--rights T] [--card TOPIC] [--exercise]", "call members out (organizers); prints its alert ID. A zone named \"update\" must be given by its ID", runCallout},
		{"callout update", "ALERT [--title T] [--where T] [--when T] [--need N] [--bring T] [--rights T] [--card TOPIC]", "change a callout (organizers)", runCalloutUpdate},
		{"cosign", "ALERT", "co-sign a callout another organizer sent, where the zone requires two (organizers)", runCosign},
		{"confirm", "ALERT", "confirm a sighting you witness too: you count as a witness. From a verifier or organizer of the zone (who did not report it), a confirm also verifies it, as 'lookout verify' does", runConfirm},
		{"verify", "ALERT", "verify a sighting as a verifier or organizer of its zone: it shows as VERIFIED to every member and can be shared with linked zones (the same message as confirm)", runVerify},
		{"respond", "ALERT --status enroute|onscene|cannot", "answer a callout", runRespond},
		{"share", "ALERT [--hops N | --city-wide]", "share a verified sighting or a callout with linked zones (verifiers, organizers)", runShare},
		{"clear", "ALERT [--reason TEXT]", "give the all clear (verifiers, organizers), or retract your own report: that ends an incident nobody else witnessed. From other members it is a note that the agents left, shown to the zone for a verifier or organizer to act on", runClear},
		{"alerts", "ZONE [--json]", "list a zone's active alerts", runAlerts},
		{"watch", "ZONE [--json]", "print a zone's new alerts and updates as they arrive", runWatch},
		{"rights", "[TOPIC] [--zone ZONE] [--lang en|fr|es]", "read the know-your-rights cards, offline: a zone's own cards with --zone, else the built-in ones; lists the topics without TOPIC", runRights},
	}
	commands = append(commands, opsCommands()...)  // version.go
	commands = append(commands, docsCommands()...) // zonedocs.go
}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// errHelp means usage was asked for and printed.
var errHelp = errors.New("help requested")

// usageError is a mistake in the command line.
type usageError struct {
	cmd string // "" for the top level
	msg string
}

func (u *usageError) Error() string {
	if u.cmd == "" {
		return u.msg + "; run 'lookout help' for usage"
	}
	return fmt.Sprintf("%s: %s; run 'lookout help %s' for usage", u.cmd, u.msg, u.cmd)
}

// hinted adds what to do to an error.
type hinted struct {
	err  error
	hint string
}

func (h *hinted) Error() string { return h.err.Error() + "; " + h.hint }
func (h *hinted) Unwrap() error { return h.err }

// hint adds what to do to err if it matches target.
func hint(err, target error, h string) error {
	if errors.Is(err, target) {
		return &hinted{err, h}
	}
	return err
}

// run runs the command line args and returns the exit status: 0 ok, 1
// error, 2 usage.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	e := &env{home: os.Getenv("LOOKOUT_HOME"), stdout: stdout, stderr: stderr, con: newConsole(stderr), tr: i18n.FromEnv(os.Getenv)}
	if e.home == "" {
		e.home = defaultHome()
	}
	fs := e.flags()
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		e.usage(stdout)
		return 0
	case err != nil:
		return e.exit(ctx, &usageError{msg: e.flagError(err)})
	case fs.NArg() == 0:
		e.usage(stderr)
		return 2
	}
	args = fs.Args()
	if args[0] == "help" {
		if c := lookup(strings.Join(args[1:], " ")); c != nil {
			c.usage(e, stderr, nil)
		} else {
			e.usage(stderr)
		}
		return 2
	}
	name := args[0]
	if name == "zone" {
		return e.exit(ctx, e.zone(ctx, args[1:]))
	}
	// "callout update" changes a callout; a zone named "update" is given
	// to callout by its ID.
	if name == "callout" && len(args) > 1 && args[1] == "update" {
		name, args = "callout update", args[1:]
	}
	name, args = docsCommand(name, args) // zonedocs.go
	if name == "passphrase" {
		if len(args) < 2 || args[1] != "change" {
			return e.exit(ctx, &usageError{msg: e.tr.T("cli.err.subcommand", "Cmd", "passphrase", "List", "change")})
		}
		name, args = "passphrase change", args[1:]
	}
	c := lookup(name)
	if c == nil {
		return e.exit(ctx, &usageError{msg: e.tr.T("cli.err.unknown", "Name", fmt.Sprintf("%q", name))})
	}
	return e.exit(ctx, c.run(ctx, e, args[1:]))
}

// zone runs the zone subcommand named first in args.
func (e *env) zone(ctx context.Context, args []string) error {
	fs := e.flags()
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		e.usage(e.stdout)
		return errHelp
	case err != nil:
		return &usageError{cmd: "zone", msg: e.flagError(err)}
	case fs.NArg() == 0:
		return &usageError{msg: e.tr.T("cli.err.subcommand", "Cmd", "zone", "List", "create, invite, join, list, members, promote, remove, settings, link, accept-link, links, unlink")}
	}
	c := lookup("zone " + fs.Arg(0))
	if c == nil {
		return &usageError{msg: e.tr.T("cli.err.unknown", "Name", fmt.Sprintf("%q", "zone "+fs.Arg(0)))}
	}
	return c.run(ctx, e, fs.Args()[1:])
}

// exit reports err on stderr in one line and returns the exit status.
func (e *env) exit(ctx context.Context, err error) int {
	if err == nil || errors.Is(err, errHelp) {
		return 0
	}
	code := 1
	if _, ok := errors.AsType[*usageError](err); ok {
		code = 2
	}
	msg := e.errText(err)
	switch u, ok := errors.AsType[*usageError](err); {
	case ok && u.cmd == "":
		msg = e.tr.T("cli.err.top", "Msg", u.msg)
	case ok:
		msg = e.tr.T("cli.err.prefix", "Cmd", u.cmd, "Msg", u.msg)
	case errors.Is(err, control.ErrNoNode):
		msg = e.tr.T("cli.err.nonode", "Home", e.home, "Cmd", "lookout --home "+shellQuote(e.home)+" node")
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		msg = e.tr.T("cli.err.interrupted")
	}
	fmt.Fprintln(e.stderr, "lookout: "+clean(oneLine(msg)))
	return code
}

// errText is err in the user's language: the node's errors from the
// catalogue (i18n.Localizer.Error), with the command line's hint after
// them.
func (e *env) errText(err error) string {
	if h, ok := err.(*hinted); ok {
		return e.tr.T("cli.err.hinted", "Err", e.errText(h.err), "Hint", h.hint)
	}
	return e.tr.Error(err)
}

// flags returns a flag set that reports errors to its caller and knows
// --home, which every command accepts.
func (e *env) flags() *flag.FlagSet {
	fs := flag.NewFlagSet("lookout", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.StringVar(&e.home, "home", e.home, e.tr.T("cli.flag.home", "Default", defaultHome()))
	return fs
}

// parse parses the flags and positional arguments of command name, in any
// order, and returns the positional ones: exactly one per entry of want.
func (e *env) parse(name string, fs *flag.FlagSet, args []string, want ...string) ([]string, error) {
	var pos []string
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			lookup(name).usage(e, e.stdout, fs)
			return nil, errHelp
		}
		if err != nil {
			return nil, &usageError{cmd: name, msg: e.flagError(err)}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		// The flag package stops at the first positional argument (or
		// after "--"); take it and parse the rest again.
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	switch {
	case strings.TrimSpace(e.home) == "":
		return nil, &usageError{cmd: name, msg: e.tr.T("cli.err.emptyflag", "Flag", "--home")}
	case len(pos) < len(want):
		return nil, &usageError{cmd: name, msg: e.tr.T("cli.err.missing", "What", want[len(pos)])}
	case len(pos) > len(want):
		return nil, &usageError{cmd: name, msg: e.tr.T("cli.err.unexpected", "Arg", fmt.Sprintf("%q", pos[len(want)]))}
	}
	for i, p := range pos {
		if strings.TrimSpace(p) == "" {
			return nil, &usageError{cmd: name, msg: e.tr.T("cli.err.empty", "What", want[i])}
		}
	}
	return pos, nil
}

// need returns a usage error if a required flag is empty.
func (e *env) need(cmd string, flags ...string) error {
	for i := 0; i+1 < len(flags); i += 2 {
		if strings.TrimSpace(flags[i+1]) == "" {
			return &usageError{cmd: cmd, msg: e.tr.T("cli.err.missingflag", "Flag", "--"+flags[i])}
		}
	}
	return nil
}

func (e *env) client() *control.Client {
	return control.NewClient(socketPath(e.home))
}

// cmdline returns a lookout command line for hints, with --home if it is
// not the default.
func (e *env) cmdline(args string) string {
	if e.home != defaultHome() {
		return "lookout --home " + shellQuote(e.home) + " " + args
	}
	return "lookout " + args
}

// usage prints the command summary in the user's language.
func (e *env) usage(w io.Writer) {
	fmt.Fprintf(w, "%s\n\n%s\n\n", e.tr.T("cli.usage.title"), e.tr.T("cli.usage.intro"))
	for _, c := range commands {
		fmt.Fprintf(w, "  %s %s\n        %s\n", c.name, c.args, c.summaryIn(e.tr))
	}
	fmt.Fprintln(w)
	for _, id := range []string{"cli.usage.home", "cli.usage.flags", "cli.usage.ids", "cli.usage.update", "cli.usage.lang"} {
		fmt.Fprintln(w, e.tr.T(id, "Default", defaultHome()))
	}
}

// summaryIn is the command's summary in tr's language; the English one in
// the table if the catalogue lacks it.
func (c *command) summaryIn(tr *i18n.Localizer) string {
	if id := "cli.cmd." + strings.ReplaceAll(c.name, " ", "."); tr.T(id) != id {
		return tr.T(id)
	}
	return c.summary
}

func (c *command) usage(e *env, w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "%s\n\n%s\n", e.tr.T("cli.usage.cmd", "Name", c.name, "Args", c.args), c.summaryIn(e.tr))
	if fs != nil {
		fs.VisitAll(func(f *flag.Flag) {
			if id := "cli.flag." + strings.ReplaceAll(c.name, " ", ".") + "." + f.Name; e.tr.T(id) != id {
				f.Usage = e.tr.T(id, "Port", node.DefaultPort, "Max", maxNeed)
			}
		})
		fmt.Fprintf(w, "\n%s\n", e.tr.T("cli.usage.cmdflags"))
		printDefaults(w, e.tr, fs)
	}
}

// printDefaults prints the flags as flag.PrintDefaults does, with
// "(default …)" in tr's language, left out where the help already says it.
func printDefaults(w io.Writer, tr *i18n.Localizer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		var b strings.Builder
		fmt.Fprintf(&b, "  -%s", f.Name)
		name, usage := flag.UnquoteUsage(f)
		if name != "" {
			b.WriteString(" " + name)
		}
		if b.Len() <= 4 {
			b.WriteString("\t")
		} else {
			b.WriteString("\n    \t")
		}
		b.WriteString(strings.ReplaceAll(usage, "\n", "\n    \t"))
		if d := f.DefValue; d != "" && d != "0" && d != "0s" && d != "false" && !strings.Contains(usage, d) {
			b.WriteString(" " + tr.T("cli.usage.default", "Value", d))
		}
		fmt.Fprintln(w, b.String())
	})
}

// oneLine folds text onto one line.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }), " ")
}

// clean makes text from the network safe to print: no control characters
// such as terminal escapes or line breaks.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
}

// shellQuote quotes s for a POSIX shell if it needs quoting.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("/._-+:@,=", r)))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
