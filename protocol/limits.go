package protocol

import (
	"time"

	"lookout/crypto"
)

// Version is the protocol version carried in every encoding. Changing any
// byte layout in this package bumps it.
const Version = 4

// Sizes of identifiers.
const (
	ZoneIDSize   = 16
	AlertIDSize  = 16
	InviteIDSize = 16
	// InviteSecretSize is the invite secret, from which the invite key is derived.
	InviteSecretSize = 32
	checksumSize     = 4
)

// Text limits, in characters (Unicode code points). On the wire each is
// also a byte cap of the limit × BytesPerChar.
const (
	// BytesPerChar is the longest UTF-8 encoding of one character.
	BytesPerChar   = 4
	MaxPlaceLen    = 200  // area / where
	MaxTextLen     = 280  // what, activity, uniform, equipment, bring, notes
	MaxTitleLen    = 120  // callout title
	MaxWhenLen     = 64   // callout "when", free text such as "now" or "18:30"
	MaxRightsLen   = 1000 // callout know-your-rights note
	MaxZoneNameLen = 64
	MaxCount       = 10000 // size of a group seen, people needed
	MaxVehicles    = 1000  // vehicles in a quick report
)

// QuickSize is a sighting's quick-report codes: u8 what code, u8 uniform
// code, u16 vehicles (version 3).
const QuickSize = 1 + 1 + 2

// Structural limits.
const (
	// MaxChainLen bounds a certificate chain, leaf first, root-issued last.
	MaxChainLen = 4
	// CertSize is the fixed size of an encoded certificate.
	CertSize     = certBodySize + crypto.SignatureSize
	certBodySize = 1 + ZoneIDSize + 1 + crypto.PublicKeySize + 8 + 8 + crypto.MemberIDSize
	// MaxBodySize bounds an encoded alert body.
	// It is large enough for a rekey part (MaxRekeyEntries entries); every
	// other kind is far smaller.
	MaxBodySize = 36 << 10
	// MaxSignedSize bounds a signed alert (chain, body, signature).
	MaxSignedSize = 2 + MaxChainLen*(2+CertSize) + 2 + MaxBodySize + crypto.SignatureSize
	// PadBlock: sealed plaintexts are padded to a multiple of this, so sizes
	// say little about the kind of alert.
	PadBlock = 512
	// EnvelopeHeaderSize is version, epoch and nonce.
	EnvelopeHeaderSize = 1 + 4 + crypto.NonceSize
	// MaxEnvelopeSize bounds what the validator accepts from the network; the
	// gossipsub max message size is set to the same value.
	MaxEnvelopeSize = 64 << 10
	// MaxInviteAddrs bounds the addresses of the inviter in an invite code.
	MaxInviteAddrs = 8
	// MaxAddrLen bounds one binary multiaddr.
	MaxAddrLen = 255
	// MaxPeerIDLen bounds a binary libp2p peer ID.
	MaxPeerIDLen = 64
	// MaxInvitePeers bounds the members' nodes named in an invite code.
	MaxInvitePeers = 4
	// MaxGrantPeers bounds the bootstrap peers in a zone grant.
	MaxGrantPeers = 16
	// MaxRekeyEntries bounds the members one rekey part seals to.
	MaxRekeyEntries = 28
	// MaxRekeyParts bounds the parts of one rekey (so a zone of at most
	// MaxRekeyParts × MaxRekeyEntries members).
	MaxRekeyParts = 64
	// RekeyEntrySize is member ID, HPKE enc, sealed zone secret.
	RekeyEntrySize = crypto.MemberIDSize + crypto.EncapsulatedKeySize + RekeySealedSize
	// RekeySealedSize is a zone secret sealed with HPKE (secret + tag).
	RekeySealedSize = crypto.ZoneSecretSize + crypto.HPKEOverhead
	// MaxNameLen bounds a member's display name, in characters.
	MaxNameLen = 64
	// MaxQuorum bounds the corroboration count a zone may require.
	MaxQuorum = 50
	// MaxRateLimit bounds per-member limits a zone may set.
	MaxRateLimit = 1000
	// MaxInviteCodeLen bounds an invite code line.
	MaxInviteCodeLen = 4096
)

// Time rules.
const (
	// MaxClockSkew is how far in the future a sent time may be.
	MaxClockSkew = 2 * time.Minute
	// MaxLifetime bounds expires - sent.
	MaxLifetime = 7 * 24 * time.Hour
	// DefaultSightingTTL is how long a sighting stays active.
	DefaultSightingTTL = 4 * time.Hour
	// DefaultCalloutTTL is how long a callout stays active.
	DefaultCalloutTTL = 12 * time.Hour
	// DefaultUpdateTTL is how long a confirm, respond or clear is kept.
	DefaultUpdateTTL = 24 * time.Hour
	// MaxInviteTTL bounds how long an invite may stay valid.
	MaxInviteTTL = 30 * 24 * time.Hour
	// DefaultCertTTL is how long a role certificate is valid.
	DefaultCertTTL = 365 * 24 * time.Hour
	// InvitedCertTTL bounds how long after its invite expires a certificate
	// an invite key issued may stay valid; an organizer renews it before.
	InvitedCertTTL = DefaultCertTTL
)

// Link limits (version 2: linked zones).
const (
	// LinkIDSize names a link between two zones.
	LinkIDSize = 16
	// LinkSecretSize is the secret both ends of a link hold: it keys the
	// link's frames.
	LinkSecretSize = 32
	// DigestSize is the digest that names a shared alert on every link.
	DigestSize = 32
	// MaxLinkNameLen bounds the name a zone goes by over a link, in characters.
	MaxLinkNameLen = 64
	// DefaultShareHops: a share crosses only directly linked zones.
	DefaultShareHops = 1
	// MaxShareHops bounds how many links a shared alert may cross
	// ("city-wide" uses it).
	MaxShareHops = 8
	// MaxLinkCodeLen bounds a link offer code line.
	MaxLinkCodeLen = 8192
	// MaxLinkNodeLen bounds an encoded link end node: peer ID and addresses.
	MaxLinkNodeLen = 1 + MaxPeerIDLen + 1 + MaxInviteAddrs*(1+MaxAddrLen)
	// MaxLinkFrameSize bounds one frame of the link stream protocol.
	MaxLinkFrameSize = 16 << 10
	// MaxLinkReasonLen bounds a refusal reason on the link stream.
	MaxLinkReasonLen = 200
	// MaxLinkMessages bounds the forwarded messages a zone accepts per link
	// per RateWindow.
	MaxLinkMessages = 60
	// MaxTally bounds one responder count crossing a link.
	MaxTally = MaxCount
)

// Link time rules.
const (
	// DefaultLinkOfferTTL is how long a link offer code stays valid.
	DefaultLinkOfferTTL = 24 * time.Hour
	// MaxLinkOfferTTL bounds it.
	MaxLinkOfferTTL = 7 * 24 * time.Hour
)
