package protocol

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"lookout/crypto"
)

func mustMarshalSigned(t testing.TB, s *Signed) []byte {
	t.Helper()
	b, err := s.MarshalBinary()
	if err != nil {
		t.Fatalf("Signed.MarshalBinary: %v", err)
	}
	return b
}

func TestSignRejects(t *testing.T) {
	f := fx(t)
	bad := newSighting()
	bad.What = ""
	for _, c := range []struct {
		name  string
		id    *crypto.Identity
		chain Chain
		a     *Alert
		want  error
	}{
		{"empty chain", f.member, Chain{}, newSighting(), ErrChain},
		{"chain too long", f.member, Chain{f.memberCert, f.founderCert, f.founderCert, f.founderCert, f.founderCert}, newSighting(), ErrChain},
		{"leaf is another member's", f.member, f.member2Chain, newSighting(), ErrChain},
		{"invalid alert", f.member, f.memberChain, bad, ErrMissing},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := Sign(c.id, c.chain, c.a); !errors.Is(err, c.want) {
				t.Errorf("Sign = %v, want %v", err, c.want)
			}
		})
	}
}

// Sign keeps what the encoding keeps: the returned alert equals what
// receivers decode, even for sub-millisecond times.
func TestSignTruncatesTimes(t *testing.T) {
	f := fx(t)
	a := newSighting()
	loc := time.FixedZone("EST", -5*3600)
	a.Sent = t0.Add(123456 * time.Nanosecond).In(loc)
	a.Expires = a.Sent.Add(time.Hour + 999*time.Microsecond)
	a.Observed = t0.Add(-time.Minute + 1)
	s := mustSign(t, f.member, f.memberChain, a)
	p, err := ParseAlert(s.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !sameAlert(p, s.Alert) || !s.Alert.Sent.Equal(t0) {
		t.Errorf("Signed.Alert %+v differs from its decoded body %+v", s.Alert, p)
	}
	if s.Alert.Sender != f.member.ID() {
		t.Errorf("Sign did not set the sender")
	}
}

func TestSignedMarshalRejects(t *testing.T) {
	s := goldenSigned(t)
	for _, c := range []struct {
		name string
		mut  func(s *Signed)
		want error
	}{
		{"no chain", func(s *Signed) { s.Chain = nil }, ErrChain},
		{"chain of 5", func(s *Signed) { s.Chain = append(s.Chain, s.Chain[1], s.Chain[1], s.Chain[1]) }, ErrChain},
		{"short signature", func(s *Signed) { s.Sig = s.Sig[:10] }, ErrTooLarge},
		{"body too large", func(s *Signed) { s.Body = make([]byte, MaxBodySize+1) }, ErrTooLarge},
	} {
		t.Run(c.name, func(t *testing.T) {
			x := *s
			c.mut(&x)
			if _, err := x.MarshalBinary(); !errors.Is(err, c.want) {
				t.Errorf("MarshalBinary = %v, want %v", err, c.want)
			}
		})
	}
}

func TestParseSignedRejects(t *testing.T) {
	f := fx(t)
	s := goldenSigned(t)
	b := mustMarshalSigned(t, s)
	withByte := func(off int, v byte) []byte { c := bytes.Clone(b); c[off] = v; return c }
	withU16 := func(off int, v uint16) []byte { c := bytes.Clone(b); binary.BigEndian.PutUint16(c[off:], v); return c }
	plus := func(extra ...byte) []byte { return append(bytes.Clone(b), extra...) }
	zeros := func(n int) []byte { return make([]byte, n) }
	bodyOff := 2 + 2*(2+CertSize) // u16 body length
	five := &Signed{Chain: Chain{f.memberCert, f.founderCert, f.founderCert, f.founderCert, f.founderCert}, Body: s.Body, Sig: s.Sig}
	w := writer{}
	w.u8(Version)
	w.u8(5)
	for _, c := range five.Chain {
		w.bytes16(c.Bytes())
	}
	w.bytes16(five.Body)
	w.raw(five.Sig)
	// Five certificates and a maximal body exceed the size bound.
	w5 := writer{b: bytes.Clone(w.b[:len(w.b)-2-len(five.Body)-len(five.Sig)])}
	w5.bytes16(make([]byte, MaxBodySize))
	w5.raw(five.Sig)
	badBody := bytes.Clone(s.Body)
	badBody[0] = 9
	bb := &Signed{Chain: s.Chain, Body: badBody, Sig: s.Sig}

	cases := []struct {
		name string
		b    []byte
		want error
	}{
		{"valid", b, nil},
		{"padding 1 zero", plus(0), nil},
		{"padding PadBlock-1 zeros", plus(zeros(PadBlock - 1)...), nil},
		{"padding PadBlock zeros", plus(zeros(PadBlock)...), ErrBadPadding},
		{"padding 2*PadBlock zeros", plus(zeros(2 * PadBlock)...), ErrBadPadding},
		{"padding non-zero first byte", plus(1), ErrBadPadding},
		{"padding non-zero last byte", plus(append(zeros(100), 0x80)...), ErrBadPadding},
		{"real padding, last byte set", func() []byte { p := pad(bytes.Clone(b)); p[len(p)-1] = 1; return p }(), ErrBadPadding},
		{"version 0", withByte(0, 0), ErrVersion},
		{"version 2", withByte(0, 2), ErrVersion},
		{"version 3", withByte(0, 3), ErrVersion},
		{"version 5", withByte(0, 5), ErrVersion},
		{"chain length 0", withByte(1, 0), ErrChain},
		{"chain length 5 (header only)", withByte(1, 5), ErrChain},
		// Five certificates fit the size bound (a rekey body is far larger
		// than a certificate); the count check rejects them.
		{"chain length 5 (five certs)", w.b, ErrChain},
		// With a maximal body they do not: the size bound rejects them first.
		{"chain length 5 (five certs), maximal body", w5.b, ErrTooLarge},
		{"chain length 255", withByte(1, 255), ErrChain},
		// The second certificate's length prefix is read as the body length
		// and the rest does not line up.
		{"chain length 1, rest misread", withByte(1, 1), ErrBadPadding},
		{"cert length CertSize+1", withU16(2, CertSize+1), ErrTooLong},
		{"cert length 0xffff", withU16(2, 0xffff), ErrTooLong},
		{"cert length CertSize-1", withU16(2, CertSize-1), ErrTruncated},
		{"cert with bad role", withByte(4+certOffRole, 0), ErrEnum},
		{"cert version", withByte(4, 7), ErrVersion},
		{"body length MaxBodySize+1", withU16(bodyOff, MaxBodySize+1), ErrTooLong},
		{"body length 0xffff", withU16(bodyOff, 0xffff), ErrTooLong},
		{"body length MaxBodySize, input short", withU16(bodyOff, MaxBodySize), ErrTruncated},
		{"body length too short", withU16(bodyOff, uint16(len(s.Body)-1)), ErrBadPadding},
		{"body length 0", withU16(bodyOff, 0), ErrBadPadding},
		{"body invalid", mustMarshalSigned(t, bb), ErrVersion},
		{"too large", make([]byte, MaxSignedSize+PadBlock+1), ErrTooLarge},
		{"empty", nil, ErrTruncated},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseSigned(c.b)
			if c.want == nil {
				if err != nil {
					t.Fatalf("ParseSigned: %v", err)
				}
				if !bytes.Equal(mustMarshalSigned(t, got), b) {
					t.Errorf("re-encoding differs")
				}
				return
			}
			if !errors.Is(err, c.want) || got != nil {
				t.Fatalf("ParseSigned = %v, want %v", err, c.want)
			}
		})
	}

	// Truncation anywhere: every offset of the header, around every field
	// boundary, and every 97th byte elsewhere.
	boundaries := []int{2, 4, 4 + CertSize, 6 + CertSize, 6 + 2*CertSize, bodyOff + 2, bodyOff + 2 + len(s.Body), len(b)}
	cuts := map[int]bool{}
	for i := 0; i < 64; i++ {
		cuts[i] = true
	}
	for _, x := range boundaries {
		for d := -3; d <= 3; d++ {
			if x+d >= 0 && x+d < len(b) {
				cuts[x+d] = true
			}
		}
	}
	for i := 0; i < len(b); i += 97 {
		cuts[i] = true
	}
	for i := range cuts {
		if _, err := ParseSigned(b[:i]); !errors.Is(err, ErrTruncated) {
			t.Errorf("truncated to %d of %d bytes: %v, want ErrTruncated", i, len(b), err)
		}
	}
}

