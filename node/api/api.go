// Package api holds the JSON types that cross Lookout's local control API:
// what the node reports about itself, its zones and its alerts, and the
// requests the CLI and the desktop app send it. It has no behaviour, so the
// node, the control server, its client and the app can all share it.
package api

import (
	"time"
)

// Status describes the running node.
type Status struct {
	MemberID string   `json:"member_id"`
	Name     string   `json:"name,omitempty"`
	PeerID   string   `json:"peer_id"`
	Addrs    []string `json:"addrs"` // full multiaddrs ending in /p2p/<peer ID>
	Peers    []string `json:"peers"` // peer IDs of connected peers
	Health   *Health  `json:"health,omitempty"`

	// Reachability is public, private (behind a router) or unknown (not
	// yet checked with zone peers).
	Reachability string `json:"reachability"`
	// PublicAddrs are addresses other homes can dial (confirmed or, once
	// public, the public ones), without /p2p/.
	PublicAddrs []string `json:"public_addrs"`
	// Connections says for each connected peer whether it is reached
	// directly or only through a member's relay.
	Connections []Connection `json:"connections"`
}

// Health is what the node knows of its own condition (node/health).
type Health struct {
	Protocol     int    `json:"protocol"`      // wire protocol version this node speaks
	SyncProtocol int    `json:"sync_protocol"` // catch-up protocol version this node speaks
	Reachable    string `json:"reachable"`     // from outside: "yes", "no" or "unknown"
	// ClockOffsetMS is how far this node's clock is ahead (+) of or
	// behind (-) its peers', median over the senders of live messages;
	// ClockSenders is how many, 0 when unknown. ClockWarning is set when
	// the clock is off enough to make alerts look replayed or expired.
	ClockOffsetMS int64  `json:"clock_offset_ms"`
	ClockSenders  int    `json:"clock_senders"`
	ClockStrays   int    `json:"clock_strays"` // senders whose clocks are 30 s or more from this node's
	ClockWarning  string `json:"clock_warning,omitempty"`
	PeersDirect   int    `json:"peers_direct"`
	PeersRelayed  int    `json:"peers_relayed"`
	// RelayReservations counts this node's own relayed addresses.
	RelayReservations int `json:"relay_reservations"`
	// OlderPeers and NewerPeers are connected peers speaking an older or
	// newer catch-up protocol than this node (peer IDs).
	OlderPeers []PeerVersion `json:"older_peers,omitempty"`
	NewerPeers []PeerVersion `json:"newer_peers,omitempty"`
	// Accepted and Rejected count messages since the node started;
	// Rejected by reason (see health.Reasons).
	Accepted   uint64            `json:"accepted"`
	Rejected   map[string]uint64 `json:"rejected,omitempty"`
	StoreBytes int64             `json:"store_bytes"`
	StoreError string            `json:"store_error,omitempty"` // empty: the store reads fine
	// ExpiredZones counts zones whose membership certificate expired
	// (Zone.Expired).
	ExpiredZones int     `json:"expired_zones,omitempty"`
	Uptime       float64 `json:"uptime_seconds"`
}

// PeerVersion is a connected peer and the catch-up protocol it speaks.
type PeerVersion struct {
	Peer         string `json:"peer"`
	SyncProtocol int    `json:"sync_protocol"`
}

// Connection is how a connected peer is reached.
type Connection struct {
	Peer string `json:"peer"`
	Via  string `json:"via"` // direct or relayed
}

// Zone describes one zone the node is a member of.
type Zone struct {
	ID    string   `json:"id"`
	Name  string   `json:"name"`
	Role  string   `json:"role"` // member, verifier or organizer
	Epoch uint32   `json:"epoch"`
	Topic string   `json:"topic"` // gossipsub topic name in use
	Peers []string `json:"peers"` // peer IDs subscribed to the zone's topic
	// Removed is set once this member was removed from the zone.
	Removed bool `json:"removed,omitempty"`
	// Stale is set for a zone made by an older Lookout (an earlier protocol
	// version): it is listed but not joined; the member asks an organizer
	// for a new invite and may leave it (lookout zone leave).
	Stale bool `json:"stale,omitempty"`
	// Places are the places this member reported in the zone, newest
	// first, a few at most: the app's report form offers them.
	Places []string `json:"places,omitempty"`
	// Expired is the date (YYYY-MM-DD, UTC) this membership's certificate
	// expired, if it has: the zone is still read, nothing can be sent in
	// it until an organizer renews the membership. Empty while valid.
	Expired string `json:"expired,omitempty"`
	// InvitesRedeemedTwice counts invites of the zone that two members
	// redeemed (a copied code, or a network split); only the first
	// certified of each counts, and an organizer should remove the other.
	InvitesRedeemedTwice int `json:"invites_redeemed_twice,omitempty"`
}

