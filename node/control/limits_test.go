package control_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lookout/node/api"
	"lookout/node/control"
	"lookout/node/control/controltest"
)

// serveWith serves a fake with the server s (its Backend set here) on a
// fresh socket.
func serveWith(t *testing.T, s *control.Server) string {
	t.Helper()
	sock := filepath.Join(controltest.Home(t), "lookout.sock")
	ln, err := control.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	s.Backend = new(controltest.Fake)
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		s.Close()
		<-done
	})
	return sock
}

// TestWatcherCap: past MaxWatchers open streams, a watch is refused with
// a clear error and the slot comes back when a stream ends.
func TestWatcherCap(t *testing.T) {
	sock := serveWith(t, &control.Server{MaxWatchers: 2})
	if _, err := control.NewClient(sock).CreateZone(t.Context(), "north"); err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}}}
	open := func(ctx context.Context) (*http.Response, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://lookout/v1/watch?zone=north", nil)
		return hc.Do(req)
	}
	var cancels []context.CancelFunc
	for i := range 2 {
		ctx, cancel := context.WithCancel(t.Context())
		cancels = append(cancels, cancel)
		resp, err := open(ctx)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("watch %d: %v %v", i, resp, err)
		}
		defer resp.Body.Close()
	}
	err := control.NewClient(sock).Watch(t.Context(), "north", func(api.Alert) error { return nil })
	if !errors.Is(err, control.ErrBusy) || !strings.Contains(err.Error(), "(2)") {
		t.Fatalf("third watch: %v; want ErrBusy naming the cap", err)
	}
	cancels[0]()
	// The slot comes back once the server sees the stream end.
	deadline := time.Now().Add(time.Minute)
	for {
		ctx, cancel := context.WithCancel(t.Context())
		resp, err := open(ctx)
		if err == nil && resp.StatusCode == http.StatusOK {
			resp.Body.Close()
			cancel()
			break
		}
		if resp != nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		cancel()
		if time.Now().After(deadline) {
			t.Fatal("no watch slot came back after a stream ended")
		}
		time.Sleep(10 * time.Millisecond) // polling the server's state, not synchronising
	}
	cancels[1]()
	hc.CloseIdleConnections()
}

// TestSlowBodyDropped: a client that sends headers and then holds the body
// back is disconnected after ReadTimeout.
func TestSlowBodyDropped(t *testing.T) {
	sock := serveWith(t, &control.Server{ReadTimeout: 200 * time.Millisecond})
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /v1/report HTTP/1.1\r\nHost: lookout\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
	c.SetReadDeadline(time.Now().Add(time.Minute)) // generous: load, not a bug
	start := time.Now()
	b, err := io.ReadAll(c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("the server kept a connection with a withheld body open for %v", time.Since(start))
	}
	if strings.Contains(string(b), "200 OK") {
		t.Errorf("the server answered a truncated body with %q", b)
	}
}

// TestIdleConnectionClosed: a connection that sends nothing is closed.
func TestIdleConnectionClosed(t *testing.T) {
	sock := serveWith(t, &control.Server{ReadTimeout: 200 * time.Millisecond, IdleTimeout: 200 * time.Millisecond})
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(time.Minute))
	if _, err := io.ReadAll(c); err != nil {
		t.Fatalf("idle connection not closed by the server: %v", err)
	}
}

// TestOversizedHeaderRefused: headers beyond the cap get 431.
func TestOversizedHeaderRefused(t *testing.T) {
	sock := serveWith(t, &control.Server{})
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET /v1/status HTTP/1.1\r\nHost: lookout\r\nX-Pad: %s\r\n\r\n", strings.Repeat("a", 64<<10))
	c.SetReadDeadline(time.Now().Add(time.Minute))
	b, _ := io.ReadAll(c)
	if !strings.Contains(string(b), "431") {
		t.Errorf("64 KiB of headers answered %q, want 431", firstLine(b))
	}
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(string(b), "\n")
	return s
}

// TestWatchOutlivesReadTimeout: the read timeout bounds requests, not
// watch streams, which stay open for as long as the client watches.
func TestWatchOutlivesReadTimeout(t *testing.T) {
	const readTimeout = 100 * time.Millisecond
	s := &control.Server{ReadTimeout: readTimeout}
	sock := serveWith(t, s)
	c := control.NewClient(sock)
	if _, err := c.CreateZone(t.Context(), "north"); err != nil {
		t.Fatal(err)
	}
	f := s.Backend.(*controltest.Fake)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	got := make(chan api.Alert, 1)
	done := make(chan error, 1)
	go func() {
		done <- c.Watch(ctx, "north", func(a api.Alert) error { got <- a; return nil })
	}()
	waitFor(t, "watch to start", func() bool { return f.Watchers() == 1 })
	time.Sleep(5 * readTimeout) // the duration under test, not a synchronisation
	if _, err := c.Report(t.Context(), api.ReportRequest{Zone: "north", What: "van", Where: "corner"}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-got:
	case err := <-done:
		t.Fatalf("watch ended after the read timeout: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("no alert on the watch stream")
	}
}
