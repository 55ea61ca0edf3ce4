package node

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	ma "github.com/multiformats/go-multiaddr"

	"lookout/crypto"
	"lookout/node/api"
	core "lookout/node/internal/zone"
	"lookout/node/store"
	"lookout/protocol"
)

// zoneRecord is a zone membership as stored in zones.json.
type zoneRecord struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Epoch   uint32    `json:"epoch"`
	Secret  []byte    `json:"secret"`
	Root    []byte    `json:"root"`  // root (founder) public key
	Chain   [][]byte  `json:"chain"` // this member's certificate chain, leaf first
	Peers   []string  `json:"peers"` // known members' multiaddrs with /p2p/, for redialling
	Created time.Time `json:"created"`
	// Old holds the secrets of earlier epochs, to read governance messages
	// that members who were offline still need.
	Old []epochSecret `json:"old,omitempty"`
	// EpochFrom is the ID of the rekey that set the current epoch.
	EpochFrom string `json:"epoch_from,omitempty"`
	// Gov holds the zone's governance envelopes (members, roles, removals,
	// rekeys, settings): the roster is folded from them.
	Gov [][]byte `json:"gov,omitempty"`
	// Removed is set once this member has been removed from the zone.
	Removed bool `json:"removed,omitempty"`
}

type epochSecret struct {
	Epoch  uint32 `json:"epoch"`
	Secret []byte `json:"secret"`
}

// zone is a zone this node is a member of, with its topic and alerts.
//
// Fixed at creation: id, root, val. rec is guarded by Node.mu; the rest by
// z.mu (lock Node.mu first when both are needed).
type zone struct {
	rec       zoneRecord
	id        protocol.ZoneID
	root      *crypto.PublicKey
	val       *protocol.Validator
	discovery io.Closer // local-network discovery, if on

	mu        sync.Mutex
	chain     protocol.Chain // this member's certificate chain
	role      protocol.Role
	settings  protocol.Settings
	topic     *pubsub.Topic
	sub       *pubsub.Subscription
	epoch     uint32
	epochs    map[uint32]crypto.ZoneSecret
	gov       map[protocol.AlertID]*govMsg
	roster    protocol.Roster
	pubkeys   map[crypto.MemberID]*crypto.PublicKey
	rules     core.Rules // superseded certificates, rate limits
	removed   bool
	roots     map[protocol.AlertID]*protocol.Message   // sightings and callouts
	updates   map[protocol.AlertID][]*protocol.Message // by the alert they refer to
	seen      map[protocol.AlertID]bool
	envs      map[protocol.AlertID]stored // alerts and updates as received, for members catching up
	watchers  map[chan api.Alert]struct{}
	announced time.Time // last own member announcement
	// Linked zones (links.go): folded with the roster; forwarded messages per link.
	links map[protocol.LinkID]*protocol.Link
}

const watchBuffer = 256

func (z *zone) close() {
	if z.discovery != nil {
		z.discovery.Close()
	}
	if z.sub != nil {
		z.sub.Cancel()
	}
	if z.topic != nil {
		z.topic.Close()
	}
}

func (z *zone) key(epoch uint32) (*crypto.AEADKey, bool) {
	z.mu.Lock()
	defer z.mu.Unlock()
	s, ok := z.epochs[epoch]
	if !ok {
		return nil, false
	}
	return s.AlertKey(epoch), true
}

// snapshot is a consistent view of a zone's mutable membership state.
type snapshot struct {
	chain   protocol.Chain
	role    protocol.Role
	topic   *pubsub.Topic
	epoch   uint32
	secret  crypto.ZoneSecret
	removed bool
}

func (z *zone) snapshot() snapshot {
	z.mu.Lock()
	defer z.mu.Unlock()
	return snapshot{chain: z.chain, role: z.role, topic: z.topic, epoch: z.epoch, secret: z.epochs[z.epoch], removed: z.removed}
}

// current returns the epoch and secret in use.
func (z *zone) current() (uint32, crypto.ZoneSecret) {
	z.mu.Lock()
	defer z.mu.Unlock()
	return z.epoch, z.epochs[z.epoch]
}

