package memory

import (
	"context"
	"fmt"
	"time"

	"github.com/strongroom/strongroom/storage"
)

// UseJTI records jti until exp; ErrAlreadyExists if it is recorded and not
// yet expired (a replay). An expired record is overwritten.
func (s *Store) UseJTI(ctx context.Context, jti string, exp time.Time) error {
	err := s.write(ctx, func(t *txn) error {
		if old, ok := s.jtis[jti]; ok && s.live(old) {
			return fmt.Errorf("replayed: %w", storage.ErrAlreadyExists)
		}
		put(t, s.jtis, jti, tm(exp))
		return nil
	})
	if err != nil {
		return fmt.Errorf("memory: use jti %q: %w", jti, err)
	}
	return nil
}

// DeleteExpiredJTIs removes the records that expired before the given time
// and reports how many.
func (s *Store) DeleteExpiredJTIs(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.write(ctx, func(t *txn) error {
		for jti, exp := range s.jtis {
			if exp.Before(before) {
				del(t, s.jtis, jti)
				n++
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("memory: delete expired client assertion ids: %w", err)
	}
	return n, nil
}

// CreateRequestOnce records jti and inserts r, both or neither.
func (s *Store) CreateRequestOnce(ctx context.Context, r *storage.Request, jti string, exp time.Time) error {
	err := s.write(ctx, func(t *txn) error {
		if old, ok := s.jtis[jti]; ok && s.live(old) {
			return fmt.Errorf("jti %q: %w", jti, storage.ErrJTIUsed)
		}
		key := requestKey{r.Kind, r.Signature}
		if _, ok := s.requests[key]; ok {
			return storage.ErrAlreadyExists
		}
		if _, ok := s.clients[r.ClientID]; !ok {
			return fmt.Errorf("client %q: %w", r.ClientID, storage.ErrNotFound)
		}
		put(t, s.jtis, jti, tm(exp))
		put(t, s.requests, key, cloneRequest(*r))
		return nil
	})
	if err != nil {
		return fmt.Errorf("memory: create %s request once: %w", r.Kind, err)
	}
	return nil
}
