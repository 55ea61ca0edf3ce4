package control_test

import (
	"context"
	"errors"
	"fmt"
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
	if *s.Confirmations != 2 || !s.Verified || s.State != "verified" || len(s.VerifiedBy) != 1 || s.VerifiedBy[0] != st.MemberID {
		t.Errorf("Confirm = %+v, want 2 confirmations, verified by %s", s, st.MemberID)
	}

	co, err := c.Callout(ctx, api.CalloutRequest{Zone: "north", Title: "Accompany family", Where: "school", Need: 5})
	if err != nil {
		t.Fatal(err)
	}
	if co.Kind != "callout" || co.State != "active" || co.Need != 5 || co.Needed != 5 || co.Responders == nil {
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
	if len(as) != 2 || as[0].ID != co.ID || as[1].ID != s.ID {
		t.Errorf("Alerts = %+v, want the callout, then the older sighting", as)
	}
	cl, err := c.Clear(ctx, s.ID, "vans left")
	if err != nil {
		t.Fatal(err)
	}
	if cl.State != "cleared" || cl.ClearReason != "retracted" || cl.ClearNote != "vans left" {
		t.Errorf("Clear of own sighting = %+v, want retracted", cl)
	}
	other, err := f.Receive(api.Alert{Zone: "north", Kind: "sighting", Where: "park", What: "car"})
	if err != nil {
		t.Fatal(err)
	}
	if cl, err = c.Clear(ctx, other.ID, ""); err != nil || cl.ClearReason != "allclear" {
		t.Errorf("Clear of another's sighting = %+v, %v; want all clear", cl, err)
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

// checkStatus checks err is a *ServerError with the given status.
func checkStatus(t *testing.T, name string, err error, status int) {
	t.Helper()
	se, ok := errors.AsType[*control.ServerError](err)
	if !ok || se.Status != status || se.Message == "" {
		t.Errorf("%s: error %v, want status %d with a message", name, err, status)
	}
}

func TestMembersPromoteRemove(t *testing.T) {
	f, c, sock := serve(t)
	ctx := t.Context()
	f.Self = api.Status{MemberID: "aaaa1111aaaa1111", Name: "Ana"}
	if _, err := c.CreateZone(ctx, "north"); err != nil {
		t.Fatal(err)
	}
	bob, err := f.AddMember("north", api.Member{Name: "Bob", CanRekey: true})
	if err != nil {
		t.Fatal(err)
	}
	carol, err := f.AddMember("north", api.Member{Name: "Carol"}) // key not seen
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.AddMember("north", api.Member{Name: "Dee", CanRekey: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.AddMember("north", api.Member{Name: "Dee", CanRekey: true}); err != nil {
		t.Fatal(err)
	}

	ms, err := c.Members(ctx, "north")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 5 || ms[0].Name != "Ana" || ms[0].Role != "organizer" || ms[1].Name != "Bob" || ms[1].Role != "member" || !ms[1].CanRekey || ms[2].CanRekey {
		t.Errorf("Members = %+v, want Ana (organizer) then Bob, Carol, Dee, Dee", ms)
	}
	hc := unixHTTP(sock)
	defer hc.CloseIdleConnections()
	if got := getBody(t, hc, "/v1/members?zone=north"); !strings.Contains(got, `"can_rekey":false`) || !strings.Contains(got, `"id":"`+carol.ID+`"`) {
		t.Errorf("GET /v1/members = %s", got)
	}

	m, err := c.Promote(ctx, "north", "Bob", "verifier")
	if err != nil {
		t.Fatal(err)
	}
	if m.ID != bob.ID || m.Role != "verifier" {
		t.Errorf("Promote Bob = %+v, want %s as verifier", m, bob.ID)
	}
	if m, err = c.Promote(ctx, "north", carol.ID[:8], "organizer"); err != nil || m.Name != "Carol" || m.Role != "organizer" {
		t.Errorf("Promote by ID prefix = %+v, %v; want Carol as organizer", m, err)
	}
	_, err = c.Promote(ctx, "north", "Bob", "member")
	checkStatus(t, "promote to member", err, 400)
	_, err = c.Promote(ctx, "north", "Dee", "verifier")
	checkStatus(t, "promote an ambiguous name", err, 400)
	_, err = c.Promote(ctx, "north", "Zed", "verifier")
	checkStatus(t, "promote an unknown member", err, 404)
	_, err = c.Promote(ctx, "south", "Bob", "verifier")
	checkStatus(t, "promote in an unknown zone", err, 404)

	res, err := c.Remove(ctx, "north", "Bob")
	if err != nil {
		t.Fatal(err)
	}
	if res.Removed != bob.ID || res.Epoch != 1 || res.Reached != 3 || len(res.Unreached) != 1 || res.Unreached[0] != carol.ID {
		t.Errorf("Remove Bob = %+v, want epoch 1, reached 3 (Ana, Dee, Dee), Carol unreached", res)
	}
	if zs, _ := c.Zones(ctx); len(zs) != 1 || zs[0].Epoch != 1 {
		t.Errorf("Zones after removal = %+v, want epoch 1", zs)
	}
	ms, err = c.Members(ctx, "north")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Removed != (m.ID == bob.ID) {
			t.Errorf("after removing Bob: member %+v", m)
		}
	}
	_, err = c.Remove(ctx, "north", bob.ID)
	checkStatus(t, "remove twice", err, 400)
	_, err = c.Remove(ctx, "north", "Ana")
	checkStatus(t, "remove yourself", err, 400)
	_, err = c.Promote(ctx, "north", "Bob", "verifier")
	checkStatus(t, "promote a removed member", err, 400)

	// Everyone reached: unreached is [], not null.
	if _, err := c.Remove(ctx, "north", "Carol"); err != nil {
		t.Fatal(err)
	}
	body := postBody(t, hc, "/v1/remove", `{"zone":"north","member":"`+ms[len(ms)-1].ID+`"}`)
	if !strings.Contains(body, `"unreached":[]`) || !strings.Contains(body, `"epoch":3`) {
		t.Errorf("POST /v1/remove = %s, want epoch 3 and unreached []", body)
	}

	// A verifier may list members but not manage them.
	if err := f.SetRole("north", "verifier"); err != nil {
		t.Fatal(err)
	}
	if ms, err := c.Members(ctx, "north"); err != nil || ms[0].Name != "Carol" || ms[1].Name != "Ana" || ms[1].Role != "verifier" {
		t.Errorf("Members as verifier = %+v, %v", ms, err)
	}
	_, err = c.Promote(ctx, "north", "Dee", "verifier")
	checkStatus(t, "promote as verifier", err, 403)
	_, err = c.Remove(ctx, "north", ms[len(ms)-1].ID)
	checkStatus(t, "remove as verifier", err, 403)
}

func TestSettings(t *testing.T) {
	f, c, sock := serve(t)
	ctx := t.Context()
	if _, err := c.CreateZone(ctx, "north"); err != nil {
		t.Fatal(err)
	}
	st, err := c.Settings(ctx, "north")
	if err != nil {
		t.Fatal(err)
	}
	want := api.Settings{Quorum: 2, Window: api.Duration(20 * time.Minute), Expiry: api.Duration(4 * time.Hour), MaxReports: 10, MaxConfirms: 30, AutoShare: "none"}
	if st != want {
		t.Errorf("Settings = %+v, want defaults %+v", st, want)
	}
	quorum, window, cosign, reports := 3, 30*time.Minute, true, 2
	st, err = c.SetSettings(ctx, api.SettingsRequest{Zone: "north", Quorum: &quorum, Window: &window, Cosign: &cosign, MaxReports: &reports})
	if err != nil {
		t.Fatal(err)
	}
	want.Quorum, want.Window, want.Cosign, want.MaxReports = 3, api.Duration(window), true, 2
	if st != want {
		t.Errorf("SetSettings = %+v, want %+v", st, want)
	}
	if got, _ := c.Settings(ctx, "north"); got != want {
		t.Errorf("Settings after change = %+v, want %+v", got, want)
	}
	hc := unixHTTP(sock)
	defer hc.CloseIdleConnections()
	if got := getBody(t, hc, "/v1/settings?zone=north"); !strings.Contains(got, `"window":"30m0s"`) || !strings.Contains(got, `"cosign":true`) {
		t.Errorf("GET /v1/settings = %s", got)
	}

	// The settings apply: two reports in ten minutes, and callouts await
	// a second organizer.
	for i := range 3 {
		_, err := c.Report(ctx, api.ReportRequest{Zone: "north", What: "van", Where: fmt.Sprint("corner ", i)})
		if i < 2 && err != nil {
			t.Fatal(err)
		}
		if i == 2 {
			checkStatus(t, "third report", err, 403)
		}
	}
	co, err := c.Callout(ctx, api.CalloutRequest{Zone: "north", Title: "t", Where: "w"})
	if err != nil || co.State != "awaiting-cosign" {
		t.Errorf("Callout with cosign on = %+v, %v; want awaiting-cosign", co, err)
	}

	zero, short := 0, 30*time.Second
	_, err = c.SetSettings(ctx, api.SettingsRequest{Zone: "north", Quorum: &zero})
	checkStatus(t, "quorum 0", err, 400)
	_, err = c.SetSettings(ctx, api.SettingsRequest{Zone: "north", Window: &short})
	checkStatus(t, "window 30s", err, 400)
	_, err = c.SetSettings(ctx, api.SettingsRequest{Zone: "south", Quorum: &quorum})
	checkStatus(t, "unknown zone", err, 404)
	if err := f.SetRole("north", "member"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Settings(ctx, "north"); err != nil {
		t.Errorf("Settings as member: %v", err)
	}
	_, err = c.SetSettings(ctx, api.SettingsRequest{Zone: "north", Quorum: &quorum})
	checkStatus(t, "set settings as member", err, 403)
}

func TestCalloutUpdateAndCosign(t *testing.T) {
	f, c, _ := serve(t)
	ctx := t.Context()
	if _, err := c.CreateZone(ctx, "north"); err != nil {
		t.Fatal(err)
	}
	cosign := true
	if _, err := c.SetSettings(ctx, api.SettingsRequest{Zone: "north", Cosign: &cosign}); err != nil {
		t.Fatal(err)
	}
	own, err := c.Callout(ctx, api.CalloutRequest{Zone: "north", Title: "Accompany family", Where: "school", When: "15:30", Need: 5, Bring: "phone"})
	if err != nil {
		t.Fatal(err)
	}
	up, err := c.UpdateCallout(ctx, api.CalloutUpdateRequest{Alert: own.ID, Where: "library", Need: 8})
	if err != nil {
		t.Fatal(err)
	}
	if up.ID != own.ID || up.Where != "library" || up.Need != 8 || up.Needed != 8 || up.Title != "Accompany family" || up.When != "15:30" || up.Bring != "phone" {
		t.Errorf("UpdateCallout = %+v, want where and need changed, the rest kept", up)
	}
	_, err = c.Cosign(ctx, own.ID)
	checkStatus(t, "cosign own callout", err, 400)
	if err != nil && !strings.Contains(err.Error(), "second organizer") {
		t.Errorf("cosign own callout: %v, want it to name a second organizer", err)
	}

	theirs, err := f.Receive(api.Alert{Zone: "north", Kind: "callout", Sender: "bbbb2222bbbb2222", SenderRole: "organizer", Title: "Witness", Where: "plaza", Need: 3})
	if err != nil {
		t.Fatal(err)
	}
	if theirs.State != "awaiting-cosign" {
		t.Errorf("received callout state %q, want awaiting-cosign", theirs.State)
	}
	a, err := c.Cosign(ctx, theirs.ID[:8])
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != theirs.ID || a.State != "active" || !a.Cosigned || len(a.Cosigners) != 1 || a.Cosigners[0] != f.Status().MemberID {
		t.Errorf("Cosign = %+v, want active, co-signed by this member", a)
	}
	_, err = c.Cosign(ctx, theirs.ID)
	checkStatus(t, "cosign twice", err, 400)
	_, err = c.Cosign(ctx, "nope")
	checkStatus(t, "cosign unknown alert", err, 404)

	s, err := c.Report(ctx, api.ReportRequest{Zone: "north", What: "van", Where: "corner"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.UpdateCallout(ctx, api.CalloutUpdateRequest{Alert: s.ID, Title: "x"})
	checkStatus(t, "update a sighting", err, 400)
	_, err = c.Cosign(ctx, s.ID)
	checkStatus(t, "cosign a sighting", err, 400)

	if err := f.SetRole("north", "verifier"); err != nil {
		t.Fatal(err)
	}
	_, err = c.UpdateCallout(ctx, api.CalloutUpdateRequest{Alert: own.ID, Title: "x"})
	checkStatus(t, "update as verifier", err, 403)
	_, err = c.Cosign(ctx, own.ID)
	checkStatus(t, "cosign as verifier", err, 403)

	if err := f.SetRole("north", "organizer"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Clear(ctx, own.ID, ""); err != nil {
		t.Fatal(err)
	}
	_, err = c.UpdateCallout(ctx, api.CalloutUpdateRequest{Alert: own.ID, Title: "x"})
	checkStatus(t, "update an ended callout", err, 400)
}

func TestIncident(t *testing.T) {
	f, c, _ := serve(t)
	ctx := t.Context()
	if _, err := c.CreateZone(ctx, "north"); err != nil {
		t.Fatal(err)
	}
	a, err := c.Report(ctx, api.ReportRequest{Zone: "north", What: "2 vans", Where: "Jane & Finch"})
	if err != nil {
		t.Fatal(err)
	}
	if a.State != "unconfirmed" || a.Incident != a.ID || len(a.Sightings) != 1 {
		t.Errorf("first report = %+v, want unconfirmed, its own incident", a)
	}
	b, err := c.Report(ctx, api.ReportRequest{Zone: "north", What: "agents", Where: "jane  & finch."})
	if err != nil {
		t.Fatal(err)
	}
	if b.ID != a.ID || len(b.Sightings) != 2 || *b.Confirmations != 2 || b.State != "corroborated" || b.Verified {
		t.Errorf("second report of the place = %+v, want it in the first's incident, corroborated", b)
	}
	// Confirming by the second sighting's ID confirms the incident.
	if err := f.SetRole("north", "member"); err != nil {
		t.Fatal(err)
	}
	v, err := c.Confirm(ctx, b.Sightings[1])
	if err != nil {
		t.Fatal(err)
	}
	if v.ID != a.ID || *v.Confirmations != 3 || v.State != "corroborated" {
		t.Errorf("member's confirm = %+v, want 3 witnesses, still corroborated", v)
	}
	if as, _ := c.Alerts(ctx, "north"); len(as) != 1 {
		t.Errorf("Alerts = %+v, want one incident card", as)
	}
	drill, err := c.Report(ctx, api.ReportRequest{Zone: "north", What: "van", Where: "Jane & Finch", Exercise: true})
	if err != nil || drill.ID == a.ID {
		t.Errorf("drill report of the same place = %+v, %v; want a card of its own", drill, err)
	}
}

func TestNewRoutesRequireFields(t *testing.T) {
	_, c, sock := serve(t)
	ctx := t.Context()
	_, err := c.Members(ctx, "")
	checkStatus(t, "members without zone", err, 400)
	_, err = c.Promote(ctx, "north", "", "verifier")
	checkStatus(t, "promote without member", err, 400)
	_, err = c.Promote(ctx, "north", "Bob", "")
	checkStatus(t, "promote without role", err, 400)
	_, err = c.Remove(ctx, "", "Bob")
	checkStatus(t, "remove without zone", err, 400)
	_, err = c.Settings(ctx, "")
	checkStatus(t, "settings without zone", err, 400)
	_, err = c.SetSettings(ctx, api.SettingsRequest{})
	checkStatus(t, "set settings without zone", err, 400)
	_, err = c.UpdateCallout(ctx, api.CalloutUpdateRequest{Title: "x"})
	checkStatus(t, "update without alert", err, 400)
	_, err = c.Cosign(ctx, "")
	checkStatus(t, "cosign without alert", err, 400)
	_, err = c.Members(ctx, "south")
	checkStatus(t, "members of unknown zone", err, 404)
	_, err = c.Settings(ctx, "south")
	checkStatus(t, "settings of unknown zone", err, 404)

	hc := unixHTTP(sock)
	defer hc.CloseIdleConnections()
	for _, tc := range []struct{ method, path string }{
		{"GET", "/v1/promote"}, {"GET", "/v1/remove"}, {"GET", "/v1/cosign"}, {"GET", "/v1/callout/update"}, {"POST", "/v1/members"},
	} {
		req, err := http.NewRequest(tc.method, "http://lookout"+tc.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s %s: status %d, want 405", tc.method, tc.path, resp.StatusCode)
		}
	}
}

func getBody(t *testing.T, hc *http.Client, path string) string {
	t.Helper()
	resp, err := hc.Get("http://lookout" + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func postBody(t *testing.T, hc *http.Client, path, body string) string {
	t.Helper()
	resp, err := hc.Post("http://lookout"+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestLinks: the link routes round-trip through the client, and missing
// fields are 400s.
func TestLinks(t *testing.T) {
	_, c, _ := serve(t)
	ctx := t.Context()
	for _, z := range []string{"north", "south"} {
		if _, err := c.CreateZone(ctx, z); err != nil {
			t.Fatal(err)
		}
	}
	o, err := c.LinkOffer(ctx, api.LinkOfferRequest{Zone: "north", Name: "Parkdale"})
	if err != nil || o.Code == "" || o.Name != "Parkdale" {
		t.Fatalf("LinkOffer = %+v, %v", o, err)
	}
	l, err := c.AcceptLink(ctx, api.AcceptLinkRequest{Zone: "south", Code: o.Code})
	if err != nil || l.Peer != "Parkdale" || l.State != "active" {
		t.Fatalf("AcceptLink = %+v, %v", l, err)
	}
	_, err = c.AcceptLink(ctx, api.AcceptLinkRequest{Zone: "south", Code: o.Code})
	checkStatus(t, "accept a used code", err, 400)
	ls, err := c.Links(ctx, "south")
	if err != nil || len(ls) != 1 || ls[0].ID != l.ID {
		t.Fatalf("Links = %+v, %v", ls, err)
	}
	_, err = c.Links(ctx, "west")
	checkStatus(t, "links of an unknown zone", err, 404)
	_, err = c.LinkOffer(ctx, api.LinkOfferRequest{})
	checkStatus(t, "offer without zone", err, 400)
	_, err = c.AcceptLink(ctx, api.AcceptLinkRequest{Zone: "south"})
	checkStatus(t, "accept without code", err, 400)
	_, err = c.Unlink(ctx, "south", "")
	checkStatus(t, "unlink without link", err, 400)
	_, err = c.Share(ctx, api.ShareRequest{})
	checkStatus(t, "share without alert", err, 400)
	if _, err := c.Unlink(ctx, "south", "Parkdale"); err != nil {
		t.Fatal(err)
	}
}

// problematic fails every Report with an api.Problem, wrapped in context.
type problematic struct{ *controltest.Fake }

func (problematic) Report(context.Context, api.ReportRequest) (api.Alert, error) {
	return api.Alert{}, fmt.Errorf("report: %w", api.Fail(api.ErrForbidden, "zone.removed", "Zone", api.Quote("north")))
}

// TestProblemCarried: a Problem's message ID and fields cross the socket
// next to its English text, so the client can say it in another language;
// an error without one carries neither.
func TestProblemCarried(t *testing.T) {
	f, c, _ := serve(t)
	sock := filepath.Join(controltest.Home(t), "lookout.sock")
	controltest.Serve(t, problematic{f}, sock)
	_, err := control.NewClient(sock).Report(t.Context(), api.ReportRequest{Zone: "north", What: "x", Where: "y"})
	if want := `report: not allowed: you were removed from zone "north"`; err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
	p, ok := errors.AsType[*api.Problem](err)
	if !ok {
		t.Fatalf("error %v carries no Problem", err)
	}
	if p.ID != "zone.removed" || p.Args["Zone"] != `"north"` || !errors.Is(p, control.ErrForbidden) {
		t.Errorf("Problem = %+v, want zone.removed, Zone \"north\", forbidden", p)
	}
	hc := unixHTTP(sock)
	body := postBody(t, hc, "/v1/report", `{"zone":"north","what":"x","where":"y"}`)
	if want := `{"error":"report: not allowed: you were removed from zone \"north\"","id":"zone.removed","args":{"Zone":"\"north\""}}`; strings.TrimSpace(body) != want {
		t.Errorf("body %s, want %s", body, want)
	}

	_, err = c.Alerts(t.Context(), "")
	if p, ok := errors.AsType[*api.Problem](err); !ok || p.ID != "field.required" || p.Args["Field"] != "zone" {
		t.Errorf("a missing zone answers %v (Problem %+v), want field.required", err, p)
	}
	_, err = c.Alerts(t.Context(), "south")
	if _, ok := errors.AsType[*api.Problem](err); ok || err == nil {
		t.Errorf("the fake's plain error %v arrives as a Problem", err)
	}
}
