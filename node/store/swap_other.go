//go:build !linux

package store

// swapDirs exchanges the directories a and b with two renames: b is
// missing for a moment, and a crash then leaves it under a's name.
func swapDirs(a, b string) error { return swapByRename(a, b) }
