// Command lookout-app is Lookout's desktop app: the user interface of
// package app over a node running in this process.
//
// Usage:
//
//	lookout-app [--home DIR] [--listen MULTIADDR]... [--passphrase-fd N | --passphrase-env VAR] [--name NAME]
//
// The home directory defaults to $LOOKOUT_HOME, then to the user's Lookout
// directory. With --passphrase-fd (a line on descriptor N, 0 for standard
// input) or --passphrase-env (an environment variable, which stays visible
// in /proc for the process's life) the app unlocks (creating an identity
// if there is none) instead of asking; they are meant for automated runs
// such as the smoke test.
package main

import (
	"cmp"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"lookout/app"
	"lookout/app/practice"
	"lookout/node"
	"lookout/node/harden"
	"lookout/node/passphrase"
)

//go:embed Icon.png
var icon []byte

// appID matches FyneApp.toml. It names the preferences directory Fyne
// makes in the user's config directory, so it says nothing of the app's
// purpose.
const appID = "org.lookout.client"

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "lookout-app:", err)
		os.Exit(1)
	}
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

func run(args []string) error {
	fs := flag.NewFlagSet("lookout-app", flag.ContinueOnError)
	home := fs.String("home", cmp.Or(os.Getenv("LOOKOUT_HOME"), node.DefaultHome()), "Lookout home `DIR` (identity, zones)")
	var listen listFlag
	fs.Var(&listen, "listen", "listen on `MULTIADDR`; repeat for more (default: the node's defaults)")
	passEnv := fs.String("passphrase-env", "", "unlock with the passphrase in environment variable `VAR` instead of asking")
	passFD := fs.Int("passphrase-fd", -1, "unlock with the passphrase read as one line from file descriptor `N` (0: standard input) instead of asking")
	name := fs.String("name", "", "display `NAME` for an identity created with --passphrase-fd or --passphrase-env")
	verbose := fs.Bool("verbose", false, "also log debug messages (the screens shown, and the node's, which name zones, members, peers and alerts, so keep such logs off shared or seized machines)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := harden.Process(); err != nil {
		return err
	}
	if *passEnv != "" && *passFD >= 0 {
		return errors.New("give one of --passphrase-fd and --passphrase-env, not both")
	}
	if err := checkDisplay(runtime.GOOS, os.Getenv); err != nil {
		return err
	}
	level := slog.LevelInfo // names no zone, member, peer or alert
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	var pass []byte
	if *passFD >= 0 {
		p, err := passphrase.ReadFD(*passFD)
		if err != nil {
			return err
		}
		pass = p
	}
	if *passEnv != "" {
		v, ok := os.LookupEnv(*passEnv)
		if !ok || v == "" {
			return fmt.Errorf("read passphrase: environment variable %s is empty or unset", *passEnv)
		}
		pass = []byte(v)
		// Unsetenv hides it from child processes only: the bytes stay in
		// /proc/PID/environ for the life of the process.
		os.Unsetenv(*passEnv)
	}

	if err := removeOldAppDir(runtime.GOOS); err != nil {
		log.Warn("remove preferences of an earlier version", "err", err)
	}
	app.PrepareLocale()
	quietFyneLog()
	fa := fyneapp.NewWithID(appID)
	fa.SetIcon(fyne.NewStaticResource("Icon.png", icon))
	ui := app.New(fa, app.Options{
		Profile:  &profile{home: *home, listen: listen, log: log},
		Practice: practice.Starter(practice.DefaultStep, log.With("practice", true)),
		Logger:   log,
		Poll:     5 * time.Second,
		Tray:     trayAvailable(),
		// Fyne sends Linux notifications to the session D-Bus's
		// notification service and drops them silently without one.
		Notifications: newNotifier().Available,
	})

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sig
		log.Info("stopping", "signal", s.String())
		if fyne.CurrentDevice().IsMobile() {
			// Fyne's mobile driver cannot quit (a phone closes apps
			// itself); in the simulation, stop the node and exit.
			ui.Close()
			log.Info("stopped")
			os.Exit(0)
		}
		fyne.Do(fa.Quit)
	}()

	startSimulator()
	if pass != nil {
		ui.StartUnlocked(*name, pass)
		ui.Window().ShowAndRun()
		ui.Close()
	} else {
		ui.ShowAndRun()
	}
	signal.Stop(sig)
	log.Info("stopped")
	return nil
}

// errNoDisplay means there is no screen to open the window on.
var errNoDisplay = errors.New("no display to open a window on: run the app in a desktop session (or set DISPLAY); for an always-on node without a screen use `make node` or `lookout node`")

// checkDisplay fails early, with what to do, where the windowing library
// would panic: on Linux and the BSDs without an X11 or Wayland display.
func checkDisplay(goos string, getenv func(string) string) error {
	switch goos {
	case "linux", "freebsd", "openbsd", "netbsd":
		if getenv("DISPLAY") == "" && getenv("WAYLAND_DISPLAY") == "" {
			return errNoDisplay
		}
	}
	return nil
}

// trayAvailable reports whether a system tray can work. On Linux the tray
// is a D-Bus service; without a session bus Fyne's tray code crashes when
// the app quits, so the tray is left out.
func trayAvailable() bool { return sessionBus() }
