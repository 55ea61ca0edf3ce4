// Package metrics exposes a node's health as Prometheus metrics: peers,
// zones, members per zone, messages accepted and rejected by reason,
// catch-up served, validation time, store size, relay reservations, the
// clock estimate, gossipsub events, and go-libp2p's own metrics through
// the same registry.
//
// Nothing identifying appears in a label: zones are numbered 0, 1, ... in
// the order of their IDs, reasons are fixed words, and no peer ID, member
// ID, name or topic is ever a label value.
package metrics

import (
	"net/http"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"

	"lookout/node/api"
	"lookout/node/health"
	lookoutproto "lookout/protocol"
)

// Namespace prefixes every Lookout metric.
const Namespace = "lookout"

// Metrics holds the registry and the counters the node feeds. It
// implements node.Observer.
type Metrics struct {
	reg        *prometheus.Registry
	accepted   prometheus.Counter
	rejected   *prometheus.CounterVec
	duplicates prometheus.Counter
	validation prometheus.Histogram
	catchUp    prometheus.Counter
	catchUpMsg prometheus.Counter
	ps         psCounters
}

// New returns metrics on a fresh registry that also carries the Go
// runtime's and the process's collectors.
func New(version string) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg: reg,
		accepted: prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Name: "messages_accepted_total",
			Help: "Messages that passed the validator (gossip and local)."}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "messages_rejected_total",
			Help: "Messages the validator rejected, by reason."}, []string{"reason"}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Name: "messages_duplicate_total",
			Help: "Messages the node already had (dropped without penalty)."}),
		validation: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: Namespace, Name: "validation_seconds",
			Help:    "Time to validate one message.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1}}),
		catchUp: prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Name: "catchup_served_total",
			Help: "Catch-up answers served to other members' nodes."}),
		catchUpMsg: prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Name: "catchup_served_messages_total",
			Help: "Messages handed over in catch-up answers."}),
		ps: newPSCounters(),
	}
	for _, r := range health.Reasons() {
		if r != "duplicate" {
			m.rejected.WithLabelValues(r) // every reason appears, at 0
		}
	}
	info := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: Namespace, Name: "build_info",
		Help:        "Always 1; labels give the version and the wire protocol.",
		ConstLabels: prometheus.Labels{"version": version, "protocol": strconv.Itoa(lookoutproto.Version)}})
	info.Set(1)
	reg.MustRegister(m.accepted, m.rejected, m.duplicates, m.validation, m.catchUp, m.catchUpMsg, info,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.ps.register(reg)
	return m
}

// Registry is where go-libp2p registers its metrics (Node.MetricsRegisterer).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(sourcePathless{m.reg}, promhttp.HandlerOpts{})
}

// sourceFile matches a label value naming a source line, as go-libp2p's
// event bus metrics do ("/home/alice/go/pkg/mod/.../gossipsub.go-L708").
var sourceFile = regexp.MustCompile(`\.go(-L|:)[0-9]+$`)

// sourcePathless gathers from g and cuts label values naming a source
// file down to the file's base name: a full path can hold the name of
// the account that built the program.
type sourcePathless struct{ g prometheus.Gatherer }

func (s sourcePathless) Gather() ([]*dto.MetricFamily, error) {
	mfs, err := s.g.Gather()
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if v := l.GetValue(); sourceFile.MatchString(v) {
					base := path.Base(filepath.ToSlash(v))
					l.Value = &base
				}
			}
		}
	}
	return mfs, err
}

// Validated implements node.Observer.
func (m *Metrics) Validated(err error, took time.Duration) {
	m.validation.Observe(took.Seconds())
	switch {
	case err == nil:
		m.accepted.Inc()
	case health.Reason(err) == "duplicate":
		m.duplicates.Inc()
	default:
		m.rejected.WithLabelValues(health.Reason(err)).Inc()
	}
}

// CatchUpServed implements node.Observer.
func (m *Metrics) CatchUpServed(messages int) {
	m.catchUp.Inc()
	m.catchUpMsg.Add(float64(messages))
}

