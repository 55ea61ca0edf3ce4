package node

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	ma "github.com/multiformats/go-multiaddr"

	"lookout/crypto"
	"lookout/node/api"
	"lookout/protocol"
)

// loadZones makes the zones of the stored zone records, restores their
// governance and messages (records.go) and joins their topics; a zone made
// by an older Lookout is listed, not joined (n.stale).
func (n *Node) loadZones() error {
	recs, err := n.records.loadZoneRecords()
	if err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.zones = make(map[protocol.ZoneID]*zone)
	n.stale = make(map[string]zoneRecord)
	govs, err := n.records.loadGovRecords()
	if err != nil {
		return err
	}
	for _, rec := range recs {
		renewed, err := renewRootCert(&rec, n.id, n.now())
		if err != nil {
			return err
		}
		z, err := newZone(rec, n.id, n.now())
		if errors.Is(err, protocol.ErrVersion) {
			// Made by an older Lookout: listed, not joined, can be left.
			n.log.Warn("zone made by an older Lookout is not joined; ask an organizer for a new invite", "zone", rec.Name)
			n.stale[rec.ID] = rec
			continue
		}
		if err != nil {
			return err
		}
		if err := n.records.restoreZoneGov(z, govs[z.ID()]); err != nil {
			return err
		}
		if exp, ok := z.snapshot().expiredSince(n.now()); ok {
			n.log.Warn("a zone membership expired: it is read but nothing can be sent in it until an organizer renews it", "expired", exp.UTC().Format(time.DateOnly))
			n.log.Debug("expired zone membership", "zone", rec.Name)
		}
		if renewed {
			if err := n.records.saveZone(z); err != nil {
				return fmt.Errorf("zone %q: save renewed founder certificate: %w", rec.Name, err)
			}
		}
		for id, exp := range z.GovExpiries() {
			n.replay.Add(id, exp, n.now())
		}
		n.zones[z.ID()] = z
	}
	if err := n.records.loadMessages(n.zones); err != nil {
		return err
	}
	for _, z := range n.zones {
		if err := n.joinTopic(z); err != nil {
			return err
		}
	}
	return nil
}

