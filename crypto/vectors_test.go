package crypto

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/vectors.json from the current implementation")

const vectorsFile = "vectors.json"

// Fixed inputs of the known-answer vectors.
var (
	vecIdentitySeed = bytes.Repeat([]byte{0x01}, SeedSize)
	vecContext      = "lookout test v1"
	vecMessage      = []byte("the quick brown fox jumps over the lazy dog")
	vecZone         = testZone(0x02)
	vecAlertEpoch   = uint32(7)
	vecNonce        = bytes.Repeat([]byte{0x03}, NonceSize)
	vecPlaintext    = []byte("fire at the north gate")
	vecAAD          = []byte("alert header")
	vecDay          = time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC)
	vecKEMSeed      = bytes.Repeat([]byte{0x04}, KEMSeedSize)
	vecHPKERand     = byte(0x05) // testReader key for encapsulation randomness
)

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// computeVectors evaluates every vector with the current implementation.
func computeVectors(t *testing.T) map[string]string {
	t.Helper()
	id, err := IdentityFromSeed(vecIdentitySeed)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := id.Sign(vecContext, vecMessage)
	if err != nil {
		t.Fatal(err)
	}
	alert, err := vecZone.AlertKey(vecAlertEpoch).Seal(nil, vecNonce, vecPlaintext, vecAAD)
	if err != nil {
		t.Fatal(err)
	}
	disc := vecZone.DiscoveryKey(vecDay)
	proof := vecZone.ProofKey(vecAlertEpoch)
	k, err := KEMKeyFromSeed(vecKEMSeed)
	if err != nil {
		t.Fatal(err)
	}
	enc, ct, err := SealTo(k.PublicBytes(), hpkeInfo, hpkePSK, hpkePSKID, hpkeAAD, hpkeMsg, testReader(vecHPKERand))
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"identity_seed":         hex.EncodeToString(vecIdentitySeed),
		"public_key_sha256":     sha256Hex(id.Public().Bytes()),
		"member_id":             id.ID().String(),
		"sign_context":          vecContext,
		"sign_message":          string(vecMessage),
		"signature_sha256":      sha256Hex(sig),
		"signature_ed25519":     hex.EncodeToString(sig[:Ed25519SignatureSize]),
		"zone_secret":           hex.EncodeToString(vecZone[:]),
		"topic_epoch_0":         vecZone.TopicName(0),
		"topic_epoch_7":         vecZone.TopicName(7),
		"alert_epoch":           "7",
		"alert_nonce":           hex.EncodeToString(vecNonce),
		"alert_plaintext":       string(vecPlaintext),
		"alert_aad":             string(vecAAD),
		"alert_ciphertext":      hex.EncodeToString(alert),
		"discovery_day":         vecDay.Format("2006-01-02"),
		"discovery_key":         hex.EncodeToString(disc[:]),
		"proof_key_epoch_7":     hex.EncodeToString(proof[:]),
		"kem_seed":              hex.EncodeToString(vecKEMSeed),
		"kem_public_key_sha256": sha256Hex(k.PublicBytes()),
		"hpke_enc_sha256":       sha256Hex(enc),
		"hpke_ciphertext":       hex.EncodeToString(ct),
	}
}

func TestVectors(t *testing.T) {
	got := computeVectors(t)
	path := filepath.Join("testdata", vectorsFile)
	if *update {
		b, err := json.MarshalIndent(got, "", "\t")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", path)
		return
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read vectors (regenerate with -update): %v", err)
	}
	var want map[string]string
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	keys := make([]string, 0, len(got))
	for k := range got {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if want[k] != got[k] {
			t.Errorf("%s:\n got %s\nwant %s", k, got[k], want[k])
		}
	}
	if len(want) != len(got) {
		t.Errorf("%s has %d vectors, implementation %d", path, len(want), len(got))
	}
}

// TestVectorsOpen checks that the stored vectors open and verify.
func TestVectorsOpen(t *testing.T) {
	id, _ := IdentityFromSeed(vecIdentitySeed)
	sig, _ := id.Sign(vecContext, vecMessage)
	if err := id.Public().Verify(vecContext, vecMessage, sig); err != nil {
		t.Fatal(err)
	}
	k, _ := KEMKeyFromSeed(vecKEMSeed)
	enc, ct, _ := SealTo(k.PublicBytes(), hpkeInfo, hpkePSK, hpkePSKID, hpkeAAD, hpkeMsg, testReader(vecHPKERand))
	if pt, err := k.Open(enc, ct, hpkeInfo, hpkePSK, hpkePSKID, hpkeAAD); err != nil || !bytes.Equal(pt, hpkeMsg) {
		t.Fatalf("HPKE vector does not open: %v", err)
	}
}
