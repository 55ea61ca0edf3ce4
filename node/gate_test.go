package node_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"lookout/crypto"
	"lookout/node"
	"lookout/node/api"
	"lookout/node/membership"
	"lookout/node/sim"
)

// gatedPeer is a bare host on nw's mocknet, connected to target, running a
// membership gate that holds the zone secret's epoch 0 (nil: no zone). It
// returns once the proof with target is done.
func gatedPeer(t *testing.T, ctx context.Context, nw *sim.Network, target *node.Node, secret *crypto.ZoneSecret) host.Host {
	t.Helper()
	h, g := gatedHost(t, nw, secret)
	if _, err := nw.Mocknet.LinkPeers(h.ID(), target.PeerID()); err != nil {
		t.Fatal(err)
	}
	if _, err := nw.Mocknet.ConnectPeers(h.ID(), target.PeerID()); err != nil {
		t.Fatal(err)
	}
	if err := g.Wait(ctx, target.PeerID()); err != nil {
		t.Fatal(err)
	}
	return h
}

func gatedHost(t *testing.T, nw *sim.Network, secret *crypto.ZoneSecret) (host.Host, *membership.Gate) {
	t.Helper()
	h, err := nw.Mocknet.GenPeer()
	if err != nil {
		t.Fatal(err)
	}
	g, err := membership.New(h, membership.KeyringFunc(func() []membership.ZoneKey {
		if secret == nil {
			return nil
		}
		return []membership.ZoneKey{{Topic: secret.TopicName(0), Key: secret.ProofKey(0)}}
	}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close(); h.Close() })
	return h, g
}

// zoneSecret reads the secret of n's only zone from its store.
func zoneSecret(t *testing.T, n *node.Node) crypto.ZoneSecret {
	t.Helper()
	raw, err := node.StoredZones(n)
	if err != nil || len(raw) != 1 {
		t.Fatalf("stored zones: %d (%v), want 1", len(raw), err)
	}
	var rec struct{ Secret []byte }
	if err := json.Unmarshal(raw[0], &rec); err != nil {
		t.Fatal(err)
	}
	var s crypto.ZoneSecret
	copy(s[:], rec.Secret)
	return s
}

// probe is a bare gossipsub router on a host, without the gate's filters,
// subscribed to a topic: what a peer running it learns and receives.
type probe struct {
	ps  *pubsub.PubSub
	sub *pubsub.Subscription
	got chan []byte
}

