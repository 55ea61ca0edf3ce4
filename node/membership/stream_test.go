package membership

import (
	"bytes"
	"encoding/binary"
	"errors"
	"log/slog"
	"slices"
	"testing"
	"time"

	pubsubpb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"
)

// captureStream records what the filter writes.
type captureStream struct {
	network.Stream
	buf bytes.Buffer
}

func (c *captureStream) Write(b []byte) (int, error)         { return c.buf.Write(b) }
func (c *captureStream) SetWriteDeadline(time.Time) error    { return nil }
func (c *captureStream) frames(t *testing.T) []*pubsubpb.RPC { return readFrames(t, c.buf.Bytes()) }

func readFrames(t *testing.T, b []byte) []*pubsubpb.RPC {
	t.Helper()
	var out []*pubsubpb.RPC
	for len(b) > 0 {
		n, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < n {
			t.Fatalf("bad frame")
		}
		rpc := new(pubsubpb.RPC)
		if err := proto.Unmarshal(b[k:k+int(n)], rpc); err != nil {
			t.Fatal(err)
		}
		out = append(out, rpc)
		b = b[k+int(n):]
	}
	return out
}

func frame(t *testing.T, rpc *pubsubpb.RPC) []byte {
	t.Helper()
	b, err := proto.Marshal(rpc)
	if err != nil {
		t.Fatal(err)
	}
	return append(binary.AppendUvarint(nil, uint64(len(b))), b...)
}

// testFilter is a filter stream to peer "p" that may carry topic "shared".
func testFilter() (*filterStream, *captureStream, *Gate) {
	p := peer.ID("p")
	g := &Gate{log: slog.New(slog.DiscardHandler), cfg: config{timeout: time.Second}, peers: map[peer.ID]*peerState{
		p: {released: map[string]bool{"shared": true}, shared: map[string]bool{"shared": true}, streams: map[*filterStream]struct{}{}},
	}}
	c := &captureStream{}
	return &filterStream{Stream: c, g: g, p: p, wanted: map[string]bool{}, revealed: map[string]bool{}}, c, g
}

// Every topic-bearing part of an outgoing RPC about a topic the peer did
// not prove is stripped; the rest passes unchanged.
func TestFilterStripsUnprovenTopics(t *testing.T) {
	fs, c, _ := testFilter()
	in := &pubsubpb.RPC{
		Subscriptions: []*pubsubpb.RPC_SubOpts{subscribe("shared"), subscribe("secret")},
		Publish:       []*pubsubpb.Message{{Topic: proto.String("shared"), Data: []byte("ok")}, {Topic: proto.String("secret"), Data: []byte("no")}},
		Control: &pubsubpb.ControlMessage{
			Ihave:     []*pubsubpb.ControlIHave{{TopicID: proto.String("secret")}, {TopicID: proto.String("shared")}},
			Graft:     []*pubsubpb.ControlGraft{{TopicID: proto.String("secret")}},
			Prune:     []*pubsubpb.ControlPrune{{TopicID: proto.String("secret"), Peers: []*pubsubpb.PeerInfo{{PeerID: []byte("x")}}}},
			Iwant:     []*pubsubpb.ControlIWant{{MessageIDs: []string{"m"}}},
			Idontwant: []*pubsubpb.ControlIDontWant{{MessageIDs: []string{"n"}}},
		},
		Partial: &pubsubpb.PartialMessagesExtension{TopicID: proto.String("secret")},
	}
	b := frame(t, in)
	if n, err := fs.Write(b); err != nil || n != len(b) {
		t.Fatalf("write: %d, %v", n, err)
	}
	got := c.frames(t)
	if len(got) != 1 {
		t.Fatalf("%d frames", len(got))
	}
	want := &pubsubpb.RPC{
		Subscriptions: []*pubsubpb.RPC_SubOpts{subscribe("shared")},
		Publish:       []*pubsubpb.Message{{Topic: proto.String("shared"), Data: []byte("ok")}},
		Control: &pubsubpb.ControlMessage{
			Ihave:     []*pubsubpb.ControlIHave{{TopicID: proto.String("shared")}},
			Iwant:     []*pubsubpb.ControlIWant{{MessageIDs: []string{"m"}}},
			Idontwant: []*pubsubpb.ControlIDontWant{{MessageIDs: []string{"n"}}},
		},
	}
	if !proto.Equal(got[0], want) {
		t.Fatalf("got %v\nwant %v", got[0], want)
	}
	if !fs.wanted["secret"] || fs.revealed["secret"] || !fs.revealed["shared"] {
		t.Fatalf("wanted %v revealed %v", fs.wanted, fs.revealed)
	}

	// An RPC left with nothing is not written at all, but reported written.
	c.buf.Reset()
	b = frame(t, &pubsubpb.RPC{Subscriptions: []*pubsubpb.RPC_SubOpts{subscribe("other")}})
	if n, err := fs.Write(b); err != nil || n != len(b) {
		t.Fatalf("write: %d, %v", n, err)
	}
	if c.buf.Len() != 0 {
		t.Fatal("an emptied rpc was written")
	}
}

