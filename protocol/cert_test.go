package protocol

import (
	"bytes"
	"encoding/binary"
	"errors"
	"sync"
	"testing"
	"time"

	"lookout/crypto"
)

// Offsets in an encoded certificate.
const (
	certOffRole    = 17
	certOffSubject = 18
	certOffIssued  = 2002
	certOffExpires = 2010
	certOffIssuer  = 2018
	certOffSig     = certBodySize // 2050
)

func withMilli(b []byte, off int, v int64) []byte {
	c := bytes.Clone(b)
	binary.BigEndian.PutUint64(c[off:], uint64(v))
	return c
}

func mustParseCert(t testing.TB, b []byte) *Cert {
	t.Helper()
	c, err := ParseCert(b)
	if err != nil {
		t.Fatalf("ParseCert: %v", err)
	}
	return c
}

func TestParseCertRejects(t *testing.T) {
	f := fx(t)
	b := f.memberCert.Bytes()
	with := func(off int, v byte) []byte { c := bytes.Clone(b); c[off] = v; return c }
	issued := f.memberCert.Issued.UnixMilli()
	cases := []struct {
		name string
		b    []byte
		want error
	}{
		{"valid", b, nil},
		{"empty", nil, ErrTruncated},
		{"one byte short", b[:CertSize-1], ErrTruncated},
		{"one byte long", append(bytes.Clone(b), 0), ErrTruncated},
		{"body only", b[:certBodySize], ErrTruncated},
		{"version 0", with(0, 0), ErrVersion},
		{"version 2", with(0, 2), ErrVersion},
		{"version 3", with(0, 3), ErrVersion},
		{"version 5", with(0, 5), ErrVersion},
		{"role 0", with(certOffRole, 0), ErrEnum},
		{"role 7 (past the invite roles)", with(certOffRole, 7), ErrEnum},
		{"role 255", with(certOffRole, 255), ErrEnum},
		{"issued 0", withMilli(b, certOffIssued, 0), ErrBadTime},
		{"issued negative", withMilli(b, certOffIssued, -1), ErrBadTime},
		{"expires 0", withMilli(b, certOffExpires, 0), ErrBadTime},
		{"expires == issued", withMilli(b, certOffExpires, issued), ErrBadTime},
		{"expires before issued", withMilli(b, certOffExpires, issued-1), ErrBadTime},
		{"expires out of range", withMilli(b, certOffExpires, maxUnixMilli+1), ErrBadTime},
		{"expires -1 (all ones)", withMilli(b, certOffExpires, -1), ErrBadTime},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseCert(c.b)
			if c.want == nil {
				if err != nil || !bytes.Equal(got.Bytes(), c.b) {
					t.Fatalf("ParseCert: %v", err)
				}
				return
			}
			if !errors.Is(err, c.want) || got != nil {
				t.Fatalf("ParseCert = %v, %v; want %v", got, err, c.want)
			}
		})
	}
}

// A certificate's subject key is only length-checked when parsed (any 1984
// bytes are a well-formed encoding, see crypto.ParsePublicKey); a garbage
// key is caught when something signed by it is verified.
func TestCertGarbageKey(t *testing.T) {
	f := fx(t)
	garbage, err := crypto.ParsePublicKey(testBytes(0x40, crypto.PublicKeySize))
	if err != nil {
		t.Fatalf("ParsePublicKey(garbage) = %v; the crypto package now checks keys, update this test", err)
	}
	// Garbage written over a signed certificate: parses, fails its signature.
	b := f.memberCert.Bytes()
	forged := bytes.Clone(b)
	copy(forged[certOffSubject:], garbage.Bytes())
	c := mustParseCert(t, forged)
	cv := &ChainVerifier{Zone: testZone, Root: f.founder.Public()}
	if _, err := cv.Verify(Chain{c, f.founderCert}, t0); !errors.Is(err, ErrBadSignature) {
		t.Errorf("Verify(cert with replaced key) = %v, want ErrBadSignature", err)
	}

	// The root may certify a garbage key; the chain is then valid, but
	// nothing the key "signs" verifies, neither a certificate nor an alert.
	gc := mustCert(f.founder, testZone, garbage, RoleOrganizer, certIssued, certExpires)
	if _, err := cv.Verify(Chain{gc, f.founderCert}, t0); err != nil {
		t.Errorf("Verify(root-signed garbage key): %v", err)
	}
	child := mustParseCert(t, f.member2Cert.Bytes())
	child.Issuer = garbage.ID() // what a cert issued "by" the garbage key would name
	w := writer{}
	child.appendBody(&w)
	w.raw(f.member2Cert.Sig)
	child = mustParseCert(t, w.b)
	if _, err := cv.Verify(Chain{child, gc, f.founderCert}, t0); !errors.Is(err, ErrBadSignature) {
		t.Errorf("Verify(cert under garbage key) = %v, want ErrBadSignature", err)
	}
	s := mustSign(t, f.member, f.memberChain, newSighting())
	s.Chain = Chain{gc, f.founderCert}
	s.Alert.Sender = garbage.ID()
	body := mustBody(t, s.Alert)
	s.Body = body
	if err := s.verify(); !errors.Is(err, ErrBadSignature) {
		t.Errorf("alert 'signed' by garbage key: %v, want ErrBadSignature", err)
	}
}

