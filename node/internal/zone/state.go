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
// keys.
type State struct {
	Mu        sync.Mutex
	Chain     protocol.Chain // this member's certificate chain
	Role      protocol.Role
	Epoch     uint32
	Epochs    map[uint32]crypto.ZoneSecret
	Straggle  *uint32 // the previous epoch, still proven to peers for a grace period after a rekey
	Gov       map[protocol.AlertID]*GovMsg
	Fold      Folded                               // what the governance messages say: roster, settings, links, docs; admission rules
	Coverable map[protocol.AlertID]*GovMsg         // what a snapshot may cover; nil until asked after each refold
	Skipped   map[uint32]map[protocol.AlertID]bool // what catch-up leaves out, by epoch; reset at each refold
	Pubkeys   map[crypto.MemberID]*crypto.PublicKey
	Msgs      Messages // alerts, updates, their envelopes, updates waiting for their alert, what was applied
	Removed   bool
}

// NewState returns the empty state of a zone.
func NewState() State {
	return State{Msgs: NewMessages(), Gov: map[protocol.AlertID]*GovMsg{}, Pubkeys: map[crypto.MemberID]*crypto.PublicKey{}}
}