func TestOpenRejects(t *testing.T) {
	f := fx(t)
	env := mustSeal(t, f.key, goldenSigned(t), testReader(0x07))
	var otherSecret crypto.ZoneSecret
	copy(otherSecret[:], testBytes(0x21, 32))
	sealedPlain := func(plain []byte) []byte {
		e := make([]byte, EnvelopeHeaderSize)
		e[0] = Version
		binary.BigEndian.PutUint32(e[1:], testEpoch)
		copy(e[5:], testBytes(0x22, crypto.NonceSize))
		out, err := f.key.Seal(e, e[5:EnvelopeHeaderSize], plain, e[:EnvelopeHeaderSize])
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	cases := []struct {
		name string
		key  *crypto.AEADKey
		env  []byte
		want error
	}{
		{"valid", f.key, env, nil},
		{"ciphertext first byte", f.key, flip(env, EnvelopeHeaderSize), ErrDecrypt},
		{"ciphertext middle byte", f.key, flip(env, len(env)/2), ErrDecrypt},
		{"tag last byte", f.key, flip(env, len(env)-1), ErrDecrypt},
		{"header epoch", f.key, flip(env, 4), ErrDecrypt},
		{"header nonce first byte", f.key, flip(env, 5), ErrDecrypt},
		{"header nonce last byte", f.key, flip(env, EnvelopeHeaderSize-1), ErrDecrypt},
		{"header version", f.key, flip(env, 0), ErrVersion},
		{"wrong key (other zone)", otherSecret.AlertKey(testEpoch), env, ErrDecrypt},
		{"wrong key (other epoch)", f.secret.AlertKey(testEpoch + 1), env, ErrDecrypt},
		{"ciphertext cut", f.key, env[:len(env)-1], ErrDecrypt},
		{"extra byte", f.key, append(bytes.Clone(env), 0), ErrDecrypt},
		{"header only", f.key, env[:EnvelopeHeaderSize], ErrTruncated},
		{"header and tag size", f.key, env[:EnvelopeHeaderSize+crypto.Overhead], ErrDecrypt},
		{"empty", f.key, nil, ErrTruncated},
		{"too large", f.key, make([]byte, MaxEnvelopeSize+1), ErrTooLarge},
		{"decrypts, empty plaintext", f.key, sealedPlain(nil), ErrTruncated},
		{"decrypts, not a signed alert", f.key, sealedPlain([]byte("hello world")), ErrVersion},
		{"decrypts, all padding", f.key, sealedPlain(make([]byte, PadBlock)), ErrVersion},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := Open(c.key, c.env)
			if c.want == nil {
				if err != nil || s == nil {
					t.Fatalf("Open: %v", err)
				}
				return
			}
			if !errors.Is(err, c.want) || s != nil {
				t.Fatalf("Open = %v, want %v", err, c.want)
			}
		})
	}
}

