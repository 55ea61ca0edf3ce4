package protocol

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"time"

	"lookout/crypto"
)

// Role is a member's role in a zone.
type Role uint8

const (
	RoleMember    Role = 1 // reports, confirms, responds
	RoleVerifier  Role = 2 // also verifies sightings and gives the all clear
	RoleOrganizer Role = 3 // also issues callouts, invites and certifies members
)

// Invite roles are held only by invite keys (see InviteIdentity): an
// organizer certifies an invite key with InviteRole(r), and the invite key
// certifies exactly one joiner with role r. An invite key never signs an
// alert.
const (
	RoleInviteMember    Role = 4
	RoleInviteVerifier  Role = 5
	RoleInviteOrganizer Role = 6
)

// inviteRoleOffset maps a role to the invite role that grants it.
const inviteRoleOffset = RoleInviteMember - RoleMember

var roleNames = map[Role]string{RoleMember: "member", RoleVerifier: "verifier", RoleOrganizer: "organizer"}

func (r Role) String() string {
	if s, ok := roleNames[r]; ok {
		return s
	}
	if g, ok := r.Invited(); ok {
		return "invite(" + g.String() + ")"
	}
	return fmt.Sprintf("role(%d)", uint8(r))
}

// InviteRole is the role of an invite key that admits one member with r.
func InviteRole(r Role) Role { return r + inviteRoleOffset }

// Invited reports, for an invite role, the role its invite key grants.
func (r Role) Invited() (Role, bool) {
	if r >= RoleInviteMember && r <= RoleInviteOrganizer {
		return r - inviteRoleOffset, true
	}
	return 0, false
}

// validCertRole reports whether a certificate may carry r.
func validCertRole(r Role) bool {
	_, invite := r.Invited()
	_, member := roleNames[r]
	return invite || member
}

// ParseRole parses "member", "verifier" or "organizer".
func ParseRole(s string) (Role, error) {
	for r, n := range roleNames {
		if n == s {
			return r, nil
		}
	}
	return 0, fmt.Errorf("%w: role %q (use member, verifier or organizer)", ErrEnum, s)
}

// Signing contexts, one per kind of signed object.
const (
	ContextCert  = "lookout/v1/cert"
	ContextAlert = "lookout/v1/alert"
)

// Cert is a role certificate: Issuer says Subject holds Role in Zone
// between Issued and Expires. The zone's root (founder) issues its own.
type Cert struct {
	Zone    ZoneID
	Role    Role
	Subject *crypto.PublicKey
	Issued  time.Time
	Expires time.Time
	Issuer  crypto.MemberID
	Sig     []byte

	raw []byte // encoding, set by IssueCert and ParseCert
}

func (c *Cert) appendBody(w *writer) {
	w.u8(Version)
	w.raw(c.Zone[:])
	w.u8(uint8(c.Role))
	w.raw(c.Subject.Bytes())
	w.time(c.Issued)
	w.time(c.Expires)
	w.raw(c.Issuer[:])
}

// IssueCert creates a certificate for subject signed by issuer.
func IssueCert(issuer *crypto.Identity, zone ZoneID, subject *crypto.PublicKey, role Role, issued, expires time.Time) (*Cert, error) {
	if !validCertRole(role) {
		return nil, fmt.Errorf("issue certificate: %w: role %d", ErrEnum, role)
	}
	c := &Cert{Zone: zone, Role: role, Subject: subject, Issued: issued.Truncate(time.Millisecond).UTC(), Expires: expires.Truncate(time.Millisecond).UTC(), Issuer: issuer.ID()}
	if !validMilli(unixMilli(c.Issued)) || !validMilli(unixMilli(c.Expires)) {
		return nil, fmt.Errorf("issue certificate: %w: out of range", ErrBadTime)
	}
	if !c.Expires.After(c.Issued) {
		return nil, fmt.Errorf("issue certificate: %w: expires before issued", ErrBadTime)
	}
	w := writer{b: make([]byte, 0, CertSize)}
	c.appendBody(&w)
	sig, err := issuer.Sign(ContextCert, w.b)
	if err != nil {
		return nil, fmt.Errorf("issue certificate: %w", err)
	}
	c.Sig = sig
	w.raw(sig)
	c.raw = w.b
	return c, nil
}

