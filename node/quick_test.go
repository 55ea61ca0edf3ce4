package node_test

import (
	"errors"
	"testing"

	"lookout/node/api"
	"lookout/node/control"
)

// TestQuickReport: a report made of codes only reaches every member with
// its codes, and each reader renders it in their own language.
func TestQuickReport(t *testing.T) {
	ctx := testContext(t)
	nw := startNet(t, ctx, 2, newClock())
	z := formZone(t, ctx, nw, "villeray", map[int]string{1: "member"})
	sent, err := nw.Nodes[1].Report(ctx, api.ReportRequest{Zone: z.ID, Where: "Jarry et Saint-Denis", Size: 3,
		Activity: "rue Jarry, 2e étage", WhatCode: "door", UniformCode: "plain", Vehicles: 1})
	if err != nil {
		t.Fatal(err)
	}
	lists := waitListed(t, ctx, nw, z.ID, sent.ID, true)
	for i, as := range lists {
		for _, a := range as {
			if a.ID != sent.ID {
				continue
			}
			if a.WhatCode != "door" || a.UniformCode != "plain" || a.Vehicles != 1 || a.What != "" || a.Activity != "rue Jarry, 2e étage" {
				t.Errorf("node %d: %+v", i, a)
			}
			if got, want := api.QuickText(a, "es"), "Agentes en una puerta, 3 agentes, vestidos de civil, 1 vehículo"; got != want {
				t.Errorf("node %d: in Spanish %q, want %q", i, got, want)
			}
		}
	}
	for _, req := range []api.ReportRequest{
		{Zone: z.ID, Where: "x", WhatCode: "ice"},
		{Zone: z.ID, Where: "x", WhatCode: "door", UniformCode: "camo"},
		{Zone: z.ID, Where: "x", WhatCode: "door", Vehicles: -1},
		{Zone: z.ID, Where: "x", UniformCode: "marked"}, // neither what nor a what code
	} {
		if _, err := nw.Nodes[1].Report(ctx, req); !errors.Is(err, control.ErrInvalid) {
			t.Errorf("Report(%+v) = %v, want ErrInvalid", req, err)
		}
	}
}
