package main

import (
	"errors"
	"io"
	"log"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
)

// TestFyneLogQuiet: Fyne's preferences load error with cause EOF is left
// out of the log; the same error with another cause, and every other
// line, are kept, in order.
func TestFyneLogQuiet(t *testing.T) {
	var out strings.Builder
	log.SetOutput(&fyneLog{out: &out})
	log.SetFlags(0)
	t.Cleanup(func() { log.SetOutput(io.Discard); log.SetFlags(log.LstdFlags) })

	log.Println("before")
	fyne.LogError("Preferences load error:", io.EOF)
	log.Println("between")
	fyne.LogError("Preferences load error:", errors.New("invalid character 'x'"))
	fyne.LogError("Settings watch error:", io.EOF)
	log.Println("after")

	got := out.String()
	if strings.Contains(got, "Preferences load error:\n  Cause: EOF") || strings.Count(got, "Preferences load error") != 1 {
		t.Errorf("the EOF preferences error was kept:\n%s", got)
	}
	for _, want := range []string{"before\n", "between\n", "Cause: invalid character 'x'", "Settings watch error:", "after\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("%q left out:\n%s", want, got)
		}
	}
	if i, j := strings.Index(got, "between"), strings.Index(got, "invalid character"); i < 0 || j < i {
		t.Errorf("lines out of order:\n%s", got)
	}
}
