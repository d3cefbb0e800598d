package keys

import (
	"context"
	"errors"
	"time"

	"github.com/strongroom/strongroom/storage"
)

// AutoRotate rotates the keys of each of algs whenever its active key has
// signed for interval, until ctx ends; run it in its own goroutine on every
// node. It also publishes a next key for an algorithm that has none (so that
// the rotation can activate one relying parties have cached) and removes
// expired retired keys.
//
// Several nodes may run it at once: each bases its decision on the key set
// it read and Rotate repeats the check inside the storage transaction (under
// UpdateKeys' lock), so exactly one node rotates and the others see
// ErrAlreadyRotated, which is not an error here. It checks every
// interval/10, at least every minute and at most every second.
func (m *Manager) AutoRotate(ctx context.Context, interval time.Duration, algs []string) {
	if interval <= 0 {
		return
	}
	every := min(max(interval/10, time.Second), time.Minute)
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	for {
		if _, err := m.autoRotateOnce(ctx, interval, algs); err != nil && ctx.Err() == nil {
			m.logger.ErrorContext(ctx, "automatic key rotation failed; will retry", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// autoRotateOnce is one round of AutoRotate. It returns the rotations this
// node made.
func (m *Manager) autoRotateOnce(ctx context.Context, interval time.Duration, algs []string) ([]*RotateResult, error) {
	rows, err := m.store.ListKeys(ctx)
	if err != nil {
		return nil, err
	}
	origin := Origin{Actor: ActorAutoRotation, Source: "server"}
	now := m.now()
	var done []*RotateResult
	var errs []error
	for _, alg := range algs {
		v := viewOf(rows, alg)
		active, next := firstInState(rows, alg, storage.KeyStateActive), firstInState(rows, alg, storage.KeyStateNext)
		switch {
		case active == nil:
			continue // EnsureActive creates the first key
		case next == nil:
			// Publish a next key now, so that it is cached everywhere when due.
		case now.Sub(activatedAt(active)) < interval:
			continue
		case now.Before(m.policy.ReadyAt(next)):
			m.logger.DebugContext(ctx, "key rotation due; next key not published long enough yet",
				"alg", alg, "next", next.KID, "ready_at", m.policy.ReadyAt(next))
			continue
		}
		res, err := m.rotate(ctx, []string{alg}, RotateOptions{Origin: origin}, map[string]algView{alg: v})
		switch {
		case errors.Is(err, ErrAlreadyRotated):
			m.logger.DebugContext(ctx, "keys rotated by another node", "alg", alg)
		case errors.Is(err, ErrNextNotReady):
			m.logger.DebugContext(ctx, "key rotation due; next key not ready", "alg", alg, "err", err)
		case err != nil:
			errs = append(errs, err)
		default:
			done = append(done, &res[0])
		}
	}
	if len(done) == 0 && m.anyExpired(rows, now) {
		if _, err := m.Prune(ctx, origin); err != nil {
			errs = append(errs, err)
		}
	}
	return done, errors.Join(errs...)
}

func (m *Manager) anyExpired(rows []storage.SigningKey, now time.Time) bool {
	for i := range rows {
		if at := m.policy.RemoveAt(&rows[i]); !at.IsZero() && !now.Before(at) {
			return true
		}
	}
	return false
}

func firstInState(rows []storage.SigningKey, alg, state string) *storage.SigningKey {
	for i := range rows {
		if rows[i].Alg == alg && rows[i].State == state {
			return &rows[i]
		}
	}
	return nil
}

func activatedAt(k *storage.SigningKey) time.Time {
	if k.ActivatedAt != nil {
		return *k.ActivatedAt
	}
	return k.CreatedAt
}
