package node

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/adrg/xdg"
	lpcrypto "github.com/libp2p/go-libp2p/core/crypto"

	"lookout/crypto"
	"lookout/node/store"
	"lookout/protocol"
)

// A home directory holds the encrypted store (node/store: store.keys and
// store.db) and, while a node runs, its control socket. Everything the
// node remembers lives in the store, one bucket per kind:
const (
	bucketMeta     = "meta"     // identity, profile, peer key, KEM key
	bucketZones    = "zones"    // zoneRecord JSON per zone
	bucketMessages = "messages" // accepted alerts and updates, until expiry + core.PruneGrace
	bucketGov      = "gov"      // governance messages, one record each (govlog.go)
	bucketServed   = "served"   // servedInvite JSON per invite this node handed out, until it expires (join_serve.go)
)

// Keys in bucketMeta.
const (
	metaIdentity = "identity" // 32-byte member identity seed
	metaProfile  = "profile"  // profile JSON: display name
	metaPeerKey  = "peer-key" // libp2p host key (protobuf)
	metaKEMKey   = "kem-key"  // 32-byte X-Wing seed: receives new epochs' secrets
)

const socketFile = "lookout.sock" // control API

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

// InitOptions configure Init.
type InitOptions struct {
	// Name is the optional display name other members see.
	Name string
	// Secret unlocks the store: a passphrase or a key file.
	Secret store.Secret
	// Duress, if set, is a second secret that opens an empty profile and
	// silently wipes the real one.
	Duress *store.Secret
	// Store tunes key derivation (tests use tiny parameters).
	Store store.Options
}

// Init creates the encrypted store in home with a new member identity and
// returns the member ID. It refuses to overwrite an existing one.
func Init(home string, opt InitOptions) (string, error) {
	if err := checkName(opt.Name); err != nil {
		return "", err
	}
	if err := checkHome(home); err != nil {
		return "", err
	}
	if err := os.MkdirAll(home, 0o700); err != nil {
		return "", fmt.Errorf("create home: %w", err)
	}
	if err := os.Chmod(home, 0o700); err != nil {
		return "", fmt.Errorf("secure home: %w", err)
	}
	if store.Exists(home) {
		return "", fmt.Errorf("home %s is already initialised; use another --home to create a second identity, or `lookout wipe` to destroy this one", home)
	}
	st, err := store.Create(home, opt.Secret, opt.Duress, opt.Store)
	if err != nil {
		return "", fmt.Errorf("create store: %w", err)
	}
	defer st.Close()
	id, err := newIdentity(st, opt.Name)
	if err != nil {
		store.Wipe(home)
		return "", err
	}
	if err := st.Close(); err != nil {
		return "", fmt.Errorf("close store: %w", err)
	}
	return id.ID().String(), nil
}

func checkName(name string) error {
	if err := protocol.CheckName(name, protocol.MaxNameLen); err != nil {
		return fmt.Errorf("name: %w; use one line of at most %d characters", err, protocol.MaxNameLen)
	}
	return nil
}

// newIdentity writes a fresh identity and profile into st.
func newIdentity(st *store.Store, name string) (*crypto.Identity, error) {
	id, err := crypto.NewIdentity(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("create identity: %w", err)
	}
	if err := putJSON(st, bucketMeta, metaProfile, profile{Name: name}); err != nil {
		return nil, err
	}
	if err := st.Put(bucketMeta, metaIdentity, id.Seed()); err != nil {
		return nil, fmt.Errorf("store identity: %w", err)
	}
	return id, nil
}

// Initialized reports whether home holds a Lookout profile, locked or not.
func Initialized(home string) bool { return store.Exists(home) }

// Wipe destroys the profile in home without its secret: keys first, so the
// store is unreadable within milliseconds, then every file. A node running
// in this process on home stops using it at once.
func Wipe(home string) error {
	err := store.Wipe(home)
	os.Remove(SocketPath(home))
	return err
}

