package protocol

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"lookout/crypto"
)

// Fuzzers over every decoder that sees untrusted bytes. Seeds are real
// encodings (the golden objects) and a few mutations. Each checks that the
// decoder does not panic, that what it accepts re-encodes to the same bytes
// (one encoding per value), and that what it rejects wraps a sentinel.
//
//	go test ./protocol -run '^$' -fuzz '^FuzzParseAlert$' -fuzztime 20s

var sentinels = []error{
	ErrTooLarge, ErrTruncated, ErrTrailing, ErrVersion, ErrKind, ErrEnum, ErrTooLong, ErrBadText, ErrMissing,
	ErrBadTime, ErrBadPadding, ErrDecrypt, ErrUnknownEpoch, ErrBadSignature, ErrChain, ErrWrongZone,
	ErrNotAllowed, ErrExpired, ErrFuture, ErrLifetime, ErrBadInvite, ErrInviteExpired, ErrChecksum,
	ErrLink, ErrEndorser, ErrHops, ErrBadLinkCode, ErrLinkUsed, ErrLinkExpired, ErrLinkWrongEnd, ErrCardSet,
}

func checkSentinel(t *testing.T, err error) {
	t.Helper()
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return
		}
	}
	if errors.Is(err, crypto.ErrBadPublicKey) {
		return
	}
	t.Fatalf("error wraps no sentinel: %v", err)
}

func seedBytes(f *testing.F, bs ...[]byte) {
	for _, b := range bs {
		f.Add(b)
		if len(b) > 2 {
			f.Add(b[:len(b)/2])
			f.Add(flip(b, len(b)-1))
		}
	}
}

func goldenBodies(f *testing.F) [][]byte {
	var out [][]byte
	for _, name := range []string{"alert_sighting", "alert_sighting_quick", "alert_callout", "alert_confirm", "alert_respond", "alert_clear",
		"alert_callout_update", "alert_cosign", "alert_member", "alert_role", "alert_remove", "alert_rekey", "alert_settings",
		"alert_callout_card", "alert_cards", "alert_place", "alert_place_suggest"} {
		out = append(out, mustBody(f, goldenAlerts(f)[name]))
	}
	for _, name := range []string{"alert_place_share", "alert_place_linked", "alert_callout_linked"} {
		out = append(out, mustBody(f, linkGolden(f)[name]))
	}
	return out
}

func goldenSignedBytes(tb testing.TB) []byte {
	f := fx(tb)
	s := mustSign(tb, f.member, f.memberChain, newSighting())
	return mustMarshalSigned(tb, s)
}

func FuzzParseAlert(f *testing.F) {
	seedBytes(f, goldenBodies(f)...)
	f.Add([]byte{})
	f.Add([]byte{Version, byte(KindSighting)})
	for k := KindCosign; k <= KindSnapshot; k++ {
		f.Add([]byte{Version, byte(k)})
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ParseAlert(b)
		if err != nil {
			checkSentinel(t, err)
			return
		}
		if err := a.Validate(); err != nil {
			t.Fatalf("parsed alert does not validate: %v", err)
		}
		again, err := a.MarshalBinary()
		if err != nil {
			t.Fatalf("parsed alert does not encode: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs:\n in %x\nout %x", b, again)
		}
	})
}

func FuzzParseSigned(f *testing.F) {
	b := goldenSignedBytes(f)
	fxt := fx(f)
	one := mustMarshalSigned(f, mustSign(f, fxt.founder, fxt.founderChain, newCallout()))
	seedBytes(f, b, pad(bytes.Clone(b)), one)
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSigned(b)
		if err != nil {
			checkSentinel(t, err)
			return
		}
		if len(s.Chain) == 0 || len(s.Chain) > MaxChainLen || s.Alert == nil || s.ID != ComputeAlertID(s.Body) {
			t.Fatalf("inconsistent signed alert")
		}
		again, err := s.MarshalBinary()
		if err != nil {
			t.Fatalf("parsed signed alert does not encode: %v", err)
		}
		if !bytes.Equal(again, b[:len(again)]) || len(b)-len(again) >= PadBlock || bytes.ContainsFunc(b[len(again):], func(r rune) bool { return r != 0 }) {
			t.Fatalf("re-encoding differs or bad padding accepted")
		}
	})
}

