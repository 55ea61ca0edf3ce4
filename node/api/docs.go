package api

import (
	"encoding/json"
	"time"
)

// Zone documents: a zone's own know-your-rights cards and its
// safe-services directory (docs/protocol.md, kinds 15 and 16).

// ZoneCards is a zone's own card set for one language. Set is the card
// set as written (UTF-8 JSON, app/rights reads it); it is empty when the
// zone has none in that language or withdrew them (Mode "withdraw"), and
// readers then use the built-in cards.
type ZoneCards struct {
	Zone     string          `json:"zone"`
	Lang     string          `json:"lang"`
	Revision int             `json:"revision"`       // 0: the zone has no cards in Lang
	Mode     string          `json:"mode,omitempty"` // add, replace or withdraw
	Set      json.RawMessage `json:"set,omitempty"`
	Sender   string          `json:"sender,omitempty"` // member ID of the organizer who published it
	Sent     *time.Time      `json:"sent,omitempty"`
}

// CardModes are the modes of a zone card set: add to the built-in cards
// (a card with a built-in topic replaces it), replace them, or withdraw
// the zone's cards.
var CardModes = []string{"add", "replace", "withdraw"}

// PublishCardsRequest publishes a zone's card set (organizers only). The
// set's own "lang" is the language it is for; Lang names it for a
// withdrawal, which has no set. Mode is add (default), replace or
// withdraw.
type PublishCardsRequest struct {
	Zone string          `json:"zone"`
	Mode string          `json:"mode,omitempty"`
	Lang string          `json:"lang,omitempty"`
	Set  json.RawMessage `json:"set,omitempty"`
}

// PlaceKinds are the kinds of a directory entry, in the order interfaces
// offer them.
var PlaceKinds = []string{"shelter", "food", "health", "legal", "school", "work", "other"}

// Place is an entry of a zone's safe-services directory. It names a
// service, never a person. A suggestion not yet confirmed has no
// ConfirmedBy.
type Place struct {
	ID                string     `json:"id"`
	Kind              string     `json:"kind"` // see PlaceKinds
	Name              string     `json:"name"`
	Where             string     `json:"where"` // a landmark or an intersection
	Hours             string     `json:"hours"`
	Languages         []string   `json:"languages"` // two-letter codes
	NoID              bool       `json:"no_id"`
	NoStatusQuestions bool       `json:"no_status_questions"`
	WalkIn            bool       `json:"walk_in"`
	Contact           string     `json:"contact"`
	Notes             string     `json:"notes"`
	ConfirmedBy       string     `json:"confirmed_by"` // member ID; "" for a suggestion; for an entry from a linked zone, that zone's link end
	ConfirmedAt       *time.Time `json:"confirmed_at"` // nil for a suggestion
	// Share: an organizer may share it with linked zones. Shared: how many
	// links an organizer's share lets it cross (0: not shared).
	Share  bool `json:"share,omitempty"`
	Shared int  `json:"shared,omitempty"`
	// From is the name of the linked zone an entry came from (over the
	// link it came by; read-only here), Origin the zone it was first
	// shared from; both empty for the zone's own entries.
	From   string `json:"from,omitempty"`
	Origin string `json:"origin,omitempty"`
}

// PlaceStaleAfter is how long after its last confirmation an entry is
// shown as "not checked recently".
const PlaceStaleAfter = 183 * 24 * time.Hour

// Suggested reports whether the entry is a member's suggestion that no
// verifier or organizer has confirmed.
func (p Place) Suggested() bool { return p.ConfirmedBy == "" }

// Stale reports whether a confirmed entry was last confirmed more than
// PlaceStaleAfter before now.
func (p Place) Stale(now time.Time) bool {
	return p.ConfirmedAt != nil && now.Sub(*p.ConfirmedAt) > PlaceStaleAfter
}

// PlaceFilter selects directory entries; empty fields select all.
type PlaceFilter struct {
	Kind string `json:"kind,omitempty"`
	Lang string `json:"lang,omitempty"` // a two-letter code the entry lists
	Text string `json:"text,omitempty"` // in the name, place, hours or notes, ignoring case and accents
}

// PlaceOps are the operations on a directory entry: add, update, retire
// and confirm by verifiers and organizers; suggest by any member.
// Share (organizers) shares an entry, or All of them, with the zone's
// linked zones.
var PlaceOps = []string{"add", "update", "retire", "suggest", "confirm", "share"}

// PlaceRequest is one operation on a zone's directory. Place names the
// entry (ID, unique ID prefix or name) for update, retire and confirm.
// For update and confirm, empty fields and nil flags keep the entry's
// value.
type PlaceRequest struct {
	Zone              string   `json:"zone"`
	Op                string   `json:"op"`
	Place             string   `json:"place,omitempty"`
	Kind              string   `json:"kind,omitempty"`
	Name              string   `json:"name,omitempty"`
	Where             string   `json:"where,omitempty"`
	Hours             string   `json:"hours,omitempty"`
	Languages         []string `json:"languages,omitempty"`
	NoID              *bool    `json:"no_id,omitempty"`
	NoStatusQuestions *bool    `json:"no_status_questions,omitempty"`
	WalkIn            *bool    `json:"walk_in,omitempty"`
	Contact           string   `json:"contact,omitempty"`
	Notes             string   `json:"notes,omitempty"`
	Share             *bool    `json:"share,omitempty"` // an organizer may share it with linked zones
	// Share: how many links it may cross (0: 1), and All to share every
	// confirmed entry marked shareable instead of Place.
	Hops int  `json:"hops,omitempty"`
	All  bool `json:"all,omitempty"`
}
