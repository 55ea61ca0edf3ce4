package control

import (
	"context"
	"net/http"
	"net/url"

	"lookout/node/api"
)

// Zone documents: a zone's own know-your-rights cards and its
// safe-services directory.

func (s *Server) docRoutes(mux *http.ServeMux) {
	b := s.Backend
	mux.HandleFunc("GET /v1/cards", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if err := required("zone", q.Get("zone")); err != nil {
			s.fail(w, r, err)
			return
		}
		c, err := b.ZoneCards(q.Get("zone"), q.Get("lang"))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.reply(w, c)
	})
	mux.HandleFunc("POST /v1/cards", handle(s, func(ctx context.Context, req api.PublishCardsRequest) (api.ZoneCards, error) {
		if err := required("zone", req.Zone); err != nil {
			return api.ZoneCards{}, err
		}
		return b.PublishCards(ctx, req)
	}))
	mux.HandleFunc("GET /v1/places", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if err := required("zone", q.Get("zone")); err != nil {
			s.fail(w, r, err)
			return
		}
		ps, err := b.Places(q.Get("zone"), api.PlaceFilter{Kind: q.Get("kind"), Lang: q.Get("lang"), Text: q.Get("text")})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.reply(w, nonNil(ps))
	})
	mux.HandleFunc("POST /v1/places", handle(s, func(ctx context.Context, req api.PlaceRequest) (api.Place, error) {
		if err := required("zone", req.Zone); err != nil {
			return api.Place{}, err
		}
		if err := required("operation", req.Op); err != nil {
			return api.Place{}, err
		}
		return b.Place(ctx, req)
	}))
}

func (c *Client) ZoneCards(ctx context.Context, zone, lang string) (api.ZoneCards, error) {
	var z api.ZoneCards
	err := c.call(ctx, http.MethodGet, "/v1/cards?zone="+url.QueryEscape(zone)+"&lang="+url.QueryEscape(lang), nil, &z)
	return z, err
}

func (c *Client) PublishCards(ctx context.Context, req api.PublishCardsRequest) (api.ZoneCards, error) {
	var z api.ZoneCards
	err := c.call(ctx, http.MethodPost, "/v1/cards", req, &z)
	return z, err
}

func (c *Client) Places(ctx context.Context, zone string, f api.PlaceFilter) ([]api.Place, error) {
	var ps []api.Place
	q := url.Values{"zone": {zone}}
	for k, v := range map[string]string{"kind": f.Kind, "lang": f.Lang, "text": f.Text} {
		if v != "" {
			q.Set(k, v)
		}
	}
	err := c.call(ctx, http.MethodGet, "/v1/places?"+q.Encode(), nil, &ps)
	return ps, err
}

func (c *Client) Place(ctx context.Context, req api.PlaceRequest) (api.Place, error) {
	var p api.Place
	err := c.call(ctx, http.MethodPost, "/v1/places", req, &p)
	return p, err
}
