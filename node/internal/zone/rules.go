// Package zone is the beginning of the node's zone core: what a zone knows
// and decides, with no input/output (no libp2p, no store, no clock of its
// own), so it is tested directly with protocol fixtures.
//
// It holds today the stateful admission rules that every message passes
// after protocol.Validator and the replay cache: stale epoch, superseded
// certificate, once-per-digest shares, and the rate limits of members and
// links.
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
)

// Rules is the state a zone's admission rules keep: the latest role grant
// per member, and recent message times per member and per link. It
// is not safe for concurrent use: the zone's lock guards it. The zero
// value is ready to use.
type Rules struct {
	grants    map[crypto.MemberID]grant
	rates     map[crypto.MemberID]*rate
	linkRates map[protocol.LinkID][]time.Time
}

// grant is a member's latest role certificate.
type grant struct {
	cert [32]byte
	sent time.Time
	msg  string
}

// rate holds a member's recent sightings and confirms by sent time.
type rate struct {
	reports, confirms []time.Time
}

// FoldGrants recomputes the grants from a zone's governance messages: the
// latest role grant an organizer sent for a member supersedes every other
// certificate of that member from the grant's time on (ties broken by
// message ID). Exercise grants do not count.
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
			r.grants[id] = grant{cert: c.Hash(), sent: m.Alert.Sent, msg: m.ID.String()}
		}
	}
}

// Check applies the rules to a message protocol.Validator accepted, in a
// zone whose current epoch is epoch and whose settings are s, and records
// it against the limits if it passes:
//   - an alert or update of an earlier epoch is refused (governance of any
//     epoch passes: members catching up need it);
//   - a certificate superseded by a later grant is refused from the grant's
//     time on;
//   - a message that crossed a link (Via set) is refused if the alert it
//     shares already crossed (shared reports whether a root with that
//     digest is known), and counts against the link's limit
//     (protocol.MaxLinkMessages per protocol.RateWindow) instead of the
//     relay's own;
//   - sightings and confirms count against the sender's limits
//     (s.MaxReports, s.MaxConfirms per protocol.RateWindow, by sent time).
func (r *Rules) Check(msg *protocol.Message, epoch uint32, s protocol.Settings, shared func(protocol.Digest) bool) error {
	if msg.Epoch < epoch && !msg.Alert.Kind.IsGovernance() {
		return fmt.Errorf("%w: epoch %d is over (now %d)", protocol.ErrUnknownEpoch, msg.Epoch, epoch)
	}
	if g, ok := r.grants[msg.Alert.Sender]; ok && msg.Chain.Leaf().Hash() != g.cert && !msg.Alert.Sent.Before(g.sent) {
		return ErrSuperseded
	}
	if msg.Alert.Via != nil {
		return r.checkForward(msg, shared)
	}
	if !r.allow(msg.Alert.Sender, msg.Alert.Kind, msg.Alert.Sent, s) {
		return ErrRateLimit
	}
	return nil
}

func (r *Rules) checkForward(msg *protocol.Message, shared func(protocol.Digest) bool) error {
	a := msg.Alert
	if a.IsRoot() && shared != nil && shared(a.Via.Digest) {
		return ErrDuplicateShare
	}
	if r.linkRates == nil {
		r.linkRates = map[protocol.LinkID][]time.Time{}
	}
	if count(r.linkRates[a.Via.Link], a.Sent) >= protocol.MaxLinkMessages {
		return fmt.Errorf("%w: link %s", ErrRateLimit, a.Via.Link)
	}
	r.linkRates[a.Via.Link] = record(r.linkRates[a.Via.Link], a.Sent)
	return nil
}

// allow records a message sent at t and reports whether it is within the
// zone's limits.
func (r *Rules) allow(member crypto.MemberID, kind protocol.Kind, t time.Time, s protocol.Settings) bool {
	if r.rates == nil {
		r.rates = map[crypto.MemberID]*rate{}
	}
	m := r.rates[member]
	if m == nil {
		m = &rate{}
		r.rates[member] = m
	}
	var list *[]time.Time
	var limit int
	switch kind {
	case protocol.KindSighting:
		list, limit = &m.reports, s.MaxReports
	case protocol.KindConfirm:
		list, limit = &m.confirms, s.MaxConfirms
	default:
		return true
	}
	if count(*list, t) >= limit {
		return false
	}
	*list = record(*list, t)
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
// sent at t would exceed the zone's rate limit (every node would reject
// it). It records nothing.
func (r *Rules) Headroom(member crypto.MemberID, kind protocol.Kind, t time.Time, s protocol.Settings) error {
	m := r.rates[member]
	if m == nil {
		return nil
	}
	list, limit, what := m.reports, s.MaxReports, "reports"
	switch kind {
	case protocol.KindSighting:
	case protocol.KindConfirm:
		list, limit, what = m.confirms, s.MaxConfirms, "confirmations"
	default:
		return nil
	}
	if count(list, t) >= limit {
		return fmt.Errorf("%w: this zone allows %d %s per member per %s; wait a few minutes", api.ErrForbidden, limit, what, protocol.RateWindow)
	}
	return nil
}
