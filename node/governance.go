package node

import (
	"context"
	"fmt"
	"time"

	"lookout/crypto"
	"lookout/node/api"
	core "lookout/node/internal/zone"
	"lookout/protocol"
)

// govMsg is a governance message with its envelope, kept for the roster
// and for members who were offline when it was sent.
type govMsg struct {
	msg *protocol.Message
	env []byte
}

// maxGovMessages bounds the governance messages a zone keeps.
const maxGovMessages = 4096

// oldTopicGrace is how long a node stays on an epoch's topic after moving
// to the next, so stragglers still receive the rekey.
var oldTopicGrace = 2 * time.Minute // tests shorten it

// announceInterval is how often a member re-announces its name and KEM key,
// so members who joined later learn them.
const announceInterval = 24 * time.Hour

// restoreGov rebuilds the roster from the stored governance envelopes,
// checking each as of the time it was sent.
func (z *zone) restoreGov() {
	for _, env := range z.rec.Gov {
		msg, err := z.reopen(env)
		if err != nil {
			continue
		}
		z.gov[msg.ID] = &govMsg{msg: msg, env: env}
		z.pubkeys[msg.Alert.Sender] = msg.Chain.Leaf().Subject
	}
	z.refoldRoster()
}

// refoldRoster recomputes the roster. Callers hold z.mu (or own z).
func (z *zone) refoldRoster() {
	msgs := make([]*protocol.Message, 0, len(z.gov))
	for _, g := range z.gov {
		msgs = append(msgs, g.msg)
	}
	z.roster = protocol.FoldRoster(msgs, z.root.ID(), protocol.DefaultSettings())
	z.settings = z.roster.Settings
	z.refoldLinks(msgs) // linked zones (links.go)
	z.rules.FoldGrants(msgs)
	z.docs.Fold(msgs) // zone cards and safe places (docs.go)
}

// checkMessage applies the zone's stateful rules after protocol checks
// (core.Rules.Check), for a message arriving at arrival. Callers hold z.mu.
func (z *zone) checkMessage(msg *protocol.Message, arrival time.Time) error {
	if err := z.docs.CheckDoc(msg.Alert); err != nil { // docs.go
		return err
	}
	return z.rules.Check(msg, arrival, z.epoch, z.roster.Settings, z.sharedLocked)
}

// errRateLimit is core.ErrRateLimit, also used for the link stream's own
// limit.
var errRateLimit = core.ErrRateLimit

// storeGov keeps a governance message and applies what it means for this
// node: a new role, a removal, a new epoch, new settings.
func (n *Node) storeGov(z *zone, msg *protocol.Message, env []byte) {
	z.mu.Lock()
	if _, ok := z.gov[msg.ID]; ok || len(z.gov) >= maxGovMessages || env == nil {
		z.mu.Unlock()
		return
	}
	z.gov[msg.ID] = &govMsg{msg: msg, env: env}
	z.refoldRoster()
	z.mu.Unlock()

	n.mu.Lock()
	defer n.mu.Unlock()
	z.rec.Gov = append(z.rec.Gov, env)
	a := msg.Alert
	switch a.Kind {
	case protocol.KindRole:
		n.applyRoleLocked(z, msg)
	case protocol.KindRemove:
		if a.Subject == n.id.ID() {
			z.mu.Lock()
			if !z.removed {
				close(z.gone) // ends watch streams
			}
			z.removed = true
			z.mu.Unlock()
			z.rec.Removed = true
			n.keysChanged()
			n.log.Warn("this member was removed from a zone")
			n.log.Debug("removed from zone", "zone", z.rec.Name)
		}
	case protocol.KindRekey:
		n.applyRekeyLocked(z, msg)
	}
	if err := n.saveZone(z); err != nil {
		n.log.Error("save zone", "err", err)
	}
}

// applyRoleLocked installs a role granted to this member. Callers hold n.mu.
func (n *Node) applyRoleLocked(z *zone, msg *protocol.Message) {
	c, err := protocol.ParseCert(msg.Alert.Cert)
	if err != nil || !c.Subject.Equal(n.id.Public()) {
		return
	}
	chain := append(protocol.Chain{c}, msg.Chain...)
	if len(chain) > protocol.MaxChainLen {
		n.log.Warn("granted role not usable: certificate chain too deep")
		return
	}
	cv := &protocol.ChainVerifier{Zone: z.id, Root: z.root}
	role, err := cv.Verify(chain, n.now())
	if err != nil {
		n.log.Warn("granted role not usable")
		n.log.Debug("granted role not usable", "zone", z.rec.Name, "err", err)
		return
	}
	z.mu.Lock()
	z.chain, z.role = chain, role
	z.mu.Unlock()
	z.rec.Chain = nil
	for _, c := range chain {
		z.rec.Chain = append(z.rec.Chain, c.Bytes())
	}
	n.log.Info("new role", "role", role)
}

