package node

import (
	"log/slog"
	"slices"
	"time"

	"lookout/node/api"
	core "lookout/node/internal/zone"
	"lookout/protocol"
)

// Delivery's in-memory part: what a zone does with an alert or update
// under the State's mutex, returned as what changed for the node (deliver.go) to save,
// log, show to watchers and hand to its link ends.

// take decides, at now, what becomes of a message arriving with env
// before it is saved: seen if it was applied before (never for governance,
// which storeGov dedupes); held if it is an update received from another
// node for an alert z does not hold, which then waits for its alert
// (core.Messages.Waits), or is dropped, reported by dropped, when too many
// wait.
func (z *zone) take(msg *protocol.Message, env []byte, now time.Time) (seen, held, dropped bool) {
	z.Mu.Lock()
	defer z.Mu.Unlock()
	if z.Msgs.Seen(msg.ID) && !msg.Alert.Kind.IsGovernance() {
		return true, false, false
	}
	held, dropped = z.Msgs.Waits(msg, env, now)
	return false, held, dropped
}

// added is what adding a message to a zone changed.
type added struct {
	ok       bool             // the message is new to the zone
	target   protocol.AlertID // the alert whose card it changes; zero for governance
	view     api.Alert        // that card as of the add, if shown
	shown    bool             // view is set: asked for, and the card exists and counts
	watchers []chan api.Alert // the zone's watchers, to tell view, if shown
}

// add applies msg in memory at now and records its sender's key. An alert
// or update joins the zone's messages, env kept for catch-up; a governance
// message is only marked seen (storeGov keeps it). With wantView, add
// returns the view of the card a new alert or update changes, unless its
// alert is not held or nothing in the card counts, and the watchers to
// tell.
func (z *zone) add(msg *protocol.Message, env []byte, now time.Time, wantView bool) added {
	got := z.addState(msg, env, now, wantView)
	if got.shown {
		got.watchers = z.watcherList()
	}
	return got
}

// addState is add's part under the State's mutex.
func (z *zone) addState(msg *protocol.Message, env []byte, now time.Time, wantView bool) added {
	z.Mu.Lock()
	defer z.Mu.Unlock()
	var got added
	if msg.Alert.Kind.IsGovernance() {
		got.ok = !z.Msgs.Seen(msg.ID)
		z.Msgs.MarkSeen(msg.ID)
		z.Pubkeys[msg.Alert.Sender] = msg.Chain.Leaf().Subject
		return got
	}
	got.target, got.ok = z.Msgs.Add(msg, env)
	if !got.ok {
		return got
	}
	z.Pubkeys[msg.Alert.Sender] = msg.Chain.Leaf().Subject
	if !wantView {
		return got
	}
	got.view, got.shown = z.viewOfLocked(got.target, now)
	return got
}

// changedViews returns the views as of now of the zone's cards that hold
// any of the alerts targets, each card once, and the watchers to tell.
func (z *zone) changedViews(targets map[protocol.AlertID]bool, now time.Time) ([]api.Alert, []chan api.Alert) {
	z.Mu.Lock()
	var views []api.Alert
	for _, c := range z.cardsLocked(now) {
		if slices.ContainsFunc(c.Roots, func(id protocol.AlertID) bool { return targets[id] }) {
			views = append(views, c.View)
		}
	}
	z.Mu.Unlock()
	return views, z.watcherList()
}

// adopt returns, and stops holding, the updates that waited for the alert
// id and are still within core.PendingTTL at now.
func (z *zone) adopt(id protocol.AlertID, now time.Time) []core.Held {
	z.Mu.Lock()
	defer z.Mu.Unlock()
	return z.Msgs.Adopt(id, now)
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
