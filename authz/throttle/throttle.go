package throttle

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
// whole /64); a failed second factor also counts against the user's own
// second-factor counter (keyed by the user id). After FreeFailures, each
// further failure makes the key wait before its next attempt: BaseDelay,
// doubling up to MaxDelay. At MaxFailures the key is locked for
// LockDuration. Attempts made while a key waits or is locked are refused
// without checking anything and are not counted, so they cannot prolong the
// lock. Counters start again after Window without failures.
//
// Only a completed login clears counters: the account's and the user's
// second-factor counter, never the address's (an attacker could reset it
// with an account of their own). A correct password followed by a second
// factor clears nothing, so an attacker who knows the password cannot wipe
// the count of wrong codes by signing in again; the second-factor counter
// also survives its locks (each further failure doubles the lock up to
// MaxLockDuration), so a known password buys a handful of code guesses a
// day, not a handful per LockDuration.
//
// Admission is atomic: the account and second-factor keys are held busy
// while an attempt runs (parallel guesses against one user are answered one
// at a time), and the address counts each admitted attempt as a failure in
// the same step that checks it (a success gives its own count back), so a
// burst from one address gets exactly as many attempts checked as the same
// attempts one after the other.
//
// Locks always expire; an operator lifts a user's locks early with
// `strongroom users unlock`. An attacker who knows a username can keep
// re-locking that account, but only MaxFailures attempts per LockDuration,
// and each source address is limited by its own, higher threshold across
// all accounts. The counters live in the database, so every node agrees.

// Policy limits failed attempts for one kind of key.
type Policy struct {
	FreeFailures int           // failures without any delay
	BaseDelay    time.Duration // wait after the first delayed failure; doubles after each further one
	MaxDelay     time.Duration // cap on the wait
	MaxFailures  int           // failures that lock the key
	LockDuration time.Duration // how long a lock lasts
	// MaxLockDuration, when longer than LockDuration, makes locks escalate:
	// the count does not restart after a lock, and each failure after
	// MaxFailures locks again for twice as long as the one before, up to
	// MaxLockDuration. Zero: every lock lasts LockDuration and the count
	// restarts after it.
	MaxLockDuration time.Duration
	Window          time.Duration // counters restart after this long without a failure
}

// Config is the policy per account, per source address and per
// user's second factor.
type Config struct {
	Account Policy
	IP      Policy
	// SecondFactor counts the failed second factors of one user (a code,
	// recovery code or passkey, at sign-in or enrolment); only a completed
	// login clears it. Zero: the Account policy.
	SecondFactor Policy
}

// Default: an account locks for 15 minutes after 5 failures (waits
// of 1, 2 and 4 s before that); an address locks after 30 failures across
// all accounts, with waits from its 10th failure on; a user's second factor
// locks after 5 failures for 15 minutes, then each further failure doubles
// the lock up to a day, and the count lasts a week unless a login completes.
var Default = Config{
	Account: Policy{FreeFailures: 1, BaseDelay: time.Second, MaxDelay: 30 * time.Second,
		MaxFailures: 5, LockDuration: 15 * time.Minute, Window: 15 * time.Minute},
	IP: Policy{FreeFailures: 10, BaseDelay: time.Second, MaxDelay: 30 * time.Second,
		MaxFailures: 30, LockDuration: 15 * time.Minute, Window: 15 * time.Minute},
	SecondFactor: Policy{FreeFailures: 1, BaseDelay: time.Second, MaxDelay: 30 * time.Second,
		MaxFailures: 5, LockDuration: 15 * time.Minute, MaxLockDuration: 24 * time.Hour, Window: 7 * 24 * time.Hour},
}

// ErrThrottled is matched (errors.Is) by every *Error.
var ErrThrottled = errors.New("too many failed attempts")

// Error refuses an attempt: the key waits (Locked false) or is
// locked, until RetryAfter has passed.
type Error struct {
	Locked     bool
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Locked {
		return fmt.Sprintf("temporarily locked after too many failed attempts; retry in %s", e.RetryAfter.Round(time.Second))
	}
	return fmt.Sprintf("too many failed attempts; retry in %s", e.RetryAfter.Round(time.Second))
}

// Is makes errors.Is(err, ErrThrottled) hold.
func (e *Error) Is(target error) bool { return target == ErrThrottled }

