package membership

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pubsubpb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	"go.uber.org/goleak"
	"google.golang.org/protobuf/proto"

	"lookout/crypto"
	"lookout/protocol"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// Generous bounds: a slow -race run on two shared cores must not flake.
const (
	testTimeout = 90 * time.Second
	testRun     = 3 * time.Second  // one proof run
	testWindow  = 10 * time.Second // connection to verdict
)

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// eventually waits for cond, polling; it fails the test at the deadline.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// zone is a test zone epoch: its topic and proof key.
func zone(seed byte, epoch uint32) ZoneKey {
	s := crypto.ZoneSecret{seed, 0x5e}
	return ZoneKey{Topic: s.TopicName(epoch), Key: s.ProofKey(epoch)}
}

// keyring is a Keyring a test can change.
type keyring struct {
	mu   sync.Mutex
	keys []ZoneKey
}

var _ Keyring = (*keyring)(nil)

func (k *keyring) Keys() []ZoneKey {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]ZoneKey(nil), k.keys...)
}

func (k *keyring) set(keys ...ZoneKey) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.keys = keys
}

// newHost starts a libp2p host on loopback TCP only.
func newHost(t testing.TB) host.Host {
	t.Helper()
	h, err := libp2p.New(
		libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.DisableMetrics(),
		HostOption(),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func connect(t testing.TB, ctx context.Context, from, to host.Host) {
	t.Helper()
	if err := from.Connect(ctx, peer.AddrInfo{ID: to.ID(), Addrs: to.Addrs()}); err != nil {
		t.Fatal(err)
	}
}

// member is a node's network half: host, gate, gossipsub configured as the
// node configures it (no signatures, flood publishing, peer exchange on).
type member struct {
	h      host.Host
	keys   *keyring
	gate   *Gate
	ps     *pubsub.PubSub
	topics map[string]*pubsub.Topic
	got    map[string]chan []byte
}

func newMember(t *testing.T, ctx context.Context, opts []Option, keys ...ZoneKey) *member {
	t.Helper()
	return newMemberOn(t, ctx, newHost(t), opts, keys...)
}

func newMemberOn(t *testing.T, ctx context.Context, h host.Host, opts []Option, keys ...ZoneKey) *member {
	t.Helper()
	m := &member{h: h, keys: &keyring{}, topics: map[string]*pubsub.Topic{}, got: map[string]chan []byte{}}
	m.keys.set(keys...)
	g, err := New(m.h, m.keys, append([]Option{WithTimeout(testRun), WithWindow(testWindow)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	m.gate = g
	psCtx, cancel := context.WithCancel(ctx)
	ps, err := pubsub.NewGossipSub(psCtx, g.Host(), append(g.PubsubOptions(),
		pubsub.WithMessageSignaturePolicy(pubsub.StrictNoSign),
		pubsub.WithNoAuthor(),
		pubsub.WithMessageIdFn(func(m *pubsubpb.Message) string { h := sha256.Sum256(m.Data); return string(h[:]) }),
		pubsub.WithFloodPublish(true),
		pubsub.WithPeerExchange(true),
	)...)
	if err != nil {
		t.Fatal(err)
	}
	m.ps = ps
	t.Cleanup(func() {
		cancel()
		g.Close()
		m.h.Close()
	})
	for _, k := range keys {
		m.join(t, ctx, k.Topic)
	}
	return m
}

// join subscribes to topic and collects what arrives on it.
func (m *member) join(t *testing.T, ctx context.Context, topic string) {
	t.Helper()
	tp, err := m.ps.Join(topic)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := tp.Subscribe()
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan []byte, 64)
	m.topics[topic], m.got[topic] = tp, ch
	go func() {
		for {
			msg, err := sub.Next(ctx)
			if err != nil {
				return
			}
			if msg.ReceivedFrom != m.h.ID() {
				ch <- msg.Data
			}
		}
	}()
}

// publishUntil publishes data on topic until to receives it: the mesh and
// subscriptions form asynchronously, so the first publish may find no peer.
func (m *member) publishUntil(t *testing.T, ctx context.Context, topic string, to *member, data string) {
	t.Helper()
	for i := 0; ; i++ {
		msg := []byte(data + string(rune('a'+i%26)) + time.Now().String())
		if err := m.topics[topic].Publish(ctx, msg); err != nil {
			t.Fatal(err)
		}
		select {
		case <-to.got[topic]:
			return
		case <-time.After(200 * time.Millisecond):
		case <-ctx.Done():
			t.Fatalf("%s never reached the other member", data)
		}
	}
}

// revealed returns the topics m's outbound pubsub streams to p announced,
// and the topics pubsub asked to announce.
func (m *member) revealed(p peer.ID) (revealed, wanted map[string]bool) {
	revealed, wanted = map[string]bool{}, map[string]bool{}
	m.gate.mu.Lock()
	st := m.gate.peers[p]
	var streams []*filterStream
	if st != nil {
		for fs := range st.streams {
			streams = append(streams, fs)
		}
	}
	m.gate.mu.Unlock()
	for _, fs := range streams {
		fs.mu.Lock()
		for k, v := range fs.revealed {
			revealed[k] = v
		}
		for k, v := range fs.wanted {
			wanted[k] = v
		}
		fs.mu.Unlock()
	}
	return revealed, wanted
}

func (m *member) stats() stats {
	m.gate.mu.Lock()
	defer m.gate.mu.Unlock()
	return m.gate.stats
}

// recorder is a hostile peer speaking gossipsub by hand: it records every
// RPC it is sent and can send any RPC it likes.
type recorder struct {
	h    host.Host
	mu   sync.Mutex
	rpcs []*pubsubpb.RPC
}

func newRecorder(t *testing.T) *recorder {
	r := &recorder{h: newHost(t)}
	r.h.SetStreamHandler(pubsub.GossipSubID_v12, func(s network.Stream) {
		br := bufio.NewReader(s)
		for {
			n, err := binary.ReadUvarint(br)
			if err != nil || n > 1<<20 {
				s.Reset()
				return
			}
			b := make([]byte, n)
			if _, err := io.ReadFull(br, b); err != nil {
				s.Reset()
				return
			}
			rpc := new(pubsubpb.RPC)
			if err := proto.Unmarshal(b, rpc); err != nil {
				s.Reset()
				return
			}
			r.mu.Lock()
			r.rpcs = append(r.rpcs, rpc)
			r.mu.Unlock()
		}
	})
	return r
}

// send opens a gossipsub stream to p and writes rpcs.
func (r *recorder) send(t *testing.T, ctx context.Context, p peer.ID, rpcs ...*pubsubpb.RPC) error {
	t.Helper()
	s, err := r.h.NewStream(ctx, p, pubsub.GossipSubID_v12)
	if err != nil {
		return err
	}
	for _, rpc := range rpcs {
		b, err := proto.Marshal(rpc)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Write(append(binary.AppendUvarint(nil, uint64(len(b))), b...)); err != nil {
			return err
		}
	}
	return nil
}

// leaks lists what the recorder was told about topics or other peers.
func (r *recorder) leaks() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, rpc := range r.rpcs {
		for _, s := range rpc.GetSubscriptions() {
			out = append(out, "subscription "+s.GetTopicid())
		}
		for _, m := range rpc.GetPublish() {
			out = append(out, "message on "+m.GetTopic())
		}
		c := rpc.GetControl()
		for _, x := range c.GetIhave() {
			out = append(out, "ihave "+x.GetTopicID())
		}
		for _, x := range c.GetGraft() {
			out = append(out, "graft "+x.GetTopicID())
		}
		for _, x := range c.GetPrune() {
			out = append(out, "prune "+x.GetTopicID())
			if len(x.GetPeers()) > 0 {
				out = append(out, "peer exchange records")
			}
		}
	}
	return out
}

func subscribe(topic string) *pubsubpb.RPC_SubOpts {
	return &pubsubpb.RPC_SubOpts{Topicid: proto.String(topic), Subscribe: proto.Bool(true)}
}

func connected(a, b host.Host) bool {
	return a.Network().Connectedness(b.ID()) == network.Connected
}

// A stranger that knows a member's address (and even the zone's topic
// name) gets no subscription, no message, no control and no peer exchange
// record, whether it runs the proof with keys of its own or not at all.
func TestStrangerLearnsNothing(t *testing.T) {
	ctx := testContext(t)
	z := zone(1, 0)
	a := newMember(t, ctx, nil, z)
	b := newMember(t, ctx, nil, z)
	connect(t, ctx, b.h, a.h)
	a.publishUntil(t, ctx, z.Topic, b, "before")

	// A stranger running the proof with its own zone's key.
	s := newRecorder(t)
	sgate, err := New(s.h, &keyring{keys: []ZoneKey{zone(9, 0)}}, WithTimeout(testRun), WithWindow(testWindow))
	if err != nil {
		t.Fatal(err)
	}
	defer sgate.Close()
	connect(t, ctx, s.h, a.h)
	if err := a.gate.Wait(ctx, s.h.ID()); err != nil {
		t.Fatalf("stranger's proof did not complete: %v", err)
	}
	if a.gate.Member(s.h.ID()) || a.gate.Shares(s.h.ID(), z.Topic) {
		t.Fatal("stranger counted as a member")
	}
	// It asks for the zone's topic and grafts onto its mesh.
	bait := []*pubsubpb.RPC{
		{Subscriptions: []*pubsubpb.RPC_SubOpts{subscribe(z.Topic)}},
		{Control: &pubsubpb.ControlMessage{
			Graft: []*pubsubpb.ControlGraft{{TopicID: proto.String(z.Topic)}},
			Ihave: []*pubsubpb.ControlIHave{{TopicID: proto.String(z.Topic), MessageIDs: []string{"x"}}},
		}},
	}
	if err := s.send(t, ctx, a.h.ID(), bait...); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the stranger's subscription and graft to be dropped", func() bool {
		st := a.stats()
		return st.droppedSubs >= 1 && st.droppedRPCs >= 1
	})
	eventually(t, "pubsub's hello to the stranger to pass the filter", func() bool {
		_, wanted := a.revealed(s.h.ID())
		return wanted[z.Topic]
	})
	a.publishUntil(t, ctx, z.Topic, b, "after")

	if got := s.leaks(); len(got) > 0 {
		t.Fatalf("stranger was told: %v", got)
	}
	if rev, _ := a.revealed(s.h.ID()); len(rev) > 0 {
		t.Fatalf("topics announced to the stranger: %v", rev)
	}
	for _, p := range a.ps.ListPeers(z.Topic) {
		if p == s.h.ID() {
			t.Fatal("stranger is a peer of the zone topic")
		}
	}
	if !connected(a.h, s.h) {
		t.Fatal("a stranger that completed the proof was disconnected (joins need it)")
	}

	// A stranger that does not run the proof at all is cut at the end of
	// the window, having been told nothing.
	raw := newRecorder(t)
	connect(t, ctx, raw.h, a.h)
	_ = raw.send(t, ctx, a.h.ID(), bait...)
	eventually(t, "the silent stranger to be disconnected", func() bool { return !connected(a.h, raw.h) })
	if got := raw.leaks(); len(got) > 0 {
		t.Fatalf("silent stranger was told: %v", got)
	}
	if a.gate.Wait(ctx, raw.h.ID()) == nil {
		t.Fatal("silent stranger has a verdict")
	}
}

// A stranger's PRUNE with peer-exchange records (suspected in issue 12:
// "a prune from a stranger can point a node at attacker peers") is dropped
// whole by the RPC inspector, so the member never dials the peers it names.
func TestStrangerPruneCannotSteer(t *testing.T) {
	ctx := testContext(t)
	z := zone(1, 0)
	a := newMember(t, ctx, nil, z)
	b := newMember(t, ctx, nil, z)
	connect(t, ctx, b.h, a.h)
	a.publishUntil(t, ctx, z.Topic, b, "before")

	s := newRecorder(t)
	sgate, err := New(s.h, &keyring{keys: []ZoneKey{zone(9, 0)}}, WithTimeout(testRun), WithWindow(testWindow))
	if err != nil {
		t.Fatal(err)
	}
	defer sgate.Close()
	connect(t, ctx, s.h, a.h)
	if err := a.gate.Wait(ctx, s.h.ID()); err != nil {
		t.Fatalf("stranger's proof did not complete: %v", err)
	}
	evil := newHost(t)
	cab, ok := peerstore.GetCertifiedAddrBook(evil.Peerstore())
	if !ok {
		t.Fatal("no certified address book")
	}
	eventually(t, "the attacker's signed peer record", func() bool { return cab.GetPeerRecord(evil.ID()) != nil })
	rec, err := cab.GetPeerRecord(evil.ID()).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	dropped := a.stats().droppedRPCs
	prune := &pubsubpb.RPC{Control: &pubsubpb.ControlMessage{Prune: []*pubsubpb.ControlPrune{{
		TopicID: proto.String(z.Topic),
		Peers:   []*pubsubpb.PeerInfo{{PeerID: []byte(evil.ID()), SignedPeerRecord: rec}},
		Backoff: proto.Uint64(1),
	}}}}
	if err := s.send(t, ctx, a.h.ID(), prune); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the stranger's prune to be dropped", func() bool { return a.stats().droppedRPCs > dropped })
	a.publishUntil(t, ctx, z.Topic, b, "after")
	if connected(a.h, evil) {
		t.Fatal("a dialed a peer named in a stranger's prune")
	}
}

// Two members of a zone prove each other and exchange messages both ways.
func TestMembersProveAndExchange(t *testing.T) {
	ctx := testContext(t)
	z := zone(1, 3)
	a := newMember(t, ctx, nil, z)
	b := newMember(t, ctx, nil, z)
	connect(t, ctx, a.h, b.h)
	for _, c := range []struct{ m, other *member }{{a, b}, {b, a}} {
		if err := c.m.gate.Wait(ctx, c.other.h.ID()); err != nil {
			t.Fatal(err)
		}
		if !c.m.gate.Member(c.other.h.ID()) || !c.m.gate.Shares(c.other.h.ID(), z.Topic) {
			t.Fatal("member not proven")
		}
		if c.m.gate.Shares(c.other.h.ID(), zone(1, 4).Topic) {
			t.Fatal("proven for an epoch it does not hold")
		}
	}
	a.publishUntil(t, ctx, z.Topic, b, "a to b")
	b.publishUntil(t, ctx, z.Topic, a, "b to a")
}

// A member of zone A learns nothing of zone B of a peer it shares only A
// with, even if it knows B's topic name and subscribes to it.
func TestOtherZoneHidden(t *testing.T) {
	ctx := testContext(t)
	za, zb := zone(1, 0), zone(2, 0)
	p := newMember(t, ctx, nil, za, zb)
	c := newMember(t, ctx, nil, zb)
	connect(t, ctx, c.h, p.h)
	p.publishUntil(t, ctx, zb.Topic, c, "b")

	// a is in A only, speaks gossipsub by hand, and asks for B's topic.
	a := newRecorder(t)
	agate, err := New(a.h, &keyring{keys: []ZoneKey{za}}, WithTimeout(testRun), WithWindow(testWindow))
	if err != nil {
		t.Fatal(err)
	}
	defer agate.Close()
	connect(t, ctx, a.h, p.h)
	if err := agate.Wait(ctx, p.h.ID()); err != nil {
		t.Fatal(err)
	}
	if !agate.Shares(p.h.ID(), za.Topic) || agate.Shares(p.h.ID(), zb.Topic) {
		t.Fatal("wrong verdict on p")
	}
	if !p.gate.Shares(a.h.ID(), za.Topic) || p.gate.Shares(a.h.ID(), zb.Topic) {
		t.Fatal("wrong verdict on a")
	}
	if err := a.send(t, ctx, p.h.ID(), &pubsubpb.RPC{Subscriptions: []*pubsubpb.RPC_SubOpts{subscribe(za.Topic), subscribe(zb.Topic)}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a's subscription to A to be accepted", func() bool {
		for _, q := range p.ps.ListPeers(za.Topic) {
			if q == a.h.ID() {
				return true
			}
		}
		return false
	})
	eventually(t, "p to announce A to a", func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		return len(a.rpcs) > 0
	})
	p.publishUntil(t, ctx, zb.Topic, c, "b again")
	// A message on A reaches a: the stream is live, and B stays hidden.
	if err := p.topics[za.Topic].Publish(ctx, []byte("on A")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a to receive the message on A", func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		for _, rpc := range a.rpcs {
			if len(rpc.GetPublish()) > 0 {
				return true
			}
		}
		return false
	})
	for _, l := range a.leaks() {
		if l != "subscription "+za.Topic && l != "message on "+za.Topic && l != "ihave "+za.Topic && l != "graft "+za.Topic {
			t.Fatalf("a was told %q", l)
		}
	}
	if rev, _ := p.revealed(a.h.ID()); rev[zb.Topic] || !rev[za.Topic] {
		t.Fatalf("announced to a: %v", rev)
	}
	for _, q := range p.ps.ListPeers(zb.Topic) {
		if q == a.h.ID() {
			t.Fatal("a is a peer of B's topic")
		}
	}
}

