package passphrase_test

import (
	"errors"
	"os"
	"runtime"
	"strings"
	"testing"

	"lookout/node/passphrase"
)

func TestReadFD(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	w.WriteString("first line\r\nsecond\nthird")
	w.Close()
	fd := int(r.Fd())
	for _, want := range []string{"first line", "second", "third"} {
		got, err := passphrase.ReadFD(fd)
		if err != nil || string(got) != want {
			t.Fatalf("ReadFD = %q, %v; want %q", got, err, want)
		}
		runtime.GC() // an earlier *os.File for fd must not close it
	}
	if _, err := passphrase.ReadFD(fd); !errors.Is(err, passphrase.ErrNoLine) {
		t.Errorf("ReadFD at end: %v, want ErrNoLine", err)
	}
}

func TestReadFDRejects(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	go func() {
		w.WriteString(strings.Repeat("y", passphrase.MaxLine+10) + "\n")
		w.Close()
	}()
	if _, err := passphrase.ReadFD(int(r.Fd())); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Errorf("over-long line: %v", err)
	}
	if _, err := passphrase.ReadFD(-1); err == nil {
		t.Error("ReadFD(-1) gave no error")
	}
}
