//go:build mobile && linux && !android

package main

/*
#cgo LDFLAGS: -lX11
#include <X11/Xlib.h>
#include <stdlib.h>
#include <string.h>

// configureSimulator resizes the top-level window named name, if there is
// one, and reports whether it found it.
static int configureSimulator(const char *name, int w, int h) {
	Display *d = XOpenDisplay(NULL);
	if (!d) return 0;
	Window root = DefaultRootWindow(d), parent, *kids = NULL;
	unsigned int n = 0;
	int found = 0;
	if (XQueryTree(d, root, &root, &parent, &kids, &n)) {
		for (unsigned int i = 0; i < n; i++) {
			char *title = NULL;
			if (XFetchName(d, kids[i], &title) && title) {
				if (strcmp(title, name) == 0) {
					XResizeWindow(d, kids[i], w, h);
					found = 1;
				}
				XFree(title);
			}
		}
		if (kids) XFree(kids);
	}
	XSync(d, False);
	XCloseDisplay(d);
	return found;
}
*/
import "C"

import (
	"time"
	"unsafe"
)

// Fyne's mobile simulation on X11 (go build -tags mobile) waits, before
// drawing anything, for the ConfigureNotify event a window manager sends
// when it places a new window. A bare X server (Xvfb, a kiosk session) has
// no window manager and the window stays black for ever; resizing it once
// sends that event. Under a window manager the window is reparented, is no
// longer a child of the root, and is left alone.
const (
	simWindowName = "App" // the simulation window's fixed title
	simWait       = 30 * time.Second
	simPoll       = 100 * time.Millisecond
)

// phoneSize is the simulated phone's window, in pixels.
var phoneSize = [2]C.int{400, 760}

func startSimulator() {
	go func() {
		name := C.CString(simWindowName)
		defer C.free(unsafe.Pointer(name))
		for deadline := time.Now().Add(simWait); time.Now().Before(deadline); time.Sleep(simPoll) {
			if C.configureSimulator(name, phoneSize[0], phoneSize[1]) != 0 {
				return
			}
		}
	}()
}
