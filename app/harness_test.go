package app

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"lookout/node/api"
	"lookout/node/control/controltest"
)

// testNow is the clock of every UI test and its fake node; alerts are
// sent a few minutes before it so rendered times never change.
var testNow = time.Date(2026, 6, 1, 14, 30, 0, 0, time.UTC)

// fakeProfile is an in-memory Profile.
type fakeProfile struct {
	mu       sync.Mutex
	init     bool
	name     string
	pass     string
	b        Backend
	unlocked bool
	wiped    bool
	creates  int
	// failStarts makes that many Unlocks fail as a node that cannot start.
	failStarts int
}

func (p *fakeProfile) Initialized() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.init
}

func (p *fakeProfile) Create(name string, pass []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.init {
		return fmt.Errorf("create identity: already exists")
	}
	p.init, p.name, p.pass = true, name, string(pass)
	p.creates++
	return nil
}

func (p *fakeProfile) Unlock(ctx context.Context, pass []byte) (Backend, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if string(pass) != p.pass {
		return nil, fmt.Errorf("unlock: %w", ErrWrongPassphrase)
	}
	if p.failStarts > 0 {
		p.failStarts--
		return nil, fmt.Errorf("start node: listen: address already in use")
	}
	p.unlocked = true
	return p.b, nil
}

func (p *fakeProfile) Lock() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.unlocked = false
	return nil
}

func (p *fakeProfile) ChangePassphrase(old, new []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if string(old) != p.pass {
		return fmt.Errorf("change passphrase: %w", ErrWrongPassphrase)
	}
	p.pass = string(new)
	return nil
}

func (p *fakeProfile) Wipe() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.init, p.unlocked, p.wiped, p.pass = false, false, true, ""
	return nil
}

// harness runs the UI on a test app against controltest.Fake. Work the UI
// hands to the Fyne goroutine is queued and run by the test goroutine in
// waitFor, so tests are deterministic and race-free.
type harness struct {
	t    *testing.T
	fa   fyne.App
	fake *controltest.Fake
	prof *fakeProfile
	ui   *UI
	q    chan func()
}

const testPass = "correct horse battery"

func newHarness(t *testing.T, opt Options) *harness {
	t.Helper()
	fa := test.NewTempApp(t)
	fa.Preferences().SetString(prefLanguage, "en")
	t.Cleanup(func() { loadTranslations("en") })
	fake := &controltest.Fake{Self: api.Status{MemberID: "a1b2c3d4e5f60718293a4b5c6d7e8f90", Name: "Amira"},
		Now: func() time.Time { return testNow }}
	h := &harness{t: t, fa: fa, fake: fake, prof: &fakeProfile{b: fake}, q: make(chan func(), 256)}
	if opt.Profile == nil {
		opt.Profile = h.prof
	}
	opt.Now = func() time.Time { return testNow }
	opt.Location = time.UTC
	opt.Do = func(f func()) { h.q <- f }
	h.ui = New(fa, opt)
	h.ui.w.Resize(fyne.NewSize(380, 760))
	t.Cleanup(h.ui.Close)
	return h
}

// unlocked creates an identity, unlocks it through the unlock screen and
// waits for the node to be on screen.
func (h *harness) unlocked() {
	h.t.Helper()
	h.prof.init, h.prof.pass = true, testPass
	h.ui.Start()
	test.Type(h.entryAt(0), testPass)
	h.tap("Unlock")
	h.waitFor("unlocked", func() bool { return h.ui.b != nil })
}

