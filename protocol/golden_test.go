package protocol

import (
	"bytes"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lookout/crypto"
)

// The golden files in testdata pin the wire encodings byte for byte; they
// are the normative examples of docs/protocol.md. A change that alters any
// of them is a protocol change and must bump Version.
//
// Format: lines starting with '#' are comments; the rest is lower-case hex,
// wrapped at 64 characters. invite_code.golden holds the code line as text.
// Rewrite them with: go test ./protocol -run Golden -update

var update = flag.Bool("update", false, "rewrite protocol/testdata/*.golden from the current implementation")

func goldenPath(name string) string { return filepath.Join("testdata", name+".golden") }

// checkGoldenHex compares got with the hex in testdata/name.golden.
func checkGoldenHex(t *testing.T, name, comment string, got []byte) {
	t.Helper()
	path := goldenPath(name)
	if *update {
		var b strings.Builder
		for _, l := range strings.Split(comment, "\n") {
			b.WriteString("# " + l + "\n")
		}
		h := hex.EncodeToString(got)
		for len(h) > 64 {
			b.WriteString(h[:64] + "\n")
			h = h[64:]
		}
		b.WriteString(h + "\n")
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	var h strings.Builder
	for _, l := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(l, "#") {
			continue
		}
		h.WriteString(strings.TrimSpace(l))
	}
	want, err := hex.DecodeString(h.String())
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		t.Errorf("%s: encoding changed (%d bytes, golden %d bytes, first difference at offset %d)\n got: %s\nwant: %s",
			path, len(got), len(want), i, excerpt(got, i), excerpt(want, i))
	}
}

func excerpt(b []byte, i int) string {
	lo, hi := max(i-8, 0), min(i+24, len(b))
	if lo >= hi {
		return "(end)"
	}
	return hex.EncodeToString(b[lo:hi])
}

