package memory

import (
	"context"
	"fmt"
	"maps"
)

// AuditTamperer changes the trail of S behind the chain's back (tests of
// verification: storagetest.RunAuditTamper).
type AuditTamperer struct{ S *Store }

func (a AuditTamperer) SetAuditDetails(_ context.Context, id int64, details map[string]string) error {
	a.S.mu.Lock()
	defer a.S.mu.Unlock()
	e, ok := a.S.audit.events[id]
	if !ok {
		return fmt.Errorf("no event %d", id)
	}
	e.Details = maps.Clone(details)
	a.S.audit.events[id] = e
	return nil
}

func (a AuditTamperer) DeleteAudit(_ context.Context, id int64) error {
	a.S.mu.Lock()
	defer a.S.mu.Unlock()
	delete(a.S.audit.events, id)
	return nil
}

func (a AuditTamperer) SwapAuditIDs(_ context.Context, x, y int64) error {
	a.S.mu.Lock()
	defer a.S.mu.Unlock()
	ex, ey := a.S.audit.events[x], a.S.audit.events[y]
	ex.ID, ey.ID = y, x
	a.S.audit.events[x], a.S.audit.events[y] = ey, ex
	return nil
}

func (a AuditTamperer) SetCheckpointCutHash(_ context.Context, id int64, hash []byte) error {
	a.S.mu.Lock()
	defer a.S.mu.Unlock()
	c, ok := a.S.audit.checkpoints[id]
	if !ok {
		return fmt.Errorf("no checkpoint %d", id)
	}
	c.CutHash = hash
	a.S.audit.checkpoints[id] = c
	return nil
}
