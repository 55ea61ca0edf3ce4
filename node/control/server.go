package control

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"lookout/node/api"
)

// maxBody caps request bodies.
const maxBody = 64 << 10

// maxHeader caps request headers.
const maxHeader = 8 << 10

// Defaults of the Server's limits.
const (
	DefaultMaxWatchers = 16
	DefaultReadTimeout = 30 * time.Second // a whole request, body included
	DefaultIdleTimeout = 30 * time.Second
	// watchWriteTimeout bounds each write of a watch stream: a client that
	// stops reading is dropped instead of holding the stream.
	watchWriteTimeout = 30 * time.Second
)

// ErrBusy is answered (503) when the node already serves MaxWatchers
// watch streams.
var ErrBusy = errors.New("too many open watch streams")

// Server serves the control API for a Backend.
type Server struct {
	Backend Backend
	Logger  *slog.Logger // nil discards logs
	// MaxWatchers caps concurrent watch streams; zero means
	// DefaultMaxWatchers.
	MaxWatchers int
	// ReadTimeout and IdleTimeout bound reading a request and an idle
	// connection; zero means the defaults.
	ReadTimeout, IdleTimeout time.Duration

	once     sync.Once
	srv      *http.Server
	stopping context.Context // done once Close starts; ends watch streams
	stop     context.CancelFunc
	watchers chan struct{} // a slot per open watch stream
}

func (s *Server) init() {
	s.once.Do(func() {
		if s.Logger == nil {
			s.Logger = slog.New(slog.DiscardHandler)
		}
		s.stopping, s.stop = context.WithCancel(context.Background())
		s.watchers = make(chan struct{}, cmp.Or(s.MaxWatchers, DefaultMaxWatchers))
		s.srv = &http.Server{
			Handler:           s.routes(),
			ReadHeaderTimeout: min(10*time.Second, cmp.Or(s.ReadTimeout, DefaultReadTimeout)),
			ReadTimeout:       cmp.Or(s.ReadTimeout, DefaultReadTimeout),
			IdleTimeout:       cmp.Or(s.IdleTimeout, DefaultIdleTimeout),
			MaxHeaderBytes:    maxHeader,
			ErrorLog:          slog.NewLogLogger(s.Logger.Handler(), slog.LevelWarn),
		}
	})
}

// Serve serves the API on ln until Close is called or ln is closed; then it
// returns nil.
func (s *Server) Serve(ln net.Listener) error {
	s.init()
	err := s.srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return fmt.Errorf("serve control api: %w", err)
}

// Close stops accepting calls, ends watch streams and waits up to five
// seconds for calls in flight to finish.
func (s *Server) Close() error {
	s.init()
	s.stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		s.srv.Close()
		return fmt.Errorf("shut down control api: %w", err)
	}
	return nil
}

