package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"

	"lookout/node"
	"lookout/node/metrics"
)

// metricsFlags are `lookout node`'s --metrics and --metrics-public.
type metricsFlags struct {
	addr   *string
	public *bool
	m      *metrics.Metrics
}

func addMetricsFlags(fs *flag.FlagSet) *metricsFlags {
	return &metricsFlags{
		addr:   fs.String("metrics", "", "serve Prometheus metrics at http://`ADDR`/metrics (host:port, loopback only unless --metrics-public)"),
		public: fs.Bool("metrics-public", false, "allow --metrics on a non-loopback address: metrics tell anyone who can reach them when this node talks"),
	}
}

// check validates the flags before the node starts.
func (f *metricsFlags) check() error {
	if *f.addr == "" {
		return nil
	}
	if *f.public {
		if _, _, err := net.SplitHostPort(*f.addr); err != nil {
			return &usageError{cmd: "node", msg: fmt.Sprintf("--metrics %q is not host:port (example: 127.0.0.1:9719)", *f.addr)}
		}
		return nil
	}
	if err := checkLoopback(*f.addr); errors.Is(err, errNotLoopback) {
		return &usageError{cmd: "node", msg: "--metrics: " + err.Error() + ", or pass --metrics-public if you know what you are doing"}
	} else if err != nil {
		return &usageError{cmd: "node", msg: "--metrics: " + err.Error()}
	}
	return nil
}

// configure hooks the metrics into a node about to start.
func (f *metricsFlags) configure(n *node.Node) {
	if *f.addr == "" {
		return
	}
	if f.m == nil {
		f.m = metrics.New(version)
	}
	n.Observer = f.m
	n.MetricsRegisterer = f.m.Registry()
	n.PubsubOptions = append(n.PubsubOptions, pubsub.WithRawTracer(f.m.Tracer()))
}

// serve serves the started node's metrics until stop is called; it prints
// the URL on out.
func (f *metricsFlags) serve(n *node.Node, out io.Writer) (stop func(), err error) {
	if *f.addr == "" {
		return func() {}, nil
	}
	if err := f.m.Watch(n); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	ln, err := net.Listen("tcp", *f.addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: listen on %s (is the port in use?): %w", *f.addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", f.m.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(out, "lookout: metrics stopped: %v\n", err)
		}
	}()
	fmt.Fprintf(out, "metrics http://%s/metrics\n", ln.Addr())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	}, nil
}
