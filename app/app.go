// Package app is Lookout's desktop and mobile user interface, built with
// Fyne. It drives a node through the Backend interface and the member's
// identity through Profile; cmd/lookout-app supplies both and the fyne.App.
package app

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"lookout/node/api"
)

// Options configure the UI.
type Options struct {
	// Profile is the member's identity on this device (required).
	Profile Profile
	// Practice starts a practice zone; nil hides "Try a practice zone".
	Practice StartPractice
	// Logger receives the app's logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Location is the time zone times are shown in; nil means time.Local.
	Location *time.Location
	// Poll is how often connection status is refreshed; 0 means never.
	Poll time.Duration
	// Notifications reports whether the desktop can show system
	// notifications (on Linux, a session D-Bus); nil means it can. Without
	// them alerts are shown in the window, which comes to the front.
	Notifications func() bool
	// Tray adds a system tray menu where the desktop has one.
	Tray bool
	// Do runs f on the Fyne goroutine; nil means fyne.Do. Tests pass a
	// queue they drain themselves, so UI state is touched by one goroutine.
	Do func(f func())
}

// UI is the Lookout app window and its state. Its fields are used on the
// Fyne goroutine only; results of background work reach it through do.
type UI struct {
	fa  fyne.App
	w   fyne.Window
	opt Options
	log *slog.Logger
	// do runs f on the Fyne goroutine: fyne.Do, or a queue in tests.
	do func(f func())

	ctx    context.Context
	cancel context.CancelFunc

	b           Backend         // the backend on screen: real or practice
	real        Backend         // the unlocked node, if any
	practice    PracticeZone    // the running practice zone, if any
	watchCtx    context.Context // ends when the backend is replaced
	watchCancel context.CancelFunc
	gen         int       // new on every backend switch; stale events are dropped
	genSeq      int       // the last gen handed out
	held        *heldView // the member's own node while practice is on screen

	alerts    map[string]*alertView   // by alert ID, for the backend on screen
	unread    map[string]int          // zone ID → alerts not yet seen in its feed
	notified  map[string]bool         // alert IDs a notification was sent for
	zoneOpen  string                  // zone ID whose feed is on screen
	cardsZone string                  // zone ID whose own cards the rights screens show ("" built-in; rights.go)
	cardsFrom string                  // the linked zone whose callout opened the built-in cards, if one did (rights.go)
	feedShown []string                // alert IDs of the open feed, in the order drawn
	watching  map[string]bool         // zone IDs watched on the backend on screen
	drafts    map[string]*reportDraft // zone ID → unsent report form, in memory only
	// What the member did about alerts, for feedback on screen.
	confirmed   map[string]bool   // sightings confirmed with "I see it too"
	responded   map[string]string // callout ID → the member's answer
	undelivered map[string]bool   // alerts sent while no member of the zone was connected

	cur    screen
	stack  []screen          // screens to go back to
	scroll *container.Scroll // the current screen's scroller

	inApp int // alerts shown in the window because notifications cannot be

	closeOnce sync.Once
}

// alertView is an alert and what the app saw happen to it.
type alertView struct {
	api.Alert
	timeline []timelineEntry
}

type timelineEntry struct {
	at   time.Time
	text string
}

// screen is one page of the app. build makes its content; live screens are
// rebuilt when alerts arrive.
type screen struct {
	// name identifies the screen in debug logs ("report", "zones"): a
	// fixed word, never the title, which can hold a zone's name.
	name  string
	title string
	build func() fyne.CanvasObject
	// actions, if set, builds the screen's primary actions, drawn in a
	// fixed bar at the bottom that status lines and new alerts never move.
	actions func() fyne.CanvasObject
	// focus, if set, is the field the keyboard starts in.
	focus fyne.Focusable
	// enter, if set, runs each time the member goes to the screen (not
	// when it is redrawn for new data).
	enter func()
	live  bool
}

