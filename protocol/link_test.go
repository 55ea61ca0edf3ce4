package protocol

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"lookout/crypto"
)

// Linked zones: the other zone's end is mustIdentity(0x07); this zone's
// end (the relay) is the fixture's organizer.

var (
	testLink       = LinkID{0x11, 0x22, 0x33, 0x44, 0x55}
	testLinkSecret = [LinkSecretSize]byte{0x5e, 0xc7}
	testDigest     = ShareDigest(AlertID{0xd1})
)

func peerEnd() *crypto.Identity { return mustIdentity(0x07) }

func testLinkNode(t testing.TB) []byte {
	b, err := EncodeLinkNode(testPeerID(), [][]byte{testAddr4, testAddr6})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newLinkOffer() *Alert {
	a := governance(KindLink, fixtureOnce().org.ID())
	a.Link = &LinkRecord{Op: LinkOffer, ID: testLink, Secret: testLinkSecret, Name: "Parkdale", Until: t0.Add(24 * time.Hour)}
	return a
}

func newLinkAccept(t testing.TB) *Alert {
	a := governance(KindLink, fixtureOnce().org.ID())
	a.Link = &LinkRecord{Op: LinkAccept, ID: testLink, Secret: testLinkSecret, Name: "Parkdale", Peer: "Roncesvalles",
		PeerKey: peerEnd().Public().Bytes(), PeerNode: testLinkNode(t)}
	return a
}

func newLinkEnd() *Alert {
	a := governance(KindLink, fixtureOnce().org.ID())
	a.Sent = a.Sent.Add(time.Minute)
	a.Link = &LinkRecord{Op: LinkEnd, ID: testLink}
	return a
}

func newShare(ref AlertID) *Alert {
	a := newConfirm(ref)
	a.Kind, a.Note, a.Hops = KindShare, "", 2
	a.Sender = fixtureOnce().verifier.ID()
	return a
}

// newForwarded is the relay's sighting carrying the other end's
// endorsement of a verified sighting, two hops left.
func newForwarded(t testing.TB) *Alert {
	a := newSighting()
	a.Sender = fixtureOnce().org.ID()
	a.Via = &Forward{Link: testLink, Digest: testDigest, Hops: 2, Origin: "Roncesvalles", At: t0.Add(-time.Minute)}
	if _, err := Endorse(peerEnd(), a); err != nil {
		t.Fatal(err)
	}
	return a
}

// newTally is the relay's tally of responders in the linked zone.
func newTally(t testing.TB, ref AlertID) *Alert {
	a := newRespond(ref)
	a.Kind, a.Response = KindTally, 0
	a.Sender = fixtureOnce().org.ID()
	a.Tally = Tally{EnRoute: 3, OnScene: 1, Cannot: 2}
	a.Via = &Forward{Link: testLink, Digest: testDigest, Hops: 1, Origin: "Roncesvalles", At: t0.Add(-time.Minute)}
	if _, err := Endorse(peerEnd(), a); err != nil {
		t.Fatal(err)
	}
	return a
}

func linkGolden(t testing.TB) map[string]*Alert {
	callout := newCallout()
	cid := ComputeAlertID(mustBody(t, callout))
	return map[string]*Alert{
		"alert_link_offer":     newLinkOffer(),
		"alert_link_accept":    newLinkAccept(t),
		"alert_link_end":       newLinkEnd(),
		"alert_share":          newShare(cid),
		"alert_tally":          newTally(t, cid),
		"alert_forwarded":      newForwarded(t),
		"alert_place_share":    newPlaceShare(2),
		"alert_place_linked":   newLinkedPlace(t, PlaceAdd),
		"alert_callout_linked": newForwardedCallout(t),
	}
}

func TestGoldenLinkAlerts(t *testing.T) {
	for name, a := range linkGolden(t) {
		t.Run(name, func(t *testing.T) {
			body := mustBody(t, a)
			comment := "alert body (" + a.Kind.String() + "), see docs/protocol.md \"Version 2: links\""
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

func TestGoldenLinkWire(t *testing.T) {
	fwd := newForwarded(t)
	body, err := EndorsementBody(fwd)
	if err != nil {
		t.Fatal(err)
	}
	checkGoldenHex(t, "endorsement", "endorsement body of alert_forwarded.golden, signed by seed 0x07...", body)
	for name, a := range map[string]*Alert{"endorsement_place": newLinkedPlace(t, PlaceAdd), "endorsement_callout_card": newForwardedCallout(t)} {
		b, err := EndorsementBody(a)
		if err != nil {
			t.Fatal(err)
		}
		checkGoldenHex(t, name, "endorsement body of alert_"+strings.TrimPrefix(name, "endorsement_")+".golden's content (version 4), signed by seed 0x07...", b)
		got, err := ParseEndorsement(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got.Via.Endorser, got.Via.Sig = a.Via.Endorser, a.Via.Sig
		if err := VerifyEndorsement(peerEnd().Public(), &Alert{Kind: got.Kind, Status: got.Status, Place: got.Place, Via: got.Via,
			Title: got.Title, Area: got.Area, When: got.When, Need: got.Need, Bring: got.Bring, Rights: got.Rights, Card: got.Card, Expires: got.Expires}); err != nil {
			t.Errorf("%s: the parsed endorsement does not verify: %v", name, err)
		}
	}
	tmpl, err := ParseEndorsementFrame(EncodeEndorsement(body, fwd.Via.Sig))
	if err != nil {
		t.Fatal(err)
	}
	if tmpl.What != fwd.What || tmpl.Via.Digest != fwd.Via.Digest || !bytes.Equal(tmpl.Via.Sig, fwd.Via.Sig) || tmpl.Via.Endorser != peerEnd().ID() {
		t.Errorf("endorsement frame round trip: %+v", tmpl)
	}

	code, err := (&LinkOfferCode{ID: testLink, Secret: testLinkSecret, Name: "Parkdale", Until: t0.Add(24 * time.Hour), Key: peerEnd().Public().Bytes(), Node: testLinkNode(t)}).Code()
	if err != nil {
		t.Fatal(err)
	}
	checkGoldenText(t, "link_code", code)
	o, err := ParseLinkCode(code)
	if err != nil {
		t.Fatal(err)
	}
	if o.ID != testLink || o.Secret != testLinkSecret || o.Name != "Parkdale" || !o.Until.Equal(t0.Add(24*time.Hour)) {
		t.Errorf("link code round trip: %+v", o)
	}

	hello, err := SignLinkHello(peerEnd(), testLink, "Roncesvalles", testLinkNode(t), t0)
	if err != nil {
		t.Fatal(err)
	}
	hb, _ := hello.MarshalBinary()
	frame, err := SealLinkFrame(testLinkSecret, FrameAccept, testLink, hb, testReader(0x40))
	if err != nil {
		t.Fatal(err)
	}
	checkGoldenHex(t, "link_frame_accept", "FrameAccept for link 1122334455..., hello of seed 0x07... named Roncesvalles, nonce ChaCha8(0x40...)", frame)
	typ, plain, err := OpenLinkFrame(testLinkSecret, frame)
	if err != nil || typ != FrameAccept {
		t.Fatalf("open frame: %d %v", typ, err)
	}
	if _, pk, err := ParseLinkHello(testLink, plain); err != nil || pk.ID() != peerEnd().ID() {
		t.Fatalf("hello: %v", err)
	}
}

// linkValidator is the fixture's validator with testLink accepted: the
// other end's key is peerEnd, this zone's end is the organizer.
func linkValidator(f *fixture) *Validator {
	v := f.validator()
	v.Endorser = func(l LinkID, relay crypto.MemberID) (*crypto.PublicKey, error) {
		if l != testLink {
			return nil, ErrLink
		}
		if relay != f.org.ID() {
			return nil, ErrNotAllowed
		}
		return peerEnd().Public(), nil
	}
	return v
}

func TestValidateForwarded(t *testing.T) {
	f := fx(t)
	check := func(v *Validator, id *crypto.Identity, ch Chain, a *Alert) error {
		_, err := v.Check(mustSign(t, id, ch, a), t0.Add(30*time.Minute))
		return err
	}
	forged := func(mut func(a *Alert)) *Alert {
		a := newForwarded(t)
		mut(a)
		return a
	}
	cases := []struct {
		name string
		v    *Validator
		id   *crypto.Identity
		ch   Chain
		a    *Alert
		want error
	}{
		{"accepted endorser", linkValidator(f), f.org, f.orgChain, newForwarded(t), nil},
		{"tally", linkValidator(f), f.org, f.orgChain, newTally(t, refA), nil},
		{"no links in this zone", f.validator(), f.org, f.orgChain, newForwarded(t), ErrLink},
		{"forged endorser: signed by an outsider", linkValidator(f), f.org, f.orgChain, forged(func(a *Alert) {
			a.Via.Endorser = crypto.MemberID{}
			if _, err := Endorse(f.outsider, a); err != nil {
				t.Fatal(err)
			}
		}), ErrEndorser},
		{"forged endorser: endorser ID swapped", linkValidator(f), f.org, f.orgChain, forged(func(a *Alert) { a.Via.Endorser = f.outsider.ID() }), ErrEndorser},
		{"content changed after endorsement", linkValidator(f), f.org, f.orgChain, forged(func(a *Alert) { a.What = "nothing to see" }), ErrBadSignature},
		{"what code changed after endorsement", linkValidator(f), f.org, f.orgChain, forged(func(a *Alert) { a.Quick.What = WhatArrest }), ErrBadSignature},
		{"hops changed after endorsement", linkValidator(f), f.org, f.orgChain, forged(func(a *Alert) { a.Via.Hops = 3 }), ErrBadSignature},
		{"another link (wrong zone)", linkValidator(f), f.org, f.orgChain, forged(func(a *Alert) { a.Via.Link = LinkID{0x99} }), ErrLink},
		{"relayed by an organizer who is not the link end", linkValidator(f), f.founder, f.founderChain, newForwarded(t), ErrNotAllowed},
		{"relayed by a member", linkValidator(f), f.member, f.memberChain, newForwarded(t), ErrNotAllowed},
		{"share by a member", f.validator(), f.member, f.memberChain, newShare(refA), ErrNotAllowed},
		{"share by a verifier", f.validator(), f.verifier, f.verifierChain, newShare(refA), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := check(c.v, c.id, c.ch, c.a)
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("Check = %v, want %v", err, c.want)
			}
		})
	}
}

func TestLinkFieldRejects(t *testing.T) {
	cases := []struct {
		name string
		a    *Alert
		want error
	}{
		{"hops 0 on a forward", func() *Alert { a := newForwarded(t); a.Via.Hops = 0; return a }(), ErrHops},
		{"hop count exceeded on a forward", func() *Alert { a := newForwarded(t); a.Via.Hops = MaxShareHops + 1; return a }(), ErrHops},
		{"hop count exceeded on a share", func() *Alert { a := newShare(refA); a.Hops = MaxShareHops + 1; return a }(), ErrHops},
		{"share without hops", func() *Alert { a := newShare(refA); a.Hops = 0; return a }(), ErrHops},
		{"hops on a confirm", func() *Alert { a := newConfirm(refA); a.Hops = 1; return a }(), ErrHops},
		{"tally without via", func() *Alert { a := newTally(t, refA); a.Via = nil; return a }(), ErrMissing},
		{"tally over the limit", func() *Alert { a := newTally(t, refA); a.Tally.EnRoute = MaxTally + 1; return a }(), ErrEnum},
		{"via on a confirm", func() *Alert { a := newConfirm(refA); a.Via = newForwarded(t).Via; return a }(), ErrEnum},
		{"retraction over a link", func() *Alert {
			a := newClear(refA)
			a.Reason = ClearRetracted
			a.Via = newForwarded(t).Via
			return a
		}(), ErrEnum},
		{"link record on a sighting", func() *Alert { a := newSighting(); a.Link = newLinkEnd().Link; return a }(), ErrEnum},
		{"link without record", func() *Alert { a := newLinkEnd(); a.Link = nil; return a }(), ErrMissing},
		{"end with a secret", func() *Alert { a := newLinkEnd(); a.Link.Secret[0] = 1; return a }(), ErrEnum},
		{"accept with a bad peer key", func() *Alert { a := newLinkAccept(t); a.Link.PeerKey = make([]byte, 10); return a }(), crypto.ErrBadPublicKey},
		{"offer without a name", func() *Alert { a := newLinkOffer(); a.Link.Name = ""; return a }(), ErrEnum},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := c.a.MarshalBinary(); !errors.Is(err, c.want) {
				t.Fatalf("MarshalBinary = %v, want %v", err, c.want)
			}
		})
	}
}

func TestFoldLinksAndCheckAccept(t *testing.T) {
	f := fx(t)
	offer := msg(t, newLinkOffer(), RoleOrganizer)
	accept := msg(t, newLinkAccept(t), RoleOrganizer)
	end := msg(t, newLinkEnd(), RoleOrganizer)

	ls := FoldLinks([]*Message{offer}, nil)
	if err := CheckAccept(ls[testLink], t0); err != nil {
		t.Fatalf("fresh offer: %v", err)
	}
	if err := CheckAccept(ls[testLink], t0.Add(25*time.Hour)); !errors.Is(err, ErrLinkExpired) {
		t.Fatalf("expired offer = %v", err)
	}
	if err := CheckAccept(ls[LinkID{0x99}], t0); !errors.Is(err, ErrLinkWrongEnd) {
		t.Fatalf("offer of another zone = %v", err)
	}

	// Accepted: active, and the code is spent (a replay finds it used).
	ls = FoldLinks([]*Message{accept, offer}, nil)
	l := ls[testLink]
	if !l.Active() || l.Endpoint != f.org.ID() || l.PeerKey.ID() != peerEnd().ID() || l.Peer != "Roncesvalles" {
		t.Fatalf("accepted link = %+v", l)
	}
	if err := CheckAccept(l, t0); !errors.Is(err, ErrLinkUsed) {
		t.Fatalf("replayed link code = %v, want used", err)
	}

	// A second accept (another zone's key) does not replace the first.
	second := newLinkAccept(t)
	second.Sent = second.Sent.Add(time.Second)
	second.Link.PeerKey = f.outsider.Public().Bytes()
	ls = FoldLinks([]*Message{offer, accept, msg(t, second, RoleOrganizer)}, nil)
	if ls[testLink].PeerKey.ID() != peerEnd().ID() {
		t.Fatalf("second accept replaced the first")
	}

	// An accept whose secret does not match the offer is ignored.
	wrong := newLinkAccept(t)
	wrong.Link.Secret[0] ^= 1
	if ls = FoldLinks([]*Message{offer, msg(t, wrong, RoleOrganizer)}, nil); ls[testLink].Accepted {
		t.Fatalf("accept with the wrong secret counted")
	}

	// Ended for good; from a non-organizer or a removed organizer nothing counts.
	if ls = FoldLinks([]*Message{offer, accept, end}, nil); ls[testLink].Active() || !ls[testLink].Ended {
		t.Fatalf("ended link still active")
	}
	if ls = FoldLinks([]*Message{msg(t, newLinkAccept(t), RoleVerifier)}, nil); len(ls) != 0 {
		t.Fatalf("a verifier's link counted")
	}
	removed := func(m crypto.MemberID, at time.Time) bool { return m == f.org.ID() }
	if ls = FoldLinks([]*Message{offer, accept}, removed); len(ls) != 0 {
		t.Fatalf("a removed organizer's link counted")
	}
}

func TestLinkFrameRejects(t *testing.T) {
	frame, err := SealLinkFrame(testLinkSecret, FrameEnd, testLink, []byte("x"), testReader(0x41))
	if err != nil {
		t.Fatal(err)
	}
	other := testLinkSecret
	other[1] ^= 1
	if _, _, err := OpenLinkFrame(other, frame); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("wrong secret = %v", err)
	}
	relabelled := bytes.Clone(frame)
	relabelled[2] ^= 1
	if _, _, err := OpenLinkFrame(testLinkSecret, relabelled); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("relabelled link ID = %v", err)
	}
	end, err := SignLinkEnd(peerEnd(), testLink, t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyLinkEnd(peerEnd().Public(), testLink, end); err != nil {
		t.Fatal(err)
	}
	if err := VerifyLinkEnd(fx(t).outsider.Public(), testLink, end); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("end from another key = %v", err)
	}
	hello, _ := SignLinkHello(peerEnd(), testLink, "Roncesvalles", testLinkNode(t), t0)
	hb, _ := hello.MarshalBinary()
	if _, _, err := ParseLinkHello(LinkID{0x98}, hb); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("hello for another link = %v", err)
	}
	code, _ := (&LinkOfferCode{ID: testLink, Secret: testLinkSecret, Name: "Parkdale", Until: t0, Key: peerEnd().Public().Bytes(), Node: testLinkNode(t)}).Code()
	damaged := []byte(code)
	damaged[len(damaged)-8] ^= 0x02
	if _, err := ParseLinkCode(string(damaged)); !errors.Is(err, ErrBadLinkCode) {
		t.Fatalf("damaged code = %v", err)
	}
	if _, err := ParseLinkCode("lookout1:" + code[len(LinkCodePrefix):]); !errors.Is(err, ErrBadLinkCode) {
		t.Fatalf("invite prefix = %v", err)
	}
}