func TestIssueCertRejects(t *testing.T) {
	f := fx(t)
	for _, c := range []struct {
		name            string
		role            Role
		issued, expires time.Time
		want            error
	}{
		{"role 0", 0, certIssued, certExpires, ErrEnum},
		{"role 7", 7, certIssued, certExpires, ErrEnum},
		{"expires == issued", RoleMember, certIssued, certIssued, ErrBadTime},
		{"expires before issued", RoleMember, certIssued, certIssued.Add(-time.Hour), ErrBadTime},
		{"expires within the same ms", RoleMember, certIssued, certIssued.Add(time.Microsecond), ErrBadTime},
		{"issued zero", RoleMember, time.Time{}, certExpires, ErrBadTime},
		{"issued before 1970", RoleMember, time.Unix(-3600, 0), certExpires, ErrBadTime},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := IssueCert(f.founder, testZone, f.member.Public(), c.role, c.issued, c.expires); !errors.Is(err, c.want) {
				t.Errorf("IssueCert = %v, want %v", err, c.want)
			}
		})
	}
	// Sub-millisecond times are truncated; the result parses back.
	c, err := IssueCert(f.founder, testZone, f.member.Public(), RoleMember, certIssued.Add(123456), certExpires.Add(999999))
	if err != nil {
		t.Fatal(err)
	}
	p := mustParseCert(t, c.Bytes())
	if !p.Issued.Equal(c.Issued) || !p.Expires.Equal(c.Expires) || !c.Issued.Equal(certIssued) {
		t.Errorf("times not truncated to ms: %v %v", c.Issued, p.Issued)
	}
}

// chainWorld adds identities and certificates for deeper and broken chains.
type chainWorld struct {
	*fixture
	org2, deep, byVerifier, byMember, outsiderChild *crypto.Identity

	org2Cert          *Cert // organizer, by org
	deepCert          *Cert // member, by org2
	byVerifierCert    *Cert // member, by the verifier
	byMemberCert      *Cert // member, by a member
	outsiderSelf      *Cert // outsider's self-issued organizer cert
	outsiderChildCert *Cert // member, by outsider
	founderMemberSelf *Cert // founder self-cert with role member
	otherZoneMember   *Cert // member cert of otherZone, by founder
	otherZoneOrg      *Cert // org's organizer cert in otherZone, by founder
	orgAsVerifier     *Cert // org also holds a verifier cert
	shortMember       *Cert // member cert valid t0-24h .. t0+1h
	shortOrg          *Cert // org cert valid t0-24h .. t0-1h
}

