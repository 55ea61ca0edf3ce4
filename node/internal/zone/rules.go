// Package zone is the beginning of the node's zone core: what a zone knows
// and decides, with no input/output (no libp2p, no store, no clock of its
// own), so it is tested directly with protocol fixtures.
//
// It holds today the stateful admission rules that every message passes
// after protocol.Validator and the replay cache: live window, stale epoch,
// superseded certificate, once-per-digest shares, and the rate limits of
// members and links, all judged by arrival time (never by the sender's
// sent time; docs/protocol.md "Time").
package zone

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"lookout/crypto"
	"lookout/node/api"
	"lookout/protocol"
)

// Reasons Check rejects a message.
var (
	ErrSuperseded     = errors.New("certificate superseded by a newer role grant")
	ErrRateLimit      = errors.New("over the zone's rate limit")
	ErrDuplicateShare = errors.New("this alert already crossed into the zone")
	ErrBackdated      = errors.New("sent time too far in the past for a live message")
)

// LiveWindow is how long before its arrival a live (gossip) message may
// say it was sent: gossip delivers in seconds, so this covers clock skew
// (protocol.MaxClockSkew, which alone bounds the future side) and a slow
// or congested mesh with room to spare. Older messages come only by
// catch-up, where the arrival-time rules of Check still hold.
const LiveWindow = protocol.RateWindow

// Per-member budgets per protocol.RateWindow, counted by arrival at this
// node, for the kinds a zone's settings do not set (sightings and
// confirms use Settings.MaxReports and Settings.MaxConfirms). A zone that
// raises those raises the budgets that go with them (Budget). Removals
// and rekeys have none: they are organizer-only, a rekey is one message
// per member, and neither may ever be dropped.
const (
	MaxCallouts      = 10  // new callouts and callout updates
	MaxResponses     = 30  // answers to callouts
	MaxClears        = 20  // all clears, retractions, ends of callouts
	MaxCosigns       = 20  // co-signatures of callouts
	MaxShares        = 20  // alerts shared over links
	MaxTallies       = 60  // responder totals from linked zones
	MaxAnnouncements = 3   // member announcements (name and KEM key)
	MaxOrganizerGov  = 100 // role grants, settings and link messages
	MaxSnapshots     = 2   // governance snapshots (one a day is sent)
)

// Rules is the state a zone's admission rules keep: the latest role grant
// per member, and recent arrival times per member, kind and link. It
// is not safe for concurrent use: the zone's lock guards it. The zero
// value is ready to use.
type Rules struct {
	grants    map[crypto.MemberID]grant
	rates     map[rateKey][]time.Time
	linkRates map[protocol.LinkID][]time.Time
}

// grant is a member's latest role certificate.
type grant struct {
	cert [32]byte
	role protocol.Role
	sent time.Time
	msg  string
}

// rateKey is one member's budget of one kind.
type rateKey struct {
	member crypto.MemberID
	kind   protocol.Kind
}

// FoldGrants recomputes the grants from a zone's governance messages: the
// latest role grant an organizer sent for a member (by the grant's sent
// time, ties broken by message ID) is the member's current certificate.
// Exercise grants do not count.
func (r *Rules) FoldGrants(msgs []*protocol.Message) {
	r.grants = map[crypto.MemberID]grant{}
	for _, m := range msgs {
		if m.Alert.Kind != protocol.KindRole || m.Role != protocol.RoleOrganizer || m.Alert.Exercise() {
			continue
		}
		c, err := protocol.ParseCert(m.Alert.Cert)
		if err != nil {
			continue
		}
		id := c.Subject.ID()
		g, ok := r.grants[id]
		if !ok || m.Alert.Sent.After(g.sent) || (m.Alert.Sent.Equal(g.sent) && m.ID.String() > g.msg) {
			r.grants[id] = grant{cert: c.Hash(), role: c.Role, sent: m.Alert.Sent, msg: m.ID.String()}
		}
	}
}

// CheckLive refuses a live (gossip) message that says it was sent more
// than LiveWindow before it arrived at arrival.
func CheckLive(msg *protocol.Message, arrival time.Time) error {
	if msg.Alert.Sent.Before(arrival.Add(-LiveWindow)) {
		return fmt.Errorf("%w: sent %s, arrived %s", ErrBackdated, msg.Alert.Sent.UTC().Format(time.RFC3339), arrival.UTC().Format(time.RFC3339))
	}
	return nil
}

