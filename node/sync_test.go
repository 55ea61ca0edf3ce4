package node_test

import (
	"bufio"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"io"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"lookout/crypto"
	"lookout/node"
	"lookout/node/api"
	"lookout/node/sim"
)

// syncHello builds a sync hello (/sync/4.0.0, frame version 2) by docs/protocol.md for one
// zone: key nil means a stranger's random token and digest.
func syncHello(from, to peer.ID, key *[32]byte, epoch uint32) []byte {
	nonce := make([]byte, 16)
	rand.Read(nonce)
	b := append([]byte{2}, nonce...)
	b = append(b, 1)
	b = binary.BigEndian.AppendUint32(b, epoch)
	if key == nil {
		junk := make([]byte, 32)
		rand.Read(junk)
		return append(b, junk...)
	}
	m := hmac.New(sha256.New, key[:])
	m.Write([]byte("lookout sync token v1"))
	m.Write(nonce)
	m.Write([]byte(from))
	m.Write([]byte(to))
	b = append(b, m.Sum(nil)[:16]...)
	m = hmac.New(sha256.New, key[:])
	m.Write([]byte("lookout sync digest v2"))
	m.Write(nonce)
	return append(b, m.Sum(nil)[:16]...) // digest of an empty set
}

// askSync sends hello from h to n and returns the number of IDs offered,
// or an error if the stream was refused or reset.
func askSync(t *testing.T, h host.Host, n *node.Node, hello []byte) (int, error) {
	t.Helper()
	s, err := h.NewStream(t.Context(), n.PeerID(), "/sync/4.0.0")
	if err != nil {
		return 0, err
	}
	defer s.Close()
	s.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := s.Write(hello); err != nil {
		return 0, err
	}
	r := bufio.NewReader(s)
	var b4 [4]byte
	if _, err := io.ReadFull(r, b4[:]); err != nil {
		return 0, err
	}
	m := binary.BigEndian.Uint32(b4[:])
	if _, err := io.CopyN(io.Discard, r, int64(m)*16); err != nil {
		return 0, err
	}
	s.Write(make([]byte, 4)) // want nothing
	s.CloseWrite()
	return int(m), nil
}

func TestSyncRevealsNothingToStrangers(t *testing.T) {
	ctx := testContext(t)
	nw := startNet(t, ctx, 2, newClock())
	z := formZone(t, ctx, nw, "north", nil)
	if _, err := nw.Nodes[1].Report(ctx, api.ReportRequest{Zone: z.ID, What: "van", Where: "corner"}); err != nil {
		t.Fatal(err)
	}
	target := nw.Nodes[0]
	if err := sim.WaitFor(ctx, func() bool { as, _ := target.Alerts(z.ID); return len(as) == 1 }); err != nil {
		t.Fatal(err)
	}
	raw, err := node.StoredZones(target)
	if err != nil {
		t.Fatal(err)
	}
	var rec struct{ Secret []byte }
	json.Unmarshal(raw[0], &rec)
	var secret crypto.ZoneSecret
	copy(secret[:], rec.Secret)
	key := secret.SyncKey(0)

	// A stranger (a proof of no zone) is refused before its hello is read.
	stranger := gatedPeer(t, ctx, nw, target, nil)
	if m, err := askSync(t, stranger, target, syncHello(stranger.ID(), target.PeerID(), &key, 0)); err == nil {
		t.Errorf("stranger: offered %d IDs, want the stream refused", m)
	}
	// A peer that proved the zone but sends a hello without its token gets
	// an empty offer.
	h := gatedPeer(t, ctx, nw, target, &secret)
	if m, err := askSync(t, h, target, syncHello(h.ID(), target.PeerID(), nil, 0)); err != nil || m != 0 {
		t.Errorf("member's hello with a random token: offered %d IDs (%v), want an empty offer", m, err)
	}
	// The same hello, keyed for another peer's ID, is refused too: a token
	// cannot be replayed by whoever overheard it.
	if m, err := askSync(t, h, target, syncHello(nw.Nodes[1].PeerID(), target.PeerID(), &key, 0)); err != nil || m != 0 {
		t.Errorf("hello with another peer's token: offered %d IDs (%v), want none", m, err)
	}
	// A member's hello gets the zone's messages offered: the governance
	// messages and the sighting.
	m, err := askSync(t, h, target, syncHello(h.ID(), target.PeerID(), &key, 0))
	if err != nil || m < 2 {
		t.Errorf("member's hello: offered %d IDs (%v), want at least 2", m, err)
	}
	// Past the burst, a peer is refused until its allowance refills.
	refused := false
	for range 12 {
		if _, err := askSync(t, h, target, syncHello(h.ID(), target.PeerID(), nil, 0)); err != nil {
			refused = true
			break
		}
	}
	if !refused {
		t.Error("a peer asking 15 times at once was never refused")
	}
}
