// Package harden protects a running Lookout process's memory from other
// processes and from crash dumps: on Linux it marks the process
// non-dumpable (no core file, no ptrace attach and no /proc/PID/mem,
// environ or maps for other processes of the same user), and everywhere
// it can it sets the core-file size limit to zero.
//
// Call Process first thing in main of a program that will hold a
// passphrase, a key file or zone secrets.
package harden

// Process applies every protection the platform offers. An error names the
// step that failed; the caller decides whether to go on.
func Process() error { return process() }
