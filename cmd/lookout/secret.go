package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/term"

	"lookout/node"
	"lookout/node/control"
	"lookout/node/harden"
	"lookout/node/passphrase"
	"lookout/node/store"
	"lookout/protocol"
)

// Environment variables that give secrets to scripts, in place of the
// prompts. They are read once and never printed.
const (
	envPassphrase    = "LOOKOUT_PASSPHRASE"
	envNewPassphrase = "LOOKOUT_NEW_PASSPHRASE"
	envDuress        = "LOOKOUT_DURESS_PASSPHRASE"
)

// minPassphraseLen is the shortest passphrase accepted, in characters.
// Argon2id slows guessing; it cannot save a four-letter word.
const minPassphraseLen = passphrase.MinLen

// genRand is the randomness of generated passphrases; nil means
// crypto/rand (tests fix it).
var genRand io.Reader

// maxSecretLine bounds a passphrase read from --passphrase-fd, in bytes.
const maxSecretLine = passphrase.MaxLine

// unlockAttempts is how many passphrases `lookout node` asks for before it
// gives up; the store pauses after each wrong one.
const unlockAttempts = 3

// console talks to the person at the terminal.
type console interface {
	// Interactive reports whether prompts can be answered.
	Interactive() bool
	// Secret prompts and reads a line without echoing it.
	Secret(prompt string) ([]byte, error)
	// Line prompts and reads a line.
	Line(prompt string) (string, error)
	// Hush keeps the terminal from echoing until restore is called, and
	// makes each Secret prompt first discard what was typed before it (a
	// passphrase typed again during the pause after a wrong one).
	Hush() (restore func())
}

// newConsole returns the console commands use; tests replace it.
var newConsole = func(stderr io.Writer) console {
	return &ttyConsole{in: os.Stdin, out: stderr}
}

type ttyConsole struct {
	in     *os.File
	out    io.Writer
	r      *bufio.Reader
	hushed bool
}

func (c *ttyConsole) Interactive() bool { return term.IsTerminal(int(c.in.Fd())) }

func (c *ttyConsole) Hush() func() {
	if !c.Interactive() {
		return func() {}
	}
	restore := noEcho(int(c.in.Fd()))
	c.hushed = true
	return func() {
		c.hushed = false
		restore()
	}
}

func (c *ttyConsole) Secret(prompt string) ([]byte, error) {
	if c.hushed {
		flushInput(int(c.in.Fd()))
	}
	fmt.Fprint(c.out, prompt)
	b, err := term.ReadPassword(int(c.in.Fd()))
	fmt.Fprintln(c.out)
	if err != nil {
		return nil, fmt.Errorf("read passphrase: %w", err)
	}
	return b, nil
}

func (c *ttyConsole) Line(prompt string) (string, error) {
	fmt.Fprint(c.out, prompt)
	if c.r == nil {
		c.r = bufio.NewReader(c.in)
	}
	s, err := c.r.ReadString('\n')
	if err != nil && (err != io.EOF || s == "") {
		return "", fmt.Errorf("read answer: %w", err)
	}
	return strings.TrimSpace(s), nil
}

var errNoSecret = errors.New("no passphrase given")

// localized is an error in the user's language that still matches its
// English sentinel with errors.Is.
type localized struct {
	msg string
	err error
}

func (l *localized) Error() string { return l.msg }
func (l *localized) Unwrap() error { return l.err }

// noSecret is errNoSecret in the user's language, with what to do.
func (e *env) noSecret(what string) error {
	return &localized{e.tr.T("cli.secret.none") + ": " + what, errNoSecret}
}

// secretFlags are the flags of commands that unlock a store.
type secretFlags struct {
	keyFile *string
	fd      *int
}

func addSecretFlags(fs *flag.FlagSet, fdUsage string) secretFlags {
	return secretFlags{
		keyFile: fs.String("key-file", "", "unlock with the key `FILE` instead of a passphrase (always-on nodes)"),
		fd:      addFDFlag(fs, fdUsage),
	}
}

func addFDFlag(fs *flag.FlagSet, usage string) *int {
	return fs.Int("passphrase-fd", -1, usage)
}

