package main

import (
	"context"
	"fmt"
	"log/slog"

	"lookout/node"
)

// The node package is needed only here: by init and node, and for the home
// layout. Every other command talks to the running node's control socket.
var (
	defaultHome = node.DefaultHome
	socketPath  = node.SocketPath
)

func runInit(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	name := fs.String("name", "", "your display `NAME`, shown to your zones")
	if _, err := e.parse("init", fs, args); err != nil {
		return err
	}
	id, err := node.Init(e.home, *name)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(e.stdout, id)
	return err
}

func runNode(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	var listen listFlag
	fs.Var(&listen, "listen", "listen on `MULTIADDR`; repeat for more (default: all interfaces, random ports)")
	mdns := fs.Bool("mdns", false, "find peers on the local network with mDNS")
	if _, err := e.parse("node", fs, args); err != nil {
		return err
	}
	n := &node.Node{
		Home:        e.home,
		ListenAddrs: listen,
		MDNS:        *mdns,
		Logger:      slog.New(slog.NewTextHandler(e.stderr, nil)),
	}
	if err := n.Start(ctx); err != nil {
		return fmt.Errorf("start node: %w", err)
	}
	st := n.Status()
	fmt.Fprintln(e.stdout, st.PeerID)
	for _, a := range st.Addrs {
		fmt.Fprintln(e.stdout, a)
	}
	<-ctx.Done()
	if err := n.Close(); err != nil {
		return fmt.Errorf("stop node: %w", err)
	}
	return nil
}