func TestSealRejects(t *testing.T) {
	f := fx(t)
	s := goldenSigned(t)
	if _, err := Seal(f.key, testEpoch, s, bytes.NewReader(make([]byte, 10))); err == nil {
		t.Errorf("Seal with a short nonce reader succeeded")
	}
	x := *s
	x.Chain = nil
	if _, err := Seal(f.key, testEpoch, &x, testReader(1)); !errors.Is(err, ErrChain) {
		t.Errorf("Seal without chain = %v, want ErrChain", err)
	}
	// Different nonces, different envelopes; both open.
	e1, e2 := mustSeal(t, f.key, s, testReader(1)), mustSeal(t, f.key, s, testReader(2))
	if bytes.Equal(e1, e2) {
		t.Errorf("two nonces gave the same envelope")
	}
}

// validCase builds an envelope to validate at now.
type validCase struct {
	name string
	env  func(t *testing.T) []byte
	now  time.Time
	// revoked is installed on the validator before validating.
	revoked func([32]byte, crypto.MemberID) bool
	want    error
	role    Role
}

func signedWith(id *crypto.Identity, ch Chain, mk func() *Alert, mut func(a *Alert)) func(t *testing.T) []byte {
	return func(t *testing.T) []byte {
		a := mk()
		if mut != nil {
			mut(a)
		}
		return mustSeal(t, fx(t).key, mustSign(t, id, ch, a), testReader(0x07))
	}
}