// Source is what Watch reads at every scrape: *node.Node.
type Source interface {
	Status() api.Status
	Zones() []api.Zone
	Members(zoneRef string) ([]api.Member, error)
}

// Watch registers gauges read from src at every scrape.
func (m *Metrics) Watch(src Source) error {
	return m.reg.Register(&stateCollector{src: src})
}

var (
	descPeers    = prometheus.NewDesc(Namespace+"_peers", "Connected peers, by path (direct or relayed).", []string{"path"}, nil)
	descZones    = prometheus.NewDesc(Namespace+"_zones", "Zones this node is a member of.", nil, nil)
	descMembers  = prometheus.NewDesc(Namespace+"_zone_members", "Members on the zone's roster; zones numbered in the order of their IDs.", []string{"zone"}, nil)
	descZonePeer = prometheus.NewDesc(Namespace+"_zone_peers", "Peers on the zone's topic (members' nodes reachable now).", []string{"zone"}, nil)
	descStore    = prometheus.NewDesc(Namespace+"_store_bytes", "Size of the encrypted store's files.", nil, nil)
	descStoreOK  = prometheus.NewDesc(Namespace+"_store_healthy", "1 if the store reads fine, else 0.", nil, nil)
	descRelay    = prometheus.NewDesc(Namespace+"_relay_reservations", "Relayed addresses this node holds (reservations on relays).", nil, nil)
	descClock    = prometheus.NewDesc(Namespace+"_clock_offset_seconds", "How far this node's clock is ahead (+) of its peers' (median over senders; 0 when unknown).", nil, nil)
	descClockN   = prometheus.NewDesc(Namespace+"_clock_senders", "Senders the clock estimate rests on.", nil, nil)
	descStrays   = prometheus.NewDesc(Namespace+"_clock_strays", "Senders whose clocks are 30 s or more from this node's.", nil, nil)
	descVersions = prometheus.NewDesc(Namespace+"_peers_protocol", "Connected Lookout peers by catch-up protocol generation compared with this node (older or newer).", []string{"generation"}, nil)
)

// stateCollector reads the node's state at scrape time.
type stateCollector struct{ src Source }

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPeers, descZones, descMembers, descZonePeer, descStore, descStoreOK, descRelay, descClock, descClockN, descStrays, descVersions} {
		ch <- d
	}
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	st := c.src.Status()
	if h := st.Health; h != nil {
		gauge(descPeers, float64(h.PeersDirect), "direct")
		gauge(descPeers, float64(h.PeersRelayed), "relayed")
		gauge(descStore, float64(h.StoreBytes))
		ok := 1.0
		if h.StoreError != "" {
			ok = 0
		}
		gauge(descStoreOK, ok)
		gauge(descRelay, float64(h.RelayReservations))
		gauge(descClock, float64(h.ClockOffsetMS)/1000)
		gauge(descClockN, float64(h.ClockSenders))
		gauge(descStrays, float64(h.ClockStrays))
		gauge(descVersions, float64(len(h.OlderPeers)), "older")
		gauge(descVersions, float64(len(h.NewerPeers)), "newer")
	}
	zones := c.src.Zones()
	sort.Slice(zones, func(i, j int) bool { return zones[i].ID < zones[j].ID })
	gauge(descZones, float64(len(zones)))
	for i, z := range zones {
		idx := strconv.Itoa(i)
		if ms, err := c.src.Members(z.ID); err == nil {
			gauge(descMembers, float64(len(ms)), idx)
		}
		gauge(descZonePeer, float64(len(z.Peers)), idx)
	}
}

// Tracer returns a gossipsub tracer that counts its events (pass it with
// pubsub.WithRawTracer). Topics and peers are never labels.
func (m *Metrics) Tracer() pubsub.RawTracer { return &m.ps }

// psCounters counts gossipsub events.
type psCounters struct {
	graft, prune, deliver, duplicate, throttle, undeliverable, recvRPC, sendRPC, dropRPC prometheus.Counter
	reject                                                                               *prometheus.CounterVec
}

