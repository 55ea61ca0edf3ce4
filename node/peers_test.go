package node_test

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/core/record"
	ma "github.com/multiformats/go-multiaddr"

	"lookout/node"
	"lookout/node/api"
	"lookout/node/sim"
	"lookout/protocol"
)

// Nodes of the member-addresses test: 0 is in both zones, 1 and 2 are in
// north and cannot dial each other, 3 is in south only, 4 is in no zone.
const (
	addrHub, addrA, addrB, addrSouth, addrStranger = 0, 1, 2, 3, 4
)

// TestMemberAddresses: a member learns from another member the signed
// addresses of the members of the zones they share, and remembers them
// for redialling; a member of another zone learns nothing of them and a
// stranger gets no answer.
func TestMemberAddresses(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	nw, err := sim.Start(ctx, sim.Config{Nodes: 5, Dir: t.TempDir(), RedialInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nw.Close() })
	n := nw.Nodes
	// A and B are two homes that cannot reach each other yet.
	if err := nw.Mocknet.UnlinkPeers(n[addrA].PeerID(), n[addrB].PeerID()); err != nil {
		t.Fatal(err)
	}
	join := func(zone api.Zone, i int) {
		inv, err := n[addrHub].Invite(ctx, api.InviteRequest{Zone: zone.ID, Role: "member", TTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := n[i].Join(ctx, inv.Code); err != nil {
			t.Fatalf("node %d joins %s: %v", i, zone.Name, err)
		}
	}
	north, err := n[addrHub].CreateZone(ctx, "north")
	if err != nil {
		t.Fatal(err)
	}
	south, err := n[addrHub].CreateZone(ctx, "south")
	if err != nil {
		t.Fatal(err)
	}
	join(north, addrA)
	join(north, addrB)
	join(south, addrSouth)
	if err := nw.WaitZoneMesh(ctx, north.ID, []int{addrA, addrB}, 1); err != nil {
		t.Fatal(err)
	}
	if err := nw.WaitZoneMesh(ctx, south.ID, []int{addrSouth}, 1); err != nil {
		t.Fatal(err)
	}
	ps := func(i int) peerstore.Peerstore { return nw.Mocknet.Host(n[i].PeerID()).Peerstore() }

	// Once a member proves a zone, the members it shares it with remember
	// its address at once, not at the redial tick (an hour here): the hub
	// its new members, each new member the hub.
	err = sim.WaitFor(ctx, func() bool {
		return remembers(t, n[addrHub], north.ID, n[addrA].PeerID()) && remembers(t, n[addrHub], north.ID, n[addrB].PeerID()) &&
			remembers(t, n[addrHub], south.ID, n[addrSouth].PeerID()) && remembers(t, n[addrA], north.ID, n[addrHub].PeerID())
	})
	if err != nil {
		t.Fatalf("members' addresses not remembered on proof: %v", err)
	}
	if remembers(t, n[addrHub], south.ID, n[addrA].PeerID()) {
		t.Error("the hub remembers north's member for south")
	}

	// Mocknet hosts send no signed peer records in identify: give the
	// hub A's and B's as identify would.
	for _, i := range []int{addrA, addrB} {
		h := nw.Mocknet.Host(n[i].PeerID())
		env, err := record.Seal(peer.PeerRecordFromAddrInfo(peer.AddrInfo{ID: h.ID(), Addrs: h.Addrs()}), h.Peerstore().PrivKey(h.ID()))
		if err != nil {
			t.Fatal(err)
		}
		n[addrHub].PutPeerRecordForTest(h.ID(), env)
	}

	// A learns B's address from the hub and remembers it.
	hostB := nw.Mocknet.Host(n[addrB].PeerID())
	if err := n[addrA].AskPeersForTest(n[addrHub].PeerID()); err != nil {
		t.Fatalf("A asks the hub: %v", err)
	}
	if !slices.ContainsFunc(ps(addrA).Addrs(hostB.ID()), hostB.Addrs()[0].Equal) {
		t.Errorf("A did not learn B's address %v from the hub", hostB.Addrs())
	}
	if !remembers(t, n[addrA], north.ID, n[addrB].PeerID()) {
		t.Error("A's zone record does not remember B's address")
	}

	// The member of south only learns nothing of north's members.
	if err := n[addrSouth].AskPeersForTest(n[addrHub].PeerID()); err != nil {
		t.Fatalf("south's member asks the hub: %v", err)
	}
	for _, i := range []int{addrA, addrB} {
		if remembers(t, n[addrSouth], south.ID, n[i].PeerID()) {
			t.Errorf("south's member remembers north's member %d", i)
		}
	}

	// A stranger (proved no zone) gets the stream reset, no frame.
	hs := nw.Mocknet.Host(n[addrStranger].PeerID())
	if err := hs.Connect(ctx, peer.AddrInfo{ID: n[addrHub].PeerID()}); err != nil {
		t.Fatal(err)
	}
	s, err := hs.NewStream(ctx, n[addrHub].PeerID(), node.PeersProtocol)
	if err == nil {
		s.CloseWrite()
		if recs, err := protocol.ReadPeerRecords(s); err == nil {
			t.Errorf("a stranger got an answer of %d records", len(recs))
		}
		s.Close()
	}
}

// remembers reports whether n's stored record of zone lists an address of p.
func remembers(t *testing.T, n *node.Node, zone string, p peer.ID) bool {
	t.Helper()
	recs, err := node.StoredZones(n)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range recs {
		var r struct {
			ID    string   `json:"id"`
			Peers []string `json:"peers"`
		}
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		for _, s := range r.Peers {
			if r.ID == zone && strings.HasSuffix(s, "/p2p/"+p.String()) {
				return true
			}
		}
	}
	return false
}

// TestMemberAddressesForged: a member cannot hand out addresses in
// another peer's name, nor records of the wrong kind or of the asker.
func TestMemberAddressesForged(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	nw, err := sim.Start(ctx, sim.Config{Nodes: 2, Dir: t.TempDir(), RedialInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nw.Close() })
	n := nw.Nodes[0]
	seed := rand.NewChaCha8([32]byte{7})
	victim, liar := key(t, seed), key(t, seed)
	addr := ma.StringCast("/ip4/100.64.9.9/tcp/4719")
	seal := func(id peer.ID, k crypto.PrivKey) []byte {
		rec := peer.PeerRecordFromAddrInfo(peer.AddrInfo{ID: id, Addrs: []ma.Multiaddr{addr}})
		env, err := record.Seal(rec, k)
		if err != nil {
			t.Fatal(err)
		}
		b, err := env.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	victimID, liarID := idOf(t, victim), idOf(t, liar)
	recs := [][]byte{
		seal(victimID, liar),      // the victim's ID, the liar's signature
		seal(n.PeerID(), liar),    // the asker itself
		[]byte("not an envelope"), // garbage
		seal(liarID, liar),        // a proper record
	}
	got := n.ConsumePeerRecordsForTest(recs, nw.Nodes[1].PeerID())
	if len(got) != 1 || got[0].ID != liarID || len(got[0].Addrs) != 1 || !got[0].Addrs[0].Equal(addr) {
		t.Errorf("learned %v, want only the liar's own record", got)
	}
}

func key(t *testing.T, seed *rand.ChaCha8) crypto.PrivKey {
	t.Helper()
	k, _, err := crypto.GenerateEd25519Key(seed)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func idOf(t *testing.T, k crypto.PrivKey) peer.ID {
	t.Helper()
	id, err := peer.IDFromPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
