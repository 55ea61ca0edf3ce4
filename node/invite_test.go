package node_test

import (
	"crypto/rand"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	libp2pcrypto "github.com/libp2p/go-libp2p/core/crypto"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	ma "github.com/multiformats/go-multiaddr"

	"lookout/node"
	"lookout/node/api"
	"lookout/node/sim"
	lp "lookout/protocol"
)

func TestInviteRequestRejects(t *testing.T) {
	ctx := testContext(t)
	clock := newClock()
	nw := startNet(t, ctx, 3, clock)
	formZone(t, ctx, nw, "north", map[int]string{1: "verifier", 2: "member"})

	tests := []struct {
		name     string
		from     int
		req      api.InviteRequest
		want     []error
		contains string
	}{
		{"organizer, defaults", 0, api.InviteRequest{Zone: "north"}, nil, ""},
		{"organizer invites an organizer", 0, api.InviteRequest{Zone: "north", Role: "organizer", TTL: time.Hour}, nil, ""},
		{"30 days", 0, api.InviteRequest{Zone: "north", TTL: lp.MaxInviteTTL}, nil, ""},
		{"member cannot invite", 2, api.InviteRequest{Zone: "north", TTL: time.Hour}, []error{api.ErrForbidden}, "organizer"},
		{"verifier cannot invite", 1, api.InviteRequest{Zone: "north", TTL: time.Hour}, []error{api.ErrForbidden}, "organizer"},
		{"bad role", 0, api.InviteRequest{Zone: "north", Role: "admin", TTL: time.Hour}, []error{api.ErrInvalid}, "role"},
		{"role in capitals", 0, api.InviteRequest{Zone: "north", Role: "Member", TTL: time.Hour}, []error{api.ErrInvalid}, "role"},
		{"negative TTL", 0, api.InviteRequest{Zone: "north", TTL: -time.Hour}, []error{api.ErrInvalid}, "lifetime"},
		{"TTL over 30 days", 0, api.InviteRequest{Zone: "north", TTL: lp.MaxInviteTTL + time.Millisecond}, []error{api.ErrInvalid}, "lifetime"},
		// The error promises "between 1s and 720h"; a shorter lifetime gives
		// a code that expires before anyone can paste it (or, truncated to
		// the millisecond, at once).
		{"TTL under a second", 0, api.InviteRequest{Zone: "north", TTL: time.Microsecond}, []error{api.ErrInvalid}, "lifetime"},
		{"unknown zone", 0, api.InviteRequest{Zone: "south", TTL: time.Hour}, []error{api.ErrNotFound}, "south"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := nw.Nodes[tc.from].Invite(ctx, tc.req)
			if len(tc.want) > 0 {
				wantErr(t, err, tc.want, tc.contains)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ttl := tc.req.TTL
			if ttl == 0 {
				ttl = 24 * time.Hour // an omitted lifetime means a day
			}
			if want := clock.Now().Add(ttl + time.Minute - 1).Truncate(time.Minute); !resp.Expires.Equal(want) {
				t.Errorf("expires %v, want %v (rounded up to the minute)", resp.Expires, want)
			}
			if !strings.HasPrefix(resp.Code, lp.InviteCodePrefix) || strings.ContainsAny(resp.Code, " \n") {
				t.Errorf("code %q is not one lookout1: line", resp.Code)
			}
		})
	}
}