// tampered signs a valid alert, then changes the signed alert before sealing.
func tampered(id *crypto.Identity, ch Chain, mk func() *Alert, mut func(s *Signed)) func(t *testing.T) []byte {
	return func(t *testing.T) []byte {
		s := mustSign(t, id, ch, mk())
		mut(s)
		return mustSeal(t, fx(t).key, s, testReader(0x07))
	}
}

func TestValidator(t *testing.T) {
	w := chainWorldOnce()
	f := w.fixture
	sighting := newSighting
	callout := newCallout
	allClear := func() *Alert { return newClear(refA) }
	retract := func() *Alert { a := newClear(refA); a.Reason = ClearRetracted; return a }
	confirm := func() *Alert { return newConfirm(refA) }
	respond := func() *Alert { return newRespond(refA) }
	sent := t0 // newSighting's sent time
	var otherSecret crypto.ZoneSecret
	copy(otherSecret[:], testBytes(0x21, 32))

	cases := []validCase{
		// Accepted.
		{name: "founder, self-cert chain", env: signedWith(f.founder, f.founderChain, sighting, nil), role: RoleOrganizer},
		{name: "member, [member by founder, founder]", env: signedWith(f.member, f.memberChain, sighting, nil), role: RoleMember},
		{name: "member two deep via organizer", env: signedWith(f.member2, f.member2Chain, sighting, nil), role: RoleMember},
		{name: "member four deep", env: signedWith(w.deep, Chain{w.deepCert, w.org2Cert, w.orgCert, w.founderCert}, sighting, nil), role: RoleMember},
		{name: "organizer callout", env: signedWith(f.org, f.orgChain, callout, nil), role: RoleOrganizer},
		{name: "founder callout", env: signedWith(f.founder, f.founderChain, callout, nil), now: t0.Add(10 * time.Minute), role: RoleOrganizer},
		{name: "verifier all clear", env: signedWith(f.verifier, f.verifierChain, allClear, nil), role: RoleVerifier},
		{name: "member retraction", env: signedWith(f.member, f.memberChain, retract, nil), role: RoleMember},
		{name: "member confirm", env: signedWith(f.member2, f.member2Chain, confirm, nil), role: RoleMember},
		{name: "member respond", env: signedWith(f.member, f.memberChain, respond, nil), role: RoleMember},
		{name: "exercise sighting", env: signedWith(f.member, f.memberChain, sighting, func(a *Alert) { a.Status = StatusExercise }), role: RoleMember},
		{name: "sent at now+MaxClockSkew", env: signedWith(f.member, f.memberChain, sighting, nil), now: sent.Add(-MaxClockSkew), role: RoleMember},
		{name: "1ms before expiry", env: signedWith(f.member, f.memberChain, sighting, nil), now: sent.Add(DefaultSightingTTL - time.Millisecond), role: RoleMember},
		{name: "sent at certificate issue less MaxClockSkew", env: signedWith(f.member, f.memberChain, sighting, func(a *Alert) {
			a.Sent, a.Observed = certIssued.Add(-MaxClockSkew), time.Time{}
		}), role: RoleMember},
		{name: "someone else revoked", env: signedWith(f.member, f.memberChain, sighting, nil), revoked: revokeMember(f.member2.ID()), role: RoleMember},
		{name: "organizer callout update", env: signedWith(f.org, f.orgChain, func() *Alert { return newCalloutUpdate(refA) }, nil), role: RoleOrganizer},
		{name: "founder cosign", env: signedWith(f.founder, f.founderChain, func() *Alert { return newCosign(refA) }, nil), role: RoleOrganizer},
		{name: "member announcement", env: signedWith(f.member, f.memberChain, newMember, nil), role: RoleMember},
		{name: "verifier announcement", env: signedWith(f.verifier, f.verifierChain, newMember, nil), role: RoleVerifier},
		{name: "organizer grants a role it issued", env: signedWith(f.org, f.orgChain, newRole, nil), role: RoleOrganizer},
		{name: "founder grants a role it issued", env: signedWith(f.founder, f.founderChain, newRole, func(a *Alert) {
			a.Cert = bytes.Clone(f.memberCert.Bytes())
		}), role: RoleOrganizer},
		{name: "organizer removes", env: signedWith(f.org, f.orgChain, newRemove, nil), role: RoleOrganizer},
		{name: "organizer rekeys", env: signedWith(f.org, f.orgChain, newRekey, nil), role: RoleOrganizer},
		{name: "founder changes settings", env: signedWith(f.founder, f.founderChain, newSettings, nil), role: RoleOrganizer},

		// Envelope stage.
		{name: "unknown epoch", env: func(t *testing.T) []byte {
			e, err := Seal(f.secret.AlertKey(7), 7, mustSign(t, f.member, f.memberChain, newSighting()), testReader(7))
			if err != nil {
				t.Fatal(err)
			}
			return e
		}, want: ErrUnknownEpoch},
		{name: "epoch changed to unknown", env: func(t *testing.T) []byte {
			e := signedWith(f.member, f.memberChain, sighting, nil)(t)
			binary.BigEndian.PutUint32(e[1:5], 2)
			return e
		}, want: ErrUnknownEpoch},
		{name: "other zone's key", env: func(t *testing.T) []byte {
			return mustSeal(t, otherSecret.AlertKey(testEpoch), mustSign(t, f.member, f.memberChain, newSighting()), testReader(7))
		}, want: ErrDecrypt},
		{name: "tampered ciphertext", env: func(t *testing.T) []byte {
			return flip(signedWith(f.member, f.memberChain, sighting, nil)(t), 100)
		}, want: ErrDecrypt},
		{name: "tampered nonce", env: func(t *testing.T) []byte {
			return flip(signedWith(f.member, f.memberChain, sighting, nil)(t), 6)
		}, want: ErrDecrypt},
		{name: "oversized", env: func(*testing.T) []byte { return make([]byte, MaxEnvelopeSize+1) }, want: ErrTooLarge},
		{name: "tiny", env: func(*testing.T) []byte { return []byte{Version, 0, 0, 0, 1} }, want: ErrTruncated},

		// Signature.
		{name: "alert signature, Ed25519 half forged", env: tampered(f.member, f.memberChain, sighting, func(s *Signed) { s.Sig = flip(s.Sig, 5) }), want: ErrBadSignature},
		{name: "alert signature, ML-DSA half forged", env: tampered(f.member, f.memberChain, sighting, func(s *Signed) {
			s.Sig = flip(s.Sig, crypto.Ed25519SignatureSize+500)
		}), want: ErrBadSignature},
		{name: "alert signature, last byte", env: tampered(f.member, f.memberChain, sighting, func(s *Signed) { s.Sig = flip(s.Sig, len(s.Sig)-1) }), want: ErrBadSignature},
		{name: "body changed after signing", env: tampered(f.member, f.memberChain, sighting, func(s *Signed) {
			s.Body = bytes.Clone(s.Body)
			s.Body[67] = byte(UrgencyExpected)
		}), want: ErrBadSignature},
		{name: "signature of another alert", env: tampered(f.member, f.memberChain, sighting, func(s *Signed) {
			s.Sig = mustSign(t, f.member, f.memberChain, newConfirm(refA)).Sig
		}), want: ErrBadSignature},
		{name: "signed as a certificate (context)", env: tampered(f.member, f.memberChain, sighting, func(s *Signed) {
			sig, err := f.member.Sign(ContextCert, s.Body)
			if err != nil {
				t.Fatal(err)
			}
			s.Sig = sig
		}), want: ErrBadSignature},

		// Chain.
		{name: "chain not ending at root", env: signedWith(w.outsiderChild, Chain{w.outsiderChildCert, w.outsiderSelf}, sighting, nil), want: ErrChain},
		{name: "self-cert of a non-root", env: signedWith(f.outsider, Chain{w.outsiderSelf}, callout, nil), want: ErrChain},
		{name: "non-organizer intermediate", env: signedWith(w.byVerifier, Chain{w.byVerifierCert, w.verifierCert, f.founderCert}, sighting, nil), want: ErrChain},
		{name: "member intermediate", env: signedWith(w.byMember, Chain{w.byMemberCert, f.memberCert, f.founderCert}, sighting, nil), want: ErrChain},
		{name: "cert of another zone", env: signedWith(f.member, Chain{w.otherZoneMember, f.founderCert}, sighting, nil), want: ErrWrongZone},
		{name: "alert of another zone", env: signedWith(f.member, f.memberChain, sighting, func(a *Alert) { a.Zone = otherZone }), want: ErrWrongZone},
		// Back-dated before the certificates that sign it (live and after a
		// restart alike): refused; within MaxClockSkew of issue it passes.
		{name: "sent before the leaf certificate", env: signedWith(f.member, f.memberChain, sighting, func(a *Alert) {
			a.Sent, a.Observed = certIssued.Add(-MaxClockSkew-time.Second), time.Time{}
		}), want: ErrChain},
		{name: "sent before an issuer's certificate", env: signedWith(f.member2, f.member2Chain, sighting, func(a *Alert) {
			a.Sent, a.Observed = certIssued.Add(-time.Hour), time.Time{}
		}), want: ErrChain},
		{name: "expired cert", env: signedWith(f.member, Chain{w.shortMember, f.founderCert}, sighting, nil), now: t0.Add(time.Hour), want: ErrChain},
		{name: "expired intermediate", env: signedWith(f.member2, Chain{f.member2Cert, w.shortOrg, f.founderCert}, sighting, nil), want: ErrChain},
		{name: "forged cert signature", env: signedWith(f.member, Chain{mustParseCert(t, flip(f.memberCert.Bytes(), certOffSig+1)), f.founderCert}, sighting, nil), want: ErrBadSignature},
		{name: "sender is not the leaf subject", env: tampered(f.member, f.memberChain, sighting, func(s *Signed) { s.Chain = f.member2Chain }), want: ErrChain},
		{name: "leaf swapped for a verifier's", env: tampered(f.member, f.memberChain, sighting, func(s *Signed) { s.Chain = f.verifierChain }), want: ErrChain},
		{name: "revoked leaf cert", env: signedWith(f.member, f.memberChain, sighting, nil), revoked: revokeCert(f.memberCert), want: ErrChain},
		{name: "revoked member", env: signedWith(f.member, f.memberChain, sighting, nil), revoked: revokeMember(f.member.ID()), want: ErrChain},
		{name: "revoked issuing organizer", env: signedWith(f.member2, f.member2Chain, sighting, nil), revoked: revokeMember(f.org.ID()), want: ErrChain},

		// Role rules.
		{name: "member callout", env: signedWith(f.member, f.memberChain, callout, nil), want: ErrNotAllowed},
		{name: "verifier callout", env: signedWith(f.verifier, f.verifierChain, callout, nil), want: ErrNotAllowed},
		{name: "founder with member self-cert calls out", env: signedWith(f.founder, Chain{w.founderMemberSelf}, callout, nil), want: ErrNotAllowed},
		{name: "member all clear", env: signedWith(f.member, f.memberChain, allClear, nil), want: ErrNotAllowed},
		{name: "member via organizer all clear", env: signedWith(f.member2, f.member2Chain, allClear, nil), want: ErrNotAllowed},
		{name: "member callout update", env: signedWith(f.member, f.memberChain, func() *Alert { return newCalloutUpdate(refA) }, nil), want: ErrNotAllowed},
		{name: "verifier cosign", env: signedWith(f.verifier, f.verifierChain, func() *Alert { return newCosign(refA) }, nil), want: ErrNotAllowed},
		{name: "member grants a role", env: signedWith(f.member, f.memberChain, newRole, nil), want: ErrNotAllowed},
		{name: "verifier removes", env: signedWith(f.verifier, f.verifierChain, newRemove, nil), want: ErrNotAllowed},
		{name: "member rekeys", env: signedWith(f.member2, f.member2Chain, newRekey, nil), want: ErrNotAllowed},
		{name: "verifier changes settings", env: signedWith(f.verifier, f.verifierChain, newSettings, nil), want: ErrNotAllowed},
		{name: "founder with member self-cert changes settings", env: signedWith(f.founder, Chain{w.founderMemberSelf}, newSettings, nil), want: ErrNotAllowed},
		// A KindRole must carry a certificate its sender issued.
		{name: "organizer grants a certificate the founder issued", env: signedWith(f.org, f.orgChain, newRole, func(a *Alert) {
			a.Cert = bytes.Clone(f.memberCert.Bytes())
		}), want: ErrChain},
		{name: "founder grants a certificate the organizer issued", env: signedWith(f.founder, f.founderChain, newRole, nil), want: ErrChain},
		{name: "organizer grants a certificate with a forged signature", env: signedWith(f.org, f.orgChain, newRole, func(a *Alert) {
			a.Cert = flip(f.grantCert.Bytes(), certOffSig+7)
		}), want: ErrChain},
		{name: "organizer grants its own certificate", env: signedWith(f.org, f.orgChain, newRole, func(a *Alert) {
			a.Cert = bytes.Clone(f.orgCert.Bytes())
		}), want: ErrChain},

		// Time window.
		{name: "sent MaxClockSkew+1ms in the future", env: signedWith(f.member, f.memberChain, sighting, nil), now: sent.Add(-MaxClockSkew - time.Millisecond), want: ErrFuture},
		{name: "sent an hour in the future", env: signedWith(f.member, f.memberChain, sighting, nil), now: sent.Add(-time.Hour), want: ErrFuture},
		{name: "expired at expiry", env: signedWith(f.member, f.memberChain, sighting, nil), now: sent.Add(DefaultSightingTTL), want: ErrExpired},
		{name: "expired long ago", env: signedWith(f.member, f.memberChain, sighting, nil), now: sent.Add(6 * 24 * time.Hour), want: ErrExpired},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			now := c.now
			if now.IsZero() {
				now = t0.Add(45 * time.Minute)
			}
			v := f.validator()
			v.Revoked = c.revoked
			env := c.env(t)
			m, err := v.Validate(env, now)
			if c.want == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				if m.Role != c.role || m.Epoch != testEpoch || m.ID != ComputeAlertID(m.Body) {
					t.Errorf("Message role %v epoch %d, want %v %d", m.Role, m.Epoch, c.role, testEpoch)
				}
				// Again, with the chain cache warm.
				if _, err := v.Validate(env, now); err != nil {
					t.Errorf("second Validate: %v", err)
				}
				return
			}
			if !errors.Is(err, c.want) || m != nil {
				t.Fatalf("Validate = %v, want %v", err, c.want)
			}
		})
	}
}

