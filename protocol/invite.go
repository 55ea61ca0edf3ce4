package protocol

import (
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

// Invite is what an invite code carries: how to reach the inviter's node
// and the secret that proves the holder was invited. The zone secret is
// not in it; the inviter's node hands it over at join, sealed with HPKE.
type Invite struct {
	ID      [InviteIDSize]byte
	Secret  [InviteSecretSize]byte
	Expires time.Time
	Peer    []byte   // inviter's libp2p peer ID, binary
	Addrs   [][]byte // inviter's multiaddrs, binary
}

// Code encodes the invite as one line:
//
//	"lookout1:" base64url(u8 version | 16 id | 32 secret | i64 expires ms |
//	  u8 len | peer ID | u8 n | n × (u8 len | multiaddr) | 4-byte checksum)
//
// The checksum is the first 4 bytes of SHA-256 over everything before it,
// so a damaged copy-paste is reported as such.
func (inv *Invite) Code() (string, error) {
	if len(inv.Peer) == 0 || len(inv.Peer) > MaxPeerIDLen {
		return "", fmt.Errorf("encode invite: %w: peer ID", ErrBadInvite)
	}
	if len(inv.Addrs) > MaxInviteAddrs {
		return "", fmt.Errorf("encode invite: %w: %d addresses, at most %d", ErrBadInvite, len(inv.Addrs), MaxInviteAddrs)
	}
	if !validMilli(unixMilli(inv.Expires)) {
		return "", fmt.Errorf("encode invite: %w: %w: expiry", ErrBadInvite, ErrBadTime)
	}
	w := writer{}
	w.u8(Version)
	w.raw(inv.ID[:])
	w.raw(inv.Secret[:])
	w.time(inv.Expires)
	w.bytes8(inv.Peer)
	w.u8(uint8(len(inv.Addrs)))
	for _, a := range inv.Addrs {
		if len(a) == 0 || len(a) > MaxAddrLen {
			return "", fmt.Errorf("encode invite: %w: address length %d", ErrBadInvite, len(a))
		}
		w.bytes8(a)
	}
	sum := sha256.Sum256(w.b)
	w.raw(sum[:checksumSize])
	return InviteCodePrefix + base64.RawURLEncoding.EncodeToString(w.b), nil
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
	r.fixed(inv.ID[:], "id")
	r.fixed(inv.Secret[:], "secret")
	inv.Expires = r.time("expires")
	inv.Peer = r.bytes8("peer", MaxPeerIDLen)
	n := int(r.u8("addresses"))
	if r.err == nil && n > MaxInviteAddrs {
		return nil, fmt.Errorf("%w: %d addresses, at most %d", ErrBadInvite, n, MaxInviteAddrs)
	}
	for i := 0; i < n && r.err == nil; i++ {
		a := r.bytes8("address", MaxAddrLen)
		if r.err == nil && len(a) == 0 {
			return nil, fmt.Errorf("%w: %w: empty address", ErrBadInvite, ErrMissing)
		}
		inv.Addrs = append(inv.Addrs, a)
	}
	if err := r.done(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadInvite, err)
	}
	if len(inv.Peer) == 0 || inv.Expires.IsZero() {
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

const joinProofLabel = "lookout join v1"

// JoinRequest is sent by a joiner to the inviter's node:
//
//	u8 version | 16 invite id | member public key | KEM public key | 32 proof
//
// proof = HMAC-SHA256(invite secret, "lookout join v1" | everything before it).
type JoinRequest struct {
	Invite [InviteIDSize]byte
	Member *crypto.PublicKey
	KEM    []byte // X-Wing public key, KEMPublicKeySize
	Proof  [JoinProofSize]byte
}

// JoinRequestSize is the fixed size of an encoded JoinRequest.
const JoinRequestSize = 1 + InviteIDSize + crypto.PublicKeySize + crypto.KEMPublicKeySize + JoinProofSize

func (j *JoinRequest) body() []byte {
	w := writer{b: make([]byte, 0, JoinRequestSize)}
	w.u8(Version)
	w.raw(j.Invite[:])
	w.raw(j.Member.Bytes())
	w.raw(j.KEM)
	return w.b
}

func joinProof(secret [InviteSecretSize]byte, body []byte) [JoinProofSize]byte {
	m := hmac.New(sha256.New, secret[:])
	m.Write([]byte(joinProofLabel))
	m.Write(body)
	var p [JoinProofSize]byte
	copy(p[:], m.Sum(nil))
	return p
}

// NewJoinRequest builds a request proving knowledge of the invite secret.
func NewJoinRequest(inv *Invite, member *crypto.PublicKey, kem []byte) (*JoinRequest, error) {
	if len(kem) != crypto.KEMPublicKeySize {
		return nil, fmt.Errorf("join request: KEM key is %d bytes, want %d", len(kem), crypto.KEMPublicKeySize)
	}
	j := &JoinRequest{Invite: inv.ID, Member: member, KEM: append([]byte(nil), kem...)}
	j.Proof = joinProof(inv.Secret, j.body())
	return j, nil
}

// MarshalBinary encodes the request.
func (j *JoinRequest) MarshalBinary() []byte {
	b := j.body()
	return append(b, j.Proof[:]...)
}

// ParseJoinRequest decodes a request; the proof is checked by VerifyProof.
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
	r.fixed(j.Proof[:], "proof")
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

// VerifyProof checks the proof against the invite secret.
func (j *JoinRequest) VerifyProof(secret [InviteSecretSize]byte) bool {
	want := joinProof(secret, j.body())
	return hmac.Equal(want[:], j.Proof[:])
}

// HPKE parameters for sealing a Grant to a joiner.
const (
	GrantInfo = "lookout grant v1"
)

// PeerRecord is a libp2p peer in binary form (peer ID and multiaddrs).
type PeerRecord struct {
	ID    []byte
	Addrs [][]byte
}

// Grant is what a joiner receives, sealed to its KEM key: everything needed
// to take part in the zone.
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
	Chain  Chain // the joiner's certificate chain, leaf first
	Peers  []PeerRecord
}

// MarshalBinary encodes the grant.
func (g *Grant) MarshalBinary() ([]byte, error) {
	if len(g.Name) > MaxZoneNameLen || checkText(g.Name) != nil {
		return nil, fmt.Errorf("encode grant: %w: zone name", ErrTooLong)
	}
	if len(g.Chain) == 0 || len(g.Chain) > MaxChainLen || len(g.Peers) > MaxGrantPeers {
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
		if len(p.ID) == 0 || len(p.ID) > MaxPeerIDLen || len(p.Addrs) > MaxInviteAddrs {
			return nil, fmt.Errorf("encode grant: %w: peer", ErrTooLarge)
		}
		w.bytes8(p.ID)
		w.u8(uint8(len(p.Addrs)))
		for _, a := range p.Addrs {
			if len(a) == 0 || len(a) > MaxAddrLen {
				return nil, fmt.Errorf("encode grant: %w: address", ErrTooLarge)
			}
			w.bytes8(a)
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
	if r.err == nil && (n == 0 || n > MaxChainLen) {
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
		p := PeerRecord{ID: r.bytes8("peer", MaxPeerIDLen)}
		if r.err == nil && len(p.ID) == 0 {
			return nil, fmt.Errorf("decode grant: %w: empty peer ID", ErrMissing)
		}
		k := int(r.u8("addresses"))
		if r.err == nil && k > MaxInviteAddrs {
			return nil, fmt.Errorf("decode grant: %w: %d addresses", ErrTooLarge, k)
		}
		for j := 0; j < k && r.err == nil; j++ {
			a := r.bytes8("address", MaxAddrLen)
			if r.err == nil && len(a) == 0 {
				return nil, fmt.Errorf("decode grant: %w: empty address", ErrMissing)
			}
			p.Addrs = append(p.Addrs, a)
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