// New makes the app's window; call Start to show the first screen.
func New(fa fyne.App, opt Options) *UI {
	loadTranslations(fa.Preferences().String(prefLanguage))
	ctx, cancel := context.WithCancel(context.Background())
	u := &UI{
		fa:        fa,
		opt:       opt,
		log:       opt.Logger,
		do:        fyne.Do,
		ctx:       ctx,
		cancel:    cancel,
		alerts:    map[string]*alertView{},
		unread:    map[string]int{},
		notified:  map[string]bool{},
		drafts:    map[string]*reportDraft{},
		confirmed: map[string]bool{}, responded: map[string]string{}, undelivered: map[string]bool{},
	}
	if u.log == nil {
		u.log = slog.New(slog.DiscardHandler)
	}
	if opt.Do != nil {
		u.do = opt.Do
	}
	if u.opt.Now == nil {
		u.opt.Now = time.Now
	}
	if u.opt.Location == nil {
		u.opt.Location = time.Local
	}
	u.w = fa.NewWindow(L("app.title"))
	u.w.Resize(fyne.NewSize(420, 760))
	u.setupTray()
	return u
}

// Window returns the app's main window.
func (u *UI) Window() fyne.Window { return u.w }

// Start shows the first-run screen, or the unlock screen if an identity
// exists, and starts the status refresh.
func (u *UI) Start() {
	u.first()
	u.startPoll()
}

// first shows the language choice until one is made, then the unlock
// screen, or the first-run screen if there is no identity yet.
func (u *UI) first() {
	switch {
	case u.fa.Preferences().String(prefLanguage) == "":
		u.showLanguage()
	case u.opt.Profile.Initialized():
		u.showUnlock()
	default:
		u.showFirstRun()
	}
}

// showLanguage is the first screen: each language offered in itself.
func (u *UI) showLanguage() {
	u.home(screen{name: "language", title: L("app.title"), build: func() fyne.CanvasObject {
		box := container.NewVBox(wrapLabel(chooseLanguage))
		for _, code := range languages {
			b := widget.NewButton(languageName(code), func() {
				u.fa.Preferences().SetString(prefLanguage, code)
				loadTranslations(code)
				u.w.SetTitle(L("app.title"))
				u.first()
			})
			b.Importance = widget.HighImportance
			box.Add(b)
		}
		return box
	}})
}

// chooseLanguage asks for the language in every language offered, before
// one is chosen.
const chooseLanguage = "Choose your language · Choisissez votre langue · Elija su idioma"

func (u *UI) startPoll() {
	if u.opt.Poll > 0 {
		go u.poll()
	}
}

// ShowAndRun starts the UI and runs the Fyne event loop until the app quits,
// then stops the node.
func (u *UI) ShowAndRun() {
	u.Start()
	u.w.ShowAndRun()
	u.Close()
}

// Close stops the practice zone and the node. It is safe to call more than
// once.
func (u *UI) Close() {
	u.closeOnce.Do(func() {
		u.cancel()
		if u.practice != nil {
			if err := u.practice.Close(); err != nil {
				u.log.Error("stop practice zone", "err", err)
			}
		}
		if err := u.opt.Profile.Lock(); err != nil {
			u.log.Error("stop node", "err", err)
		}
	})
}

// poll refreshes live screens (peer counts) every Options.Poll.
func (u *UI) poll() {
	t := time.NewTicker(u.opt.Poll)
	defer t.Stop()
	for {
		select {
		case <-u.ctx.Done():
			return
		case <-t.C:
			u.do(u.refresh)
		}
	}
}

