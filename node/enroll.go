package node

import (
	"errors"
	"fmt"

	"lookout/node/internal/enroll"
	"lookout/node/store"
	"lookout/protocol"
)

func init() {
	enroll.Member = func(founder any, req enroll.Request) error {
		n, ok := founder.(*Node)
		if !ok {
			return enroll.ErrNotANode
		}
		return n.enroll(req)
	}
}

// enroll certifies req.Home's identity for req.Role in one of n's zones and
// adds the zone to its store (see enroll.Request).
func (n *Node) enroll(req enroll.Request) error {
	zoneRef, home, secret, opt, role := req.Zone, req.Home, req.Secret, req.Options, req.Role
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
	cert, err := protocol.IssueCert(n.id, z.ID(), id.Public(), r, now, now.Add(protocol.DefaultCertTTL))
	if err != nil {
		return fmt.Errorf("enroll: issue certificate: %w", err)
	}
	snap := z.snapshot()
	rec := zoneRecord{ID: z.ID().String(), Name: z.Name(), Epoch: snap.epoch, Secret: append([]byte(nil), snap.secret[:]...),
		Root: z.Root().Bytes(), Chain: [][]byte{cert.Bytes()}, Peers: []string{}, Created: now}
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
