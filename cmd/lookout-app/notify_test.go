package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// busConfig is a private session bus that starts services from its own
// directory only, so the machine's notification daemons do not count.
const busConfig = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=DIR/bus</listen>
  <servicedir>DIR/services</servicedir>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`

// startBus starts a private session bus and points DBUS_SESSION_BUS_ADDRESS
// at it for the test; it returns the bus's service directory.
func startBus(t *testing.T) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the notification service is looked up on Linux only")
	}
	if _, err := exec.LookPath("dbus-daemon"); err != nil {
		t.Skip("dbus-daemon is not installed")
	}
	dir, err := os.MkdirTemp("", "lkbus") // short: a Unix socket path
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	services := filepath.Join(dir, "services")
	if err := os.Mkdir(services, 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "bus.conf")
	if err := os.WriteFile(cfg, []byte(strings.ReplaceAll(busConfig, "DIR", dir)), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("dbus-daemon", "--config-file="+cfg, "--nofork", "--nopidfile", "--print-address=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dbus-daemon: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("read the bus address: %v", err)
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", strings.TrimSpace(addr))
	return services
}

// TestNotificationService: notifications count as available only when the
// session bus has a notification service running or can start one; a
// session bus alone is not enough (issue 19 point 8).
func TestNotificationService(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	if runtime.GOOS == "linux" && notificationService(ctx) {
		t.Error("notifications available without a session bus")
	}
	services := startBus(t)
	if notificationService(ctx) {
		t.Error("notifications available on a session bus without a notification service")
	}

	// A running service.
	conn, err := dbus.ConnectSessionBus(dbus.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	if r, err := conn.RequestName(notifyName, dbus.NameFlagDoNotQueue); err != nil || r != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("own %s: %v %v", notifyName, r, err)
	}
	if !notificationService(ctx) {
		t.Error("notifications unavailable with a notification service running")
	}
	conn.Close()

	// A service the bus can start.
	unit := "[D-BUS Service]\nName=" + notifyName + "\nExec=/bin/false\n"
	if err := os.WriteFile(filepath.Join(services, notifyName+".service"), []byte(unit), 0o600); err != nil {
		t.Fatal(err)
	}
	// The bus rereads its service directory when asked.
	if c, err := dbus.ConnectSessionBus(dbus.WithContext(ctx)); err != nil {
		t.Fatal(err)
	} else {
		if err := c.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.ReloadConfig", 0).Err; err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	if !notificationService(ctx) {
		t.Error("notifications unavailable with an activatable notification service")
	}
}

// TestNotifierCaches: the bus is asked at most once a notifyCheckTTL.
func TestNotifierCaches(t *testing.T) {
	now := time.Date(2026, 6, 1, 14, 30, 0, 0, time.UTC)
	asked, answer := 0, false
	n := &notifier{now: func() time.Time { return now }, check: func(context.Context) bool { asked++; return answer }}
	if n.Available() || asked != 1 {
		t.Fatalf("first: asked %d times", asked)
	}
	answer = true
	now = now.Add(notifyCheckTTL - time.Second)
	if n.Available() || asked != 1 {
		t.Errorf("within the TTL: asked %d times, or the answer changed", asked)
	}
	now = now.Add(time.Second)
	if !n.Available() || asked != 2 {
		t.Errorf("after the TTL: asked %d times, want 2 and the new answer", asked)
	}
}
