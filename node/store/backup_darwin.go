//go:build darwin

package store

import (
	"fmt"

	"golang.org/x/sys/unix"
)

const timeMachineXattr = "com.apple.metadata:com_apple_backup_excludeItem"

// excludeFromPlatformBackup sets Time Machine's exclusion flag on home,
// as `tmutil addexclusion` does (a sticky exclusion that moves with the
// directory).
func excludeFromPlatformBackup(home string) error {
	if err := unix.Setxattr(home, timeMachineXattr, timeMachineExclude(), 0); err != nil {
		return fmt.Errorf("exclude home from Time Machine: %w", err)
	}
	return nil
}
