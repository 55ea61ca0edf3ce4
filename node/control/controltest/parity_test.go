package controltest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.uber.org/goleak"

	"lookout/node/api"
	"lookout/node/control"
	"lookout/node/control/controltest"
	"lookout/node/sim"
)

// The fake and a real node answer the same control API calls alike: one
// table of cases runs against both, on a zone where the caller is the only
// member and its organizer. A case returns a summary of what the caller
// sees; both backends must give the same summary and the same kind of error.

type apiCase struct {
	name string
	run  func(ctx context.Context, b control.Backend, zone string) (string, error)
	want error // nil, api.ErrInvalid, api.ErrNotFound or api.ErrForbidden
}

func alertSummary(a api.Alert) string {
	s := fmt.Sprintf("%s %s where=%q exercise=%v", a.Kind, a.State, a.Where, a.Exercise)
	if a.Confirmations != nil {
		s += fmt.Sprintf(" confirmations=%d", *a.Confirmations)
	}
	if a.Responders != nil {
		s += fmt.Sprintf(" responders=%+v", *a.Responders)
	}
	return s
}

func report(ctx context.Context, b control.Backend, zone string) (api.Alert, error) {
	return b.Report(ctx, api.ReportRequest{Zone: zone, What: "two vans", Where: "Main St", Size: 4})
}

func callout(ctx context.Context, b control.Backend, zone string) (api.Alert, error) {
	return b.Callout(ctx, api.CalloutRequest{Zone: zone, Title: "court watch", Where: "County court", Need: 3})
}

