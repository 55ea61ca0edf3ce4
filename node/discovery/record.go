// Package discovery finds other members of the same zone on the local
// network with multicast DNS, without telling anyone else that a Lookout zone
// is there.
//
// Every UTC day each zone gets a fresh 32-byte day key (derived from the zone
// secret by the caller). From it come the DNS-SD service type, which looks
// random and changes daily, and the key that seals the TXT record carrying the
// peer's libp2p address. Instance and host names are random per announcement.
// A stranger on the LAN sees an mDNS service with a meaningless name whose
// TXT record is ciphertext; a zone member opens the record and dials the peer.
//
// See THREATS.md for exactly what is and is not revealed.
package discovery

import (
	"bytes"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	"golang.org/x/crypto/chacha20poly1305"
)

const (
	// MaxAddrs is the most multiaddrs a record carries.
	MaxAddrs = 8

	// maxTXTStrings and maxTXTString bound the TXT record: each DNS
	// character-string holds at most 255 bytes, and we use at most five of
	// them so an announcement stays well inside one Ethernet frame.
	maxTXTStrings = 5
	maxTXTString  = 255
	maxEncoded    = maxTXTStrings * maxTXTString // 1275 base64 characters

	nonceSize = chacha20poly1305.NonceSizeX // 24
	tagSize   = chacha20poly1305.Overhead   // 16

	// padBlock: plaintexts are zero-padded to a multiple of this, so the
	// record length says little about how many addresses a peer has.
	padBlock = 64
)

var (
	// maxSealed is the longest nonce||ciphertext that fits in maxEncoded.
	maxSealed = b64.DecodedLen(maxEncoded)
	// maxPlain is the longest padded plaintext that fits.
	maxPlain  = (maxSealed - nonceSize - tagSize) / padBlock * padBlock
	minSealed = nonceSize + tagSize + padBlock

	b64 = base64.RawURLEncoding.Strict()
)

// Labels bind keys and ciphertexts to this protocol and version.
const (
	recordKeyInfo = "lookout/discovery/mdns/v1 record key"
	recordAADTag  = "lookout/discovery/mdns/v1 record|"
)

// Errors returned by SealRecord and OpenRecord.
var (
	ErrTooLarge  = errors.New("discovery: record too large")
	ErrNoAddrs   = errors.New("discovery: record needs at least one address")
	ErrBadRecord = errors.New("discovery: not a record for this zone and day")
)

// ServiceName returns the DNS-SD service type for a day key:
// "_" + 12 lowercase hex characters of HMAC-SHA256(dayKey, "service") + "._udp".
// Without the key it looks random, and it changes every day.
func ServiceName(dayKey [32]byte) string {
	m := hmac.New(sha256.New, dayKey[:])
	m.Write([]byte("service"))
	sum := m.Sum(nil)
	return "_" + hex.EncodeToString(sum[:6]) + "._udp"
}

// utcDay returns midnight UTC of the day t falls in.
func utcDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func recordKey(dayKey [32]byte) []byte {
	k, err := hkdf.Key(sha256.New, dayKey[:], nil, recordKeyInfo, chacha20poly1305.KeySize)
	if err != nil { // only possible for absurd lengths
		panic(err)
	}
	return k
}

func recordAAD(day time.Time) []byte {
	return []byte(recordAADTag + utcDay(day).Format("2006-01-02"))
}

// SealRecord encrypts ai (peer ID and up to MaxAddrs multiaddrs) under a key
// derived from dayKey, binds it to the UTC day of day, and returns it as
// base64url TXT strings of at most 255 bytes each. rand supplies the nonce.
func SealRecord(dayKey [32]byte, day time.Time, ai peer.AddrInfo, rand io.Reader) ([]string, error) {
	if len(ai.Addrs) == 0 {
		return nil, ErrNoAddrs
	}
	if len(ai.Addrs) > MaxAddrs {
		return nil, fmt.Errorf("%w: %d addresses, at most %d", ErrTooLarge, len(ai.Addrs), MaxAddrs)
	}
	idb := []byte(ai.ID)
	if len(idb) == 0 || len(idb) > 255 {
		return nil, errors.New("discovery: invalid peer ID")
	}
	if _, err := peer.IDFromBytes(idb); err != nil {
		return nil, fmt.Errorf("discovery: invalid peer ID: %w", err)
	}

	// Plaintext: idLen(1) id | n(1) | n × (len(2, big endian) addr) | zeros.
	pt := make([]byte, 0, maxPlain)
	pt = append(pt, byte(len(idb)))
	pt = append(pt, idb...)
	pt = append(pt, byte(len(ai.Addrs)))
	for _, a := range ai.Addrs {
		if a == nil {
			return nil, errors.New("discovery: nil multiaddr")
		}
		ab := a.Bytes()
		if len(ab) == 0 || len(ab) > maxPlain {
			return nil, fmt.Errorf("%w: address of %d bytes", ErrTooLarge, len(ab))
		}
		pt = binary.BigEndian.AppendUint16(pt, uint16(len(ab)))
		pt = append(pt, ab...)
	}
	padded := (len(pt) + padBlock - 1) / padBlock * padBlock
	if padded > maxPlain {
		return nil, fmt.Errorf("%w: %d bytes of plaintext, at most %d", ErrTooLarge, len(pt), maxPlain)
	}
	pt = append(pt, make([]byte, padded-len(pt))...)

	aead, err := chacha20poly1305.NewX(recordKey(dayKey))
	if err != nil {
		return nil, err
	}
	sealed := make([]byte, nonceSize, nonceSize+len(pt)+tagSize)
	if _, err := io.ReadFull(rand, sealed); err != nil {
		return nil, fmt.Errorf("discovery: reading nonce: %w", err)
	}
	sealed = aead.Seal(sealed, sealed[:nonceSize], pt, recordAAD(day))

	enc := b64.EncodeToString(sealed)
	out := make([]string, 0, (len(enc)+maxTXTString-1)/maxTXTString)
	for len(enc) > 0 {
		n := min(len(enc), maxTXTString)
		out = append(out, enc[:n])
		enc = enc[n:]
	}
	return out, nil
}