// joinTopic subscribes to the zone's topic with the validator pipeline.
func (n *Node) joinTopic(z *zone) error {
	epoch, secret := z.Current()
	name := secret.TopicName(epoch)
	if err := n.ps.RegisterTopicValidator(name, n.validator(z), pubsub.WithValidatorTimeout(validateTimeout)); err != nil {
		return fmt.Errorf("zone %q: register validator: %w", z.Name(), err)
	}
	t, err := n.ps.Join(name)
	if err != nil {
		n.ps.UnregisterTopicValidator(name)
		return fmt.Errorf("zone %q: join topic: %w", z.Name(), err)
	}
	if err := t.SetScoreParams(topicScoreParams()); err != nil {
		t.Close()
		n.ps.UnregisterTopicValidator(name)
		return fmt.Errorf("zone %q: score params: %w", z.Name(), err)
	}
	sub, err := t.Subscribe(pubsub.WithBufferSize(256))
	if err != nil {
		t.Close()
		n.ps.UnregisterTopicValidator(name)
		return fmt.Errorf("zone %q: subscribe: %w", z.Name(), err)
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
	n.dialer.dialMembers(z.Peers())
	return nil
}

// zoneLocked finds a zone by ID, unique ID prefix or name (exact, else
// ignoring case); an ambiguous one is an error listing the candidates.
// Callers hold n.mu.
func (n *Node) zoneLocked(ref string) (*zone, error) {
	cs := make([]candidate[*zone], 0, len(n.zones))
	for _, z := range n.zones {
		cs = append(cs, candidate[*zone]{id: z.Label().ID, name: z.Name(), v: z})
	}
	return resolve("zone", ref, cs, "")
}

// findAlert finds a sighting or callout by ID or unique ID prefix (at least
// 8 hex characters) in any zone.
func (n *Node) findAlert(ref string) (*zone, *protocol.Message, error) {
	ref = strings.ToLower(strings.TrimSpace(ref))
	if len(ref) < 8 || len(ref) > 2*protocol.AlertIDSize {
		return nil, nil, api.Fail(api.ErrInvalid, "alert.idlength", "Ref", api.Quote(ref), "Max", 2*protocol.AlertIDSize)
	}
	if strings.Trim(ref, "0123456789abcdef") != "" {
		return nil, nil, api.Fail(api.ErrInvalid, "alert.idhex", "Ref", api.Quote(ref))
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
		for _, m := range z.RootsByPrefix(ref, 2) {
			if fm != nil {
				return nil, nil, api.Fail(api.ErrInvalid, "alert.ambiguous", "Ref", api.Quote(ref))
			}
			fz, fm = z, m
		}
	}
	if fm == nil {
		return nil, nil, api.Fail(api.ErrNotFound, "alert.notfound", "Ref", api.Quote(ref))
	}
	return fz, fm, nil
}

// Zones lists the node's zones (control API).
func (n *Node) Zones() []api.Zone {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]api.Zone, 0, len(n.zones))
	for _, z := range n.zones {
		out = append(out, z.info(n.now()))
	}
	for _, rec := range n.stale {
		out = append(out, staleInfo(rec))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func staleInfo(rec zoneRecord) api.Zone {
	return api.Zone{ID: rec.ID, Name: rec.Name, Epoch: rec.Epoch, Peers: []string{}, Stale: true}
}

// LeaveZone deletes a zone made by an older Lookout (api.Zone.Stale), given
// by ID, unique ID prefix or name, from the store (control API). Current
// zones are refused: this node cannot leave them yet.
func (n *Node) LeaveZone(_ context.Context, ref string) (api.Zone, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	cs := make([]candidate[api.Zone], 0, len(n.zones)+len(n.stale))
	for _, z := range n.zones {
		cs = append(cs, candidate[api.Zone]{id: z.Label().ID, name: z.Name(), v: api.Zone{ID: z.Label().ID, Name: z.Name()}})
	}
	for _, rec := range n.stale {
		cs = append(cs, candidate[api.Zone]{id: rec.ID, name: rec.Name, v: staleInfo(rec)})
	}
	info, err := resolve("zone", ref, cs, "")
	if err != nil {
		return api.Zone{}, err
	}
	if !info.Stale {
		return api.Zone{}, api.Fail(api.ErrInvalid, "zone.current", "Zone", api.Quote(info.Name))
	}
	if err := n.records.deleteZone(info.ID); err != nil {
		return api.Zone{}, fmt.Errorf("leave zone %q: %w", info.Name, err)
	}
	delete(n.stale, info.ID)
	return info, nil
}

// CreateZone creates a zone with this member as founder and organizer.
func (n *Node) CreateZone(ctx context.Context, name string) (api.Zone, error) {
	info, err := n.createZone(name)
	if err != nil {
		return api.Zone{}, err
	}
	n.gov.announceZone(ctx, info.ID)
	return info, nil
}

func (n *Node) createZone(name string) (api.Zone, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > protocol.MaxZoneNameLen || strings.ContainsAny(name, "\n\r\t") || protocol.CheckText(name) != nil {
		return api.Zone{}, api.Fail(api.ErrInvalid, "zone.name", "Max", protocol.MaxZoneNameLen)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, z := range n.zones {
		if z.Name() == name {
			return api.Zone{}, api.Fail(api.ErrInvalid, "zone.taken", "Zone", api.Quote(name))
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
	if exp, ok := z.snapshot().expiredSince(n.now()); ok {
		return api.Zone{}, expiredProblem(z, exp) // a new membership must start valid
	}
	if _, dup := n.zones[z.ID()]; dup {
		return api.Zone{}, api.Fail(api.ErrInvalid, "zone.member", "Zone", api.Quote(rec.Name))
	}
	for _, other := range n.zones {
		if other.snapshot().secret == z.snapshot().secret {
			return api.Zone{}, api.Fail(api.ErrInvalid, "zone.samesecret", "Zone", api.Quote(other.Name()))
		}
	}
	n.zones[z.ID()] = z
	if err := n.joinTopic(z); err != nil {
		delete(n.zones, z.ID())
		z.close()
		return api.Zone{}, err
	}
	if err := n.records.saveZone(z); err != nil {
		delete(n.zones, z.ID())
		z.close()
		return api.Zone{}, err
	}
	delete(n.stale, rec.ID) // a new invite to a zone made by an older Lookout replaced it
	n.keysChanged()
	return z.info(n.now()), nil
}

// rememberPeers adds zone members' addresses for redialling after restart.
// Addresses seen again move to the end; when more than maxRememberedPeers
// are known the least recently seen go first, so a member who changed
// network is found at its new address. The record is saved only when the
// set changed.
func (n *Node) rememberPeers(z *zone, addrs []ma.Multiaddr) {
	n.mu.Lock()
	defer n.mu.Unlock()
	ss := make([]string, len(addrs))
	for i, a := range addrs {
		ss[i] = a.String()
	}
	if z.RememberPeers(ss, maxRememberedPeers) {
		if err := n.records.saveZone(z); err != nil {
			n.log.Warn("could not save zone peers", "err", err)
		}
	}
}

// maxRememberedPeers bounds the addresses a zone record keeps (up to
// learnedAddrsPerPeer per member).
const maxRememberedPeers = 256