// A peer that joins a zone, or two members that move to a new epoch, prove
// again and from then on exchange the zone's messages: the subscriptions
// pubsub sent before are announced after the new proof.
func TestReproofOnKeyChange(t *testing.T) {
	ctx := testContext(t)
	z0, z1 := zone(1, 0), zone(1, 1)
	a := newMember(t, ctx, nil, z0)
	b := newMember(t, ctx, nil) // a joiner: no zone yet
	connect(t, ctx, b.h, a.h)
	if err := a.gate.Wait(ctx, b.h.ID()); err != nil {
		t.Fatal(err)
	}
	if a.gate.Member(b.h.ID()) {
		t.Fatal("joiner is a member before it joined")
	}
	b.keys.set(z0)
	b.join(t, ctx, z0.Topic)
	b.gate.KeysChanged()
	eventually(t, "both sides to see the joined member", func() bool {
		return a.gate.Shares(b.h.ID(), z0.Topic) && b.gate.Shares(a.h.ID(), z0.Topic)
	})
	a.publishUntil(t, ctx, z0.Topic, b, "welcome")
	b.publishUntil(t, ctx, z0.Topic, a, "thanks")

	// Rotation: both hold the new epoch, then drop the old one.
	for _, m := range []*member{a, b} {
		m.keys.set(z0, z1)
		m.join(t, ctx, z1.Topic)
		m.gate.KeysChanged()
	}
	eventually(t, "the new epoch to be proven", func() bool {
		return a.gate.Shares(b.h.ID(), z1.Topic) && b.gate.Shares(a.h.ID(), z1.Topic)
	})
	a.publishUntil(t, ctx, z1.Topic, b, "new epoch")
	a.keys.set(z1)
	a.gate.KeysChanged()
	eventually(t, "the old epoch to be dropped", func() bool { return !a.gate.Shares(b.h.ID(), z0.Topic) })
	eventually(t, "the old topic to be withdrawn from b", func() bool {
		rev, _ := a.revealed(b.h.ID())
		return !rev[z0.Topic] && rev[z1.Topic]
	})
}

