package node

import (
	"errors"
	"strings"
	"testing"

	"lookout/crypto"
	"lookout/node/api"
	"lookout/node/control"
	"lookout/protocol"
)

func TestResolve(t *testing.T) {
	cs := []candidate[int]{
		{id: "aaaa1111aaaa1111", name: "North", v: 1},
		{id: "aaaa1111bbbb2222", name: "north", v: 2},
		{id: "cccc3333cccc3333", name: "Plateau", v: 3},
		{id: "dddd4444dddd4444", name: "", v: 4},
	}
	for _, c := range []struct {
		ref  string
		want int
		err  error
		msg  string
	}{
		{ref: "cccc3333cccc3333", want: 3},
		{ref: "CCCC3333", want: 3},   // ID prefix, any case
		{ref: "dddd4444", want: 4},   // unnamed: by ID prefix
		{ref: "plateau", want: 3},    // name, ignoring case
		{ref: "North", want: 1},      // an exact name wins over a folded one
		{ref: "  Plateau ", want: 3}, // spaces around
		{ref: "NORTH", err: control.ErrInvalid, msg: `"NORTH" matches 2 zones: "North" (aaaa1111a), "north" (aaaa1111b); give more of the ID`},
		{ref: "aaaa1111", err: control.ErrInvalid, msg: `matches 2 zones: "North" (aaaa1111a), "north" (aaaa1111b)`}, // prefixes that tell them apart
		{ref: "aaaa1111b", want: 2},
		{ref: "aaaa", err: control.ErrNotFound}, // too short for a prefix
		{ref: "south", err: control.ErrNotFound, msg: `no zone "south"; see lookout zone list`},
	} {
		got, err := resolve("zone", c.ref, cs, "see lookout zone list")
		if c.err == nil && (err != nil || got != c.want) {
			t.Errorf("resolve(%q) = %d, %v; want %d", c.ref, got, err, c.want)
		}
		if c.err != nil && (!errors.Is(err, c.err) || !strings.Contains(err.Error(), c.msg)) {
			t.Errorf("resolve(%q) = %d, %v; want %v mentioning %q", c.ref, got, err, c.err, c.msg)
		}
	}
}

// TestFindMember: a member who never announced (so has no name) but sent
// a sighting is found by ID or prefix, a named one by name
// (core.State.Members lists them both; TestMembersLocked).
func TestFindMember(t *testing.T) {
	var named, silent crypto.MemberID
	named[0], silent[0] = 0xaa, 0xbb
	ms := []*protocol.MemberInfo{{ID: named, Name: "Ana", Role: protocol.RoleOrganizer}, {ID: silent, Role: protocol.RoleMember}}
	for _, ref := range []string{silent.String(), silent.String()[:8], strings.ToUpper(silent.String()[:10])} {
		if m, err := findMember(ms, ref, "north"); err != nil || m.ID != silent {
			t.Errorf("findMember(%q) = %v, %v; want the silent sender", ref, m, err)
		}
	}
	if m, err := findMember(ms, "ana", "north"); err != nil || m.ID != named {
		t.Errorf("findMember(ana) = %v, %v", m, err)
	}
	if _, err := findMember(ms, "bob", "north"); !errors.Is(err, api.ErrNotFound) || !strings.Contains(err.Error(), "north") {
		t.Errorf("findMember(bob) = %v; want not found in north", err)
	}
}
