package store

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
)

// cacheTagFile marks the home as a cache directory, which backup tools
// that follow the Cache Directory Tagging Specification (tar
// --exclude-caches, borg and restic --exclude-caches, duplicity and
// others) leave out. A backup of the home would keep copies of the store
// that wipe cannot reach.
const cacheTagFile = "CACHEDIR.TAG"

// cacheTag is the file's content: the specification's signature line,
// then a comment.
const cacheTag = "Signature: 8a477f597d28d172789f06886806bc55\n" +
	"# This directory holds an encrypted Lookout profile. Backups would keep\n" +
	"# copies that `lookout wipe` cannot destroy, so it is tagged as a cache.\n"

// excludeFromBackups writes the cache tag in home and, where the platform
// has one, sets its backup-exclusion flag (Time Machine on macOS).
func excludeFromBackups(home string) error {
	if err := os.WriteFile(filepath.Join(home, cacheTagFile), []byte(cacheTag), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", cacheTagFile, err)
	}
	return excludeFromPlatformBackup(home)
}

// timeMachineExclude is the value Time Machine reads in the extended
// attribute com.apple.metadata:com_apple_backup_excludeItem: a binary
// property list holding the string "com.apple.backupd".
func timeMachineExclude() []byte {
	const s = "com.apple.backupd"
	b := []byte("bplist00")
	b = append(b, 0x5f, 0x10, byte(len(s))) // ASCII string, length as a 1-byte int
	b = append(b, s...)
	offsetTable := len(b)
	b = append(b, 8) // object 0 starts after the 8-byte magic
	// Trailer: 6 unused bytes, offset int size, object ref size, number
	// of objects, top object, offset of the offset table.
	b = append(b, 0, 0, 0, 0, 0, 0, 1, 1)
	b = binary.BigEndian.AppendUint64(b, 1)
	b = binary.BigEndian.AppendUint64(b, 0)
	return binary.BigEndian.AppendUint64(b, uint64(offsetTable))
}