// A subscription that arrived while this side held a stale verdict (two
// overlapping runs: the older one recorded last) is dropped by the
// subscription filter; the run that corrects the verdict makes the peer
// announce it again, so the peer joins the topic's mesh.
func TestSubscriptionDroppedUnderStaleVerdictRecovers(t *testing.T) {
	ctx := testContext(t)
	z0, z1 := zone(1, 0), zone(2, 0)
	a := newMember(t, ctx, nil, z0, z1)
	b := newMember(t, ctx, nil, z0)
	connect(t, ctx, b.h, a.h)
	eventually(t, "the shared zone's mesh", func() bool { return slices.Contains(a.ps.ListPeers(z0.Topic), b.h.ID()) })

	b.keys.set(z0, z1)
	b.gate.KeysChanged()
	eventually(t, "the second zone to be proven", func() bool {
		return a.gate.Shares(b.h.ID(), z1.Topic) && b.gate.sends(a.h.ID(), z1.Topic)
	})
	a.gate.mu.Lock()
	a.gate.peers[b.h.ID()].shared = map[string]bool{z0.Topic: true} // what the older run saw
	a.gate.mu.Unlock()
	dropped := a.stats().droppedSubs
	b.join(t, ctx, z1.Topic)
	eventually(t, "b's subscription to be dropped at a", func() bool { return a.stats().droppedSubs > dropped })

	a.gate.KeysChanged() // the rerun that ends an overlap
	eventually(t, "b on a's topic after the rerun", func() bool { return slices.Contains(a.ps.ListPeers(z1.Topic), b.h.ID()) })
	b.publishUntil(t, ctx, z1.Topic, a, "after the rerun")
}