var chainWorldOnce = sync.OnceValue(func() *chainWorld {
	f := fixtureOnce()
	w := &chainWorld{fixture: f,
		org2: mustIdentity(0x07), deep: mustIdentity(0x08), byVerifier: mustIdentity(0x09),
		byMember: mustIdentity(0x0a), outsiderChild: mustIdentity(0x0b),
	}
	w.org2Cert = mustCert(f.org, testZone, w.org2.Public(), RoleOrganizer, certIssued, certExpires)
	w.deepCert = mustCert(w.org2, testZone, w.deep.Public(), RoleMember, certIssued, certExpires)
	w.byVerifierCert = mustCert(f.verifier, testZone, w.byVerifier.Public(), RoleMember, certIssued, certExpires)
	w.byMemberCert = mustCert(f.member, testZone, w.byMember.Public(), RoleMember, certIssued, certExpires)
	w.outsiderSelf = mustCert(f.outsider, testZone, f.outsider.Public(), RoleOrganizer, certIssued, certExpires)
	w.outsiderChildCert = mustCert(f.outsider, testZone, w.outsiderChild.Public(), RoleMember, certIssued, certExpires)
	w.founderMemberSelf = mustCert(f.founder, testZone, f.founder.Public(), RoleMember, certIssued, certExpires)
	w.otherZoneMember = mustCert(f.founder, otherZone, f.member.Public(), RoleMember, certIssued, certExpires)
	w.otherZoneOrg = mustCert(f.founder, otherZone, f.org.Public(), RoleOrganizer, certIssued, certExpires)
	w.orgAsVerifier = mustCert(f.founder, testZone, f.org.Public(), RoleVerifier, certIssued, certExpires)
	w.shortMember = mustCert(f.founder, testZone, f.member.Public(), RoleMember, certIssued, t0.Add(time.Hour))
	w.shortOrg = mustCert(f.founder, testZone, f.org.Public(), RoleOrganizer, certIssued, t0.Add(-time.Hour))
	return w
})

