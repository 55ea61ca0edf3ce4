package protocol

import (
	"errors"
	"fmt"
)

// Every rejection wraps one of these, so callers can tell them apart with
// errors.Is and count them.
var (
	ErrTooLarge      = errors.New("message too large")
	ErrTruncated     = errors.New("truncated")
	ErrTrailing      = errors.New("unexpected trailing bytes")
	ErrVersion       = errors.New("unsupported version")
	ErrKind          = errors.New("unknown alert kind")
	ErrEnum          = errors.New("value out of range")
	ErrTooLong       = errors.New("text too long")
	ErrBadText       = errors.New("text is not valid UTF-8 or contains control characters")
	ErrMissing       = errors.New("required field is empty")
	ErrBadTime       = errors.New("invalid timestamp")
	ErrBadPadding    = errors.New("invalid padding")
	ErrDecrypt       = errors.New("cannot decrypt: wrong zone, wrong epoch or tampered")
	ErrUnknownEpoch  = errors.New("unknown epoch")
	ErrBadSignature  = errors.New("signature does not verify")
	ErrChain         = errors.New("invalid certificate chain")
	ErrWrongZone     = errors.New("certificate or alert belongs to another zone")
	ErrNotAllowed    = errors.New("role not allowed to send this")
	ErrExpired       = errors.New("expired")
	ErrFuture        = errors.New("sent in the future")
	ErrLifetime      = errors.New("lifetime too long")
	ErrBadInvite     = errors.New("invalid invite code")
	ErrInviteExpired = errors.New("invite expired")
	ErrChecksum      = errors.New("checksum mismatch")
	ErrCardSet       = errors.New("invalid card set")
)

// FieldError names the field a decoding or validation error is about.
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return fmt.Sprintf("%s: %v", e.Field, e.Err) }
func (e *FieldError) Unwrap() error { return e.Err }
