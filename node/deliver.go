package node

import (
	"log/slog"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"

	"lookout/node/api"
	core "lookout/node/internal/zone"
	"lookout/protocol"
)

// From the door to the screen: a message admitted (door.go) is stored,
// applied to its zone (the zone core's State) and shown to watchers.

func (n *Node) readLoop(z *zone, sub *pubsub.Subscription) {
	defer n.wg.Done()
	for {
		m, err := sub.Next(n.ctx)
		if err != nil {
			return
		}
		if msg, ok := m.ValidatorData.(*protocol.Message); ok {
			n.store(z, msg, m.Data)
		}
	}
}

// store saves a validated message, adds it to its zone and notifies
// watchers of the alert it changes. Storing the same message twice is a
// no-op. An alert or update is in the store before store returns, and
// before it is marked seen, so a message seen is a message saved.
//
// An update whose alert this node does not hold is neither stored nor
// applied: it waits in the zone's pending set (core.Pending) and is stored
// once its alert arrives, or dropped.
func (n *Node) store(z *zone, msg *protocol.Message, env []byte) error {
	// Governance always goes on to storeGov, which returns once the
	// message is kept (by this call or one under way on another path).
	seen, held, dropped := z.Take(msg, env, n.now())
	if dropped {
		n.log.Debug(pendingDropped, "zone", z.Name())
	}
	if seen || held {
		return nil
	}
	var err error
	if env != nil && !msg.Alert.Kind.IsGovernance() {
		if err = n.records.saveMessage(z, msg, env); err != nil {
			n.log.Error("save alert", "err", err)
		}
	}
	n.apply(z, msg, env, applyLive)
	n.adopt(z, msg)
	return err
}

// pendingDropped is logged when an update for an unknown alert cannot wait.
const pendingDropped = "update for an unknown alert dropped: too many waiting"

// adopt stores the updates that were waiting for msg, if it is an alert.
func (n *Node) adopt(z *zone, msg *protocol.Message) {
	if !msg.Alert.IsRoot() {
		return
	}
	for _, h := range z.Adopt(msg.ID, n.now()) {
		_ = n.store(z, h.Msg, h.Env) // store logs its own failure
	}
}

// How apply treats a message.
type applyMode int

const (
	applyLive    applyMode = iota // tell watchers, act on links
	applyBatch                    // act on links; the caller tells watchers once
	applyRestore                  // from the store at start: neither
)

// apply adds a message to its zone in memory (zone.add) and, depending on
// mode, tells the zone's watchers about the alert it changes and lets this
// node's link ends act on it.
func (n *Node) apply(z *zone, msg *protocol.Message, env []byte, mode applyMode) {
	got := z.add(msg, env, n.now(), mode == applyLive)
	if msg.Alert.Kind.IsGovernance() {
		// storeGov dedupes, and returns only once the message is kept, so
		// a publisher sees its own governance applied even when gossip
		// delivered it first.
		n.storeGov(z, msg, env)
	}
	if !got.OK {
		return
	}
	if got.Shown {
		n.log.Info("alert", "kind", got.View.Kind, "state", got.View.State)
		n.log.Debug("alert", "zone", z.Name(), "id", got.View.ID)
		tell(n.log, got.watchers, got.View)
	}
	if mode != applyRestore {
		n.links.onStored(z, msg) // linked zones (link_relay.go)
	}
}

// storeBatch saves admitted alerts and updates in one transaction, adds
// them to their zones and tells each zone's watchers once about every card
// they changed.
func (n *Node) storeBatch(batch []admitted) {
	if len(batch) == 0 {
		return
	}
	// Updates for alerts neither held nor in the batch wait (store).
	inBatch := map[protocol.AlertID]bool{}
	for _, a := range batch {
		if a.msg.Alert.IsRoot() {
			inBatch[a.msg.ID] = true
		}
	}
	now := n.now()
	kept := batch[:0]
	for _, a := range batch {
		if !inBatch[a.msg.Alert.Ref] {
			_, held, dropped := a.z.Take(a.msg, a.env, now)
			if dropped {
				n.log.Debug(pendingDropped, "zone", a.z.Name())
			}
			if held {
				continue
			}
		}
		kept = append(kept, a)
	}
	batch = kept
	if len(batch) == 0 {
		return
	}
	defer func() {
		for _, a := range batch {
			n.adopt(a.z, a.msg)
		}
	}()
	if err := n.records.saveMessages(batch); err != nil {
		n.log.Error("save alerts", "count", len(batch), "err", err)
	}
	touched := map[*zone]map[protocol.AlertID]bool{}
	for _, a := range batch {
		n.apply(a.z, a.msg, a.env, applyBatch)
		if touched[a.z] == nil {
			touched[a.z] = map[protocol.AlertID]bool{}
		}
		target := a.msg.ID
		if a.msg.Alert.IsUpdate() {
			target = a.msg.Alert.Ref
		}
		touched[a.z][target] = true
	}
	for z, targets := range touched {
		views, watchers := z.changedViews(targets, n.now())
		n.log.Info("caught up", "messages", len(targets), "alerts", len(views))
		tell(n.log, watchers, views...)
	}
}

// What a zone does with an alert or update in memory is the zone core's
// (core.State.Take, Add, ChangedViews, Adopt, under the State's lock);
// the zone adds the watchers to tell (z.mu).

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
