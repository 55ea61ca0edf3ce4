package passphrase

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"golang.org/x/term"
)

// MaxLine bounds a passphrase line read by ReadFD, in bytes.
const MaxLine = 1024

// ErrNoLine means the descriptor gave no passphrase line.
var ErrNoLine = errors.New("no passphrase given")

var (
	filesMu sync.Mutex
	files   = map[int]*os.File{}
)

// fdFile returns the one *os.File of descriptor fd, kept for the life of
// the process: a second os.NewFile for the same descriptor could close it
// when the first is garbage-collected.
func fdFile(fd int) *os.File {
	filesMu.Lock()
	defer filesMu.Unlock()
	f, ok := files[fd]
	if !ok {
		f = os.NewFile(uintptr(fd), "passphrase-fd")
		files[fd] = f
	}
	return f
}

// ReadFD reads one line (without its end) from file descriptor fd,
// a byte at a time so that nothing past the line is consumed and no
// buffer keeps a copy. A terminal is refused: it would echo.
func ReadFD(fd int) ([]byte, error) {
	if fd < 0 {
		return nil, errors.New("read passphrase: --passphrase-fd needs a descriptor number, 0 for standard input")
	}
	if term.IsTerminal(fd) {
		return nil, fmt.Errorf("read passphrase: descriptor %d is a terminal, which would show the passphrase; leave out --passphrase-fd to be asked", fd)
	}
	f := fdFile(fd)
	if f == nil {
		return nil, fmt.Errorf("read passphrase: descriptor %d is not open", fd)
	}
	buf := make([]byte, 0, MaxLine)
	var b [1]byte
	for {
		n, err := f.Read(b[:])
		if n == 1 {
			if b[0] == '\n' {
				break
			}
			if len(buf) == MaxLine {
				clear(buf)
				return nil, fmt.Errorf("read passphrase: the line on descriptor %d is longer than %d bytes", fd, MaxLine)
			}
			buf = append(buf, b[0])
			continue
		}
		if errors.Is(err, io.EOF) {
			if len(buf) == 0 {
				return nil, fmt.Errorf("%w: descriptor %d ended before a passphrase line", ErrNoLine, fd)
			}
			break
		}
		if err != nil {
			clear(buf)
			return nil, fmt.Errorf("read passphrase from descriptor %d: %w", fd, err)
		}
	}
	buf = bytes.TrimSuffix(buf, []byte{'\r'})
	if len(buf) == 0 {
		return nil, fmt.Errorf("%w: the passphrase line on descriptor %d is empty", ErrNoLine, fd)
	}
	return buf, nil
}
