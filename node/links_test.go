package node_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"lookout/node/api"
	"lookout/node/sim"
)

// Nodes of the linked-zones test: zone A (Parkdale) is nodes 0–2, B
// (Roncesvalles) 3–5, C (Junction) 6–7. Node 0 ends A's link to B; node 3
// ends both of B's links; node 6 ends C's link to B.
var linkNames = []string{"Alba Ortiz", "Anouk Verhoeven", "Ayodele Mensah", "Beatriz Lima", "Bruno Costa", "Bilal Haddad", "Chen Wei", "Cora Blackwood"}

const (
	a1, a2, a3 = 0, 1, 2
	b1, b2, b3 = 3, 4, 5
	c1, c2     = 6, 7
)

// linked forms zones A, B and C and links them in a line A–B–C.
type linked struct {
	nw      *sim.Network
	clk     *clock
	A, B, C api.Zone
}

func startLinked(t testing.TB, ctx context.Context) *linked {
	t.Helper()
	clk := &clock{}
	nw, err := sim.Start(ctx, sim.Config{Nodes: len(linkNames), Dir: t.TempDir(), Now: clk.Now, RedialInterval: 200 * time.Millisecond,
		Name: func(i int) string { return linkNames[i] }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nw.Close() })
	zs, err := nw.FormZones(ctx, []sim.ZoneSpec{
		{Name: "Parkdale", Founder: a1, Members: []int{a2, a3}, Roles: map[int]string{a2: "verifier"}},
		{Name: "Roncesvalles", Founder: b1, Members: []int{b2, b3}},
		{Name: "Junction", Founder: c1, Members: []int{c2}},
	})
	if err != nil {
		t.Fatal(err)
	}
	l := &linked{nw: nw, clk: clk, A: zs[0], B: zs[1], C: zs[2]}
	l.link(t, ctx, a1, l.A, b1, l.B)
	l.link(t, ctx, b1, l.B, c1, l.C)
	return l
}

// link has node x offer a link from zone zx and node y accept it for zy,
// then waits until every member of both zones knows the link is active.
func (l *linked) link(t testing.TB, ctx context.Context, x int, zx api.Zone, y int, zy api.Zone) {
	t.Helper()
	o, err := l.nw.Nodes[x].LinkOffer(ctx, api.LinkOfferRequest{Zone: zx.ID})
	if err != nil {
		t.Fatalf("offer: %v", err)
	}
	if _, err := l.nw.Nodes[y].AcceptLink(ctx, api.AcceptLinkRequest{Zone: zy.ID, Code: o.Code}); err != nil {
		t.Fatalf("accept: %v", err)
	}
	for _, side := range []api.Zone{zx, zy} {
		l.waitZone(t, ctx, side, "link "+o.Link+" active", func(i int) bool { return linkState(l.nw.Nodes[i], side.ID, o.Link) == "active" })
	}
}

func linkState(n interface {
	Links(string) ([]api.Link, error)
}, zone, id string) string {
	ls, _ := n.Links(zone)
	for _, x := range ls {
		if x.ID == id {
			return x.State
		}
	}
	return ""
}

// members returns the nodes of a zone.
func (l *linked) members(z api.Zone) []int {
	switch z.ID {
	case l.A.ID:
		return []int{a1, a2, a3}
	case l.B.ID:
		return []int{b1, b2, b3}
	}
	return []int{c1, c2}
}

func (l *linked) waitZone(t testing.TB, ctx context.Context, z api.Zone, what string, cond func(i int) bool, show ...func() string) {
	t.Helper()
	err := sim.WaitFor(ctx, func() bool {
		for _, i := range l.members(z) {
			if !cond(i) {
				return false
			}
		}
		return true
	})
	if err != nil {
		for _, f := range show {
			t.Log(f())
		}
		t.Fatalf("zone %s: %s: %v", z.Name, what, err)
	}
}

// byTitle finds a zone's active card with the given what or title.
func byText(n interface {
	Alerts(string) ([]api.Alert, error)
}, zone, text string) []api.Alert {
	as, _ := n.Alerts(zone)
	var out []api.Alert
	for _, a := range as {
		if a.What == text || a.Title == text {
			out = append(out, a)
		}
	}
	return out
}

