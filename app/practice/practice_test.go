package practice

import (
	"context"
	"os"
	"testing"
	"time"

	"lookout/app"
	"lookout/node/api"
)

// TestPracticeScript runs the practice zone with short pauses and checks
// that the member's practice node sees the whole flow, all as exercises.
func TestPracticeScript(t *testing.T) {
	if testing.Short() {
		t.Skip("starts four nodes on a simulated network; skipped in -short mode")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	s := app.PracticeScript{Zone: "Practice", SightingWhat: "practice officers", SightingWhere: "Practice St",
		CalloutTitle: "practice callout", CalloutWhere: "Practice hall", CalloutBring: "nothing"}
	z, err := Start(ctx, s, 50*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := z.dir
	zs := z.Zones()
	if len(zs) != 1 || zs[0].Name != "Practice" || zs[0].Role != "organizer" {
		t.Fatalf("practice node's zones: %+v", zs)
	}
	ch, err := z.Watch(ctx, zs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	var verified, answered bool
	for !verified || !answered {
		var a api.Alert
		select {
		case a = <-ch:
		case <-ctx.Done():
			t.Fatalf("practice flow incomplete: verified sighting %v, answered callout %v", verified, answered)
		}
		if !a.Exercise {
			t.Errorf("practice alert %s is not marked as an exercise", a.ID)
		}
		switch {
		case a.Kind == "sighting" && a.State == "verified" && a.What == s.SightingWhat:
			verified = true
		case a.Kind == "callout" && a.Responders != nil && a.Responders.EnRoute == 1 && a.Responders.OnScene == 1:
			answered = true
		}
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("practice homes left behind in %s", dir)
	}
	if err := z.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
