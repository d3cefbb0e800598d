package authz

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/strongroom/strongroom/storage"
)

// Brute-force policy.
//
// Every failed password or second-factor attempt counts against the account
// (keyed by the username as typed, so unknown usernames behave exactly like
// known ones) and against the source address (an IPv6 address counts for its
// whole /64). After FreeFailures, each further failure makes the key wait
// before its next attempt: BaseDelay, doubling up to MaxDelay. At
// MaxFailures the key is locked for LockDuration. Attempts made while a key
// waits or is locked are refused without checking the password and are not
// counted, so they cannot prolong the lock. Counters start again after
// Window without failures and on a successful login (the account's counter
// only: a success never clears the address's counter, or an attacker could
// reset it with an account of their own).
//
// Locks always expire; an operator lifts an account lock early with
// `strongroom users unlock`. An attacker who knows a username can keep
// re-locking that account, but only MaxFailures attempts per LockDuration,
// and each source address is limited by its own, higher threshold across
// all accounts. The counters live in the database, so every node agrees.

// ThrottlePolicy limits failed attempts for one kind of key.
type ThrottlePolicy struct {
	FreeFailures int           // failures without any delay
	BaseDelay    time.Duration // wait after the first delayed failure; doubles after each further one
	MaxDelay     time.Duration // cap on the wait
	MaxFailures  int           // failures that lock the key
	LockDuration time.Duration // how long a lock lasts
	Window       time.Duration // counters restart after this long without a failure
}

// ThrottleConfig is the policy per account and per source address.
type ThrottleConfig struct {
	Account ThrottlePolicy
	IP      ThrottlePolicy
}

// DefaultThrottle: an account locks for 15 minutes after 5 failures (waits
// of 1, 2 and 4 s before that); an address locks after 30 failures across
// all accounts, with waits from its 10th failure on.
var DefaultThrottle = ThrottleConfig{
	Account: ThrottlePolicy{FreeFailures: 1, BaseDelay: time.Second, MaxDelay: 30 * time.Second,
		MaxFailures: 5, LockDuration: 15 * time.Minute, Window: 15 * time.Minute},
	IP: ThrottlePolicy{FreeFailures: 10, BaseDelay: time.Second, MaxDelay: 30 * time.Second,
		MaxFailures: 30, LockDuration: 15 * time.Minute, Window: 15 * time.Minute},
}

// ErrThrottled is matched (errors.Is) by every *ThrottleError.
var ErrThrottled = errors.New("too many failed attempts")

// ThrottleError refuses an attempt: the key waits (Locked false) or is
// locked, until RetryAfter has passed.
type ThrottleError struct {
	Locked     bool
	RetryAfter time.Duration
}

func (e *ThrottleError) Error() string {
	if e.Locked {
		return fmt.Sprintf("temporarily locked after too many failed attempts; retry in %s", e.RetryAfter.Round(time.Second))
	}
	return fmt.Sprintf("too many failed attempts; retry in %s", e.RetryAfter.Round(time.Second))
}

// Is makes errors.Is(err, ErrThrottled) hold.
func (e *ThrottleError) Is(target error) bool { return target == ErrThrottled }

// Throttle applies ThrottleConfig on storage.LoginThrottles.
type Throttle struct {
	store storage.LoginThrottles
	cfg   ThrottleConfig
	now   func() time.Time
}

// NewThrottle returns a throttle over store.
func NewThrottle(store storage.LoginThrottles, cfg ThrottleConfig, now func() time.Time) *Throttle {
	if now == nil {
		now = time.Now
	}
	return &Throttle{store: store, cfg: cfg, now: now}
}

// AccountKey is the throttle key of a username.
func AccountKey(username string) string {
	if len(username) > 256 {
		username = username[:256]
	}
	return "user:" + username
}

// IPKey is the throttle key of a source address: the address, or its /64 for IPv6.
func IPKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return "ip:unknown"
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return "ip:" + p.String()
	}
	return "ip:" + a.String()
}

// inFlightHold is how long an admitted attempt keeps its account busy: the
// attempt's own Failure or Success replaces it at once; it only lapses if the
// attempt never finishes (a crash).
const inFlightHold = 3 * time.Second

// Check admits an attempt for username from ip, or refuses it while either
// key waits or is locked. Admission is atomic per account and marks the
// account busy until the attempt's Failure or Success: parallel guesses
// against one account are answered one at a time, so a burst cannot get more
// attempts checked than the policy allows before the lock.
func (t *Throttle) Check(ctx context.Context, username, ip string) error {
	now := t.now()
	worst, err := t.peek(ctx, IPKey(ip), now)
	if err != nil {
		return err
	}
	if worst != nil {
		return worst
	}
	err = t.store.UpdateLoginThrottle(ctx, AccountKey(username), func(l *storage.LoginThrottle) error {
		if e := refusal(l, now); e != nil {
			return e
		}
		l.NextAttemptAt = now.Add(inFlightHold)
		return nil
	})
	var te *ThrottleError
	if errors.As(err, &te) {
		return te
	}
	if err != nil {
		return fmt.Errorf("admit login attempt: %w", err)
	}
	return nil
}

