// Package enroll lets the benchmark (node/bench) make members without the
// join protocol. Being internal to node/, it is out of reach of cmd/ and
// app/, so the node's public API carries no benchmark-only entry point.
package enroll

import (
	"errors"

	"lookout/node/store"
)

// Request makes the identity in Home a member of zone Zone of a running
// founder node, as a completed invite and join would, but without the join
// protocol and without the member announcement: benchmarks need thousands
// of members, and a thousand joins through one inviter, each announced to
// every member, would measure enrolment instead of alert delivery.
//
// The founder must be an organizer of the zone; the node at Home must not
// be running; Secret and Options unlock its store. The zone is added to
// Home's store with no remembered peers (the caller connects nodes).
type Request struct {
	Zone    string
	Home    string
	Secret  store.Secret
	Options store.Options
	Role    string // member, verifier or organizer
}

// ErrNotANode is returned when the founder is not a *node.Node.
var ErrNotANode = errors.New("enroll: the founder is not a *node.Node")

// Member is set by package node when it is initialised; founder is a
// running *node.Node.
var Member func(founder any, req Request) error