func checkGoldenText(t *testing.T, name, got string) {
	t.Helper()
	path := goldenPath(name)
	if *update {
		if err := os.WriteFile(path, []byte(got+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if want := strings.TrimSpace(string(raw)); got != want {
		t.Errorf("%s: changed\n got: %s\nwant: %s", path, got, want)
	}
}

func TestSizes(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want int
	}{
		{"CertSize", CertSize, 5423},
		{"certBodySize", certBodySize, 2050},
		{"JoinRequestSize", JoinRequestSize, 6590},
		{"EnvelopeHeaderSize", EnvelopeHeaderSize, 29},
		{"MaxBodySize", MaxBodySize, 36864},
		{"MaxSignedSize", MaxSignedSize, 61941},
		{"RekeySealedSize", RekeySealedSize, 48},
		{"RekeyEntrySize", RekeyEntrySize, 1200},
		{"crypto.SignatureSize", crypto.SignatureSize, 3373},
		{"crypto.PublicKeySize", crypto.PublicKeySize, 1984},
		{"crypto.KEMPublicKeySize", crypto.KEMPublicKeySize, 1216},
		{"crypto.EncapsulatedKeySize", crypto.EncapsulatedKeySize, 1120},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	// The largest envelope a valid signed alert can make fits the limit.
	if n := EnvelopeHeaderSize + len(pad(make([]byte, MaxSignedSize))) + crypto.Overhead; n > MaxEnvelopeSize {
		t.Errorf("largest envelope is %d bytes, over MaxEnvelopeSize %d", n, MaxEnvelopeSize)
	}
	// The largest rekey part fits MaxBodySize; it is the largest body.
	if n := 88 + 4 + 1 + 1 + 1 + MaxRekeyEntries*RekeyEntrySize; n > MaxBodySize {
		t.Errorf("largest rekey body is %d bytes, over MaxBodySize %d", n, MaxBodySize)
	}
	// A callout update with every text at its limit is far smaller.
	if n := 88 + MaxPlaceLen + 2 + MaxTitleLen + 2 + MaxWhenLen + 2 + 2 + MaxTextLen + 2 + MaxRightsLen; n > MaxBodySize/10 {
		t.Errorf("largest callout body is %d bytes", n)
	}
}

// goldenAlerts are the example bodies: a member's sighting, an
// organizer's callout, a second member's confirm of the sighting, a
// member's answer to the callout, a verifier's all clear, the organizer's
// update of the callout, the founder's cosign of it, and one message of
// each governance kind.
func goldenAlerts(t testing.TB) map[string]*Alert {
	sighting := newSighting()
	callout := newCallout()
	sid := ComputeAlertID(mustBody(t, sighting))
	cid := ComputeAlertID(mustBody(t, callout))
	return map[string]*Alert{
		"alert_sighting":       sighting,
		"alert_sighting_quick": newQuickSighting(),
		"alert_callout":        callout,
		"alert_confirm":        newConfirm(sid),
		"alert_respond":        newRespond(cid),
		"alert_clear":          newClear(sid),
		"alert_callout_update": newCalloutUpdate(cid),
		"alert_cosign":         newCosign(cid),
		"alert_member":         newMember(),
		"alert_role":           newRole(),
		"alert_remove":         newRemove(),
		"alert_rekey":          newRekey(),
		"alert_settings":       newSettings(),
		"alert_callout_card":   newCalloutCard(),
		"alert_cards":          newCards(),
		"alert_place":          newPlace(PlaceAdd),
		"alert_place_suggest":  newPlaceSuggest(),
		"alert_snapshot":       newSnapshot(),
	}
}

// goldenNotes say more about some golden alert bodies.
var goldenNotes = map[string]string{
	"alert_sighting_quick": "a quick report: what code 1 (officers at a door), 3 officers, uniform code 2 (plain clothes),\n1 vehicle, free text \"rue Jarry, 2e étage\" as typed in activity, what left empty",
	"alert_callout_update": "the organizer's update of alert_callout.golden (a callout with a ref)",
	"alert_cosign":         "the founder co-signs alert_callout.golden",
	"alert_member":         "the member announces name \"Amara\" and the X-Wing key of KEM seed 0x0d...",
	"alert_role":           "the organizer grants member2 the verifier role (certificate issued by the organizer)",
	"alert_remove":         "the organizer removes the outsider",
	"alert_rekey":          "the organizer's rekey to epoch 2, part 0 of 1, entries for the member (KEM seed 0x0d...)\nand member2 (KEM seed 0x0e...): new secret ChaCha8(0x23...) sealed with the old secret\nChaCha8(0x20...), encapsulation randomness ChaCha8(0x0f...) for both entries in turn",
	"alert_settings":       "the founder sets quorum 3, window 15m, expiry 2h, cosign on, 5 reports, 20 confirms",
	"alert_callout_card":   "alert_callout.golden pointing to the know-your-rights card \"door\"",
	"alert_cards":          "the organizer's French zone cards, revision 2, mode 1 (add to the built-in cards): one card \"clinique\"",
	"alert_place":          "a verifier adds a food bank (kind 2): languages fr, es, en; no ID asked, walk-in; share 1",
	"alert_place_suggest":  "a member suggests a legal clinic (kind 4), no status questions; share 0",
	"alert_place_share":    "the organizer shares alert_place.golden's entry with linked zones, hops 2 (version 4)",
	"alert_place_linked":   "the relay's copy of a linked zone's food bank: the ID the digest gives, via link 0x11..., hops 1",
	"alert_callout_linked": "alert_callout_card.golden as a linked zone's callout: the card crosses with it (version 4)",
	"alert_snapshot":       "the organizer's snapshot covering the IDs of alert_role.golden and of a second grant\n(16 bytes of 0x01), in ascending order",
}

func TestGoldenAlerts(t *testing.T) {
	for name, a := range goldenAlerts(t) {
		t.Run(name, func(t *testing.T) {
			body := mustBody(t, a)
			comment := "alert body (" + a.Kind.String() + "), see docs/protocol.md \"Alert body\""
			if n := goldenNotes[name]; n != "" {
				comment += "\n" + n
			}
			checkGoldenHex(t, name, comment, body)
			got, err := ParseAlert(body)
			if err != nil {
				t.Fatalf("ParseAlert: %v", err)
			}
			if !sameAlert(got, a) {
				t.Errorf("ParseAlert(MarshalBinary(a)) = %+v, want %+v", got, a)
			}
			if again := mustBody(t, got); !bytes.Equal(again, body) {
				t.Errorf("re-encoding differs")
			}
		})
	}
}

// TestAlertLayout pins the offsets of the fixed part given in the spec.
func TestAlertLayout(t *testing.T) {
	a := newSighting()
	a.Ref = AlertID{}
	b := mustBody(t, a)
	ms := func(off int) int64 {
		var v int64
		for _, c := range b[off : off+8] {
			v = v<<8 | int64(c)
		}
		return v
	}
	if b[0] != Version || Kind(b[1]) != KindSighting {
		t.Errorf("version/kind = %d/%d", b[0], b[1])
	}
	if !bytes.Equal(b[2:18], testZone[:]) {
		t.Errorf("zone not at 2..18")
	}
	if !bytes.Equal(b[18:50], a.Sender[:]) {
		t.Errorf("sender not at 18..50")
	}
	if ms(50) != a.Sent.UnixMilli() || ms(58) != a.Expires.UnixMilli() {
		t.Errorf("sent/expires not at 50/58")
	}
	if Status(b[66]) != a.Status || Urgency(b[67]) != a.Urgency || Severity(b[68]) != a.Severity || Certainty(b[69]) != a.Certainty {
		t.Errorf("status/urgency/severity/certainty not at 66..70")
	}
	if !bytes.Equal(b[70:86], make([]byte, 16)) {
		t.Errorf("ref not at 70..86")
	}
	if n := int(b[86])<<8 | int(b[87]); n != len(a.Area) || string(b[88:88+n]) != a.Area {
		t.Errorf("area not at 86")
	}
	if len(b) != 86+2+len(a.Area)+2+len(a.What)+2+2+len(a.Activity)+2+len(a.Uniform)+2+len(a.Equipment)+8+QuickSize+1 {
		t.Errorf("sighting body is %d bytes", len(b))
	}
}

func TestGoldenCerts(t *testing.T) {
	f := fx(t)
	for _, c := range []struct {
		name, comment string
		cert          *Cert
	}{
		{"cert_founder", "founder's self-issued organizer certificate (root of the zone)", f.founderCert},
		{"cert_member", "member certificate issued by an organizer", f.member2Cert},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := c.cert.Bytes()
			if len(b) != CertSize {
				t.Fatalf("certificate is %d bytes, want CertSize %d", len(b), CertSize)
			}
			checkGoldenHex(t, c.name, c.comment+", see docs/protocol.md \"Certificate\"", b)
			got, err := ParseCert(b)
			if err != nil {
				t.Fatalf("ParseCert: %v", err)
			}
			if !bytes.Equal(got.Bytes(), b) || got.Hash() != c.cert.Hash() {
				t.Errorf("ParseCert does not keep the encoding")
			}
			if got.Zone != c.cert.Zone || got.Role != c.cert.Role || !got.Subject.Equal(c.cert.Subject) ||
				!got.Issued.Equal(c.cert.Issued) || !got.Expires.Equal(c.cert.Expires) || got.Issuer != c.cert.Issuer || !bytes.Equal(got.Sig, c.cert.Sig) {
				t.Errorf("ParseCert fields differ")
			}
			// Layout offsets given in the spec.
			if b[0] != Version || !bytes.Equal(b[1:17], testZone[:]) || Role(b[17]) != c.cert.Role ||
				!bytes.Equal(b[18:2002], c.cert.Subject.Bytes()) || !bytes.Equal(b[2018:2050], c.cert.Issuer[:]) || !bytes.Equal(b[2050:], c.cert.Sig) {
				t.Errorf("certificate layout differs from the spec")
			}
		})
	}
}

func goldenSigned(t testing.TB) *Signed {
	f := fx(t)
	return mustSign(t, f.member, f.memberChain, newSighting())
}

func TestGoldenSigned(t *testing.T) {
	s := goldenSigned(t)
	b, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	checkGoldenHex(t, "signed_sighting", "signed alert: the sighting of alert_sighting.golden by the member with chain\n[member cert by founder, founder self-cert]; see docs/protocol.md \"Signed alert\"", b)
	if want := 2 + 2*(2+CertSize) + 2 + len(s.Body) + crypto.SignatureSize; len(b) != want {
		t.Errorf("signed alert is %d bytes, want %d", len(b), want)
	}
	got, err := ParseSigned(b)
	if err != nil {
		t.Fatalf("ParseSigned: %v", err)
	}
	again, err := got.MarshalBinary()
	if err != nil || !bytes.Equal(again, b) {
		t.Errorf("re-encoding differs (err %v)", err)
	}
	if got.ID != s.ID || !sameAlert(got.Alert, s.Alert) {
		t.Errorf("ParseSigned: ID or alert differs")
	}
	// The body inside is the golden sighting body.
	if want := mustBody(t, newSighting()); !bytes.Equal(got.Body, want) {
		t.Errorf("body differs from alert_sighting")
	}
	// Padded, it still parses to the same thing.
	padded := pad(bytes.Clone(b))
	if len(padded)%PadBlock != 0 {
		t.Errorf("pad: %d bytes", len(padded))
	}
	if p, err := ParseSigned(padded); err != nil || p.ID != s.ID {
		t.Errorf("ParseSigned(padded): %v", err)
	}
}

func TestGoldenEnvelope(t *testing.T) {
	f := fx(t)
	s := goldenSigned(t)
	env := mustSeal(t, f.key, s, testReader(0x07))
	checkGoldenHex(t, "envelope_sighting", "envelope: signed_sighting.golden padded and sealed with the alert key of epoch 1 of\nthe zone secret ChaCha8(0x20...), nonce from ChaCha8(0x07...); see docs/protocol.md \"Envelope\"", env)
	plain, _ := s.MarshalBinary()
	if want := EnvelopeHeaderSize + len(pad(plain)) + crypto.Overhead; len(env) != want {
		t.Errorf("envelope is %d bytes, want %d", len(env), want)
	}
	if (len(env)-EnvelopeHeaderSize-crypto.Overhead)%PadBlock != 0 {
		t.Errorf("sealed plaintext not a multiple of PadBlock")
	}
	if ep, err := EnvelopeEpoch(env); err != nil || ep != testEpoch {
		t.Errorf("EnvelopeEpoch = %d, %v", ep, err)
	}
	got, err := Open(f.key, env)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	again, _ := got.MarshalBinary()
	if !bytes.Equal(again, plain) {
		t.Errorf("Open then MarshalBinary differs from the signed alert")
	}
	// The AEAD is the crypto package's: the header is the AAD, nonce at 5..29.
	pt, err := f.key.Open(nil, env[5:29], env[29:], env[:29])
	if err != nil || !bytes.Equal(pt, pad(plain)) {
		t.Errorf("envelope does not open as header-AAD XChaCha20-Poly1305: %v", err)
	}
	// And it validates at t0.
	if _, err := f.validator().Validate(env, t0); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestGoldenInvite(t *testing.T) {
	inv := testInvite()
	code, err := inv.Code()
	if err != nil {
		t.Fatal(err)
	}
	checkGoldenText(t, "invite_code", code)
	got, err := ParseInviteCode(code)
	if err != nil {
		t.Fatalf("ParseInviteCode: %v", err)
	}
	again, err := got.Code()
	if err != nil || again != code {
		t.Errorf("Code(ParseInviteCode(code)) = %q, %v", again, err)
	}
	if !sameInvite(got, inv) {
		t.Errorf("ParseInviteCode fields differ: %+v", got)
	}
}

func goldenJoinRequest(t testing.TB) *JoinRequest {
	j, err := NewJoinRequest(testInviteKey(), fx(t).member.Public(), mustKEM(0x09).PublicBytes())
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func TestGoldenJoinRequest(t *testing.T) {
	j := goldenJoinRequest(t)
	b := j.MarshalBinary()
	if len(b) != JoinRequestSize {
		t.Fatalf("join request is %d bytes, want JoinRequestSize %d", len(b), JoinRequestSize)
	}
	checkGoldenHex(t, "join_request", "join request of the member for invite_code.golden, KEM seed 0x09...; see docs/protocol.md \"Join request\"", b)
	got, err := ParseJoinRequest(b)
	if err != nil {
		t.Fatalf("ParseJoinRequest: %v", err)
	}
	if again := got.MarshalBinary(); !bytes.Equal(again, b) {
		t.Errorf("re-encoding differs")
	}
	if err := got.Verify(testInviteKey().Public()); err != nil {
		t.Errorf("signature does not verify: %v", err)
	}
}

func goldenGrant(t testing.TB) *Grant {
	f := fx(t)
	return &Grant{
		Zone:   testZone,
		Name:   "Parkdale",
		Root:   f.founder.Public(),
		Epoch:  testEpoch,
		Secret: f.secret,
		Chain:  Chain{testInviteCert(t), f.founderCert},
		Peers:  []PeerRecord{{ID: testPeerID(), Addrs: [][]byte{testAddr4, testAddr6}}},
	}
}

func TestGoldenGrant(t *testing.T) {
	g := goldenGrant(t)
	b, err := g.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	checkGoldenHex(t, "grant", "grant for the invite of invite_code.golden (zone \"Parkdale\", epoch 1, chain [invite cert, founder cert],\none bootstrap peer); see docs/protocol.md \"Grant\"", b)
	got, err := ParseGrant(b)
	if err != nil {
		t.Fatalf("ParseGrant: %v", err)
	}
	again, err := got.MarshalBinary()
	if err != nil || !bytes.Equal(again, b) {
		t.Errorf("re-encoding differs (err %v)", err)
	}
	if got.Zone != g.Zone || got.Name != g.Name || !got.Root.Equal(g.Root) || got.Epoch != g.Epoch || got.Secret != g.Secret || len(got.Chain) != 2 || len(got.Peers) != 1 {
		t.Errorf("ParseGrant fields differ")
	}

	// The grant sealed to the joiner's KEM key with the HPKE parameters of
	// the spec: info GrantInfo, PSK = invite key's member ID, PSK ID = aad =
	// invite ID. Pinned as enc || ciphertext.
	psk, pskID := GrantPSK(testInviteKey().Public())
	kem := mustKEM(0x09)
	enc, ct, err := crypto.SealTo(kem.PublicBytes(), []byte(GrantInfo), psk, pskID, pskID, b, testReader(0x0a))
	if err != nil {
		t.Fatal(err)
	}
	if len(enc) != crypto.EncapsulatedKeySize || len(ct) != len(b)+crypto.HPKEOverhead {
		t.Errorf("sealed grant sizes %d, %d", len(enc), len(ct))
	}
	checkGoldenHex(t, "grant_sealed", "grant.golden sealed with HPKE to the KEM key of join_request.golden (enc || ct),\nencapsulation randomness ChaCha8(0x0a...); see docs/protocol.md \"Grant\"", append(bytes.Clone(enc), ct...))
	pt, err := kem.Open(enc, ct, []byte(GrantInfo), psk, pskID, pskID)
	if err != nil || !bytes.Equal(pt, b) {
		t.Errorf("sealed grant does not open: %v", err)
	}
	otherPSK, otherID := GrantPSK(fx(t).member.Public())
	if _, err := kem.Open(enc, ct, []byte(GrantInfo), otherPSK, otherID, otherID); err == nil {
		t.Errorf("sealed grant opens as another invite's")
	}
}
