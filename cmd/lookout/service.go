package main

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"text/template"

	ma "github.com/multiformats/go-multiaddr"

	"lookout/node/store"
)

//go:embed lookout.service.tmpl
var unitTemplate string

// Where `lookout service install` puts things, under --root.
const (
	defaultUnitPath = "/etc/systemd/system/lookout.service"
	defaultKeyFile  = "/etc/lookout/node.key"
	defaultBin      = "/usr/local/bin/lookout"
	defaultMetrics  = "127.0.0.1:9719"
	defaultNodeName = "always-on node"
)

// unitConfig fills lookout.service.tmpl.
type unitConfig struct {
	Bin     string   // absolute path of the lookout binary
	KeyFile string   // absolute path of the key file, root-only
	Name    string   // display name given to init on the first start
	Metrics string   // loopback host:port, or empty for no metrics
	Listen  []string // multiaddrs; empty means the node's defaults (port 4719)
}

// renderUnit returns the systemd unit for c, or an error naming the first
// value that cannot go into a unit file safely.
func renderUnit(c unitConfig) ([]byte, error) {
	for _, p := range []struct{ flag, v string }{{"bin", c.Bin}, {"key-file", c.KeyFile}} {
		if !filepath.IsAbs(p.v) || p.v != filepath.Clean(p.v) || strings.ContainsAny(p.v, " \t\n\"'\\%$;") {
			return nil, fmt.Errorf("--%s %q: give a clean absolute path without spaces, quotes, %% or $", p.flag, p.v)
		}
	}
	if c.Name == "" || strings.ContainsAny(c.Name, "\"\\'`$%") || strings.IndexFunc(c.Name, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
		return nil, fmt.Errorf("--name %q: give a non-empty name without quotes, backslashes, $, %% or control characters", c.Name)
	}
	if c.Metrics != "" {
		if err := checkLoopback(c.Metrics); errors.Is(err, errNotLoopback) {
			return nil, fmt.Errorf("--metrics: %w (to serve them elsewhere anyway, add --metrics-public to ExecStart in the unit by hand)", err)
		} else if err != nil {
			return nil, fmt.Errorf("--metrics: %w", err)
		}
	}
	for _, l := range c.Listen {
		if _, err := ma.NewMultiaddr(l); err != nil || strings.ContainsAny(l, " \t\n\"'\\%$") {
			return nil, fmt.Errorf("--listen %q is not a multiaddr (example: /ip4/0.0.0.0/tcp/4719)", l)
		}
	}
	t, err := template.New("unit").Option("missingkey=error").Parse(unitTemplate)
	if err != nil {
		return nil, fmt.Errorf("parse unit template: %w", err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, c); err != nil {
		return nil, fmt.Errorf("render unit: %w", err)
	}
	return b.Bytes(), nil
}

// errNotLoopback says why metrics stay on loopback; each command adds how
// to serve them elsewhere.
var errNotLoopback = errors.New("metrics tell who is connected and when; serve them on 127.0.0.1 and scrape through an SSH tunnel")

// checkLoopback accepts host:port only if host is a loopback IP address.
func checkLoopback(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port (example: 127.0.0.1:9719): %w", addr, err)
	}
	if port == "" {
		return fmt.Errorf("%q has no port (example: 127.0.0.1:9719)", addr)
	}
	ip := net.ParseIP(host)
	if host == "localhost" {
		return nil
	}
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%q is not a loopback address: %w", addr, errNotLoopback)
	}
	return nil
}

func runService(ctx context.Context, e *env, args []string) error {
	fl := e.flags()
	root := fl.String("root", "/", "install under `DIR` instead of / (for images and tests)")
	keyFile := fl.String("key-file", defaultKeyFile, "the key `FILE` that unlocks the node's store; created (mode 0600) if missing, never replaced")
	bin := fl.String("bin", defaultBin, "`PATH` the unit runs lookout from; this program is copied there if nothing is")
	name := fl.String("name", defaultNodeName, "the node's display `NAME`, given to init on the first start")
	metrics := fl.String("metrics", defaultMetrics, "serve Prometheus metrics on this loopback `ADDR`; empty for none")
	var listen listFlag
	fl.Var(&listen, "listen", "listen on `MULTIADDR`; repeat for more (default: port 4719 TCP and UDP, all interfaces)")
	force := fl.Bool("force", false, "replace an existing unit file (the key file is never replaced)")
	if len(args) == 0 || args[0] != "install" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			lookup("service").usage(e, e.stdout, fl)
			return errHelp
		}
		return &usageError{cmd: "service", msg: e.tr.T("cli.err.subcommand", "Cmd", "service", "List", "install")}
	}
	if _, err := e.parse("service", fl, args[1:]); err != nil {
		return err
	}
	unit, err := renderUnit(unitConfig{Bin: *bin, KeyFile: *keyFile, Name: *name, Metrics: *metrics, Listen: listen})
	if err != nil {
		return &usageError{cmd: "service", msg: err.Error()}
	}
	under := func(p string) string { return filepath.Join(*root, p) }
	unitPath := under(defaultUnitPath)
	if _, err := os.Lstat(unitPath); err == nil && !*force {
		return errors.New(e.tr.T("cli.service.exists", "Unit", unitPath))
	}

	// Key file: kept if present, else created root-only.
	kp := under(*keyFile)
	keyNote := "kept"
	if _, err := os.Lstat(kp); errors.Is(err, fs.ErrNotExist) {
		// /etc stays world-readable; the key's own directory does not.
		if err := os.MkdirAll(filepath.Dir(filepath.Dir(kp)), 0o755); err != nil {
			return fmt.Errorf("create key file directory: %w", err)
		}
		if err := os.Mkdir(filepath.Dir(kp), 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("create key file directory: %w", err)
		}
		if err := store.CreateKeyFile(kp); err != nil {
			return err
		}
		keyNote = "created"
	} else if err != nil {
		return fmt.Errorf("check key file: %w", err)
	}

	// Binary: this program, unless one is there already.
	bp := under(*bin)
	if _, err := os.Lstat(bp); errors.Is(err, fs.ErrNotExist) {
		self, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find this program to copy it: %w", err)
		}
		if err := copyFile(self, bp, 0o755); err != nil {
			return fmt.Errorf("install binary: %w", err)
		}
	} else if err != nil {
		return fmt.Errorf("check binary: %w", err)
	}

	if err := os.MkdirAll(filepath.Dir(unitPath), 0o755); err != nil {
		return fmt.Errorf("create unit directory: %w", err)
	}
	if err := writeFileAtomic(unitPath, unit, 0o644); err != nil {
		return fmt.Errorf("write unit: %w", err)
	}
	fmt.Fprintln(e.stdout, e.tr.T("cli.service.wrote", "Unit", unitPath))
	fmt.Fprintln(e.stdout, e.tr.T("cli.service.key."+keyNote, "Key", kp))
	fmt.Fprintf(e.stdout, "%s\n  systemctl daemon-reload\n  systemctl enable --now lookout\n  lookout --home /var/lib/lookout doctor\n", e.tr.T("cli.service.next"))
	return nil
}

// copyFile copies src to dst through a temporary file in dst's directory.
func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return writeAtomic(dst, mode, func(w io.Writer) error {
		_, err := io.Copy(w, in)
		return err
	})
}

func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	return writeAtomic(path, mode, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// writeAtomic writes path through a synced temporary file and a rename, so
// nothing half-written is ever at path.
func writeAtomic(path string, mode os.FileMode, fill func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := fill(f); err != nil {
		return err
	}
	if err := f.Chmod(mode); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	return nil
}
