package node

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/adrg/xdg"
	lpcrypto "github.com/libp2p/go-libp2p/core/crypto"

	"lookout/crypto"
)

// Files in a home directory. All are private to the user (0600, in a 0700
// directory). They are not yet encrypted at rest; full-disk encryption is
// the defence until the encrypted store lands.
const (
	identityFile = "identity"     // 32-byte member identity seed
	profileFile  = "profile.json" // display name
	peerKeyFile  = "peer.key"     // libp2p host key (protobuf)
	kemKeyFile   = "kem.key"      // 32-byte X-Wing seed: receives new epochs' secrets
	zonesFile    = "zones.json"   // zone memberships and secrets
	invitesFile  = "invites.json" // pending invites issued by this node
	replayFile   = "replay.log"   // alert IDs already accepted
	socketFile   = "lookout.sock" // control API
)

// ErrNoIdentity means the home directory has not been initialised.
var ErrNoIdentity = errors.New("no identity in this home")

// DefaultHome returns the home directory used when none is given:
// LOOKOUT_HOME if set, else "lookout" under the user's data directory.
func DefaultHome() string {
	if h := os.Getenv("LOOKOUT_HOME"); h != "" {
		return h
	}
	return filepath.Join(xdg.DataHome, "lookout")
}

// SocketPath returns the control socket path of a home directory.
func SocketPath(home string) string { return filepath.Join(home, socketFile) }

type profile struct {
	Name string `json:"name"`
}

// Init creates a member identity in home and returns the member ID. It
// refuses to overwrite an existing identity.
func Init(home, name string) (string, error) {
	if len(name) > 64 || strings.ContainsAny(name, "\x00\n\r") {
		return "", fmt.Errorf("name must be at most 64 characters on one line")
	}
	if err := os.MkdirAll(home, 0o700); err != nil {
		return "", fmt.Errorf("create home: %w", err)
	}
	if err := os.Chmod(home, 0o700); err != nil {
		return "", fmt.Errorf("secure home: %w", err)
	}
	if _, err := os.Stat(filepath.Join(home, identityFile)); err == nil {
		return "", fmt.Errorf("home %s is already initialised; use another --home to create a second identity", home)
	}
	id, err := crypto.NewIdentity(rand.Reader)
	if err != nil {
		return "", fmt.Errorf("create identity: %w", err)
	}
	if err := writeJSON(filepath.Join(home, profileFile), profile{Name: name}); err != nil {
		return "", err
	}
	if err := writeFileAtomic(filepath.Join(home, identityFile), id.Seed()); err != nil {
		return "", err
	}
	return id.ID().String(), nil
}

func loadIdentity(home string) (*crypto.Identity, string, error) {
	seed, err := os.ReadFile(filepath.Join(home, identityFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "", fmt.Errorf("%w %s; create one with: lookout --home %s init", ErrNoIdentity, home, home)
	}
	if err != nil {
		return nil, "", fmt.Errorf("read identity: %w", err)
	}
	id, err := crypto.IdentityFromSeed(seed)
	if err != nil {
		return nil, "", fmt.Errorf("load identity: file %s is damaged", filepath.Join(home, identityFile))
	}
	var p profile
	if err := readJSON(filepath.Join(home, profileFile), &p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, "", err
	}
	return id, p.Name, nil
}

// loadPeerKey returns the persistent libp2p host key, creating it once.
func loadPeerKey(home string) (lpcrypto.PrivKey, error) {
	path := filepath.Join(home, peerKeyFile)
	b, err := os.ReadFile(path)
	if err == nil {
		k, err := lpcrypto.UnmarshalPrivateKey(b)
		if err != nil {
			return nil, fmt.Errorf("load peer key: file %s is damaged", path)
		}
		return k, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read peer key: %w", err)
	}
	k, _, err := lpcrypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate peer key: %w", err)
	}
	b, err = lpcrypto.MarshalPrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("encode peer key: %w", err)
	}
	if err := writeFileAtomic(path, b); err != nil {
		return nil, err
	}
	return k, nil
}

// writeFileAtomic writes data to path via a private temporary file in the
// same directory and a rename, so a crash leaves the old or the new file.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	return nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", filepath.Base(path), err)
	}
	return writeFileAtomic(path, b)
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("read %s: file is damaged: %w", filepath.Base(path), err)
	}
	return nil
}

// loadKEMKey returns the member's long-term X-Wing key, creating it once.
// Organizers seal new epochs' zone secrets to it when a member is removed.
func loadKEMKey(home string) (*crypto.KEMKey, error) {
	path := filepath.Join(home, kemKeyFile)
	seed, err := os.ReadFile(path)
	if err == nil {
		k, err := crypto.KEMKeyFromSeed(seed)
		if err != nil {
			return nil, fmt.Errorf("load KEM key: file %s is damaged", path)
		}
		return k, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read KEM key: %w", err)
	}
	k, err := crypto.NewKEMKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("create KEM key: %w", err)
	}
	if err := writeFileAtomic(path, k.Seed()); err != nil {
		return nil, err
	}
	return k, nil
}