// readSecretLine reads one passphrase line from descriptor fd.
func readSecretLine(fd int) ([]byte, error) {
	p, err := passphrase.ReadFD(fd)
	if errors.Is(err, passphrase.ErrNoLine) {
		return nil, fmt.Errorf("%w: %w", errNoSecret, err)
	}
	return p, err
}

// envSecret returns a copy of the passphrase in environment variable
// name. The variable itself cannot be cleared: its bytes live in the
// process's initial stack, which /proc/PID/environ shows for the process's
// whole life (non-dumpable limits who can read it); --passphrase-fd leaves
// no such copy.
func envSecret(name string) ([]byte, bool) {
	p, ok := os.LookupEnv(name)
	if !ok {
		return nil, false
	}
	return []byte(p), true
}

// unlockSecret returns the secret that unlocks an existing store: the key
// file, --passphrase-fd, $LOOKOUT_PASSPHRASE, or a prompt.
func (e *env) unlockSecret(f secretFlags, prompt string) (store.Secret, error) {
	if *f.keyFile != "" {
		return store.Secret{KeyFile: *f.keyFile}, nil
	}
	if *f.fd >= 0 {
		p, err := readSecretLine(*f.fd)
		return store.Secret{Passphrase: p}, err
	}
	if p, ok := envSecret(envPassphrase); ok {
		return store.Secret{Passphrase: p}, nil
	}
	if !e.con.Interactive() {
		return store.Secret{}, e.noSecret(e.tr.T("cli.secret.nosecret.key", "Flag", "--key-file", "Env", envPassphrase))
	}
	p, err := e.con.Secret(prompt)
	if err != nil {
		return store.Secret{}, err
	}
	if len(p) == 0 {
		return store.Secret{}, e.noSecret(e.tr.T("cli.secret.empty"))
	}
	return store.Secret{Passphrase: p}, nil
}

// newPassphrase returns a new passphrase: a line from descriptor fd if
// fd >= 0, else the environment variable envVar, else asked twice at the
// terminal, where an empty answer offers a generated one. keyFlag names
// the flag that gives a key file instead, if any; related are words the
// passphrase must not lean on (the user's name).
func (e *env) newPassphrase(fd int, envVar, what, keyFlag string, related ...string) ([]byte, error) {
	if fd >= 0 {
		p, err := readSecretLine(fd)
		if err != nil {
			return nil, err
		}
		return e.checkPassphrase(p, what, related...)
	}
	if p, ok := envSecret(envVar); ok {
		return e.checkPassphrase(p, what, related...)
	}
	if !e.con.Interactive() {
		if keyFlag != "" {
			return nil, e.noSecret(e.tr.T("cli.secret.nosecret.key", "Flag", keyFlag, "Env", envVar))
		}
		return nil, e.noSecret(e.tr.T("cli.secret.nosecret", "Env", envVar))
	}
	for {
		p, err := e.con.Secret(e.tr.T("cli.secret.choose."+whatKey(what), "Min", minPassphraseLen) + " ")
		if err != nil {
			return nil, err
		}
		if len(p) == 0 {
			g, err := passphrase.Generate(genRand, passphrase.DefaultWords)
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(e.stderr, "%s\n\n    %s\n\n%s\n", e.tr.T("cli.secret.generated."+whatKey(what)), g, e.tr.T("cli.secret.learn"))
			p = []byte(g)
		} else if _, err := e.checkPassphrase(p, what, related...); err != nil {
			fmt.Fprintln(e.stderr, err)
			continue
		}
		again, err := e.con.Secret(e.tr.T("cli.secret.again") + " ")
		if err != nil {
			clear(p)
			return nil, err
		}
		same := bytes.Equal(p, again)
		clear(again)
		if !same {
			clear(p)
			fmt.Fprintln(e.stderr, e.tr.T("cli.secret.nomatch"))
			continue
		}
		return p, nil
	}
}

// whatKey is the catalogue key of a kind of passphrase: "passphrase",
// "new" or "duress".
func whatKey(what string) string { return strings.Fields(what)[0] }

