package main

import (
	"context"
	"fmt"
	"log/slog"

	"lookout/node"
	"lookout/node/harden"
)

// The node package is needed only here, by init, node, wipe and
// passphrase change (secret.go), and for the home layout. Every other command talks to the running node's control socket.
var (
	defaultHome = node.DefaultHome
	socketPath  = node.SocketPath
)

func runNode(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	var listen listFlag
	fs.Var(&listen, "listen", "listen on `MULTIADDR`; repeat for more (default: all interfaces, random ports)")
	mdns := fs.Bool("mdns", false, "find peers on the local network with mDNS")
	secret := addSecretFlags(fs, "read the passphrase from file descriptor `N`, one line (0: standard input; for services and scripts)")
	mf := addMetricsFlags(fs) // metrics.go
	if _, err := e.parse("node", fs, args); err != nil {
		return err
	}
	if err := harden.Process(); err != nil {
		return err
	}
	if err := mf.check(); err != nil {
		return err
	}
	n, err := e.startNode(ctx, func() *node.Node {
		n := &node.Node{
			Home:        e.home,
			ListenAddrs: listen,
			MDNS:        *mdns,
			Logger:      slog.New(slog.NewTextHandler(e.stderr, nil)),
		}
		mf.configure(n)
		return n
	}, secret)
	if err != nil {
		return fmt.Errorf("start node: %w", err)
	}
	st := n.Status()
	fmt.Fprintln(e.stdout, st.PeerID)
	for _, a := range st.Addrs {
		fmt.Fprintln(e.stdout, a)
	}
	stopMetrics, err := mf.serve(n, e.stdout)
	if err != nil {
		n.Close()
		return err
	}
	select {
	case <-ctx.Done():
	case <-n.Wiped():
		fmt.Fprintln(e.stderr, "lookout: profile wiped; node stopped")
	}
	stopMetrics()
	if err := n.Close(); err != nil {
		return fmt.Errorf("stop node: %w", err)
	}
	return nil
}
