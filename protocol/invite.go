package protocol

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"lookout/crypto"
)

// InviteCodePrefix starts every invite code line.
const InviteCodePrefix = "lookout1:"

// Invite is what an invite code carries: the invite secret and where to
// redeem it. The zone secret is not in it; any member's node hands it over
// at join, sealed with HPKE, to whoever proves it holds the invite key.
type Invite struct {
	Secret  [InviteSecretSize]byte
	Expires time.Time
	// Peers are members' nodes that can redeem it, the inviter's first
	// (1 to MaxInvitePeers).
	Peers []PeerRecord
}

// inviteKeyLabel derives the invite key's identity seed from the secret.
const inviteKeyLabel = "lookout invite key v1"

// InviteIdentity derives the invite key from an invite secret: a composite
// identity that an organizer certifies with InviteRole(role) and with which
// the joiner signs its join request and certifies its own member key.
func InviteIdentity(secret [InviteSecretSize]byte) (*crypto.Identity, error) {
	seed, err := hkdf.Key(sha256.New, secret[:], nil, inviteKeyLabel, crypto.SeedSize)
	if err != nil {
		return nil, fmt.Errorf("invite key: %w", err)
	}
	id, err := crypto.IdentityFromSeed(seed)
	if err != nil {
		return nil, fmt.Errorf("invite key: %w", err)
	}
	return id, nil
}

// InviteIDOf names an invite by its key: the first InviteIDSize bytes of
// the key's member ID.
func InviteIDOf(key *crypto.PublicKey) [InviteIDSize]byte {
	var id [InviteIDSize]byte
	m := key.ID()
	copy(id[:], m[:])
	return id
}

// Code encodes the invite as one line:
//
//	"lookout1:" base64url(u8 version | 32 secret | i64 expires ms |
//	  u8 n | n × (u8 len | peer ID | u8 k | k × (u8 len | multiaddr)) |
//	  4-byte checksum)
//
// The checksum is the first 4 bytes of SHA-256 over everything before it,
// so a damaged copy-paste is reported as such.
func (inv *Invite) Code() (string, error) {
	if len(inv.Peers) == 0 || len(inv.Peers) > MaxInvitePeers {
		return "", fmt.Errorf("encode invite: %w: %d peers, want 1 to %d", ErrBadInvite, len(inv.Peers), MaxInvitePeers)
	}
	if !validMilli(unixMilli(inv.Expires)) {
		return "", fmt.Errorf("encode invite: %w: %w: expiry", ErrBadInvite, ErrBadTime)
	}
	w := writer{}
	w.u8(Version)
	w.raw(inv.Secret[:])
	w.time(inv.Expires)
	w.u8(uint8(len(inv.Peers)))
	for _, p := range inv.Peers {
		if err := writePeer(&w, p); err != nil {
			return "", fmt.Errorf("encode invite: %w: %w", ErrBadInvite, err)
		}
	}
	sum := sha256.Sum256(w.b)
	w.raw(sum[:checksumSize])
	code := InviteCodePrefix + base64.RawURLEncoding.EncodeToString(w.b)
	if len(code) > MaxInviteCodeLen {
		return "", fmt.Errorf("encode invite: %w: %d characters, at most %d", ErrBadInvite, len(code), MaxInviteCodeLen)
	}
	return code, nil
}

// writePeer writes bytes8 peer ID | u8 k | k × bytes8 multiaddr.
func writePeer(w *writer, p PeerRecord) error {
	if len(p.ID) == 0 || len(p.ID) > MaxPeerIDLen {
		return fmt.Errorf("%w: peer ID", ErrTooLarge)
	}
	if len(p.Addrs) > MaxInviteAddrs {
		return fmt.Errorf("%w: %d addresses, at most %d", ErrTooLarge, len(p.Addrs), MaxInviteAddrs)
	}
	w.bytes8(p.ID)
	w.u8(uint8(len(p.Addrs)))
	for _, a := range p.Addrs {
		if len(a) == 0 || len(a) > MaxAddrLen {
			return fmt.Errorf("%w: address length %d", ErrTooLarge, len(a))
		}
		w.bytes8(a)
	}
	return nil
}