func (s *Server) routes() http.Handler {
	b := s.Backend
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/status", func(w http.ResponseWriter, r *http.Request) {
		s.reply(w, b.Status())
	})
	mux.HandleFunc("GET /v1/zones", func(w http.ResponseWriter, r *http.Request) {
		s.reply(w, nonNil(b.Zones()))
	})
	mux.HandleFunc("POST /v1/zones", handle(s, func(ctx context.Context, req api.CreateZoneRequest) (api.Zone, error) {
		if err := required("zone name", req.Name); err != nil {
			return api.Zone{}, err
		}
		return b.CreateZone(ctx, req.Name)
	}))
	mux.HandleFunc("POST /v1/zones/leave", handle(s, func(ctx context.Context, req api.LeaveZoneRequest) (api.Zone, error) {
		if err := required("zone", req.Zone); err != nil {
			return api.Zone{}, err
		}
		return b.LeaveZone(ctx, req.Zone)
	}))
	mux.HandleFunc("POST /v1/invites", handle(s, func(ctx context.Context, req api.InviteRequest) (api.InviteResponse, error) {
		if err := required("zone", req.Zone); err != nil {
			return api.InviteResponse{}, err
		}
		return b.Invite(ctx, req)
	}))
	mux.HandleFunc("POST /v1/join", handle(s, func(ctx context.Context, req api.JoinRequest) (api.Zone, error) {
		if err := required("invite code", req.Code); err != nil {
			return api.Zone{}, err
		}
		return b.Join(ctx, req.Code)
	}))
	mux.HandleFunc("POST /v1/report", handle(s, func(ctx context.Context, req api.ReportRequest) (api.Alert, error) {
		if err := required("zone", req.Zone); err != nil {
			return api.Alert{}, err
		}
		return b.Report(ctx, req)
	}))
	mux.HandleFunc("POST /v1/callout", handle(s, func(ctx context.Context, req api.CalloutRequest) (api.Alert, error) {
		if err := required("zone", req.Zone); err != nil {
			return api.Alert{}, err
		}
		return b.Callout(ctx, req)
	}))
	mux.HandleFunc("POST /v1/confirm", handle(s, func(ctx context.Context, req api.ConfirmRequest) (api.Alert, error) {
		if err := required("alert", req.Alert); err != nil {
			return api.Alert{}, err
		}
		return b.Confirm(ctx, req.Alert)
	}))
	mux.HandleFunc("POST /v1/respond", handle(s, func(ctx context.Context, req api.RespondRequest) (api.Alert, error) {
		if err := required("alert", req.Alert); err != nil {
			return api.Alert{}, err
		}
		return b.Respond(ctx, req.Alert, req.Status)
	}))
	mux.HandleFunc("POST /v1/clear", handle(s, func(ctx context.Context, req api.ClearRequest) (api.Alert, error) {
		if err := required("alert", req.Alert); err != nil {
			return api.Alert{}, err
		}
		return b.Clear(ctx, req.Alert, req.Reason)
	}))
	mux.HandleFunc("GET /v1/alerts", func(w http.ResponseWriter, r *http.Request) {
		zone := r.URL.Query().Get("zone")
		if err := required("zone", zone); err != nil {
			s.fail(w, r, err)
			return
		}
		alerts, err := b.Alerts(zone)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.reply(w, nonNil(alerts))
	})
	mux.HandleFunc("GET /v1/watch", s.watch)
	mux.HandleFunc("GET /v1/members", func(w http.ResponseWriter, r *http.Request) {
		zone := r.URL.Query().Get("zone")
		if err := required("zone", zone); err != nil {
			s.fail(w, r, err)
			return
		}
		ms, err := b.Members(zone)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.reply(w, nonNil(ms))
	})
	mux.HandleFunc("POST /v1/promote", handle(s, func(ctx context.Context, req api.PromoteRequest) (api.Member, error) {
		if err := required("zone", req.Zone); err != nil {
			return api.Member{}, err
		}
		if err := required("member", req.Member); err != nil {
			return api.Member{}, err
		}
		if err := required("role", req.Role); err != nil {
			return api.Member{}, err
		}
		return b.Promote(ctx, req.Zone, req.Member, req.Role)
	}))
	mux.HandleFunc("POST /v1/remove", handle(s, func(ctx context.Context, req api.RemoveRequest) (api.RemoveResult, error) {
		if err := required("zone", req.Zone); err != nil {
			return api.RemoveResult{}, err
		}
		if err := required("member", req.Member); err != nil {
			return api.RemoveResult{}, err
		}
		res, err := b.Remove(ctx, req.Zone, req.Member)
		res.Unreached = nonNil(res.Unreached)
		return res, err
	}))
	mux.HandleFunc("GET /v1/settings", func(w http.ResponseWriter, r *http.Request) {
		zone := r.URL.Query().Get("zone")
		if err := required("zone", zone); err != nil {
			s.fail(w, r, err)
			return
		}
		st, err := b.Settings(zone)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.reply(w, st)
	})
	mux.HandleFunc("POST /v1/settings", handle(s, func(ctx context.Context, req api.SettingsRequest) (api.Settings, error) {
		if err := required("zone", req.Zone); err != nil {
			return api.Settings{}, err
		}
		return b.SetSettings(ctx, req)
	}))
	mux.HandleFunc("POST /v1/callout/update", handle(s, func(ctx context.Context, req api.CalloutUpdateRequest) (api.Alert, error) {
		if err := required("alert", req.Alert); err != nil {
			return api.Alert{}, err
		}
		return b.UpdateCallout(ctx, req)
	}))
	mux.HandleFunc("POST /v1/cosign", handle(s, func(ctx context.Context, req api.AlertRequest) (api.Alert, error) {
		if err := required("alert", req.Alert); err != nil {
			return api.Alert{}, err
		}
		return b.Cosign(ctx, req.Alert)
	}))
	mux.HandleFunc("POST /v1/wipe", handle(s, func(ctx context.Context, _ struct{}) (struct{}, error) {
		w, ok := b.(Wiper)
		if !ok {
			return struct{}{}, fmt.Errorf("%w: this node cannot wipe itself", ErrNotFound)
		}
		return struct{}{}, w.Wipe()
	}))
	mux.HandleFunc("POST /v1/links/offer", handle(s, func(ctx context.Context, req api.LinkOfferRequest) (api.LinkOffer, error) {
		if err := required("zone", req.Zone); err != nil {
			return api.LinkOffer{}, err
		}
		return b.LinkOffer(ctx, req)
	}))
	mux.HandleFunc("POST /v1/links/accept", handle(s, func(ctx context.Context, req api.AcceptLinkRequest) (api.Link, error) {
		if err := required("zone", req.Zone); err != nil {
			return api.Link{}, err
		}
		if err := required("code", req.Code); err != nil {
			return api.Link{}, err
		}
		return b.AcceptLink(ctx, req)
	}))
	mux.HandleFunc("GET /v1/links", func(w http.ResponseWriter, r *http.Request) {
		zone := r.URL.Query().Get("zone")
		if err := required("zone", zone); err != nil {
			s.fail(w, r, err)
			return
		}
		ls, err := b.Links(zone)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.reply(w, nonNil(ls))
	})
	mux.HandleFunc("POST /v1/links/end", handle(s, func(ctx context.Context, req api.UnlinkRequest) (api.Link, error) {
		if err := required("zone", req.Zone); err != nil {
			return api.Link{}, err
		}
		if err := required("link", req.Link); err != nil {
			return api.Link{}, err
		}
		return b.Unlink(ctx, req.Zone, req.Link)
	}))
	mux.HandleFunc("POST /v1/share", handle(s, func(ctx context.Context, req api.ShareRequest) (api.Alert, error) {
		if err := required("alert", req.Alert); err != nil {
			return api.Alert{}, err
		}
		return b.Share(ctx, req)
	}))
	s.docRoutes(mux) // docs.go
	return mux
}