// Throttle applies Config on storage.LoginThrottles.
type Throttle struct {
	store storage.LoginThrottles
	cfg   Config
	now   func() time.Time
}

// New returns a throttle over store.
func New(store storage.LoginThrottles, cfg Config, now func() time.Time) *Throttle {
	if now == nil {
		now = time.Now
	}
	if cfg.SecondFactor == (Policy{}) {
		cfg.SecondFactor = cfg.Account
	}
	return &Throttle{store: store, cfg: cfg, now: now}
}

// Key prefixes of the three kinds of counter.
const (
	accountPrefix = "user:"
	ipPrefix      = "ip:"
	factorPrefix  = "mfa:"
)

// AccountKey is the throttle key of a username.
func AccountKey(username string) string {
	if len(username) > 256 {
		username = username[:256]
	}
	return accountPrefix + username
}

// SecondFactorKey is the throttle key of a user's second factor.
func SecondFactorKey(userID string) string { return factorPrefix + userID }

// IPKey is the throttle key of a source address: the address, or its /64 for IPv6.
func IPKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ipPrefix + "unknown"
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return ipPrefix + p.String()
	}
	return ipPrefix + a.String()
}

// inFlightHold is how long an admitted attempt keeps its account busy: the
// attempt's own Fail, Release or Succeed replaces it at once; it only lapses
// if the attempt never finishes (a crash).
const inFlightHold = 3 * time.Second

// Attempt is one admitted login step. It must end with exactly one of Fail
// (the factor was wrong), Release (it was right but the login goes on, or
// it was never checked) or Succeed (the whole login is complete).
type Attempt struct {
	t         *Throttle
	account   string // account key
	factor    string // second-factor key, "" for a password step
	ip        string // address key
	admitted  time.Time
	heldUntil time.Time
}

// Admit admits a password attempt for username from ip, or refuses it
// (*Error) while the address or the account waits or is locked.
func (t *Throttle) Admit(ctx context.Context, username, ip string) (*Attempt, error) {
	return t.admit(ctx, &Attempt{t: t, account: AccountKey(username), ip: IPKey(ip)})
}

// AdmitSecondFactor admits a second-factor attempt (verification or
// enrolment) of the user with username and id from ip, or refuses it while
// the address, the account or the user's second factor waits or is locked.
func (t *Throttle) AdmitSecondFactor(ctx context.Context, username, userID, ip string) (*Attempt, error) {
	return t.admit(ctx, &Attempt{t: t, account: AccountKey(username), factor: SecondFactorKey(userID), ip: IPKey(ip)})
}

// admit takes, in order, the address (counted as a failure in the step
// that checks it), the account and the second factor (held busy); a
// refusal gives back what was already taken: refused attempts count nowhere.
func (t *Throttle) admit(ctx context.Context, a *Attempt) (*Attempt, error) {
	now := t.now()
	a.admitted, a.heldUntil = now, now.Add(inFlightHold)
	if err := t.reserve(ctx, a.ip, now); err != nil {
		return nil, err
	}
	if err := t.hold(ctx, a.account, a); err != nil {
		return nil, errors.Join(err, t.refund(ctx, a.ip))
	}
	if a.factor != "" {
		if err := t.hold(ctx, a.factor, a); err != nil {
			return nil, errors.Join(err, t.release(ctx, a.account, a), t.refund(ctx, a.ip))
		}
	}
	return a, nil
}

// reserve admits an attempt on the address key and counts it as a failure
// in the same atomic step: parallel attempts see each other's counts.
func (t *Throttle) reserve(ctx context.Context, key string, now time.Time) error {
	err := t.store.UpdateLoginThrottle(ctx, key, func(l *storage.LoginThrottle) error {
		if e := refusal(l, now); e != nil {
			return e
		}
		t.cfg.IP.count(l, now)
		return nil
	})
	return admitError(err)
}

