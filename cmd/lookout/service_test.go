package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestServiceInstall installs the unit into a temporary root: unit, key
// file (0600, 32 bytes, never replaced) and binary, with the hardening the
// node relies on.
func TestServiceInstall(t *testing.T) {
	root := t.TempDir()
	var out, errb bytes.Buffer
	install := func(extra ...string) int {
		out.Reset()
		errb.Reset()
		args := append([]string{"service", "install", "--root", root, "--name", "Centre communautaire"}, extra...)
		return run(t.Context(), args, &out, &errb)
	}
	if code := install(); code != 0 {
		t.Fatalf("install: exit %d: %s", code, errb.String())
	}
	unit, err := os.ReadFile(filepath.Join(root, defaultUnitPath))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"DynamicUser=yes", "ProtectSystem=strict", "ProtectHome=yes", "NoNewPrivileges=yes",
		"PrivateTmp=yes", "StateDirectory=lookout", "Restart=on-failure", "CapabilityBoundingSet=\n",
		"LoadCredential=key:/etc/lookout/node.key",
		"ExecStart=/usr/local/bin/lookout --home /var/lib/lookout node --key-file ${CREDENTIALS_DIRECTORY}/key --metrics 127.0.0.1:9719\n",
		`Environment="LOOKOUT_NAME=Centre communautaire"`,
	} {
		if !bytes.Contains(unit, []byte(want)) {
			t.Errorf("unit lacks %q", want)
		}
	}
	kp := filepath.Join(root, defaultKeyFile)
	key, err := os.ReadFile(kp)
	if err != nil {
		t.Fatal(err)
	}
	if len(key) != 32 {
		t.Errorf("key file has %d bytes, want 32", len(key))
	}
	for path, mode := range map[string]os.FileMode{
		kp: 0o600, filepath.Dir(kp): 0o700 | os.ModeDir, filepath.Join(root, "etc"): 0o755 | os.ModeDir,
		filepath.Join(root, defaultUnitPath): 0o644, filepath.Join(root, defaultBin): 0o755,
	} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != mode {
			t.Errorf("%s: mode %v, want %v", path, fi.Mode(), mode)
		}
	}

	// A second install refuses to replace the unit; --force replaces it
	// but keeps the key.
	if code := install(); code != 1 || !strings.Contains(errb.String(), "pass --force") {
		t.Fatalf("second install: exit %d, %q; want a refusal naming --force", code, errb.String())
	}
	if code := install("--force", "--metrics", "", "--listen", "/ip4/0.0.0.0/tcp/4719"); code != 0 {
		t.Fatalf("forced install: exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "kept the existing key file") {
		t.Errorf("forced install output %q does not say the key was kept", out.String())
	}
	if again, _ := os.ReadFile(kp); !bytes.Equal(again, key) {
		t.Error("forced install replaced the key file")
	}
	unit, _ = os.ReadFile(filepath.Join(root, defaultUnitPath))
	if !bytes.Contains(unit, []byte("node --key-file ${CREDENTIALS_DIRECTORY}/key --listen /ip4/0.0.0.0/tcp/4719\n")) {
		t.Errorf("forced unit has no --listen or still has --metrics:\n%s", unit)
	}
}

// TestServiceInstallBadInput refuses what cannot go into a unit safely.
func TestServiceInstallBadInput(t *testing.T) {
	for _, tc := range []struct{ name, flag, value, want string }{
		{"public metrics", "--metrics", "0.0.0.0:9719", "not a loopback address: metrics tell who is connected and when; serve them on 127.0.0.1 and scrape through an SSH tunnel (to serve them elsewhere anyway, add --metrics-public to ExecStart in the unit by hand)"},
		{"metrics no port", "--metrics", "127.0.0.1", "not host:port"},
		{"relative key", "--key-file", "node.key", "absolute path"},
		{"key with space", "--key-file", "/etc/my key", "absolute path"},
		{"quote in name", "--name", `a"b`, "without quotes"},
		{"newline in name", "--name", "a\nExecStart=/bin/evil", "control characters"},
		{"bad listen", "--listen", "tcp:4719", "not a multiaddr"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			var out, errb bytes.Buffer
			code := run(t.Context(), []string{"service", "install", "--root", root, tc.flag, tc.value}, &out, &errb)
			if code != 2 || !strings.Contains(errb.String(), tc.want) || strings.Count(errb.String(), "\n") != 1 {
				t.Fatalf("exit %d, %q; want 2 and one line with %q", code, errb.String(), tc.want)
			}
			if entries, _ := os.ReadDir(root); len(entries) != 0 {
				t.Errorf("refused install left files: %v", entries)
			}
		})
	}
}

// TestServiceUnitVerifies runs systemd-analyze verify on the unit, which
// parses every directive; any warning fails the test.
func TestServiceUnitVerifies(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not found (Debian package systemd): unit not verified")
	}
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh: unit not verified")
	}
	dir := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	unit, err := renderUnit(unitConfig{Bin: self, KeyFile: filepath.Join(dir, "node.key"), Name: defaultNodeName, Metrics: defaultMetrics, Listen: []string{"/ip4/0.0.0.0/udp/4719/quic-v1"}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "lookout.service")
	if err := os.WriteFile(path, unit, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(sa, "verify", path)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) != 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestServiceUnitDoc keeps docs/lookout.service, the copy for reading and
// for installing by hand, equal to what service install writes by default.
func TestServiceUnitDoc(t *testing.T) {
	unit, err := renderUnit(unitConfig{Bin: defaultBin, KeyFile: defaultKeyFile, Name: defaultNodeName, Metrics: defaultMetrics})
	if err != nil {
		t.Fatal(err)
	}
	const doc = "../../docs/lookout.service"
	if os.Getenv("LOOKOUT_UPDATE_DOCS") != "" {
		if err := os.WriteFile(doc, unit, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, unit) {
		t.Fatal("docs/lookout.service differs from the unit service install writes; rerun with LOOKOUT_UPDATE_DOCS=1")
	}
}