// readPeer reads what writePeer writes.
func readPeer(r *reader) (PeerRecord, error) {
	p := PeerRecord{ID: r.bytes8("peer", MaxPeerIDLen)}
	if r.err == nil && len(p.ID) == 0 {
		return p, fmt.Errorf("%w: empty peer ID", ErrMissing)
	}
	k := int(r.u8("addresses"))
	if r.err == nil && k > MaxInviteAddrs {
		return p, fmt.Errorf("%w: %d addresses", ErrTooLarge, k)
	}
	for j := 0; j < k && r.err == nil; j++ {
		a := r.bytes8("address", MaxAddrLen)
		if r.err == nil && len(a) == 0 {
			return p, fmt.Errorf("%w: empty address", ErrMissing)
		}
		p.Addrs = append(p.Addrs, a)
	}
	return p, nil
}

// ParseInviteCode decodes an invite code line. Surrounding white space and
// line breaks inside the code (from wrapping mail clients) are ignored.
// It does not check expiry; see Invite.Check.
func ParseInviteCode(code string) (*Invite, error) {
	if len(code) > MaxInviteCodeLen {
		return nil, fmt.Errorf("%w: too long (%d characters)", ErrBadInvite, len(code))
	}
	code = strings.Join(strings.Fields(code), "")
	if !strings.HasPrefix(code, InviteCodePrefix) {
		return nil, fmt.Errorf("%w: it must start with %q", ErrBadInvite, InviteCodePrefix)
	}
	// Strict: unused trailing bits must be zero, so each invite has exactly
	// one code.
	raw, err := base64.RawURLEncoding.Strict().DecodeString(code[len(InviteCodePrefix):])
	if err != nil {
		return nil, fmt.Errorf("%w: not base64url; copy the whole line again", ErrBadInvite)
	}
	if len(raw) < 1+checksumSize {
		return nil, fmt.Errorf("%w: %w", ErrBadInvite, ErrTruncated)
	}
	body, sum := raw[:len(raw)-checksumSize], raw[len(raw)-checksumSize:]
	want := sha256.Sum256(body)
	if !hmac.Equal(sum, want[:checksumSize]) {
		return nil, fmt.Errorf("%w: %w: the code was damaged in copying; copy the whole line again", ErrBadInvite, ErrChecksum)
	}
	r := reader{b: body, where: "invite"}
	if v := r.u8("version"); r.err == nil && v != Version {
		return nil, fmt.Errorf("%w: %w %d: update Lookout", ErrBadInvite, ErrVersion, v)
	}
	inv := &Invite{}
	r.fixed(inv.Secret[:], "secret")
	inv.Expires = r.time("expires")
	n := int(r.u8("peers"))
	if r.err == nil && (n == 0 || n > MaxInvitePeers) {
		return nil, fmt.Errorf("%w: %d peers, want 1 to %d", ErrBadInvite, n, MaxInvitePeers)
	}
	for i := 0; i < n && r.err == nil; i++ {
		p, err := readPeer(&r)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadInvite, err)
		}
		inv.Peers = append(inv.Peers, p)
	}
	if err := r.done(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadInvite, err)
	}
	if inv.Expires.IsZero() {
		return nil, fmt.Errorf("%w: %w", ErrBadInvite, ErrMissing)
	}
	return inv, nil
}

// Check reports whether the invite is still valid at now.
func (inv *Invite) Check(now time.Time) error {
	if !now.Before(inv.Expires) {
		return fmt.Errorf("%w at %s; ask for a new invite", ErrInviteExpired, inv.Expires.Local().Format("2006-01-02 15:04"))
	}
	return nil
}

// ContextJoin is the signing context of a join request.
const ContextJoin = "lookout/v1/join"

// JoinRequest is sent by a joiner to any member's node:
//
//	u8 version | 16 invite id | member public key | KEM public key | signature
//
// signed by the invite key (context ContextJoin) over everything before
// the signature. Only a holder of the invite secret can sign it, and it
// binds the joiner's member key and KEM key to the invite.
type JoinRequest struct {
	Invite [InviteIDSize]byte
	Member *crypto.PublicKey
	KEM    []byte // X-Wing public key, KEMPublicKeySize
	Sig    []byte // by the invite key, crypto.SignatureSize
}

// JoinRequestSize is the fixed size of an encoded JoinRequest.
const JoinRequestSize = joinBodySize + crypto.SignatureSize

const joinBodySize = 1 + InviteIDSize + crypto.PublicKeySize + crypto.KEMPublicKeySize

