package node

import (
	"testing"
	"time"

	"lookout/node/internal/zone/zonetest"
	"lookout/protocol"
)

// govFixture is a zone's root and members (zonetest.Members), for
// building governance messages without a node (the tests of what the
// zone core does with them are in node/internal/zone, state_gov_test.go).
type govFixture struct{ *zonetest.Members }

func newGovFixture(t testing.TB, members int, start time.Time) *govFixture {
	t.Helper()
	return &govFixture{zonetest.New(t, members, start)}
}

// msg signs a governance message; i < 0 is the root.
func (f *govFixture) msg(i int, role protocol.Role, a *protocol.Alert) *GovMsg {
	f.T.Helper()
	return &GovMsg{Msg: f.Sign(i, role, a)}
}

func (f *govFixture) announce(i int, role protocol.Role, sent time.Time, name string, exercise bool) *GovMsg {
	return f.msg(i, role, f.Announcement(sent, name, exercise))
}
