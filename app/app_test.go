package app

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"image/png"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"lookout/node/api"
	"lookout/node/control/controltest"
	"lookout/node/passphrase"
	"lookout/node/reach"
	"lookout/protocol"
)

func TestFirstRun(t *testing.T) {
	h := newHarness(t, Options{})
	h.ui.Start()
	if h.ui.cur.title != "Welcome to Lookout" {
		t.Fatalf("first screen is %q, want the first-run screen", h.ui.cur.title)
	}
	test.AssertRendersToMarkup(t, "firstrun.xml", h.ui.w.Canvas())
	name, pass, confirm := h.entryAt(0), h.entryAt(1), h.entryAt(2)
	test.Type(name, "Amira")

	h.tap("Continue")
	h.label("Choose a passphrase.")

	test.Type(pass, "short")
	test.Type(confirm, "short")
	h.tap("Continue")
	h.label("Use at least 8 characters for the passphrase.")

	pass.SetText(testPass)
	confirm.SetText(testPass + "x")
	h.tap("Continue")
	h.label("The two passphrases are different. Type them again.")
	if name.Text != "Amira" || pass.Text != testPass {
		t.Errorf("typed text lost after an error: name %q", name.Text)
	}
	if h.prof.Initialized() {
		t.Fatal("identity created despite mismatched passphrases")
	}

	confirm.SetText(testPass)
	h.tap("Continue")
	h.waitFor("welcome screen", func() bool { return h.ui.cur.title == "Get started" })
	if h.prof.name != "Amira" || h.prof.pass != testPass || !h.prof.unlocked {
		t.Errorf("profile: name %q, passphrase set %v, unlocked %v", h.prof.name, h.prof.pass == testPass, h.prof.unlocked)
	}
	if pass.Text != "" || confirm.Text != "" {
		t.Error("passphrase left in the entries after creating the identity")
	}
	for _, b := range []string{"Join with an invite", "Create a zone"} {
		h.button(b)
	}
	if h.findButton("Try a practice zone") != nil {
		t.Error("practice button shown without a practice starter")
	}
	test.AssertRendersToMarkup(t, "welcome.xml", h.ui.w.Canvas())
}

func TestUnlockWrongPassphrase(t *testing.T) {
	h := newHarness(t, Options{})
	h.zone("Parkdale", "organizer")
	h.prof.init, h.prof.pass = true, testPass
	h.ui.Start()
	test.AssertRendersToMarkup(t, "unlock.xml", h.ui.w.Canvas())
	h.tap("Unlock")
	h.label("Type your passphrase.")
	pass := h.entryAt(0)
	test.Type(pass, "wrong passphrase")
	h.tap("Unlock")
	h.waitFor("wrong passphrase message", func() bool { return h.hasLabel("Wrong passphrase. Try again.") })
	if pass.Text != "wrong passphrase" {
		t.Errorf("typed passphrase lost: %q", pass.Text)
	}
	pass.SetText(testPass)
	h.tap("Unlock")
	h.waitFor("zone list", func() bool { return h.ui.cur.title == "Your zones" })
	h.button("Parkdale")
}

func TestCreateZone(t *testing.T) {
	h := newHarness(t, Options{})
	h.unlocked()
	h.tap("Create a zone")
	h.tap("Create zone")
	h.label("Give the zone a name.")
	test.Type(h.entry("For example: Parkdale"), strings.Repeat("x", protocol.MaxZoneNameLen+1))
	h.tap("Create zone")
	h.label(`"Zone name" is too long: at most 64 characters.`)
	h.entry("For example: Parkdale").SetText("Parkdale")
	h.tap("Create zone")
	h.waitFor("invite screen", func() bool { return h.ui.cur.title == "Invite to Parkdale" })
	if zs := h.fake.Zones(); len(zs) != 1 || zs[0].Name != "Parkdale" {
		t.Fatalf("zones after create: %+v", zs)
	}
	h.tap("Back")
	if h.ui.cur.title != "Your zones" {
		t.Errorf("back from the new zone's invite shows %q, want the zone list", h.ui.cur.title)
	}
}

func TestZoneListCounts(t *testing.T) {
	h := newHarness(t, Options{})
	z := h.zone("Parkdale", "member")
	h.zone("Little Portugal", "organizer")
	h.unlocked()
	h.receive(sighting(z.ID, "s1", "", 1, false))
	h.receive(sighting(z.ID, "s2", "", 1, false))
	if h.ui.unread[z.ID] != 2 {
		t.Errorf("unread = %d, want 2", h.ui.unread[z.ID])
	}
	h.label("2 active alerts · member")
	h.label("2 new")
	h.label("0 active alerts · organizer")
	test.AssertRendersToMarkup(t, "zones.xml", h.ui.w.Canvas())
	h.tap("Parkdale")
	if h.ui.unread[z.ID] != 0 {
		t.Errorf("unread after opening the feed = %d, want 0", h.ui.unread[z.ID])
	}
	h.tap("Back")
	if h.hasLabel("2 new") {
		t.Error("unread count still shown after the feed was opened")
	}
}

