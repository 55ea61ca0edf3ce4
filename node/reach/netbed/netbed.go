// Package netbed builds a test network of Linux network namespaces: a
// bridge as "the internet", hosts with a public address on it, and homes
// behind nftables-masquerade routers that drop unsolicited traffic from
// the internet, as home routers do. Tests create it with Up and it is
// removed when the test ends, also when it fails.
//
// Addresses: the internet is 100.0.0.0/10 inside the bed's own namespaces
// (libp2p treats the benchmarking range 198.18.0.0/15 as unroutable, and
// hole punching, AutoNAT and relays need addresses it deems public). The
// namespaces have no link to the host's network, so no packet leaves
// them. Homes use 10.0.<n>.0/24 behind their router.
//
// It needs root, iproute2 (ip) and nftables (nft), and for UPnP routers
// miniupnpd (Debian's miniupnpd-nftables); Up skips the test with a
// message saying what is missing otherwise.
package netbed

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Router kinds.
const (
	// Cone is `masquerade`: Linux keeps the source port where it can, so
	// the mapping does not depend on the destination.
	Cone = "cone"
	// Symmetric is `masquerade random`: a new port per connection, which
	// defeats hole punching.
	Symmetric = "symmetric"
	// UPnP is a cone router running miniupnpd: homes behind it may map a
	// port (UPnP IGD or NAT-PMP), and traffic to a mapped port gets in.
	UPnP = "upnp"
)

// miniupnpd is the UPnP / NAT-PMP daemon UPnP routers run.
const miniupnpd = "miniupnpd"

// Host is a namespace with an address: a public host, or a machine at home.
type Host struct {
	Name string // as given to Up
	NS   string // namespace name
	IP   string // its own address
	// Router is the home router's namespace and PublicIP its address on
	// the internet; for a public host Router is empty and PublicIP is IP.
	Router   string
	PublicIP string
	Kind     string // Cone, Symmetric or "" for a public host
}

// Bed is a running test network.
type Bed struct {
	Prefix string
	Hosts  map[string]*Host
	nss    []string    // created, in order
	procs  []*exec.Cmd // daemons in the bed (miniupnpd), stopped by Down
	dir    string      // their configuration and state
}

// Spec describes one host of the bed: a public host (Kind "") or a home
// behind a router of the given kind.
type Spec struct {
	Name string
	Kind string
}

// Available says why the bed cannot run here, or "" if it can.
func Available() string {
	if os.Geteuid() != 0 {
		return "the NAT test bed needs root (network namespaces)"
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Sprintf("the NAT test bed needs %q (run scripts/install-deps.sh)", tool)
		}
	}
	return ""
}

// UPnPAvailable says why UPnP routers cannot run here, or "" if they can.
func UPnPAvailable() string {
	if why := Available(); why != "" {
		return why
	}
	if _, err := exec.LookPath(miniupnpd); err != nil {
		return "UPnP routers in the NAT test bed need miniupnpd (apt-get install miniupnpd-nftables; make test-nat installs it)"
	}
	return ""
}

// Up builds the bed or skips the test when it cannot run here.
func Up(t testing.TB, specs ...Spec) *Bed {
	t.Helper()
	if why := Available(); why != "" {
		t.Skip(why)
	}
	for _, s := range specs {
		if why := UPnPAvailable(); s.Kind == UPnP && why != "" {
			t.Skip(why)
		}
	}
	var rnd [3]byte
	rand.Read(rnd[:])
	b := &Bed{Prefix: "lk" + hex.EncodeToString(rnd[:]), Hosts: map[string]*Host{}}
	t.Cleanup(func() {
		if err := b.Down(); err != nil {
			t.Errorf("remove test bed: %v", err)
		}
	})
	if err := b.up(specs); err != nil {
		t.Fatalf("build test bed: %v", err)
	}
	return b
}