// StaleZoneText says what a stale zone (Zone.Stale) is and what to do.
const StaleZoneText = "made by an older Lookout: ask an organizer for a new invite"

// LeaveZoneRequest removes a zone made by an older Lookout from this node.
type LeaveZoneRequest struct {
	Zone string `json:"zone"`
}

// Responders counts callout answers, one per member (their latest answer).
type Responders struct {
	EnRoute int `json:"enroute"`
	OnScene int `json:"onscene"`
	Cannot  int `json:"cannot"`
}

// Alert is the current view of a sighting or a callout, with the updates
// (confirmations, responses, clears) that refer to it already folded in.
type Alert struct {
	ID         string    `json:"id"`
	Zone       string    `json:"zone"` // zone ID
	ZoneName   string    `json:"zone_name"`
	Kind       string    `json:"kind"`  // sighting or callout
	State      string    `json:"state"` // see protocol.State
	Sent       time.Time `json:"sent"`
	Expires    time.Time `json:"expires"`
	Exercise   bool      `json:"exercise"`
	Sender     string    `json:"sender"` // member ID
	SenderRole string    `json:"sender_role"`
	Where      string    `json:"where"`

	// Sighting (SALUTE) fields.
	What      string     `json:"what,omitempty"`
	Size      int        `json:"size,omitempty"`
	Activity  string     `json:"activity,omitempty"`
	Uniform   string     `json:"uniform,omitempty"`
	Equipment string     `json:"equipment,omitempty"`
	Observed  *time.Time `json:"observed,omitempty"`
	// Quick-report codes (see quick.go): shown to each reader in their
	// own language with QuickText; Size is the number of officers.
	WhatCode    string `json:"what_code,omitempty"`    // door, vehicle, arrest, checkpoint or foot
	UniformCode string `json:"uniform_code,omitempty"` // marked or plain
	Vehicles    int    `json:"vehicles,omitempty"`
	// Confirmations counts distinct members who have confirmed a sighting,
	// the reporter included. Set for sightings only.
	Confirmations *int `json:"confirmations,omitempty"`
	Verified      bool `json:"verified,omitempty"`

	// Callout fields.
	Title      string      `json:"title,omitempty"`
	When       string      `json:"when,omitempty"`
	Need       int         `json:"need,omitempty"`
	Bring      string      `json:"bring,omitempty"`
	Rights     string      `json:"rights,omitempty"`
	Card       string      `json:"card,omitempty"`       // a know-your-rights card's topic ID (see docs.go)
	Responders *Responders `json:"responders,omitempty"` // set for callouts only

	// Incident is the ID of the first sighting of the incident this
	// sighting is part of (reports of one place close in time); sightings
	// only. Sightings lists every sighting in it.
	Incident   string   `json:"incident,omitempty"`
	Sightings  []string `json:"sightings,omitempty"`
	VerifiedBy []string `json:"verified_by,omitempty"`

	// Reports lists the reports of an incident, oldest first, each with its
	// own time, text and size; Notes are what members said about it that
	// did not end it (a reporter withdrawing a report, a member saying the
	// agents left) for a verifier to act on. Sightings only.
	Reports []Report `json:"reports,omitempty"`
	Notes   []Note   `json:"notes,omitempty"`

	// Needed repeats Need for callouts; Cosigned is set once a second
	// organizer co-signed (relevant where the zone requires it).
	Needed    int      `json:"needed,omitempty"`
	Cosigned  bool     `json:"cosigned,omitempty"`
	Cosigners []string `json:"cosigners,omitempty"`

	// ClearReason is set once the alert is cleared: "allclear" or "retracted".
	ClearReason string `json:"clear_reason,omitempty"`
	ClearNote   string `json:"clear_note,omitempty"`

	// Via is the name of the link an alert arrived over (the linked zone's
	// name for itself); Origin is the link name of the zone it was first
	// shared from. Empty for the zone's own alerts.
	Via    string `json:"via,omitempty"`
	Origin string `json:"origin,omitempty"`
	// LinkedResponders is the sum of Linked, capped like each of them;
	// Responders counts only the zone's own members.
	LinkedResponders *Responders `json:"linked_responders,omitempty"`
	// Linked are the responder totals each linked zone reported for a
	// shared callout, shown apart from the zone's own ("2 from Junction").
	Linked []LinkedTally `json:"linked,omitempty"`
}