// Wait reports, without admitting an attempt, whether one for username from
// ip would be refused now (for pages that show the wait).
func (t *Throttle) Wait(ctx context.Context, username, ip string) error {
	now := t.now()
	var worst *ThrottleError
	for _, key := range []string{AccountKey(username), IPKey(ip)} {
		e, err := t.peek(ctx, key, now)
		if err != nil {
			return err
		}
		if e != nil && (worst == nil || e.Locked && !worst.Locked || e.RetryAfter > worst.RetryAfter) {
			worst = e
		}
	}
	if worst != nil {
		return worst
	}
	return nil
}

// peek reads a key's state without writing.
func (t *Throttle) peek(ctx context.Context, key string, now time.Time) (*ThrottleError, error) {
	l, err := t.store.GetLoginThrottle(ctx, key)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read login throttle: %w", err)
	}
	return refusal(l, now), nil
}

// refusal is the error that refuses an attempt on l now, or nil.
func refusal(l *storage.LoginThrottle, now time.Time) *ThrottleError {
	switch {
	case l.LockedUntil.After(now):
		return &ThrottleError{Locked: true, RetryAfter: l.LockedUntil.Sub(now)}
	case l.NextAttemptAt.After(now):
		return &ThrottleError{RetryAfter: l.NextAttemptAt.Sub(now)}
	}
	return nil
}

// Failure counts a failed attempt against both keys. It reports whether
// this failure locked the account.
func (t *Throttle) Failure(ctx context.Context, username, ip string) (accountLocked bool, err error) {
	now := t.now()
	if accountLocked, err = t.fail(ctx, AccountKey(username), t.cfg.Account, now); err != nil {
		return false, err
	}
	if _, err := t.fail(ctx, IPKey(ip), t.cfg.IP, now); err != nil {
		return false, err
	}
	return accountLocked, nil
}

func (t *Throttle) fail(ctx context.Context, key string, p ThrottlePolicy, now time.Time) (locked bool, err error) {
	err = t.store.UpdateLoginThrottle(ctx, key, func(l *storage.LoginThrottle) error {
		if !l.LastFailureAt.IsZero() && now.Sub(l.LastFailureAt) > p.Window && !l.LockedUntil.After(now) {
			l.Failures = 0
		}
		l.Failures++
		l.LastFailureAt = now
		l.NextAttemptAt = now.Add(p.delay(l.Failures))
		if l.Failures >= p.MaxFailures && !l.LockedUntil.After(now) {
			l.LockedUntil = now.Add(p.LockDuration)
			l.Failures = 0 // after the lock, the count starts again
			locked = true
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("count failed login: %w", err)
	}
	return locked, nil
}

// delay is the wait after the n-th consecutive failure.
func (p ThrottlePolicy) delay(n int) time.Duration {
	if n <= p.FreeFailures {
		return 0
	}
	d := p.BaseDelay
	for i := p.FreeFailures + 1; i < n && d < p.MaxDelay; i++ {
		d *= 2
	}
	return min(d, p.MaxDelay)
}

// Success clears the account's counter (never the address's).
func (t *Throttle) Success(ctx context.Context, username string) error {
	err := t.store.DeleteLoginThrottle(ctx, AccountKey(username))
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("clear login throttle: %w", err)
	}
	return nil
}

// Unlock lifts the account's lock and clears its counter (operator action).
// It reports whether there was anything to clear.
func (t *Throttle) Unlock(ctx context.Context, username string) (bool, error) {
	err := t.store.DeleteLoginThrottle(ctx, AccountKey(username))
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("unlock account: %w", err)
	}
	return true, nil
}

// ThrottleCleanupInterval is how often each node removes counters that hold
// nothing back any more (Throttle.Cleanup).
const ThrottleCleanupInterval = 10 * time.Minute

// Cleanup removes the counters that no longer affect any attempt: no lock
// or wait left and no failure within the longer of the two windows (such a
// counter would restart from zero at its next failure anyway). Without it,
// every username an attacker makes up would keep a row forever. It reports
// how many counters it removed.
func (t *Throttle) Cleanup(ctx context.Context) (int64, error) {
	now := t.now().UTC()
	window := max(t.cfg.Account.Window, t.cfg.IP.Window)
	n, err := t.store.DeleteExpiredLoginThrottles(ctx, now, now.Add(-window))
	if err != nil {
		return n, fmt.Errorf("clean up login throttles: %w", err)
	}
	return n, nil
}

// RunThrottleCleanup runs Throttle.Cleanup at once and then every interval
// until ctx ends. Every node may run it: the deletes are idempotent.
func (p *Provider) RunThrottleCleanup(ctx context.Context, interval time.Duration) {
	runThrottleCleanup(ctx, p.mfa.throttle, interval, p.Log)
}

func runThrottleCleanup(ctx context.Context, t *Throttle, interval time.Duration, log *slog.Logger) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		n, err := t.Cleanup(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("login throttle cleanup failed", "err", err)
		case n > 0:
			log.Debug("login throttle cleanup", "removed", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