// Bytes returns the certificate's encoding.
func (c *Cert) Bytes() []byte { return c.raw }

// Hash identifies the certificate (for revocation and caches).
func (c *Cert) Hash() [32]byte { return sha256.Sum256(c.raw) }

// ParseCert decodes a certificate. It does not verify the signature.
func ParseCert(b []byte) (*Cert, error) {
	if len(b) != CertSize {
		return nil, fmt.Errorf("decode certificate: %w: %d bytes, want %d", ErrTruncated, len(b), CertSize)
	}
	r := reader{b: b, where: "certificate"}
	if v := r.u8("version"); v != Version {
		return nil, fmt.Errorf("decode certificate: %w: %d", ErrVersion, v)
	}
	c := &Cert{}
	r.fixed(c.Zone[:], "zone")
	c.Role = Role(r.u8("role"))
	pk := r.take(crypto.PublicKeySize, "subject")
	c.Issued = r.time("issued")
	c.Expires = r.time("expires")
	r.fixed(c.Issuer[:], "issuer")
	c.Sig = append([]byte(nil), r.take(crypto.SignatureSize, "signature")...)
	if err := r.done(); err != nil {
		return nil, fmt.Errorf("decode certificate: %w", err)
	}
	if !validCertRole(c.Role) {
		return nil, fmt.Errorf("decode certificate: %w", &FieldError{Field: "role", Err: ErrEnum})
	}
	if c.Issued.IsZero() || !c.Expires.After(c.Issued) {
		return nil, fmt.Errorf("decode certificate: %w", &FieldError{Field: "expires", Err: ErrBadTime})
	}
	subject, err := crypto.ParsePublicKey(pk)
	if err != nil {
		return nil, fmt.Errorf("decode certificate: subject: %w", err)
	}
	c.Subject = subject
	c.raw = append([]byte(nil), b...)
	return c, nil
}

// verifySig checks the issuer's signature with the issuer's public key.
func (c *Cert) verifySig(issuer *crypto.PublicKey) error {
	if issuer.ID() != c.Issuer {
		return fmt.Errorf("%w: issuer key does not match issuer ID", ErrChain)
	}
	if err := issuer.Verify(ContextCert, c.raw[:certBodySize], c.Sig); err != nil {
		return fmt.Errorf("%w: certificate signature: %w", ErrBadSignature, err)
	}
	return nil
}

// Chain is a certificate chain, leaf first. Each certificate is issued by
// the subject of the next, which must be an organizer; the last is issued
// by the zone root. The root's own chain is its self-issued certificate.
type Chain []*Cert

// Leaf returns the first certificate.
func (ch Chain) Leaf() *Cert { return ch[0] }

// InviteKey returns the invite certificate whose key issued the leaf, if
// an invite key did.
func (ch Chain) InviteKey() (*Cert, bool) {
	if len(ch) < 2 {
		return nil, false
	}
	if _, ok := ch[1].Role.Invited(); !ok {
		return nil, false
	}
	return ch[1], true
}

// Expires is when the chain expires: the earliest expiry of its
// certificates but invite certificates (whose expiry ends the invite, not
// the membership); zero for an empty chain.
func (ch Chain) Expires() time.Time {
	var t time.Time
	for _, c := range ch {
		if _, invite := c.Role.Invited(); invite {
			continue
		}
		if t.IsZero() || c.Expires.Before(t) {
			t = c.Expires
		}
	}
	return t
}

// checkInvited checks the certificate an invite key issued: the role the
// organizer chose, issued while the invite was valid, and valid no longer
// than InvitedCertTTL after the invite expires.
func checkInvited(leaf, invite *Cert, granted Role) error {
	if leaf.Role != granted {
		return fmt.Errorf("invite grants %s, certificate says %s", granted, leaf.Role)
	}
	if leaf.Issued.Before(invite.Issued.Add(-MaxClockSkew)) || !leaf.Issued.Before(invite.Expires) {
		return errors.New("issued outside the invite's validity")
	}
	if leaf.Expires.After(invite.Expires.Add(InvitedCertTTL)) {
		return errors.New("valid longer than an invite allows")
	}
	return nil
}