// The order of the checks: a message that breaks several rules is
// rejected by the first stage in the documented order.
func TestValidatorOrder(t *testing.T) {
	w := chainWorldOnce()
	f := w.fixture
	v := f.validator()
	// Member callout with a forged signature, also expired: signature first.
	s := mustSign(t, f.member, f.memberChain, newCallout())
	s.Sig = flip(s.Sig, 0)
	late := s.Alert.Expires.Add(time.Hour)
	if _, err := v.Validate(mustSeal(t, f.key, s, testReader(1)), late); !errors.Is(err, ErrBadSignature) {
		t.Errorf("forged+not allowed+expired: %v, want ErrBadSignature", err)
	}
	// Member callout, expired: role before time.
	s = mustSign(t, f.member, f.memberChain, newCallout())
	if _, err := v.Validate(mustSeal(t, f.key, s, testReader(1)), late); !errors.Is(err, ErrNotAllowed) {
		t.Errorf("not allowed+expired: %v, want ErrNotAllowed", err)
	}
	// Chain from an outsider with a forged signature: chain before signature.
	s = mustSign(t, w.outsiderChild, Chain{w.outsiderChildCert, w.outsiderSelf}, newSighting())
	s.Sig = flip(s.Sig, 0)
	if _, err := v.Validate(mustSeal(t, f.key, s, testReader(1)), t0); !errors.Is(err, ErrChain) {
		t.Errorf("bad chain+forged: %v, want ErrChain", err)
	}
	// Check alone (no envelope) gives the same answers.
	if _, err := v.Check(s, t0); !errors.Is(err, ErrChain) {
		t.Errorf("Check: %v, want ErrChain", err)
	}
}