// refund gives back the failure reserve counted for an attempt that did
// not fail, and the wait that count alone caused.
func (t *Throttle) refund(ctx context.Context, key string) error {
	err := t.store.UpdateLoginThrottle(ctx, key, func(l *storage.LoginThrottle) error {
		if l.Failures == 0 { // restarted or locked since: nothing of ours is left
			return nil
		}
		l.Failures--
		if next := l.LastFailureAt.Add(t.cfg.IP.delay(l.Failures)); next.Before(l.NextAttemptAt) {
			l.NextAttemptAt = next
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("release login attempt: %w", err)
	}
	return nil
}

// hold admits an attempt on key and marks the key busy until the attempt ends.
func (t *Throttle) hold(ctx context.Context, key string, a *Attempt) error {
	err := t.store.UpdateLoginThrottle(ctx, key, func(l *storage.LoginThrottle) error {
		if e := refusal(l, a.admitted); e != nil {
			return e
		}
		l.NextAttemptAt = a.heldUntil
		return nil
	})
	return admitError(err)
}

// release ends a's hold on key (the wait it replaced had passed: admission
// checked that). A later wait, set by a failure, stays.
func (t *Throttle) release(ctx context.Context, key string, a *Attempt) error {
	err := t.store.UpdateLoginThrottle(ctx, key, func(l *storage.LoginThrottle) error {
		if !l.NextAttemptAt.After(a.heldUntil) {
			l.NextAttemptAt = time.Time{}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("release login attempt: %w", err)
	}
	return nil
}

func admitError(err error) error {
	var te *Error
	if errors.As(err, &te) {
		return te
	}
	if err != nil {
		return fmt.Errorf("admit login attempt: %w", err)
	}
	return nil
}

// Fail counts the attempt's failure against the account and, for a second
// factor, the user's second-factor counter (the address counted it on
// admission). When this failure locked either, it returns the lock (the
// longer one); otherwise nil.
func (a *Attempt) Fail(ctx context.Context) (*Error, error) {
	now := a.t.now()
	until, err := a.t.fail(ctx, a.account, a.t.cfg.Account, now)
	if err != nil {
		return nil, err
	}
	if a.factor != "" {
		factorUntil, err := a.t.fail(ctx, a.factor, a.t.cfg.SecondFactor, now)
		if err != nil {
			return nil, err
		}
		until = maxTime(until, factorUntil)
	}
	if until.IsZero() {
		return nil, nil
	}
	return &Error{Locked: true, RetryAfter: until.Sub(now)}, nil
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Release ends an attempt that did not fail but did not complete the login
// either: a correct password before a second factor, or an attempt that was
// never checked (the server was busy). It clears no count: the failures of
// every factor count until the whole login succeeds.
func (a *Attempt) Release(ctx context.Context) error {
	err := a.t.release(ctx, a.account, a)
	if a.factor != "" {
		err = errors.Join(err, a.t.release(ctx, a.factor, a))
	}
	return errors.Join(err, a.t.refund(ctx, a.ip))
}

// Succeed ends the attempt that completed a login: it clears the account's
// counter and, for a second factor, the user's second-factor counter, and
// gives back the address's count of this attempt (never more).
func (a *Attempt) Succeed(ctx context.Context) error {
	keys := []string{a.account}
	if a.factor != "" {
		keys = append(keys, a.factor)
	}
	for _, key := range keys {
		if err := a.t.store.DeleteLoginThrottle(ctx, key); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("clear login throttle: %w", err)
		}
	}
	return a.t.refund(ctx, a.ip)
}

// Wait reports, without admitting an attempt, whether one for username from
// ip would be refused now (for pages that show the wait).
func (t *Throttle) Wait(ctx context.Context, username, ip string) error {
	now := t.now()
	var worst *Error
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
func (t *Throttle) peek(ctx context.Context, key string, now time.Time) (*Error, error) {
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
func refusal(l *storage.LoginThrottle, now time.Time) *Error {
	switch {
	case l.LockedUntil.After(now):
		return &Error{Locked: true, RetryAfter: l.LockedUntil.Sub(now)}
	case l.NextAttemptAt.After(now):
		return &Error{RetryAfter: l.NextAttemptAt.Sub(now)}
	}
	return nil
}

// Failure counts a failed attempt that was not admitted through Admit
// against the account and the address. It reports whether this failure
// locked the account.
func (t *Throttle) Failure(ctx context.Context, username, ip string) (accountLocked bool, err error) {
	now := t.now()
	until, err := t.fail(ctx, AccountKey(username), t.cfg.Account, now)
	if err != nil {
		return false, err
	}
	if _, err := t.fail(ctx, IPKey(ip), t.cfg.IP, now); err != nil {
		return false, err
	}
	return !until.IsZero(), nil
}

// fail counts a failure of key; it returns the end of the lock this failure
// set, or zero.
func (t *Throttle) fail(ctx context.Context, key string, p Policy, now time.Time) (lockedUntil time.Time, err error) {
	err = t.store.UpdateLoginThrottle(ctx, key, func(l *storage.LoginThrottle) error {
		lockedUntil = time.Time{} // the store may run fn again
		if p.count(l, now) {
			lockedUntil = l.LockedUntil
		}
		return nil
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("count failed login: %w", err)
	}
	return lockedUntil, nil
}

// count adds one failure at now to l and reports whether it locked l.
func (p Policy) count(l *storage.LoginThrottle, now time.Time) (locked bool) {
	if !l.LastFailureAt.IsZero() && now.Sub(l.LastFailureAt) > p.Window && !l.LockedUntil.After(now) {
		l.Failures = 0
	}
	l.Failures++
	l.LastFailureAt = now
	// No wait is zero, not now: a parallel attempt that read its clock a
	// moment before this one took the row must not see a wait.
	l.NextAttemptAt = time.Time{}
	if d := p.delay(l.Failures); d > 0 {
		l.NextAttemptAt = now.Add(d)
	}
	if l.Failures < p.MaxFailures || l.LockedUntil.After(now) {
		return false
	}
	if p.MaxLockDuration <= p.LockDuration {
		l.LockedUntil = now.Add(p.LockDuration)
		l.Failures = 0 // after the lock, the count starts again
		return true
	}
	l.LockedUntil = now.Add(p.lock(l.Failures))
	return true
}

// lock is the escalating lock after the n-th failure (n ≥ MaxFailures).
func (p Policy) lock(n int) time.Duration {
	d := p.LockDuration
	for i := p.MaxFailures; i < n && d < p.MaxLockDuration; i++ {
		d *= 2
	}
	return min(d, p.MaxLockDuration)
}

// delay is the wait after the n-th consecutive failure.
func (p Policy) delay(n int) time.Duration {
	if n <= p.FreeFailures {
		return 0
	}
	d := p.BaseDelay
	for i := p.FreeFailures + 1; i < n && d < p.MaxDelay; i++ {
		d *= 2
	}
	return min(d, p.MaxDelay)
}

// Unlock lifts the user's locks and clears their counters (operator
// action): the account's (username) and the second factor's (userID). It
// reports whether there was anything to clear.
func (t *Throttle) Unlock(ctx context.Context, username, userID string) (bool, error) {
	had := false
	for _, key := range []string{AccountKey(username), SecondFactorKey(userID)} {
		err := t.store.DeleteLoginThrottle(ctx, key)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return had, fmt.Errorf("unlock account: %w", err)
		}
		had = true
	}
	return had, nil
}

// CleanupInterval is how often each node removes counters that hold
// nothing back any more (Throttle.Cleanup).
const CleanupInterval = 10 * time.Minute

// Cleanup removes the counters that no longer affect any attempt: no lock
// or wait left and no failure within their kind's window (such a counter
// would restart from zero at its next failure anyway). Without it, every
// username an attacker makes up would keep a row forever. It reports how
// many counters it removed.
func (t *Throttle) Cleanup(ctx context.Context) (int64, error) {
	now := t.now().UTC()
	var total int64
	for _, k := range []struct {
		prefix string
		window time.Duration
	}{
		{accountPrefix, t.cfg.Account.Window},
		{ipPrefix, t.cfg.IP.Window},
		{factorPrefix, t.cfg.SecondFactor.Window},
	} {
		n, err := t.store.DeleteExpiredLoginThrottles(ctx, k.prefix, now, now.Add(-k.window))
		total += n
		if err != nil {
			return total, fmt.Errorf("clean up login throttles: %w", err)
		}
	}
	return total, nil
}

// RunCleanup runs Cleanup at once and then every interval until ctx ends,
// logging failures on log. Every node may run it: the deletes are
// idempotent.
func (t *Throttle) RunCleanup(ctx context.Context, interval time.Duration, log *slog.Logger) {
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
