package app

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"lookout/node/api"
	"lookout/node/control/controltest"
	"lookout/node/sim"
)

// Tests for "the app when it counts" (issue 19), numbered as its points.

// startPracticeFake is a practice starter whose zone is a second fake.
func startPracticeFake(started **practiceFake) StartPractice {
	return func(ctx context.Context, s PracticeScript) (PracticeZone, error) {
		p := &practiceFake{Fake: &controltest.Fake{Self: api.Status{MemberID: "9999999999999999practice"}, Now: func() time.Time { return testNow }}}
		if _, err := p.CreateZone(ctx, s.Zone); err != nil {
			return nil, err
		}
		*started = p
		return p, nil
	}
}

// enterPractice starts practice through the zone list and its confirmation.
func (h *harness) enterPractice() {
	h.t.Helper()
	h.tap("Try a practice zone")
	h.tap("Start practice")
	h.waitFor("practice zone", func() bool { return h.ui.inPractice() && h.ui.cur.title == "Your zones" })
}

// 1. Entering practice asks once; a real alert during practice notifies,
// shows in a banner above the practice and stays new after leaving.
func TestPracticeNeverHidesRealAlerts(t *testing.T) {
	var p *practiceFake
	h := newHarness(t, Options{Practice: startPracticeFake(&p)})
	z := h.zone("Parkdale", "member")
	h.unlocked()

	h.tap("Try a practice zone")
	h.tap("Cancel")
	if h.ui.practice != nil || p != nil {
		t.Fatal("practice started although the member cancelled")
	}
	h.enterPractice()
	// Settings in practice show the member's own identity.
	h.tap("Settings")
	h.label("Your member ID starts with a1b2c3d4e5f6")
	h.tap("Back")

	discreet := fyne.NewNotification("Lookout", "New alert in Lookout")
	test.AssertNotificationSent(t, discreet, func() {
		if _, err := h.fake.Receive(sighting(z.ID, "real1", "verified", 2, false)); err != nil {
			t.Fatal(err)
		}
		h.waitFor("real alert banner", func() bool { return h.findButton("Real alert in Parkdale: open it") != nil })
	})
	if !h.ui.inPractice() {
		t.Fatal("a real alert took practice off the screen by itself")
	}
	// The banner is on every practice screen.
	h.tap("Practice zone")
	h.button("Real alert in Parkdale: open it")
	h.tap("Back")

	// Leaving practice another way keeps the real alert marked new.
	h.tap("Leave practice")
	h.waitFor("practice closed", func() bool { return p.closed.Load() })
	if h.ui.b != Backend(h.fake) {
		t.Fatal("the member's own node is not back on screen")
	}
	h.label("1 new")
	h.label("1 active alert · member")

	// Again, and this time the banner opens the real alert.
	h.enterPractice()
	test.AssertNotificationSent(t, discreet, func() {
		if _, err := h.fake.Receive(callout(z.ID, "real2", false)); err != nil {
			t.Fatal(err)
		}
		h.waitFor("banner", func() bool { return h.findButton("Real alert in Parkdale: open it") != nil })
	})
	h.tap("Real alert in Parkdale: open it")
	if h.ui.inPractice() || h.ui.cur.title != "Callout" {
		t.Errorf("banner led to %q (practice %v), want the real callout", h.ui.cur.title, h.ui.inPractice())
	}
	h.button("On my way")
}

