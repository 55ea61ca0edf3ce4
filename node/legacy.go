package node

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"lookout/crypto"
	"lookout/node/store"
)

// Plain files kept by versions before the encrypted store (0600 in a 0700
// home). Init imports them into a new store, then shreds them.
var legacyFiles = []string{"identity", "profile.json", "peer.key", "kem.key", "zones.json", "invites.json", "replay.log"}

const (
	legacyIdentity = "identity"
	legacyProfile  = "profile.json"
	legacyPeerKey  = "peer.key"
	legacyKEMKey   = "kem.key"
	legacyZones    = "zones.json"
	legacyInvites  = "invites.json"
)

func hasLegacy(home string) bool {
	_, err := os.Lstat(filepath.Join(home, legacyIdentity))
	return err == nil
}

// importLegacy copies a plain-file home into st and returns its identity.
func importLegacy(home string, st *store.Store) (*crypto.Identity, error) {
	read := func(name string) ([]byte, error) {
		b, err := os.ReadFile(filepath.Join(home, name))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("import %s: %w", name, err)
		}
		return b, nil
	}
	seed, err := read(legacyIdentity)
	if err != nil {
		return nil, err
	}
	id, err := crypto.IdentityFromSeed(seed)
	if err != nil {
		return nil, fmt.Errorf("import %s: file is damaged", legacyIdentity)
	}
	if err := st.Put(bucketMeta, metaIdentity, seed); err != nil {
		return nil, fmt.Errorf("import identity: %w", err)
	}
	for name, key := range map[string]string{legacyProfile: metaProfile, legacyPeerKey: metaPeerKey, legacyKEMKey: metaKEMKey} {
		b, err := read(name)
		if err != nil {
			return nil, err
		}
		if len(b) == 0 {
			continue
		}
		if err := st.Put(bucketMeta, key, b); err != nil {
			return nil, fmt.Errorf("import %s: %w", name, err)
		}
	}
	var zones []zoneRecord
	if err := readLegacyJSON(home, legacyZones, &zones); err != nil {
		return nil, err
	}
	for _, rec := range zones {
		if err := putJSON(st, bucketZones, rec.ID, rec); err != nil {
			return nil, err
		}
	}
	var invites []*pendingInvite
	if err := readLegacyJSON(home, legacyInvites, &invites); err != nil {
		return nil, err
	}
	for _, inv := range invites {
		if _, err := hex.DecodeString(inv.ID); err != nil {
			return nil, fmt.Errorf("import %s: file is damaged", legacyInvites)
		}
		if err := putInvite(st, inv); err != nil {
			return nil, err
		}
	}
	return id, nil
}

func readLegacyJSON(home, name string, v any) error {
	b, err := os.ReadFile(filepath.Join(home, name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("import %s: %w", name, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("import %s: file is damaged", name)
	}
	return nil
}

// shredLegacy overwrites and removes every plain file of an old home.
func shredLegacy(home string) error {
	var first error
	for _, name := range legacyFiles {
		if err := store.Shred(filepath.Join(home, name)); err != nil && first == nil {
			first = fmt.Errorf("shred %s: %w", name, err)
		}
	}
	return first
}
