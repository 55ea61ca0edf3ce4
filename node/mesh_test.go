package node_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"sync"
	"testing"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"lookout/crypto"
	"lookout/node"
	"lookout/node/api"
	"lookout/node/membership"
	"lookout/node/sim"
	lp "lookout/protocol"
)

const meshNodes = 20

// tracer counts, per message ID, which gossipsub events a node saw.
type tracer struct {
	mu        sync.Mutex
	validated map[string]int
	delivered map[string]int
	rejected  map[string][]string
}

func newTracer() *tracer {
	return &tracer{validated: map[string]int{}, delivered: map[string]int{}, rejected: map[string][]string{}}
}

var _ pubsub.RawTracer = (*tracer)(nil)

func (t *tracer) ValidateMessage(m *pubsub.Message) {
	t.mu.Lock()
	t.validated[m.ID]++
	t.mu.Unlock()
}
func (t *tracer) DeliverMessage(m *pubsub.Message) {
	t.mu.Lock()
	t.delivered[m.ID]++
	t.mu.Unlock()
}
func (t *tracer) RejectMessage(m *pubsub.Message, reason string) {
	t.mu.Lock()
	t.rejected[m.ID] = append(t.rejected[m.ID], reason)
	t.mu.Unlock()
}
func (t *tracer) seen(id string) (validated, delivered int, rejected []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.validated[id], t.delivered[id], append([]string(nil), t.rejected[id]...)
}
func (*tracer) OnNewOutboundStream(peer.ID, protocol.ID)             {}
func (*tracer) OnClosedOutboundStream(peer.ID)                       {}
func (*tracer) Join(string)                                          {}
func (*tracer) Leave(string)                                         {}
func (*tracer) Graft(peer.ID, string)                                {}
func (*tracer) Prune(peer.ID, string)                                {}
func (*tracer) DuplicateMessage(*pubsub.Message)                     {}
func (*tracer) ThrottlePeer(peer.ID)                                 {}
func (*tracer) RecvRPC(*pubsub.RPC)                                  {}
func (*tracer) SendRPC(*pubsub.RPC, peer.ID)                         {}
func (*tracer) SendRPCCompleted(*pubsub.RPC, peer.ID, time.Duration) {}
func (*tracer) DropRPC(*pubsub.RPC, peer.ID)                         {}
func (*tracer) UndeliverableMessage(*pubsub.Message)                 {}

func msgID(data []byte) string {
	h := sha256.Sum256(data)
	return string(h[:])
}

type meshEnv struct {
	nw      *sim.Network
	tracers []*tracer
	zone    api.Zone
}

// startMesh starts n nodes with tracers, forms a zone with node 1 as an
// organizer, and waits for every node to see at least 2 topic peers.
func startMesh(t *testing.T, ctx context.Context, n int, extra ...pubsub.Option) *meshEnv {
	return startMeshWith(t, ctx, sim.Config{Nodes: n}, extra...)
}

// startMeshWith is startMesh with more of the network's configuration.
func startMeshWith(t *testing.T, ctx context.Context, cfg sim.Config, extra ...pubsub.Option) *meshEnv {
	t.Helper()
	env := &meshEnv{}
	for range cfg.Nodes {
		env.tracers = append(env.tracers, newTracer())
	}
	cfg.Dir = t.TempDir()
	cfg.PubsubOptions = func(i int) []pubsub.Option {
		return append([]pubsub.Option{pubsub.WithRawTracer(env.tracers[i])}, extra...)
	}
	nw, err := sim.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nw.Close() })
	env.nw = nw
	env.zone, err = nw.FormZone(ctx, "north", map[int]string{1: "organizer", 2: "verifier"})
	if err != nil {
		t.Fatal(err)
	}
	if err := nw.WaitMesh(ctx, env.zone.ID, 2); err != nil {
		t.Fatalf("mesh did not form: %v", err)
	}
	return env
}

// waitShown waits until every node lists the alert, and returns its views.
func (env *meshEnv) waitShown(t *testing.T, ctx context.Context, id string, ok func(api.Alert) bool) {
	t.Helper()
	err := sim.WaitFor(ctx, func() bool {
		for _, n := range env.nw.Nodes {
			found := false
			as, _ := n.Alerts(env.zone.ID)
			for _, a := range as {
				if a.ID == id && (ok == nil || ok(a)) {
					found = true
				}
			}
			if !found {
				return false
			}
		}
		return true
	})
	if err != nil {
		for i, n := range env.nw.Nodes {
			as, _ := n.Alerts(env.zone.ID)
			t.Logf("node %d: %d alerts %+v", i, len(as), as)
		}
		t.Fatalf("alert %s not shown everywhere: %v", id, err)
	}
}

