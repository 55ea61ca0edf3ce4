package store

import (
	"fmt"
	"os"
)

// swapByRename exchanges directories a and b through a third name.
func swapByRename(a, b string) error {
	mid := a + ".old"
	if err := os.Rename(b, mid); err != nil {
		return err
	}
	if err := os.Rename(a, b); err != nil {
		if rerr := os.Rename(mid, b); rerr != nil {
			return fmt.Errorf("%w (and putting %s back failed: %v)", err, b, rerr)
		}
		return err
	}
	return os.Rename(mid, a)
}
