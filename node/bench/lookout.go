package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"

	"lookout/node"
	"lookout/node/api"
)

// lookoutSwarm is real Lookout nodes, one per host, all members of every
// zone: node 0 creates the zones and enrols the others directly
// (node/internal/enroll).
type lookoutSwarm struct {
	dir   string
	nodes []*node.Node
	zones []string
	rec   arrivals
	size  sizeTracer
	mesh  []meshTracer
	stop  context.CancelFunc
	wg    sync.WaitGroup
}

func startLookout(ctx context.Context, spec Spec, hosts []host.Host, sybil []bool) (_ *lookoutSwarm, err error) {
	dir, err := os.MkdirTemp("", "lookout-bench-")
	if err != nil {
		return nil, fmt.Errorf("bench homes: %w", err)
	}
	ctx, stop := context.WithCancel(ctx)
	s := &lookoutSwarm{dir: dir, stop: stop, mesh: make([]meshTracer, len(hosts))}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	homes := make([]string, len(hosts))
	for i := range hosts {
		homes[i] = filepath.Join(dir, fmt.Sprintf("n%d", i))
		if err := initHome(homes[i], fmt.Sprintf("node%d", i)); err != nil {
			return s, err
		}
	}
	start := func(i int) (n *node.Node, err error) {
		var extra []pubsub.Option
		if sybil[i] {
			extra = sybilOptions()
		}
		asNode(ctx, i, func(ctx context.Context) {
			n, err = startNode(ctx, homes[i], hosts[i], []pubsub.RawTracer{&s.size, &s.mesh[i]}, spec.Tune, extra)
		})
		return n, err
	}
	founder, err := start(0)
	if err != nil {
		return s, err
	}
	s.nodes = append(s.nodes, founder)
	for z := range spec.Zones {
		info, err := founder.CreateZone(ctx, fmt.Sprintf("bench%d", z))
		if err != nil {
			return s, fmt.Errorf("create zone: %w", err)
		}
		s.zones = append(s.zones, info.ID)
		for i := 1; i < len(hosts); i++ {
			if err := enrollMember(founder, info.ID, homes[i]); err != nil {
				return s, fmt.Errorf("enroll node %d: %w", i, err)
			}
		}
	}
	for i := 1; i < len(hosts); i++ {
		n, err := start(i)
		if err != nil {
			return s, err
		}
		s.nodes = append(s.nodes, n)
	}
	for i, n := range s.nodes {
		for _, z := range s.zones {
			ch, err := n.Watch(ctx, z)
			if err != nil {
				return s, fmt.Errorf("watch node %d: %w", i, err)
			}
			s.wg.Go(func() {
				for a := range ch {
					s.rec.record(i, a.ID)
				}
			})
		}
	}
	return s, nil
}

func (s *lookoutSwarm) arrivals() *arrivals { return &s.rec }

func (s *lookoutSwarm) publish(ctx context.Context, from, z, seq int) (string, error) {
	a, err := s.nodes[from].Report(ctx, api.ReportRequest{Zone: s.zones[z],
		What: fmt.Sprintf("bench alert %d", seq), Where: fmt.Sprintf("corner %d", seq)})
	if err != nil {
		return "", fmt.Errorf("node %d reports: %w", from, err)
	}
	return a.ID, nil
}

func (s *lookoutSwarm) payloadSize() int { return s.size.max() }

func (s *lookoutSwarm) meshDegree(i int) (float64, bool) { return s.mesh[i].degree() }

func (s *lookoutSwarm) close() error {
	var errs []error
	for _, n := range s.nodes {
		errs = append(errs, n.Close())
	}
	s.stop()
	s.wg.Wait()
	errs = append(errs, os.RemoveAll(s.dir))
	return errors.Join(errs...)
}