func TestCheckRole(t *testing.T) {
	retract := newClear(refA)
	retract.Reason = ClearRetracted
	for _, c := range []struct {
		a    *Alert
		role Role
		want error
	}{
		{newSighting(), RoleMember, nil},
		{newConfirm(refA), RoleMember, nil},
		{newRespond(refA), RoleMember, nil},
		{retract, RoleMember, nil},
		{newClear(refA), RoleMember, ErrNotAllowed},
		{newClear(refA), RoleVerifier, nil},
		{newClear(refA), RoleOrganizer, nil},
		{newCallout(), RoleMember, ErrNotAllowed},
		{newCallout(), RoleVerifier, ErrNotAllowed},
		{newCallout(), RoleOrganizer, nil},
		{newCalloutUpdate(refA), RoleMember, ErrNotAllowed},
		{newCalloutUpdate(refA), RoleVerifier, ErrNotAllowed},
		{newCalloutUpdate(refA), RoleOrganizer, nil},
		{newCosign(refA), RoleMember, ErrNotAllowed},
		{newCosign(refA), RoleVerifier, ErrNotAllowed},
		{newCosign(refA), RoleOrganizer, nil},
		{newMember(), RoleMember, nil},
		{newMember(), RoleVerifier, nil},
		{newMember(), RoleOrganizer, nil},
		{newRole(), RoleMember, ErrNotAllowed},
		{newRole(), RoleVerifier, ErrNotAllowed},
		{newRole(), RoleOrganizer, nil},
		{newRemove(), RoleMember, ErrNotAllowed},
		{newRemove(), RoleVerifier, ErrNotAllowed},
		{newRemove(), RoleOrganizer, nil},
		{newRekey(), RoleMember, ErrNotAllowed},
		{newRekey(), RoleVerifier, ErrNotAllowed},
		{newRekey(), RoleOrganizer, nil},
		{newSettings(), RoleMember, ErrNotAllowed},
		{newSettings(), RoleVerifier, ErrNotAllowed},
		{newSettings(), RoleOrganizer, nil},
	} {
		if err := CheckRole(c.a, c.role); !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
			t.Errorf("CheckRole(%s/%d/update=%v, %s) = %v, want %v", c.a.Kind, c.a.Reason, c.a.IsUpdate(), c.role, err, c.want)
		}
	}
}

// TestCheckName: names are one line of at most max characters, without
// control characters or bidirectional overrides; every node applies it to
// member announcements.
func TestCheckName(t *testing.T) {
	for _, c := range []struct {
		name string
		want error
	}{
		{"Ana", nil},
		{"", nil},
		{strings.Repeat("é", MaxNameLen), nil},
		{strings.Repeat("é", MaxNameLen+1), ErrTooLong},
		{"\u202eevil", ErrBadText},
		{"a\u2066b", ErrBadText},
		{"a\nb", ErrBadText},
		{"a\tb", ErrBadText},
		{"\x1b[31m", ErrBadText},
		{"\xff", ErrBadText},
	} {
		if err := CheckName(c.name, MaxNameLen); !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
			t.Errorf("CheckName(%q) = %v, want %v", c.name, err, c.want)
		}
		a := newMember()
		a.Name = c.name
		if err := a.Validate(); (c.want == nil) != (err == nil) {
			t.Errorf("member announcement named %q: Validate = %v, want %v", c.name, err, c.want)
		}
	}
}
