package node

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"lookout/protocol"
)

// EnrollForBench makes the identity in home a member of one of this node's
// zones, as a completed invite and join would, but without the join
// protocol and without the member announcement: benchmarks need thousands
// of members, and a thousand joins through one inviter, each announced to
// every member, would measure enrolment instead of alert delivery.
//
// This node must be an organizer of the zone; the node at home must not be
// running. It certifies home's identity for role, then appends the zone to
// home's zone file with no remembered peers (the caller connects nodes).
// Only node/bench uses it.
func (n *Node) EnrollForBench(zoneRef, home, role string) error {
	z, err := n.zone(zoneRef)
	if err != nil {
		return err
	}
	r, err := protocol.ParseRole(role)
	if err != nil {
		return fmt.Errorf("enroll: %w", err)
	}
	id, _, err := loadIdentity(home)
	if err != nil {
		return fmt.Errorf("enroll: %w", err)
	}
	now := n.now()
	cert, err := protocol.IssueCert(n.id, z.id, id.Public(), r, now, now.Add(protocol.DefaultCertTTL))
	if err != nil {
		return fmt.Errorf("enroll: issue certificate: %w", err)
	}
	st := z.snapshot()
	rec := zoneRecord{ID: z.id.String(), Name: z.rec.Name, Epoch: st.epoch, Secret: append([]byte(nil), st.secret[:]...),
		Root: z.root.Bytes(), Chain: [][]byte{cert.Bytes()}, Peers: []string{}, Created: now}
	for _, c := range st.chain {
		rec.Chain = append(rec.Chain, c.Bytes())
	}
	path := filepath.Join(home, zonesFile)
	var recs []zoneRecord
	if err := readJSON(path, &recs); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("enroll: %w", err)
	}
	for _, o := range recs {
		if o.ID == rec.ID {
			return fmt.Errorf("enroll: %s is already a member of zone %q", home, rec.Name)
		}
	}
	return writeJSON(path, append(recs, rec))
}
