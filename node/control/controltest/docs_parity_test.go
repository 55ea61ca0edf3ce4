package controltest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"lookout/node/api"
	"lookout/node/control"
)

// Parity cases for zone cards and safe places (appended to apiCases).

const paritySet = `{"lang":"es","language":"Español","title":"Conoce tus derechos","written":"2026-12-02",` +
	`"notice":"Información general, no asesoría legal.","check":"Revisado por la clínica.",` +
	`"cards":[{"id":"clinica","title":"La clínica","intro":"Consultas el martes.","points":["Traiga sus papeles."]}]}`

func cardsSummary(c api.ZoneCards) string {
	return fmt.Sprintf("%s rev=%d mode=%s set=%v", c.Lang, c.Revision, c.Mode, len(c.Set) > 0)
}

func placeSummary(p api.Place) string {
	return fmt.Sprintf("%s %q where=%q hours=%q langs=%v noid=%v nostatus=%v walkin=%v suggested=%v", p.Kind, p.Name, p.Where, p.Hours,
		p.Languages, p.NoID, p.NoStatusQuestions, p.WalkIn, p.Suggested())
}

func listPlaces(b control.Backend, zone string, f api.PlaceFilter) (string, error) {
	ps, err := b.Places(zone, f)
	var s []string
	for _, p := range ps {
		s = append(s, placeSummary(p))
	}
	return fmt.Sprint(len(ps), ": ", strings.Join(s, "; ")), err
}

func addFood(ctx context.Context, b control.Backend, zone string) (api.Place, error) {
	yes := true
	return b.Place(ctx, api.PlaceRequest{Zone: zone, Op: "add", Kind: "food", Name: "Banque alimentaire", Where: "Jarry & St-Michel",
		Languages: []string{"fr", "ES"}, NoID: &yes})
}

