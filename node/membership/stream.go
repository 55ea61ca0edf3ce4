package membership

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	pubsubpb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	libp2pproto "github.com/libp2p/go-libp2p/core/protocol"
	"google.golang.org/protobuf/proto"
)

// gatedHost is the host gossipsub sees: its pubsub streams exist only after
// the peer's verdict, and what they carry out is filtered by it.
type gatedHost struct {
	host.Host
	g *Gate
}

// NewStream waits for p's verdict before opening a pubsub stream, so
// pubsub's hello is written after it and filtered by it.
func (h *gatedHost) NewStream(ctx context.Context, p peer.ID, pids ...libp2pproto.ID) (network.Stream, error) {
	if !slices.ContainsFunc(pids, pubsubProtocol) {
		return h.Host.NewStream(ctx, p, pids...)
	}
	if err := h.g.Wait(ctx, p); err != nil {
		return nil, err
	}
	s, err := h.Host.NewStream(ctx, p, pids...)
	if err != nil {
		return nil, err
	}
	return h.g.track(p, s)
}

// SetStreamHandler gates pubsub's handlers: an inbound pubsub stream is
// handed to pubsub only once its peer has completed the proof.
func (h *gatedHost) SetStreamHandler(pid libp2pproto.ID, handler network.StreamHandler) {
	if pubsubProtocol(pid) {
		handler = h.g.gateInbound(handler)
	}
	h.Host.SetStreamHandler(pid, handler)
}

// SetStreamHandlerMatch gates pubsub's handlers like SetStreamHandler.
func (h *gatedHost) SetStreamHandlerMatch(pid libp2pproto.ID, m func(libp2pproto.ID) bool, handler network.StreamHandler) {
	if pubsubProtocol(pid) {
		handler = h.g.gateInbound(handler)
	}
	h.Host.SetStreamHandlerMatch(pid, m, handler)
}

func (g *Gate) gateInbound(handler network.StreamHandler) network.StreamHandler {
	return func(s network.Stream) {
		ctx, cancel := context.WithTimeout(g.ctx, g.cfg.window)
		defer cancel()
		if err := g.Wait(ctx, s.Conn().RemotePeer()); err != nil {
			s.Reset()
			return
		}
		handler(s)
	}
}

// track wraps an outbound pubsub stream to p in a filter.
func (g *Gate) track(p peer.ID, s network.Stream) (network.Stream, error) {
	fs := &filterStream{Stream: s, g: g, p: p, wanted: make(map[string]bool), revealed: make(map[string]bool)}
	g.mu.Lock()
	defer g.mu.Unlock()
	st, ok := g.peers[p]
	if !ok || st.failed {
		s.Reset()
		return nil, fmt.Errorf("open pubsub stream: %w", ErrNotProven)
	}
	st.streams[fs] = struct{}{}
	return fs, nil
}

func (g *Gate) untrack(fs *filterStream) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if st, ok := g.peers[fs.p]; ok {
		delete(st.streams, fs)
	}
}

// maxFrameHeader is the largest varint length prefix.
const maxFrameHeader = binary.MaxVarintLen64

// errFrame means pubsub wrote something that is not one whole RPC frame;
// the gate refuses to pass what it cannot filter.
var errFrame = errors.New("membership: outgoing pubsub write is not one whole rpc frame")

// filterStream is an outbound pubsub stream. pubsub v0.19.0 writes each RPC
// as one Write of a varint length and the protobuf; each is decoded,
// stripped of what the peer has not proved, and re-encoded.
type filterStream struct {
	network.Stream
	g *Gate
	p peer.ID

	mu       sync.Mutex
	wanted   map[string]bool // pubsub's own subscriptions, as it announced them
	revealed map[string]bool // topics announced to the peer as subscribed
}

