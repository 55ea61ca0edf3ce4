package node

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"lookout/crypto"
	"lookout/node/api"
	"lookout/node/control"
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
}

// zone is a zone this node is a member of, with its topic and alerts.
type zone struct {
	rec       zoneRecord
	id        protocol.ZoneID
	secret    crypto.ZoneSecret
	root      *crypto.PublicKey
	chain     protocol.Chain
	role      protocol.Role
	settings  protocol.Settings
	val       *protocol.Validator
	topic     *pubsub.Topic
	sub       *pubsub.Subscription
	discovery io.Closer // local-network discovery, if on

	mu       sync.Mutex
	roots    map[protocol.AlertID]*protocol.Message   // sightings and callouts
	updates  map[protocol.AlertID][]*protocol.Message // by the alert they refer to
	seen     map[protocol.AlertID]bool
	watchers map[chan api.Alert]struct{}
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
	if epoch != z.rec.Epoch {
		return nil, false
	}
	return z.secret.AlertKey(epoch), true
}

// newZone rebuilds a zone from its record, checking it is consistent.
func newZone(rec zoneRecord, self *crypto.Identity, now time.Time) (*zone, error) {
	z := &zone{rec: rec, settings: protocol.DefaultSettings(),
		roots: map[protocol.AlertID]*protocol.Message{}, updates: map[protocol.AlertID][]*protocol.Message{},
		seen: map[protocol.AlertID]bool{}, watchers: map[chan api.Alert]struct{}{}}
	var err error
	if z.id, err = protocol.ParseZoneID(rec.ID); err != nil {
		return nil, fmt.Errorf("zone %q: %w", rec.Name, err)
	}
	if len(rec.Secret) != crypto.ZoneSecretSize {
		return nil, fmt.Errorf("zone %q: secret is damaged", rec.Name)
	}
	copy(z.secret[:], rec.Secret)
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
	return z, nil
}

func (n *Node) loadZones() error {
	var recs []zoneRecord
	if err := readJSON(filepath.Join(n.Home, zonesFile), &recs); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.zones = make(map[protocol.ZoneID]*zone)
	for _, rec := range recs {
		z, err := newZone(rec, n.id, n.now())
		if err != nil {
			return err
		}
		if err := n.joinTopic(z); err != nil {
			return err
		}
		n.zones[z.id] = z
	}
	return nil
}

// saveZones writes zones.json. Callers hold n.mu.
func (n *Node) saveZones() error {
	recs := make([]zoneRecord, 0, len(n.zones))
	for _, z := range n.zones {
		recs = append(recs, z.rec)
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].Created.Before(recs[j].Created) })
	return writeJSON(filepath.Join(n.Home, zonesFile), recs)
}

// joinTopic subscribes to the zone's topic with the validator pipeline.
func (n *Node) joinTopic(z *zone) error {
	name := z.secret.TopicName(z.rec.Epoch)
	if err := n.ps.RegisterTopicValidator(name, n.validator(z), pubsub.WithValidatorTimeout(validateTimeout)); err != nil {
		return fmt.Errorf("zone %q: register validator: %w", z.rec.Name, err)
	}
	t, err := n.ps.Join(name)
	if err != nil {
		return fmt.Errorf("zone %q: join topic: %w", z.rec.Name, err)
	}
	if err := t.SetScoreParams(topicScoreParams()); err != nil {
		return fmt.Errorf("zone %q: score params: %w", z.rec.Name, err)
	}
	sub, err := t.Subscribe(pubsub.WithBufferSize(256))
	if err != nil {
		return fmt.Errorf("zone %q: subscribe: %w", z.rec.Name, err)
	}
	z.topic, z.sub = t, sub
	if err := n.startDiscovery(z); err != nil {
		return err
	}
	n.wg.Add(1)
	go n.readLoop(z)
	for _, s := range z.rec.Peers {
		n.dialAsync(s)
	}
	return nil
}

// validator is the one door for a zone's messages, local and remote:
// size, decrypt, decode, chain, signature, role rules and time window (in
// protocol.Validator), then the replay cache. Anything wrong is rejected:
// not delivered, not forwarded, and the forwarding peer is penalised.
func (n *Node) validator(z *zone) pubsub.ValidatorEx {
	return func(_ context.Context, from peer.ID, m *pubsub.Message) pubsub.ValidationResult {
		now := n.now()
		msg, err := z.val.Validate(m.Data, now)
		if err != nil {
			n.log.Debug("rejected message", "zone", z.rec.Name, "from", from, "err", err)
			return pubsub.ValidationReject
		}
		// A replay, or the same alert sealed again: drop without penalty,
		// since honest peers forward duplicates too.
		if !n.replay.Add(msg.ID, msg.Alert.Expires, now) {
			return pubsub.ValidationIgnore
		}
		m.ValidatorData = msg
		return pubsub.ValidationAccept
	}
}

