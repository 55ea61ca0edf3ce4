//go:build !linux

package main

// noEcho is a no-op here: each prompt still reads without echo
// (golang.org/x/term), but text typed between prompts may be echoed.
func noEcho(int) (restore func()) { return func() {} }

// flushInput is a no-op here.
func flushInput(int) {}
