package node_test

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"lookout/crypto"
	"lookout/node"
	"lookout/node/api"
	"lookout/node/sim"
	lp "lookout/protocol"
)

// waitInviteKnown waits until node i's zone holds the invite of code.
func waitInviteKnown(t *testing.T, ctx context.Context, nw *sim.Network, i int, code string, redeemers int) []crypto.MemberID {
	t.Helper()
	var rs []crypto.MemberID
	err := sim.WaitFor(ctx, func() bool {
		known, r, err := node.InviteState(nw.Nodes[i], code)
		rs = r
		return err == nil && known && len(r) >= redeemers
	})
	if err != nil {
		t.Fatalf("node %d never held the invite with %d redeemers: %v", i, redeemers, err)
	}
	return rs
}

// codeNaming re-encodes an invite code to name only the given nodes.
func codeNaming(t *testing.T, code string, nodes ...*node.Node) string {
	t.Helper()
	inv, err := lp.ParseInviteCode(code)
	if err != nil {
		t.Fatal(err)
	}
	inv.Peers = nil
	for _, n := range nodes {
		r := lp.PeerRecord{ID: []byte(n.PeerID())}
		for _, a := range n.Host.Addrs() {
			r.Addrs = append(r.Addrs, a.Bytes())
		}
		inv.Peers = append(inv.Peers, r)
	}
	c, err := inv.Code()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestJoinWithInviterStopped: an invite is redeemed at another member's
// node while the inviter's node is stopped, with the role the organizer
// chose; the joiner then reports to the zone. The same code is refused
// afterwards by that member and, once back, by the inviter.
func TestJoinWithInviterStopped(t *testing.T) {
	ctx := testContext(t)
	nw := startNet(t, ctx, 4, newClock())
	z, err := nw.Nodes[0].CreateZone(ctx, "north")
	if err != nil {
		t.Fatal(err)
	}
	first, err := nw.Nodes[0].Invite(ctx, api.InviteRequest{Zone: z.ID, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nw.Nodes[1].Join(ctx, first.Code); err != nil {
		t.Fatal(err)
	}
	if err := nw.WaitZoneMesh(ctx, z.ID, []int{0, 1}, 1); err != nil {
		t.Fatal(err)
	}
	inv, err := nw.Nodes[0].Invite(ctx, api.InviteRequest{Zone: z.ID, Role: "verifier", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := lp.ParseInviteCode(inv.Code)
	if err != nil {
		t.Fatal(err)
	}
	if len(parsed.Peers) != 2 || string(parsed.Peers[0].ID) != string(nw.Nodes[0].PeerID()) || string(parsed.Peers[1].ID) != string(nw.Nodes[1].PeerID()) {
		t.Fatalf("invite names %d nodes, want the inviter then the member", len(parsed.Peers))
	}
	waitInviteKnown(t, ctx, nw, 1, inv.Code, 0)
	if err := nw.Stop(ctx, 0); err != nil {
		t.Fatal(err)
	}

	got, err := nw.Nodes[2].Join(ctx, inv.Code)
	if err != nil {
		t.Fatalf("redeem while the inviter is stopped: %v", err)
	}
	if got.ID != z.ID || got.Role != "verifier" {
		t.Errorf("joined %+v, want %s as verifier", got, z.ID)
	}
	rs := waitInviteKnown(t, ctx, nw, 1, inv.Code, 1)
	if rs[0] != node.Identity(nw.Nodes[2]).ID() {
		t.Errorf("the member recorded another redeemer")
	}
	a, err := nw.Nodes[2].Report(ctx, api.ReportRequest{Zone: z.ID, What: "van", Where: "Main St"})
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.WaitFor(ctx, func() bool {
		as, _ := nw.Nodes[1].Alerts(z.ID)
		return hasAlert(as, a.ID)
	}); err != nil {
		t.Fatalf("the member never received the joiner's sighting: %v", err)
	}

	// Used: the member refuses the same code to someone else.
	_, err = nw.Nodes[3].Join(ctx, inv.Code)
	wantErr(t, err, []error{api.ErrForbidden}, "already used")
	assertZoneIDs(t, nw, 3)

	// The inviter, back, learns the redemption by catch-up and refuses too.
	if err := nw.Resume(ctx, 0); err != nil {
		t.Fatal(err)
	}
	waitInviteKnown(t, ctx, nw, 0, inv.Code, 1)
	_, err = nw.Nodes[3].Join(ctx, codeNaming(t, inv.Code, nw.Nodes[0]))
	wantErr(t, err, []error{api.ErrForbidden}, "already used")
	assertZoneIDs(t, nw, 3)
}

// TestJoinAttacksOnMembers: what a member's node answers to join requests
// that are not a valid redemption. A stranger without the invite learns
// nothing (the same refusal for an unknown invite and for a known one
// with a wrong signature, and no grant); an expired invite is refused by a
// member whatever the joiner's clock says; nothing is handed over.
func TestJoinAttacksOnMembers(t *testing.T) {
	ctx := testContext(t)
	clock := newClock()
	nw := startNet(t, ctx, 3, clock)
	z, err := nw.Nodes[0].CreateZone(ctx, "north")
	if err != nil {
		t.Fatal(err)
	}
	first, err := nw.Nodes[0].Invite(ctx, api.InviteRequest{Zone: z.ID, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nw.Nodes[1].Join(ctx, first.Code); err != nil {
		t.Fatal(err)
	}
	if err := nw.WaitZoneMesh(ctx, z.ID, []int{0, 1}, 1); err != nil {
		t.Fatal(err)
	}
	inv, err := nw.Nodes[0].Invite(ctx, api.InviteRequest{Zone: z.ID, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	waitInviteKnown(t, ctx, nw, 1, inv.Code, 0)
	member, stranger := nw.Nodes[1], nw.Nodes[2]
	parsed, err := lp.ParseInviteCode(inv.Code)
	if err != nil {
		t.Fatal(err)
	}
	key, err := lp.InviteIdentity(parsed.Secret)
	if err != nil {
		t.Fatal(err)
	}
	kem, err := crypto.NewKEMKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	self := node.Identity(stranger).Public()
	sign := func(k *crypto.Identity) *lp.JoinRequest {
		r, err := lp.NewJoinRequest(k, self, kem.PublicBytes())
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	var guess [lp.InviteSecretSize]byte
	rand.Read(guess[:])
	guessKey, err := lp.InviteIdentity(guess)
	if err != nil {
		t.Fatal(err)
	}
	forged := sign(guessKey)
	forged.Invite = lp.InviteIDOf(key.Public()) // names the real invite, signed by another key
	flipped := sign(key)
	flipped.Sig[10] ^= 1
	if err := node.ConnectTo(ctx, stranger, member); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		req  []byte
		want string
	}{
		{"unknown invite", sign(guessKey).MarshalBinary(), node.Refusals.Unknown},
		{"real invite ID, wrong key", forged.MarshalBinary(), node.Refusals.Unknown},
		{"real invite, signature flipped", flipped.MarshalBinary(), node.Refusals.Unknown},
		{"garbage", make([]byte, lp.JoinRequestSize), "malformed join request"},
	} {
		t.Run(c.name, func(t *testing.T) {
			granted, reason, err := node.JoinRaw(ctx, stranger, member.PeerID(), c.req)
			if err != nil || granted || reason != c.want {
				t.Errorf("answer: granted %v, reason %q (%v); want refused, %q", granted, reason, err, c.want)
			}
		})
	}
	// A code guessed from nothing names the member but is unknown there.
	guessed := &lp.Invite{Secret: guess, Expires: parsed.Expires, Peers: parsed.Peers[1:]}
	code, err := guessed.Code()
	if err != nil {
		t.Fatal(err)
	}
	_, err = stranger.Join(ctx, code)
	wantErr(t, err, []error{api.ErrForbidden}, "do not know it")
	assertZoneIDs(t, nw, 2)

	// Expired: the member refuses a correctly signed request, whatever
	// the joiner's own clock would have said.
	clock.Advance(2 * time.Hour)
	granted, reason, err := node.JoinRaw(ctx, stranger, member.PeerID(), sign(key).MarshalBinary())
	if err != nil || granted || reason != node.Refusals.Expired {
		t.Errorf("expired invite: granted %v, reason %q (%v)", granted, reason, err)
	}
	assertZoneIDs(t, nw, 2)
	if known, rs, _ := node.InviteState(member, inv.Code); !known || len(rs) != 0 {
		t.Errorf("the refusals changed the invite: known %v, %d redeemers", known, len(rs))
	}
}

// TestInviteRedeemedTwiceInSplit: while the network is split, two people
// redeem the same code at members on either side. Both join; once the
// halves meet, every node agrees on one redeemer (the first certified),
// the other's messages are refused everywhere, and the organizer's node
// reports the invite as redeemed twice.
func TestInviteRedeemedTwiceInSplit(t *testing.T) {
	ctx := testContext(t)
	nw := startNet(t, ctx, 5, newClock())
	z, err := nw.Nodes[0].CreateZone(ctx, "north")
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{1, 2} {
		inv, err := nw.Nodes[0].Invite(ctx, api.InviteRequest{Zone: z.ID, TTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := nw.Nodes[i].Join(ctx, inv.Code); err != nil {
			t.Fatal(err)
		}
	}
	if err := nw.WaitZoneMesh(ctx, z.ID, []int{0, 1, 2}, 2); err != nil {
		t.Fatal(err)
	}
	inv, err := nw.Nodes[0].Invite(ctx, api.InviteRequest{Zone: z.ID, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	waitInviteKnown(t, ctx, nw, 1, inv.Code, 0)
	waitInviteKnown(t, ctx, nw, 2, inv.Code, 0)
	if err := nw.Stop(ctx, 0); err != nil {
		t.Fatal(err)
	}
	// Split: {1, 3} and {2, 4}.
	mn := nw.Mocknet
	cross := [][2]int{{1, 2}, {1, 4}, {3, 2}, {3, 4}}
	for _, p := range cross {
		a, b := nw.Nodes[p[0]].PeerID(), nw.Nodes[p[1]].PeerID()
		if err := mn.UnlinkPeers(a, b); err != nil {
			t.Fatal(err)
		}
		mn.DisconnectPeers(a, b)
	}
	if _, err := nw.Nodes[3].Join(ctx, codeNaming(t, inv.Code, nw.Nodes[1])); err != nil {
		t.Fatalf("redeem on one side: %v", err)
	}
	if _, err := nw.Nodes[4].Join(ctx, codeNaming(t, inv.Code, nw.Nodes[2])); err != nil {
		t.Fatalf("redeem on the other side: %v", err)
	}
	waitInviteKnown(t, ctx, nw, 1, inv.Code, 1)
	waitInviteKnown(t, ctx, nw, 2, inv.Code, 1)

	// The halves meet again.
	for _, p := range cross {
		if _, err := mn.LinkPeers(nw.Nodes[p[0]].PeerID(), nw.Nodes[p[1]].PeerID()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := mn.ConnectPeers(nw.Nodes[1].PeerID(), nw.Nodes[2].PeerID()); err != nil {
		t.Fatal(err)
	}
	var winner crypto.MemberID
	for _, i := range []int{1, 2, 3, 4} {
		rs := waitInviteKnown(t, ctx, nw, i, inv.Code, 2)
		if i == 1 {
			winner = rs[0]
		} else if rs[0] != winner {
			t.Fatalf("node %d admits another redeemer", i)
		}
	}
	w, l := 3, 4
	if node.Identity(nw.Nodes[4]).ID() == winner {
		w, l = 4, 3
	}
	if _, err := nw.Nodes[l].Report(ctx, api.ReportRequest{Zone: z.ID, What: "van", Where: "Main St"}); err == nil {
		t.Errorf("the second redeemer's node sent a sighting")
	}
	a, err := nw.Nodes[w].Report(ctx, api.ReportRequest{Zone: z.ID, What: "van", Where: "Main St"})
	if err != nil {
		t.Fatalf("the admitted redeemer cannot report: %v", err)
	}
	if err := sim.WaitFor(ctx, func() bool {
		for _, i := range []int{1, 2} {
			if as, _ := nw.Nodes[i].Alerts(z.ID); !hasAlert(as, a.ID) {
				return false
			}
		}
		return true
	}); err != nil {
		t.Fatalf("the admitted redeemer's sighting did not reach both sides: %v", err)
	}

	// The organizer, back, is told.
	if err := nw.Resume(ctx, 0); err != nil {
		t.Fatal(err)
	}
	waitInviteKnown(t, ctx, nw, 0, inv.Code, 2)
	for _, zi := range nw.Nodes[0].Zones() {
		if zi.ID == z.ID && zi.InvitesRedeemedTwice != 1 {
			t.Errorf("organizer's zone shows %d invites redeemed twice, want 1", zi.InvitesRedeemedTwice)
		}
	}
}

// TestInviteUsedAcrossRestart: the node that handed out an invite's zone
// remembers it in its store, so the invite stays used after that node
// restarts even when the joiner's announcement never arrived (the joiner
// took the grant and went away; or gossip was slow). Before, the record
// was in memory only, and under load a second person could join with the
// same code after the inviter's restart.
func TestInviteUsedAcrossRestart(t *testing.T) {
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
	parsed, err := lp.ParseInviteCode(inv.Code)
	if err != nil {
		t.Fatal(err)
	}
	key, err := lp.InviteIdentity(parsed.Secret)
	if err != nil {
		t.Fatal(err)
	}
	kem, err := crypto.NewKEMKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	// Node 1 takes the grant by hand and never joins or announces.
	req, err := lp.NewJoinRequest(key, node.Identity(nw.Nodes[1]).Public(), kem.PublicBytes())
	if err != nil {
		t.Fatal(err)
	}
	if err := node.ConnectTo(ctx, nw.Nodes[1], nw.Nodes[0]); err != nil {
		t.Fatal(err)
	}
	granted, reason, err := node.JoinRaw(ctx, nw.Nodes[1], nw.Nodes[0].PeerID(), req.MarshalBinary())
	if err != nil || !granted {
		t.Fatalf("first redemption: granted %v, reason %q (%v)", granted, reason, err)
	}
	if err := nw.Restart(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if known, rs, _ := node.InviteState(nw.Nodes[0], inv.Code); !known || len(rs) != 0 {
		t.Fatalf("test set-up: the inviter knows of %d redeemers (known %v); want none from governance", len(rs), known)
	}
	_, err = nw.Nodes[2].Join(ctx, inv.Code)
	wantErr(t, err, []error{api.ErrForbidden}, "already used")
	assertZoneIDs(t, nw, 2)
	// The first joiner asking again (its answer lost) is still answered.
	granted, reason, err = node.JoinRaw(ctx, nw.Nodes[1], nw.Nodes[0].PeerID(), req.MarshalBinary())
	if err != nil || !granted {
		t.Errorf("the same joiner asking again: granted %v, reason %q (%v)", granted, reason, err)
	}
}
