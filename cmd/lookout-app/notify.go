package main

import (
	"context"
	"os"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"
)

// notifyName is the D-Bus name of the desktop notification service Fyne
// sends Linux notifications to; without it they are dropped silently.
const notifyName = "org.freedesktop.Notifications"

// Bounds on asking the session bus whether notifications can be shown:
// the question is asked on the UI goroutine, so it must not hang, and its
// answer is kept for a while because it is asked for every new alert.
const (
	notifyCheckTimeout = time.Second
	notifyCheckTTL     = time.Minute
)

// notifier reports whether desktop notifications can be shown, asking
// the session bus at most once every notifyCheckTTL.
type notifier struct {
	mu    sync.Mutex
	at    time.Time
	ok    bool
	now   func() time.Time
	check func(ctx context.Context) bool
}

func newNotifier() *notifier { return &notifier{now: time.Now, check: notificationService} }

// Available reports whether notifications can be shown now.
func (n *notifier) Available() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.at.IsZero() && n.now().Sub(n.at) < notifyCheckTTL {
		return n.ok
	}
	ctx, cancel := context.WithTimeout(context.Background(), notifyCheckTimeout)
	defer cancel()
	n.ok, n.at = n.check(ctx), n.now()
	return n.ok
}

// notificationService reports whether the session bus has a notification
// service running or can start one. Other systems than Linux need none.
func notificationService(ctx context.Context) bool {
	if runtime.GOOS != "linux" {
		return true
	}
	if !sessionBus() {
		return false
	}
	conn, err := dbus.ConnectSessionBus(dbus.WithContext(ctx))
	if err != nil {
		return false
	}
	defer conn.Close()
	bus := conn.BusObject()
	var owned bool
	if err := bus.CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, notifyName).Store(&owned); err == nil && owned {
		return true
	}
	var names []string
	if err := bus.CallWithContext(ctx, "org.freedesktop.DBus.ListActivatableNames", 0).Store(&names); err != nil {
		return false
	}
	return slices.Contains(names, notifyName)
}

// sessionBus reports whether the desktop services Fyne reaches over D-Bus
// on Linux (tray, notifications) can work; other systems need none.
func sessionBus() bool {
	return runtime.GOOS != "linux" || os.Getenv("DBUS_SESSION_BUS_ADDRESS") != ""
}
