package zone

import (
	"sync"

	"lookout/crypto"
	"lookout/protocol"
)

// GovMsg is a governance message with its envelope, kept for the roster
// and for members who were offline when it was sent.
type GovMsg struct {
	Msg *protocol.Message
	Env []byte
}

// State is what a zone knows, guarded by one mutex: its epochs and
// secrets, this member's certificate chain and role, the governance log
// and what it folds to, the alerts and updates held, and the senders'
// keys. The node's zone (node/zone.go) embeds it and reaches it only
// through its methods (state_*.go): those without a Locked suffix take
// the mutex themselves, take decoded messages or plain values, and return
// what changed or what the node asked for. Nothing here does input or
// output.
type State struct {
	// Fixed at creation (NewStateFrom), read without the lock.
	id     protocol.ZoneID
	root   *crypto.PublicKey // the founder's key
	rootID crypto.MemberID
	label  Label // the record's ID and name, as views show them

	mu        sync.Mutex
	rec       Record         // the zone as stored (state_record.go)
	chain     protocol.Chain // this member's certificate chain
	role      protocol.Role
	epoch     uint32
	epochs    map[uint32]crypto.ZoneSecret
	straggle  *uint32 // the previous epoch, still proven to peers for a grace period after a rekey
	gov       map[protocol.AlertID]*GovMsg
	fold      Folded                               // what the governance messages say: roster, settings, links, docs; admission rules
	coverable map[protocol.AlertID]*GovMsg         // what a snapshot may cover; nil until asked after each refold
	skipped   map[uint32]map[protocol.AlertID]bool // what catch-up leaves out, by epoch; reset at each refold
	pubkeys   map[crypto.MemberID]*crypto.PublicKey
	msgs      Messages // alerts, updates, their envelopes, updates waiting for their alert, what was applied
	removed   bool
}

// Label names a zone in its views (api.Alert's Zone and ZoneName): the
// stored record's ID and name.
type Label struct{ ID, Name string }

// NewStateFrom returns the state of a zone whose stored record rec opened
// to m (Record.Open): the record, its epochs and secrets, this member's
// chain, role and removal, the founder's roster; no message held yet.
func NewStateFrom(m Membership, rec Record) State {
	return State{id: m.Zone, root: m.Root, rootID: m.Root.ID(), label: Label{ID: rec.ID, Name: rec.Name}, rec: rec,
		chain: m.Chain, role: m.Role, epoch: m.Epoch, epochs: m.Epochs, removed: m.Removed,
		fold: NewFolded(m.Root.ID()), msgs: NewMessages(), gov: map[protocol.AlertID]*GovMsg{}, pubkeys: map[crypto.MemberID]*crypto.PublicKey{}}
}

// ID returns the zone's ID.
func (s *State) ID() protocol.ZoneID { return s.id }

// Root returns the founder's key.
func (s *State) Root() *crypto.PublicKey { return s.root }