// applyRekeyLocked opens this member's entry of a rekey for the next epoch
// and moves the zone to it. Callers hold n.mu.
func (n *Node) applyRekeyLocked(z *zone, msg *protocol.Message) {
	a := msg.Alert
	z.mu.Lock()
	cur := z.epoch
	old, haveOld := z.epochs[a.Epoch-1]
	z.mu.Unlock()
	// Only the next epoch is taken. Two organizers rekeying the same epoch
	// at once split the zone until one of them rekeys again (see docs).
	if a.Epoch != cur+1 || !haveOld {
		return
	}
	kem, err := loadKEMKey(n.st)
	if err != nil {
		n.log.Error("rekey: KEM key", "err", err)
		return
	}
	for _, e := range a.Rekey {
		if e.Member != n.id.ID() {
			continue
		}
		next, err := protocol.OpenRekeyEntry(kem, z.id, old, a.Epoch, e)
		if err != nil {
			n.log.Warn("rekey: cannot open this member's entry")
			n.log.Debug("rekey: cannot open this member's entry", "zone", z.rec.Name, "err", err)
			return
		}
		if err := n.switchEpochLocked(z, a.Epoch, next, msg.ID.String()); err != nil {
			n.log.Error("rekey: switch epoch failed")
			n.log.Debug("rekey: switch epoch", "zone", z.rec.Name, "err", err)
		}
		return
	}
}

// switchEpochLocked moves a zone to a new epoch: new secret, topic and key.
// The old topic stays joined for oldTopicGrace. Callers hold n.mu.
func (n *Node) switchEpochLocked(z *zone, epoch uint32, secret crypto.ZoneSecret, from string) error {
	z.mu.Lock()
	oldEpoch := z.epoch
	z.epochs[epoch] = secret
	z.epoch = epoch
	z.straggle = &oldEpoch
	oldTopic, oldSub := z.topic, z.sub
	z.mu.Unlock()
	z.rec.Old = append(z.rec.Old, core.EpochSecret{Epoch: oldEpoch, Secret: append([]byte(nil), z.rec.Secret...)})
	z.rec.Epoch, z.rec.Secret, z.rec.EpochFrom = epoch, append([]byte(nil), secret[:]...), from
	if err := n.saveZone(z); err != nil {
		return err
	}
	if err := n.joinTopic(z); err != nil {
		return err
	}
	n.keysChanged()
	n.log.Debug("zone moved to a new epoch", "zone", z.rec.Name, "epoch", epoch)
	oldName := oldTopic.String()
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		t := time.NewTimer(oldTopicGrace)
		defer t.Stop()
		select {
		case <-t.C:
		case <-n.ctx.Done():
		}
		oldSub.Cancel()
		oldTopic.Close()
		n.ps.UnregisterTopicValidator(oldName)
		z.mu.Lock()
		if z.straggle != nil && *z.straggle == oldEpoch {
			z.straggle = nil
		}
		z.mu.Unlock()
		n.keysChanged()
	}()
	return nil
}

// announce publishes this member's name and KEM public key in a zone.
func (n *Node) announce(ctx context.Context, z *zone) error {
	kem, err := loadKEMKey(n.st)
	if err != nil {
		return err
	}
	a := n.newAlert(protocol.KindMember, false, protocol.MaxLifetime)
	a.Name, a.KEM = n.name, kem.PublicBytes()
	_, err = n.publish(ctx, z, a)
	return err
}