// Check applies the rules to a message protocol.Validator accepted, arriving
// at this node at arrival, in a zone whose current epoch is epoch and whose
// settings are s, and records it against the limits if it passes. The
// message's own sent time is never used: the sender chooses it.
//   - an alert or update of an earlier epoch is refused (governance of any
//     epoch passes: members catching up need it);
//   - a message signed with a certificate that is no longer its sender's
//     latest grant, and that gives more power than that grant (a demoted
//     organizer's or verifier's old certificate), is refused whatever its
//     sent time: every such message is judged after the grant is known
//     here. A superseded certificate with no more power than the current
//     grant (a promoted member's old one) gains nothing and passes;
//   - a message that crossed a link (Via set) is refused if the alert it
//     shares already crossed (shared reports whether a root with that
//     digest is known), and counts against the link's limit
//     (protocol.MaxLinkMessages per protocol.RateWindow) instead of the
//     relay's own;
//   - every other message counts against its sender's budget for its kind
//     (Budget) per protocol.RateWindow, by arrival.
func (r *Rules) Check(msg *protocol.Message, arrival time.Time, epoch uint32, s protocol.Settings, shared func(protocol.Digest) bool) error {
	if msg.Epoch < epoch && !msg.Alert.Kind.IsGovernance() {
		return fmt.Errorf("%w: epoch %d is over (now %d)", protocol.ErrUnknownEpoch, msg.Epoch, epoch)
	}
	if g, ok := r.grants[msg.Alert.Sender]; ok && msg.Chain.Leaf().Hash() != g.cert && msg.Role > g.role {
		return fmt.Errorf("%w: signed as %s, now %s", ErrSuperseded, msg.Role, g.role)
	}
	if msg.Alert.Via != nil {
		return r.checkForward(msg, arrival, shared)
	}
	if !r.allow(msg.Alert.Sender, msg.Alert, arrival, s) {
		return fmt.Errorf("%w: %s", ErrRateLimit, msg.Alert.Kind)
	}
	return nil
}

// Budget is how many messages of a's kind one member may send per
// protocol.RateWindow in a zone with settings s; -1 is unlimited. Callouts,
// clears, cosigns and shares get at least the zone's max reports;
// responses and tallies at least its max confirms.
func Budget(a *protocol.Alert, s protocol.Settings) int {
	switch a.Kind {
	case protocol.KindSighting:
		return s.MaxReports
	case protocol.KindConfirm:
		return s.MaxConfirms
	case protocol.KindCallout:
		return max(MaxCallouts, s.MaxReports)
	case protocol.KindRespond:
		return max(MaxResponses, s.MaxConfirms)
	case protocol.KindClear:
		return max(MaxClears, s.MaxReports)
	case protocol.KindCosign:
		return max(MaxCosigns, s.MaxReports)
	case protocol.KindShare:
		return max(MaxShares, s.MaxReports)
	case protocol.KindTally:
		return max(MaxTallies, s.MaxConfirms)
	case protocol.KindMember:
		return MaxAnnouncements
	case protocol.KindRole, protocol.KindSettings, protocol.KindLink:
		return MaxOrganizerGov
	case protocol.KindCards:
		return MaxCardMessages
	case protocol.KindPlace:
		return MaxPlaceMessages
	case protocol.KindSnapshot:
		return MaxSnapshots
	}
	return -1 // removals and rekeys
}

func (r *Rules) checkForward(msg *protocol.Message, arrival time.Time, shared func(protocol.Digest) bool) error {
	a := msg.Alert
	if a.IsRoot() && shared != nil && shared(a.Via.Digest) {
		return ErrDuplicateShare
	}
	if r.linkRates == nil {
		r.linkRates = map[protocol.LinkID][]time.Time{}
	}
	if count(r.linkRates[a.Via.Link], arrival) >= protocol.MaxLinkMessages {
		return fmt.Errorf("%w: link %s", ErrRateLimit, a.Via.Link)
	}
	r.linkRates[a.Via.Link] = record(r.linkRates[a.Via.Link], arrival)
	return nil
}

// allow records a message of a's kind from member arriving at t and
// reports whether it is within the member's budget.
func (r *Rules) allow(member crypto.MemberID, a *protocol.Alert, t time.Time, s protocol.Settings) bool {
	limit := Budget(a, s)
	if limit < 0 {
		return true
	}
	if r.rates == nil {
		r.rates = map[rateKey][]time.Time{}
	}
	k := rateKey{member, a.Kind}
	if count(r.rates[k], t) >= limit {
		return false
	}
	r.rates[k] = record(r.rates[k], t)
	return true
}

// count is how many times in list fall in the rate window ending at t.
func count(list []time.Time, t time.Time) int {
	from := t.Add(-protocol.RateWindow)
	n := 0
	for _, x := range list {
		if x.After(from) && !x.After(t) {
			n++
		}
	}
	return n
}

// record adds t to list and drops times two windows older than t.
func record(list []time.Time, t time.Time) []time.Time {
	list = slices.DeleteFunc(list, func(x time.Time) bool { return !x.After(t.Add(-2 * protocol.RateWindow)) })
	return append(list, t)
}

// Headroom tells a local sender, before signing, that a message of kind
// made at t would exceed its budget (every node it reaches now would
// reject it). It records nothing.
func (r *Rules) Headroom(member crypto.MemberID, kind protocol.Kind, t time.Time, s protocol.Settings) error {
	limit := Budget(&protocol.Alert{Kind: kind}, s)
	if limit < 0 || count(r.rates[rateKey{member, kind}], t) < limit {
		return nil
	}
	id := map[protocol.Kind]string{protocol.KindSighting: "rate.reports", protocol.KindConfirm: "rate.confirmations"}[kind]
	if id == "" {
		id = "rate.other"
	}
	return api.Fail(api.ErrForbidden, id, "N", limit, "Kind", kind, "Window", protocol.RateWindow)
}