func (n *Node) readLoop(z *zone) {
	defer n.wg.Done()
	for {
		m, err := z.sub.Next(n.ctx)
		if err != nil {
			return
		}
		if msg, ok := m.ValidatorData.(*protocol.Message); ok {
			n.store(z, msg)
		}
	}
}

// store adds a validated message to its zone and notifies watchers of the
// alert it changes. Storing the same message twice is a no-op.
func (n *Node) store(z *zone, msg *protocol.Message) {
	z.mu.Lock()
	if z.seen[msg.ID] {
		z.mu.Unlock()
		return
	}
	z.seen[msg.ID] = true
	target := msg.ID
	if msg.Alert.Kind.IsUpdate() {
		target = msg.Alert.Ref
		z.updates[target] = append(z.updates[target], msg)
	} else {
		z.roots[msg.ID] = msg
	}
	root, ok := z.roots[target]
	var view api.Alert
	if ok {
		view = n.viewLocked(z, root)
	}
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

// viewLocked folds an alert's updates into its view. Callers hold z.mu.
func (n *Node) viewLocked(z *zone, root *protocol.Message) api.Alert {
	v := protocol.Fold(root, z.updates[root.ID], z.settings, n.now())
	a := root.Alert
	out := api.Alert{
		ID: root.ID.String(), Zone: z.rec.ID, ZoneName: z.rec.Name, Kind: a.Kind.String(), State: string(v.State),
		Sent: a.Sent, Expires: a.Expires, Exercise: a.Exercise(), Sender: a.Sender.String(), SenderRole: root.Role.String(),
		Where: a.Area,
	}
	switch a.Kind {
	case protocol.KindSighting:
		out.What, out.Size, out.Activity, out.Uniform, out.Equipment = a.What, int(a.Size), a.Activity, a.Uniform, a.Equipment
		if !a.Observed.IsZero() {
			t := a.Observed
			out.Observed = &t
		}
		c := len(v.Confirmers)
		out.Confirmations = &c
		out.Verified = v.Verified
	case protocol.KindCallout:
		out.Title, out.When, out.Need, out.Bring, out.Rights = a.Title, a.When, int(a.Need), a.Bring, a.Rights
		out.Responders = &api.Responders{
			EnRoute: v.Count(protocol.ResponseEnRoute),
			OnScene: v.Count(protocol.ResponseOnScene),
			Cannot:  v.Count(protocol.ResponseCannot),
		}
	}
	if v.Clear != nil {
		out.ClearReason = v.Clear.Alert.Reason.String()
		out.ClearNote = v.Clear.Alert.Note
	}
	return out
}

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
				return nil, fmt.Errorf("%w: two zones are named %q; use the zone ID", control.ErrInvalid, ref)
			}
			found = z
		}
	}
	if found == nil {
		return nil, fmt.Errorf("%w: no zone %q; see lookout zone list", control.ErrNotFound, ref)
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
		return nil, nil, fmt.Errorf("%w: alert ID %q must be 8 to %d hex characters", control.ErrInvalid, ref, 2*protocol.AlertIDSize)
	}
	if _, err := hex.DecodeString(ref[:len(ref)&^1]); err != nil {
		return nil, nil, fmt.Errorf("%w: alert ID %q is not hex", control.ErrInvalid, ref)
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
					return nil, nil, fmt.Errorf("%w: alert ID prefix %q is ambiguous; give more characters", control.ErrInvalid, ref)
				}
				fz, fm = z, m
			}
		}
		z.mu.Unlock()
	}
	if fm == nil {
		return nil, nil, fmt.Errorf("%w: no alert %q in any of your zones; see lookout alerts ZONE", control.ErrNotFound, ref)
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
	info := api.Zone{ID: z.rec.ID, Name: z.rec.Name, Role: z.role.String(), Epoch: z.rec.Epoch, Topic: z.topic.String(), Peers: []string{}}
	for _, p := range z.topic.ListPeers() {
		info.Peers = append(info.Peers, p.String())
	}
	sort.Strings(info.Peers)
	return info
}

// CreateZone creates a zone with this member as founder and organizer.
func (n *Node) CreateZone(_ context.Context, name string) (api.Zone, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > protocol.MaxZoneNameLen || strings.ContainsAny(name, "\n\r\t") {
		return api.Zone{}, fmt.Errorf("%w: zone name must be 1 to %d characters on one line", control.ErrInvalid, protocol.MaxZoneNameLen)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, z := range n.zones {
		if z.rec.Name == name {
			return api.Zone{}, fmt.Errorf("%w: you already have a zone named %q", control.ErrInvalid, name)
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
		return api.Zone{}, fmt.Errorf("%w: you are already a member of zone %q", control.ErrInvalid, rec.Name)
	}
	n.zones[z.id] = z
	if err := n.saveZones(); err != nil {
		delete(n.zones, z.id)
		return api.Zone{}, err
	}
	if err := n.joinTopic(z); err != nil {
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
		if err := n.saveZones(); err != nil {
			n.log.Warn("could not save zone peers", "err", err)
		}
	}
}

const maxRememberedPeers = 64
