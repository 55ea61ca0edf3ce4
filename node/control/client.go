package control

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"

	"lookout/node/api"
)

// Client calls the control API of the node listening on a Unix socket.
type Client struct {
	hc *http.Client
}

// NewClient returns a client for the node listening on socketPath. Before
// each call it checks that the socket and its directory belong to this
// user and no one else may write to them, and after connecting that the
// node runs as this user (ErrUntrusted otherwise).
func NewClient(socketPath string) *Client {
	var d net.Dialer
	dial := func(ctx context.Context, _, _ string) (net.Conn, error) {
		if err := checkSocket(socketPath); err != nil {
			return nil, err
		}
		conn, err := d.DialContext(ctx, "unix", socketPath)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("%w: nothing listens on %s", ErrNoNode, socketPath)
		}
		if err != nil {
			return nil, err
		}
		if err := checkPeer(conn); err != nil {
			conn.Close()
			return nil, err
		}
		return conn, nil
	}
	return &Client{hc: &http.Client{Transport: &http.Transport{
		DialContext:       dial,
		DisableKeepAlives: true, // a connection per call leaves nothing behind
	}}}
}

// ServerError is an error the node answered a call with.
type ServerError struct {
	Status  int    // HTTP status
	Message string // the node's error text, in English
	// Problem is the node's error with its message ID, for rendering in
	// the user's language; nil when the node sent none.
	Problem *api.Problem
}

func (e *ServerError) Error() string { return e.Message }

// Unwrap returns the Problem, if any.
func (e *ServerError) Unwrap() error {
	if e.Problem == nil {
		return nil
	}
	return e.Problem
}

// Is reports whether the error's status matches ErrNotFound, ErrForbidden
// or ErrInvalid.
func (e *ServerError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrForbidden:
		return e.Status == http.StatusForbidden
	case ErrInvalid:
		return e.Status == http.StatusBadRequest || e.Status == http.StatusRequestEntityTooLarge
	case ErrBusy:
		return e.Status == http.StatusServiceUnavailable
	}
	return false
}

func (c *Client) Status(ctx context.Context) (api.Status, error) {
	var st api.Status
	err := c.call(ctx, http.MethodGet, "/v1/status", nil, &st)
	return st, err
}

func (c *Client) CreateZone(ctx context.Context, name string) (api.Zone, error) {
	var z api.Zone
	err := c.call(ctx, http.MethodPost, "/v1/zones", api.CreateZoneRequest{Name: name}, &z)
	return z, err
}

// LeaveZone deletes a zone made by an older Lookout from the node.
func (c *Client) LeaveZone(ctx context.Context, zone string) (api.Zone, error) {
	var z api.Zone
	err := c.call(ctx, http.MethodPost, "/v1/zones/leave", api.LeaveZoneRequest{Zone: zone}, &z)
	return z, err
}

func (c *Client) Invite(ctx context.Context, req api.InviteRequest) (api.InviteResponse, error) {
	var resp api.InviteResponse
	err := c.call(ctx, http.MethodPost, "/v1/invites", req, &resp)
	return resp, err
}

func (c *Client) Join(ctx context.Context, code string) (api.Zone, error) {
	var z api.Zone
	err := c.call(ctx, http.MethodPost, "/v1/join", api.JoinRequest{Code: code}, &z)
	return z, err
}

func (c *Client) Zones(ctx context.Context) ([]api.Zone, error) {
	var zs []api.Zone
	err := c.call(ctx, http.MethodGet, "/v1/zones", nil, &zs)
	return zs, err
}

func (c *Client) Report(ctx context.Context, req api.ReportRequest) (api.Alert, error) {
	var a api.Alert
	err := c.call(ctx, http.MethodPost, "/v1/report", req, &a)
	return a, err
}

func (c *Client) Callout(ctx context.Context, req api.CalloutRequest) (api.Alert, error) {
	var a api.Alert
	err := c.call(ctx, http.MethodPost, "/v1/callout", req, &a)
	return a, err
}

func (c *Client) Confirm(ctx context.Context, alertID string) (api.Alert, error) {
	var a api.Alert
	err := c.call(ctx, http.MethodPost, "/v1/confirm", api.ConfirmRequest{Alert: alertID}, &a)
	return a, err
}

func (c *Client) Respond(ctx context.Context, alertID, status string) (api.Alert, error) {
	var a api.Alert
	err := c.call(ctx, http.MethodPost, "/v1/respond", api.RespondRequest{Alert: alertID, Status: status}, &a)
	return a, err
}

func (c *Client) Clear(ctx context.Context, alertID, reason string) (api.Alert, error) {
	var a api.Alert
	err := c.call(ctx, http.MethodPost, "/v1/clear", api.ClearRequest{Alert: alertID, Reason: reason}, &a)
	return a, err
}

func (c *Client) Alerts(ctx context.Context, zone string) ([]api.Alert, error) {
	var as []api.Alert
	err := c.call(ctx, http.MethodGet, "/v1/alerts?zone="+url.QueryEscape(zone), nil, &as)
	return as, err
}

func (c *Client) Members(ctx context.Context, zone string) ([]api.Member, error) {
	var ms []api.Member
	err := c.call(ctx, http.MethodGet, "/v1/members?zone="+url.QueryEscape(zone), nil, &ms)
	return ms, err
}

