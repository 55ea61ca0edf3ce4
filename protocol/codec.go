package protocol

import (
	"encoding/binary"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// writer appends the canonical encoding of fields to a buffer.
type writer struct{ b []byte }

func (w *writer) u8(v uint8)       { w.b = append(w.b, v) }
func (w *writer) u16(v uint16)     { w.b = binary.BigEndian.AppendUint16(w.b, v) }
func (w *writer) u32(v uint32)     { w.b = binary.BigEndian.AppendUint32(w.b, v) }
func (w *writer) i64(v int64)      { w.b = binary.BigEndian.AppendUint64(w.b, uint64(v)) }
func (w *writer) raw(p []byte)     { w.b = append(w.b, p...) }
func (w *writer) time(t time.Time) { w.i64(unixMilli(t)) }

// str writes a u16 length and the bytes. Callers check the limit first.
func (w *writer) str(s string) {
	w.u16(uint16(len(s)))
	w.b = append(w.b, s...)
}

// bytes16 writes a u16 length and the bytes.
func (w *writer) bytes16(p []byte) {
	w.u16(uint16(len(p)))
	w.b = append(w.b, p...)
}

// bytes8 writes a u8 length and the bytes.
func (w *writer) bytes8(p []byte) {
	w.u8(uint8(len(p)))
	w.b = append(w.b, p...)
}

// reader consumes a canonical encoding. The first failure sticks: later
// reads return zero values and err reports the first problem.
type reader struct {
	b     []byte
	off   int
	err   error
	where string // what is being decoded, for error messages
}

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *reader) take(n int, field string) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || len(r.b)-r.off < n {
		r.fail(&FieldError{Field: field, Err: ErrTruncated})
		return nil
	}
	p := r.b[r.off : r.off+n]
	r.off += n
	return p
}

func (r *reader) u8(field string) uint8 {
	p := r.take(1, field)
	if p == nil {
		return 0
	}
	return p[0]
}

func (r *reader) u16(field string) uint16 {
	p := r.take(2, field)
	if p == nil {
		return 0
	}
	return binary.BigEndian.Uint16(p)
}

func (r *reader) u32(field string) uint32 {
	p := r.take(4, field)
	if p == nil {
		return 0
	}
	return binary.BigEndian.Uint32(p)
}

func (r *reader) i64(field string) int64 {
	p := r.take(8, field)
	if p == nil {
		return 0
	}
	return int64(binary.BigEndian.Uint64(p))
}

// time reads a unix-millisecond timestamp; 0 is the zero time.
func (r *reader) time(field string) time.Time {
	v := r.i64(field)
	if r.err != nil {
		return time.Time{}
	}
	if v < 0 || v > maxUnixMilli {
		r.fail(&FieldError{Field: field, Err: ErrBadTime})
		return time.Time{}
	}
	return fromUnixMilli(v)
}

// fixed copies exactly len(dst) bytes into dst.
func (r *reader) fixed(dst []byte, field string) {
	if p := r.take(len(dst), field); p != nil {
		copy(dst, p)
	}
}

// str reads a u16-length UTF-8 string of at most max characters (and so
// at most max × BytesPerChar bytes).
func (r *reader) str(field string, max int) string {
	n := int(r.u16(field))
	if r.err != nil {
		return ""
	}
	if n > max*BytesPerChar {
		r.fail(&FieldError{Field: field, Err: fmt.Errorf("%w: %d bytes, at most %d", ErrTooLong, n, max*BytesPerChar)})
		return ""
	}
	p := r.take(n, field)
	if r.err != nil {
		return ""
	}
	s := string(p)
	if err := checkText(s); err != nil {
		r.fail(&FieldError{Field: field, Err: err})
		return ""
	}
	if c := utf8.RuneCountInString(s); c > max {
		r.fail(&FieldError{Field: field, Err: fmt.Errorf("%w: %d characters, at most %d", ErrTooLong, c, max)})
		return ""
	}
	return s
}

// bytes16 reads a u16-length byte string of at most max bytes.
func (r *reader) bytes16(field string, max int) []byte {
	n := int(r.u16(field))
	if r.err != nil {
		return nil
	}
	if n > max {
		r.fail(&FieldError{Field: field, Err: fmt.Errorf("%w: %d bytes, at most %d", ErrTooLong, n, max)})
		return nil
	}
	p := r.take(n, field)
	return append([]byte(nil), p...)
}

// bytes8 reads a u8-length byte string of at most max bytes.
func (r *reader) bytes8(field string, max int) []byte {
	n := int(r.u8(field))
	if r.err != nil {
		return nil
	}
	if n > max {
		r.fail(&FieldError{Field: field, Err: fmt.Errorf("%w: %d bytes, at most %d", ErrTooLong, n, max)})
		return nil
	}
	p := r.take(n, field)
	return append([]byte(nil), p...)
}

// done fails unless every byte has been consumed.
func (r *reader) done() error {
	if r.err == nil && r.off != len(r.b) {
		r.fail(&FieldError{Field: r.where, Err: fmt.Errorf("%w: %d bytes", ErrTrailing, len(r.b)-r.off)})
	}
	return r.err
}

// CheckText reports whether s is acceptable as text on the wire: valid
// UTF-8 without control characters or bidirectional overrides.
func CheckText(s string) error { return checkText(s) }

// CheckName reports whether s is acceptable as a display name (a member's,
// a zone's, a link's) of at most max characters: CheckText, on one line (no
// newline or tab), and the length counted in characters. Every node applies
// it to member announcements; the CLI and the app check names with it
// before they are used.
func CheckName(s string, max int) error {
	if err := checkText(s); err != nil {
		return err
	}
	if strings.ContainsAny(s, "\n\t") {
		return fmt.Errorf("%w: a name is one line", ErrBadText)
	}
	if c := utf8.RuneCountInString(s); c > max {
		return fmt.Errorf("%w: %d characters, at most %d", ErrTooLong, c, max)
	}
	return nil
}

// checkText accepts valid UTF-8 without control characters other than
// newline and tab, so nothing sent can rewrite a terminal or hide text.
func checkText(s string) error {
	if !utf8.ValidString(s) {
		return ErrBadText
	}
	for _, c := range s {
		if c == '\n' || c == '\t' {
			continue
		}
		if c < 0x20 || (c >= 0x7f && c < 0xa0) || c == 0x2028 || c == 0x2029 || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) {
			return ErrBadText
		}
	}
	return nil
}

// Timestamps are unix milliseconds, 0 meaning unset.
const maxUnixMilli = 1 << 50 // far beyond any real date; keeps time.Time arithmetic safe

func unixMilli(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// validMilli reports whether v is a timestamp the reader accepts as set.
func validMilli(v int64) bool { return v > 0 && v <= maxUnixMilli }

// truncMilli rounds t down to what its encoding keeps: UTC milliseconds.
func truncMilli(t time.Time) time.Time { return fromUnixMilli(unixMilli(t)) }

func fromUnixMilli(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}