// waitFor runs queued UI work until cond holds, failing after 20 s.
func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.NewTimer(20 * time.Second)
	defer deadline.Stop()
	for !cond() {
		select {
		case f := <-h.q:
			f()
		case <-deadline.C:
			h.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// drain runs the UI work already queued.
func (h *harness) drain() {
	for {
		select {
		case f := <-h.q:
			f()
		default:
			return
		}
	}
}

// objects lists every object on the window and its overlays, depth first.
func (h *harness) objects() []fyne.CanvasObject {
	var out []fyne.CanvasObject
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if o == nil || !o.Visible() {
			return
		}
		out = append(out, o)
		switch o := o.(type) {
		case *fyne.Container:
			for _, c := range o.Objects {
				walk(c)
			}
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(o).Objects() {
				walk(c)
			}
		}
	}
	walk(h.ui.w.Content())
	for _, o := range h.ui.w.Canvas().Overlays().List() {
		walk(o)
	}
	return out
}

func (h *harness) button(text string) *widget.Button {
	h.t.Helper()
	if b := h.findButton(text); b != nil {
		return b
	}
	h.t.Fatalf("no button %q on screen %q", text, h.ui.cur.title)
	return nil
}

func (h *harness) findButton(text string) *widget.Button {
	for _, o := range h.objects() {
		if b, ok := o.(*widget.Button); ok && b.Text == text {
			return b
		}
	}
	return nil
}

func (h *harness) tap(text string) {
	h.t.Helper()
	test.Tap(h.button(text))
}

// entries lists the entries on screen in order.
func (h *harness) entries() []*widget.Entry {
	var es []*widget.Entry
	for _, o := range h.objects() {
		if f, ok := o.(*formEntry); ok {
			o = f.TextEntry()
		}
		if e, ok := o.(*widget.Entry); ok && !slices.Contains(es, e) {
			es = append(es, e)
		}
	}
	return es
}

func (h *harness) entryAt(i int) *widget.Entry {
	h.t.Helper()
	es := h.entries()
	if i >= len(es) {
		h.t.Fatalf("screen %q has %d entries, want entry %d", h.ui.cur.title, len(es), i)
	}
	return es[i]
}

// entry finds an entry by its placeholder.
func (h *harness) entry(placeholder string) *widget.Entry {
	h.t.Helper()
	for _, e := range h.entries() {
		if e.PlaceHolder == placeholder {
			return e
		}
	}
	h.t.Fatalf("no entry with placeholder %q on screen %q", placeholder, h.ui.cur.title)
	return nil
}

// labels returns the text of every visible label.
func (h *harness) labels() []string {
	var ls []string
	for _, o := range h.objects() {
		if l, ok := o.(*widget.Label); ok {
			ls = append(ls, l.Text)
		}
	}
	return ls
}

func (h *harness) hasLabel(text string) bool { return slices.Contains(h.labels(), text) }

// label finds a visible label by its text.
func (h *harness) label(text string) *widget.Label {
	h.t.Helper()
	for _, o := range h.objects() {
		if l, ok := o.(*widget.Label); ok && l.Text == text {
			return l
		}
	}
	h.t.Fatalf("no label %q on screen %q; labels: %q", text, h.ui.cur.title, h.labels())
	return nil
}

// zone creates a zone in the fake with the fake member in role.
func (h *harness) zone(name, role string) api.Zone {
	h.t.Helper()
	z, err := h.fake.CreateZone(context.Background(), name)
	if err != nil {
		h.t.Fatal(err)
	}
	if role != "organizer" {
		if err := h.fake.SetRole(z.ID, role); err != nil {
			h.t.Fatal(err)
		}
		z.Role = role
	}
	return z
}

// receive delivers an alert from another member and waits until the UI
// has it.
func (h *harness) receive(a api.Alert) api.Alert {
	h.t.Helper()
	got, err := h.fake.Receive(a)
	if err != nil {
		h.t.Fatal(err)
	}
	h.waitFor("alert "+got.ID, func() bool {
		v, ok := h.ui.alerts[got.ID]
		return ok && v.State == got.State && (v.Responders == nil || got.Responders == nil || *v.Responders == *got.Responders)
	})
	return got
}

func intp(n int) *int { return &n }

// sighting is a sighting from another member, sent five minutes before
// testNow.
func sighting(zone, id, state string, confirmations int, exercise bool) api.Alert {
	return api.Alert{ID: id, Zone: zone, Kind: "sighting", State: state, Exercise: exercise,
		Sent: testNow.Add(-5 * time.Minute), Sender: "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0", SenderRole: "member",
		What: "2 CBSA officers, unmarked van", Where: "Queen & Dunn", Size: 2, Confirmations: intp(confirmations)}
}

func callout(zone, id string, exercise bool) api.Alert {
	return api.Alert{ID: id, Zone: zone, Kind: "callout", State: "active", Exercise: exercise,
		Sent: testNow.Add(-3 * time.Minute), Sender: "c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0", SenderRole: "organizer",
		Title: "Accompany family", Where: "King & Dufferin", When: "now", Need: 6, Bring: "phone", Responders: &api.Responders{}}
}

// tapDialog taps the button with text in the dialog on top of the screen.
func (h *harness) tapDialog(text string) {
	h.t.Helper()
	top := h.ui.w.Canvas().Overlays().Top()
	if top == nil {
		h.t.Fatalf("no dialog on screen %q", h.ui.cur.title)
	}
	for _, o := range test.LaidOutObjects(top) {
		if b, ok := o.(*widget.Button); ok && b.Text == text && b.Visible() {
			test.Tap(b)
			return
		}
	}
	h.t.Fatalf("the dialog on screen %q has no button %q", h.ui.cur.title, text)
}