func FuzzParseCert(f *testing.F) {
	fxt := fx(f)
	seedBytes(f, fxt.founderCert.Bytes(), fxt.member2Cert.Bytes())
	f.Add(make([]byte, CertSize))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCert(b)
		if err != nil {
			checkSentinel(t, err)
			return
		}
		w := writer{}
		c.appendBody(&w)
		w.raw(c.Sig)
		if !bytes.Equal(w.b, b) || !bytes.Equal(c.Bytes(), b) {
			t.Fatalf("re-encoding differs")
		}
		// Verifying never panics, whatever the key.
		cv := &ChainVerifier{Zone: c.Zone, Root: fxt.founder.Public()}
		if _, err := cv.Verify(Chain{c}, c.Issued); err != nil {
			checkSentinel(t, err)
		}
	})
}

// FuzzOpenEnvelope: Validator.Validate over arbitrary envelopes, and over
// arbitrary plaintexts sealed with the zone key (which reach the decoder
// and the chain and signature checks). A validator whose certificate cache
// is warm must give the same verdict as a fresh one.
func FuzzOpenEnvelope(f *testing.F) {
	fxt := fx(f)
	signed := goldenSignedBytes(f)
	env := mustSeal(f, fxt.key, mustSign(f, fxt.member, fxt.memberChain, newSighting()), testReader(7))
	f.Add(env, signed)
	f.Add(env[:EnvelopeHeaderSize+crypto.Overhead], pad(bytes.Clone(signed)))
	f.Add(flip(env, 3), flip(signed, 100))
	f.Add([]byte{}, mustMarshalSigned(f, mustSign(f, fxt.member2, fxt.member2Chain, newConfirm(refA))))
	f.Add([]byte{Version}, mustMarshalSigned(f, mustSign(f, fxt.org, fxt.orgChain, newCallout())))
	// Governance: a role grant (whose certificate the validator checks) and
	// a settings change.
	f.Add([]byte{}, mustMarshalSigned(f, mustSign(f, fxt.org, fxt.orgChain, newRole())))
	f.Add([]byte{}, mustMarshalSigned(f, mustSign(f, fxt.founder, fxt.founderChain, newSettings())))
	warm := fxt.validator()
	nonce := bytes.Repeat([]byte{9}, crypto.NonceSize)
	now := t0.Add(45 * time.Minute)
	f.Fuzz(func(t *testing.T, env, plain []byte) {
		if m, err := warm.Validate(env, now); err != nil {
			checkSentinel(t, err)
		} else if m.Alert == nil {
			t.Fatalf("accepted without an alert")
		}
		if len(plain) > MaxEnvelopeSize {
			return
		}
		sealed := make([]byte, EnvelopeHeaderSize)
		sealed[0] = Version
		sealed[4] = byte(testEpoch)
		copy(sealed[5:], nonce)
		sealed, err := fxt.key.Seal(sealed, nonce, plain, sealed[:EnvelopeHeaderSize])
		if err != nil {
			t.Fatal(err)
		}
		m1, err1 := warm.Validate(sealed, now)
		if err1 != nil {
			checkSentinel(t, err1)
		}
		m2, err2 := fxt.validator().Validate(sealed, now)
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("warm cache says %v, fresh validator says %v", err1, err2)
		}
		if m1 != nil && (m1.Role != m2.Role || m1.ID != m2.ID) {
			t.Fatalf("warm and fresh validators disagree")
		}
	})
}

func FuzzParseInviteCode(f *testing.F) {
	code, err := testInvite().Code()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(code)
	f.Add(" " + code[:30] + "\r\n" + code[30:] + "\n")
	f.Add(code[:len(code)-1] + "A")
	f.Add(InviteCodePrefix)
	f.Add(codeOf([]byte{Version}))
	f.Fuzz(func(t *testing.T, s string) {
		inv, err := ParseInviteCode(s)
		if err != nil {
			if !errors.Is(err, ErrBadInvite) {
				t.Fatalf("error does not wrap ErrBadInvite: %v", err)
			}
			return
		}
		again, err := inv.Code()
		if err != nil {
			t.Fatalf("parsed invite does not encode: %v", err)
		}
		if norm := strings.Join(strings.Fields(s), ""); again != norm {
			t.Fatalf("Code() = %q, input was %q", again, norm)
		}
		back, err := ParseInviteCode(again)
		if err != nil || !sameInvite(back, inv) {
			t.Fatalf("Code() does not round trip: %v", err)
		}
	})
}

