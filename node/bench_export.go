package node

import (
	"errors"
	"fmt"

	"lookout/node/store"
	"lookout/protocol"
)

// EnrollForBench makes the identity in home a member of one of this node's
// zones, as a completed invite and join would, but without the join
// protocol and without the member announcement: benchmarks need thousands
// of members, and a thousand joins through one inviter, each announced to
// every member, would measure enrolment instead of alert delivery.
//
// This node must be an organizer of the zone; the node at home must not be
// running; secret and opt unlock its store. It certifies home's identity
// for role, then adds the zone to home's store with no remembered peers
// (the caller connects nodes). Only node/bench uses it.
func (n *Node) EnrollForBench(zoneRef, home string, secret store.Secret, opt store.Options, role string) error {
	z, err := n.zone(zoneRef)
	if err != nil {
		return err
	}
	r, err := protocol.ParseRole(role)
	if err != nil {
		return fmt.Errorf("enroll: %w", err)
	}
	st, err := openStore(home, secret, opt)
	if err != nil {
		return fmt.Errorf("enroll: %w", err)
	}
	defer st.Close()
	id, _, err := loadIdentity(st)
	if err != nil {
		return fmt.Errorf("enroll: %w", err)
	}
	now := n.now()
	cert, err := protocol.IssueCert(n.id, z.id, id.Public(), r, now, now.Add(protocol.DefaultCertTTL))
	if err != nil {
		return fmt.Errorf("enroll: issue certificate: %w", err)
	}
	snap := z.snapshot()
	rec := zoneRecord{ID: z.id.String(), Name: z.rec.Name, Epoch: snap.epoch, Secret: append([]byte(nil), snap.secret[:]...),
		Root: z.root.Bytes(), Chain: [][]byte{cert.Bytes()}, Peers: []string{}, Created: now}
	for _, c := range snap.chain {
		rec.Chain = append(rec.Chain, c.Bytes())
	}
	switch _, err := st.Get(bucketZones, rec.ID); {
	case err == nil:
		return fmt.Errorf("enroll: %s is already a member of zone %q", home, rec.Name)
	case !errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("enroll: %w", err)
	}
	if err := putJSON(st, bucketZones, rec.ID, rec); err != nil {
		return fmt.Errorf("enroll: %w", err)
	}
	return st.Close()
}