// checkPassphrase checks a new passphrase; what is "passphrase", "new
// passphrase" or "duress passphrase", the key of its messages.
func (e *env) checkPassphrase(p []byte, what string, related ...string) ([]byte, error) {
	err := passphrase.Check(p, related...)
	n := utf8.RuneCount(p)
	if err != nil {
		clear(p) // refused: no copy is kept
	}
	switch {
	case err == nil:
		return p, nil
	case errors.Is(err, passphrase.ErrNotText):
		return nil, errors.New(e.tr.T("cli.secret.nottext." + whatKey(what)))
	case errors.Is(err, passphrase.ErrTooShort):
		return nil, errors.New(e.tr.T("cli.secret.short."+whatKey(what), "N", n, "Min", minPassphraseLen))
	default:
		return nil, errors.New(e.tr.T("cli.secret.weak."+whatKey(what), "Why", err.Error()))
	}
}

func runInit(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	name := fs.String("name", "", "your display `NAME`, shown to your zones")
	keyFile := fs.String("key-file", "", "protect the profile with the key `FILE` (created if missing) instead of a passphrase")
	duress := fs.Bool("duress", false, "also set a duress passphrase, which opens an empty profile and silently wipes the real one")
	fd := addFDFlag(fs, "read the passphrase (then the duress passphrase, with --duress; with --key-file only the duress passphrase) from file descriptor `N`, one per line (0: standard input)")
	if _, err := e.parse("init", fs, args); err != nil {
		return err
	}
	if err := protocol.CheckName(*name, protocol.MaxNameLen); err != nil {
		// The rule every node applies to member announcements.
		return &usageError{cmd: "init", msg: e.tr.T("cli.init.badname", "Max", protocol.MaxNameLen)}
	}
	if err := harden.Process(); err != nil {
		return err
	}
	if store.Exists(e.home) {
		return errors.New(e.tr.T("cli.init.exists", "Home", e.home))
	}
	opt := node.InitOptions{Name: *name}
	switch {
	case *keyFile != "":
		opt.Secret.KeyFile = *keyFile
	default:
		if _, ok := os.LookupEnv(envPassphrase); !ok && *fd < 0 && e.con.Interactive() {
			choice, err := e.con.Line(e.tr.T("cli.init.choice") + " ")
			if err != nil {
				return err
			}
			if strings.HasPrefix(strings.ToLower(choice), "k") {
				path, err := e.con.Line(e.tr.T("cli.init.keypath") + " ")
				if err != nil {
					return err
				}
				if path == "" {
					return errors.New(e.tr.T("cli.init.nokeypath"))
				}
				opt.Secret.KeyFile = path
				break
			}
		}
		p, err := e.newPassphrase(*fd, envPassphrase, "passphrase", "--key-file", nameWords(*name)...)
		if err != nil {
			return err
		}
		opt.Secret.Passphrase = p
		defer clear(p)
	}
	if opt.Secret.KeyFile != "" {
		if _, err := os.Stat(opt.Secret.KeyFile); errors.Is(err, os.ErrNotExist) {
			if err := store.CreateKeyFile(opt.Secret.KeyFile); err != nil {
				return fmt.Errorf("create key file: %w", err)
			}
		}
	}
	if *duress {
		// From --passphrase-fd: the line after the passphrase, or the
		// only line with --key-file.
		p, err := e.newPassphrase(*fd, envDuress, "duress passphrase", "", nameWords(*name)...)
		if err != nil {
			return err
		}
		defer clear(p)
		opt.Duress = &store.Secret{Passphrase: p}
	}
	id, err := node.Init(e.home, opt)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(e.stdout, id)
	return err
}

// nameWords returns the words of a display name, which a passphrase must
// not lean on.
func nameWords(name string) []string {
	return append(strings.Fields(strings.ToLower(name)), strings.ToLower(name))
}