// OpenRecord reverses SealRecord. Any record that was not sealed with this
// day key for this day, was altered, or is malformed gives an error; it never
// panics, whatever txt holds.
func OpenRecord(dayKey [32]byte, day time.Time, txt []string) (ai peer.AddrInfo, err error) {
	if len(txt) == 0 || len(txt) > maxTXTStrings {
		return peer.AddrInfo{}, ErrBadRecord
	}
	total := 0
	for _, s := range txt {
		if len(s) == 0 || len(s) > maxTXTString {
			return peer.AddrInfo{}, ErrBadRecord
		}
		total += len(s)
	}
	if total > maxEncoded {
		return peer.AddrInfo{}, ErrBadRecord
	}
	var buf bytes.Buffer
	buf.Grow(total)
	for _, s := range txt {
		buf.WriteString(s)
	}
	sealed, err := b64.DecodeString(buf.String())
	if err != nil || len(sealed) < minSealed || len(sealed) > maxSealed {
		return peer.AddrInfo{}, ErrBadRecord
	}
	aead, err := chacha20poly1305.NewX(recordKey(dayKey))
	if err != nil {
		return peer.AddrInfo{}, err
	}
	pt, err := aead.Open(nil, sealed[:nonceSize], sealed[nonceSize:], recordAAD(day))
	if err != nil {
		return peer.AddrInfo{}, ErrBadRecord
	}
	// The plaintext is authenticated, so only a zone member could have
	// written it; parse it defensively all the same.
	defer func() {
		if r := recover(); r != nil {
			ai, err = peer.AddrInfo{}, ErrBadRecord
		}
	}()
	return parsePlain(pt)
}

func parsePlain(pt []byte) (peer.AddrInfo, error) {
	bad := func(why string) (peer.AddrInfo, error) {
		return peer.AddrInfo{}, fmt.Errorf("%w: %s", ErrBadRecord, why)
	}
	if len(pt)%padBlock != 0 || len(pt) == 0 {
		return bad("length")
	}
	r := pt
	idLen := int(r[0])
	r = r[1:]
	if idLen == 0 || len(r) < idLen {
		return bad("peer ID length")
	}
	id, err := peer.IDFromBytes(r[:idLen])
	if err != nil {
		return bad("peer ID")
	}
	r = r[idLen:]
	if len(r) < 1 {
		return bad("address count")
	}
	n := int(r[0])
	r = r[1:]
	if n == 0 || n > MaxAddrs {
		return bad("address count")
	}
	addrs := make([]ma.Multiaddr, 0, n)
	for range n {
		if len(r) < 2 {
			return bad("address length")
		}
		l := int(binary.BigEndian.Uint16(r))
		r = r[2:]
		if l == 0 || len(r) < l {
			return bad("address length")
		}
		a, err := ma.NewMultiaddrBytes(r[:l])
		if err != nil {
			return bad("address")
		}
		addrs = append(addrs, a)
		r = r[l:]
	}
	for _, b := range r {
		if b != 0 {
			return bad("padding")
		}
	}
	return peer.AddrInfo{ID: id, Addrs: addrs}, nil
}

// lanAddrs keeps the addresses worth announcing on a LAN: IPv4 or IPv6
// addresses that are private, loopback or link-local, not relayed, and no
// more than MaxAddrs of them, private ones before loopback ones.
func lanAddrs(in []ma.Multiaddr) []ma.Multiaddr {
	var lan, loop []ma.Multiaddr
	seen := make(map[string]bool)
	for _, a := range in {
		ip, ok := lanIP(a)
		if !ok || seen[string(a.Bytes())] {
			continue
		}
		seen[string(a.Bytes())] = true
		if ip.IsLoopback() {
			loop = append(loop, a)
		} else {
			lan = append(lan, a)
		}
	}
	out := append(lan, loop...)
	if len(out) > MaxAddrs {
		out = out[:MaxAddrs]
	}
	return out
}

func lanIP(a ma.Multiaddr) (net.IP, bool) {
	if len(a) < 2 { // need at least ip + transport
		return nil, false
	}
	var ip net.IP
	switch a[0].Code() {
	case ma.P_IP4, ma.P_IP6:
		ip = net.IP(a[0].RawValue())
	default:
		return nil, false
	}
	for _, c := range a {
		if c.Code() == ma.P_CIRCUIT || c.Code() == ma.P_P2P {
			return nil, false
		}
	}
	if ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() {
		return ip, true
	}
	return nil, false
}
