package bench

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"

	"lookout/crypto"
	"lookout/protocol"
)

// bareSwarm is the baselines: bare pubsub (gossipsub with library defaults,
// or floodsub) on the same hosts, publishing random payloads of the size of
// a real Lookout alert envelope. There is no validator.
type bareSwarm struct {
	size   int
	topics [][]*pubsub.Topic // [node][zone]
	mesh   []meshTracer
	flood  bool // floodsub: no mesh
	rec    arrivals
	stop   context.CancelFunc
	wg     sync.WaitGroup
}

// seqBytes is the payload prefix carrying the alert's sequence number.
const seqBytes = 8

func startBare(ctx context.Context, spec Spec, hosts []host.Host, sybil []bool) (_ *bareSwarm, err error) {
	size, err := envelopeSize()
	if err != nil {
		return nil, err
	}
	ctx, stop := context.WithCancel(ctx)
	s := &bareSwarm{size: size, stop: stop, mesh: make([]meshTracer, len(hosts)), flood: spec.Protocol == Floodsub}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	for i, h := range hosts {
		if err := s.startOne(ctx, spec, i, h, sybil[i]); err != nil {
			return s, err
		}
	}
	return s, nil
}

// startOne starts node i's pubsub, labelled as node i for CPU accounting.
func (s *bareSwarm) startOne(ctx context.Context, spec Spec, i int, h host.Host, sybil bool) (err error) {
	asNode(ctx, i, func(ctx context.Context) { err = s.startLabelled(ctx, spec, i, h, sybil) })
	return err
}

func (s *bareSwarm) startLabelled(ctx context.Context, spec Spec, i int, h host.Host, sybil bool) error {
	opts := []pubsub.Option{pubsub.WithRawTracer(&s.mesh[i])}
	if sybil {
		opts = append(opts, sybilOptions()...)
	}
	var (
		ps  *pubsub.PubSub
		err error
	)
	switch spec.Protocol {
	case Floodsub:
		ps, err = pubsub.NewFloodSub(ctx, h, opts...)
	case GossipsubFlood:
		ps, err = pubsub.NewGossipSub(ctx, h, append(opts, pubsub.WithFloodPublish(true))...)
	default:
		ps, err = pubsub.NewGossipSub(ctx, h, opts...)
	}
	if err != nil {
		return fmt.Errorf("pubsub on host %d: %w", i, err)
	}
	var ts []*pubsub.Topic
	for z := range spec.Zones {
		t, err := ps.Join("bench" + strconv.Itoa(z))
		if err != nil {
			return fmt.Errorf("join on host %d: %w", i, err)
		}
		sub, err := t.Subscribe()
		if err != nil {
			return fmt.Errorf("subscribe on host %d: %w", i, err)
		}
		ts = append(ts, t)
		s.wg.Go(func() {
			for {
				m, err := sub.Next(ctx)
				if err != nil {
					return
				}
				if len(m.Data) >= seqBytes {
					s.rec.record(i, strconv.FormatUint(binary.BigEndian.Uint64(m.Data), 10))
				}
			}
		})
	}
	s.topics = append(s.topics, ts)
	return nil
}

func (s *bareSwarm) meshDegree(i int) (float64, bool) {
	if s.flood {
		return 0, false
	}
	return s.mesh[i].degree()
}

func (s *bareSwarm) arrivals() *arrivals { return &s.rec }

func (s *bareSwarm) publish(ctx context.Context, from, z, seq int) (string, error) {
	data := make([]byte, s.size)
	binary.BigEndian.PutUint64(data, uint64(seq))
	if err := s.topics[from][z].Publish(ctx, data); err != nil {
		return "", fmt.Errorf("node %d publishes: %w", from, err)
	}
	return strconv.Itoa(seq), nil
}

func (s *bareSwarm) payloadSize() int { return s.size }

func (s *bareSwarm) close() error {
	s.stop()
	s.wg.Wait()
	return nil
}

// envelopeSize returns the size of a sealed sighting signed by a member
// with a two-certificate chain, as every Lookout alert in the benchmark is.
func envelopeSize() (int, error) {
	env, _, err := sampleEnvelope()
	return len(env), err
}

// sampleEnvelope seals a sighting from a member of a fresh zone and returns
// it with a validator for that zone.
func sampleEnvelope() ([]byte, *protocol.Validator, error) {
	root, err := crypto.NewIdentity(rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("sample: %w", err)
	}
	member, err := crypto.NewIdentity(rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("sample: %w", err)
	}
	var zone protocol.ZoneID
	copy(zone[:], "lookout-bench-zone")
	secret, err := crypto.NewZoneSecret(rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("sample: %w", err)
	}
	now := time.Now()
	rootCert, err := protocol.IssueCert(root, zone, root.Public(), protocol.RoleOrganizer, now, now.Add(protocol.DefaultCertTTL))
	if err != nil {
		return nil, nil, fmt.Errorf("sample: %w", err)
	}
	cert, err := protocol.IssueCert(root, zone, member.Public(), protocol.RoleMember, now, now.Add(protocol.DefaultCertTTL))
	if err != nil {
		return nil, nil, fmt.Errorf("sample: %w", err)
	}
	sent := now.Truncate(time.Millisecond).UTC()
	a := &protocol.Alert{Kind: protocol.KindSighting, Zone: zone, Sent: sent, Expires: sent.Add(protocol.MaxLifetime), Observed: sent,
		Status: protocol.StatusActual, Urgency: protocol.UrgencyImmediate, Severity: protocol.SeveritySevere,
		Certainty: protocol.CertaintyObserved, What: "bench alert 0", Area: "corner 0"}
	signed, err := protocol.Sign(member, protocol.Chain{cert, rootCert}, a)
	if err != nil {
		return nil, nil, fmt.Errorf("sample: %w", err)
	}
	key := secret.AlertKey(0)
	env, err := protocol.Seal(key, 0, signed, rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("sample: %w", err)
	}
	v := protocol.NewValidator(zone, root.Public(), func(e uint32) (*crypto.AEADKey, bool) { return key, e == 0 })
	if _, err := v.Validate(env, now); err != nil {
		return nil, nil, errors.Join(errors.New("sample envelope does not validate"), err)
	}
	return env, v, nil
}