func (b *Bed) up(specs []Spec) error {
	inet := b.Prefix + "-net"
	if err := b.addNS(inet); err != nil {
		return err
	}
	if err := run("ip", "-n", inet, "link", "add", "br0", "type", "bridge"); err != nil {
		return err
	}
	if err := run("ip", "-n", inet, "link", "set", "br0", "up"); err != nil {
		return err
	}
	for i, s := range specs {
		if _, dup := b.Hosts[s.Name]; dup || s.Name == "" || s.Name == "net" {
			return fmt.Errorf("host name %q is empty, reserved or repeated", s.Name)
		}
		n := i + 1
		pub := fmt.Sprintf("100.%d.0.1", n)
		port := fmt.Sprintf("p%d", n) // the host's port on the bridge
		h := &Host{Name: s.Name, NS: b.Prefix + "-" + s.Name, PublicIP: pub, Kind: s.Kind}
		switch s.Kind {
		case "":
			h.IP = pub
			if err := b.wire(h.NS, "eth0", pub+"/10", inet, port); err != nil {
				return err
			}
		case Cone, Symmetric, UPnP:
			h.Router = b.Prefix + "-r" + s.Name
			if err := b.wire(h.Router, "wan", pub+"/10", inet, port); err != nil {
				return err
			}
			h.IP = fmt.Sprintf("10.0.%d.2", n)
			gw := fmt.Sprintf("10.0.%d.1", n)
			if err := b.addNS(h.NS); err != nil {
				return err
			}
			steps := [][]string{
				{"ip", "-n", h.NS, "link", "add", "eth0", "type", "veth", "peer", "name", "lan", "netns", h.Router},
				{"ip", "-n", h.NS, "addr", "add", h.IP + "/24", "dev", "eth0"},
				{"ip", "-n", h.NS, "link", "set", "eth0", "up"},
				{"ip", "-n", h.NS, "route", "add", "default", "via", gw},
				{"ip", "-n", h.Router, "addr", "add", gw + "/24", "dev", "lan"},
				{"ip", "-n", h.Router, "link", "set", "lan", "up"},
				{"ip", "netns", "exec", h.Router, "sysctl", "-qw", "net.ipv4.ip_forward=1"},
			}
			for _, st := range steps {
				if err := run(st...); err != nil {
					return err
				}
			}
			if err := runIn(routerRules(s.Kind), "ip", "netns", "exec", h.Router, "nft", "-f", "-"); err != nil {
				return err
			}
			if s.Kind == UPnP {
				if err := b.startUPnP(h); err != nil {
					return err
				}
			}
		default:
			return fmt.Errorf("host %q: unknown router kind %q (want %q, %q, %q or empty for a public host)", s.Name, s.Kind, Cone, Symmetric, UPnP)
		}
		b.Hosts[s.Name] = h
	}
	return nil
}

// routerRules is a home router: masquerade towards the internet, and no
// unsolicited traffic from it, neither to the router nor to the home. A
// UPnP router also lets in what its port mappings redirect, and has the
// table and chains miniupnpd adds its rules to (its defaults: table inet
// filter, chains miniupnpd, prerouting_miniupnpd, postrouting_miniupnpd).
// Chain names avoid nft keywords.
func routerRules(kind string) string {
	masq, mapped, upnp := "masquerade", "", ""
	if kind == Symmetric {
		masq = "masquerade random"
	}
	if kind == UPnP {
		mapped = `
		iifname "wan" ct status dnat accept`
		upnp = `
table inet filter {
	chain forward {
		type filter hook forward priority filter; policy accept;
		jump miniupnpd
	}
	chain miniupnpd {
	}
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		jump prerouting_miniupnpd
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		jump postrouting_miniupnpd
	}
	chain prerouting_miniupnpd {
	}
	chain postrouting_miniupnpd {
	}
}
`
	}
	return `table ip lookoutrouter {
	chain natout {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "wan" ` + masq + `
	}
	chain wanguard {
		type filter hook input priority filter; policy accept;
		iifname "wan" ct state established,related accept
		iifname "wan" drop
	}
	chain homeguard {
		type filter hook forward priority filter; policy accept;
		iifname "wan" ct state established,related accept` + mapped + `
		iifname "wan" drop
	}
}
` + upnp
}