func TestStateLabels(t *testing.T) {
	loadTranslations("en")
	for _, c := range []struct {
		a    api.Alert
		want string
		imp  widget.Importance
	}{
		{api.Alert{Kind: "sighting", State: string(protocol.StateUnconfirmed), Confirmations: intp(1)}, "UNCONFIRMED", widget.MediumImportance},
		{api.Alert{Kind: "sighting", State: string(protocol.StateCorroborated), Confirmations: intp(3)}, "CORROBORATED: 3 witnesses", widget.WarningImportance},
		{api.Alert{Kind: "sighting", State: string(protocol.StateVerified), Confirmations: intp(2)}, "VERIFIED", widget.DangerImportance},
		{api.Alert{Kind: "sighting", State: string(protocol.StateCleared)}, "CLEARED", widget.SuccessImportance},
		{api.Alert{Kind: "sighting", State: string(protocol.StateExpired)}, "EXPIRED", widget.LowImportance},
		{api.Alert{Kind: "callout", State: string(protocol.StateActive)}, "CALLOUT ACTIVE", widget.DangerImportance},
		{api.Alert{Kind: "callout", State: string(protocol.StateAwaitingCosign)}, "AWAITING A SECOND ORGANIZER", widget.WarningImportance},
	} {
		l := stateLabel(c.a)
		if l.Text != c.want || l.Importance != c.imp {
			t.Errorf("state %s: label %q importance %v, want %q %v", c.a.State, l.Text, l.Importance, c.want, c.imp)
		}
	}
}

func TestFeedOrderAndDrill(t *testing.T) {
	h := newHarness(t, Options{})
	z := h.zone("Parkdale", "member")
	h.unlocked()
	h.receive(sighting(z.ID, "old-unconfirmed", "", 1, false))
	v := sighting(z.ID, "verified", "verified", 2, false)
	v.Sent = v.Sent.Add(-5 * time.Minute)
	h.receive(v)
	h.receive(sighting(z.ID, "drill-verified", "verified", 2, true))
	c := sighting(z.ID, "corroborated", "corroborated", 2, false)
	h.receive(c)
	h.receive(callout(z.ID, "callout", false))
	var ids []string
	for _, a := range h.ui.feedAlerts(z.ID) {
		ids = append(ids, a.ID)
	}
	// Real alerts first, every drill after them (api.SortByUrgency).
	want := "callout verified corroborated old-unconfirmed drill-verified"
	if got := strings.Join(ids, " "); got != want {
		t.Errorf("feed order %q, want %q", got, want)
	}
	h.tap("Parkdale")
	h.label("DRILL")
	h.label("CORROBORATED: 2 witnesses")
	if h.findButton("Callout") != nil {
		t.Error("a member sees the Callout button")
	}
	if h.findButton("Invite") != nil {
		t.Error("a member sees the Invite button")
	}
	test.AssertRendersToMarkup(t, "feed.xml", h.ui.w.Canvas())

	// An alert arriving while the reader is scrolled down keeps their place:
	// no card moves, Report stays put, and the new alert waits behind a
	// button in the fixed bar.
	h.ui.scroll.ScrollToOffset(fyne.NewPos(0, 120))
	report := h.button("Report a sighting")
	reportAt := fyne.CurrentApp().Driver().AbsolutePositionForObject(report)
	cardsAt := h.detailPositions()
	h.receive(sighting(z.ID, "new", "", 1, false))
	if h.ui.scroll.Offset.Y != 120 {
		t.Errorf("feed scrolled to %v after an update, want 120", h.ui.scroll.Offset.Y)
	}
	if got := h.detailPositions(); !slices.Equal(got, cardsAt) {
		t.Errorf("cards moved when an alert arrived: %v, were %v", got, cardsAt)
	}
	if got := fyne.CurrentApp().Driver().AbsolutePositionForObject(h.button("Report a sighting")); got != reportAt {
		t.Errorf("Report moved from %v to %v when an alert arrived", reportAt, got)
	}
	h.tap("1 new")
	if n := len(h.detailPositions()); n != 6 {
		t.Errorf("feed shows %d alerts after Show new, want 6", n)
	}
	if got := fyne.CurrentApp().Driver().AbsolutePositionForObject(h.button("Report a sighting")); got != reportAt {
		t.Errorf("Report moved from %v to %v after Show new", reportAt, got)
	}
}

// detailPositions are the positions of the feed's "Details" buttons.
func (h *harness) detailPositions() []fyne.Position {
	var ps []fyne.Position
	for _, o := range h.objects() {
		if b, ok := o.(*widget.Button); ok && b.Text == "Details" {
			ps = append(ps, fyne.CurrentApp().Driver().AbsolutePositionForObject(b))
		}
	}
	return ps
}

func TestNotifications(t *testing.T) {
	h := newHarness(t, Options{})
	z := h.zone("Parkdale", "member")
	h.unlocked()
	// Notifications are discreet: the OS keeps them in a history.
	discreet := fyne.NewNotification("Lookout", "New alert in Lookout")
	test.AssertNotificationSent(t, discreet, func() {
		h.receive(sighting(z.ID, "v1", "verified", 2, false))
	})
	test.AssertNotificationSent(t, nil, func() {
		h.receive(sighting(z.ID, "drill1", "verified", 2, true))
	})
	test.AssertNotificationSent(t, nil, func() {
		h.receive(sighting(z.ID, "u1", "unconfirmed", 1, false))
	})
	test.AssertNotificationSent(t, discreet, func() {
		h.receive(callout(z.ID, "c1", false))
	})
	test.AssertNotificationSent(t, nil, func() {
		h.receive(callout(z.ID, "c2", true))
	})
	// An update of an alert already notified does not notify again.
	test.AssertNotificationSent(t, nil, func() {
		a := sighting(z.ID, "v1", "verified", 3, false)
		h.receive(a)
	})
	// Notifications can be switched off.
	h.fa.Preferences().SetBool(prefNotifications, true)
	test.AssertNotificationSent(t, nil, func() {
		h.receive(sighting(z.ID, "v2", "verified", 2, false))
	})
}