var apiCases = []apiCase{
	{"report", func(ctx context.Context, b control.Backend, zone string) (string, error) {
		a, err := report(ctx, b, zone)
		return alertSummary(a), err
	}, nil},
	{"report exercise", func(ctx context.Context, b control.Backend, zone string) (string, error) {
		a, err := b.Report(ctx, api.ReportRequest{Zone: zone, What: "drill", Where: "Main St", Exercise: true})
		return alertSummary(a), err
	}, nil},
	{"report without a place", func(ctx context.Context, b control.Backend, zone string) (string, error) {
		_, err := b.Report(ctx, api.ReportRequest{Zone: zone, What: "two vans"})
		return "", err
	}, api.ErrInvalid},
	{"report a negative size", func(ctx context.Context, b control.Backend, zone string) (string, error) {
		_, err := b.Report(ctx, api.ReportRequest{Zone: zone, What: "two vans", Where: "Main St", Size: -1})
		return "", err
	}, api.ErrInvalid},
	{"report to an unknown zone", func(ctx context.Context, b control.Backend, _ string) (string, error) {
		_, err := b.Report(ctx, api.ReportRequest{Zone: "nowhere", What: "two vans", Where: "Main St"})
		return "", err
	}, api.ErrNotFound},
	{"alerts after a report", func(ctx context.Context, b control.Backend, zone string) (string, error) {
		if _, err := report(ctx, b, zone); err != nil {
			return "", err
		}
		as, err := b.Alerts(zone)
		s := fmt.Sprint(len(as))
		for _, a := range as {
			s += "; " + alertSummary(a)
		}
		return s, err
	}, nil},
	{"recent places", func(ctx context.Context, b control.Backend, zone string) (string, error) {
		for _, where := range []string{"Main St", "Oak Ave", "Main St"} {
			if _, err := b.Report(ctx, api.ReportRequest{Zone: zone, What: "two vans", Where: where}); err != nil {
				return "", err
			}
		}
		for _, z := range b.Zones() {
			if z.ID == zone || z.Name == zone {
				if got, want := fmt.Sprintf("%q", z.Places), `["Main St" "Oak Ave"]`; got != want {
					return got, fmt.Errorf("recent places %s, want %s (newest first, no repeats)", got, want)
				}
				return fmt.Sprintf("%q", z.Places), nil
			}
		}
		return "", api.ErrNotFound
	}, nil},
	{"alerts of an unknown zone", func(ctx context.Context, b control.Backend, _ string) (string, error) {
		_, err := b.Alerts("nowhere")
		return "", err
	}, api.ErrNotFound},
	{"callout", func(ctx context.Context, b control.Backend, zone string) (string, error) {
		a, err := callout(ctx, b, zone)
		return alertSummary(a), err
	}, nil},
	{"answer a callout", func(ctx context.Context, b control.Backend, zone string) (string, error) {
		c, err := callout(ctx, b, zone)
		if err != nil {
			return "", err
		}
		a, err := b.Respond(ctx, c.ID, "enroute")
		return alertSummary(a), err
	}, nil},
	{"answer a sighting", func(ctx context.Context, b control.Backend, zone string) (string, error) {
		r, err := report(ctx, b, zone)
		if err != nil {
			return "", err
		}
		_, err = b.Respond(ctx, r.ID, "enroute")
		return "", err
	}, api.ErrInvalid},
	{"answer with an unknown status", func(ctx context.Context, b control.Backend, zone string) (string, error) {
		c, err := callout(ctx, b, zone)
		if err != nil {
			return "", err
		}
		_, err = b.Respond(ctx, c.ID, "maybe")
		return "", err
	}, api.ErrInvalid},
	{"clear own report", func(ctx context.Context, b control.Backend, zone string) (string, error) {
		r, err := report(ctx, b, zone)
		if err != nil {
			return "", err
		}
		a, err := b.Clear(ctx, r.ID, "gone")
		return alertSummary(a) + " reason=" + a.ClearReason, err
	}, nil},
	{"clear twice", func(ctx context.Context, b control.Backend, zone string) (string, error) {
		r, err := report(ctx, b, zone)
		if err != nil {
			return "", err
		}
		if _, err := b.Clear(ctx, r.ID, "gone"); err != nil {
			return "", err
		}
		_, err = b.Clear(ctx, r.ID, "gone")
		return "", err
	}, api.ErrInvalid},
	{"confirm an unknown alert", func(ctx context.Context, b control.Backend, _ string) (string, error) {
		_, err := b.Confirm(ctx, "00112233445566778899aabbccddeeff")
		return "", err
	}, api.ErrNotFound},
	{"co-sign own callout", func(ctx context.Context, b control.Backend, zone string) (string, error) {
		c, err := callout(ctx, b, zone)
		if err != nil {
			return "", err
		}
		_, err = b.Cosign(ctx, c.ID)
		return "", err
	}, api.ErrInvalid},
	{"settings", func(ctx context.Context, b control.Backend, zone string) (string, error) {
		s, err := b.Settings(zone)
		return fmt.Sprintf("%+v", s), err
	}, nil},
	{"members", func(ctx context.Context, b control.Backend, zone string) (string, error) {
		ms, err := b.Members(zone)
		s := fmt.Sprint(len(ms))
		for _, m := range ms {
			s += " " + m.Role
		}
		return s, err
	}, nil},
}

// backend starts a fresh backend of the given kind with one zone.
func backend(t *testing.T, ctx context.Context, real bool) (control.Backend, string) {
	t.Helper()
	var b control.Backend = new(controltest.Fake)
	if real {
		nw, err := sim.Start(ctx, sim.Config{Nodes: 1, Dir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nw.Close() })
		b = nw.Nodes[0]
	}
	z, err := b.CreateZone(ctx, "north")
	if err != nil {
		t.Fatal(err)
	}
	return b, z.Name
}

func errClass(err error) string {
	for _, e := range []error{api.ErrInvalid, api.ErrNotFound, api.ErrForbidden} {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	if err != nil {
		return "other: " + err.Error()
	}
	return "ok"
}

func TestFakeMatchesNode(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	for _, tc := range apiCases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			var got [2]string
			for i, real := range []bool{false, true} {
				b, zone := backend(t, ctx, real)
				s, err := tc.run(ctx, b, zone)
				if errClass(err) != errClass(tc.want) {
					t.Errorf("node=%v: error %v, want %v", real, err, tc.want)
				}
				got[i] = s
			}
			if got[0] != got[1] {
				t.Errorf("fake and node differ:\nfake: %s\nnode: %s", got[0], got[1])
			}
		})
	}
}
