package main

import (
	"bytes"
	"io"
	stdlog "log"
	"os"
	"sync"
)

// Fyne's error lines (fyne.LogError writes them one by one to the
// standard logger) for the one error the app leaves out of its log.
var (
	prefsLoadError = []byte("Fyne error:  Preferences load error:")
	causeEOF       = []byte("  Cause: EOF")
	errorAt        = []byte("  At: ")
)

// fyneLog passes the standard logger's lines through to out, except Fyne's
// "Preferences load error" with cause EOF: Fyne's file watcher reads the
// preferences file in the instant Fyne itself truncates it to rewrite it
// (at every stop), which is harmless (the preferences stay in memory and
// the file is written whole) but was logged at every stop (issue 19).
// Other causes are passed through.
type fyneLog struct {
	mu   sync.Mutex
	out  io.Writer
	held [][]byte // lines of a preferences load error seen so far
}

func (f *fyneLog) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case len(f.held) == 1 && bytes.Contains(p, causeEOF):
		f.held = append(f.held, bytes.Clone(p))
		return len(p), nil
	case len(f.held) == 2 && bytes.Contains(p, errorAt):
		f.held = nil // the whole EOF error: left out
		return len(p), nil
	}
	for _, h := range f.held { // not the EOF error: release it
		if _, err := f.out.Write(h); err != nil {
			return 0, err
		}
	}
	f.held = nil
	if bytes.Contains(p, prefsLoadError) {
		f.held = [][]byte{bytes.Clone(p)}
		return len(p), nil
	}
	return f.out.Write(p)
}

// quietFyneLog makes the standard logger, which Fyne writes to, leave out
// the harmless preferences error; call it before the fyne.App is made.
func quietFyneLog() { stdlog.SetOutput(&fyneLog{out: os.Stderr}) }