// startNode unlocks and starts a node made by mk, asking again after a
// wrong passphrase typed at the terminal. The terminal does not echo
// between the prompts (the store pauses after a wrong passphrase), and
// the passphrase bytes are zeroed once the node has started or failed.
func (e *env) startNode(ctx context.Context, mk func() *node.Node, f secretFlags) (*node.Node, error) {
	_, fromEnv := os.LookupEnv(envPassphrase)
	if *f.keyFile == "" && *f.fd < 0 && !fromEnv {
		restore := e.con.Hush() // prompts will be asked
		defer restore()
	}
	for attempt := 1; ; attempt++ {
		secret, err := e.unlockSecret(f, e.tr.T("cli.secret.unlock", "Home", e.home)+" ")
		if err != nil {
			return nil, err
		}
		n := mk()
		n.Secret = secret
		err = n.Start(ctx)
		clear(secret.Passphrase)
		if err == nil {
			return n, nil
		}
		if !errors.Is(err, store.ErrWrongPassphrase) || *f.keyFile != "" || *f.fd >= 0 || fromEnv || attempt >= unlockAttempts || !e.con.Interactive() {
			return nil, hint(err, store.ErrWrongPassphrase, e.tr.T("cli.secret.checkit"))
		}
		fmt.Fprintln(e.stderr, e.tr.T("cli.secret.wrong"))
	}
}

func runWipe(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	yes := fs.Bool("yes", false, "do not ask for confirmation")
	if _, err := e.parse("wipe", fs, args); err != nil {
		return err
	}
	if !node.Initialized(e.home) {
		return errors.New(e.tr.T("cli.wipe.noprofile", "Home", e.home))
	}
	if !*yes {
		if !e.con.Interactive() {
			return &usageError{cmd: "wipe", msg: e.tr.T("cli.wipe.needyes")}
		}
		a, err := e.con.Line(e.tr.T("cli.wipe.prompt") + " ")
		if err != nil {
			return err
		}
		if !e.yes(a) {
			return errors.New(e.tr.T("cli.wipe.not"))
		}
	}
	// A running node destroys its own store and stops; then the files are
	// wiped from here as well, which is harmless if already done.
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	nodeErr := e.client().Wipe(cctx)
	if err := node.Wipe(e.home); err != nil {
		return err
	}
	if nodeErr != nil && !errors.Is(nodeErr, control.ErrNoNode) {
		fmt.Fprintln(e.stderr, "lookout: "+e.tr.T("cli.wipe.noanswer", "Err", oneLine(nodeErr.Error())))
	}
	_, err := fmt.Fprintln(e.stdout, e.tr.T("cli.wipe.done", "Home", e.home))
	return err
}

func runPassphraseChange(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	f := addSecretFlags(fs, "read the current passphrase, then the new one, from file descriptor `N`, one per line (0: standard input; with --key-file only the new one)")
	newKey := fs.String("new-key-file", "", "protect the profile with the key `FILE` (created if missing) instead of a new passphrase")
	if _, err := e.parse("passphrase change", fs, args); err != nil {
		return err
	}
	if err := harden.Process(); err != nil {
		return err
	}
	if !store.Exists(e.home) {
		return fmt.Errorf("%w %s; %s", node.ErrNoIdentity, e.home, e.tr.T("cli.passphrase.create", "Cmd", e.cmdline("init")))
	}
	old, err := e.unlockSecret(f, e.tr.T("cli.passphrase.current")+" ")
	if err != nil {
		return err
	}
	defer clear(old.Passphrase)
	var secret store.Secret
	if *newKey != "" {
		if _, err := os.Stat(*newKey); errors.Is(err, os.ErrNotExist) {
			if err := store.CreateKeyFile(*newKey); err != nil {
				return fmt.Errorf("create key file: %w", err)
			}
		}
		secret.KeyFile = *newKey
	} else {
		// From --passphrase-fd: the line after the current passphrase, or
		// the only line with --key-file.
		if secret.Passphrase, err = e.newPassphrase(*f.fd, envNewPassphrase, "new passphrase", "--new-key-file"); err != nil {
			return err
		}
		defer clear(secret.Passphrase)
	}
	if err := node.ChangeSecret(e.home, old, secret, store.Options{}); err != nil {
		return hint(err, store.ErrWrongPassphrase, e.tr.T("cli.passphrase.unchanged"))
	}
	_, err = fmt.Fprintln(e.stdout, e.tr.T("cli.passphrase.changed"))
	return err
}