// handle decodes a JSON request, calls fn and writes its JSON answer.
func handle[Req, Resp any](s *Server, fn func(context.Context, Req) (Resp, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req Req
		if err := decode(w, r, &req); err != nil {
			s.fail(w, r, err)
			return
		}
		resp, err := fn(r.Context(), req)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.reply(w, resp)
	}
}

// watch streams a zone's alerts as NDJSON, one line per alert or update.
func (s *Server) watch(w http.ResponseWriter, r *http.Request) {
	zone := r.URL.Query().Get("zone")
	if err := required("zone", zone); err != nil {
		s.fail(w, r, err)
		return
	}
	select {
	case s.watchers <- struct{}{}:
		defer func() { <-s.watchers }()
	default:
		s.fail(w, r, fmt.Errorf("%w (%d); close one (`lookout watch` or an app window) and try again", ErrBusy, cap(s.watchers)))
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(s.stopping, cancel)()
	ch, err := s.Backend.Watch(ctx, zone)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer func() {
		cancel()
		for range ch { // the backend closes ch once ctx ends
		}
	}()

	rc := http.NewResponseController(w)
	// A stream outlives the request's read timeout; each write has its own.
	rc.SetReadDeadline(time.Time{})
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return
	}
	enc := json.NewEncoder(w)
	for a := range ch {
		rc.SetWriteDeadline(time.Now().Add(watchWriteTimeout))
		if err := enc.Encode(a); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

func decode(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%w: empty body", ErrInvalid)
		}
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return err
		}
		return fmt.Errorf("%w: decode body: %v", ErrInvalid, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: body holds more than one JSON value", ErrInvalid)
	}
	return nil
}

func required(what, v string) error {
	if v == "" {
		return api.Fail(ErrInvalid, "field.required", "Field", what)
	}
	return nil
}

// nonNil makes an empty list encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (s *Server) reply(w http.ResponseWriter, v any) {
	s.write(w, http.StatusOK, v)
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := http.StatusInternalServerError
	switch {
	case errors.Is(err, ErrInvalid):
		code = http.StatusBadRequest
	case errors.Is(err, ErrNotFound):
		code = http.StatusNotFound
	case errors.Is(err, ErrForbidden):
		code = http.StatusForbidden
	case errors.Is(err, ErrBusy):
		code = http.StatusServiceUnavailable
	default:
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			code = http.StatusRequestEntityTooLarge
		}
	}
	if code == http.StatusInternalServerError && r.Context().Err() == nil {
		s.Logger.Error("control call failed", "path", r.URL.Path, "err", err)
	}
	body := api.Error{Error: err.Error()}
	if p, ok := errors.AsType[*api.Problem](err); ok {
		body.ID, body.Args = p.ID, p.Args
	}
	s.write(w, code, body)
}

func (s *Server) write(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		s.Logger.Debug("write control reply", "err", err)
	}
}