// ChangeSecret re-wraps the store's key under a new passphrase or key file.
// The node must not be running.
func ChangeSecret(home string, old, new store.Secret, opt store.Options) error {
	if err := store.ChangeSecret(home, old, new, opt); err != nil {
		return fmt.Errorf("change passphrase: %w", err)
	}
	return nil
}

// openStore unlocks the store in home.
func openStore(home string, secret store.Secret, opt store.Options) (*store.Store, error) {
	if err := checkHome(home); err != nil {
		return nil, err
	}
	if !store.Exists(home) {
		return nil, fmt.Errorf("%w %s; create one with: lookout --home %s init", ErrNoIdentity, home, home)
	}
	st, err := store.Open(home, secret, opt)
	if errors.Is(err, store.ErrInUse) {
		return nil, fmt.Errorf("a node is already running for home %s: %w", home, err)
	}
	if err != nil {
		return nil, fmt.Errorf("unlock store: %w", err)
	}
	return st, nil
}

// loadIdentity reads the member identity and name. A store without one was
// just reset by its duress secret: it gets a fresh identity, so it looks
// like any new profile.
func loadIdentity(st *store.Store) (*crypto.Identity, string, error) {
	seed, err := st.Get(bucketMeta, metaIdentity)
	if errors.Is(err, store.ErrNotFound) {
		id, err := newIdentity(st, "")
		return id, "", err
	}
	if err != nil {
		return nil, "", fmt.Errorf("read identity: %w", err)
	}
	id, err := crypto.IdentityFromSeed(seed)
	if err != nil {
		return nil, "", fmt.Errorf("load identity: %w", store.ErrCorrupt)
	}
	var p profile
	if err := getJSON(st, bucketMeta, metaProfile, &p); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, "", err
	}
	return id, p.Name, nil
}

// loadPeerKey returns the persistent libp2p host key, creating it once.
func loadPeerKey(st *store.Store) (lpcrypto.PrivKey, error) {
	b, err := st.Get(bucketMeta, metaPeerKey)
	if err == nil {
		k, err := lpcrypto.UnmarshalPrivateKey(b)
		if err != nil {
			return nil, fmt.Errorf("load peer key: %w", store.ErrCorrupt)
		}
		return k, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("read peer key: %w", err)
	}
	k, _, err := lpcrypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate peer key: %w", err)
	}
	if b, err = lpcrypto.MarshalPrivateKey(k); err != nil {
		return nil, fmt.Errorf("encode peer key: %w", err)
	}
	if err := st.Put(bucketMeta, metaPeerKey, b); err != nil {
		return nil, fmt.Errorf("store peer key: %w", err)
	}
	return k, nil
}

// loadKEMKey returns the member's long-term X-Wing key, creating it once.
// Organizers seal new epochs' zone secrets to it when a member is removed.
func loadKEMKey(st *store.Store) (*crypto.KEMKey, error) {
	seed, err := st.Get(bucketMeta, metaKEMKey)
	if err == nil {
		k, err := crypto.KEMKeyFromSeed(seed)
		if err != nil {
			return nil, fmt.Errorf("load KEM key: %w", store.ErrCorrupt)
		}
		return k, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("read KEM key: %w", err)
	}
	k, err := crypto.NewKEMKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("create KEM key: %w", err)
	}
	if err := st.Put(bucketMeta, metaKEMKey, k.Seed()); err != nil {
		return nil, fmt.Errorf("store KEM key: %w", err)
	}
	return k, nil
}

func putJSON(st *store.Store, bucket, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", bucket, err)
	}
	if err := st.Put(bucket, key, b); err != nil {
		return fmt.Errorf("store %s: %w", bucket, err)
	}
	return nil
}

func getJSON(st *store.Store, bucket, key string, v any) error {
	b, err := st.Get(bucket, key)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("read %s: %w", bucket, store.ErrCorrupt)
	}
	return nil
}
