package node

import (
	"context"
	"time"

	"lookout/node/api"
	core "lookout/node/internal/zone"
	"lookout/protocol"
)

// GovMsg is a governance message with its envelope (core.GovMsg).
type GovMsg = core.GovMsg

// oldTopicGrace is how long a node stays on an epoch's topic after moving
// to the next, so stragglers still receive the rekey.
var oldTopicGrace = 2 * time.Minute // tests shorten it

// announceInterval is how often a member re-announces its name and KEM key,
// so members who joined later learn them.
const announceInterval = 24 * time.Hour

// errRateLimit is core.ErrRateLimit, also used for the link stream's own
// limit.
var errRateLimit = core.ErrRateLimit

// storeGov keeps a governance message that passed the door and applies
// what it means for this node (a new role, a removal, a new epoch), as the
// zone core plans it (core.PlanGov; a grant or rekey entry for this member
// that cannot be used is logged, the zone named only at debug level): the
// message, the deletion of announcements it supersedes and the zone record
// it changes are written in one transaction before anything changes in
// memory (records.commitGov). If that write fails, the message is forgotten,
// so catch-up offers it again. Lock order: n.mu, then z.mu, never the
// other way (core.State.GovState: n.mu keeps the epochs lent
// until the plan is committed).
func (n *Node) storeGov(z *zone, msg *protocol.Message, env []byte) {
	if env == nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	keep, drop := z.AdmitGov(msg, env, maxAnnouncements)
	if !keep {
		return
	}
	ch := core.PlanGov(z.GovState(), core.Self{ID: n.id.ID(), Key: n.id.Public(), KEM: n.kem}, msg, n.now())
	if ch.Reason != "" {
		n.log.Warn(ch.Reason)
		if ch.Detail != nil {
			n.log.Debug(ch.Reason, "zone", z.Name(), "err", ch.Detail)
		}
	}
	if err := n.records.commitGov(z, []*GovMsg{{Msg: msg, Env: env}}, drop, ch); err != nil {
		n.replay.Forget(msg.ID)
		z.ForgetSeen(msg.ID)
		n.log.Error("governance message not kept", "err", err)
		return
	}
	if k := msg.Alert.Kind; k == protocol.KindRekey || k == protocol.KindRemove {
		n.spawn(func() { n.forks.checkFork(z, false) }) // fork.go; takes n.mu
	}
	if msg.Alert.Kind == protocol.KindMember {
		n.renewer.certifyInvitedSoon(z, msg.Alert.Sender) // renew.go
	}
}

// moveTopicLocked joins the topic of the epoch a zone just moved to (in
// memory and on disk) and leaves the previous epoch's topic after
// oldTopicGrace. Callers hold n.mu.
func (n *Node) moveTopicLocked(z *zone, prev switchedFrom) {
	if err := n.joinTopic(z); err != nil {
		n.log.Error("new epoch: join topic failed; restart the node")
		n.log.Debug("new epoch: join topic", "zone", z.Name(), "err", err)
	}
	n.keysChanged()
	epoch, _ := z.Current()
	n.log.Debug("zone moved to a new epoch", "zone", z.Name(), "epoch", epoch)
	if prev.topic == nil {
		return
	}
	oldName := prev.topic.String()
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		t := time.NewTimer(oldTopicGrace)
		defer t.Stop()
		select {
		case <-t.C:
		case <-n.ctx.Done():
		}
		prev.sub.Cancel()
		prev.topic.Close()
		n.ps.UnregisterTopicValidator(oldName)
		z.EndStraggle(prev.epoch)
		n.keysChanged()
	}()
}

// Members lists a zone's members as this node knows them (control API):
// the roster and anyone else whose messages it holds, as core.State.Members.
func (n *Node) Members(zoneRef string) ([]api.Member, error) {
	z, err := n.zone(zoneRef)
	if err != nil {
		return nil, err
	}
	out := []api.Member{}
	for _, m := range z.Members() {
		out = append(out, api.Member{ID: m.ID.String(), Name: m.Name, Role: m.Role.String(), Removed: m.Removed, CanRekey: m.KEM != nil})
	}
	return out, nil
}

// findMember resolves a member of ms, named or not, by ID, unique ID
// prefix or name (exact, else ignoring case), in the zone named zoneName
// (for the error).
func findMember(ms []*protocol.MemberInfo, ref, zoneName string) (*protocol.MemberInfo, error) {
	cs := make([]candidate[*protocol.MemberInfo], len(ms))
	for i, m := range ms {
		cs[i] = candidate[*protocol.MemberInfo]{id: m.ID.String(), name: m.Name, v: m}
	}
	return resolve("member", ref, cs, zoneName)
}

// requireOrganizer refuses a member who is not an organizer; action names
// the refusal's message ("organizer.only.<action>", node/api).
func (z *zone) requireOrganizer(action string) error {
	st := z.Standing()
	role, removed := st.Role, st.Removed
	if removed {
		return api.Fail(api.ErrForbidden, "zone.removed", "Zone", api.Quote(z.Name()))
	}
	if role != protocol.RoleOrganizer {
		return api.Fail(api.ErrForbidden, "organizer.only."+action, "Role", role, "Zone", api.Quote(z.Name()))
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
	z.grantMu.Lock()
	defer z.grantMu.Unlock()
	found, err := z.FindMember(func(ms []*protocol.MemberInfo) (*protocol.MemberInfo, error) {
		return findMember(ms, memberRef, z.Name())
	})
	if err != nil {
		return api.Member{}, err
	}
	m, pk, chainLen := found.Info, found.Key, found.ChainLen
	if m.Removed {
		return api.Member{}, api.Fail(api.ErrInvalid, "member.removed", "Member", memberRef)
	}
	if pk == nil {
		return api.Member{}, api.Fail(api.ErrInvalid, "member.nokey", "Member", memberRef)
	}
	if chainLen >= protocol.MaxChainLen {
		return api.Member{}, api.Fail(api.ErrForbidden, "chain.promote")
	}
	if err := n.gov.publishGrant(ctx, z, pk, role); err != nil {
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
	found, err := z.FindMember(func(ms []*protocol.MemberInfo) (*protocol.MemberInfo, error) {
		return findMember(ms, memberRef, z.Name())
	})
	if err != nil {
		return api.RemoveResult{}, err
	}
	m := found.Info
	switch {
	case m.ID == n.id.ID():
		return api.RemoveResult{}, api.Fail(api.ErrInvalid, "member.self")
	case m.ID == z.Root().ID():
		return api.RemoveResult{}, api.Fail(api.ErrForbidden, "member.founder")
	case m.Removed:
		return api.RemoveResult{}, api.Fail(api.ErrInvalid, "member.already", "Member", memberRef)
	}
	if err := n.renewer.renewRoot(z); err != nil {
		return api.RemoveResult{}, err
	}
	res, err := n.gov.removeAndRekey(ctx, z, m.ID)
	if err != nil {
		return api.RemoveResult{}, err
	}
	res.Removed = m.ID.String()
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
	s := z.Settings()
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
	out := settingsView(z.Settings())
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
	return settingsView(z.Settings()), nil
}

func settingsView(s protocol.Settings) api.Settings {
	return api.Settings{Quorum: s.Corroborations, Window: api.Duration(s.CorroborationWindow), Expiry: api.Duration(s.Expiry),
		Cosign: s.Cosign, MaxReports: s.MaxReports, MaxConfirms: s.MaxConfirms, AutoShare: s.AutoShare.String()}
}
