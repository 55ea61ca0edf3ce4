//go:build !race

package node_test

// raceEnabled: the race detector is on; long tests play less.
const raceEnabled = false