func newProbe(t *testing.T, ctx context.Context, h host.Host, topic string, opts ...pubsub.Option) *probe {
	t.Helper()
	ps, err := pubsub.NewGossipSub(ctx, h, append([]pubsub.Option{pubsub.WithMessageSignaturePolicy(pubsub.StrictNoSign), pubsub.WithNoAuthor(),
		pubsub.WithMessageIdFn(func(m *pb.Message) string { return msgID(m.Data) })}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	tp, err := ps.Join(topic)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := tp.Subscribe()
	if err != nil {
		t.Fatal(err)
	}
	p := &probe{ps: ps, sub: sub, got: make(chan []byte, 16)}
	go func() {
		for {
			m, err := sub.Next(ctx)
			if err != nil {
				return
			}
			p.got <- m.Data
		}
	}()
	return p
}

// TestGateStranger: a stranger that dials a member's node (and speaks the
// membership proof, proving no zone) is announced no topic, receives no
// envelope, is sent no sync hello and cannot open a sync or link stream,
// while a peer that proved the zone gets all of it.
func TestGateStranger(t *testing.T) {
	ctx := testContext(t)
	nw := startNet(t, ctx, 2, newClock())
	z := formZone(t, ctx, nw, "north", nil)
	target := nw.Nodes[0]
	secret := zoneSecret(t, target)
	topic := secret.TopicName(0)

	// Sync hellos the node sends each peer.
	var mu sync.Mutex
	hellos := map[peer.ID]int{}
	countHellos := func(h host.Host) {
		h.SetStreamHandler("/sync/4.0.0", func(s network.Stream) {
			mu.Lock()
			hellos[h.ID()]++
			mu.Unlock()
			s.Reset()
		})
	}

	// The stranger first, so what the proven peer is sent later is sent
	// after the stranger was connected and had its verdict.
	sh, sg := gatedHost(t, nw, nil)
	countHellos(sh)
	stranger := newProbe(t, ctx, sh, topic)
	if _, err := nw.Mocknet.LinkPeers(sh.ID(), target.PeerID()); err != nil {
		t.Fatal(err)
	}
	if _, err := nw.Mocknet.ConnectPeers(sh.ID(), target.PeerID()); err != nil {
		t.Fatal(err)
	}
	if err := sg.Wait(ctx, target.PeerID()); err != nil {
		t.Fatal(err)
	}
	if target.Member(sh.ID()) {
		t.Fatal("the node counts a stranger as a member")
	}

	mh, mg := gatedHost(t, nw, &secret)
	countHellos(mh)
	if _, err := nw.Mocknet.LinkPeers(mh.ID(), target.PeerID()); err != nil {
		t.Fatal(err)
	}
	if _, err := nw.Mocknet.ConnectPeers(mh.ID(), target.PeerID()); err != nil {
		t.Fatal(err)
	}
	if err := mg.Wait(ctx, target.PeerID()); err != nil {
		t.Fatal(err)
	}
	// The proven peer is sent a sync hello.
	if err := sim.WaitFor(ctx, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return hellos[mh.ID()] > 0
	}); err != nil {
		t.Fatalf("the proven peer got no sync hello: %v", err)
	}
	if !target.Member(mh.ID()) {
		t.Error("the node does not count a proven peer as a member")
	}
	// A report from another member reaches the node, and through it
	// nothing reaches the stranger.
	if _, err := nw.Nodes[1].Report(ctx, api.ReportRequest{Zone: z.ID, What: "van", Where: "corner"}); err != nil {
		t.Fatal(err)
	}
	if err := sim.WaitFor(ctx, func() bool { as, _ := target.Alerts(z.ID); return len(as) == 1 }); err != nil {
		t.Fatal(err)
	}
	for _, zz := range target.Zones() {
		if slices.Contains(zz.Peers, sh.ID().String()) {
			t.Errorf("the node counts the stranger on the zone topic: %v", zz.Peers)
		}
	}
	select {
	case <-stranger.got:
		t.Error("the stranger received an envelope")
	default:
	}
	if ps := stranger.ps.ListPeers(topic); len(ps) != 0 {
		t.Errorf("the stranger learned the topic's subscribers: %v", ps)
	}
	mu.Lock()
	if n := hellos[sh.ID()]; n != 0 {
		t.Errorf("the stranger was sent %d sync hellos", n)
	}
	mu.Unlock()

	// Identify lists no protocol that names Lookout.
	protos, err := sh.Peerstore().GetProtocols(target.PeerID())
	if err != nil || len(protos) == 0 {
		t.Fatalf("no protocols from identify: %v", err)
	}
	for _, p := range protos {
		if strings.Contains(strings.ToLower(string(p)), "lookout") {
			t.Errorf("identify lists %q", p)
		}
	}

	// Streams: sync and link are refused to the stranger.
	key := secret.SyncKey(0)
	if m, err := askSync(t, sh, target, syncHello(sh.ID(), target.PeerID(), &key, 0)); err == nil {
		t.Errorf("stranger's sync hello with the zone's token: offered %d IDs, want refused", m)
	}
	if err := sendLinkFrame(ctx, sh, target.PeerID()); err == nil {
		t.Error("the stranger's link stream got an answer, want it refused")
	}
}

// sendLinkFrame writes a junk link frame to p and reads the answer.
func sendLinkFrame(ctx context.Context, h host.Host, p peer.ID) error {
	s, err := h.NewStream(ctx, p, "/link/3.0.0")
	if err != nil {
		return err
	}
	defer s.Close()
	s.SetDeadline(time.Now().Add(30 * time.Second))
	frame := bytes.Repeat([]byte{7}, 64)
	if _, err := s.Write(binary.BigEndian.AppendUint32(nil, uint32(len(frame)))); err != nil {
		return err
	}
	if _, err := s.Write(frame); err != nil {
		return err
	}
	var b [3]byte
	if _, err := io.ReadFull(s, b[:]); err != nil {
		return err
	}
	return nil
}

// TestDefaultLogsNameNothing: at the default level, through a join, a
// report and a removal, the nodes' logs name no zone, member name or ID,
// alert ID or text.
func TestDefaultLogsNameNothing(t *testing.T) {
	ctx := testContext(t)
	logs := []*syncBuf{{}, {}, {}}
	nw := startNetLogged(t, ctx, logs, newClock(), newClock(), newClock())
	z := formZone(t, ctx, nw, "zonenamexyz", nil)
	const what, where = "secretvantext", "secretcornerplace"
	a, err := nw.Nodes[1].Report(ctx, api.ReportRequest{Zone: z.ID, What: what, Where: where})
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.WaitFor(ctx, func() bool { as, _ := nw.Nodes[2].Alerts(z.ID); return len(as) == 1 }); err != nil {
		t.Fatal(err)
	}
	// The remover must know the member first (its announcement travels).
	waitKeysKnown(t, ctx, nw, z.ID)
	if _, err := nw.Nodes[0].Remove(ctx, z.ID, nw.Nodes[2].MemberID().String()); err != nil {
		t.Fatal(err)
	}
	if err := sim.WaitFor(ctx, func() bool {
		for _, zz := range nw.Nodes[2].Zones() {
			if zz.ID == z.ID {
				return zz.Removed
			}
		}
		return false
	}); err != nil {
		t.Fatalf("the removed member's node never learned it: %v", err)
	}
	secrets := []string{"zonenamexyz", z.ID, what, where, a.ID}
	for i, n := range nw.Nodes {
		secrets = append(secrets, n.MemberID().String(), n.PeerID().String(), fmt.Sprintf("node%d", i))
	}
	for i, l := range logs {
		out := l.String()
		if out == "" {
			t.Errorf("node %d logged nothing: the test scans nothing", i)
		}
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("node %d's default log names %q:\n%s", i, s, out)
			}
		}
	}
}