func FuzzParseLinkCode(f *testing.F) {
	code, _ := (&LinkOfferCode{ID: testLink, Secret: testLinkSecret, Name: "Parkdale", Until: t0, Key: peerEnd().Public().Bytes(), Node: testLinkNode(f)}).Code()
	f.Add(code)
	f.Add(LinkCodePrefix)
	f.Fuzz(func(t *testing.T, s string) {
		o, err := ParseLinkCode(s)
		if err != nil {
			checkSentinel(t, err)
			return
		}
		again, err := o.Code()
		if err != nil {
			t.Fatalf("parsed code does not encode: %v", err)
		}
		if _, err := ParseLinkCode(again); err != nil {
			t.Fatalf("re-encoded code does not parse: %v", err)
		}
	})
}

func FuzzParseEndorsement(f *testing.F) {
	fwd := newForwarded(f)
	body, _ := EndorsementBody(fwd)
	f.Add(EncodeEndorsement(body, fwd.Via.Sig))
	tl := newTally(f, refA)
	tb, _ := EndorsementBody(tl)
	f.Add(EncodeEndorsement(tb, tl.Via.Sig))
	q := newQuickSighting()
	q.Via = &Forward{Link: testLink, Digest: testDigest, Hops: 1, Origin: "Villeray", At: t0}
	if qb, err := Endorse(peerEnd(), q); err == nil {
		f.Add(EncodeEndorsement(qb, q.Via.Sig))
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ParseEndorsementFrame(b)
		if err != nil {
			checkSentinel(t, err)
			return
		}
		again, err := EndorsementBody(a)
		if err != nil {
			t.Fatalf("parsed endorsement does not encode: %v", err)
		}
		if !bytes.Equal(EncodeEndorsement(again, a.Via.Sig), b) {
			t.Fatalf("re-encoding differs")
		}
		_ = VerifyEndorsement(peerEnd().Public(), a)
	})
}

func FuzzLinkFrame(f *testing.F) {
	hello, _ := SignLinkHello(peerEnd(), testLink, "Roncesvalles", testLinkNode(f), t0)
	hb, _ := hello.MarshalBinary()
	frame, _ := SealLinkFrame(testLinkSecret, FrameAccept, testLink, hb, testReader(0x42))
	f.Add(frame, hb)
	f.Add([]byte{Version, FrameEnd}, []byte{})
	f.Fuzz(func(t *testing.T, frame, payload []byte) {
		if _, _, err := OpenLinkFrame(testLinkSecret, frame); err != nil {
			checkSentinel(t, err)
		}
		if _, _, err := ParseLinkHello(testLink, payload); err != nil {
			checkSentinel(t, err)
		}
		if err := VerifyLinkEnd(peerEnd().Public(), testLink, payload); err != nil {
			checkSentinel(t, err)
		}
		if _, _, err := ParseLinkNode(payload); err != nil {
			checkSentinel(t, err)
		}
	})
}
