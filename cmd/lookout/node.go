package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"lookout/app/i18n"
	"lookout/node"
	"lookout/node/api"
	"lookout/node/control"
	"lookout/node/harden"
	"lookout/node/reach"
)

// The node package is needed only here, by init, node, wipe and
// passphrase change (secret.go), and for the home layout. Every other command talks to the running node's control socket.
var (
	defaultHome = node.DefaultHome
	socketPath  = node.SocketPath
)

// reachLine says in words whether the node is reachable and what that
// means for its zones.
func reachLine(tr *i18n.Localizer, st api.Status) string {
	switch st.Reachability {
	case reach.Public:
		return "lookout: " + tr.T("cli.node.public", "Addrs", strings.Join(st.PublicAddrs, " "))
	case reach.Private:
		return "lookout: " + tr.T("cli.node.private", "Port", node.DefaultPort)
	}
	return "lookout: " + tr.T("cli.node.unknown")
}

func runNode(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	var listen listFlag
	fs.Var(&listen, "listen", fmt.Sprintf("listen on `MULTIADDR`; repeat for more (default: all interfaces, TCP and UDP port %d; forward that port on your router to make this node reachable; a second node on the same computer needs another, e.g. /ip4/127.0.0.1/tcp/0)", node.DefaultPort))
	mdns := fs.Bool("mdns", false, "find peers on the local network with mDNS")
	verbose := fs.Bool("verbose", false, "also log debug messages; they name zones, members, peers and alerts, so keep such logs off shared or seized machines")
	noPortMap := fs.Bool("no-port-mapping", false, "do not ask the home router (UPnP / NAT-PMP) to forward a port to this node")
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
	level := slog.LevelInfo // names no zone, member, peer or alert
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))
	n, err := e.startNode(ctx, func() *node.Node {
		n := &node.Node{
			Home:          e.home,
			ListenAddrs:   listen,
			MDNS:          *mdns,
			NoPortMapping: *noPortMap,
			Logger:        log,
		}
		mf.configure(n)
		return n
	}, secret)
	if err != nil {
		return fmt.Errorf("start node: %w", err)
	}
	sock, err := control.ServeSocket(socketPath(e.home), n, log)
	if err != nil {
		n.Close()
		return fmt.Errorf("serve control API: %w", err)
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
	var changes <-chan struct{}
	if r := n.Reach(); r != nil {
		changes = r.Changes()
	}
	line := reachLine(e.tr, st)
	fmt.Fprintln(e.stderr, line)
	for stop := false; !stop; {
		select {
		case <-ctx.Done():
			stop = true
		case <-n.Wiped():
			fmt.Fprintln(e.stderr, "lookout: "+e.tr.T("cli.node.wiped"))
			stop = true
		case <-changes:
			if l := reachLine(e.tr, n.Status()); l != line {
				line = l
				fmt.Fprintln(e.stderr, line)
			}
		}
	}
	stopMetrics()
	sock.Close()
	if err := n.Close(); err != nil {
		return fmt.Errorf("stop node: %w", err)
	}
	return nil
}
