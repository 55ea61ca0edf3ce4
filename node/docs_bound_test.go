package node

import (
	"testing"

	core "lookout/node/internal/zone"
)

// TestDocBoundFitsGov: card and place messages never take more than half
// of the governance messages a node keeps of a zone.
func TestDocBoundFitsGov(t *testing.T) {
	if 2*core.MaxDocMessages > maxGovMessages {
		t.Errorf("core.MaxDocMessages %d is more than half of maxGovMessages %d", core.MaxDocMessages, maxGovMessages)
	}
}
