package main

import (
	"context"
	"fmt"
	"log/slog"

	"lookout/node"
	"lookout/node/control"
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
	secret := addSecretFlags(fs)
	if _, err := e.parse("node", fs, args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(e.stderr, nil))
	n, err := e.startNode(ctx, func() *node.Node {
		return &node.Node{
			Home:        e.home,
			ListenAddrs: listen,
			MDNS:        *mdns,
			Logger:      log,
		}
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
	select {
	case <-ctx.Done():
	case <-n.Wiped():
		fmt.Fprintln(e.stderr, "lookout: profile wiped; node stopped")
	}
	sock.Close()
	if err := n.Close(); err != nil {
		return fmt.Errorf("stop node: %w", err)
	}
	return nil
}