func (j *JoinRequest) body() []byte {
	w := writer{b: make([]byte, 0, JoinRequestSize)}
	w.u8(Version)
	w.raw(j.Invite[:])
	w.raw(j.Member.Bytes())
	w.raw(j.KEM)
	return w.b
}

// NewJoinRequest builds a request signed by the invite key.
func NewJoinRequest(key *crypto.Identity, member *crypto.PublicKey, kem []byte) (*JoinRequest, error) {
	if len(kem) != crypto.KEMPublicKeySize {
		return nil, fmt.Errorf("join request: KEM key is %d bytes, want %d", len(kem), crypto.KEMPublicKeySize)
	}
	j := &JoinRequest{Invite: InviteIDOf(key.Public()), Member: member, KEM: append([]byte(nil), kem...)}
	sig, err := key.Sign(ContextJoin, j.body())
	if err != nil {
		return nil, fmt.Errorf("join request: %w", err)
	}
	j.Sig = sig
	return j, nil
}

// MarshalBinary encodes the request.
func (j *JoinRequest) MarshalBinary() []byte {
	b := j.body()
	return append(b, j.Sig...)
}

// ParseJoinRequest decodes a request; the signature is checked by Verify.
func ParseJoinRequest(b []byte) (*JoinRequest, error) {
	if len(b) != JoinRequestSize {
		return nil, fmt.Errorf("join request: %w: %d bytes, want %d", ErrTruncated, len(b), JoinRequestSize)
	}
	r := reader{b: b, where: "join request"}
	if v := r.u8("version"); v != Version {
		return nil, fmt.Errorf("join request: %w: %d", ErrVersion, v)
	}
	j := &JoinRequest{}
	r.fixed(j.Invite[:], "invite")
	pk := r.take(crypto.PublicKeySize, "member")
	j.KEM = append([]byte(nil), r.take(crypto.KEMPublicKeySize, "kem")...)
	j.Sig = append([]byte(nil), r.take(crypto.SignatureSize, "signature")...)
	if err := r.done(); err != nil {
		return nil, fmt.Errorf("join request: %w", err)
	}
	m, err := crypto.ParsePublicKey(pk)
	if err != nil {
		return nil, fmt.Errorf("join request: member key: %w", err)
	}
	j.Member = m
	return j, nil
}

// Verify checks the request against the invite key it names.
func (j *JoinRequest) Verify(key *crypto.PublicKey) error {
	if InviteIDOf(key) != j.Invite {
		return fmt.Errorf("%w: join request names another invite", ErrBadSignature)
	}
	if err := key.Verify(ContextJoin, j.body(), j.Sig); err != nil {
		return fmt.Errorf("%w: join request: %w", ErrBadSignature, err)
	}
	return nil
}

// HPKE parameters for sealing a Grant to a joiner: info GrantInfo, PSK the
// invite key's member ID (known to members: the seal rests on X-Wing and on
// the invite key's signature over the KEM key), PSK ID and aad the invite
// ID.
const (
	GrantInfo = "lookout grant v2"
)

// GrantPSK returns the HPKE PSK and PSK ID a grant for the invite key is
// sealed with.
func GrantPSK(key *crypto.PublicKey) (psk, pskID []byte) {
	m := key.ID()
	id := InviteIDOf(key)
	return m[:], id[:]
}

// PeerRecord is a libp2p peer in binary form (peer ID and multiaddrs).
type PeerRecord struct {
	ID    []byte
	Addrs [][]byte
}

// Grant is what a joiner receives, sealed to its KEM key: everything needed
// to take part in the zone. Chain is the chain the joiner's own certificate
// goes under, the invite certificate first: the joiner certifies its member
// key with the invite key (CertifyInvited).
//
//	u8 version | 16 zone | str name | root public key | u32 epoch |
//	32 zone secret | u8 n | n × (u16 len | cert) | u8 m |
//	m × (u8 len | peer ID | u8 k | k × (u8 len | multiaddr))
type Grant struct {
	Zone   ZoneID
	Name   string
	Root   *crypto.PublicKey
	Epoch  uint32
	Secret crypto.ZoneSecret
	Chain  Chain // the invite certificate and its issuer's chain
	Peers  []PeerRecord
}