// What the filter cannot read it does not pass.
func TestFilterRefusesPartialFrames(t *testing.T) {
	fs, c, _ := testFilter()
	b := frame(t, &pubsubpb.RPC{Subscriptions: []*pubsubpb.RPC_SubOpts{subscribe("shared")}})
	for _, w := range [][]byte{b[:len(b)-1], append(slices.Clone(b), 0), {0x80}, append([]byte{3}, 0xff, 0xff, 0xff)} {
		if _, err := fs.Write(w); !errors.Is(err, errFrame) {
			t.Fatalf("write %x: %v, want errFrame", w, err)
		}
	}
	if c.buf.Len() != 0 {
		t.Fatal("something was written")
	}
}

// A new verdict announces the subscriptions it reveals and withdraws the
// ones it hides.
func TestReannounce(t *testing.T) {
	fs, c, g := testFilter()
	if _, err := fs.Write(frame(t, &pubsubpb.RPC{Subscriptions: []*pubsubpb.RPC_SubOpts{subscribe("shared"), subscribe("later")}})); err != nil {
		t.Fatal(err)
	}
	c.buf.Reset()
	g.peers["p"].released = map[string]bool{"later": true}
	fs.reannounce()
	got := c.frames(t)
	if len(got) != 1 {
		t.Fatalf("%d frames", len(got))
	}
	want := &pubsubpb.RPC{Subscriptions: []*pubsubpb.RPC_SubOpts{
		subscribe("later"),
		{Topicid: proto.String("shared"), Subscribe: proto.Bool(false)},
	}}
	if !proto.Equal(got[0], want) {
		t.Fatalf("got %v\nwant %v", got[0], want)
	}
	// A second verdict repeats what is revealed (the peer may have dropped
	// it under a stale verdict) and nothing it hides.
	c.buf.Reset()
	fs.reannounce()
	got = c.frames(t)
	if want := (&pubsubpb.RPC{Subscriptions: []*pubsubpb.RPC_SubOpts{subscribe("later")}}); len(got) != 1 || !proto.Equal(got[0], want) {
		t.Fatalf("second reannounce: got %v, want %v", got, want)
	}
	g.peers["p"].released = map[string]bool{}
	c.buf.Reset()
	fs.reannounce()
	fs.reannounce()
	got = c.frames(t)
	if want := (&pubsubpb.RPC{Subscriptions: []*pubsubpb.RPC_SubOpts{{Topicid: proto.String("later"), Subscribe: proto.Bool(false)}}}); len(got) != 1 || !proto.Equal(got[0], want) {
		t.Fatalf("withdrawn: got %v, want one unsubscription %v", got, want)
	}
}

func TestRelayACL(t *testing.T) {
	g := &Gate{peers: map[peer.ID]*peerState{
		"a":      {shared: map[string]bool{"A": true}},
		"a2":     {shared: map[string]bool{"A": true, "B": true}},
		"b":      {shared: map[string]bool{"B": true}},
		"nobody": {shared: map[string]bool{}},
		"failed": {shared: map[string]bool{"A": true}, failed: true},
	}}
	acl := g.RelayACL()
	for _, c := range []struct {
		p    peer.ID
		want bool
	}{{"a", true}, {"b", true}, {"nobody", false}, {"failed", false}, {"unknown", false}} {
		if got := acl.AllowReserve(c.p, nil); got != c.want {
			t.Errorf("reserve %s: %v, want %v", c.p, got, c.want)
		}
	}
	for _, c := range []struct {
		src, dest peer.ID
		want      bool
	}{
		{"a", "a2", true}, {"b", "a2", true}, {"a", "b", false},
		{"a", "failed", false}, {"nobody", "a", false}, {"unknown", "a", false},
	} {
		if got := acl.AllowConnect(c.src, nil, c.dest); got != c.want {
			t.Errorf("connect %s → %s: %v, want %v", c.src, c.dest, got, c.want)
		}
	}
}
