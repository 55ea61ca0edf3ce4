// Package practice runs a practice zone: the member's own practice node and
// three simulated members on an in-process simulated network (mocknet),
// with temporary homes. The simulated members send an exercise sighting,
// confirm it until it is verified, send an exercise callout and answer it.
// Nothing leaves the machine: mocknet has no sockets.
package practice

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"lookout/app"
	"lookout/node"
	"lookout/node/api"
	"lookout/node/sim"
)

// members is how many simulated members join the practice node.
const members = 3

// DefaultStep is the pause between two steps of the script, long enough
// for a newcomer to see each change.
const DefaultStep = 4 * time.Second

// Zone is a running practice zone. Its node is the member's: it is an
// organizer of the zone; member 1 is an organizer, 2 a verifier, 3 a member.
type Zone struct {
	*node.Node
	nw     *sim.Network
	dir    string
	cancel context.CancelFunc
	wg     sync.WaitGroup
	log    *slog.Logger
	once   sync.Once
	err    error
}

var _ app.PracticeZone = (*Zone)(nil)

// Starter returns an app.StartPractice that pauses step between script
// steps and logs to log (nil discards).
func Starter(step time.Duration, log *slog.Logger) app.StartPractice {
	return func(ctx context.Context, s app.PracticeScript) (app.PracticeZone, error) {
		return Start(ctx, s, step, log)
	}
}

// Start starts the practice zone and its script.
func Start(ctx context.Context, s app.PracticeScript, step time.Duration, log *slog.Logger) (*Zone, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dir, err := os.MkdirTemp("", "lkpractice")
	if err != nil {
		return nil, fmt.Errorf("create practice homes: %w", err)
	}
	nw, err := sim.Start(ctx, sim.Config{Nodes: members + 1, Dir: dir, RedialInterval: time.Second})
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start practice nodes: %w", err)
	}
	z := &Zone{Node: nw.Nodes[0], nw: nw, dir: dir, log: log}
	zone, err := nw.FormZone(ctx, s.Zone, map[int]string{1: "organizer", 2: "verifier"})
	if err != nil {
		z.Close()
		return nil, fmt.Errorf("form practice zone: %w", err)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err = nw.WaitMesh(wctx, zone.ID, members)
	cancel()
	if err != nil {
		z.Close()
		return nil, fmt.Errorf("connect practice members: %w", err)
	}
	sctx, cancel := context.WithCancel(context.Background())
	z.cancel = cancel
	z.wg.Go(func() {
		if err := z.script(sctx, zone.ID, s, step); err != nil && !errors.Is(err, context.Canceled) {
			log.Warn("practice script stopped", "err", err)
		}
	})
	return z, nil
}

// script plays the simulated members' part.
func (z *Zone) script(ctx context.Context, zoneID string, s app.PracticeScript, step time.Duration) error {
	pause := func() error {
		t := time.NewTimer(step)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			return nil
		}
	}
	sim1, sim2, sim3 := z.nw.Nodes[1], z.nw.Nodes[2], z.nw.Nodes[3]
	if err := pause(); err != nil {
		return err
	}
	a, err := sim1.Report(ctx, api.ReportRequest{Zone: zoneID, What: s.SightingWhat, Where: s.SightingWhere, Size: 2, Exercise: true})
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	// The others confirm once the report has reached them.
	for _, n := range []*node.Node{sim3, sim2} {
		if err := seen(ctx, n, zoneID, a.ID); err != nil {
			return err
		}
		if err := pause(); err != nil {
			return err
		}
		if _, err := n.Confirm(ctx, a.ID); err != nil {
			return fmt.Errorf("confirm: %w", err)
		}
	}
	if err := pause(); err != nil {
		return err
	}
	c, err := sim1.Callout(ctx, api.CalloutRequest{Zone: zoneID, Title: s.CalloutTitle, Where: s.CalloutWhere,
		When: "", Need: 3, Bring: s.CalloutBring, Exercise: true})
	if err != nil {
		return fmt.Errorf("callout: %w", err)
	}
	for _, r := range []struct {
		n      *node.Node
		status string
	}{{sim2, "enroute"}, {sim3, "onscene"}} {
		if err := seen(ctx, r.n, zoneID, c.ID); err != nil {
			return err
		}
		if err := pause(); err != nil {
			return err
		}
		if _, err := r.n.Respond(ctx, c.ID, r.status); err != nil {
			return fmt.Errorf("respond: %w", err)
		}
	}
	return nil
}

// seen waits until n has alert id.
func seen(ctx context.Context, n *node.Node, zoneID, id string) error {
	return sim.WaitFor(ctx, func() bool {
		as, _ := n.Alerts(zoneID)
		for _, a := range as {
			if a.ID == id || slices.Contains(a.Sightings, id) {
				return true
			}
		}
		return false
	})
}

// Close stops the script, every practice node and the simulated network,
// and removes the temporary homes.
func (z *Zone) Close() error {
	z.once.Do(func() {
		if z.cancel != nil {
			z.cancel()
		}
		z.wg.Wait()
		z.err = errors.Join(z.nw.Close(), os.RemoveAll(z.dir))
	})
	return z.err
}
