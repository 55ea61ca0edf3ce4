package bench

import (
	"math"
	"slices"
	"time"
)

// AlertObs is what one run observed about one alert.
type AlertObs struct {
	// From is the publishing node; Sent is when it published.
	From int
	Sent time.Time
	// Lower is each node's shortest-path latency from From over the
	// connection graph at Sent (negative: unreachable); LowerTopology is
	// the same over the topology the scenario built.
	Lower         []time.Duration
	LowerTopology []time.Duration
	// Expected lists the nodes that should receive the alert (the zone's
	// members other than From).
	Expected []int
	// Arrived is when each node first delivered the alert.
	Arrived map[int]time.Time
}

// Window is a span of time a node was offline.
type Window struct{ From, Back time.Time }

// Summary is the figures computed from a run's observations. Latencies are
// of nodes online when the alert was sent; CatchUp is of nodes offline
// then, counted from when they came back.
type Summary struct {
	Expected, Delivered int
	DeliveryRatio       float64
	Latencies           []time.Duration // sorted
	Stretches           []float64       // sorted
	TopologyStretches   []float64       // sorted
	CatchUp             []time.Duration // sorted
	// MinStretch is the smallest stretch seen (≥ 1 unless the lower
	// bound is wrong); NaN with no stretches. TopologyMinStretch is the
	// same over LowerTopology.
	MinStretch, TopologyMinStretch float64
}

// Summarize counts deliveries and computes latency, stretch and catch-up.
// A delivery after deadline (relative to Sent, or to Back for a node that
// was offline) is not counted.
func Summarize(alerts []AlertObs, offline map[int]Window, deadline time.Duration) Summary {
	var s Summary
	for _, a := range alerts {
		for _, v := range a.Expected {
			s.Expected++
			t, ok := a.Arrived[v]
			w, wasOff := offline[v]
			wasOff = wasOff && !a.Sent.Before(w.From) && a.Sent.Before(w.Back)
			switch {
			case !ok:
			case wasOff:
				if d := t.Sub(w.Back); d <= deadline {
					s.Delivered++
					s.CatchUp = append(s.CatchUp, max(d, 0))
				}
			default:
				d := t.Sub(a.Sent)
				if d > deadline {
					continue
				}
				s.Delivered++
				s.Latencies = append(s.Latencies, d)
				if v < len(a.Lower) && a.Lower[v] > 0 {
					s.Stretches = append(s.Stretches, float64(d)/float64(a.Lower[v]))
				}
				if v < len(a.LowerTopology) && a.LowerTopology[v] > 0 {
					s.TopologyStretches = append(s.TopologyStretches, float64(d)/float64(a.LowerTopology[v]))
				}
			}
		}
	}
	if s.Expected > 0 {
		s.DeliveryRatio = float64(s.Delivered) / float64(s.Expected)
	}
	slices.Sort(s.Latencies)
	slices.Sort(s.Stretches)
	slices.Sort(s.TopologyStretches)
	slices.Sort(s.CatchUp)
	s.MinStretch, s.TopologyMinStretch = math.NaN(), math.NaN()
	if len(s.Stretches) > 0 {
		s.MinStretch = s.Stretches[0]
	}
	if len(s.TopologyStretches) > 0 {
		s.TopologyMinStretch = s.TopologyStretches[0]
	}
	return s
}

// Quantile returns the q-quantile (0 ≤ q ≤ 1, nearest rank) of sorted
// values, or the zero value when there are none.
func Quantile[T any](sorted []T, q float64) T {
	var zero T
	if len(sorted) == 0 {
		return zero
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
