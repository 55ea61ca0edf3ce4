package node

import (
	"log/slog"
	"time"

	"lookout/node/api"
	core "lookout/node/internal/zone"
	"lookout/protocol"
)

// Delivery's in-memory part: what a zone does with an alert or update,
// done by the zone core's State under its lock (core.State.Take, Add,
// ChangedViews, Adopt) and returned as what changed for the node
// (deliver.go) to save, log, show to watchers and hand to its link ends.

// added is what adding a message to a zone changed (core.Added), with the
// watchers to tell.
type added struct {
	core.Added
	watchers []chan api.Alert // the zone's watchers, to tell View, if Shown
}

// add applies msg in memory at now and records its sender's key
// (core.State.Add). An alert or update joins the zone's messages, env kept
// for catch-up; a governance message is only marked seen (storeGov keeps
// it). With wantView, add returns the view of the card a new alert or
// update changes, unless its alert is not held or nothing in the card
// counts, and the watchers to tell.
func (z *zone) add(msg *protocol.Message, env []byte, now time.Time, wantView bool) added {
	got := added{Added: z.Add(msg, env, now, wantView)}
	if got.Shown {
		got.watchers = z.watcherList()
	}
	return got
}

// changedViews returns the views as of now of the zone's cards that hold
// any of the alerts targets, each card once (core.State.ChangedViews), and
// the watchers to tell.
func (z *zone) changedViews(targets map[protocol.AlertID]bool, now time.Time) ([]api.Alert, []chan api.Alert) {
	return z.ChangedViews(targets, now), z.watcherList()
}

// watcherList copies the zone's watchers, to tell them after z.mu is
// released.
func (z *zone) watcherList() []chan api.Alert {
	z.mu.Lock()
	defer z.mu.Unlock()
	out := make([]chan api.Alert, 0, len(z.watchers))
	for w := range z.watchers {
		out = append(out, w)
	}
	return out
}

// tell sends every view to every watcher without waiting: a view that
// does not fit a watcher's buffer is dropped for it and logged. It returns
// how many were dropped.
func tell(log *slog.Logger, watchers []chan api.Alert, views ...api.Alert) (dropped int) {
	for _, v := range views {
		for _, w := range watchers {
			select {
			case w <- v:
			default:
				dropped++
				log.Warn("watcher too slow; dropped an update")
			}
		}
	}
	return dropped
}
