//go:build !(mobile && linux && !android)

package main

// startSimulator is needed only by the mobile simulation on Linux.
func startSimulator() {}