// newZone rebuilds a zone from its record, checking it is consistent.
func newZone(rec zoneRecord, self *crypto.Identity, now time.Time) (*zone, error) {
	z := &zone{rec: rec, settings: protocol.DefaultSettings(),
		roots: map[protocol.AlertID]*protocol.Message{}, updates: map[protocol.AlertID][]*protocol.Message{},
		seen: map[protocol.AlertID]bool{}, watchers: map[chan api.Alert]struct{}{}, envs: map[protocol.AlertID]stored{},
		epochs: map[uint32]crypto.ZoneSecret{}, gov: map[protocol.AlertID]*govMsg{},
		pubkeys: map[crypto.MemberID]*crypto.PublicKey{}}
	var err error
	if z.id, err = protocol.ParseZoneID(rec.ID); err != nil {
		return nil, fmt.Errorf("zone %q: %w", rec.Name, err)
	}
	if len(rec.Secret) != crypto.ZoneSecretSize {
		return nil, fmt.Errorf("zone %q: secret is damaged", rec.Name)
	}
	var secret crypto.ZoneSecret
	copy(secret[:], rec.Secret)
	z.epoch, z.epochs[rec.Epoch] = rec.Epoch, secret
	for _, o := range rec.Old {
		if len(o.Secret) != crypto.ZoneSecretSize {
			return nil, fmt.Errorf("zone %q: old secret is damaged", rec.Name)
		}
		var s crypto.ZoneSecret
		copy(s[:], o.Secret)
		z.epochs[o.Epoch] = s
	}
	z.removed = rec.Removed
	if z.root, err = crypto.ParsePublicKey(rec.Root); err != nil {
		return nil, fmt.Errorf("zone %q: root key: %w", rec.Name, err)
	}
	for _, b := range rec.Chain {
		c, err := protocol.ParseCert(b)
		if err != nil {
			return nil, fmt.Errorf("zone %q: certificate: %w", rec.Name, err)
		}
		z.chain = append(z.chain, c)
	}
	cv := &protocol.ChainVerifier{Zone: z.id, Root: z.root}
	if z.role, err = cv.Verify(z.chain, now); err != nil {
		return nil, fmt.Errorf("zone %q: own certificate: %w", rec.Name, err)
	}
	if !z.chain.Leaf().Subject.Equal(self.Public()) {
		return nil, fmt.Errorf("zone %q: certificate belongs to another identity", rec.Name)
	}
	z.val = protocol.NewValidator(z.id, z.root, z.key)
	z.val.Revoked = func(_ [32]byte, m crypto.MemberID) bool {
		z.mu.Lock()
		defer z.mu.Unlock()
		return z.roster.Removed(m)
	}
	z.val.Endorser = z.endorser // linked zones (links.go)
	z.roster = protocol.FoldRoster(nil, z.root.ID(), z.settings)
	return z, nil
}

func (n *Node) loadZones() error {
	var recs []zoneRecord
	err := n.st.ForEach(bucketZones, func(b []byte) error {
		var rec zoneRecord
		if err := json.Unmarshal(b, &rec); err != nil {
			return fmt.Errorf("read zones: %w", store.ErrCorrupt)
		}
		recs = append(recs, rec)
		return nil
	})
	if err != nil {
		return fmt.Errorf("load zones: %w", err)
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].Created.Before(recs[j].Created) })
	n.mu.Lock()
	defer n.mu.Unlock()
	n.zones = make(map[protocol.ZoneID]*zone)
	for _, rec := range recs {
		z, err := newZone(rec, n.id, n.now())
		if err != nil {
			return err
		}
		z.restoreGov()
		for id, g := range z.gov {
			n.replay.Add(id, g.msg.Alert.Expires, n.now())
		}
		n.zones[z.id] = z
	}
	if err := n.loadMessages(); err != nil {
		return err
	}
	for _, z := range n.zones {
		if err := n.joinTopic(z); err != nil {
			return err
		}
	}
	return nil
}

// saveZone writes a zone's record to the store. Callers hold n.mu.
func (n *Node) saveZone(z *zone) error {
	return putJSON(n.st, bucketZones, z.rec.ID, z.rec)
}

