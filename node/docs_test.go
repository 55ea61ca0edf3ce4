package node_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"lookout/node/api"
	"lookout/node/control"
	"lookout/node/sim"
)

func zoneCardSet(lang, id string) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"lang":%q,"language":"Français","title":"Connaître ses droits","written":"2026-12-02",`+
		`"notice":"Information générale, pas un avis juridique.","check":"Vérifié par la clinique du quartier.",`+
		`"cards":[{"id":%q,"title":"La clinique","intro":"Consultations le mardi.","points":["Apportez vos papiers."]}]}`, lang, id))
}

func placeNames(ps []api.Place) string {
	s := ""
	for _, p := range ps {
		s += p.Name
		if p.Suggested() {
			s += "?"
		}
		s += ";"
	}
	return s
}

// TestZoneDocsCatchUp: an organizer's zone cards and the directory's
// adds, updates, retirements, suggestions and confirmations reach a
// member who was offline, by catch-up; a member can neither publish cards
// nor change the directory, only suggest.
func TestZoneDocsCatchUp(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	env := startMeshWith(t, ctx, sim.Config{Nodes: 5, RedialInterval: 200 * time.Millisecond})
	nw, nodes, zone := env.nw, env.nw.Nodes, env.zone.ID
	const org, ver, member, offline = 1, 2, 3, 4
	if err := nw.Stop(ctx, offline); err != nil {
		t.Fatal(err)
	}

	if _, err := nodes[member].PublishCards(ctx, api.PublishCardsRequest{Zone: zone, Set: zoneCardSet("fr", "clinique")}); !errors.Is(err, control.ErrForbidden) {
		t.Errorf("a member's PublishCards = %v, want ErrForbidden", err)
	}
	if _, err := nodes[ver].PublishCards(ctx, api.PublishCardsRequest{Zone: zone, Set: zoneCardSet("fr", "clinique")}); !errors.Is(err, control.ErrForbidden) {
		t.Errorf("a verifier's PublishCards = %v, want ErrForbidden", err)
	}
	if _, err := nodes[org].PublishCards(ctx, api.PublishCardsRequest{Zone: zone, Set: json.RawMessage(`{"lang":"fr"}`)}); !errors.Is(err, control.ErrInvalid) {
		t.Errorf("PublishCards(bad set) = %v, want ErrInvalid", err)
	}
	pub, err := nodes[org].PublishCards(ctx, api.PublishCardsRequest{Zone: zone, Set: zoneCardSet("fr", "clinique")})
	if err != nil || pub.Revision != 1 || pub.Mode != "add" {
		t.Fatalf("PublishCards = %+v, %v", pub, err)
	}
	pub, err = nodes[org].PublishCards(ctx, api.PublishCardsRequest{Zone: zone, Mode: "replace", Set: zoneCardSet("fr", "porte")})
	if err != nil || pub.Revision != 2 {
		t.Fatalf("second PublishCards = %+v, %v", pub, err)
	}

	yes := true
	if _, err := nodes[member].Place(ctx, api.PlaceRequest{Zone: zone, Op: "add", Kind: "food", Name: "Forged"}); !errors.Is(err, control.ErrForbidden) {
		t.Errorf("a member's add = %v, want ErrForbidden", err)
	}
	food, err := nodes[ver].Place(ctx, api.PlaceRequest{Zone: zone, Op: "add", Kind: "food", Name: "Banque alimentaire", Where: "Jarry & Saint-Michel",
		Languages: []string{"fr", "es"}, NoID: &yes, WalkIn: &yes})
	if err != nil || !food.NoID || !food.WalkIn || food.NoStatusQuestions || food.ConfirmedBy == "" {
		t.Fatalf("add = %+v, %v", food, err)
	}
	hasPlace := func(i int, id string) bool {
		ps, _ := nodes[i].Places(zone, api.PlaceFilter{})
		for _, p := range ps {
			if p.ID == id {
				return true
			}
		}
		return false
	}
	waitAll(t, ctx, nw, "the food bank reaches the organizer", func(i int) bool { return hasPlace(i, food.ID) }, offline)
	if _, err := nodes[org].Place(ctx, api.PlaceRequest{Zone: zone, Op: "update", Place: food.ID, Hours: "mar 10-14"}); err != nil {
		t.Fatal(err)
	}
	old, err := nodes[org].Place(ctx, api.PlaceRequest{Zone: zone, Op: "add", Kind: "shelter", Name: "Old shelter"})
	if err != nil {
		t.Fatal(err)
	}
	waitAll(t, ctx, nw, "the old shelter reaches the verifier", func(i int) bool { return hasPlace(i, old.ID) }, offline)
	if _, err := nodes[ver].Place(ctx, api.PlaceRequest{Zone: zone, Op: "retire", Place: "Old shelter"}); err != nil {
		t.Fatal(err)
	}
	sug, err := nodes[member].Place(ctx, api.PlaceRequest{Zone: zone, Op: "suggest", Kind: "legal", Name: "Clínica legal", NoStatusQuestions: &yes})
	if err != nil || !sug.Suggested() {
		t.Fatalf("suggest = %+v, %v", sug, err)
	}
	other, err := nodes[member].Place(ctx, api.PlaceRequest{Zone: zone, Op: "suggest", Kind: "health", Name: "Clinic"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nodes[member].Place(ctx, api.PlaceRequest{Zone: zone, Op: "confirm", Place: other.ID}); !errors.Is(err, control.ErrForbidden) {
		t.Errorf("a member's confirm = %v, want ErrForbidden", err)
	}
	waitAll(t, ctx, nw, "the suggestion reaches the verifier", func(i int) bool {
		ps, _ := nodes[i].Places(zone, api.PlaceFilter{Kind: "legal"})
		return len(ps) == 1
	}, offline)
	if _, err := nodes[ver].Place(ctx, api.PlaceRequest{Zone: zone, Op: "confirm", Place: sug.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := nodes[ver].Place(ctx, api.PlaceRequest{Zone: zone, Op: "update", Place: old.ID, Name: "Back"}); !errors.Is(err, control.ErrNotFound) {
		t.Errorf("update of a retired entry = %v, want ErrNotFound", err)
	}

	const want = "Banque alimentaire;Clínica legal;Clinic?;"
	synced := func(i int) bool {
		ps, _ := nodes[i].Places(zone, api.PlaceFilter{})
		c, _ := nodes[i].ZoneCards(zone, "fr")
		return placeNames(ps) == want && c.Revision == 2 && c.Mode == "replace"
	}
	waitAll(t, ctx, nw, "online members agree", synced, offline)
	if err := nw.Resume(ctx, offline); err != nil {
		t.Fatal(err)
	}
	waitAll(t, ctx, nw, "the returning member has the zone's cards and directory", synced)
	ps, _ := nodes[offline].Places(zone, api.PlaceFilter{Lang: "es"})
	if len(ps) != 1 || ps[0].Hours != "mar 10-14" || ps[0].Where != "Jarry & Saint-Michel" || !ps[0].NoID {
		t.Errorf("returning member's food bank: %+v", ps)
	}
	c, _ := nodes[offline].ZoneCards(zone, "fr")
	var set struct{ Cards []struct{ ID string } }
	if err := json.Unmarshal(c.Set, &set); err != nil || len(set.Cards) != 1 || set.Cards[0].ID != "porte" {
		t.Errorf("returning member's cards: %s (%v)", c.Set, err)
	}
	if c, _ := nodes[offline].ZoneCards(zone, "es"); c.Revision != 0 || c.Set != nil {
		t.Errorf("Spanish cards: %+v, want none", c)
	}
}