// Members lists a zone's members as this node knows them (control API):
// the roster and anyone else whose messages it holds, as membersLocked.
func (n *Node) Members(zoneRef string) ([]api.Member, error) {
	z, err := n.zone(zoneRef)
	if err != nil {
		return nil, err
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	out := []api.Member{}
	for _, m := range z.membersLocked() {
		out = append(out, api.Member{ID: m.ID.String(), Name: m.Name, Role: m.Role.String(), Removed: m.Removed, CanRekey: m.KEM != nil})
	}
	return out, nil
}

// findMemberLocked resolves a member, named or not, by ID, unique ID
// prefix or name (exact, else ignoring case). Callers hold z.mu.
func (z *zone) findMemberLocked(ref string) (*protocol.MemberInfo, error) {
	ms := z.membersLocked()
	cs := make([]candidate[*protocol.MemberInfo], len(ms))
	for i, m := range ms {
		cs[i] = candidate[*protocol.MemberInfo]{id: m.ID.String(), name: m.Name, v: m}
	}
	return resolve("member", ref, cs, z.rec.Name)
}

// requireOrganizer refuses a member who is not an organizer; action names
// the refusal's message ("organizer.only.<action>", node/api).
func (z *zone) requireOrganizer(action string) error {
	z.mu.Lock()
	role, removed := z.role, z.removed
	z.mu.Unlock()
	if removed {
		return api.Fail(api.ErrForbidden, "zone.removed", "Zone", api.Quote(z.rec.Name))
	}
	if role != protocol.RoleOrganizer {
		return api.Fail(api.ErrForbidden, "organizer.only."+action, "Role", role, "Zone", api.Quote(z.rec.Name))
	}
	return nil
}

// Promote grants a member the verifier or organizer role (control API).
func (n *Node) Promote(ctx context.Context, zoneRef, memberRef, roleName string) (api.Member, error) {
	role, err := protocol.ParseRole(roleName)
	if err != nil || role == protocol.RoleMember {
		return api.Member{}, api.Fail(api.ErrInvalid, "role.promote", "Role", api.Quote(roleName))
	}
	z, err := n.zone(zoneRef)
	if err != nil {
		return api.Member{}, err
	}
	if err := z.requireOrganizer("promote"); err != nil {
		return api.Member{}, err
	}
	z.mu.Lock()
	m, err := z.findMemberLocked(memberRef)
	var pk *crypto.PublicKey
	if err == nil {
		pk = z.pubkeys[m.ID]
	}
	chainLen := len(z.chain)
	z.mu.Unlock()
	if err != nil {
		return api.Member{}, err
	}
	if m.Removed {
		return api.Member{}, api.Fail(api.ErrInvalid, "member.removed", "Member", memberRef)
	}
	if pk == nil {
		return api.Member{}, api.Fail(api.ErrInvalid, "member.nokey", "Member", memberRef)
	}
	if chainLen >= protocol.MaxChainLen {
		return api.Member{}, api.Fail(api.ErrForbidden, "chain.promote")
	}
	now := n.now()
	c, err := protocol.IssueCert(n.id, z.id, pk, role, now, now.Add(protocol.DefaultCertTTL))
	if err != nil {
		return api.Member{}, err
	}
	a := n.newAlert(protocol.KindRole, false, protocol.MaxLifetime)
	a.Cert = c.Bytes()
	if _, err := n.publish(ctx, z, a); err != nil {
		return api.Member{}, err
	}
	return api.Member{ID: m.ID.String(), Name: m.Name, Role: role.String()}, nil
}

// Remove removes a member and moves the zone to a new epoch whose secret is
// sealed to every remaining member whose KEM key is known (control API).
func (n *Node) Remove(ctx context.Context, zoneRef, memberRef string) (api.RemoveResult, error) {
	z, err := n.zone(zoneRef)
	if err != nil {
		return api.RemoveResult{}, err
	}
	if err := z.requireOrganizer("remove"); err != nil {
		return api.RemoveResult{}, err
	}
	z.mu.Lock()
	m, err := z.findMemberLocked(memberRef)
	z.mu.Unlock()
	if err != nil {
		return api.RemoveResult{}, err
	}
	switch {
	case m.ID == n.id.ID():
		return api.RemoveResult{}, api.Fail(api.ErrInvalid, "member.self")
	case m.ID == z.root.ID():
		return api.RemoveResult{}, api.Fail(api.ErrForbidden, "member.founder")
	case m.Removed:
		return api.RemoveResult{}, api.Fail(api.ErrInvalid, "member.already", "Member", memberRef)
	}
	a := n.newAlert(protocol.KindRemove, false, protocol.MaxLifetime)
	a.Subject = m.ID
	if _, err := n.publish(ctx, z, a); err != nil {
		return api.RemoveResult{}, err
	}
	res, err := n.rekey(ctx, z)
	if err != nil {
		return api.RemoveResult{}, fmt.Errorf("member removed, but the new epoch failed: %w", err)
	}
	res.Removed = m.ID.String()
	return res, nil
}

// rekey creates the next epoch and publishes it, sealed per member, on the
// current topic, then moves this node to it.
func (n *Node) rekey(ctx context.Context, z *zone) (api.RemoveResult, error) {
	epoch, old := z.current()
	next, err := crypto.NewZoneSecret(n.rand())
	if err != nil {
		return api.RemoveResult{}, err
	}
	z.mu.Lock()
	members := z.roster.Sorted()
	z.mu.Unlock()
	var entries []protocol.RekeyEntry
	var res api.RemoveResult
	for _, m := range members {
		if m.Removed {
			continue
		}
		if m.ID == n.id.ID() {
			// This node moves itself after publishing every part on the
			// old topic.
			res.Reached++
			continue
		}
		if m.KEM == nil {
			res.Unreached = append(res.Unreached, m.ID.String())
			continue
		}
		e, err := protocol.SealRekeyEntry(m.KEM, z.id, old, epoch+1, m.ID, next, n.rand())
		if err != nil {
			res.Unreached = append(res.Unreached, m.ID.String())
			continue
		}
		entries = append(entries, e)
	}
	parts := (len(entries) + protocol.MaxRekeyEntries - 1) / protocol.MaxRekeyEntries
	if parts > protocol.MaxRekeyParts {
		return res, fmt.Errorf("zone too large to rekey (%d members)", len(entries))
	}
	var firstID string
	for p := range parts {
		a := n.newAlert(protocol.KindRekey, false, protocol.MaxLifetime)
		a.Epoch, a.Part, a.Parts = epoch+1, uint8(p), uint8(parts)
		a.Rekey = entries[p*protocol.MaxRekeyEntries : min(len(entries), (p+1)*protocol.MaxRekeyEntries)]
		msg, err := n.publish(ctx, z, a)
		if err != nil {
			return res, err
		}
		if firstID == "" {
			firstID = msg.ID.String()
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	z.mu.Lock()
	moved := z.epoch > epoch
	z.mu.Unlock()
	if !moved {
		if err := n.switchEpochLocked(z, epoch+1, next, firstID); err != nil {
			return res, err
		}
	}
	res.Epoch = epoch + 1
	res.Reached += len(entries)
	return res, nil
}

// SetSettings publishes new zone settings (control API).
func (n *Node) SetSettings(ctx context.Context, req api.SettingsRequest) (api.Settings, error) {
	z, err := n.zone(req.Zone)
	if err != nil {
		return api.Settings{}, err
	}
	if err := z.requireOrganizer("settings"); err != nil {
		return api.Settings{}, err
	}
	z.mu.Lock()
	s := z.roster.Settings
	z.mu.Unlock()
	if req.Quorum != nil {
		s.Corroborations = *req.Quorum
	}
	if req.Window != nil {
		s.CorroborationWindow = *req.Window
	}
	if req.Expiry != nil {
		s.Expiry = *req.Expiry
	}
	if req.Cosign != nil {
		s.Cosign = *req.Cosign
	}
	if req.MaxReports != nil {
		s.MaxReports = *req.MaxReports
	}
	if req.MaxConfirms != nil {
		s.MaxConfirms = *req.MaxConfirms
	}
	if req.AutoShare != nil {
		v, err := protocol.ParseAutoShare(*req.AutoShare)
		if err != nil {
			return api.Settings{}, api.Fail(api.ErrInvalid, "settings.share", "Value", api.Quote(*req.AutoShare))
		}
		s.AutoShare = v
	}
	a := n.newAlert(protocol.KindSettings, false, protocol.MaxLifetime)
	if s.Corroborations < 1 || s.Corroborations > protocol.MaxQuorum || s.MaxReports < 1 || s.MaxReports > protocol.MaxRateLimit || s.MaxConfirms < 1 || s.MaxConfirms > protocol.MaxRateLimit {
		return api.Settings{}, api.Fail(api.ErrInvalid, "settings.range", "Quorum", protocol.MaxQuorum, "Rate", protocol.MaxRateLimit)
	}
	a.Settings = s.Wire()
	if _, err := n.publish(ctx, z, a); err != nil {
		return api.Settings{}, err
	}
	z.mu.Lock()
	out := settingsView(z.roster.Settings)
	z.mu.Unlock()
	if !s.Cosign && out.Cosign {
		out.Note = "co-signing stays on until a second organizer also turns it off"
	}
	return out, nil
}

// Settings returns a zone's settings (control API).
func (n *Node) Settings(zoneRef string) (api.Settings, error) {
	z, err := n.zone(zoneRef)
	if err != nil {
		return api.Settings{}, err
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	return settingsView(z.roster.Settings), nil
}

func settingsView(s protocol.Settings) api.Settings {
	return api.Settings{Quorum: s.Corroborations, Window: api.Duration(s.CorroborationWindow), Expiry: api.Duration(s.Expiry),
		Cosign: s.Cosign, MaxReports: s.MaxReports, MaxConfirms: s.MaxConfirms, AutoShare: s.AutoShare.String()}
}

// rateHeadroom tells a local sender, before signing, that a message would
// exceed the zone's rate limit (every node would reject it).
func (z *zone) rateHeadroom(member crypto.MemberID, kind protocol.Kind, t time.Time) error {
	z.mu.Lock()
	defer z.mu.Unlock()
	return z.rules.Headroom(member, kind, t, z.roster.Settings)
}
