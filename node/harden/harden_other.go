//go:build !unix

package harden

// process does nothing where the platform has neither core limits nor a
// dumpable flag (Windows writes crash dumps only when configured to).
func process() error { return nil }
