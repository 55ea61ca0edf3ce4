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

// Link keys, the link end's node address, and link offer codes.

// LinkKey derives the key that seals a link's frames.
func LinkKey(secret [LinkSecretSize]byte) (*crypto.AEADKey, error) {
	k, err := hkdf.Key(sha256.New, secret[:], nil, linkKeyLabel, crypto.AEADKeySize)
	if err != nil {
		return nil, fmt.Errorf("link key: %w", err)
	}
	return crypto.NewAEADKey(k)
}

// EncodeLinkNode encodes how to reach a link end's node:
//
//	u8 len | peer ID | u8 n | n × (u8 len | multiaddr)
func EncodeLinkNode(peer []byte, addrs [][]byte) ([]byte, error) {
	if len(peer) == 0 || len(peer) > MaxPeerIDLen {
		return nil, fmt.Errorf("encode link node: %w: peer ID", ErrEnum)
	}
	addrs = addrs[:min(len(addrs), MaxInviteAddrs)]
	w := writer{}
	w.bytes8(peer)
	w.u8(uint8(len(addrs)))
	for _, a := range addrs {
		if len(a) == 0 || len(a) > MaxAddrLen {
			return nil, fmt.Errorf("encode link node: %w: address length %d", ErrEnum, len(a))
		}
		w.bytes8(a)
	}
	return w.b, nil
}

// ParseLinkNode decodes EncodeLinkNode.
func ParseLinkNode(b []byte) (peer []byte, addrs [][]byte, err error) {
	if len(b) > MaxLinkNodeLen {
		return nil, nil, fmt.Errorf("decode link node: %w", ErrTooLarge)
	}
	r := reader{b: b, where: "link node"}
	peer = r.bytes8("peer", MaxPeerIDLen)
	n := int(r.u8("addresses"))
	if r.err == nil && n > MaxInviteAddrs {
		return nil, nil, fmt.Errorf("decode link node: %w: %d addresses", ErrTooLarge, n)
	}
	for i := 0; i < n && r.err == nil; i++ {
		a := r.bytes8("address", MaxAddrLen)
		if r.err == nil && len(a) == 0 {
			return nil, nil, fmt.Errorf("decode link node: %w: empty address", ErrMissing)
		}
		addrs = append(addrs, a)
	}
	if err := r.done(); err != nil {
		return nil, nil, fmt.Errorf("decode link node: %w", err)
	}
	if len(peer) == 0 {
		return nil, nil, fmt.Errorf("decode link node: %w: peer", ErrMissing)
	}
	return peer, addrs, nil
}

// LinkOfferCode is what a link offer code carries.
type LinkOfferCode struct {
	ID     LinkID
	Secret [LinkSecretSize]byte
	Name   string // the offering zone's name over the link
	Until  time.Time
	Key    []byte // the offering end's member public key
	Node   []byte // the offering end's node (EncodeLinkNode)
}

// Code encodes the offer as one line:
//
//	"lookoutlink2:" base64url(u8 version | 16 id | 32 secret | str name |
//	  i64 until ms | public key | u16 len | node | 4-byte checksum)
func (o *LinkOfferCode) Code() (string, error) {
	if err := o.validate(); err != nil {
		return "", fmt.Errorf("encode link code: %w", err)
	}
	w := writer{}
	w.u8(Version)
	w.raw(o.ID[:])
	w.raw(o.Secret[:])
	w.str(o.Name)
	w.time(o.Until)
	w.raw(o.Key)
	w.bytes16(o.Node)
	sum := sha256.Sum256(w.b)
	w.raw(sum[:checksumSize])
	return LinkCodePrefix + base64.RawURLEncoding.EncodeToString(w.b), nil
}

func (o *LinkOfferCode) validate() error {
	rec := LinkRecord{Op: LinkAccept, ID: o.ID, Secret: o.Secret, Name: o.Name, Peer: o.Name, PeerKey: o.Key, PeerNode: o.Node}
	if err := rec.validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrBadLinkCode, err)
	}
	if !validMilli(unixMilli(o.Until)) {
		return fmt.Errorf("%w: %w", ErrBadLinkCode, ErrBadTime)
	}
	return nil
}

// ParseLinkCode decodes a link offer code line. White space is ignored.
// It does not check expiry.
func ParseLinkCode(code string) (*LinkOfferCode, error) {
	if len(code) > MaxLinkCodeLen {
		return nil, fmt.Errorf("%w: too long (%d characters)", ErrBadLinkCode, len(code))
	}
	code = strings.Join(strings.Fields(code), "")
	if !strings.HasPrefix(code, LinkCodePrefix) {
		return nil, fmt.Errorf("%w: it must start with %q", ErrBadLinkCode, LinkCodePrefix)
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(code[len(LinkCodePrefix):])
	if err != nil {
		return nil, fmt.Errorf("%w: not base64url; copy the whole line again", ErrBadLinkCode)
	}
	if len(raw) < 1+checksumSize {
		return nil, fmt.Errorf("%w: %w", ErrBadLinkCode, ErrTruncated)
	}
	body, sum := raw[:len(raw)-checksumSize], raw[len(raw)-checksumSize:]
	want := sha256.Sum256(body)
	if !hmac.Equal(sum, want[:checksumSize]) {
		return nil, fmt.Errorf("%w: %w: the code was damaged in copying; copy the whole line again", ErrBadLinkCode, ErrChecksum)
	}
	r := reader{b: body, where: "link code"}
	if v := r.u8("version"); r.err == nil && v != Version {
		return nil, fmt.Errorf("%w: %w %d: update Lookout", ErrBadLinkCode, ErrVersion, v)
	}
	o := &LinkOfferCode{}
	r.fixed(o.ID[:], "id")
	r.fixed(o.Secret[:], "secret")
	o.Name = r.str("name", MaxLinkNameLen)
	o.Until = r.time("until")
	o.Key = append([]byte(nil), r.take(crypto.PublicKeySize, "key")...)
	o.Node = r.bytes16("node", MaxLinkNodeLen)
	if err := r.done(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadLinkCode, err)
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	return o, nil
}