// MarshalBinary encodes the grant.
func (g *Grant) MarshalBinary() ([]byte, error) {
	if len(g.Name) > MaxZoneNameLen || checkText(g.Name) != nil {
		return nil, fmt.Errorf("encode grant: %w: zone name", ErrTooLong)
	}
	if len(g.Chain) == 0 || len(g.Chain) >= MaxChainLen || len(g.Peers) > MaxGrantPeers {
		return nil, fmt.Errorf("encode grant: %w", ErrTooLarge)
	}
	w := writer{}
	w.u8(Version)
	w.raw(g.Zone[:])
	w.str(g.Name)
	w.raw(g.Root.Bytes())
	w.u32(g.Epoch)
	w.raw(g.Secret[:])
	w.u8(uint8(len(g.Chain)))
	for _, c := range g.Chain {
		w.bytes16(c.Bytes())
	}
	w.u8(uint8(len(g.Peers)))
	for _, p := range g.Peers {
		if err := writePeer(&w, p); err != nil {
			return nil, fmt.Errorf("encode grant: %w", err)
		}
	}
	return w.b, nil
}

// ParseGrant decodes a grant. The chain is verified by the caller against
// the grant's root.
func ParseGrant(b []byte) (*Grant, error) {
	r := reader{b: b, where: "grant"}
	if v := r.u8("version"); r.err == nil && v != Version {
		return nil, fmt.Errorf("decode grant: %w: %d", ErrVersion, v)
	}
	g := &Grant{}
	r.fixed(g.Zone[:], "zone")
	g.Name = r.str("name", MaxZoneNameLen)
	pk := r.take(crypto.PublicKeySize, "root")
	g.Epoch = r.u32("epoch")
	r.fixed(g.Secret[:], "secret")
	n := int(r.u8("chain length"))
	if r.err == nil && (n == 0 || n >= MaxChainLen) {
		return nil, fmt.Errorf("decode grant: %w: %d certificates", ErrChain, n)
	}
	for i := 0; i < n && r.err == nil; i++ {
		cb := r.bytes16("certificate", CertSize)
		if r.err != nil {
			break
		}
		c, err := ParseCert(cb)
		if err != nil {
			return nil, fmt.Errorf("decode grant: certificate %d: %w", i, err)
		}
		g.Chain = append(g.Chain, c)
	}
	m := int(r.u8("peers"))
	if r.err == nil && m > MaxGrantPeers {
		return nil, fmt.Errorf("decode grant: %w: %d peers", ErrTooLarge, m)
	}
	for i := 0; i < m && r.err == nil; i++ {
		p, err := readPeer(&r)
		if err != nil {
			return nil, fmt.Errorf("decode grant: %w", err)
		}
		g.Peers = append(g.Peers, p)
	}
	if err := r.done(); err != nil {
		return nil, fmt.Errorf("decode grant: %w", err)
	}
	root, err := crypto.ParsePublicKey(pk)
	if err != nil {
		return nil, fmt.Errorf("decode grant: root: %w", err)
	}
	g.Root = root
	return g, nil
}

// CertifyInvited is the joiner's own certificate: its member key certified
// by the invite key with the role of the invite certificate (the grant's
// chain leaf), issued at the invite certificate's issued time (the
// organizer's clock, so a joiner's fast clock cannot put its certificate
// in the future) and valid DefaultCertTTL from then. It returns the
// joiner's chain. now only checks that the invite has not expired.
func CertifyInvited(key *crypto.Identity, g *Grant, member *crypto.PublicKey, now time.Time) (Chain, error) {
	if len(g.Chain) == 0 || !g.Chain.Leaf().Subject.Equal(key.Public()) {
		return nil, fmt.Errorf("certify: %w: the grant is for another invite", ErrChain)
	}
	inv := g.Chain.Leaf()
	role, ok := inv.Role.Invited()
	if !ok {
		return nil, fmt.Errorf("certify: %w: not an invite certificate", ErrChain)
	}
	if !now.Before(inv.Expires) {
		return nil, fmt.Errorf("certify: %w", ErrInviteExpired)
	}
	c, err := IssueCert(key, g.Zone, member, role, inv.Issued, inv.Issued.Add(DefaultCertTTL))
	if err != nil {
		return nil, fmt.Errorf("certify: %w", err)
	}
	return append(Chain{c}, g.Chain...), nil
}