func TestReportSendsSighting(t *testing.T) {
	h := newHarness(t, Options{})
	z := h.zone("Parkdale", "member")
	h.unlocked()
	h.tap("Parkdale")
	h.tap("Report a sighting")
	test.AssertRendersToMarkup(t, "report.xml", h.ui.w.Canvas())
	h.tap("Send report")
	h.label(`Fill in "What do you see?".`)

	what, where := h.entry("e.g. 2 CBSA officers, unmarked van"), h.entry("e.g. Queen & Dunn, outside the pharmacy")
	test.Type(what, strings.Repeat("v", protocol.MaxTextLen+1))
	test.Type(where, "Queen & Dunn")
	h.tap("Send report")
	h.label(`"What do you see?" is too long: at most 280 characters.`)
	if where.Text != "Queen & Dunn" {
		t.Errorf("where lost after an error: %q", where.Text)
	}
	what.SetText("2 officers \u202egnirts")
	h.tap("Send report")
	h.label(`"What do you see?" contains characters that cannot be sent. Remove them.`)

	what.SetText("2 CBSA officers, unmarked van")
	h.tap("Send report")
	h.waitFor("alert detail", func() bool { return h.ui.cur.title == "Sighting" })
	as, err := h.fake.Alerts(z.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 1 {
		t.Fatalf("fake has %d alerts, want 1", len(as))
	}
	a := as[0]
	if a.Kind != "sighting" || a.What != "2 CBSA officers, unmarked van" || a.Where != "Queen & Dunn" || a.Exercise || a.Size != 0 {
		t.Errorf("sent sighting %+v", a)
	}
	h.label("UNCONFIRMED")
	// Back goes to the feed, which shows the report.
	h.tap("Back")
	if h.ui.cur.title != "Parkdale" {
		t.Errorf("back from the sent report shows %q, want the feed", h.ui.cur.title)
	}
}

func TestReportAllFields(t *testing.T) {
	h := newHarness(t, Options{})
	z := h.zone("Parkdale", "member")
	h.unlocked()
	h.tap("Parkdale")
	h.tap("Report a sighting")
	h.entry("e.g. 2 CBSA officers, unmarked van").SetText("officers")
	h.entry("e.g. Queen & Dunn, outside the pharmacy").SetText("Queen & Dunn")
	for _, o := range h.objects() {
		if a, ok := o.(*widget.Accordion); ok {
			a.Open(0)
		}
	}
	h.entry("a number").SetText("many")
	h.tap("Send report")
	h.label(`"How many officers or vehicles" must be a whole number from 0 to 10000.`)
	h.entry("a number").SetText("3")
	h.entry("e.g. knocking on doors").SetText("knocking on doors")
	h.entry("e.g. vests marked CBSA").SetText("vests")
	h.entry("e.g. grey minivan, plate starts with B").SetText("grey minivan")
	h.tap("Send report")
	h.waitFor("alert detail", func() bool { return h.ui.cur.title == "Sighting" })
	as, _ := h.fake.Alerts(z.ID)
	if len(as) != 1 || as[0].Size != 3 || as[0].Activity != "knocking on doors" || as[0].Uniform != "vests" || as[0].Equipment != "grey minivan" {
		t.Errorf("sent sighting %+v", as)
	}
}

func TestCalloutOrganizersOnly(t *testing.T) {
	h := newHarness(t, Options{})
	z := h.zone("Parkdale", "organizer")
	h.zone("Junction", "verifier")
	h.unlocked()
	h.tap("Junction")
	if h.findButton("Callout") != nil {
		t.Error("a verifier sees the Callout button")
	}
	h.tap("Back")
	h.tap("Parkdale")
	h.tap("Callout")
	test.AssertRendersToMarkup(t, "callout.xml", h.ui.w.Canvas())
	h.tap("Send callout")
	h.label(`Fill in "Title".`)
	h.entry("e.g. Accompany family to hearing").SetText("Accompany family")
	h.entry("e.g. King & Dufferin").SetText("King & Dufferin")
	h.entry("a number").SetText("6")
	h.tap("Send callout")
	h.waitFor("callout detail", func() bool { return h.ui.cur.title == "Callout" })
	as, _ := h.fake.Alerts(z.ID)
	if len(as) != 1 || as[0].Kind != "callout" || as[0].Title != "Accompany family" || as[0].Need != 6 || as[0].Exercise {
		t.Fatalf("sent callout %+v", as)
	}
	h.label("On my way 0 · On scene 0 · Can't come 0 · Needed 6")
}

func TestAlertDetail(t *testing.T) {
	h := newHarness(t, Options{})
	z := h.zone("Parkdale", "verifier")
	h.unlocked()
	h.receive(sighting(z.ID, "s1", "", 1, false))
	h.tap("Parkdale")
	h.tap("Details")
	test.AssertRendersToMarkup(t, "sighting.xml", h.ui.w.Canvas())
	h.tap("I see it too")
	h.waitFor("verified", func() bool { return h.ui.alerts["s1"].State == "verified" })
	h.label("VERIFIED")
	h.label("2") // witnesses
	if got := h.ui.alerts["s1"].timeline; len(got) < 3 {
		t.Errorf("timeline %+v, want reported, witnesses and state change", got)
	}

	h.receive(callout(z.ID, "c1", false))
	h.tap("Back")
	h.waitFor("feed", func() bool { return h.ui.cur.title == "Parkdale" })
	h.ui.showAlert("c1")
	test.AssertRendersToMarkup(t, "callout-detail.xml", h.ui.w.Canvas())
	h.tap("On my way")
	h.waitFor("response", func() bool { return h.ui.alerts["c1"].Responders.EnRoute == 1 })
	h.label("On my way 1 · On scene 0 · Can't come 0 · Needed 6")
	if h.findButton("End callout") != nil {
		t.Error("a verifier can end another organizer's callout")
	}
}

// TestInviteLANChoice: the user chooses whether an invite carries this
// node's local network and VPN addresses (issue 18 point 4); off unless
// ticked.
func TestInviteLANChoice(t *testing.T) {
	h := newHarness(t, Options{})
	h.zone("Parkdale", "organizer")
	h.unlocked()
	h.tap("Parkdale")
	h.tap("Invite")
	var lan *widget.Check
	for _, o := range h.objects() {
		if c, ok := o.(*widget.Check); ok && c.Text == "Joiner on my network or VPN" {
			lan = c
		}
	}
	if lan == nil || lan.Checked {
		t.Fatalf("LAN choice %v, want an unticked box", lan)
	}
	test.Tap(lan)
	h.tap("Create invite")
	h.waitFor("invite", func() bool { return h.findButton("Copy invite text") != nil })
	code := ""
	for _, o := range h.objects() {
		if e, ok := o.(*widget.Entry); ok && strings.HasPrefix(e.Text, "lk1-") {
			code = e.Text
		}
	}
	if lan, ok := h.fake.InviteLAN(code); !ok || !lan {
		t.Errorf("invite %q asked with local addresses %v (known %v), want them once ticked", code, lan, ok)
	}
}

func TestInviteAndJoin(t *testing.T) {
	h := newHarness(t, Options{})
	z := h.zone("Parkdale", "organizer")
	h.unlocked()
	h.tap("Parkdale")
	h.tap("Invite")
	test.AssertRendersToMarkup(t, "invite.xml", h.ui.w.Canvas())
	h.tap("Create invite")
	h.waitFor("invite", func() bool { return h.findButton("Copy invite text") != nil })
	var code string
	var qr *canvas.Image
	for _, o := range h.objects() {
		switch o := o.(type) {
		case *widget.Entry:
			code = o.Text
		case *canvas.Image:
			if o.Image != nil && o.MinSize().Width >= 240 {
				qr = o
			}
		}
	}
	if !strings.HasPrefix(code, "lk1-") {
		t.Fatalf("invite text %q", code)
	}
	if qr == nil {
		t.Fatal("no QR code image shown")
	}
	if lan, ok := h.fake.InviteLAN(code); !ok || lan {
		t.Errorf("invite asked with local addresses %v (known %v), want none by default", lan, ok)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, qr.Image); err != nil {
		t.Fatal(err)
	}
	if got, err := decodeQR(&buf); err != nil || got != code {
		t.Errorf("QR code reads %q, %v; want the invite text (%d characters)", got, err, len(code))
	}
	h.tap("Copy invite text")
	if got := h.fa.Clipboard().Content(); got != code {
		t.Errorf("clipboard %q, want the invite", got)
	}

	// The fake member joins with its own invite as a verifier would.
	h.ui.home(screen{})
	h.ui.showJoin()
	test.AssertRendersToMarkup(t, "join.xml", h.ui.w.Canvas())
	h.tap("Join")
	h.label("Paste an invite first.")
	box := h.entry("lookout1:…")
	test.Type(box, "lookout1:not-an-invite")
	h.tap("Join")
	h.waitFor("invalid invite message", func() bool {
		for _, l := range h.labels() {
			if strings.HasPrefix(l, "This invite is not valid or has expired. Ask for a new one.") {
				return true
			}
		}
		return false
	})
	if box.Text != "lookout1:not-an-invite" {
		t.Errorf("typed invite lost: %q", box.Text)
	}
	box.SetText(code)
	h.tap("Join")
	h.waitFor("feed of the joined zone", func() bool { return h.ui.cur.title == z.Name })
}

func TestDecodeQRRejectsNonQR(t *testing.T) {
	if _, err := decodeQR(strings.NewReader("not an image")); err == nil {
		t.Error("decodeQR accepted bytes that are not an image")
	}
}

func TestMembers(t *testing.T) {
	h := newHarness(t, Options{})
	z := h.zone("Parkdale", "organizer")
	if _, err := h.fake.AddMember(z.ID, api.Member{ID: "d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0", Name: "Bea", CanRekey: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.fake.AddMember(z.ID, api.Member{ID: "e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0", Name: "Chen", CanRekey: true}); err != nil {
		t.Fatal(err)
	}
	h.unlocked()
	h.tap("Parkdale")
	h.tap("Members")
	test.AssertRendersToMarkup(t, "members.xml", h.ui.w.Canvas())
	h.label("Amira (you)")
	test.Tap(h.button("Make verifier"))
	h.waitFor("promotion", func() bool { return h.hasLabel("Bea is now a verifier.") })
	ms, _ := h.fake.Members(z.ID)
	for _, m := range ms {
		if m.Name == "Bea" && m.Role != "verifier" {
			t.Errorf("Bea is %s, want verifier", m.Role)
		}
	}
	h.tap("Remove")
	// One confirmation, whose button names the action.
	h.tapDialog("Remove")
	h.waitFor("removal", func() bool { return h.hasLabel("removed") })
	ms, _ = h.fake.Members(z.ID)
	removed := 0
	for _, m := range ms {
		if m.Removed {
			removed++
		}
	}
	if removed != 1 {
		t.Errorf("%d members removed, want 1", removed)
	}

	// A member sees the list without the organizer's buttons.
	if err := h.fake.SetRole(z.ID, "member"); err != nil {
		t.Fatal(err)
	}
	h.ui.render()
	if h.findButton("Remove") != nil || h.findButton("Make organizer") != nil {
		t.Error("a member sees promote or remove buttons")
	}
}

func TestSettings(t *testing.T) {
	h := newHarness(t, Options{})
	h.zone("Parkdale", "organizer")
	h.unlocked()
	h.tap("Settings")
	test.AssertRendersToMarkup(t, "settings.xml", h.ui.w.Canvas())
	if h.hasLabel("/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWFakePeer") {
		t.Error("network addresses not folded away")
	}
	// The panic wipe comes first, under "Safety".
	if ls := h.labels(); len(ls) < 1 || ls[0] != "Safety" {
		t.Errorf("settings start with %q, want Safety", ls[:1])
	}
	for _, o := range h.objects() {
		if a, ok := o.(*widget.Accordion); ok {
			a.Open(0)
		}
	}
	h.label("/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWFakePeer")
	h.label("Parkdale: 0 members connected")

	// Passphrase change: a wrong current passphrase is an inline message.
	old, nw, confirm := h.entryAt(0), h.entryAt(1), h.entryAt(2)
	old.SetText("not it at all")
	nw.SetText("a new passphrase")
	confirm.SetText("a new passphrase")
	h.tap("Change passphrase")
	h.label("This passphrase is too easy to guess. Use four or more unrelated words, or tap “Suggest a passphrase”.")
	nw.SetText("a new passphrase for the winter")
	confirm.SetText("a new passphrase for the winter")
	h.tap("Change passphrase")
	h.waitFor("wrong passphrase", func() bool { return h.hasLabel("The current passphrase is wrong.") })
	if nw.Text != "a new passphrase for the winter" {
		t.Error("typed passphrase lost after an error")
	}
	old.SetText(testPass)
	h.tap("Change passphrase")
	h.waitFor("changed", func() bool { return h.hasLabel("Passphrase changed.") })
	if h.prof.pass != "a new passphrase for the winter" {
		t.Error("passphrase not changed")
	}

	// Notifications off.
	for _, o := range h.objects() {
		if c, ok := o.(*widget.Check); ok && c.Text == "Notify me" {
			test.Tap(c)
		}
	}
	if !h.fa.Preferences().Bool(prefNotifications) {
		t.Error("notifications still on after unticking")
	}

	// Language.
	for _, o := range h.objects() {
		if s, ok := o.(*widget.Select); ok {
			s.SetSelected("Français")
			break
		}
	}
	if h.ui.cur.title != "Réglages" {
		t.Fatalf("after choosing French the screen is %q", h.ui.cur.title)
	}
	h.label("Sécurité")
	test.AssertRendersToMarkup(t, "settings-fr.xml", h.ui.w.Canvas())
	for _, o := range h.objects() {
		if s, ok := o.(*widget.Select); ok {
			s.SetSelected("Español")
			break
		}
	}
	h.label("Seguridad")
	for _, o := range h.objects() {
		if s, ok := o.(*widget.Select); ok {
			s.SetSelected("English")
			break
		}
	}

	// Panic wipe, behind one confirmation.
	h.tap("Wipe everything now")
	h.tap("Cancel")
	if h.prof.wiped {
		t.Fatal("wiped without confirmation")
	}
	h.tap("Wipe everything now")
	h.tap("Wipe everything")
	if !h.prof.wiped || h.ui.b != nil {
		t.Fatal("not wiped after confirmation")
	}
	// Nothing chosen in the app stays in the plain-text preferences.
	if h.fa.Preferences().String(prefLanguage) != "" || h.fa.Preferences().Bool(prefNotifications) {
		t.Error("preferences survive the wipe")
	}
	h.button("Français")
	h.tap("English")
	if h.ui.cur.title != "Welcome to Lookout" {
		t.Errorf("after the wipe and the language the screen is %q, want first run", h.ui.cur.title)
	}
}

func TestNoPeersWarning(t *testing.T) {
	h := newHarness(t, Options{})
	z := h.zone("Parkdale", "member")
	h.unlocked()
	const warning = "No other member is connected right now: what you send may not reach anyone. Use your phone tree or hotline too."
	h.label(warning)
	h.tap("Parkdale")
	h.label(warning)
	if err := h.fake.SetPeers(z.ID, []string{"12D3KooWPeerA"}); err != nil {
		t.Fatal(err)
	}
	h.ui.refresh()
	if h.hasLabel(warning) {
		t.Error("no-peers warning shown while a peer is connected")
	}
}

// TestClockWarningOnMainScreens: the node's clock warning is shown in red
// on the zone list, the feed and the report form, not only in Settings,
// and goes once the clock is right.
func TestClockWarningOnMainScreens(t *testing.T) {
	h := newHarness(t, Options{})
	h.zone("Parkdale", "member")
	const node = "this computer's clock is about 5 minutes ahead of the clocks of 3 members"
	h.fake.Self.Health = &api.Health{ClockWarning: node}
	h.unlocked()
	const warning = "Clock warning: " + node
	if l := h.label(warning); l.Importance != widget.DangerImportance {
		t.Errorf("zone list clock warning importance %v, want danger", l.Importance)
	}
	h.tap("Parkdale")
	h.label(warning)
	h.tap("Report a sighting")
	h.label(warning)
	h.fake.Self.Health = &api.Health{}
	h.ui.showZones()
	if h.hasLabel(warning) {
		t.Error("clock warning still shown once the node has none")
	}
}

// practiceFake is a practice zone made of a second fake.
type practiceFake struct {
	*controltest.Fake
	closed atomic.Bool
}

func (p *practiceFake) Close() error { p.closed.Store(true); return nil }

func TestPracticeZone(t *testing.T) {
	var started *practiceFake
	var script PracticeScript
	h := newHarness(t, Options{Practice: func(ctx context.Context, s PracticeScript) (PracticeZone, error) {
		script = s
		started = &practiceFake{Fake: &controltest.Fake{}}
		if _, err := started.CreateZone(ctx, s.Zone); err != nil {
			return nil, err
		}
		return started, nil
	}})
	h.unlocked()
	h.tap("Try a practice zone")
	h.tap("Start practice")
	h.waitFor("practice zone", func() bool { return h.ui.practice != nil && h.ui.cur.title == "Your zones" })
	if script.SightingWhat == "" || script.Zone != "Practice zone" {
		t.Errorf("practice script %+v", script)
	}
	h.label("PRACTICE")
	h.tap("Practice zone")
	h.tap("Report a sighting")
	h.entry("e.g. 2 CBSA officers, unmarked van").SetText("practice officers")
	h.entry("e.g. Queen & Dunn, outside the pharmacy").SetText("Main St")
	h.tap("Send report")
	h.waitFor("sent", func() bool { return h.ui.cur.title == "Sighting" })
	as, _ := started.Alerts("Practice zone")
	if len(as) != 1 || !as[0].Exercise {
		t.Errorf("practice report %+v, want one exercise", as)
	}
	h.tap("Back")
	h.tap("Back")
	h.tap("Leave practice")
	h.waitFor("practice closed", func() bool { return started.closed.Load() })
	if h.ui.b != Backend(h.fake) {
		t.Error("the member's own node is not back on screen")
	}
}

func TestExpiredByClock(t *testing.T) {
	h := newHarness(t, Options{})
	z := h.zone("Parkdale", "member")
	h.unlocked()
	a := sighting(z.ID, "s1", "verified", 2, false)
	a.Expires = testNow.Add(-time.Minute)
	h.receive(a)
	h.label("0 active alerts · member")
	h.tap("Parkdale")
	h.label("EXPIRED")
	h.tap("Details")
	if h.findButton("I see it too") != nil {
		t.Error("an expired sighting can still be confirmed")
	}
}

func TestCosign(t *testing.T) {
	h := newHarness(t, Options{})
	z := h.zone("Parkdale", "organizer")
	on := true
	if _, err := h.fake.SetSettings(context.Background(), api.SettingsRequest{Zone: z.ID, Cosign: &on}); err != nil {
		t.Fatal(err)
	}
	h.unlocked()
	c := callout(z.ID, "c1", false)
	c.State = ""
	test.AssertNotificationSent(t, nil, func() { h.receive(c) })
	if got := h.ui.alerts["c1"].State; got != "awaiting-cosign" {
		t.Fatalf("callout state %q, want awaiting-cosign", got)
	}
	h.ui.showAlert("c1")
	h.label("AWAITING A SECOND ORGANIZER")
	if h.findButton("On my way") != nil {
		t.Error("a callout awaiting its co-signature can be answered")
	}
	h.tap("Co-sign this callout")
	h.waitFor("co-signed", func() bool { return h.ui.alerts["c1"].State == "active" })
	h.label("CALLOUT ACTIVE")
	h.button("On my way")
}

// TestNarrowWindow checks that no screen, in any language, needs more
// width than a small phone gives.
func TestNarrowWindow(t *testing.T) {
	const width = 320
	h := newHarness(t, Options{Practice: func(context.Context, PracticeScript) (PracticeZone, error) { return nil, context.Canceled }})
	z := h.zone("A zone with a rather long neighbourhood name", "organizer")
	if _, err := h.fake.AddMember(z.ID, api.Member{ID: "d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0", Name: "Bea"}); err != nil {
		t.Fatal(err)
	}
	h.unlocked()
	h.receive(sighting(z.ID, "s1", "corroborated", 12, true))
	h.receive(callout(z.ID, "c1", false))
	for _, code := range []string{"en", "fr", "es"} {
		loadTranslations(code)
		for _, s := range []struct {
			name string
			show func()
		}{
			{"first run", h.ui.showFirstRun},
			{"unlock", h.ui.showUnlock},
			{"welcome", h.ui.showWelcome},
			{"zones", h.ui.showZones},
			{"feed", func() { h.ui.showFeed(z) }},
			{"sighting", func() { h.ui.showAlert("s1") }},
			{"callout", func() { h.ui.showAlert("c1") }},
			{"report", func() { h.ui.showReport(z) }},
			{"callout form", func() { h.ui.showCallout(z) }},
			{"invite", func() { h.ui.showInvite(z) }},
			{"join", h.ui.showJoin},
			{"members", func() { h.ui.showMembers(z) }},
			{"settings", h.ui.showSettings},
			{"safe places", func() { h.ui.showPlaces(z) }},
			{"rights", func() { h.ui.showRights("", "") }},
		} {
			s.show()
			if w := h.ui.w.Content().MinSize().Width; w > width {
				t.Errorf("%s: %s needs %v wide, more than %d", code, s.name, w, width)
			}
		}
	}
}

// TestQuickReport sends a report from the zone list in the fewest steps:
// one tap, two fields, Enter.
func TestQuickReport(t *testing.T) {
	h := newHarness(t, Options{})
	z := h.zone("Parkdale", "member")
	h.unlocked()
	h.tap("Report a sighting")
	test.Type(h.entry("e.g. 2 CBSA officers, unmarked van"), "2 officers")
	where := h.entry("e.g. Queen & Dunn, outside the pharmacy")
	test.Type(where, "Queen & Dunn")
	where.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	h.waitFor("alert detail", func() bool { return h.ui.cur.title == "Sighting" })
	if as, _ := h.fake.Alerts(z.ID); len(as) != 1 || as[0].What != "2 officers" || as[0].Where != "Queen & Dunn" {
		t.Errorf("sent %+v", as)
	}
}

func TestDecodeQRRefusesHugeImage(t *testing.T) {
	// A PNG signature and header chunk claiming 100000×100000 pixels.
	chunk := []byte("IHDR\x00\x01\x86\xa0\x00\x01\x86\xa0\x08\x02\x00\x00\x00")
	hdr := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0d"), chunk...)
	hdr = binary.BigEndian.AppendUint32(hdr, crc32.ChecksumIEEE(chunk))
	if _, err := decodeQR(bytes.NewReader(hdr)); err == nil || !strings.Contains(err.Error(), "too large") {
		t.Errorf("decodeQR of a huge image: %v, want too large", err)
	}
}

// TestFirstRunRetry: when the node does not start after the identity was
// created, Continue tries again without creating a second identity.
func TestFirstRunRetry(t *testing.T) {
	h := newHarness(t, Options{})
	h.prof.failStarts = 1
	h.ui.Start()
	h.entryAt(1).SetText(testPass)
	h.entryAt(2).SetText(testPass)
	h.tap("Continue")
	h.waitFor("start failure", func() bool {
		return h.hasLabel("Could not start Lookout. If Lookout is already open (here or in a terminal), close it and try again; the details are in Lookout's log.")
	})
	// The English detail goes to the log, never to the screen (issue 19).
	for _, l := range h.labels() {
		if strings.Contains(l, "address already in use") {
			t.Errorf("raw error shown: %q", l)
		}
	}
	h.tap("Continue")
	h.waitFor("welcome", func() bool { return h.ui.cur.title == "Get started" })
	if h.prof.creates != 1 {
		t.Errorf("identity created %d times, want once", h.prof.creates)
	}
}

// TestCharactersNotBytes: the first-run name and the report form count
// characters as the wire does (64 "é" are 128 bytes), and the name is
// refused as every node would refuse it (direction overrides, lines).
func TestCharactersNotBytes(t *testing.T) {
	h := newHarness(t, Options{})
	h.ui.Start()
	name, pass, confirm := h.entryAt(0), h.entryAt(1), h.entryAt(2)
	pass.SetText(testPass)
	confirm.SetText(testPass)
	for _, bad := range []string{strings.Repeat("é", protocol.MaxNameLen+1), "Am\u202eira", "two\nlines"} {
		name.SetText(bad)
		h.tap("Continue")
		h.label("The name can have at most 64 characters on one line.")
		if h.prof.Initialized() {
			t.Fatalf("identity created with name %q", bad)
		}
	}
	name.SetText(strings.Repeat("é", protocol.MaxNameLen))
	h.tap("Continue")
	h.waitFor("welcome screen", func() bool { return h.ui.cur.title == "Get started" })
	if h.prof.name != strings.Repeat("é", protocol.MaxNameLen) {
		t.Errorf("name %q, want 64 é", h.prof.name)
	}

	z := h.zone("Parkdale", "member")
	h.ui.showZones()
	h.tap("Parkdale")
	h.tap("Report a sighting")
	what, where := h.entry("e.g. 2 CBSA officers, unmarked van"), h.entry("e.g. Queen & Dunn, outside the pharmacy")
	what.SetText(strings.Repeat("é", protocol.MaxTextLen+1))
	where.SetText("Queen & Dunn")
	h.tap("Send report")
	h.label(`"What do you see?" is too long: at most 280 characters.`)
	what.SetText(strings.Repeat("é", protocol.MaxTextLen)) // 560 bytes
	h.tap("Send report")
	h.waitFor("alert detail", func() bool { return h.ui.cur.title == "Sighting" })
	if as, err := h.fake.Alerts(z.ID); err != nil || len(as) != 1 || as[0].What != strings.Repeat("é", protocol.MaxTextLen) {
		t.Errorf("alerts %+v, %v; want the 280-character report", as, err)
	}
}

// TestSettingsConnection: Settings → Connection says in words whether the
// node is reachable, through how many members' nodes when behind a
// router, and shows the node's clock warning.
func TestSettingsConnection(t *testing.T) {
	for _, c := range []struct {
		st   api.Status
		want []string
	}{
		{api.Status{Reachability: reach.Public}, []string{"Reachable from the internet: members at home behind routers can connect through this node."}},
		{api.Status{Reachability: reach.Private, Connections: []api.Connection{{Peer: "a", Via: "direct"}, {Peer: "b", Via: "direct"}, {Peer: "c", Via: "relayed"}}},
			[]string{"Behind a router: connected through 2 members' nodes."}},
		{api.Status{Reachability: reach.Private}, []string{"Behind a router: connected through 0 members' nodes."}},
		{api.Status{Reachability: reach.Unknown, Health: &api.Health{ClockWarning: "this computer's clock is 3 minutes ahead of the zone's"}},
			[]string{"Reachability not known yet: it is checked with zone members once connected.", "Clock warning: this computer's clock is 3 minutes ahead of the zone's"}},
	} {
		h := newHarness(t, Options{})
		h.zone("Parkdale", "member")
		c.st.MemberID, c.st.Name = h.fake.Self.MemberID, h.fake.Self.Name
		h.fake.Self = c.st
		h.unlocked()
		h.tap("Settings")
		for _, w := range c.want {
			h.label(w)
		}
		if c.st.Health == nil && h.hasLabel("Clock warning") {
			t.Error("clock warning shown without one")
		}
		if c.st.Health != nil {
			test.AssertRendersToMarkup(t, "settings-clock.xml", h.ui.w.Canvas())
		}
	}
}

// TestAlertDetailReports: an incident's detail lists each report with its
// own time, text and size, and what members said about it.
func TestAlertDetailReports(t *testing.T) {
	h := newHarness(t, Options{})
	z := h.zone("Parkdale", "member")
	h.unlocked()
	me := h.fake.Status().MemberID
	a := sighting(z.ID, "s1", "corroborated", 2, false)
	a.Sightings = []string{"s1", "s2", "s3"}
	a.Reports = []api.Report{
		{ID: "s1", Sent: testNow.Add(-5 * time.Minute), Sender: "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0", What: "2 officers at the door", Where: "Queen & Dunn", Size: 2},
		{ID: "s2", Sent: testNow.Add(-3 * time.Minute), Sender: me, What: "Now 6 officers", Where: "queen and dunn", Size: 6},
		{ID: "s3", Sent: testNow.Add(-2 * time.Minute), Sender: "d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0", What: "a van", Where: "Dunn Ave", Withdrawn: true},
	}
	a.Notes = []api.Note{
		{Sent: testNow.Add(-2 * time.Minute), Sender: "d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0", Kind: "withdrawn"},
		{Sent: testNow.Add(-1 * time.Minute), Sender: "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0", Kind: "left", Note: "van drove off"},
	}
	h.receive(a)
	h.ui.showAlert("s1")
	h.label("3 reports")
	for _, want := range []string{
		"14:25  b0b0b0b0b0b0: 2 officers at the door at Queen & Dunn · 2 agents",
		"14:27  You: Now 6 officers at queen and dunn · 6 agents",
		"14:28  d0d0d0d0d0d0: a van at Dunn Ave · withdrawn by its reporter",
		"14:28  d0d0d0d0d0d0 withdrew their report",
		"14:29  b0b0b0b0b0b0 says the agents left: van drove off",
	} {
		h.label(want)
	}
	test.AssertRendersToMarkup(t, "sighting-reports.xml", h.ui.w.Canvas())
}

// TestPassphraseStrength: the first-run form refuses a guessable
// passphrase as node/passphrase judges it (the name counts against it),
// and offers a generated one, shown to be learnt, that it accepts.
func TestPassphraseStrength(t *testing.T) {
	h := newHarness(t, Options{})
	h.ui.Start()
	name, pass, confirm := h.entryAt(0), h.entryAt(1), h.entryAt(2)
	name.SetText("Amira")
	for _, weak := range []string{"password123", "amira amira", "wrong passphrase"} {
		pass.SetText(weak)
		confirm.SetText(weak)
		h.tap("Continue")
		h.label("This passphrase is too easy to guess. Use four or more unrelated words, or tap “Suggest a passphrase”.")
		if h.prof.Initialized() {
			t.Fatalf("identity created with passphrase %q", weak)
		}
	}
	h.tap("Suggest a passphrase")
	g := pass.Text
	if confirm.Text != g || len(strings.Fields(g)) != passphrase.DefaultWords || passphrase.Check([]byte(g)) != nil {
		t.Fatalf("suggested %q (confirm %q): want %d words that pass the check in both fields", g, confirm.Text, passphrase.DefaultWords)
	}
	h.label("Your passphrase: " + g + ". Learn it or write it down somewhere safe, away from this device.")
	h.tap("Continue")
	h.waitFor("welcome screen", func() bool { return h.ui.cur.title == "Get started" })
	if h.prof.pass != g {
		t.Error("the suggested passphrase was not the one set")
	}
}
