//go:build mobile

package app

import (
	"testing"

	"fyne.io/fyne/v2"
)

// TestMobileDevice checks that `go test -tags mobile` runs the UI tests in
// the test driver's mobile mode, so the phone layouts and touch paths of
// the other tests are exercised as on a phone.
func TestMobileDevice(t *testing.T) {
	newHarness(t, Options{})
	if !fyne.CurrentDevice().IsMobile() {
		t.Fatal("the test driver is not in mobile mode under -tags mobile")
	}
}
