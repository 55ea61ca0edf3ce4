package node

import (
	"slices"

	pubsub "github.com/libp2p/go-libp2p-pubsub"

	"lookout/node/api"
	"lookout/node/store"
	"lookout/protocol"
)

// From the door to the screen: a message admitted (door.go) is stored,
// applied to its zone and shown to watchers.

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
	z.mu.Lock()
	// Governance always goes on to storeGov, which returns once the
	// message is kept (by this call or one under way on another path).
	seen := z.msgs.Seen(msg.ID) && !msg.Alert.Kind.IsGovernance()
	held := !seen && n.waitsLocked(z, msg, env)
	z.mu.Unlock()
	if seen || held {
		return nil
	}
	var err error
	if env != nil && !msg.Alert.Kind.IsGovernance() {
		if err = n.saveMessage(z, msg, env); err != nil {
			n.log.Error("save alert", "err", err)
		}
	}
	n.apply(z, msg, env, applyLive)
	n.adopt(z, msg)
	return err
}

// waitsLocked reports whether msg is an update received from another
// node for an alert z does not hold; it then waits for its alert
// (core.Messages.Waits), or is dropped if too many wait. Callers hold z.mu.
func (n *Node) waitsLocked(z *zone, msg *protocol.Message, env []byte) bool {
	waits, dropped := z.msgs.Waits(msg, env, n.now())
	if dropped {
		n.log.Debug("update for an unknown alert dropped: too many waiting", "zone", z.rec.Name)
	}
	return waits
}

// adopt stores the updates that were waiting for msg, if it is an alert.
func (n *Node) adopt(z *zone, msg *protocol.Message) {
	if !msg.Alert.IsRoot() {
		return
	}
	z.mu.Lock()
	held := z.msgs.Adopt(msg.ID, n.now())
	z.mu.Unlock()
	for _, h := range held {
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

// apply adds a message to its zone in memory and, depending on mode, tells
// the zone's watchers about the alert it changes and lets this node's link
// ends act on it.
func (n *Node) apply(z *zone, msg *protocol.Message, env []byte, mode applyMode) {
	z.mu.Lock()
	if msg.Alert.Kind.IsGovernance() {
		// storeGov dedupes, and returns only once the message is kept, so
		// a publisher sees its own governance applied even when gossip
		// delivered it first.
		first := !z.msgs.Seen(msg.ID)
		z.msgs.MarkSeen(msg.ID)
		z.pubkeys[msg.Alert.Sender] = msg.Chain.Leaf().Subject
		z.mu.Unlock()
		n.storeGov(z, msg, env)
		if first && mode != applyRestore {
			n.links.onStored(z, msg) // linked zones (link_relay.go)
		}
		return
	}
	target, added := z.msgs.Add(msg, env)
	if !added {
		z.mu.Unlock()
		return
	}
	if mode != applyRestore {
		defer n.links.onStored(z, msg) // linked zones (link_relay.go); runs after z.mu is released
	}
	z.pubkeys[msg.Alert.Sender] = msg.Chain.Leaf().Subject
	if mode != applyLive {
		z.mu.Unlock()
		return
	}
	view, ok := z.viewOfLocked(target, n.now())
	watchers := make([]chan api.Alert, 0, len(z.watchers))
	for w := range z.watchers {
		watchers = append(watchers, w)
	}
	z.mu.Unlock()
	if !ok {
		return // an update that arrived before its alert; shown once the alert arrives
	}
	n.log.Info("alert", "kind", view.Kind, "state", view.State)
	n.log.Debug("alert", "zone", z.rec.Name, "id", view.ID)
	for _, w := range watchers {
		select {
		case w <- view:
		default:
			n.log.Warn("watcher too slow; dropped an update")
		}
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
	kept := batch[:0]
	for _, a := range batch {
		a.z.mu.Lock()
		held := !inBatch[a.msg.Alert.Ref] && !a.z.msgs.Seen(a.msg.ID) && n.waitsLocked(a.z, a.msg, a.env)
		a.z.mu.Unlock()
		if !held {
			kept = append(kept, a)
		}
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
	recs := make([]store.Record, 0, len(batch))
	for _, a := range batch {
		recs = append(recs, messageRecord(a.z, a.msg, a.env))
	}
	if err := n.st.PutMany(recs); err != nil {
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
		z.mu.Lock()
		var views []api.Alert
		for _, c := range z.cardsLocked(n.now()) {
			if slices.ContainsFunc(c.Roots, func(id protocol.AlertID) bool { return targets[id] }) {
				views = append(views, c.View)
			}
		}
		watchers := make([]chan api.Alert, 0, len(z.watchers))
		for w := range z.watchers {
			watchers = append(watchers, w)
		}
		z.mu.Unlock()
		n.log.Info("caught up", "messages", len(targets), "alerts", len(views))
		for _, v := range views {
			for _, w := range watchers {
				select {
				case w <- v:
				default:
					n.log.Warn("watcher too slow; dropped an update")
				}
			}
		}
	}
}