func init() {
	apiCases = append(apiCases,
		apiCase{"zone cards: none yet", func(ctx context.Context, b control.Backend, zone string) (string, error) {
			c, err := b.ZoneCards(zone, "es")
			return cardsSummary(c), err
		}, nil},
		apiCase{"zone cards: publish twice", func(ctx context.Context, b control.Backend, zone string) (string, error) {
			if _, err := b.PublishCards(ctx, api.PublishCardsRequest{Zone: zone, Set: json.RawMessage(paritySet)}); err != nil {
				return "", err
			}
			if _, err := b.PublishCards(ctx, api.PublishCardsRequest{Zone: zone, Mode: "replace", Set: json.RawMessage(paritySet)}); err != nil {
				return "", err
			}
			c, err := b.ZoneCards(zone, "es")
			return cardsSummary(c), err
		}, nil},
		apiCase{"zone cards: withdraw", func(ctx context.Context, b control.Backend, zone string) (string, error) {
			if _, err := b.PublishCards(ctx, api.PublishCardsRequest{Zone: zone, Set: json.RawMessage(paritySet)}); err != nil {
				return "", err
			}
			c, err := b.PublishCards(ctx, api.PublishCardsRequest{Zone: zone, Mode: "withdraw", Lang: "es"})
			return cardsSummary(c), err
		}, nil},
		apiCase{"zone cards: a bad set", func(ctx context.Context, b control.Backend, zone string) (string, error) {
			_, err := b.PublishCards(ctx, api.PublishCardsRequest{Zone: zone, Set: json.RawMessage(`{"lang":"es","cards":[]}`)})
			return "", err
		}, api.ErrInvalid},
		apiCase{"zone cards: wrong language", func(ctx context.Context, b control.Backend, zone string) (string, error) {
			_, err := b.PublishCards(ctx, api.PublishCardsRequest{Zone: zone, Lang: "fr", Set: json.RawMessage(paritySet)})
			return "", err
		}, api.ErrInvalid},
		apiCase{"zone cards: unknown zone", func(ctx context.Context, b control.Backend, _ string) (string, error) {
			_, err := b.ZoneCards("nowhere", "en")
			return "", err
		}, api.ErrNotFound},
		apiCase{"callout with a card", func(ctx context.Context, b control.Backend, zone string) (string, error) {
			a, err := b.Callout(ctx, api.CalloutRequest{Zone: zone, Title: "court watch", Where: "County court", Card: "Witness"})
			return alertSummary(a) + " card=" + a.Card, err
		}, nil},
		apiCase{"callout with a bad card", func(ctx context.Context, b control.Backend, zone string) (string, error) {
			_, err := b.Callout(ctx, api.CalloutRequest{Zone: zone, Title: "court watch", Where: "County court", Card: "a card!"})
			return "", err
		}, api.ErrInvalid},
		apiCase{"places: add, update, list", func(ctx context.Context, b control.Backend, zone string) (string, error) {
			p, err := addFood(ctx, b, zone)
			if err != nil {
				return "", err
			}
			if _, err := b.Place(ctx, api.PlaceRequest{Zone: zone, Op: "update", Place: p.ID[:10], Hours: "mar 10-14"}); err != nil {
				return "", err
			}
			return listPlaces(b, zone, api.PlaceFilter{})
		}, nil},
		apiCase{"places: suggest, confirm, filter", func(ctx context.Context, b control.Backend, zone string) (string, error) {
			if _, err := addFood(ctx, b, zone); err != nil {
				return "", err
			}
			s, err := b.Place(ctx, api.PlaceRequest{Zone: zone, Op: "suggest", Kind: "legal", Name: "Clinic"})
			if err != nil {
				return "", err
			}
			before, _ := listPlaces(b, zone, api.PlaceFilter{})
			if _, err := b.Place(ctx, api.PlaceRequest{Zone: zone, Op: "confirm", Place: s.ID}); err != nil {
				return "", err
			}
			after, err := listPlaces(b, zone, api.PlaceFilter{Kind: "legal"})
			es, _ := listPlaces(b, zone, api.PlaceFilter{Lang: "es"})
			text, _ := listPlaces(b, zone, api.PlaceFilter{Text: "saint michel"})
			return before + " | " + after + " | " + es + " | " + text, err
		}, nil},
		apiCase{"places: retire", func(ctx context.Context, b control.Backend, zone string) (string, error) {
			if _, err := addFood(ctx, b, zone); err != nil {
				return "", err
			}
			if _, err := b.Place(ctx, api.PlaceRequest{Zone: zone, Op: "retire", Place: "banque alimentaire"}); err != nil {
				return "", err
			}
			return listPlaces(b, zone, api.PlaceFilter{})
		}, nil},
		apiCase{"places: update an unknown entry", func(ctx context.Context, b control.Backend, zone string) (string, error) {
			_, err := b.Place(ctx, api.PlaceRequest{Zone: zone, Op: "update", Place: "nowhere", Name: "x"})
			return "", err
		}, api.ErrNotFound},
		apiCase{"places: confirm a confirmed entry", func(ctx context.Context, b control.Backend, zone string) (string, error) {
			p, err := addFood(ctx, b, zone)
			if err != nil {
				return "", err
			}
			_, err = b.Place(ctx, api.PlaceRequest{Zone: zone, Op: "confirm", Place: p.ID})
			return "", err
		}, api.ErrInvalid},
		apiCase{"places: unknown operation", func(ctx context.Context, b control.Backend, zone string) (string, error) {
			_, err := b.Place(ctx, api.PlaceRequest{Zone: zone, Op: "delete", Place: "x"})
			return "", err
		}, api.ErrInvalid},
		apiCase{"places: no kind", func(ctx context.Context, b control.Backend, zone string) (string, error) {
			_, err := b.Place(ctx, api.PlaceRequest{Zone: zone, Op: "add", Name: "x"})
			return "", err
		}, api.ErrInvalid},
		apiCase{"places: a bad language", func(ctx context.Context, b control.Backend, zone string) (string, error) {
			_, err := b.Place(ctx, api.PlaceRequest{Zone: zone, Op: "add", Kind: "food", Name: "x", Languages: []string{"french"}})
			return "", err
		}, api.ErrInvalid},
		apiCase{"places: a bad kind filter", func(ctx context.Context, b control.Backend, zone string) (string, error) {
			_, err := b.Places(zone, api.PlaceFilter{Kind: "bar"})
			return "", err
		}, api.ErrInvalid},
	)
}