// Strangers holding proof streams idle cannot exhaust the gate (finding
// 7): each is cut when its run's deadline passes, a second stream of the
// same peer is refused at once, and a member still proves.
func TestIdleStrangersCannotExhaust(t *testing.T) {
	ctx := testContext(t)
	z := zone(1, 0)
	a := newMember(t, ctx, []Option{WithMaxRunning(2)}, z)

	var idle []host.Host
	for range 2 {
		s := newHost(t)
		connect(t, ctx, s, a.h)
		// It negotiates the protocol, sends one byte of its hello, and idles.
		st, err := s.NewStream(ctx, a.h.ID(), protocol.MembershipProtocol)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Write([]byte{protocol.MembershipVersion}); err != nil {
			t.Fatal(err)
		}
		idle = append(idle, s)
	}
	eventually(t, "the idle strangers to hold every slot", func() bool {
		a.gate.mu.Lock()
		defer a.gate.mu.Unlock()
		return a.gate.running == 2
	})
	// A second stream of the same stranger is refused.
	s2, err := idle[0].NewStream(ctx, a.h.ID(), protocol.MembershipProtocol)
	if err == nil {
		if _, err = s2.Write([]byte{protocol.MembershipVersion}); err == nil {
			_, err = io.ReadFull(s2, make([]byte, protocol.MembershipHelloSize))
		}
	}
	if err == nil {
		t.Fatal("a second proof stream of one peer was served")
	}

	b := newMember(t, ctx, nil, z)
	connect(t, ctx, b.h, a.h)
	if err := b.gate.Wait(ctx, a.h.ID()); err != nil {
		t.Fatalf("member could not prove while strangers idled: %v", err)
	}
	if !a.gate.Member(b.h.ID()) || !b.gate.Member(a.h.ID()) {
		t.Fatal("member not proven")
	}
	for _, s := range idle {
		if connected(a.h, s) {
			t.Fatal("idle stranger still connected")
		}
	}
	if st := a.stats(); st.refused < 1 || st.failed < 2 {
		t.Fatalf("stats %+v: want the second stream refused and both strangers failed", st)
	}
	a.publishUntil(t, ctx, z.Topic, b, "through")
}