func TestChainVerify(t *testing.T) {
	w := chainWorldOnce()
	sigEd := func(c *Cert) *Cert { return mustParseCert(t, flip(c.Bytes(), certOffSig+10)) }
	sigML := func(c *Cert) *Cert {
		return mustParseCert(t, flip(c.Bytes(), certOffSig+crypto.Ed25519SignatureSize+1000))
	}
	body := func(c *Cert) *Cert { return mustParseCert(t, flip(c.Bytes(), certOffIssuer-9)) } // low byte of issued
	roleUp := func(c *Cert) *Cert {
		b := bytes.Clone(c.Bytes())
		b[certOffRole] = byte(RoleOrganizer)
		return mustParseCert(t, b)
	}

	cases := []struct {
		name    string
		chain   Chain
		now     time.Time
		root    *crypto.PublicKey // nil: the founder
		revoked func([32]byte, crypto.MemberID) bool
		want    error
		role    Role
	}{
		// Accepted.
		{name: "founder self-cert", chain: Chain{w.founderCert}, role: RoleOrganizer},
		{name: "founder self-cert, member role", chain: Chain{w.founderMemberSelf}, role: RoleMember},
		{name: "member by founder + founder", chain: w.memberChain, role: RoleMember},
		{name: "member by founder alone", chain: Chain{w.memberCert}, role: RoleMember},
		{name: "verifier", chain: w.verifierChain, role: RoleVerifier},
		{name: "organizer", chain: w.orgChain, role: RoleOrganizer},
		{name: "member via organizer", chain: w.member2Chain, role: RoleMember},
		{name: "member via organizer, no founder cert", chain: Chain{w.member2Cert, w.orgCert}, role: RoleMember},
		{name: "four deep", chain: Chain{w.deepCert, w.org2Cert, w.orgCert, w.founderCert}, role: RoleMember},
		{name: "at issued-skew", chain: w.memberChain, now: certIssued.Add(-MaxClockSkew), role: RoleMember},
		{name: "1ms before expiry", chain: w.memberChain, now: certExpires.Add(-time.Millisecond), role: RoleMember},

		// Structure.
		{name: "empty", chain: Chain{}, want: ErrChain},
		{name: "five long", chain: Chain{w.deepCert, w.org2Cert, w.orgCert, w.founderCert, w.founderCert}, want: ErrChain},
		{name: "not ending at root (outsider's own root)", chain: Chain{w.outsiderChildCert, w.outsiderSelf}, want: ErrChain},
		{name: "not ending at root (organizer-issued leaf alone)", chain: Chain{w.member2Cert}, want: ErrChain},
		{name: "other root", chain: w.memberChain, root: w.outsider.Public(), want: ErrChain},
		{name: "verifier as intermediate", chain: Chain{w.byVerifierCert, w.verifierCert, w.founderCert}, want: ErrChain},
		{name: "member as intermediate", chain: Chain{w.byMemberCert, w.memberCert, w.founderCert}, want: ErrChain},
		{name: "founder member-role self-cert as intermediate", chain: Chain{w.memberCert, w.founderMemberSelf}, want: ErrChain},
		{name: "intermediate is the issuer's non-organizer cert", chain: Chain{w.member2Cert, w.orgAsVerifier, w.founderCert}, want: ErrChain},
		{name: "wrong link", chain: Chain{w.member2Cert, w.founderCert}, want: ErrChain},
		{name: "wrong link to another organizer", chain: Chain{w.deepCert, w.orgCert, w.founderCert}, want: ErrChain},
		{name: "reversed", chain: Chain{w.founderCert, w.memberCert}, want: ErrChain},

		// Zone.
		{name: "leaf of another zone", chain: Chain{w.otherZoneMember, w.founderCert}, want: ErrWrongZone},
		{name: "intermediate of another zone", chain: Chain{w.member2Cert, w.otherZoneOrg, w.founderCert}, want: ErrWrongZone},

		// Time.
		{name: "leaf expired", chain: Chain{w.shortMember, w.founderCert}, now: t0.Add(time.Hour), want: ErrChain},
		{name: "leaf valid until 1ms before", chain: Chain{w.shortMember, w.founderCert}, now: t0.Add(time.Hour - time.Millisecond), role: RoleMember},
		{name: "intermediate expired", chain: Chain{w.member2Cert, w.shortOrg, w.founderCert}, want: ErrChain},
		{name: "all expired", chain: w.memberChain, now: certExpires, want: ErrChain},
		{name: "not yet valid", chain: w.memberChain, now: certIssued.Add(-MaxClockSkew - time.Millisecond), want: ErrChain},

		// Signatures.
		{name: "leaf Ed25519 half forged", chain: Chain{sigEd(w.memberCert), w.founderCert}, want: ErrBadSignature},
		{name: "leaf ML-DSA half forged", chain: Chain{sigML(w.memberCert), w.founderCert}, want: ErrBadSignature},
		{name: "intermediate Ed25519 half forged", chain: Chain{w.member2Cert, sigEd(w.orgCert), w.founderCert}, want: ErrBadSignature},
		{name: "intermediate ML-DSA half forged", chain: Chain{w.member2Cert, sigML(w.orgCert), w.founderCert}, want: ErrBadSignature},
		{name: "founder cert forged", chain: Chain{w.memberCert, sigML(w.founderCert)}, want: ErrBadSignature},
		{name: "body altered", chain: Chain{body(w.memberCert), w.founderCert}, want: ErrBadSignature},
		{name: "role raised", chain: Chain{roleUp(w.memberCert), w.founderCert}, want: ErrBadSignature},

		// Revocation.
		{name: "leaf cert revoked", chain: w.memberChain, revoked: revokeCert(w.memberCert), want: ErrChain},
		{name: "intermediate cert revoked", chain: w.member2Chain, revoked: revokeCert(w.orgCert), want: ErrChain},
		{name: "leaf member revoked", chain: w.memberChain, revoked: revokeMember(w.member.ID()), want: ErrChain},
		{name: "issuing organizer revoked", chain: w.member2Chain, revoked: revokeMember(w.org.ID()), want: ErrChain},
		{name: "someone else revoked", chain: w.member2Chain, revoked: revokeMember(w.verifier.ID()), role: RoleMember},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := c.root
			if root == nil {
				root = w.founder.Public()
			}
			now := c.now
			if now.IsZero() {
				now = t0
			}
			cv := &ChainVerifier{Zone: testZone, Root: root, Revoked: c.revoked}
			role, err := cv.Verify(c.chain, now)
			if c.want == nil {
				if err != nil || role != c.role {
					t.Fatalf("Verify = %v, %v; want %v", role, err, c.role)
				}
				// Cached, the answer is the same.
				if role, err := cv.Verify(c.chain, now); err != nil || role != c.role {
					t.Fatalf("cached Verify = %v, %v", role, err)
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
			// A failure is not cached into a success.
			if _, err := cv.Verify(c.chain, now); !errors.Is(err, c.want) {
				t.Fatalf("second Verify = %v, want %v", err, c.want)
			}
		})
	}
}

func revokeCert(c *Cert) func([32]byte, crypto.MemberID) bool {
	h := c.Hash()
	return func(x [32]byte, _ crypto.MemberID) bool { return x == h }
}

func revokeMember(m crypto.MemberID) func([32]byte, crypto.MemberID) bool {
	return func(_ [32]byte, x crypto.MemberID) bool { return x == m }
}

