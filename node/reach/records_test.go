package reach

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/record"
	ma "github.com/multiformats/go-multiaddr"
)

// TestRecords: a connected peer's signed record from identify is kept and
// names the peer's addresses; it goes when the peer disconnects.
func TestRecords(t *testing.T) {
	a, b := newHost(t), newHost(t)
	recs, err := NewRecords(a)
	if err != nil {
		t.Fatal(err)
	}
	defer recs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.Connect(ctx, peer.AddrInfo{ID: b.ID(), Addrs: b.Addrs()}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "b's record", func() bool { return recs.Get(b.ID()) != nil })
	_, r, err := record.ConsumeEnvelope(recs.Get(b.ID()), peer.PeerRecordEnvelopeDomain)
	if err != nil {
		t.Fatal(err)
	}
	if pr := r.(*peer.PeerRecord); pr.PeerID != b.ID() || len(pr.Addrs) == 0 || !pr.Addrs[0].Equal(b.Addrs()[0]) {
		t.Errorf("record names %s at %v, want %s at %v", pr.PeerID, pr.Addrs, b.ID(), b.Addrs())
	}
	if err := a.Network().ClosePeer(b.ID()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "b's record gone", func() bool { return recs.Get(b.ID()) == nil })
}

// TestRecordsRefuse: Put keeps no record signed by another key than the
// peer's, none of another peer, and never an older one over a newer.
func TestRecordsRefuse(t *testing.T) {
	seed := rand.NewChaCha8([32]byte{3})
	key := func() crypto.PrivKey {
		k, _, err := crypto.GenerateEd25519Key(seed)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	kp, kx := key(), key()
	p, _ := peer.IDFromPrivateKey(kp)
	seal := func(id peer.ID, k crypto.PrivKey, seq uint64, addr string) *record.Envelope {
		rec := peer.PeerRecordFromAddrInfo(peer.AddrInfo{ID: id, Addrs: []ma.Multiaddr{ma.StringCast(addr)}})
		rec.Seq = seq
		env, err := record.Seal(rec, k)
		if err != nil {
			t.Fatal(err)
		}
		return env
	}
	r := &Records{recs: map[peer.ID]*record.Envelope{}}
	r.Put(p, seal(p, kx, 1, "/ip4/100.1.0.1/tcp/1")) // p's ID, another key
	if r.Get(p) != nil {
		t.Error("kept a record signed by another key")
	}
	r.Put(peer.ID("other"), seal(p, kp, 1, "/ip4/100.1.0.1/tcp/1")) // kept under another peer
	if r.Get(peer.ID("other")) != nil {
		t.Error("kept p's record as another peer's")
	}
	newer, older := seal(p, kp, 5, "/ip4/100.1.0.1/tcp/5"), seal(p, kp, 4, "/ip4/100.1.0.1/tcp/4")
	r.Put(p, newer)
	r.Put(p, older)
	want, _ := newer.Marshal()
	if got := r.Get(p); string(got) != string(want) {
		t.Error("an older record replaced a newer one")
	}
}

func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}