// joinTopic subscribes to the zone's topic with the validator pipeline.
func (n *Node) joinTopic(z *zone) error {
	epoch, secret := z.current()
	name := secret.TopicName(epoch)
	if err := n.ps.RegisterTopicValidator(name, n.validator(z), pubsub.WithValidatorTimeout(validateTimeout)); err != nil {
		return fmt.Errorf("zone %q: register validator: %w", z.rec.Name, err)
	}
	t, err := n.ps.Join(name)
	if err != nil {
		n.ps.UnregisterTopicValidator(name)
		return fmt.Errorf("zone %q: join topic: %w", z.rec.Name, err)
	}
	if err := t.SetScoreParams(topicScoreParams()); err != nil {
		t.Close()
		n.ps.UnregisterTopicValidator(name)
		return fmt.Errorf("zone %q: score params: %w", z.rec.Name, err)
	}
	sub, err := t.Subscribe(pubsub.WithBufferSize(256))
	if err != nil {
		t.Close()
		n.ps.UnregisterTopicValidator(name)
		return fmt.Errorf("zone %q: subscribe: %w", z.rec.Name, err)
	}
	z.mu.Lock()
	z.topic, z.sub = t, sub
	z.mu.Unlock()
	if z.discovery == nil {
		if err := n.startDiscovery(z); err != nil {
			return err
		}
	}
	n.wg.Add(1)
	go n.readLoop(z, sub)
	for _, s := range z.rec.Peers {
		n.dialAsync(s)
	}
	return nil
}

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
func (n *Node) store(z *zone, msg *protocol.Message, env []byte) error {
	z.mu.Lock()
	seen := z.seen[msg.ID]
	z.mu.Unlock()
	if seen {
		return nil
	}
	var err error
	if env != nil && !msg.Alert.Kind.IsGovernance() {
		if err = n.saveMessage(z, msg, env); err != nil {
			n.log.Error("save alert", "zone", z.rec.Name, "err", err)
		}
	}
	n.apply(z, msg, env, applyLive)
	return err
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
	if z.seen[msg.ID] {
		z.mu.Unlock()
		return
	}
	z.seen[msg.ID] = true
	if mode != applyRestore {
		defer n.onStored(z, msg) // linked zones (links.go); runs after z.mu is released
	}
	z.pubkeys[msg.Alert.Sender] = msg.Chain.Leaf().Subject
	if msg.Alert.Kind.IsGovernance() {
		z.mu.Unlock()
		n.storeGov(z, msg, env)
		return
	}
	if env != nil {
		z.envs[msg.ID] = stored{msg: msg, env: env}
	}
	target := msg.ID
	if msg.Alert.IsUpdate() {
		target = msg.Alert.Ref
		z.updates[target] = append(z.updates[target], msg)
	} else {
		z.roots[msg.ID] = msg
	}
	if mode != applyLive {
		z.mu.Unlock()
		return
	}
	view, ok := n.viewOfLocked(z, target)
	watchers := make([]chan api.Alert, 0, len(z.watchers))
	for w := range z.watchers {
		watchers = append(watchers, w)
	}
	z.mu.Unlock()
	if !ok {
		return // an update that arrived before its alert; shown once the alert arrives
	}
	n.log.Info("alert", "zone", z.rec.Name, "kind", view.Kind, "id", view.ID, "state", view.State)
	for _, w := range watchers {
		select {
		case w <- view:
		default:
			n.log.Warn("watcher too slow; dropped an update", "zone", z.rec.Name)
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
		for _, c := range n.cardsLocked(z) {
			if slices.ContainsFunc(c.Roots, func(id protocol.AlertID) bool { return targets[id] }) {
				views = append(views, c.View)
			}
		}
		watchers := make([]chan api.Alert, 0, len(z.watchers))
		for w := range z.watchers {
			watchers = append(watchers, w)
		}
		z.mu.Unlock()
		n.log.Info("caught up", "zone", z.rec.Name, "messages", len(targets), "alerts", len(views))
		for _, v := range views {
			for _, w := range watchers {
				select {
				case w <- v:
				default:
					n.log.Warn("watcher too slow; dropped an update", "zone", z.rec.Name)
				}
			}
		}
	}
}

// alertsLocked lends the zone's alert state to the zone core's views.
// Callers hold z.mu.
func (z *zone) alertsLocked() core.Alerts {
	return core.Alerts{ZoneID: z.rec.ID, ZoneName: z.rec.Name, Roots: z.roots, Updates: z.updates,
		Settings: z.settings, Roster: &z.roster, Links: z.links}
}

// card is one alert as shown (core.Card).
type card = core.Card

// viewOfLocked returns the view of the card alert id belongs to. Callers
// hold z.mu.
func (n *Node) viewOfLocked(z *zone, id protocol.AlertID) (api.Alert, bool) {
	c, ok := z.alertsLocked().CardOf(id, n.now())
	return c.View, ok
}

// cardsLocked folds the zone's alerts into cards. Callers hold z.mu.
func (n *Node) cardsLocked(z *zone) []card { return z.alertsLocked().Cards(n.now()) }

// zoneByName finds a zone by ID or name. Callers hold n.mu.
func (n *Node) zoneLocked(ref string) (*zone, error) {
	if id, err := protocol.ParseZoneID(ref); err == nil {
		if z, ok := n.zones[id]; ok {
			return z, nil
		}
	}
	var found *zone
	for _, z := range n.zones {
		if z.rec.Name == ref {
			if found != nil {
				return nil, fmt.Errorf("%w: two zones are named %q; use the zone ID", api.ErrInvalid, ref)
			}
			found = z
		}
	}
	if found == nil {
		return nil, fmt.Errorf("%w: no zone %q; see lookout zone list", api.ErrNotFound, ref)
	}
	return found, nil
}

func (n *Node) zone(ref string) (*zone, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.zoneLocked(ref)
}

// findAlert finds a sighting or callout by ID or unique ID prefix (at least
// 8 hex characters) in any zone.
func (n *Node) findAlert(ref string) (*zone, *protocol.Message, error) {
	ref = strings.ToLower(strings.TrimSpace(ref))
	if len(ref) < 8 || len(ref) > 2*protocol.AlertIDSize {
		return nil, nil, fmt.Errorf("%w: alert ID %q must be 8 to %d hex characters", api.ErrInvalid, ref, 2*protocol.AlertIDSize)
	}
	if strings.Trim(ref, "0123456789abcdef") != "" {
		return nil, nil, fmt.Errorf("%w: alert ID %q is not hex", api.ErrInvalid, ref)
	}
	n.mu.Lock()
	zones := make([]*zone, 0, len(n.zones))
	for _, z := range n.zones {
		zones = append(zones, z)
	}
	n.mu.Unlock()
	var fz *zone
	var fm *protocol.Message
	for _, z := range zones {
		z.mu.Lock()
		for id, m := range z.roots {
			if strings.HasPrefix(id.String(), ref) {
				if fm != nil {
					z.mu.Unlock()
					return nil, nil, fmt.Errorf("%w: alert ID prefix %q is ambiguous; give more characters", api.ErrInvalid, ref)
				}
				fz, fm = z, m
			}
		}
		z.mu.Unlock()
	}
	if fm == nil {
		return nil, nil, fmt.Errorf("%w: no alert %q in any of your zones; see lookout alerts ZONE", api.ErrNotFound, ref)
	}
	return fz, fm, nil
}

// Zones lists the node's zones (control API).
func (n *Node) Zones() []api.Zone {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]api.Zone, 0, len(n.zones))
	for _, z := range n.zones {
		out = append(out, n.zoneInfo(z))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (n *Node) zoneInfo(z *zone) api.Zone {
	z.mu.Lock()
	topic, role, epoch := z.topic, z.role, z.epoch
	z.mu.Unlock()
	info := api.Zone{ID: z.rec.ID, Name: z.rec.Name, Role: role.String(), Epoch: epoch, Topic: topic.String(), Peers: []string{}}
	for _, p := range topic.ListPeers() {
		info.Peers = append(info.Peers, p.String())
	}
	sort.Strings(info.Peers)
	return info
}

// CreateZone creates a zone with this member as founder and organizer.
func (n *Node) CreateZone(ctx context.Context, name string) (api.Zone, error) {
	info, err := n.createZone(name)
	if err != nil {
		return api.Zone{}, err
	}
	n.announceZone(ctx, info.ID)
	return info, nil
}

func (n *Node) createZone(name string) (api.Zone, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > protocol.MaxZoneNameLen || strings.ContainsAny(name, "\n\r\t") || protocol.CheckText(name) != nil {
		return api.Zone{}, fmt.Errorf("%w: zone name must be 1 to %d characters on one line", api.ErrInvalid, protocol.MaxZoneNameLen)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, z := range n.zones {
		if z.rec.Name == name {
			return api.Zone{}, fmt.Errorf("%w: you already have a zone named %q", api.ErrInvalid, name)
		}
	}
	var id protocol.ZoneID
	if _, err := n.rand().Read(id[:]); err != nil {
		return api.Zone{}, fmt.Errorf("create zone: %w", err)
	}
	secret, err := crypto.NewZoneSecret(n.rand())
	if err != nil {
		return api.Zone{}, fmt.Errorf("create zone: %w", err)
	}
	now := n.now()
	self, err := protocol.IssueCert(n.id, id, n.id.Public(), protocol.RoleOrganizer, now, now.Add(protocol.DefaultCertTTL))
	if err != nil {
		return api.Zone{}, fmt.Errorf("create zone: %w", err)
	}
	rec := zoneRecord{ID: id.String(), Name: name, Secret: secret[:], Root: n.id.Public().Bytes(), Chain: [][]byte{self.Bytes()}, Peers: []string{}, Created: now}
	return n.addZoneLocked(rec)
}

// addZoneLocked validates, persists and joins a zone. Callers hold n.mu.
func (n *Node) addZoneLocked(rec zoneRecord) (api.Zone, error) {
	z, err := newZone(rec, n.id, n.now())
	if err != nil {
		return api.Zone{}, err
	}
	if _, dup := n.zones[z.id]; dup {
		return api.Zone{}, fmt.Errorf("%w: you are already a member of zone %q", api.ErrInvalid, rec.Name)
	}
	for _, other := range n.zones {
		if other.snapshot().secret == z.snapshot().secret {
			return api.Zone{}, fmt.Errorf("%w: this zone uses the secret of your zone %q; refusing a zone that would mix alerts", api.ErrInvalid, other.rec.Name)
		}
	}
	n.zones[z.id] = z
	if err := n.joinTopic(z); err != nil {
		delete(n.zones, z.id)
		z.close()
		return api.Zone{}, err
	}
	if err := n.saveZone(z); err != nil {
		delete(n.zones, z.id)
		z.close()
		return api.Zone{}, err
	}
	return n.zoneInfo(z), nil
}

// rememberPeers adds zone members' addresses for redialling after restart.
func (n *Node) rememberPeers(z *zone, addrs []ma.Multiaddr) {
	n.mu.Lock()
	defer n.mu.Unlock()
	have := map[string]bool{}
	for _, s := range z.rec.Peers {
		have[s] = true
	}
	changed := false
	for _, a := range addrs {
		if s := a.String(); !have[s] && len(z.rec.Peers) < maxRememberedPeers {
			z.rec.Peers = append(z.rec.Peers, s)
			have[s] = true
			changed = true
		}
	}
	if changed {
		if err := n.saveZone(z); err != nil {
			n.log.Warn("could not save zone peers", "err", err)
		}
	}
}

const maxRememberedPeers = 64

// announceZone publishes this member's announcement in a zone, logging
// failures: announcing again later is harmless.
func (n *Node) announceZone(ctx context.Context, zoneID string) {
	z, err := n.zone(zoneID)
	if err != nil {
		return
	}
	if err := n.announce(ctx, z); err != nil {
		n.log.Warn("could not announce membership", "zone", z.rec.Name, "err", err)
		return
	}
	z.mu.Lock()
	z.announced = n.now()
	z.mu.Unlock()
}

// stored is an alert or update with the envelope it arrived in.
type stored struct {
	msg *protocol.Message
	env []byte
}

// pruneGrace is how long an alert is kept after it ended (expired, or was
// cleared), so late updates still find it; then it is deleted from memory
// and from the store.
const pruneGrace = 15 * time.Minute

// prune forgets alerts and updates whose messages expired more than
// pruneGrace ago and, if ended, every alert that ended (expired or
// cleared) with no activity for pruneGrace, with its updates. It returns
// the IDs forgotten, for the caller to delete from the store. The replay
// cache keeps their IDs until their messages expire.
func (n *Node) prune(z *zone, now time.Time, ended bool) []protocol.AlertID {
	z.mu.Lock()
	defer z.mu.Unlock()
	cutoff := now.Add(-pruneGrace)
	gone := map[protocol.AlertID]bool{}
	for id, m := range z.roots {
		if m.Alert.Expires.Before(cutoff) {
			gone[id] = true
		}
	}
	for _, ups := range z.updates {
		for _, u := range ups {
			if u.Alert.Expires.Before(cutoff) {
				gone[u.ID] = true
			}
		}
	}
	if ended {
		for _, c := range n.cardsLocked(z) {
			if c.View.State != string(protocol.StateCleared) && c.View.State != string(protocol.StateExpired) {
				continue
			}
			var ids []protocol.AlertID
			last := time.Time{}
			for _, r := range c.Roots {
				ids = append(ids, r)
				last = later(last, z.roots[r].Alert.Sent)
				for _, u := range z.updates[r] {
					ids = append(ids, u.ID)
					last = later(last, u.Alert.Sent)
				}
			}
			if last.Before(cutoff) && (c.View.Expires.IsZero() || c.View.Expires.Before(cutoff) || c.View.State == string(protocol.StateCleared)) {
				for _, id := range ids {
					gone[id] = true
				}
			}
		}
	}
	out := make([]protocol.AlertID, 0, len(gone))
	for id := range gone {
		out = append(out, id)
		delete(z.envs, id)
		delete(z.roots, id)
		delete(z.seen, id)
	}
	for ref, ups := range z.updates {
		kept := slices.DeleteFunc(ups, func(u *protocol.Message) bool { return gone[u.ID] })
		if _, ok := z.roots[ref]; !ok && (len(kept) == 0 || gone[ref]) {
			delete(z.updates, ref)
		} else {
			z.updates[ref] = kept
		}
	}
	return out
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
