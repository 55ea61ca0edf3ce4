// Package crypto holds Lookout's cryptographic primitives: hybrid
// (Ed25519 + ML-DSA-65) member identities and signatures, zone secrets and
// the keys derived from them, XChaCha20-Poly1305 sealing, and HPKE over the
// X-Wing hybrid KEM for delivering secrets to joining members.
//
// All formats below are part of Lookout's wire protocol; changing any of
// them is a protocol version change.
//
// # Identities
//
// An identity is a 32-byte master seed. The two signing keys are derived
// from it with HKDF-SHA256 (salt empty):
//
//	Ed25519 seed   = HKDF(seed, info="lookout identity ed25519 v1", 32)
//	ML-DSA-65 seed = HKDF(seed, info="lookout identity ml-dsa-65 v1", 32)
//
// A public key is 1984 bytes: the Ed25519 public key (32) followed by the
// ML-DSA-65 public key (1952), as encoded by FIPS 204. A member ID is
//
//	SHA-256("lookout member id v1" || public key)
//
// and is written as 64 lower-case hex characters.
//
// # Composite signatures
//
// To sign msg under a context string ctx (at most 255 bytes) the signer
// builds
//
//	M' = "LOOKOUT-ED25519-MLDSA65-V1" || byte(len(ctx)) || ctx || msg
//
// and produces
//
//	signature = Ed25519.Sign(M') || ML-DSA-65.Sign(M', ctx="LOOKOUT-ED25519-MLDSA65-V1")
//
// 64 + 3309 = 3373 bytes. Ed25519 is plain (RFC 8032, not ph/ctx);
// ML-DSA-65 is the pure FIPS 204 variant with its own context string and
// deterministic signing (no per-signature randomness), so a given key,
// context and message always give the same signature. A signature is valid
// only if both halves verify.
//
// # Zones
//
// A zone secret is 32 random bytes shared by the zone's members. Everything
// else is derived from it with HKDF-SHA256 (salt empty), with epoch as a
// 4-byte big-endian integer and day as "2006-01-02" in UTC:
//
//	topic name    = "lookout/4/" || hex(HKDF(secret, "lookout topic v1" || epoch, 16))
//	alert key     = HKDF(secret, "lookout alert key v1" || epoch, 32)
//	discovery key = HKDF(secret, "lookout discovery v1" || day, 32)
//	sync key      = HKDF(secret, "lookout sync v1" || epoch, 32)
//
// Alert keys are XChaCha20-Poly1305 keys: 24-byte nonces, 16-byte tags.
//
// # HPKE
//
// Secrets are sent to a joining member with RFC 9180 HPKE in PSK mode
// (the invite secret is the PSK, at least 32 bytes, with a non-empty PSK
// ID) using the suite
//
//	KEM  X-Wing (0x647a): 1216-byte public keys, 1120-byte encapsulated keys
//	KDF  HKDF-SHA256 (0x0001)
//	AEAD ChaCha20-Poly1305 (0x0003)
//
// A KEM key is a 32-byte seed expanded with the HPKE DeriveKeyPair of
// X-Wing, which first hashes the seed with SHAKE256 to 32 bytes; so a
// Lookout KEM seed is not interchangeable with a raw X-Wing private key.
// Each sealed message uses its own HPKE context and is its first (sequence
// number zero) message.
package crypto
