//go:build !linux

package main

import "testing"

// checkHardened checks only Linux's dumpable flag and core limit.
func checkHardened(*testing.T) {}