// TestGateForwarding: with the gate on every node, a member that is not
// connected to the reporter still receives the report, forwarded by a
// member connected to both.
func TestGateForwarding(t *testing.T) {
	ctx := testContext(t)
	clk := newClock()
	logs := []*syncBuf{{}, {}, {}}
	nw := startNetLogged(t, ctx, logs, clk, clk, clk)
	z := formZone(t, ctx, nw, "north", nil)
	a, c := nw.Nodes[0].PeerID(), nw.Nodes[2].PeerID()
	if err := nw.Mocknet.UnlinkPeers(a, c); err != nil {
		t.Fatal(err)
	}
	nw.Mocknet.DisconnectPeers(a, c)
	nw.Mocknet.DisconnectPeers(c, a)
	if err := sim.WaitFor(ctx, func() bool {
		return nw.Nodes[0].Status().Peers != nil && !slices.Contains(nw.Nodes[0].Status().Peers, c.String())
	}); err != nil {
		t.Fatal(err)
	}
	r, err := nw.Nodes[0].Report(ctx, api.ReportRequest{Zone: z.ID, What: "van", Where: "corner"})
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.WaitFor(ctx, func() bool {
		as, _ := nw.Nodes[2].Alerts(z.ID)
		return slices.ContainsFunc(as, func(x api.Alert) bool { return x.ID == r.ID })
	}); err != nil {
		t.Fatalf("the report did not reach the member through the other member: %v", err)
	}
	if strings.Contains(logs[2].String(), "caught up") {
		t.Logf("node 2 caught up by sync; gossip forwarding not shown:\n%s", logs[2].String())
	}
}

// TestGateClosesStrangers: a peer that completes the proof but proves no
// zone is disconnected after the grace period; a proven peer stays, and a
// joiner (which proves nothing until its grant) still joins.
func TestGateClosesStrangers(t *testing.T) {
	old := node.SetStrangerGrace(time.Second)
	t.Cleanup(func() { node.SetStrangerGrace(old) })
	ctx := testContext(t)
	nw := startNet(t, ctx, 2, newClock())
	formZone(t, ctx, nw, "north", nil)
	target := nw.Nodes[0]
	secret := zoneSecret(t, target)
	sh := gatedPeer(t, ctx, nw, target, nil)
	mh := gatedPeer(t, ctx, nw, target, &secret)
	if err := sim.WaitFor(ctx, func() bool {
		return sh.Network().Connectedness(target.PeerID()) != network.Connected
	}); err != nil {
		t.Fatalf("the stranger is still connected: %v", err)
	}
	if mh.Network().Connectedness(target.PeerID()) != network.Connected || !target.Member(mh.ID()) {
		t.Error("the proven peer was disconnected")
	}
	if !target.Member(nw.Nodes[1].PeerID()) || !slices.Contains(target.Status().Peers, nw.Nodes[1].PeerID().String()) {
		t.Error("the member that joined is not a connected member")
	}
}