func FuzzParseJoinRequest(f *testing.F) {
	b := goldenJoinRequest(f).MarshalBinary()
	seedBytes(f, b)
	key := testInviteKey().Public()
	f.Fuzz(func(t *testing.T, b []byte) {
		j, err := ParseJoinRequest(b)
		if err != nil {
			checkSentinel(t, err)
			return
		}
		if !bytes.Equal(j.MarshalBinary(), b) {
			t.Fatalf("re-encoding differs")
		}
		j.Verify(key)
	})
}

func FuzzParseGrant(f *testing.F) {
	g := goldenGrant(f)
	b, err := g.MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	small := *g
	small.Chain = Chain{g.Chain[0]}
	small.Peers = nil
	sb, err := small.MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	seedBytes(f, b, sb)
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := ParseGrant(b)
		if err != nil {
			checkSentinel(t, err)
			return
		}
		again, err := g.MarshalBinary()
		if err != nil {
			t.Fatalf("parsed grant does not encode: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs")
		}
	})
}

// FuzzNormalizePlace: normalizing never panics, is idempotent, and leaves
// no upper case, punctuation, symbols or doubled, leading or trailing
// spaces.
func FuzzNormalizePlace(f *testing.F) {
	for _, s := range []string{placeA, placeA2, placeB, "O'Connor", "Rue Saint-Hubert & Bélanger", "İstanbul", "ǅ", "a\u00a0\u2028b", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := NormalizePlace(s)
		if again := NormalizePlace(n); again != n {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, n, again)
		}
		if strings.HasPrefix(n, " ") || strings.HasSuffix(n, " ") || strings.Contains(n, "  ") {
			t.Fatalf("spaces left in %q", n)
		}
		for _, r := range n {
			if r != ' ' && (unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.IsControl(r)) {
				t.Fatalf("%q left in %q", r, n)
			}
		}
	})
}

// FuzzFoldOrder: any selection of the messages of the state tests' world,
// with repeats, in any order, folds (incidents, then each incident and
// callout) to the same views as the same set in a canonical order.
func FuzzFoldOrder(f *testing.F) {
	world := worldMessages(newStateFixture(f, RoleMember))
	all := make([]byte, len(world))
	for i := range all {
		all[i] = byte(i)
	}
	f.Add(all, uint16(60))
	f.Add([]byte{0, 1, 2, 3, 0, 1}, uint16(30))
	f.Add([]byte{40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50}, uint16(300))
	removed := removedSet(mallory)
	f.Fuzz(func(t *testing.T, pick []byte, minutes uint16) {
		var picked []*Message
		for _, p := range pick {
			picked = append(picked, world[int(p)%len(world)])
		}
		canonical := slices.Clone(picked)
		slices.SortFunc(canonical, func(a, b *Message) int { return bytes.Compare(a.ID[:], b.ID[:]) })
		canonical = slices.CompactFunc(canonical, func(a, b *Message) bool { return a.ID == b.ID })
		now := at(time.Duration(minutes) * time.Minute)
		for _, s := range []Settings{DefaultSettings(), {Corroborations: 3, CorroborationWindow: 5 * time.Minute, Expiry: 30 * time.Minute, Cosign: true}} {
			want := foldAll(canonical, s, removed, now)
			if got := foldAll(picked, s, removed, now); !sameViews(got, want) {
				t.Fatalf("views differ:\n%v\nwant\n%v", got, want)
			}
			slices.Reverse(picked)
			if got := foldAll(picked, s, removed, now); !sameViews(got, want) {
				t.Fatalf("reversed: views differ")
			}
		}
	})
}