// setupTray adds a system tray menu where the desktop has one; closing the
// window then hides it and the node keeps receiving alerts.
func (u *UI) setupTray() {
	desk, ok := u.fa.(desktop.App)
	if !ok || !u.opt.Tray {
		return
	}
	open := fyne.NewMenuItem(L("tray.open"), func() { u.w.Show(); u.w.RequestFocus() })
	report := fyne.NewMenuItem(L("tray.report"), func() {
		u.w.Show()
		if u.b != nil {
			if zs := u.b.Zones(); len(zs) > 0 {
				u.showReport(zs[0])
			}
		}
	})
	quit := fyne.NewMenuItem(L("tray.quit"), func() { u.fa.Quit() })
	quit.IsQuit = true
	desk.SetSystemTrayMenu(fyne.NewMenu(L("app.title"), open, report, fyne.NewMenuItemSeparator(), quit))
	u.w.SetCloseIntercept(u.w.Hide)
}

// newGen starts a new generation of backend events.
func (u *UI) newGen() {
	u.genSeq++
	u.gen = u.genSeq
}

// show replaces the screen, remembering the current one for Back.
func (u *UI) show(s screen) {
	if u.cur.build != nil {
		u.stack = append(u.stack, u.cur)
	}
	u.enter(s)
}

// enter makes s the current screen and draws it.
func (u *UI) enter(s screen) {
	u.cur = s
	if s.enter != nil {
		s.enter()
	}
	u.render()
	// After render: the screen is on the canvas when this is logged, so a
	// test that waits for it can tap what it shows (TestMobileTouch).
	u.log.Debug("screen", "name", s.name)
}

// home clears the history and shows s.
func (u *UI) home(s screen) {
	u.stack = nil
	u.enter(s)
}

// back returns to the previous screen.
func (u *UI) back() {
	if len(u.stack) == 0 {
		return
	}
	s := u.stack[len(u.stack)-1]
	u.stack = u.stack[:len(u.stack)-1]
	u.enter(s)
}

// refresh rebuilds the current screen if it shows live data, keeping the
// reader's place in it.
func (u *UI) refresh() {
	if !u.cur.live {
		return
	}
	var off fyne.Position
	if u.scroll != nil {
		off = u.scroll.Offset
	}
	u.render()
	u.scroll.ScrollToOffset(off)
}

// render draws the current screen under a bar with its title and, if there
// is somewhere to go back to, a Back button; its primary actions are in a
// fixed bar at the bottom.
func (u *UI) render() {
	if u.cur.build == nil {
		return
	}
	title := widget.NewLabelWithStyle(u.cur.title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.Truncation = fyne.TextTruncateEllipsis
	var left fyne.CanvasObject
	if len(u.stack) > 0 {
		left = widget.NewButtonWithIcon(L("nav.back"), theme.NavigateBackIcon(), u.back)
	}
	bar := container.NewBorder(nil, nil, left, u.practiceBadge(), title)
	top := container.NewVBox(bar)
	if b := u.realBanner(); b != nil {
		top.Add(b)
	}
	top.Add(widget.NewSeparator())
	u.scroll = container.NewVScroll(container.NewPadded(u.cur.build()))
	var bottom fyne.CanvasObject
	if u.cur.actions != nil {
		bottom = container.NewVBox(widget.NewSeparator(), container.NewPadded(u.cur.actions()))
	}
	u.w.SetContent(container.New(capWidth{}, container.NewBorder(top, bottom, nil, nil, u.scroll)))
	if u.cur.focus != nil {
		u.w.Canvas().Focus(u.cur.focus)
	}
}

// practiceBadge marks every screen while the practice zone is on screen.
func (u *UI) practiceBadge() fyne.CanvasObject {
	if u.practice == nil || u.b != Backend(u.practice) {
		return nil
	}
	l := widget.NewLabelWithStyle(L("practice.badge"), fyne.TextAlignTrailing, fyne.TextStyle{Bold: true})
	l.Importance = widget.HighImportance
	return l
}

// async runs f off the Fyne goroutine and then done with its error on it.
// Backend calls can block on the network; the screen stays responsive.
func (u *UI) async(f func(ctx context.Context) error, done func(err error)) {
	go func() {
		err := f(u.ctx)
		u.do(func() { done(err) })
	}()
}
