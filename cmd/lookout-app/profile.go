package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"lookout/app"
	"lookout/node"
	"lookout/node/control"
	"lookout/node/store"
)

// profile is app.Profile over a node home directory and its encrypted
// store: Create is node.Init, Unlock starts a node with the passphrase,
// ChangePassphrase re-wraps the store's key, Wipe destroys it.
type profile struct {
	home   string
	listen []string
	log    *slog.Logger
	// opt tunes key derivation; zero means the real cost (tests use less).
	opt store.Options

	mu   sync.Mutex
	n    *node.Node
	sock *control.Socket // the control API over n, for the CLI
}

var _ app.Profile = (*profile)(nil)

func (p *profile) Initialized() bool { return node.Initialized(p.home) }

func (p *profile) Create(name string, passphrase []byte) error {
	opt := node.InitOptions{Name: name, Secret: store.Secret{Passphrase: passphrase}, Store: p.opt}
	if _, err := node.Init(p.home, opt); err != nil {
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
	n := &node.Node{Home: p.home, Secret: store.Secret{Passphrase: passphrase}, StoreOptions: p.opt, ListenAddrs: p.listen, Logger: p.log}
	if err := n.Start(ctx); err != nil {
		if errors.Is(err, store.ErrWrongPassphrase) {
			return nil, fmt.Errorf("%w: %w", app.ErrWrongPassphrase, err)
		}
		return nil, fmt.Errorf("start node: %w", err)
	}
	sock, err := control.ServeSocket(node.SocketPath(p.home), n, p.log)
	if err != nil {
		n.Close()
		return nil, fmt.Errorf("serve control API: %w", err)
	}
	// A wipe through the socket stops the node; the socket goes with it.
	go func() {
		select {
		case <-n.Wiped():
			sock.Close()
		case <-sock.Done():
		}
	}()
	p.n, p.sock = n, sock
	return n, nil
}

func (p *profile) Lock() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n == nil {
		return nil
	}
	p.sock.Close()
	err := p.n.Close()
	p.n, p.sock = nil, nil
	if err != nil {
		return fmt.Errorf("stop node: %w", err)
	}
	return nil
}

func (p *profile) ChangePassphrase(old, new []byte) error {
	err := node.ChangeSecret(p.home, store.Secret{Passphrase: old}, store.Secret{Passphrase: new}, p.opt)
	if errors.Is(err, store.ErrWrongPassphrase) {
		return fmt.Errorf("%w: %w", app.ErrWrongPassphrase, err)
	}
	return err
}

// Wipe destroys the keys and the store at once; a running node stops.
func (p *profile) Wipe() error {
	p.mu.Lock()
	n, sock := p.n, p.sock
	p.n, p.sock = nil, nil
	p.mu.Unlock()
	if n != nil {
		sock.Close()
		if err := n.Wipe(); err != nil {
			return fmt.Errorf("wipe: %w", err)
		}
		return nil
	}
	if err := node.Wipe(p.home); err != nil {
		return fmt.Errorf("wipe: %w", err)
	}
	return nil
}