func TestMeshFullDelivery(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	env := startMesh(t, ctx, meshNodes)
	nodes := env.nw.Nodes

	s, err := nodes[7].Report(ctx, api.ReportRequest{Zone: "north", What: "2 unmarked vans, 4 officers", Where: "Jane & Finch plaza", Size: 4})
	if err != nil {
		t.Fatal(err)
	}
	env.waitShown(t, ctx, s.ID, func(a api.Alert) bool { return a.Kind == "sighting" && a.State == "unconfirmed" })

	// A second member corroborates; a verifier verifies. Every node agrees.
	if _, err := nodes[9].Confirm(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	env.waitShown(t, ctx, s.ID, func(a api.Alert) bool { return a.State == "corroborated" && *a.Confirmations == 2 })
	if _, err := nodes[2].Confirm(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	env.waitShown(t, ctx, s.ID, func(a api.Alert) bool { return a.State == "verified" && *a.Confirmations == 3 })

	c, err := nodes[1].Callout(ctx, api.CalloutRequest{Zone: "north", Title: "Accompany the family", Where: "12 Elm St", Need: 5})
	if err != nil {
		t.Fatal(err)
	}
	env.waitShown(t, ctx, c.ID, nil)
	for _, i := range []int{4, 5, 6} {
		if _, err := nodes[i].Respond(ctx, c.ID, "enroute"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := nodes[6].Respond(ctx, c.ID, "onscene"); err != nil { // changes answer
		t.Fatal(err)
	}
	env.waitShown(t, ctx, c.ID, func(a api.Alert) bool {
		return a.Responders != nil && *a.Responders == api.Responders{EnRoute: 2, OnScene: 1}
	})

	// No message was delivered to any node twice (the views above show
	// every node got each one).
	for i, tr := range env.tracers {
		tr.mu.Lock()
		for id, c := range tr.delivered {
			if c != 1 {
				t.Errorf("node %d: message %x delivered %d times", i, id[:4], c)
			}
		}
		tr.mu.Unlock()
	}
}

// member is what a malicious member holds: its identity and zone files.
type member struct {
	id     *crypto.Identity
	secret crypto.ZoneSecret
	chain  lp.Chain
	zone   lp.ZoneID
}

func loadMember(t *testing.T, n *node.Node) member {
	t.Helper()
	id := node.Identity(n)
	raw, err := node.StoredZones(n)
	if err != nil || len(raw) != 1 {
		t.Fatalf("stored zones: %v (%d zones)", err, len(raw))
	}
	recs := make([]struct {
		ID     string
		Secret []byte
		Chain  [][]byte
	}, 1)
	if err := json.Unmarshal(raw[0], &recs[0]); err != nil {
		t.Fatalf("stored zone: %v", err)
	}
	m := member{id: id}
	copy(m.secret[:], recs[0].Secret)
	m.zone, _ = lp.ParseZoneID(recs[0].ID)
	for _, cb := range recs[0].Chain {
		c, err := lp.ParseCert(cb)
		if err != nil {
			t.Fatal(err)
		}
		m.chain = append(m.chain, c)
	}
	return m
}

func (m member) alert(kind lp.Kind, sent, expires time.Time) *lp.Alert {
	a := &lp.Alert{Kind: kind, Zone: m.zone, Sent: sent.Truncate(time.Millisecond), Expires: expires.Truncate(time.Millisecond),
		Status: lp.StatusActual, Urgency: lp.UrgencyImmediate, Severity: lp.SeveritySevere, Certainty: lp.CertaintyObserved, Area: "Main St"}
	switch kind {
	case lp.KindSighting:
		a.What = "forged sighting"
	case lp.KindCallout:
		a.Title = "go to the trap"
	}
	return a
}

func (m member) seal(t *testing.T, s *lp.Signed) []byte {
	t.Helper()
	env, err := lp.Seal(m.secret.AlertKey(0), 0, s, fixedReader{})
	if err != nil {
		t.Fatal(err)
	}
	return env
}

type fixedReader struct{}

func (fixedReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(i)
	}
	return len(p), nil
}

// TestMeshRejectsAttacks has an attacker, connected only to node 1, inject
// bad messages. Each must be rejected by node 1 (not shown there) and
// never reach any other node (not forwarded).
func TestMeshRejectsAttacks(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	env := startMesh(t, ctx, meshNodes)
	nodes := env.nw.Nodes
	now := time.Now()

	// The attacker is member 5 gone rogue: it keeps its keys and zone secret
	// and talks raw gossipsub, skipping its node's checks.
	rogue := loadMember(t, env.nw.Nodes[5])
	outsider, err := crypto.IdentityFromSeed(make([]byte, crypto.SeedSize))
	if err != nil {
		t.Fatal(err)
	}

	// Each attack comes from a fresh host linked only to node 1, since node
	// 1 graylists a peer after a few invalid messages (tested last).
	attacker := func() *pubsub.Topic { return env.attacker(t, ctx, 1, rogue.secret) }
	topic := attacker()

	sign := func(id *crypto.Identity, chain lp.Chain, a *lp.Alert) *lp.Signed {
		s, err := lp.Sign(id, chain, a)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	valid := sign(rogue.id, rogue.chain, rogue.alert(lp.KindSighting, now, now.Add(time.Hour)))

	// A genuine alert from the rogue member, sent raw; it is valid, so it
	// is delivered everywhere. Replaying it later must do nothing.
	original := sign(rogue.id, rogue.chain, rogue.alert(lp.KindSighting, now.Add(-time.Second), now.Add(time.Hour)))
	originalEnv := rogue.seal(t, original)
	if err := topic.Publish(ctx, originalEnv); err != nil {
		t.Fatal(err)
	}
	env.waitShown(t, ctx, original.ID.String(), nil)
	legit := 1

	tests := []struct {
		name   string
		env    func() []byte
		replay bool
	}{
		{"forged ed25519 half", func() []byte {
			s := *valid
			s.Sig = append([]byte(nil), valid.Sig...)
			s.Sig[0] ^= 1
			return rogue.seal(t, &s)
		}, false},
		{"forged ml-dsa half", func() []byte {
			s := *valid
			s.Sig = append([]byte(nil), valid.Sig...)
			s.Sig[len(s.Sig)-1] ^= 1
			return rogue.seal(t, &s)
		}, false},
		{"outsider with a self-made certificate", func() []byte {
			c, err := lp.IssueCert(outsider, rogue.zone, outsider.Public(), lp.RoleOrganizer, now, now.Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			return rogue.seal(t, sign(outsider, lp.Chain{c}, rogue.alert(lp.KindCallout, now, now.Add(time.Hour))))
		}, false},
		{"callout from a member", func() []byte {
			return rogue.seal(t, sign(rogue.id, rogue.chain, rogue.alert(lp.KindCallout, now, now.Add(time.Hour))))
		}, false},
		{"tampered ciphertext", func() []byte {
			e := rogue.seal(t, valid)
			e[len(e)-20] ^= 1
			return e
		}, false},
		{"expired alert", func() []byte {
			return rogue.seal(t, sign(rogue.id, rogue.chain, rogue.alert(lp.KindSighting, now.Add(-5*time.Hour), now.Add(-time.Hour))))
		}, false},
		{"replay after the seen-cache expired", func() []byte {
			// Restarting node 1 empties gossipsub's seen-cache (as its 120 s
			// TTL would); only the node's persisted replay cache stands.
			if err := env.nw.Restart(ctx, 1); err != nil {
				t.Fatal(err)
			}
			if err := env.nw.WaitMesh(ctx, env.zone.ID, 1); err != nil {
				t.Fatal(err)
			}
			return originalEnv
		}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bad := tc.env()
			id := msgID(bad)
			before := make([][2]int, len(nodes))
			for i, tr := range env.tracers {
				v, d, _ := tr.seen(id)
				before[i] = [2]int{v, d}
			}
			_, _, rej := env.tracers[1].seen(id)
			// A fresh attacker host can occasionally lose its only message
			// while its link to node 1 is still settling (seen right after
			// node 1 restarts); each attempt uses a new host.
			rejected := func() bool { _, _, r := env.tracers[1].seen(id); return len(r) > len(rej) }
			for attempt := 1; ; attempt++ {
				if err := attacker().Publish(ctx, bad); err != nil {
					t.Fatal(err)
				}
				wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
				err := sim.WaitFor(wctx, rejected)
				cancel()
				if err == nil {
					break
				}
				if attempt == 3 {
					t.Fatalf("node 1 never rejected the message: %v", err)
				}
			}
			// Barrier: a fresh alert from node 1 travels the same links after
			// anything node 1 might have forwarded.
			b, err := nodes[1].Report(ctx, api.ReportRequest{Zone: "north", What: "barrier " + tc.name, Where: "barrier " + tc.name})
			if err != nil {
				t.Fatal(err)
			}
			legit++
			env.waitShown(t, ctx, b.ID, nil)
			for i, tr := range env.tracers {
				v, d, _ := tr.seen(id)
				if d != before[i][1] {
					t.Errorf("node %d: shown %d times, want %d", i, d, before[i][1])
				}
				if i != 1 && v != before[i][0] {
					t.Errorf("node %d: received it %d times after node 1 rejected it: forwarded", i, v-before[i][0])
				}
			}
		})
	}

	// A peer that keeps sending invalid messages is graylisted: node 1 then
	// drops everything it sends, even a valid alert, before validation.
	t.Run("repeat offender graylisted", func(t *testing.T) {
		off := attacker()
		// P4 is -20 × invalid²: four invalid messages give -320, below the
		// graylist threshold of -200 (see score.go).
		for i := range 4 {
			e := rogue.seal(t, valid)
			e[len(e)-1-i] ^= 1
			id := msgID(e)
			if err := off.Publish(ctx, e); err != nil {
				t.Fatal(err)
			}
			if err := sim.WaitFor(ctx, func() bool { _, _, r := env.tracers[1].seen(id); return len(r) > 0 }); err != nil {
				t.Fatalf("invalid message %d not rejected: %v", i, err)
			}
		}
		good := rogue.seal(t, sign(rogue.id, rogue.chain, rogue.alert(lp.KindSighting, now.Add(time.Second), now.Add(time.Hour))))
		if err := off.Publish(ctx, good); err != nil {
			t.Fatal(err)
		}
		b, err := nodes[1].Report(ctx, api.ReportRequest{Zone: "north", What: "barrier after offender", Where: "barrier after offender"})
		if err != nil {
			t.Fatal(err)
		}
		legit++
		env.waitShown(t, ctx, b.ID, nil)
		if v, d, _ := env.tracers[1].seen(msgID(good)); v != 0 || d != 0 {
			t.Errorf("node 1 validated %d and showed %d messages from a graylisted peer", v, d)
		}
	})

	for i, n := range nodes {
		if i == 1 {
			continue // restarted: alerts are kept in memory only (for now)
		}
		as, err := n.Alerts("north")
		if err != nil {
			t.Fatal(err)
		}
		if len(as) != legit {
			t.Errorf("node %d shows %d alerts, want %d", i, len(as), legit)
		}
	}
}

// attacker starts a raw gossipsub host linked and connected only to node
// target, subscribed to the topic of the secret's epoch 0, skipping every
// check a node would make. It holds the secret, so it proves the zone to
// target's membership gate (a hostile member).
func (env *meshEnv) attacker(t *testing.T, ctx context.Context, target int, secret crypto.ZoneSecret) *pubsub.Topic {
	t.Helper()
	nodes := env.nw.Nodes
	topicName := secret.TopicName(0)
	h, err := env.nw.Mocknet.GenPeer()
	if err != nil {
		t.Fatal(err)
	}
	g, err := membership.New(h, membership.KeyringFunc(func() []membership.ZoneKey {
		return []membership.ZoneKey{{Topic: topicName, Key: secret.ProofKey(0)}}
	}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	if _, err := env.nw.Mocknet.LinkPeers(h.ID(), nodes[target].PeerID()); err != nil {
		t.Fatal(err)
	}
	ps, err := pubsub.NewGossipSub(ctx, h, pubsub.WithMessageSignaturePolicy(pubsub.StrictNoSign), pubsub.WithNoAuthor(),
		pubsub.WithMessageIdFn(func(m *pb.Message) string { return msgID(m.Data) }), pubsub.WithFloodPublish(true))
	if err != nil {
		t.Fatal(err)
	}
	topic, err := ps.Join(topicName)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := topic.Subscribe(); err != nil {
		t.Fatal(err)
	}
	if _, err := env.nw.Mocknet.ConnectPeers(h.ID(), nodes[target].PeerID()); err != nil {
		t.Fatal(err)
	}
	if err := sim.WaitFor(ctx, func() bool { return len(topic.ListPeers()) == 1 }); err != nil {
		t.Fatal("attacker never saw its target on the topic")
	}
	return topic
}

// TestShortRedialFormsMesh: at a redial interval far shorter than a proof
// run, the mesh still forms. The repair of a peer missing from a zone's
// topic once fired two ticks after the proof, before subscriptions could
// arrive; both ends reconnected at once, again and again, and the zone
// never formed a mesh.
func TestShortRedialFormsMesh(t *testing.T) {
	ctx := testContext(t)
	nw, err := sim.Start(ctx, sim.Config{Nodes: 3, Dir: t.TempDir(), Now: newClock().Now, RedialInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeNet(t, nw) })
	z := formZone(t, ctx, nw, "short", nil)
	barrier(t, ctx, nw, z.ID, 2, "over the mesh")
}