// TestLinkedZones: zones A–B–C linked in a line. A verified sighting
// shared in A reaches every member of B and not C; a callout shared
// city-wide reaches C once; responders in B and C count in A as totals;
// updates and all clears follow; an unconfirmed sighting never crosses;
// nothing B or C hold names A's members; either side can end a link.
func TestLinkedZones(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node mocknet test; skipped in -short mode")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	l := startLinked(t, ctx)
	n := l.nw.Nodes

	// An unconfirmed sighting cannot be shared, and a member cannot share.
	rumour, err := n[a3].Report(ctx, api.ReportRequest{Zone: l.A.ID, What: "rumour of a van", Where: "King & Jameson"})
	if err != nil {
		t.Fatal(err)
	}
	l.waitZone(t, ctx, l.A, "rumour seen", func(i int) bool { return len(byText(n[i], l.A.ID, "rumour of a van")) == 1 })
	if _, err := n[a2].Share(ctx, api.ShareRequest{Alert: rumour.ID}); !errors.Is(err, api.ErrInvalid) || !strings.Contains(err.Error(), "unconfirmed") {
		t.Fatalf("share unconfirmed = %v, want invalid: unconfirmed", err)
	}
	if _, err := n[a3].Share(ctx, api.ShareRequest{Alert: rumour.ID}); !errors.Is(err, api.ErrForbidden) {
		t.Fatalf("member shares = %v, want forbidden", err)
	}

	// A verified sighting shared with hop limit 1 reaches B, not C.
	s, err := n[a3].Report(ctx, api.ReportRequest{Zone: l.A.ID, What: "2 CBSA officers, unmarked van", Where: "Queen & Dunn", Size: 2})
	if err != nil {
		t.Fatal(err)
	}
	l.waitZone(t, ctx, l.A, "sighting seen", func(i int) bool { return len(byText(n[i], l.A.ID, s.What)) == 1 })
	if _, err := n[a2].Confirm(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := n[a2].Share(ctx, api.ShareRequest{Alert: s.ID}); err != nil {
		t.Fatalf("share verified sighting: %v", err)
	}
	l.waitZone(t, ctx, l.B, "shared sighting arrives in B", func(i int) bool {
		got := byText(n[i], l.B.ID, s.What)
		return len(got) == 1 && got[0].Via == "Parkdale" && got[0].Origin == "Parkdale" && got[0].State == "verified" && got[0].Where == "Queen & Dunn" && got[0].Size == 2
	})

	// A callout shared city-wide (two hops) reaches B and C, once each.
	co, err := n[a1].Callout(ctx, api.CalloutRequest{Zone: l.A.ID, Title: "Accompany family", Where: "King & Dufferin", Need: 6})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n[a1].Share(ctx, api.ShareRequest{Alert: co.ID, Hops: 2}); err != nil {
		t.Fatalf("share callout: %v", err)
	}
	l.waitZone(t, ctx, l.B, "callout arrives in B", func(i int) bool {
		got := byText(n[i], l.B.ID, co.Title)
		return len(got) == 1 && got[0].Via == "Parkdale" && got[0].Need == 6
	})
	l.waitZone(t, ctx, l.C, "callout arrives in C", func(i int) bool {
		got := byText(n[i], l.C.ID, co.Title)
		return len(got) == 1 && got[0].Via == "Roncesvalles" && got[0].Origin == "Parkdale"
	})
	// The hop-1 sighting was shared before the callout and went no further.
	for _, i := range l.members(l.C) {
		if got := byText(n[i], l.C.ID, s.What); len(got) != 0 {
			t.Errorf("node %d: the hop-1 sighting reached C: %+v", i, got)
		}
	}
	for _, z := range []api.Zone{l.B, l.C} {
		for _, i := range l.members(z) {
			if got := byText(n[i], z.ID, rumour.What); len(got) != 0 {
				t.Errorf("node %d: the unconfirmed sighting crossed into %s", i, z.Name)
			}
		}
	}

	// Responders in B and C count in A, as totals.
	coB := byText(n[b2], l.B.ID, co.Title)[0]
	coC := byText(n[c2], l.C.ID, co.Title)[0]
	if _, err := n[b2].Respond(ctx, coB.ID, "enroute"); err != nil {
		t.Fatal(err)
	}
	if _, err := n[b3].Respond(ctx, coB.ID, "onscene"); err != nil {
		t.Fatal(err)
	}
	if _, err := n[c2].Respond(ctx, coC.ID, "enroute"); err != nil {
		t.Fatal(err)
	}
	l.waitZone(t, ctx, l.A, "responders from B and C counted in A", func(i int) bool {
		got := byText(n[i], l.A.ID, co.Title)
		return len(got) == 1 && got[0].Responders != nil && got[0].Responders.EnRoute == 0 && got[0].Responders.OnScene == 0 &&
			got[0].LinkedResponders != nil && got[0].LinkedResponders.EnRoute == 2 && got[0].LinkedResponders.OnScene == 1 &&
			len(got[0].Linked) == 1 && got[0].Linked[0].Zone == "Roncesvalles" && got[0].Linked[0].EnRoute == 2 && got[0].Linked[0].OnScene == 1 &&
			got[0].Linked[0].Reporter != ""
	})

	// A callout update follows to B and C.
	if _, err := n[a1].UpdateCallout(ctx, api.CalloutUpdateRequest{Alert: co.ID, Need: 9, Where: "King & Dufferin, east side"}); err != nil {
		t.Fatal(err)
	}
	for _, z := range []api.Zone{l.B, l.C} {
		l.waitZone(t, ctx, z, "callout update follows", func(i int) bool {
			got := byText(n[i], z.ID, co.Title)
			return len(got) == 1 && got[0].Need == 9 && got[0].Where == "King & Dufferin, east side"
		})
	}

	// The all clears follow.
	if _, err := n[a2].Clear(ctx, s.ID, "gone"); err != nil {
		t.Fatal(err)
	}
	l.waitZone(t, ctx, l.B, "all clear of the sighting follows", func(i int) bool { return len(byText(n[i], l.B.ID, s.What)) == 0 })
	if _, err := n[a1].Clear(ctx, co.ID, "family is safe"); err != nil {
		t.Fatal(err)
	}
	for _, z := range []api.Zone{l.B, l.C} {
		l.waitZone(t, ctx, z, "all clear of the callout follows", func(i int) bool { return len(byText(n[i], z.ID, co.Title)) == 0 })
	}

	// Nothing members of B or C hold names A's members: not their IDs
	// (raw or hex), not their names. A's link end (node 0) is the one
	// member of A whose key B accepted, so its ID may appear; its name not.
	var secrets [][]byte
	for _, i := range []int{a2, a3} {
		id, _ := hex.DecodeString(n[i].Status().MemberID)
		secrets = append(secrets, id, []byte(n[i].Status().MemberID))
	}
	for _, i := range l.members(l.A) {
		secrets = append(secrets, []byte(linkNames[i]))
	}
	for _, z := range []api.Zone{l.B, l.C} {
		for _, i := range l.members(z) {
			held := n[i].PlaintextsForTest()
			for _, zz := range n[i].Zones() {
				ms, _ := n[i].Members(zz.ID)
				as, _ := n[i].Alerts(zz.ID)
				b, _ := json.Marshal([]any{ms, as})
				held = append(held, b)
			}
			if len(held) == 0 {
				t.Fatalf("node %d holds nothing to scan", i)
			}
			for _, b := range held {
				for _, sec := range secrets {
					if bytes.Contains(b, sec) {
						t.Errorf("node %d (zone %s) holds %q of zone A", i, z.Name, sec)
					}
				}
			}
		}
	}

	// Auto-share: A's always-on link end shares every verified sighting
	// on its own, one hop.
	policy := "verified"
	if _, err := n[a1].SetSettings(ctx, api.SettingsRequest{Zone: l.A.ID, AutoShare: &policy}); err != nil {
		t.Fatal(err)
	}
	auto, err := n[a3].Report(ctx, api.ReportRequest{Zone: l.A.ID, What: "officers at the shelter door", Where: "Cowan & Queen"})
	if err != nil {
		t.Fatal(err)
	}
	l.waitZone(t, ctx, l.A, "auto sighting seen", func(i int) bool { return len(byText(n[i], l.A.ID, auto.What)) == 1 })
	if _, err := n[a2].Confirm(ctx, auto.ID); err != nil {
		t.Fatal(err)
	}
	l.waitZone(t, ctx, l.B, "auto-shared sighting arrives in B", func(i int) bool {
		got := byText(n[i], l.B.ID, auto.What)
		return len(got) == 1 && got[0].Via == "Parkdale"
	})

	// Either side ends a link; the other side follows.
	ls, _ := n[b1].Links(l.B.ID)
	var ab string
	for _, x := range ls {
		if x.Peer == "Parkdale" {
			ab = x.ID
		}
	}
	if _, err := n[b2].Unlink(ctx, l.B.ID, "Parkdale"); !errors.Is(err, api.ErrForbidden) {
		t.Fatalf("member unlinks = %v, want forbidden", err)
	}
	if _, err := n[b1].Unlink(ctx, l.B.ID, "Parkdale"); err != nil {
		t.Fatal(err)
	}
	l.waitZone(t, ctx, l.A, "end of the link follows to A", func(i int) bool { return linkState(n[i], l.A.ID, ab) == "ended" })
}

// TestLinkCodes: a link code works once, only in another zone, only
// before it expires, and only for organizers.
func TestLinkCodes(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node mocknet test; skipped in -short mode")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	l := startLinked(t, ctx)
	n := l.nw.Nodes

	if _, err := n[a2].LinkOffer(ctx, api.LinkOfferRequest{Zone: l.A.ID}); !errors.Is(err, api.ErrForbidden) {
		t.Fatalf("verifier offers a link = %v, want forbidden", err)
	}
	o, err := n[a1].LinkOffer(ctx, api.LinkOfferRequest{Zone: l.A.ID, Name: "Parkdale West"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n[b2].AcceptLink(ctx, api.AcceptLinkRequest{Zone: l.B.ID, Code: o.Code}); !errors.Is(err, api.ErrForbidden) {
		t.Fatalf("member accepts = %v, want forbidden", err)
	}
	l.waitZone(t, ctx, l.A, "offer recorded", func(i int) bool { return linkState(n[i], l.A.ID, o.Link) == "offered" })
	if _, err := n[a1].AcceptLink(ctx, api.AcceptLinkRequest{Zone: l.A.ID, Code: o.Code}); !errors.Is(err, api.ErrInvalid) || !strings.Contains(err.Error(), "another zone") {
		t.Fatalf("accept in the offering zone = %v, want invalid: another zone", err)
	}
	if _, err := n[c1].AcceptLink(ctx, api.AcceptLinkRequest{Zone: l.C.ID, Code: o.Code}); err != nil {
		t.Fatalf("accept in C: %v", err)
	}
	if _, err := n[c1].AcceptLink(ctx, api.AcceptLinkRequest{Zone: l.C.ID, Code: o.Code}); !errors.Is(err, api.ErrInvalid) || !strings.Contains(err.Error(), "already") {
		t.Fatalf("accept twice in C = %v, want invalid: already", err)
	}
	if _, err := n[b1].AcceptLink(ctx, api.AcceptLinkRequest{Zone: l.B.ID, Code: o.Code}); !errors.Is(err, api.ErrInvalid) || !strings.Contains(err.Error(), "already used") {
		t.Fatalf("code used again from B = %v, want invalid: already used", err)
	}
	if st := linkState(n[b1], l.B.ID, o.Link); st != "" {
		t.Fatalf("B recorded a refused link: %q", st)
	}

	short, err := n[a1].LinkOffer(ctx, api.LinkOfferRequest{Zone: l.A.ID, TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	l.clk.Advance(2 * time.Minute)
	if _, err := n[b1].AcceptLink(ctx, api.AcceptLinkRequest{Zone: l.B.ID, Code: short.Code}); !errors.Is(err, api.ErrInvalid) || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("expired code = %v, want invalid: expired", err)
	}
	if _, err := n[b1].AcceptLink(ctx, api.AcceptLinkRequest{Zone: l.B.ID, Code: "lookoutlink2:AAAA"}); !errors.Is(err, api.ErrInvalid) {
		t.Fatalf("damaged code = %v, want invalid", err)
	}
}

// BenchmarkLinkedDelivery compares, on the three linked zones, how long a
// sighting takes to reach every member of B when reported in B, and when
// shared into B from A (from the share, for a sighting already verified in
// A): the link adds one relay by A's end and one publish by B's end.
func BenchmarkLinkedDelivery(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	l := startLinked(b, ctx)
	n := l.nw.Nodes
	var local, linked time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		l.clk.Advance(11 * time.Minute) // a fresh rate-limit window
		what := fmt.Sprintf("local sighting %d", i)
		start := time.Now()
		if _, err := n[b2].Report(ctx, api.ReportRequest{Zone: l.B.ID, What: what, Where: fmt.Sprintf("corner %d", i)}); err != nil {
			b.Fatal(err)
		}
		l.waitZone(b, ctx, l.B, "local sighting", func(j int) bool { return len(byText(n[j], l.B.ID, what)) == 1 })
		local += time.Since(start)

		what = fmt.Sprintf("shared sighting %d", i)
		s, err := n[a3].Report(ctx, api.ReportRequest{Zone: l.A.ID, What: what, Where: fmt.Sprintf("avenue %d", i)})
		if err != nil {
			b.Fatal(err)
		}
		l.waitZone(b, ctx, l.A, "sighting in A", func(j int) bool { return len(byText(n[j], l.A.ID, what)) == 1 })
		if _, err := n[a2].Confirm(ctx, s.ID); err != nil {
			b.Fatal(err)
		}
		l.waitZone(b, ctx, l.A, "verified in A", func(j int) bool {
			got := byText(n[j], l.A.ID, what)
			return len(got) == 1 && got[0].State == "verified"
		})
		start = time.Now()
		if _, err := n[a2].Share(ctx, api.ShareRequest{Alert: s.ID}); err != nil {
			b.Fatal(err)
		}
		l.waitZone(b, ctx, l.B, "shared sighting in B", func(j int) bool { return len(byText(n[j], l.B.ID, what)) == 1 })
		linked += time.Since(start)
	}
	b.ReportMetric(float64(local.Microseconds())/float64(b.N)/1000, "ms/local")
	b.ReportMetric(float64(linked.Microseconds())/float64(b.N)/1000, "ms/linked")
}