// A peer that sends a malformed exchange is disconnected.
func TestMalformedProofDisconnects(t *testing.T) {
	ctx := testContext(t)
	a := newMember(t, ctx, nil, zone(1, 0))
	var nonce [protocol.MembershipNonceSize]byte
	badVersion := protocol.AppendMembershipHello(nil, nonce)
	badVersion[0] = protocol.MembershipVersion + 1
	goodHello := protocol.AppendMembershipHello(nil, nonce)
	for _, c := range []struct {
		name string
		send []byte
	}{
		{"wrong version", badVersion},
		{"truncated proof", append(goodHello, make([]byte, protocol.MembershipProofSize-1)...)},
		{"bad ack", append(append(goodHello, make([]byte, protocol.MembershipProofSize)...), 0x7f)},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newHost(t)
			connect(t, ctx, s, a.h)
			st, err := s.NewStream(ctx, a.h.ID(), protocol.MembershipProtocol)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.Write(c.send); err != nil {
				t.Fatal(err)
			}
			st.CloseWrite()
			eventually(t, "the peer to be disconnected", func() bool { return !connected(a.h, s) })
			if a.gate.Member(s.ID()) {
				t.Fatal("counted as a member")
			}
		})
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	h := newHost(t)
	for _, opts := range [][]Option{
		{WithTimeout(0)},
		{WithTimeout(time.Second), WithWindow(time.Millisecond)},
		{WithMaxRunning(0)},
	} {
		if _, err := New(h, &keyring{}, opts...); err == nil {
			t.Fatal("bad options accepted")
		}
	}
	if _, err := New(nil, &keyring{}); err == nil {
		t.Fatal("nil host accepted")
	}
}