// LinkedTally is what one linked zone reported about a shared callout's
// responders. A linked zone's totals cannot be checked here: each count
// is capped at the callout's need (or MaxLinkedResponders without one).
type LinkedTally struct {
	Zone string `json:"zone"` // the linked zone's name over the link
	// Reporter is the member ID of this zone's link end that relayed the
	// totals (the organizer whose node received them).
	Reporter string `json:"reporter"`
	Responders
	// Capped is set when the linked zone reported more than the cap.
	Capped bool `json:"capped,omitempty"`
}

// MaxLinkedResponders caps each count a linked zone reports for a callout
// with no need set.
const MaxLinkedResponders = 50

// Report is one report of an incident.
type Report struct {
	ID        string    `json:"id"`
	Sent      time.Time `json:"sent"`
	Sender    string    `json:"sender"` // member ID
	Where     string    `json:"where"`
	What      string    `json:"what"`
	Size      int       `json:"size,omitempty"`
	Withdrawn bool      `json:"withdrawn,omitempty"` // retracted by its reporter
}

// Note is a clear that did not end an incident.
type Note struct {
	Sent   time.Time `json:"sent"`
	Sender string    `json:"sender"` // member ID
	// Kind is "withdrawn" (a reporter retracted their report) or "left"
	// (a member says the agents left).
	Kind string `json:"kind"`
	Note string `json:"note,omitempty"`
}

// ReportRequest asks the node to publish a sighting. What may be empty
// if WhatCode is set.
type ReportRequest struct {
	Zone      string `json:"zone"` // name or ID
	What      string `json:"what"`
	Where     string `json:"where"`
	Size      int    `json:"size,omitempty"`
	Activity  string `json:"activity,omitempty"`
	Uniform   string `json:"uniform,omitempty"`
	Equipment string `json:"equipment,omitempty"`
	Exercise  bool   `json:"exercise,omitempty"`
	// Quick-report codes, as in Alert.
	WhatCode    string `json:"what_code,omitempty"`
	UniformCode string `json:"uniform_code,omitempty"`
	Vehicles    int    `json:"vehicles,omitempty"`
}

// CalloutRequest asks the node to publish a callout (organizers only).
type CalloutRequest struct {
	Zone     string `json:"zone"` // name or ID
	Title    string `json:"title"`
	Where    string `json:"where"`
	When     string `json:"when,omitempty"`
	Need     int    `json:"need,omitempty"`
	Bring    string `json:"bring,omitempty"`
	Rights   string `json:"rights,omitempty"`
	Card     string `json:"card,omitempty"` // a know-your-rights card's topic ID
	Exercise bool   `json:"exercise,omitempty"`
}

// InviteRequest asks an organizer's node for a one-line invite code.
type InviteRequest struct {
	Zone string        `json:"zone"`
	Role string        `json:"role"` // member, verifier or organizer
	TTL  time.Duration `json:"ttl"`
	// LAN also puts in the invite this node's addresses on its local
	// network or VPN (private IPv4, shared address space, IPv6
	// unique-local), for a joiner on the same network.
	LAN bool `json:"lan,omitempty"`
}

// InviteResponse carries the invite code.
type InviteResponse struct {
	Code    string    `json:"code"`
	Expires time.Time `json:"expires"`
}

// JoinRequest redeems an invite code.
type JoinRequest struct {
	Code string `json:"code"`
}

// CreateZoneRequest creates a zone with this node's member as founder.
type CreateZoneRequest struct {
	Name string `json:"name"`
}

// ConfirmRequest confirms a sighting as a witness.
type ConfirmRequest struct {
	Alert string `json:"alert"`
}

// RespondRequest answers a callout: enroute, onscene or cannot.
type RespondRequest struct {
	Alert  string `json:"alert"`
	Status string `json:"status"`
}

// ClearRequest clears an alert: all clear by a verifier or organizer, or a
// retraction by its reporter.
type ClearRequest struct {
	Alert  string `json:"alert"`
	Reason string `json:"reason,omitempty"`
}

// Error is the body of every failed control API call: the English text,
// and for a Problem its message ID and fields, which clients render in
// the user's language.
type Error struct {
	Error string            `json:"error"`
	ID    string            `json:"id,omitempty"`
	Args  map[string]string `json:"args,omitempty"`
}

// Member is a zone member as the node knows it.
type Member struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Role    string `json:"role"`
	Removed bool   `json:"removed,omitempty"`
	// CanRekey is set when the node knows the member's KEM key, so a new
	// epoch can be sealed to them.
	CanRekey bool `json:"can_rekey"`
}

// PromoteRequest grants a member a role.
type PromoteRequest struct {
	Zone   string `json:"zone"`
	Member string `json:"member"` // ID, unique ID prefix or unique name
	Role   string `json:"role"`   // verifier or organizer
}