// TestJoinGrantsRole redeems invites for each role and checks the joiner
// holds the zone as the inviter does, with the role it was invited for.
func TestJoinGrantsRole(t *testing.T) {
	ctx := testContext(t)
	nw := startNet(t, ctx, 4, newClock())
	node.NoCertifyTimer(nw.Nodes[0]) // the upkeep below certifies them
	z, err := nw.Nodes[0].CreateZone(ctx, "north")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		joiner int
		role   string
		mangle func(code string) string
	}{
		{1, "member", func(c string) string { return c }},
		// A mail client wrapped the line and added spaces around it.
		{2, "verifier", func(c string) string { return "  " + c[:30] + "\n" + c[30:60] + "\r\n " + c[60:] + "\n" }},
		{3, "organizer", func(c string) string { return c }},
	}
	for _, tc := range tests {
		t.Run(tc.role, func(t *testing.T) {
			inv, err := nw.Nodes[0].Invite(ctx, api.InviteRequest{Zone: z.ID, Role: tc.role, TTL: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			got, err := nw.Nodes[tc.joiner].Join(ctx, tc.mangle(inv.Code))
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != z.ID || got.Name != "north" || got.Role != tc.role || got.Epoch != 0 || got.Topic != z.Topic {
				t.Errorf("joined %+v, want zone %s north, role %s, epoch 0, topic %s", got, z.ID, tc.role, z.Topic)
			}
			assertZoneIDs(t, nw, tc.joiner, z.ID)
			if m := mode(t, filepath.Join(nw.Homes[tc.joiner], "store.db")); m != 0o600 {
				t.Errorf("store.db mode %v, want 0600", m)
			}
		})
	}
	if err := nw.WaitMesh(ctx, z.ID, len(nw.Nodes)-1); err != nil {
		t.Fatalf("joiners never all met on the topic: %v", err)
	}
	// The organizer it made is certified by the invite key (a chain of
	// three): it can invite once an organizer certified it directly, which
	// the founder's upkeep does for every invited member at once.
	if _, err := nw.Nodes[3].Invite(ctx, api.InviteRequest{Zone: "north", Role: "member", TTL: time.Hour}); !errors.Is(err, api.ErrForbidden) {
		t.Fatalf("an organizer certified by an invite key invited: %v", err)
	}
	waitKeysKnown(t, ctx, nw, z.ID)
	if n, err := node.DailyUpkeep(ctx, nw.Nodes[0]); err != nil || n != 3 {
		t.Fatalf("founder's upkeep certified %d invited members (%v), want 3", n, err)
	}
	if n, err := node.DailyUpkeep(ctx, nw.Nodes[0]); err != nil || n != 0 {
		t.Fatalf("second upkeep certified %d again (%v), want 0", n, err)
	}
	var inv api.InviteResponse
	if err := sim.WaitFor(ctx, func() bool {
		inv, err = nw.Nodes[3].Invite(ctx, api.InviteRequest{Zone: "north", Role: "member", TTL: time.Hour})
		return err == nil
	}); err != nil {
		t.Fatalf("an invited organizer cannot invite after being certified directly: %v", err)
	}
	if inv.Code == "" {
		t.Error("empty code")
	}
}

// TestJoinBadCode: codes that do not parse fail at once, with one-line
// messages, and leave the joiner without a zone.
func TestJoinBadCode(t *testing.T) {
	ctx := testContext(t)
	nw := startNet(t, ctx, 2, newClock())
	z, err := nw.Nodes[0].CreateZone(ctx, "north")
	if err != nil {
		t.Fatal(err)
	}
	inv, err := nw.Nodes[0].Invite(ctx, api.InviteRequest{Zone: z.ID, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	code := inv.Code
	body := code[len(lp.InviteCodePrefix):]
	// Change one character in the middle of the body to another base64url
	// character: still decodes, but the checksum no longer matches.
	mid := len(lp.InviteCodePrefix) + len(body)/2
	repl := byte('A')
	if code[mid] == 'A' {
		repl = 'B'
	}
	damaged := code[:mid] + string(repl) + code[mid+1:]

	tests := []struct {
		name     string
		code     string
		want     []error
		contains string
	}{
		{"empty", "", []error{lp.ErrBadInvite}, "lookout1:"},
		{"garbage", "hello, please let me in", []error{lp.ErrBadInvite}, "lookout1:"},
		{"no prefix", body, []error{lp.ErrBadInvite}, "lookout1:"},
		{"not base64url", lp.InviteCodePrefix + "!!!!", []error{lp.ErrBadInvite}, "copy the whole line"},
		{"one character changed", damaged, []error{lp.ErrBadInvite, lp.ErrChecksum}, "damaged"},
		{"truncated to half", code[:len(code)/2], []error{lp.ErrBadInvite}, "copy the whole line"},
		{"truncated to a stub", lp.InviteCodePrefix + body[:4], []error{lp.ErrBadInvite, lp.ErrTruncated}, ""},
		{"too long", lp.InviteCodePrefix + strings.Repeat("A", lp.MaxInviteCodeLen), []error{lp.ErrBadInvite}, "too long"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := nw.Nodes[1].Join(ctx, tc.code)
			wantErr(t, err, append([]error{api.ErrInvalid}, tc.want...), tc.contains)
			if len(err.Error()) > 200 {
				t.Errorf("message is %d bytes, too long for one line: %q", len(err.Error()), err)
			}
			assertZoneIDs(t, nw, 1)
		})
	}
	// None of that used the invite up.
	if _, err := nw.Nodes[1].Join(ctx, code); err != nil {
		t.Fatalf("the undamaged code no longer works: %v", err)
	}
	assertZoneIDs(t, nw, 1, z.ID)
}

// TestJoinExpiredInvite: an invite is refused once expired, whichever node
// notices: the joiner from the code, or the inviter whatever the joiner's
// clock says.
func TestJoinExpiredInvite(t *testing.T) {
	tests := []struct {
		name           string
		inviter        time.Duration // each node's clock relative to when the invite is issued
		joiner         time.Duration
		want           []error
		contains       string
		inviteLeftOver bool // the invite is still unused afterwards
	}{
		{"joiner's clock 2h ahead", 0, 2 * time.Hour, []error{api.ErrInvalid, lp.ErrInviteExpired}, "expired", true},
		{"joiner's clock at expiry", 0, time.Hour, []error{api.ErrInvalid, lp.ErrInviteExpired}, "expired", true},
		{"inviter's clock 2h ahead", 2 * time.Hour, 0, []error{api.ErrForbidden}, "expired", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			ci, cj := newClock(), newClock()
			nw := startNetClocks(t, ctx, ci, cj)
			z, err := nw.Nodes[0].CreateZone(ctx, "north")
			if err != nil {
				t.Fatal(err)
			}
			inv, err := nw.Nodes[0].Invite(ctx, api.InviteRequest{Zone: z.ID, TTL: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			// The expiry is rounded up to the minute: "at expiry" is then.
			round := inv.Expires.Sub(ci.Now().Add(time.Hour))
			ci.Advance(tc.inviter + round)
			cj.Advance(tc.joiner + round)
			_, err = nw.Nodes[1].Join(ctx, inv.Code)
			wantErr(t, err, tc.want, tc.contains)
			assertZoneIDs(t, nw, 1)
			assertZoneIDs(t, nw, 0, z.ID)
			if tc.inviteLeftOver {
				// Back in time, the same code still works: the refusal was
				// local and did not use the invite up.
				cj.Advance(-tc.joiner - round)
				if _, err := nw.Nodes[1].Join(ctx, inv.Code); err != nil {
					t.Fatalf("join within the lifetime: %v", err)
				}
				assertZoneIDs(t, nw, 1, z.ID)
			}
		})
	}
}

func TestInviteSingleUse(t *testing.T) {
	ctx := testContext(t)
	nw := startNet(t, ctx, 3, newClock())
	z, err := nw.Nodes[0].CreateZone(ctx, "north")
	if err != nil {
		t.Fatal(err)
	}
	inv, err := nw.Nodes[0].Invite(ctx, api.InviteRequest{Zone: z.ID, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nw.Nodes[1].Join(ctx, inv.Code); err != nil {
		t.Fatal(err)
	}
	_, err = nw.Nodes[2].Join(ctx, inv.Code)
	wantErr(t, err, []error{api.ErrForbidden}, "already used")
	assertZoneIDs(t, nw, 2)
	assertZoneIDs(t, nw, 1, z.ID)

	// Used stays used across the inviter's restart (in its store).
	stopped := nw.Nodes[0]
	if err := nw.Restart(ctx, 0); err != nil {
		t.Fatal(err)
	}
	_, err = nw.Nodes[2].Join(ctx, inv.Code)
	assertNotServedByStopped(t, stopped)
	wantErr(t, err, []error{api.ErrForbidden}, "already used")
	assertZoneIDs(t, nw, 2)
}

// TestInviteSurvivesRestart: an invite lives in the zone's governance, so
// the code still works after the inviter's node restarts.
func TestInviteSurvivesRestart(t *testing.T) {
	ctx := testContext(t)
	nw := startNet(t, ctx, 2, newClock())
	z, err := nw.Nodes[0].CreateZone(ctx, "north")
	if err != nil {
		t.Fatal(err)
	}
	inv, err := nw.Nodes[0].Invite(ctx, api.InviteRequest{Zone: z.ID, Role: "verifier", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	stopped := nw.Nodes[0]
	if err := nw.Restart(ctx, 0); err != nil {
		t.Fatal(err)
	}
	got, err := nw.Nodes[1].Join(ctx, inv.Code)
	if err != nil {
		t.Fatalf("redeem after the inviter restarted: %v", err)
	}
	assertNotServedByStopped(t, stopped)
	if got.ID != z.ID || got.Role != "verifier" {
		t.Errorf("joined %+v, want zone %s as verifier", got, z.ID)
	}
	assertZoneIDs(t, nw, 1, z.ID)
	if err := nw.WaitMesh(ctx, z.ID, 1); err != nil {
		t.Fatalf("joiner and restarted inviter never met on the topic: %v", err)
	}
}

// assertNotServedByStopped fails the test if a node that was stopped by
// sim.Network.Restart still has connections: on mocknet a closed host stays
// dialable and its stream handlers keep running, so a stale incarnation
// can answer (and write to the same home as the new one).
func assertNotServedByStopped(t *testing.T, stopped *node.Node) {
	t.Helper()
	if conns := stopped.Host.Network().Conns(); len(conns) > 0 {
		t.Fatalf("the stopped incarnation of the restarted node answered (%d connections to %s); the test ran against it, not the restarted node", len(conns), stopped.PeerID())
	}
}

// TestJoinClockBehindRealTime: Node.Now is the protocol clock (expiry,
// certificates, alerts), not the network's. A node whose clock is behind
// real time must still serve joins. Mocknet ignores stream deadlines, so
// this runs two nodes on real loopback TCP.
func TestJoinClockBehindRealTime(t *testing.T) {
	tests := []struct {
		name   string
		offset time.Duration
	}{
		{"in step", 0},
		{"a minute behind", -time.Minute},
		{"a year behind", -365 * 24 * time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			dir := t.TempDir()
			clock := newClock()
			clock.ns.Store(time.Now().Add(tc.offset).Truncate(time.Second).UnixNano())
			var nodes []*node.Node
			for i := range 2 {
				home := filepath.Join(dir, fmt.Sprintf("n%d", i))
				if _, err := node.Init(home, node.InitOptions{Name: fmt.Sprintf("node%d", i), Secret: sim.Secret, Store: sim.StoreOptions}); err != nil {
					t.Fatal(err)
				}
				n := &node.Node{Home: home, Secret: sim.Secret, StoreOptions: sim.StoreOptions, ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"}, Now: clock.Now}
				if err := n.Start(ctx); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { n.Close() })
				nodes = append(nodes, n)
			}
			z, err := nodes[0].CreateZone(ctx, "north")
			if err != nil {
				t.Fatal(err)
			}
			inv, err := nodes[0].Invite(ctx, api.InviteRequest{Zone: z.ID, TTL: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := nodes[1].Join(ctx, inv.Code); err != nil {
				t.Fatalf("join with both clocks %v off real time: %v", tc.offset, err)
			}
		})
	}
}

func TestJoinRefusals(t *testing.T) {
	ctx := testContext(t)
	nw := startNet(t, ctx, 2, newClock())
	z := formZone(t, ctx, nw, "north", nil)
	// The inviter refuses a member it knows: wait until node 1's
	// announcement reached it (an inviter that has not heard of a member
	// yet issues the grant, and the joiner refuses it locally).
	waitKeysKnown(t, ctx, nw, z.ID)

	t.Run("same zone twice", func(t *testing.T) {
		inv, err := nw.Nodes[0].Invite(ctx, api.InviteRequest{Zone: z.ID, Role: "organizer", TTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		_, err = nw.Nodes[1].Join(ctx, inv.Code)
		wantErr(t, err, []error{api.ErrForbidden}, "already a member")
		assertZoneIDs(t, nw, 1, z.ID)
		if zs := nw.Nodes[1].Zones(); len(zs) != 1 || zs[0].Role != "member" {
			t.Errorf("zones after a refused second join: %+v, want north as member", zs)
		}
		// The inviter refused before using the invite.
		if _, err = nw.Nodes[1].Join(ctx, inv.Code); err == nil || !strings.Contains(err.Error(), "still unused") {
			t.Errorf("second try: %v, want the same refusal (invite still unused)", err)
		}
	})
	t.Run("own invite", func(t *testing.T) {
		inv, err := nw.Nodes[0].Invite(ctx, api.InviteRequest{Zone: z.ID, TTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		_, err = nw.Nodes[0].Join(ctx, inv.Code)
		wantErr(t, err, []error{api.ErrInvalid}, "this node")
		assertZoneIDs(t, nw, 0, z.ID)
		// The invite is still good for someone else.
		other, err := nw.Nodes[0].CreateZone(ctx, "east")
		if err != nil {
			t.Fatal(err)
		}
		inv2, err := nw.Nodes[0].Invite(ctx, api.InviteRequest{Zone: other.ID, TTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		_, err = nw.Nodes[0].Join(ctx, inv2.Code)
		wantErr(t, err, []error{api.ErrInvalid}, "this node")
		if _, err := nw.Nodes[1].Join(ctx, inv2.Code); err != nil {
			t.Fatalf("invite refused to its own node no longer works for another: %v", err)
		}
		assertZoneIDs(t, nw, 1, z.ID, other.ID)
	})
}

// TestJoinZoneSharingSecret: a member of zone X who turns hostile builds a
// zone X' of their own with X's secret (so the same gossipsub topic) and
// invites another member of X to it. The join must fail cleanly: the
// victim stays in X only, nothing half-written, and its node still starts.
func TestJoinZoneSharingSecret(t *testing.T) {
	ctx := testContext(t)
	clock := newClock()
	nw := startNet(t, ctx, 3, clock)
	x := formZone(t, ctx, nw, "north", nil) // nodes 0 (founder), 1 and 2
	const victim, attacker = 1, 2

	// The attacker writes itself a zone record X' in place of X: a new
	// ID, its own root, X's secret.
	id := node.Identity(nw.Nodes[attacker])
	var xp lp.ZoneID
	if _, err := rand.Read(xp[:]); err != nil {
		t.Fatal(err)
	}
	cert, err := lp.IssueCert(id, xp, id.Public(), lp.RoleOrganizer, clock.Now(), clock.Now().Add(lp.DefaultCertTTL))
	if err != nil {
		t.Fatal(err)
	}
	recs := readZones(t, nw.Nodes[attacker])
	if len(recs) != 1 || recs[0].ID != x.ID {
		t.Fatalf("attacker's zones: %+v", recs)
	}
	// Leaving X itself, or the attacker's own node could not join X'.
	recs = []zoneRecord{{ID: xp.String(), Name: "north too", Secret: recs[0].Secret, Root: id.Public().Bytes(),
		Chain: [][]byte{cert.Bytes()}, Peers: []string{}, Created: clock.Now()}}
	writeZones(t, nw.Nodes[attacker], recs)
	if err := nw.Restart(ctx, attacker); err != nil {
		t.Fatal(err)
	}
	if zs := nw.Nodes[attacker].Zones(); len(zs) != 1 || zs[0].ID != xp.String() || zs[0].Topic != x.Topic {
		t.Fatalf("attacker's zones: %+v, want X' on X's topic %s", zs, x.Topic)
	}
	inv, err := nw.Nodes[attacker].Invite(ctx, api.InviteRequest{Zone: xp.String(), TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}

	_, err = nw.Nodes[victim].Join(ctx, inv.Code)
	if err == nil {
		t.Fatal("joined a second zone on the topic of a zone already held")
	}
	assertZoneIDs(t, nw, victim, x.ID)
	if err := nw.Restart(ctx, victim); err != nil {
		t.Fatalf("the victim's node no longer starts: %v", err)
	}
	assertZoneIDs(t, nw, victim, x.ID)
	if zs := nw.Nodes[victim].Zones(); len(zs) != 1 || zs[0].Topic != x.Topic || zs[0].Role != "member" {
		t.Errorf("victim's zones after restart: %+v, want X as member on %s", zs, x.Topic)
	}
}

// TestInviteExpiryRounded: an invite's expiry, in the code and in the
// answer, is rounded up to a whole minute, so the code does not tell to
// the millisecond when it was made.
func TestInviteExpiryRounded(t *testing.T) {
	ctx := testContext(t)
	clock := newClock()
	clock.Advance(17*time.Second + 123456789*time.Nanosecond)
	nw := startNet(t, ctx, 1, clock)
	z, err := nw.Nodes[0].CreateZone(ctx, "north")
	if err != nil {
		t.Fatal(err)
	}
	inv, err := nw.Nodes[0].Invite(ctx, api.InviteRequest{Zone: z.ID, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := lp.ParseInviteCode(inv.Code)
	if err != nil {
		t.Fatal(err)
	}
	earliest := clock.Now().Add(time.Hour)
	for _, e := range []time.Time{inv.Expires, parsed.Expires} {
		if !e.Equal(e.Truncate(time.Minute)) || e.Before(earliest) || !e.Before(earliest.Add(time.Minute)) {
			t.Errorf("expiry %s, want the whole minute after %s", e.Format(time.RFC3339Nano), earliest.Format(time.RFC3339Nano))
		}
	}
}

// TestInviteLeavesOutLocalAddresses: a node whose only addresses are on
// its home network refuses to make an invite without --lan, saying what
// to do, and puts them in with it.
func TestInviteLeavesOutLocalAddresses(t *testing.T) {
	ctx := testContext(t)
	mn := mocknet.New()
	t.Cleanup(func() { mn.Close() })
	sk, _, err := libp2pcrypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	h, err := mn.AddPeer(sk, ma.StringCast("/ip4/192.168.1.20/tcp/4719"))
	if err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(t.TempDir(), "home")
	if _, err := node.Init(home, node.InitOptions{Name: "Amira", Secret: sim.Secret, Store: sim.StoreOptions}); err != nil {
		t.Fatal(err)
	}
	clock := newClock()
	n := &node.Node{Home: home, Secret: sim.Secret, StoreOptions: sim.StoreOptions, Host: h, Now: clock.Now}
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	z, err := n.CreateZone(ctx, "north")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Invite(ctx, api.InviteRequest{Zone: z.ID}); !errors.Is(err, api.ErrInvalid) || !strings.Contains(err.Error(), "--lan") {
		t.Fatalf("invite with only home-network addresses = %v, want invalid, naming --lan", err)
	}
	inv, err := n.Invite(ctx, api.InviteRequest{Zone: z.ID, LAN: true})
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := lp.ParseInviteCode(inv.Code)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range parsed.Peers[0].Addrs {
		a, err := ma.NewMultiaddrBytes(b)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, a.String())
	}
	if len(got) != 1 || got[0] != "/ip4/192.168.1.20/tcp/4719" {
		t.Errorf("invite --lan addresses %v, want the home-network address only", got)
	}
}

// TestJoinAnnouncesToFirstPeer: a new member's first announcement can
// reach nobody (its subscriptions and membership proof are still on their
// way); its node then announces again when the first peer arrives on the
// zone's topic, so the organizer learns its name and KEM key (and can seal
// a new epoch to it) without waiting for catch-up, which runs hourly here.
func TestJoinAnnouncesToFirstPeer(t *testing.T) {
	ctx := testContext(t)
	nw, err := sim.Start(ctx, sim.Config{Nodes: 2, Dir: t.TempDir(), Now: newClock().Now, RedialInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeNet(t, nw) })
	z, err := nw.Nodes[0].CreateZone(ctx, "north")
	if err != nil {
		t.Fatal(err)
	}
	inv, err := nw.Nodes[0].Invite(ctx, api.InviteRequest{Zone: z.ID, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	node.LoseJoinAnnouncement(nw.Nodes[1])
	if _, err := nw.Nodes[1].Join(ctx, inv.Code); err != nil {
		t.Fatal(err)
	}
	waitKnows(t, ctx, nw.Nodes[0], z.ID, nw.Nodes[1].MemberID().String())
}