// TestChainCacheNotAbusable: once every certificate of a valid chain has
// been verified and cached, no other chain built from those certificates
// passes unless it is valid on its own.
func TestChainCacheNotAbusable(t *testing.T) {
	w := chainWorldOnce()
	revoked := map[[32]byte]bool{}
	cv := &ChainVerifier{Zone: testZone, Root: w.founder.Public(), Revoked: func(h [32]byte, _ crypto.MemberID) bool { return revoked[h] }}
	warm := func() {
		t.Helper()
		for _, ch := range []Chain{w.member2Chain, w.memberChain, w.verifierChain, {w.deepCert, w.org2Cert, w.orgCert, w.founderCert}} {
			if _, err := cv.Verify(ch, t0); err != nil {
				t.Fatalf("warm-up: %v", err)
			}
		}
	}
	warm()
	forgedOrg := mustParseCert(t, flip(w.orgCert.Bytes(), certOffSig+crypto.Ed25519SignatureSize+7))
	raised := bytes.Clone(w.member2Cert.Bytes())
	raised[certOffRole] = byte(RoleOrganizer)
	raisedMember2 := mustParseCert(t, raised)

	cases := []struct {
		name  string
		chain Chain
		now   time.Time
		want  error
	}{
		{"cached leaf, forged intermediate", Chain{w.member2Cert, forgedOrg, w.founderCert}, t0, ErrBadSignature},
		{"cached leaf, intermediate dropped", Chain{w.member2Cert}, t0, ErrChain},
		{"cached leaf, intermediate replaced by the founder's", Chain{w.member2Cert, w.founderCert}, t0, ErrChain},
		{"cached leaf, intermediate is its issuer's verifier cert", Chain{w.member2Cert, w.orgAsVerifier, w.founderCert}, t0, ErrChain},
		{"cached leaf, intermediate of another zone", Chain{w.member2Cert, w.otherZoneOrg, w.founderCert}, t0, ErrWrongZone},
		{"cached leaf, another valid organizer", Chain{w.member2Cert, w.org2Cert, w.orgCert, w.founderCert}, t0, ErrChain},
		{"cached certs used as intermediates out of role", Chain{w.byMemberCert, w.memberCert, w.founderCert}, t0, ErrChain},
		{"cached verifier as intermediate", Chain{w.byVerifierCert, w.verifierCert, w.founderCert}, t0, ErrChain},
		{"cached chain, role raised in leaf", Chain{raisedMember2, w.orgCert, w.founderCert}, t0, ErrBadSignature},
		{"cached chain, after expiry", w.member2Chain, certExpires, ErrChain},
		{"cached chain, before validity", w.member2Chain, certIssued.Add(-time.Hour), ErrChain},
		{"cached chain, too long", Chain{w.deepCert, w.org2Cert, w.orgCert, w.founderCert, w.founderCert}, t0, ErrChain},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			warm()
			if _, err := cv.Verify(c.chain, c.now); !errors.Is(err, c.want) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
		})
	}

	// Revoking a cached certificate takes effect at once.
	warm()
	revoked[w.orgCert.Hash()] = true
	if _, err := cv.Verify(w.member2Chain, t0); !errors.Is(err, ErrChain) {
		t.Errorf("revoked cached intermediate: %v, want ErrChain", err)
	}
	if _, err := cv.Verify(w.memberChain, t0); err != nil {
		t.Errorf("unrelated chain after revocation: %v", err)
	}

	// Another zone's verifier with the same root does not share the cache.
	other := &ChainVerifier{Zone: otherZone, Root: w.founder.Public()}
	if _, err := other.Verify(w.memberChain, t0); !errors.Is(err, ErrWrongZone) {
		t.Errorf("other zone: %v, want ErrWrongZone", err)
	}
}

// TestChainVerifyConcurrent exercises the cache under the race detector.
func TestChainVerifyConcurrent(t *testing.T) {
	w := chainWorldOnce()
	cv := &ChainVerifier{Zone: testZone, Root: w.founder.Public()}
	forged := Chain{w.member2Cert, mustParseCert(t, flip(w.orgCert.Bytes(), certOffSig+3)), w.founderCert}
	var wg sync.WaitGroup
	errs := make([]error, 16)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				if _, err := cv.Verify(w.member2Chain, t0); err != nil {
					errs[i] = err
				}
			} else if _, err := cv.Verify(forged, t0); !errors.Is(err, ErrBadSignature) {
				errs[i] = err
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("goroutine %d: %v", i, err)
		}
	}
}