// ChainVerifier verifies chains for one zone, caching certificates whose
// signatures it has already checked. It is safe for concurrent use.
type ChainVerifier struct {
	Zone ZoneID
	Root *crypto.PublicKey
	// Revoked reports whether a certificate hash or member has been revoked.
	// Nil means nothing is revoked.
	Revoked func(cert [32]byte, member crypto.MemberID) bool

	mu       sync.Mutex
	verified map[[32]byte]bool // hashes of certificates whose signature checked out
}

const maxVerifiedCache = 4096

// Verify checks the chain at time now and returns the leaf's role.
func (v *ChainVerifier) Verify(ch Chain, now time.Time) (Role, error) {
	if len(ch) == 0 || len(ch) > MaxChainLen {
		return 0, fmt.Errorf("%w: %d certificates, want 1 to %d", ErrChain, len(ch), MaxChainLen)
	}
	rootID := v.Root.ID()
	for i, c := range ch {
		if c.Zone != v.Zone {
			return 0, ErrWrongZone
		}
		granted, invite := c.Role.Invited()
		switch {
		case i == 0 && invite:
			return 0, fmt.Errorf("%w: an invite key signs no alert", ErrChain)
		case invite:
			// An invite certificate bounds when its one member was
			// certified, not when that member speaks.
			if err := checkInvited(ch[i-1], c, granted); err != nil {
				return 0, fmt.Errorf("%w: certificate %d: %w", ErrChain, i-1, err)
			}
		case now.Before(c.Issued.Add(-MaxClockSkew)) || !now.Before(c.Expires):
			return 0, fmt.Errorf("%w: certificate %d not valid at this time", ErrChain, i)
		case i > 0 && c.Role != RoleOrganizer:
			return 0, fmt.Errorf("%w: certificate %d issued by a %s, not an organizer", ErrChain, i-1, c.Role)
		}
		if v.Revoked != nil && v.Revoked(c.Hash(), c.Subject.ID()) {
			return 0, fmt.Errorf("%w: certificate %d revoked", ErrChain, i)
		}
		var issuer *crypto.PublicKey
		if i+1 < len(ch) {
			issuer = ch[i+1].Subject
		} else {
			if c.Issuer != rootID {
				return 0, fmt.Errorf("%w: chain does not end at the zone root", ErrChain)
			}
			issuer = v.Root
		}
		if issuer.ID() != c.Issuer {
			return 0, fmt.Errorf("%w: certificate %d not issued by the next in the chain", ErrChain, i)
		}
		h := c.Hash()
		v.mu.Lock()
		cached := v.verified[h]
		v.mu.Unlock()
		if cached {
			continue
		}
		if err := c.verifySig(issuer); err != nil {
			return 0, err
		}
		v.mu.Lock()
		if v.verified == nil || len(v.verified) >= maxVerifiedCache {
			v.verified = make(map[[32]byte]bool)
		}
		v.verified[h] = true
		v.mu.Unlock()
	}
	return ch[0].Role, nil
}

// CertCache keeps parsed certificates by content hash. Parsing a
// certificate expands its ML-DSA public key, which costs tens of
// microseconds and tens of kilobytes; a zone's alerts carry the same few
// certificates over and over. Safe for concurrent use; a nil cache parses
// every time.
type CertCache struct {
	mu  sync.Mutex
	max int
	m   map[[32]byte]*Cert
}

// NewCertCache returns a cache of at most max certificates.
func NewCertCache(max int) *CertCache {
	return &CertCache{max: max, m: make(map[[32]byte]*Cert)}
}

func (c *CertCache) parse(b []byte) (*Cert, error) {
	if c == nil {
		return ParseCert(b)
	}
	h := sha256.Sum256(b)
	c.mu.Lock()
	cert, ok := c.m[h]
	c.mu.Unlock()
	if ok {
		return cert, nil
	}
	cert, err := ParseCert(b)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.m) >= c.max {
		clear(c.m) // simple and bounded; refills with what is in use
	}
	c.m[h] = cert
	c.mu.Unlock()
	return cert, nil
}