// startUPnP runs miniupnpd in h's router: UPnP IGD and NAT-PMP on the
// home side, mappings of unprivileged ports for the home network only.
func (b *Bed) startUPnP(h *Host) error {
	if b.dir == "" {
		dir, err := os.MkdirTemp("", b.Prefix)
		if err != nil {
			return fmt.Errorf("miniupnpd state directory: %w", err)
		}
		b.dir = dir
	}
	var uuid [16]byte
	rand.Read(uuid[:])
	u := hex.EncodeToString(uuid[:])
	conf := filepath.Join(b.dir, h.Name+".conf")
	err := os.WriteFile(conf, []byte(`ext_ifname=wan
listening_ip=lan
http_port=0
enable_natpmp=yes
enable_upnp=yes
secure_mode=yes
system_uptime=yes
lease_file=`+filepath.Join(b.dir, h.Name+".leases")+`
uuid=`+u[:8]+"-"+u[8:12]+"-"+u[12:16]+"-"+u[16:20]+"-"+u[20:]+`
allow 1024-65535 10.0.0.0/8 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
`), 0o600)
	if err != nil {
		return fmt.Errorf("miniupnpd configuration: %w", err)
	}
	// -d: stay in the foreground (and log to stderr), so Down can stop it.
	cmd := exec.Command("ip", "netns", "exec", h.Router, miniupnpd, "-d", "-f", conf, "-P", filepath.Join(b.dir, h.Name+".pid"))
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start miniupnpd in %s: %w", h.Router, err)
	}
	b.procs = append(b.procs, cmd)
	return nil
}

// wire creates namespace ns (if new) with interface dev at addr, linked to
// the internet bridge through port.
func (b *Bed) wire(ns, dev, addr, inet, port string) error {
	if err := b.addNS(ns); err != nil {
		return err
	}
	for _, st := range [][]string{
		{"ip", "-n", ns, "link", "add", dev, "type", "veth", "peer", "name", port, "netns", inet},
		{"ip", "-n", ns, "addr", "add", addr, "dev", dev},
		{"ip", "-n", ns, "link", "set", dev, "up"},
		{"ip", "-n", inet, "link", "set", port, "master", "br0"},
		{"ip", "-n", inet, "link", "set", port, "up"},
	} {
		if err := run(st...); err != nil {
			return err
		}
	}
	return nil
}

func (b *Bed) addNS(ns string) error {
	if err := run("ip", "netns", "add", ns); err != nil {
		return err
	}
	b.nss = append(b.nss, ns)
	return run("ip", "-n", ns, "link", "set", "lo", "up")
}

// Command returns a command that runs in host's namespace.
func (b *Bed) Command(host, name string, args ...string) *exec.Cmd {
	h := b.Hosts[host]
	return exec.Command("ip", append([]string{"netns", "exec", h.NS, name}, args...)...)
}

// Down removes every namespace of the bed (their interfaces and rules go
// with them). Processes must be stopped first.
func (b *Bed) Down() error {
	var errs []string
	for _, p := range b.procs {
		p.Process.Kill()
		p.Wait()
	}
	b.procs = nil
	if b.dir != "" {
		os.RemoveAll(b.dir)
		b.dir = ""
	}
	for i := len(b.nss) - 1; i >= 0; i-- {
		if err := run("ip", "netns", "del", b.nss[i]); err != nil {
			errs = append(errs, err.Error())
		}
	}
	b.nss = nil
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

func run(args ...string) error { return runIn("", args...) }

func runIn(stdin string, args ...string) error {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return nil
}
