package protocol

import (
	"fmt"
	"sync"
	"time"

	"lookout/crypto"
)

// Message is an alert that passed validation.
type Message struct {
	*Signed
	Epoch uint32
	Role  Role // the sender's role, from the leaf certificate
}

// Validator runs the checks every node applies to every envelope of one
// zone, cheapest first: size, decrypt, decode, certificate chain, composite
// signature, role rules and time window. Replay and duplicate checks need
// state and live in the node. It is safe for concurrent use.
type Validator struct {
	Zone ZoneID
	Root *crypto.PublicKey
	// Key returns the alert key of an epoch this node holds.
	Key func(epoch uint32) (*crypto.AEADKey, bool)
	// Revoked, if set, rejects revoked certificates and members.
	Revoked func(cert [32]byte, member crypto.MemberID) bool
	// Endorser, if set, returns the key this zone accepted for the other
	// end of an active link, given the relay (this zone's end) that sent
	// the message. Without it, messages that crossed a link are rejected.
	Endorser func(link LinkID, relay crypto.MemberID) (*crypto.PublicKey, error)

	once   sync.Once
	chains *ChainVerifier
	certs  *CertCache
}

// NewValidator returns a validator for a zone.
func NewValidator(zone ZoneID, root *crypto.PublicKey, key func(uint32) (*crypto.AEADKey, bool)) *Validator {
	return &Validator{Zone: zone, Root: root, Key: key}
}

func (v *Validator) init() {
	v.once.Do(func() {
		v.chains = &ChainVerifier{Zone: v.Zone, Root: v.Root, Revoked: func(c [32]byte, m crypto.MemberID) bool {
			return v.Revoked != nil && v.Revoked(c, m)
		}}
		v.certs = NewCertCache(certCacheSize)
	})
}

// certCacheSize bounds the parsed certificates a validator keeps: a zone's
// members and their issuers, with room to spare.
const certCacheSize = 4096

// Validate opens and checks an envelope received at time now.
func (v *Validator) Validate(env []byte, now time.Time) (*Message, error) {
	return v.open(env, func(*Signed) time.Time { return now })
}

// Reopen opens an envelope of this zone that was accepted before (a stored
// one) and checks it as of its own sent time, parsing certificates through
// the validator's cache (a node restores hundreds at start).
func (v *Validator) Reopen(env []byte) (*Message, error) {
	return v.open(env, func(s *Signed) time.Time { return s.Alert.Sent })
}

// open opens env with its epoch's key and checks it as of at(s).
func (v *Validator) open(env []byte, at func(*Signed) time.Time) (*Message, error) {
	epoch, err := EnvelopeEpoch(env)
	if err != nil {
		return nil, err
	}
	v.init()
	key, ok := v.Key(epoch)
	if !ok {
		return nil, fmt.Errorf("envelope: %w: %d", ErrUnknownEpoch, epoch)
	}
	s, err := openCached(key, env, v.certs)
	if err != nil {
		return nil, err
	}
	role, err := v.Check(s, at(s))
	if err != nil {
		return nil, err
	}
	return &Message{Signed: s, Epoch: epoch, Role: role}, nil
}

// Check verifies a decoded signed alert: zone, chain, signature, sent time
// not before any certificate of the chain was issued (less
// MaxClockSkew), role rules and time window. It returns the sender's role.
func (v *Validator) Check(s *Signed, now time.Time) (Role, error) {
	v.init()
	a := s.Alert
	if a.Zone != v.Zone {
		return 0, ErrWrongZone
	}
	role, err := v.chains.Verify(s.Chain, now)
	if err != nil {
		return 0, err
	}
	if err := s.verify(); err != nil {
		return 0, err
	}
	// A message cannot predate the certificates that sign it: checked here
	// as on a restart, where the chain is verified at the sent time.
	for i, c := range s.Chain {
		if a.Sent.Before(c.Issued.Add(-MaxClockSkew)) {
			return 0, fmt.Errorf("%w: sent %s, before certificate %d was issued", ErrChain, a.Sent.UTC().Format(time.RFC3339), i)
		}
	}
	if err := CheckRole(a, role); err != nil {
		return 0, err
	}
	if a.Kind == KindRole {
		// The granted certificate must be issued by the sender.
		c, err := v.certs.parse(a.Cert)
		if err != nil {
			return 0, err
		}
		if err := c.verifySig(s.Chain.Leaf().Subject); err != nil {
			return 0, fmt.Errorf("%w: granted certificate not issued by its sender", ErrChain)
		}
	}
	if a.Via != nil {
		if v.Endorser == nil {
			return 0, ErrLink
		}
		pk, err := v.Endorser(a.Via.Link, a.Sender)
		if err != nil {
			return 0, err
		}
		if err := VerifyEndorsement(pk, a); err != nil {
			return 0, err
		}
	}
	if a.Sent.After(now.Add(MaxClockSkew)) {
		return 0, fmt.Errorf("%w: sent %s", ErrFuture, a.Sent.Format(time.RFC3339))
	}
	if !now.Before(a.Expires) {
		return 0, fmt.Errorf("alert %w at %s", ErrExpired, a.Expires.Format(time.RFC3339))
	}
	return role, nil
}

// CheckRole applies the rules that depend only on the sender's role.
func CheckRole(a *Alert, role Role) error {
	switch {
	case a.Kind == KindCallout && role != RoleOrganizer:
		return fmt.Errorf("%w: only organizers issue callouts (sender is a %s)", ErrNotAllowed, role)
	case a.Kind == KindPlace && a.Place != nil && a.Place.Op == PlaceShare && role != RoleOrganizer:
		return fmt.Errorf("%w: only organizers share directory entries with linked zones (sender is a %s)", ErrNotAllowed, role)
	case a.Kind == KindPlace && a.Place != nil && a.Place.Op != PlaceSuggest && role == RoleMember:
		return fmt.Errorf("%w: only verifiers and organizers %s directory entries; a member can suggest one", ErrNotAllowed, a.Place.Op)
	case (a.Kind == KindCosign || (a.Kind.IsGovernance() && a.Kind != KindMember && a.Kind != KindPlace)) && role != RoleOrganizer:
		return fmt.Errorf("%w: only organizers send %s messages (sender is a %s)", ErrNotAllowed, a.Kind, role)
	case (a.Via != nil || a.Kind == KindTally) && role != RoleOrganizer:
		return fmt.Errorf("%w: only a zone's link end relays over a link (sender is a %s)", ErrNotAllowed, role)
	case a.Kind == KindShare && role == RoleMember:
		return fmt.Errorf("%w: only verifiers and organizers share alerts over links", ErrNotAllowed)
	case a.Kind == KindClear && a.Reason == ClearAllClear && role == RoleMember:
		return fmt.Errorf("%w: only verifiers and organizers give the all clear; a member can retract their own alert", ErrNotAllowed)
	}
	return nil
}
