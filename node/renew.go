package node

import (
	"bytes"
	"fmt"
	"time"

	"lookout/crypto"
	"lookout/node/api"
	"lookout/node/store"
	"lookout/protocol"
)

// rootRenewBefore is how long before it expires the founder's own
// certificate is renewed.
const rootRenewBefore = 60 * 24 * time.Hour

// renewRootCert gives the founder of a zone (the holder of its root key) a
// fresh self-issued certificate once its own is within rootRenewBefore of
// expiry, or past it, so a zone outlives protocol.DefaultCertTTL. It
// reports whether rec changed. Other members' certificates are not renewed
// here: that needs an organizer.
func renewRootCert(rec *zoneRecord, id *crypto.Identity, now time.Time) (bool, error) {
	if !bytes.Equal(rec.Root, id.Public().Bytes()) || len(rec.Chain) != 1 {
		return false, nil
	}
	c, err := protocol.ParseCert(rec.Chain[0])
	if err != nil || now.Before(c.Expires.Add(-rootRenewBefore)) {
		return false, nil // a damaged certificate is reported by Record.Open
	}
	zid, err := protocol.ParseZoneID(rec.ID)
	if err != nil {
		return false, nil
	}
	nc, err := protocol.IssueCert(id, zid, id.Public(), protocol.RoleOrganizer, now, now.Add(protocol.DefaultCertTTL))
	if err != nil {
		return false, fmt.Errorf("renew founder certificate: %w", err)
	}
	rec.Chain = [][]byte{nc.Bytes()}
	return true, nil
}

// renewRoot renews the founder's certificate of a zone if due
// (renewRootCert), on disk then in memory: at start, daily, and before
// this node signs anything.
func (n *Node) renewRoot(z *zone) error {
	if ch := z.snapshot().chain; !z.root.Equal(n.id.Public()) || len(ch) != 1 || n.now().Before(ch[0].Expires.Add(-rootRenewBefore)) {
		return nil // not the founder, or not due: no lock taken
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	rec := z.rec
	changed, err := renewRootCert(&rec, n.id, n.now())
	if err != nil || !changed {
		return err
	}
	c, err := protocol.ParseCert(rec.Chain[0])
	if err != nil {
		return fmt.Errorf("renew founder certificate: %w", err)
	}
	zr, err := zoneRecordWrite(rec)
	if err != nil {
		return err
	}
	if err := n.putRecords([]store.Record{zr}); err != nil {
		return fmt.Errorf("renew founder certificate: %w", err)
	}
	z.setRecord(rec)
	z.mu.Lock()
	z.chain, z.role = protocol.Chain{c}, protocol.RoleOrganizer
	z.mu.Unlock()
	n.log.Info("renewed the founder certificate of a zone")
	return nil
}

// expiredSince reports when this member's certificate chain in the zone
// expired, if it has at now. An expired membership still reads the zone;
// nothing can be signed in it until an organizer renews it.
func (st snapshot) expiredSince(now time.Time) (time.Time, bool) {
	exp := st.chain.Expires()
	return exp, len(st.chain) > 0 && !now.Before(exp)
}

// expiredProblem is the error for sending in a zone whose membership
// expired at exp.
func expiredProblem(z *zone, exp time.Time) error {
	return api.Fail(api.ErrForbidden, "zone.expired", "Zone", api.Quote(z.rec.Name), "Date", exp.UTC().Format(time.DateOnly))
}