func (fs *filterStream) Write(b []byte) (int, error) {
	size, n := binary.Uvarint(b)
	if n <= 0 || uint64(len(b)-n) != size {
		return 0, errFrame
	}
	var rpc pubsubpb.RPC
	if err := proto.Unmarshal(b[n:], &rpc); err != nil {
		return 0, fmt.Errorf("%w: %w", errFrame, err)
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.filter(&rpc)
	if proto.Size(&rpc) == 0 {
		return len(b), nil
	}
	if err := fs.writeLocked(&rpc); err != nil {
		return 0, err
	}
	return len(b), nil
}

func (fs *filterStream) writeLocked(rpc *pubsubpb.RPC) error {
	body, err := proto.Marshal(rpc)
	if err != nil {
		return fmt.Errorf("membership: encode filtered rpc: %w", err)
	}
	out := binary.AppendUvarint(make([]byte, 0, maxFrameHeader+len(body)), uint64(len(body)))
	_, err = fs.Stream.Write(append(out, body...))
	return err
}

// filter strips rpc of what fs.p has not proved. fs.mu is held.
func (fs *filterStream) filter(rpc *pubsubpb.RPC) {
	shares := func(t string) bool { return fs.g.sends(fs.p, t) }
	subs := rpc.Subscriptions[:0]
	for _, s := range rpc.Subscriptions {
		t := s.GetTopicid()
		fs.wanted[t] = s.GetSubscribe()
		switch {
		case s.GetSubscribe() && shares(t):
			fs.revealed[t] = true
			subs = append(subs, s)
		case !s.GetSubscribe() && fs.revealed[t]:
			delete(fs.revealed, t)
			subs = append(subs, s)
		}
	}
	rpc.Subscriptions = subs
	rpc.Publish = slices.DeleteFunc(rpc.Publish, func(m *pubsubpb.Message) bool { return !shares(m.GetTopic()) })
	if p := rpc.Partial; p != nil && !shares(p.GetTopicID()) {
		rpc.Partial = nil
	}
	if c := rpc.Control; c != nil {
		c.Ihave = slices.DeleteFunc(c.Ihave, func(x *pubsubpb.ControlIHave) bool { return !shares(x.GetTopicID()) })
		c.Graft = slices.DeleteFunc(c.Graft, func(x *pubsubpb.ControlGraft) bool { return !shares(x.GetTopicID()) })
		c.Prune = slices.DeleteFunc(c.Prune, func(x *pubsubpb.ControlPrune) bool { return !shares(x.GetTopicID()) })
		if proto.Size(c) == 0 {
			rpc.Control = nil
		}
	}
}

// reannounce tells the peer of the subscriptions a new verdict reveals or
// hides: pubsub never re-sends its hello. It repeats the ones already
// revealed too: two overlapping runs can leave the peer a stale verdict
// for a moment, in which its subscription filter dropped what was sent
// (the rerun after an overlap corrects the verdict, and this, ending that
// run, the subscriptions); a repeated subscription changes nothing.
func (fs *filterStream) reannounce() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var subs []*pubsubpb.RPC_SubOpts
	topics := make([]string, 0, len(fs.wanted))
	for t := range fs.wanted {
		topics = append(topics, t)
	}
	slices.Sort(topics)
	for _, t := range topics {
		shares := fs.g.sends(fs.p, t)
		switch {
		case fs.wanted[t] && shares:
			fs.revealed[t] = true
			subs = append(subs, &pubsubpb.RPC_SubOpts{Topicid: proto.String(t), Subscribe: proto.Bool(true)})
		case fs.revealed[t] && !shares:
			delete(fs.revealed, t)
			subs = append(subs, &pubsubpb.RPC_SubOpts{Topicid: proto.String(t), Subscribe: proto.Bool(false)})
		}
	}
	if len(subs) == 0 {
		return
	}
	if err := fs.Stream.SetWriteDeadline(time.Now().Add(fs.g.cfg.timeout)); err != nil {
		fs.g.log.Debug("re-announce subscriptions", "peer", fs.p, "err", err)
		return
	}
	if err := fs.writeLocked(&pubsubpb.RPC{Subscriptions: subs}); err != nil {
		fs.g.log.Debug("re-announce subscriptions", "peer", fs.p, "err", err)
	}
}

func (fs *filterStream) Close() error {
	fs.g.untrack(fs)
	return fs.Stream.Close()
}

func (fs *filterStream) Reset() error {
	fs.g.untrack(fs)
	return fs.Stream.Reset()
}