func (c *Client) Promote(ctx context.Context, zone, member, role string) (api.Member, error) {
	var m api.Member
	err := c.call(ctx, http.MethodPost, "/v1/promote", api.PromoteRequest{Zone: zone, Member: member, Role: role}, &m)
	return m, err
}

func (c *Client) Remove(ctx context.Context, zone, member string) (api.RemoveResult, error) {
	var res api.RemoveResult
	err := c.call(ctx, http.MethodPost, "/v1/remove", api.RemoveRequest{Zone: zone, Member: member}, &res)
	return res, err
}

func (c *Client) Settings(ctx context.Context, zone string) (api.Settings, error) {
	var st api.Settings
	err := c.call(ctx, http.MethodGet, "/v1/settings?zone="+url.QueryEscape(zone), nil, &st)
	return st, err
}

func (c *Client) SetSettings(ctx context.Context, req api.SettingsRequest) (api.Settings, error) {
	var st api.Settings
	err := c.call(ctx, http.MethodPost, "/v1/settings", req, &st)
	return st, err
}

func (c *Client) UpdateCallout(ctx context.Context, req api.CalloutUpdateRequest) (api.Alert, error) {
	var a api.Alert
	err := c.call(ctx, http.MethodPost, "/v1/callout/update", req, &a)
	return a, err
}

func (c *Client) Cosign(ctx context.Context, alertID string) (api.Alert, error) {
	var a api.Alert
	err := c.call(ctx, http.MethodPost, "/v1/cosign", api.AlertRequest{Alert: alertID}, &a)
	return a, err
}

func (c *Client) LinkOffer(ctx context.Context, req api.LinkOfferRequest) (api.LinkOffer, error) {
	var o api.LinkOffer
	err := c.call(ctx, http.MethodPost, "/v1/links/offer", req, &o)
	return o, err
}

func (c *Client) AcceptLink(ctx context.Context, req api.AcceptLinkRequest) (api.Link, error) {
	var l api.Link
	err := c.call(ctx, http.MethodPost, "/v1/links/accept", req, &l)
	return l, err
}

func (c *Client) Links(ctx context.Context, zone string) ([]api.Link, error) {
	var ls []api.Link
	err := c.call(ctx, http.MethodGet, "/v1/links?zone="+url.QueryEscape(zone), nil, &ls)
	return ls, err
}

func (c *Client) Unlink(ctx context.Context, zone, link string) (api.Link, error) {
	var l api.Link
	err := c.call(ctx, http.MethodPost, "/v1/links/end", api.UnlinkRequest{Zone: zone, Link: link}, &l)
	return l, err
}

func (c *Client) Share(ctx context.Context, req api.ShareRequest) (api.Alert, error) {
	var a api.Alert
	err := c.call(ctx, http.MethodPost, "/v1/share", req, &a)
	return a, err
}

// Watch calls fn with each new alert or update of zone until ctx ends, fn
// fails or the node ends the stream. It returns ctx.Err() once ctx ends.
func (c *Client) Watch(ctx context.Context, zone string, fn func(api.Alert) error) error {
	resp, err := c.send(ctx, http.MethodGet, "/v1/watch?zone="+url.QueryEscape(zone), nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	for {
		var a api.Alert
		if err := dec.Decode(&a); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, io.EOF) {
				return fmt.Errorf("watch %s: the node ended the stream; check it is still running", zone)
			}
			return fmt.Errorf("read watch stream: %w", err)
		}
		if err := fn(a); err != nil {
			return err
		}
	}
}

// call sends in as JSON, if not nil, and decodes the answer into out.
func (c *Client) call(ctx context.Context, method, path string, in, out any) error {
	resp, err := c.send(ctx, method, path, in)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode answer to %s: %w", path, err)
	}
	return nil
}

// send makes a call and returns the response if its status is 200 OK.
func (c *Client) send(ctx context.Context, method, path string, in any) (*http.Response, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("encode request to %s: %w", path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://lookout"+path, body)
	if err != nil {
		return nil, fmt.Errorf("make request to %s: %w", path, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err
		}
		if errors.Is(err, ErrNoNode) {
			return nil, err
		}
		return nil, fmt.Errorf("call %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		return nil, readError(resp)
	}
	return resp, nil
}

func readError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	var e api.Error
	if json.Unmarshal(b, &e) != nil || e.Error == "" {
		e.Error = strings.TrimSpace(string(b))
		if e.Error == "" {
			e.Error = resp.Status
		}
	}
	se := &ServerError{Status: resp.StatusCode, Message: e.Error}
	if e.ID != "" {
		se.Problem = &api.Problem{Kind: statusKind(resp.StatusCode), ID: e.ID, Args: e.Args}
	}
	return se
}

// statusKind is the error kind a status answers, nil for none.
func statusKind(status int) error {
	switch status {
	case http.StatusNotFound:
		return ErrNotFound
	case http.StatusForbidden:
		return ErrForbidden
	case http.StatusBadRequest:
		return ErrInvalid
	}
	return nil
}

// Wipe asks the node to destroy its keys and store and stop.
func (c *Client) Wipe(ctx context.Context) error {
	var out struct{}
	return c.call(ctx, http.MethodPost, "/v1/wipe", struct{}{}, &out)
}
