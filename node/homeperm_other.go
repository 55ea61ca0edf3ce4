//go:build !unix

package node

import "errors"

// ErrUnsafeHome means the home directory could be changed by another local
// user.
var ErrUnsafeHome = errors.New("unsafe home directory")

// checkHome relies on the platform's default per-user directories (the
// user's profile on Windows) where Unix modes do not apply.
func checkHome(string) error { return nil }