// RemoveRequest removes a member and starts a new epoch.
type RemoveRequest struct {
	Zone   string `json:"zone"`
	Member string `json:"member"`
}

// RemoveResult says what a removal did.
type RemoveResult struct {
	Removed   string   `json:"removed"`
	Epoch     uint32   `json:"epoch"`     // the new epoch
	Reached   int      `json:"reached"`   // members the new secret was sealed to
	Unreached []string `json:"unreached"` // members whose KEM key was unknown: they need a new invite
}

// Duration is a time.Duration written as text ("20m0s") in JSON.
type Duration time.Duration

func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	*d = Duration(v)
	return err
}

// Settings are a zone's lifecycle settings.
type Settings struct {
	Quorum      int      `json:"quorum"`       // distinct members who make a sighting corroborated
	Window      Duration `json:"window"`       // corroboration window
	Expiry      Duration `json:"expiry"`       // a sighting expires this long after its last update
	Cosign      bool     `json:"cosign"`       // callouts need a second organizer
	MaxReports  int      `json:"max_reports"`  // per member per 10 minutes
	MaxConfirms int      `json:"max_confirms"` // per member per 10 minutes
	AutoShare   string   `json:"auto_share"`   // what the zone's link ends share on their own: none, verified, callouts or all
	// Note explains a requested change that has not taken effect yet.
	Note string `json:"note,omitempty"`
}

// SettingsRequest changes the given settings; nil fields stay.
type SettingsRequest struct {
	Zone        string         `json:"zone"`
	Quorum      *int           `json:"quorum,omitempty"`
	Window      *time.Duration `json:"window,omitempty"`
	Expiry      *time.Duration `json:"expiry,omitempty"`
	Cosign      *bool          `json:"cosign,omitempty"`
	MaxReports  *int           `json:"max_reports,omitempty"`
	MaxConfirms *int           `json:"max_confirms,omitempty"`
	AutoShare   *string        `json:"auto_share,omitempty"` // none, verified, callouts or all
}

// CalloutUpdateRequest changes a callout; empty fields keep their value.
type CalloutUpdateRequest struct {
	Alert  string `json:"alert"`
	Title  string `json:"title,omitempty"`
	Where  string `json:"where,omitempty"`
	When   string `json:"when,omitempty"`
	Need   int    `json:"need,omitempty"`
	Bring  string `json:"bring,omitempty"`
	Rights string `json:"rights,omitempty"`
	Card   string `json:"card,omitempty"`
}

// AlertRequest names an alert (cosign).
type AlertRequest struct {
	Alert string `json:"alert"`
}

// LinkOfferRequest asks an organizer's node for a link offer code for a
// zone. Name is the name the zone goes by over the link (default: its
// name); TTL how long the code is valid (0: 24 hours).
type LinkOfferRequest struct {
	Zone string        `json:"zone"`
	Name string        `json:"name,omitempty"`
	TTL  time.Duration `json:"ttl,omitempty"`
}

// LinkOffer carries a link offer code.
type LinkOffer struct {
	Code    string    `json:"code"`
	Link    string    `json:"link"` // link ID
	Name    string    `json:"name"`
	Expires time.Time `json:"expires"`
}

// AcceptLinkRequest accepts another zone's link offer code for a zone.
type AcceptLinkRequest struct {
	Zone string `json:"zone"`
	Code string `json:"code"`
	Name string `json:"name,omitempty"` // the zone's name over the link (default: its name)
}

// Link is one of a zone's links.
type Link struct {
	ID    string `json:"id"`
	Name  string `json:"name"`  // this zone's name over the link
	Peer  string `json:"peer"`  // the linked zone's name over the link (shown as "via")
	State string `json:"state"` // offered, active or ended
	// Since is when the link was made (unset for an offer).
	Since *time.Time `json:"since,omitempty"`
	// Expires is when an offer's code expires (offers only).
	Expires *time.Time `json:"expires,omitempty"`
	// Endpoint is the member ID of this zone's end (the organizer whose
	// node relays); PeerEndorser is the other zone's end.
	Endpoint     string `json:"endpoint,omitempty"`
	PeerEndorser string `json:"peer_endorser,omitempty"`
}

// UnlinkRequest ends a link, given by ID, ID prefix or peer name.
type UnlinkRequest struct {
	Zone string `json:"zone"`
	Link string `json:"link"`
}

// ShareRequest shares a verified sighting or a callout over the zone's
// links, crossing up to Hops links (0: 1).
type ShareRequest struct {
	Alert string `json:"alert"`
	Hops  int    `json:"hops,omitempty"`
}