func newPSCounters() psCounters {
	c := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "gossipsub", Name: name, Help: help})
	}
	return psCounters{
		graft:         c("graft_total", "Peers grafted onto a zone's mesh."),
		prune:         c("prune_total", "Peers pruned from a zone's mesh."),
		deliver:       c("delivered_total", "Messages delivered to the node."),
		duplicate:     c("duplicate_total", "Duplicate messages dropped by gossipsub."),
		throttle:      c("throttled_total", "Peers throttled by the peer gater."),
		undeliverable: c("undeliverable_total", "Messages dropped because the node read too slowly."),
		recvRPC:       c("rpc_received_total", "RPCs received."),
		sendRPC:       c("rpc_sent_total", "RPCs queued for sending."),
		dropRPC:       c("rpc_dropped_total", "Outbound RPCs dropped (queue full)."),
		reject: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "gossipsub", Name: "rejected_total",
			Help: "Messages gossipsub rejected or ignored, by its reason."}, []string{"reason"}),
	}
}

func (p *psCounters) register(reg *prometheus.Registry) {
	for _, l := range psReasons {
		p.reject.WithLabelValues(l) // every reason appears, at 0
	}
	p.reject.WithLabelValues("other")
	reg.MustRegister(p.graft, p.prune, p.deliver, p.duplicate, p.throttle, p.undeliverable, p.recvRPC, p.sendRPC, p.dropRPC, p.reject)
}

// psReasons are gossipsub's rejection reasons, as labels.
var psReasons = map[string]string{
	pubsub.RejectBlacklstedPeer:      "blacklisted_peer",
	pubsub.RejectBlacklistedSource:   "blacklisted_source",
	pubsub.RejectMissingSignature:    "missing_signature",
	pubsub.RejectUnexpectedSignature: "unexpected_signature",
	pubsub.RejectUnexpectedAuthInfo:  "unexpected_auth_info",
	pubsub.RejectInvalidSignature:    "invalid_signature",
	pubsub.RejectValidationQueueFull: "validation_queue_full",
	pubsub.RejectValidationThrottled: "validation_throttled",
	pubsub.RejectValidationFailed:    "validation_failed",
	pubsub.RejectValidationIgnored:   "validation_ignored",
	pubsub.RejectSelfOrigin:          "self_origin",
}

var _ pubsub.RawTracer = (*psCounters)(nil)

func (p *psCounters) OnNewOutboundStream(peer.ID, protocol.ID)             {}
func (p *psCounters) OnClosedOutboundStream(peer.ID)                       {}
func (p *psCounters) Join(string)                                          {}
func (p *psCounters) Leave(string)                                         {}
func (p *psCounters) Graft(peer.ID, string)                                { p.graft.Inc() }
func (p *psCounters) Prune(peer.ID, string)                                { p.prune.Inc() }
func (p *psCounters) ValidateMessage(*pubsub.Message)                      {}
func (p *psCounters) DeliverMessage(*pubsub.Message)                       { p.deliver.Inc() }
func (p *psCounters) DuplicateMessage(*pubsub.Message)                     { p.duplicate.Inc() }
func (p *psCounters) ThrottlePeer(peer.ID)                                 { p.throttle.Inc() }
func (p *psCounters) RecvRPC(*pubsub.RPC)                                  { p.recvRPC.Inc() }
func (p *psCounters) SendRPC(*pubsub.RPC, peer.ID)                         { p.sendRPC.Inc() }
func (p *psCounters) SendRPCCompleted(*pubsub.RPC, peer.ID, time.Duration) {}
func (p *psCounters) DropRPC(*pubsub.RPC, peer.ID)                         { p.dropRPC.Inc() }
func (p *psCounters) UndeliverableMessage(*pubsub.Message)                 { p.undeliverable.Inc() }

func (p *psCounters) RejectMessage(_ *pubsub.Message, reason string) {
	l, ok := psReasons[reason]
	if !ok {
		l = "other"
	}
	p.reject.WithLabelValues(strings.ToLower(l)).Inc()
}
