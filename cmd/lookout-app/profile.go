package main

// Wired to the encrypted store by the lead at merge: today the node keeps
// its identity in plain files and the passphrase is not used; with the
// store, Create, Unlock, ChangePassphrase and Wipe map to node.Init,
// Node.Secret, node.ChangeSecret and node.Wipe.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"lookout/app"
	"lookout/node"
)

// profile is app.Profile over a node home directory.
type profile struct {
	home   string
	listen []string
	log    *slog.Logger

	mu sync.Mutex
	n  *node.Node
}

var _ app.Profile = (*profile)(nil)

// errNoStore is returned by ChangePassphrase until the node has its
// encrypted store.
var errNoStore = errors.New("this build keeps no passphrase yet: the encrypted store is not wired in")

func (p *profile) Initialized() bool {
	_, err := os.Stat(filepath.Join(p.home, "identity"))
	return err == nil
}

func (p *profile) Create(name string, passphrase []byte) error {
	if _, err := node.Init(p.home, name); err != nil {
		return fmt.Errorf("create identity: %w", err)
	}
	return nil
}

func (p *profile) Unlock(ctx context.Context, passphrase []byte) (app.Backend, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n != nil {
		return p.n, nil
	}
	n := &node.Node{Home: p.home, ListenAddrs: p.listen, Logger: p.log}
	if err := n.Start(ctx); err != nil {
		return nil, fmt.Errorf("start node: %w", err)
	}
	p.n = n
	return n, nil
}

func (p *profile) Lock() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n == nil {
		return nil
	}
	err := p.n.Close()
	p.n = nil
	if err != nil {
		return fmt.Errorf("stop node: %w", err)
	}
	return nil
}

func (p *profile) ChangePassphrase(old, new []byte) error {
	return fmt.Errorf("change passphrase: %w", errNoStore)
}

func (p *profile) Wipe() error {
	lockErr := p.Lock()
	if err := os.RemoveAll(p.home); err != nil {
		return fmt.Errorf("wipe home: %w", errors.Join(err, lockErr))
	}
	return nil
}