// 1, with real nodes: a member's own node on a simulated network receives a
// callout from another real node while the practice zone is on screen.
func TestPracticeRealNodeAlert(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	nw, err := sim.Start(ctx, sim.Config{Nodes: 2, Dir: t.TempDir(), RedialInterval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nw.Close() })
	zone, err := nw.FormZone(ctx, "Parkdale", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := nw.WaitMesh(ctx, zone.ID, 1); err != nil {
		t.Fatal(err)
	}

	var p *practiceFake
	h := newHarness(t, Options{Practice: startPracticeFake(&p)})
	h.prof.b = nw.Nodes[1]
	h.unlocked()
	h.enterPractice()

	discreet := fyne.NewNotification("Lookout", "New alert in Lookout")
	test.AssertNotificationSent(t, discreet, func() {
		if _, err := nw.Nodes[0].Callout(ctx, api.CalloutRequest{Zone: zone.ID, Title: "Accompany family", Where: "King & Dufferin", Need: 3}); err != nil {
			t.Fatal(err)
		}
		h.waitFor("real callout banner", func() bool { return h.findButton("Real alert in Parkdale: open it") != nil })
	})
	h.label("PRACTICE")
	h.tap("Real alert in Parkdale: open it")
	h.waitFor("callout", func() bool { return h.ui.cur.title == "Callout" })
	h.label("Accompany family")
	h.waitFor("practice closed", func() bool { return p.closed.Load() })
}

// 2. Report sits at a fixed place on the zone list whatever status lines
// come and go.
func TestReportStaysPut(t *testing.T) {
	h := newHarness(t, Options{Practice: startPracticeFake(new(*practiceFake))})
	z := h.zone("Parkdale", "member")
	h.unlocked()
	at := func() fyne.Position {
		h.t.Helper()
		return fyne.CurrentApp().Driver().AbsolutePositionForObject(h.button("Report a sighting"))
	}
	first := at()
	h.label("No other member is connected right now: what you send may not reach anyone. Use your phone tree or hotline too.")
	h.receive(sighting(z.ID, "s1", "", 1, false))
	h.label("1 new")
	if got := at(); got != first {
		t.Errorf("Report moved from %v to %v when \"1 new\" appeared", first, got)
	}
	if err := h.fake.SetPeers(z.ID, []string{"12D3KooWPeerA"}); err != nil {
		t.Fatal(err)
	}
	h.ui.refresh()
	if got := at(); got != first {
		t.Errorf("Report moved from %v to %v when the no-peers warning went", first, got)
	}
	h.tap("Parkdale")
	if got := at(); got != first {
		t.Errorf("Report is at %v in the feed, %v on the zone list", got, first)
	}
	if first.Y < h.ui.w.Canvas().Size().Height/2 {
		t.Errorf("Report at %v is not in the bottom bar", first)
	}
}

// 3. Ending a callout or clearing a sighting for the whole zone asks once.
func TestEndingAsksFirst(t *testing.T) {
	h := newHarness(t, Options{})
	z := h.zone("Parkdale", "organizer")
	h.unlocked()
	h.receive(callout(z.ID, "c1", false))
	h.receive(sighting(z.ID, "s1", "verified", 2, false))
	for _, c := range []struct{ id, button, confirm string }{
		{"c1", "End callout", "End this callout for the whole zone? Nobody will be asked to come any more; it cannot be undone."},
		{"s1", "All clear", "Tell the whole zone this sighting is over? Everyone sees it as ended; it cannot be undone."},
	} {
		h.ui.showAlert(c.id)
		h.tap(c.button)
		h.label(c.confirm)
		h.tap("Cancel")
		h.drain()
		if a, _ := h.fake.Alerts(z.ID); stateOf(a, c.id) == "cleared" {
			t.Fatalf("%s ended without confirmation", c.id)
		}
		h.tap(c.button)
		// The dialog's button names the action.
		h.tapDialog(c.button)
		h.waitFor(c.id+" cleared", func() bool { return h.ui.alerts[c.id].State == "cleared" })
	}
}

func stateOf(as []api.Alert, id string) string {
	for _, a := range as {
		if a.ID == id {
			return a.State
		}
	}
	return ""
}

func (h *harness) focused() fyne.Focusable { return h.ui.w.Canvas().Focused() }

func key(f fyne.Focusable, name fyne.KeyName) { f.TypedKey(&fyne.KeyEvent{Name: name}) }

// 4. Keyboard: focus starts in the first field, Tab moves on, Enter
// submits, on first run, unlock, create zone and report.
func TestKeyboardPath(t *testing.T) {
	h := newHarness(t, Options{})
	h.ui.Start()
	if f := h.focused(); f != h.entryAt(0) {
		t.Fatalf("first run: focus on %v, want the name field", f)
	}
	test.Type(h.focused(), "Amira")
	key(h.focused(), fyne.KeyReturn)
	if h.focused() != h.entryAt(1) {
		t.Fatal("first run: Enter in the name does not move to the passphrase")
	}
	test.Type(h.focused(), testPass)
	key(h.focused(), fyne.KeyReturn)
	test.Type(h.focused(), testPass)
	key(h.focused(), fyne.KeyReturn)
	h.waitFor("welcome", func() bool { return h.ui.cur.title == "Get started" })

	h.tap("Create a zone")
	test.Type(h.focused(), "Parkdale")
	key(h.focused(), fyne.KeyReturn)
	h.waitFor("invite", func() bool { return h.ui.cur.title == "Invite to Parkdale" })
	h.tap("Back")

	h.tap("Report a sighting")
	what := h.ui.drafts[h.fake.Zones()[0].ID].what
	if h.focused() != what {
		t.Fatalf("report: focus on %v, want What", h.focused())
	}
	test.Type(what, "2 officers")
	key(what, fyne.KeyTab)
	if h.focused() != h.entry("e.g. Queen & Dunn, outside the pharmacy") {
		t.Fatal("report: Tab in What does not move to Where")
	}
	if what.Text != "2 officers" {
		t.Errorf("Tab typed into What: %q", what.Text)
	}
	test.Type(h.focused(), "Queen & Dunn")
	key(h.focused(), fyne.KeyReturn)
	h.waitFor("sent", func() bool { return h.ui.cur.title == "Sighting" })

	// Unlock: focus in the passphrase, Enter unlocks.
	h2 := newHarness(t, Options{})
	h2.prof.init, h2.prof.pass = true, testPass
	h2.ui.Start()
	test.Type(h2.focused(), testPass)
	key(h2.focused(), fyne.KeyReturn)
	h2.waitFor("unlocked", func() bool { return h2.ui.b != nil })
}

// 4, every other form: join, callout, the settings passphrase and a safe
// place start in their first field (join, callout, place), Enter moves on
// and submits from the last field, and Tab in a multi-line box moves on.
func TestKeyboardEveryForm(t *testing.T) {
	h := newHarness(t, Options{})
	z := placesZone(h)
	h.unlocked()

	// Join: focus in the code, Enter joins (a bad code is refused inline).
	h.ui.showJoin()
	test.Type(h.focused(), "not an invite")
	key(h.focused(), fyne.KeyReturn)
	h.waitFor("join refused", func() bool { return h.hasLabel("This invite is not valid or has expired. Ask for a new one.") })

	// Callout: focus in the title, Enter through every field, Tab out of
	// the rights box without typing a tab, Enter there sends.
	h.ui.showCallout(z)
	for _, s := range []string{"Accompany family", "King & Dufferin", "now", "3", "a phone"} {
		test.Type(h.focused(), s)
		key(h.focused(), fyne.KeyReturn)
	}
	rights, ok := h.focused().(*formEntry)
	if !ok {
		t.Fatalf("callout: after Enter in Bring, focus on %T, want the rights box", h.focused())
	}
	test.Type(rights, "Do not open the door")
	key(rights, fyne.KeyTab)
	if rights.Text != "Do not open the door" || h.focused() == rights {
		t.Errorf("callout: Tab in the rights box typed %q or stayed in it", rights.Text)
	}
	h.ui.w.Canvas().Focus(rights)
	key(rights, fyne.KeyReturn)
	h.waitFor("callout sent", func() bool { return h.ui.cur.title == "Callout" })
	h.label("Accompany family")

	// Settings: Enter moves through the passphrase fields and changes it.
	h.ui.showSettings()
	h.ui.w.Canvas().Focus(h.entryAt(0))
	for _, s := range []string{testPass, "a new passphrase for the winter", "a new passphrase for the winter"} {
		test.Type(h.focused(), s)
		key(h.focused(), fyne.KeyReturn)
	}
	h.waitFor("changed", func() bool { return h.hasLabel("Passphrase changed.") })

	// A safe place: focus in the name, Enter through to the notes, Enter
	// there saves.
	h.ui.showPlaces(z)
	h.tap("Add a place")
	h.selects()[0].SetSelected("Health")
	for _, s := range []string{"Clinique du peuple", "Jean-Talon & Querbes", "Mon-Fri 9-17", "fr, es", "514 555 0199", "Walk in"} {
		test.Type(h.focused(), s)
		key(h.focused(), fyne.KeyReturn)
	}
	h.waitFor("place added", func() bool {
		ps, _ := h.fake.Places(z.ID, api.PlaceFilter{})
		for _, p := range ps {
			if p.Name == "Clinique du peuple" && p.Notes == "Walk in" && p.Contact == "514 555 0199" {
				return true
			}
		}
		return false
	})
}

// The four-tap report: from an unlocked app, Report, what (focus already
// there), one tap on a recent place, Send.
func TestFourTapReport(t *testing.T) {
	h := newHarness(t, Options{})
	z := h.zone("Parkdale", "member")
	h.unlocked()
	h.receive(sighting(z.ID, "s1", "verified", 2, false))
	interactions := 0
	tap := func(text string) { interactions++; h.tap(text) }
	typeText := func(s string) { interactions++; test.Type(h.focused(), s) }

	tap("Report a sighting")
	typeText("2 officers at the door")
	tap("Queen & Dunn") // a recent place
	tap("Send report")
	h.waitFor("sent", func() bool { return h.ui.cur.title == "Sighting" })
	// The fake files a report at the same place under the same incident.
	as, _ := h.fake.Alerts(z.ID)
	if len(as) != 1 || len(as[0].Sightings) != 2 || as[0].Where != "Queen & Dunn" {
		t.Fatalf("after the report the zone has %+v, want a second sighting at Queen & Dunn", as)
	}
	if interactions > maxReportInteractions {
		t.Errorf("report took %d interactions, want at most %d", interactions, maxReportInteractions)
	}
	t.Logf("report sent in %d interactions", interactions)
}

// 5. Back from the report form keeps what was typed; sending clears it.
func TestReportDraftKept(t *testing.T) {
	h := newHarness(t, Options{})
	z := h.zone("Parkdale", "member")
	h.unlocked()
	h.tap("Report a sighting")
	test.Type(h.focused(), "grey van")
	h.tap("Back")
	h.tap("Report a sighting")
	what := h.entry("e.g. 2 CBSA officers, unmarked van")
	if what.Text != "grey van" {
		t.Fatalf("draft lost: What is %q", what.Text)
	}
	if h.focused() != h.entry("e.g. Queen & Dunn, outside the pharmacy") {
		t.Error("with What filled in, focus is not in Where")
	}
	test.Type(h.focused(), "Dufferin Mall")
	h.tap("Send report")
	h.waitFor("sent", func() bool { return h.ui.cur.title == "Sighting" })
	h.ui.showReport(z)
	if got := h.entry("e.g. 2 CBSA officers, unmarked van").Text; got != "" {
		t.Errorf("the form still holds the sent report: %q", got)
	}
}

// 6. A report sent while no member is connected says it is not delivered
// yet, until a member is connected.
func TestUndeliveredReport(t *testing.T) {
	h := newHarness(t, Options{})
	z := h.zone("Parkdale", "member")
	h.unlocked()
	h.tap("Report a sighting")
	test.Type(h.focused(), "grey van")
	key(h.focused(), fyne.KeyReturn)
	test.Type(h.focused(), "Dufferin Mall")
	key(h.focused(), fyne.KeyReturn)
	h.waitFor("sent", func() bool { return h.ui.cur.title == "Sighting" })
	const warn = "Not delivered yet: no member is connected; it will be sent when one is. Use your phone tree or hotline now."
	h.label(warn)
	if err := h.fake.SetPeers(z.ID, []string{"12D3KooWPeerA"}); err != nil {
		t.Fatal(err)
	}
	h.ui.refresh()
	if h.hasLabel(warn) {
		t.Error("still not delivered after a member connected")
	}
	// With a member connected, a report never shows the warning.
	h.tap("Back")
	h.tap("Report a sighting")
	test.Type(h.focused(), "two cars")
	key(h.focused(), fyne.KeyReturn)
	test.Type(h.focused(), "King St")
	key(h.focused(), fyne.KeyReturn)
	h.waitFor("sent", func() bool { return h.ui.cur.title == "Sighting" && len(h.ui.alerts) == 2 })
	if h.hasLabel(warn) {
		t.Error("a report sent with a member connected says it is not delivered")
	}
}

// 7. Actions give visible feedback; errors are in the member's words.
func TestActionFeedback(t *testing.T) {
	h := newHarness(t, Options{})
	z := h.zone("Parkdale", "organizer")
	h.unlocked()
	// Own report: no "I see it too", a line saying it is one's own.
	h.tap("Report a sighting")
	test.Type(h.focused(), "grey van")
	key(h.focused(), fyne.KeyReturn)
	test.Type(h.focused(), "Dufferin Mall")
	key(h.focused(), fyne.KeyReturn)
	h.waitFor("sent", func() bool { return h.ui.cur.title == "Sighting" })
	h.label("You sent this report.")
	if h.findButton("I see it too") != nil {
		t.Error("\"I see it too\" offered on one's own report")
	}
	// Someone else's: confirmed once, then marked.
	h.receive(sighting(z.ID, "s1", "", 1, false))
	h.ui.showAlert("s1")
	h.tap("I see it too")
	h.waitFor("confirmed", func() bool { return h.hasLabel("You confirmed this sighting.") })
	if h.findButton("I see it too") != nil {
		t.Error("\"I see it too\" still offered after confirming")
	}
	// A callout answer is marked.
	h.receive(callout(z.ID, "c1", false))
	h.ui.showAlert("c1")
	h.tap("On my way")
	h.waitFor("answer", func() bool { return h.hasLabel("Your answer: On my way") })
	if b := h.button("On my way"); b.Importance != widget.SuccessImportance || b.Icon == nil {
		t.Error("the chosen answer is not marked")
	}
	// Copy invite text says it copied.
	h.ui.showInvite(z)
	h.tap("Create invite")
	h.waitFor("invite", func() bool { return h.findButton("Copy invite text") != nil })
	h.tap("Copy invite text")
	h.label("Copied. Paste it into a private message to the person you invite.")
	// A used invite: the message is the app's, without English internals.
	code := h.fa.Clipboard().Content()
	if _, err := h.fake.Join(context.Background(), code); err != nil {
		t.Fatal(err)
	}
	h.ui.showJoin()
	h.entryAt(0).SetText(code)
	h.tap("Join")
	h.waitFor("join error", func() bool { return h.hasLabel("This invite is not valid or has expired. Ask for a new one.") })
	for _, l := range h.labels() {
		if strings.Contains(l, "invite code is not valid") {
			t.Errorf("raw error shown: %q", l)
		}
	}
}

// 8. Without a notification service the window comes forward with the
// alert, and Settings says notifications cannot be delivered.
func TestNotificationFallback(t *testing.T) {
	h := newHarness(t, Options{Notifications: func() bool { return false }})
	z := h.zone("Parkdale", "member")
	h.unlocked()
	test.AssertNotificationSent(t, nil, func() { h.receive(sighting(z.ID, "v1", "verified", 2, false)) })
	if h.ui.inApp != 1 {
		t.Fatalf("%d in-app alerts, want 1", h.ui.inApp)
	}
	h.label("A new alert arrived in Parkdale. This computer cannot show notifications, so Lookout came to the front.")
	h.tap("Open it")
	if h.ui.cur.title != "Sighting" {
		t.Errorf("Open it shows %q", h.ui.cur.title)
	}
	h.ui.showSettings()
	h.label("This desktop cannot show notifications (no notification service). New alerts bring the Lookout window to the front instead; keep it open.")
}

// 11. At desktop width the content stays at most maxContentWidth wide.
func TestDesktopWidthCapped(t *testing.T) {
	h := newHarness(t, Options{})
	h.zone("Parkdale", "member")
	h.unlocked()
	h.ui.w.Resize(fyne.NewSize(1280, 800))
	if w := h.button("Report a sighting").Size().Width; w > maxContentWidth {
		t.Errorf("Report is %v wide at desktop width, want at most %d", w, maxContentWidth)
	}
}

// 11. The invite text box shows every line of a long code at phone width
// (codes naming several members' nodes run to hundreds of characters).
func TestInviteTextFits(t *testing.T) {
	h := newHarness(t, Options{})
	for _, n := range []int{40, 300, 600, 900, 1500} {
		code := "lk1-" + strings.Repeat("aB3-xQ9_", n/8)
		box := container.NewVBox()
		h.ui.inviteResult(box, api.InviteResponse{Code: code, Expires: testNow.Add(time.Hour)}, "member")
		h.ui.w.SetContent(container.NewVScroll(container.NewPadded(box)))
		h.ui.w.Resize(fyne.NewSize(320, 700))
		var e *widget.Entry
		for _, o := range test.LaidOutObjects(box) {
			if x, ok := o.(*widget.Entry); ok {
				e = x
			}
		}
		// The same text wrapped the same way in a label of the box's width
		// is as tall as the box must be.
		l := widget.NewLabel(code)
		l.Wrapping = fyne.TextWrapBreak
		l.Resize(e.Size())
		if need := l.MinSize().Height; e.Size().Height < need {
			t.Errorf("%d characters: the box is %v high, its text %v", len(code), e.Size().Height, need)
		}
	}
}

// Issue 14 point 13: the language is chosen on the first screen, before
// anything else, and remembered.
func TestLanguageFirst(t *testing.T) {
	h := newHarness(t, Options{})
	h.fa.Preferences().SetString(prefLanguage, "")
	h.ui.Start()
	h.label(chooseLanguage)
	h.tap("Español")
	if h.ui.cur.title != "Le damos la bienvenida a Lookout" {
		t.Errorf("after choosing Spanish the screen is %q", h.ui.cur.title)
	}
	if got := h.fa.Preferences().String(prefLanguage); got != "es" {
		t.Errorf("language remembered as %q, want es", got)
	}
	// Once chosen, it is not asked again.
	h.ui.first()
	if h.hasLabel(chooseLanguage) {
		t.Error("the language is asked again")
	}
}

// Issue 18 point 15: only PNG and JPEG are decoded; a 16-byte TIFF that
// claims a huge image is refused before any decoder reserves memory.
func TestDecodeQROnlyPNGAndJPEG(t *testing.T) {
	tiff := []byte("II*\x00\x08\x00\x00\x00\x01\x00\x00\x01\x04\x00\xff\xff")
	for name, b := range map[string][]byte{"tiff": tiff, "bmp": []byte("BM\x00\x00\x00\x00"), "gif": []byte("GIF89a\xff\xff\xff\xff")} {
		if _, err := decodeQR(bytes.NewReader(b)); err == nil || !strings.Contains(err.Error(), "not a PNG or JPEG") {
			t.Errorf("%s: %v, want not a PNG or JPEG", name, err)
		}
	}
}

// Starting under a C locale does not make Fyne log a parse error.
func TestPrepareLocale(t *testing.T) {
	for _, k := range []string{"LANGUAGE", "LC_ALL", "LC_MESSAGES"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("LANG", "C.UTF-8")
	PrepareLocale()
	if got := os.Getenv("LANGUAGE"); got != "en" {
		t.Errorf("LANGUAGE = %q under C.UTF-8, want en", got)
	}
	t.Setenv("LANGUAGE", "")
	os.Unsetenv("LANGUAGE")
	t.Setenv("LANG", "fr_CA.UTF-8")
	PrepareLocale()
	if got := os.Getenv("LANGUAGE"); got != "" {
		t.Errorf("LANGUAGE = %q under fr_CA, want it left unset", got)
	}
}

// 9. The mouse wheel scrolls the page over a passphrase field too.
func TestWheelOverPassphrase(t *testing.T) {
	h := newHarness(t, Options{})
	h.zone("Parkdale", "member")
	h.unlocked()
	h.ui.showSettings()
	h.ui.w.Resize(fyne.NewSize(380, 400))
	pass := h.entryAt(0)
	h.ui.w.Canvas().Focus(pass)
	test.Type(pass, "a passphrase long enough to scroll its field sideways")
	at := fyne.CurrentApp().Driver().AbsolutePositionForObject(pass).Add(fyne.NewPos(20, 10))
	if at.Y > 400 {
		h.ui.scroll.ScrollToOffset(fyne.NewPos(0, at.Y-200))
		at = fyne.CurrentApp().Driver().AbsolutePositionForObject(pass).Add(fyne.NewPos(20, 10))
	}
	before := h.ui.scroll.Offset.Y
	test.Scroll(h.ui.w.Canvas(), at, 0, -40)
	if h.ui.scroll.Offset.Y <= before {
		t.Errorf("wheel over a passphrase field left the page at %v", h.ui.scroll.Offset.Y)
	}
	if h.ui.w.Content().MinSize().Width > 320 {
		t.Errorf("a long passphrase makes the screen %v wide", h.ui.w.Content().MinSize().Width)
	}
}