// Identify announces a neutral agent, not the main module (a built
// binary's default is "lookout@<revision>", stood in for here), and the
// gate's protocol does not name Lookout.
func TestIdentifyAgentIsNeutral(t *testing.T) {
	ctx := testContext(t)
	a := newHost(t)
	b, err := libp2p.New(
		libp2p.UserAgent("lookout@0123456789"),
		libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.DisableMetrics(),
		HostOption(),
	)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	g, err := New(b, &keyring{})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	connect(t, ctx, a, b)
	eventually(t, "identify", func() bool {
		v, err := a.Peerstore().Get(b.ID(), "AgentVersion")
		return err == nil && v == UserAgent
	})
	protos, err := a.Peerstore().GetProtocols(b.ID())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(protos, protocol.MembershipProtocol) {
		t.Fatalf("identify did not list the gate's protocol: %v", protos)
	}
	for _, p := range protos {
		if strings.Contains(strings.ToLower(string(p)), "lookout") {
			t.Fatalf("protocol %q names Lookout", p)
		}
	}
}

// A peer cut for a failed proof that reconnects and proves is a member.
func TestReconnectAfterFailure(t *testing.T) {
	ctx := testContext(t)
	z := zone(1, 0)
	a := newMember(t, ctx, nil, z)
	b := newMember(t, ctx, nil, z)
	// b's first attempt is garbage on a stream of its own.
	connect(t, ctx, b.h, a.h)
	eventually(t, "the first proof to finish on both sides", func() bool {
		a.gate.mu.Lock()
		defer a.gate.mu.Unlock()
		st := a.gate.peers[b.h.ID()]
		return st != nil && st.decided && st.active == 0 && b.gate.Member(a.h.ID())
	})
	st, err := b.h.NewStream(ctx, a.h.ID(), protocol.MembershipProtocol)
	if err != nil {
		t.Fatal(err)
	}
	var nonce [protocol.MembershipNonceSize]byte
	bad := protocol.AppendMembershipHello(nil, nonce)
	bad[0]++
	if _, err := st.Write(bad); err != nil {
		t.Fatal(err)
	}
	eventually(t, "b to be cut", func() bool { return !connected(a.h, b.h) && !connected(b.h, a.h) })
	connect(t, ctx, b.h, a.h)
	eventually(t, "b to prove again", func() bool { return a.gate.Member(b.h.ID()) && b.gate.Member(a.h.ID()) })
	a.publishUntil(t, ctx, z.Topic, b, "again")
}
