package control_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"lookout/node/api"
	"lookout/node/control"
	"lookout/node/control/controltest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// serve serves a fake on a fresh socket and returns a client for it.
func serve(t *testing.T) (*controltest.Fake, *control.Client, string) {
	t.Helper()
	f := new(controltest.Fake)
	sock := filepath.Join(controltest.Home(t), "lookout.sock")
	controltest.Serve(t, f, sock)
	return f, control.NewClient(sock), sock
}

func TestRoundTrip(t *testing.T) {
	f, c, _ := serve(t)
	ctx := t.Context()

	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := f.Status(); st.PeerID != want.PeerID || st.MemberID != want.MemberID || len(st.Addrs) != 1 {
		t.Errorf("Status = %+v, want %+v", st, want)
	}

	z, err := c.CreateZone(ctx, "north")
	if err != nil {
		t.Fatal(err)
	}
	if z.Name != "north" || z.ID == "" || z.Role != "organizer" {
		t.Errorf("CreateZone = %+v", z)
	}
	zs, err := c.Zones(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(zs) != 1 || zs[0].ID != z.ID {
		t.Errorf("Zones = %+v, want [%+v]", zs, z)
	}

	inv, err := c.Invite(ctx, api.InviteRequest{Zone: "north", Role: "verifier", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if inv.Code == "" || time.Until(inv.Expires) < 59*time.Minute {
		t.Errorf("Invite = %+v", inv)
	}
	jz, err := c.Join(ctx, inv.Code)
	if err != nil {
		t.Fatal(err)
	}
	if jz.ID != z.ID || jz.Role != "verifier" {
		t.Errorf("Join = %+v, want zone %s as verifier", jz, z.ID)
	}
	if err := f.SetRole("north", "organizer"); err != nil {
		t.Fatal(err)
	}

	s, err := c.Report(ctx, api.ReportRequest{Zone: z.ID, What: "2 vans", Where: "Jane & Finch", Size: 4, Uniform: "CBSA jackets", Exercise: true})
	if err != nil {
		t.Fatal(err)
	}
	if s.Kind != "sighting" || s.Where != "Jane & Finch" || s.Size != 4 || !s.Exercise || s.ZoneName != "north" || *s.Confirmations != 1 {
		t.Errorf("Report = %+v", s)
	}
	s, err = c.Confirm(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if *s.Confirmations != 2 || !s.Verified {
		t.Errorf("Confirm = %+v, want 2 confirmations, verified", s)
	}

	co, err := c.Callout(ctx, api.CalloutRequest{Zone: "north", Title: "Accompany family", Where: "school", Need: 5})
	if err != nil {
		t.Fatal(err)
	}
	if co.Kind != "callout" || co.Need != 5 || co.Responders == nil {
		t.Errorf("Callout = %+v", co)
	}
	co, err = c.Respond(ctx, co.ID, "enroute")
	if err != nil {
		t.Fatal(err)
	}
	if co.Responders.EnRoute != 1 {
		t.Errorf("Respond: responders = %+v, want 1 en route", co.Responders)
	}

	as, err := c.Alerts(ctx, "north")
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 2 || as[0].ID != s.ID || as[1].ID != co.ID {
		t.Errorf("Alerts = %+v, want the sighting and the callout", as)
	}
	cl, err := c.Clear(ctx, s.ID, "vans left")
	if err != nil {
		t.Fatal(err)
	}
	if cl.State != "cleared" || cl.ClearReason != "allclear" || cl.ClearNote != "vans left" {
		t.Errorf("Clear = %+v", cl)
	}
	as, err = c.Alerts(ctx, "north")
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 1 || as[0].ID != co.ID {
		t.Errorf("Alerts after clear = %+v, want only the callout", as)
	}
}

func TestEmptyListsAreArrays(t *testing.T) {
	_, c, sock := serve(t)
	hc := unixHTTP(sock)
	defer hc.CloseIdleConnections()
	resp, err := hc.Get("http://lookout/v1/zones")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(b)); got != "[]" {
		t.Errorf("GET /v1/zones = %q, want []", got)
	}
	zs, err := c.Zones(t.Context())
	if err != nil || zs == nil {
		t.Errorf("Zones = %#v, %v; want empty, non-nil", zs, err)
	}
}

// failing fails every Report with an unclassified error.
type failing struct{ *controltest.Fake }

func (failing) Report(context.Context, api.ReportRequest) (api.Alert, error) {
	return api.Alert{}, errors.New("publish sighting: disk on fire")
}

func TestErrors(t *testing.T) {
	f, c, _ := serve(t)
	ctx := t.Context()
	if _, err := c.CreateZone(ctx, "north"); err != nil {
		t.Fatal(err)
	}

	check := func(name string, err error, status int, sentinel error) {
		t.Helper()
		se, ok := errors.AsType[*control.ServerError](err)
		if !ok {
			t.Errorf("%s: error %v is not a *ServerError", name, err)
			return
		}
		if se.Status != status || (sentinel != nil && !errors.Is(err, sentinel)) {
			t.Errorf("%s: error %q has status %d, want %d (%v)", name, err, se.Status, status, sentinel)
		}
		if se.Message == "" {
			t.Errorf("%s: empty message", name)
		}
	}
	_, err := c.Report(ctx, api.ReportRequest{Zone: "south", What: "x", Where: "y"})
	check("unknown zone", err, 404, control.ErrNotFound)
	_, err = c.Confirm(ctx, "nope")
	check("unknown alert", err, 404, control.ErrNotFound)
	_, err = c.Alerts(ctx, "south")
	check("alerts of unknown zone", err, 404, control.ErrNotFound)
	_, err = c.Join(ctx, "garbage")
	check("bad invite", err, 400, control.ErrInvalid)
	_, err = c.Join(ctx, "")
	check("empty invite", err, 400, control.ErrInvalid)
	_, err = c.Alerts(ctx, "")
	check("alerts without zone", err, 400, control.ErrInvalid)
	err = c.Watch(ctx, "south", func(api.Alert) error { return nil })
	check("watch unknown zone", err, 404, control.ErrNotFound)

	co, err := c.Callout(ctx, api.CalloutRequest{Zone: "north", Title: "t", Where: "w"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Respond(ctx, co.ID, "maybe")
	check("bad response status", err, 400, control.ErrInvalid)
	if err := f.SetRole("north", "member"); err != nil {
		t.Fatal(err)
	}
	_, err = c.Callout(ctx, api.CalloutRequest{Zone: "north", Title: "t", Where: "w"})
	check("callout by member", err, 403, control.ErrForbidden)
	if errors.Is(err, control.ErrNotFound) {
		t.Errorf("403 error matches ErrNotFound")
	}

	sock := filepath.Join(controltest.Home(t), "lookout.sock")
	controltest.Serve(t, failing{f}, sock)
	_, err = control.NewClient(sock).Report(ctx, api.ReportRequest{Zone: "north", What: "x", Where: "y"})
	check("backend failure", err, 500, nil)
	if !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("500 error %q lacks the backend's text", err)
	}
}

func TestBadRequests(t *testing.T) {
	_, _, sock := serve(t)
	hc := unixHTTP(sock)
	defer hc.CloseIdleConnections()
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
	}{
		{"malformed json", "POST", "/v1/report", `{"zone":`, 400},
		{"empty body", "POST", "/v1/zones", ``, 400},
		{"two values", "POST", "/v1/zones", `{"name":"a"} {"name":"b"}`, 400},
		{"too large", "POST", "/v1/zones", `{"name":"` + strings.Repeat("a", 70<<10) + `"}`, 413},
		{"unknown route", "GET", "/v1/nope", ``, 404},
		{"wrong method", "GET", "/v1/report", ``, 405},
	} {
		req, err := http.NewRequest(tc.method, "http://lookout"+tc.path, strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, resp.StatusCode, tc.status)
		}
	}
}

func TestSocketMode(t *testing.T) {
	_, _, sock := serve(t)
	fi, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode = %v, want socket with 0600", fi.Mode())
	}
}

func TestNoNode(t *testing.T) {
	home := controltest.Home(t)
	sock := filepath.Join(home, "lookout.sock")
	_, err := control.NewClient(sock).Status(t.Context())
	if !errors.Is(err, control.ErrNoNode) {
		t.Errorf("Status without socket: %v, want ErrNoNode", err)
	}

	// A stale socket file: nothing answers on it.
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	if _, err := os.Stat(sock); err != nil {
		t.Fatal(err)
	}
	_, err = control.NewClient(sock).Zones(t.Context())
	if !errors.Is(err, control.ErrNoNode) {
		t.Errorf("Zones on stale socket: %v, want ErrNoNode", err)
	}
	err = control.NewClient(sock).Watch(t.Context(), "north", func(api.Alert) error { return nil })
	if !errors.Is(err, control.ErrNoNode) {
		t.Errorf("Watch on stale socket: %v, want ErrNoNode", err)
	}

	// Listen replaces the stale socket.
	controltest.Serve(t, new(controltest.Fake), sock)
	if _, err := control.NewClient(sock).Status(t.Context()); err != nil {
		t.Errorf("Status after replacing stale socket: %v", err)
	}
}

func TestListenRefusesRunningNode(t *testing.T) {
	_, _, sock := serve(t)
	_, err := control.Listen(sock)
	want := "another lookout node is already running with home " + filepath.Dir(sock)
	if err == nil || err.Error() != want {
		t.Errorf("second Listen: %v, want %q", err, want)
	}
	if _, err := os.Stat(sock); err != nil {
		t.Errorf("running node's socket is gone: %v", err)
	}
}

func TestListenRefusesNonSocket(t *testing.T) {
	sock := filepath.Join(controltest.Home(t), "lookout.sock")
	if err := os.WriteFile(sock, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	if ln, err := control.Listen(sock); err == nil {
		ln.Close()
		t.Fatal("Listen over a regular file succeeded")
	}
	if b, err := os.ReadFile(sock); err != nil || string(b) != "keep me" {
		t.Errorf("regular file changed: %q, %v", b, err)
	}
}

func TestListenLongPath(t *testing.T) {
	_, err := control.Listen("/tmp/" + strings.Repeat("x", 120) + "/lookout.sock")
	if err == nil || !strings.Contains(err.Error(), "too long") && !strings.Contains(err.Error(), "limit") {
		t.Errorf("Listen on a long path: %v", err)
	}
}

func TestWatch(t *testing.T) {
	f, c, _ := serve(t)
	if _, err := c.CreateZone(t.Context(), "north"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	got := make(chan api.Alert)
	done := make(chan error, 1)
	go func() {
		done <- c.Watch(ctx, "north", func(a api.Alert) error {
			got <- a
			return nil
		})
	}()
	waitFor(t, "watch to start", func() bool { return f.Watchers() == 1 })

	a, err := c.Report(t.Context(), api.ReportRequest{Zone: "north", What: "van", Where: "corner"})
	if err != nil {
		t.Fatal(err)
	}
	if w := recv(t, got); w.ID != a.ID || w.Kind != "sighting" || w.What != "van" {
		t.Errorf("watched %+v, want the sighting %s", w, a.ID)
	}
	if _, err := c.Confirm(t.Context(), a.ID); err != nil {
		t.Fatal(err)
	}
	if w := recv(t, got); w.ID != a.ID || *w.Confirmations != 2 {
		t.Errorf("watched %+v, want the confirmed sighting", w)
	}

	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Watch after cancel: %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Watch did not return after cancel")
	}
	waitFor(t, "watch to end at the backend", func() bool { return f.Watchers() == 0 })
}

func TestWatchCallbackError(t *testing.T) {
	f, c, _ := serve(t)
	if _, err := c.CreateZone(t.Context(), "north"); err != nil {
		t.Fatal(err)
	}
	stop := errors.New("stop")
	done := make(chan error, 1)
	go func() { done <- c.Watch(t.Context(), "north", func(api.Alert) error { return stop }) }()
	waitFor(t, "watch to start", func() bool { return f.Watchers() == 1 })
	if _, err := c.Report(t.Context(), api.ReportRequest{Zone: "north", What: "van", Where: "corner"}); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != stop {
		t.Errorf("Watch = %v, want the callback's error", err)
	}
	waitFor(t, "watch to end at the backend", func() bool { return f.Watchers() == 0 })
}

func TestCloseEndsWatch(t *testing.T) {
	f := new(controltest.Fake)
	if _, err := f.CreateZone(t.Context(), "north"); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(controltest.Home(t), "lookout.sock")
	ln, err := control.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	s := &control.Server{Backend: f}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()

	watched := make(chan error, 1)
	go func() {
		watched <- control.NewClient(sock).Watch(t.Context(), "north", func(api.Alert) error { return nil })
	}()
	waitFor(t, "watch to start", func() bool { return f.Watchers() == 1 })
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve after Close = %v, want nil", err)
	}
	if err := <-watched; err == nil || !strings.Contains(err.Error(), "ended the stream") {
		t.Errorf("Watch after Close = %v, want the stream ended", err)
	}
	if f.Watchers() != 0 {
		t.Errorf("%d watchers left after Close", f.Watchers())
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("socket left after Close: %v", err)
	}
}

func TestServeReturnsNilWhenListenerCloses(t *testing.T) {
	ln, err := control.Listen(filepath.Join(controltest.Home(t), "lookout.sock"))
	if err != nil {
		t.Fatal(err)
	}
	s := &control.Server{Backend: new(controltest.Fake)}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	time.Sleep(10 * time.Millisecond)
	ln.Close()
	if err := <-served; err != nil {
		t.Errorf("Serve = %v, want nil", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func TestCloseBeforeServe(t *testing.T) {
	ln, err := control.Listen(filepath.Join(controltest.Home(t), "lookout.sock"))
	if err != nil {
		t.Fatal(err)
	}
	s := &control.Server{Backend: new(controltest.Fake)}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(ln); err != nil {
		t.Errorf("Serve after Close = %v, want nil", err)
	}
}

func unixHTTP(sock string) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
	}}
}

func recv(t *testing.T, ch <-chan api.Alert) api.Alert {
	t.Helper()
	select {
	case a := <-ch:
		return a
	case <-time.After(10 * time.Second):
		t.Fatal("no alert on the watch stream")
		return api.Alert{}
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
