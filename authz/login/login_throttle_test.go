package login

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/strongroom/strongroom/authz/internal/authztest"
	"github.com/strongroom/strongroom/authz/password"
	"github.com/strongroom/strongroom/authz/throttle"
	"github.com/strongroom/strongroom/storage"
	"github.com/strongroom/strongroom/storage/pgtest"
	"github.com/strongroom/strongroom/storage/postgres"
)

// throttleStores are the two stores every throttle test runs against.
var throttleStores = map[string]func(t *testing.T) storage.Store{
	"memory":   func(t *testing.T) storage.Store { return newMemoryStore(t) },
	"postgres": func(t *testing.T) storage.Store { return openPostgres(t, pgtest.NewDatabase(t)) },
}

// Parallel password attempts (40 usernames) from one address get no more
// passwords checked than the same attempts one after the other: the address
// counts an attempt in the step that admits it.
func TestParallelLoginsFromOneAddressAreAdmittedUpToTheLimit(t *testing.T) {
	for name, open := range throttleStores {
		t.Run(name, func(t *testing.T) {
			p := newTestProvider(t, open(t))
			p.auth.Limiter = password.NewHashLimiter(password.HashLimits{Wait: time.Minute}) // never busy here
			const n = 40
			errs := race(n, func(i int) error {
				_, err := p.LoginPassword(t.Context(), &Flow{rec: &storage.AuthFlow{}}, fmt.Sprintf("guess-%d", i), "wrong password", LoginMeta{IP: "192.0.2.10"})
				return err
			})
			checked := 0
			for _, err := range errs {
				switch {
				case errors.Is(err, password.ErrInvalidCredentials):
					checked++
				case errors.Is(err, throttle.ErrThrottled):
				default:
					t.Fatalf("unexpected error: %v", err)
				}
			}
			if want := p.cfg.LoginThrottle.IP.FreeFailures + 1; checked != want {
				t.Fatalf("%d of %d parallel attempts were checked, want %d (as one after the other)", checked, n, want)
			}
			// Every refused attempt gave its count back: the address holds
			// exactly the checked failures.
			l, err := p.store.GetLoginThrottle(t.Context(), throttle.IPKey("192.0.2.10"))
			if err != nil {
				t.Fatal(err)
			}
			if l.Failures != checked {
				t.Fatalf("address counter = %d failures, want %d", l.Failures, checked)
			}
		})
	}
}

// The second-factor counter: a correct password in between clears nothing,
// the lock is audited, the count survives the lock's expiry and the cleanup
// (each further failure locks for twice as long), only a completed login or
// an operator clears it, and parallel attempts are answered one at a time.
func TestSecondFactorFailuresSurvivePasswordLockExpiryAndCleanup(t *testing.T) {
	for name, open := range throttleStores {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			st := open(t)
			c := authztest.NewClock(testNow)
			th := throttle.New(st, throttle.Default, c.Now)
			const ip = "192.0.2.20"
			failFactor := func(i int) *throttle.Error {
				t.Helper()
				a, err := th.AdmitSecondFactor(ctx, "mallory-target", "u-1", ip)
				if err != nil {
					t.Fatalf("factor attempt %d refused: %v", i, err)
				}
				lock, err := a.Fail(ctx)
				if err != nil {
					t.Fatal(err)
				}
				c.Advance(31 * time.Second) // past any wait, well inside every window
				return lock
			}
			password := func() {
				t.Helper()
				a, err := th.Admit(ctx, "mallory-target", ip)
				if err != nil {
					t.Fatalf("password attempt refused: %v", err)
				}
				if err := a.Release(ctx); err != nil {
					t.Fatal(err)
				}
			}
			for i := range 4 {
				if lock := failFactor(i); lock != nil {
					t.Fatalf("locked after %d failures", i+1)
				}
			}
			password() // right password: clears nothing
			lock := failFactor(5)
			if lock == nil || lock.RetryAfter != 15*time.Minute {
				t.Fatalf("fifth failure: lock %+v, want 15 min", lock)
			}
			// Parallel attempts while locked: all refused, none counted. Each
			// attempt counts against the address before it meets the lock and
			// gives that count back when refused, so in a burst some meet the
			// address's pacing (a short retry-after) instead of the lock:
			// refused either way, and every counter ends where it started.
			counters := func() [3]int {
				t.Helper()
				var n [3]int
				for i, key := range []string{throttle.AccountKey("mallory-target"), throttle.SecondFactorKey("u-1"), throttle.IPKey(ip)} {
					l, err := st.GetLoginThrottle(ctx, key)
					if err != nil {
						t.Fatalf("counter %s: %v", key, err)
					}
					n[i] = l.Failures
				}
				return n
			}
			before := counters()
			errs := race(10, func(int) error {
				_, err := th.AdmitSecondFactor(ctx, "mallory-target", "u-1", ip)
				return err
			})
			locked := 0
			for _, err := range errs {
				var te *throttle.Error
				if !errors.As(err, &te) || te.RetryAfter <= 0 {
					t.Fatalf("attempt while locked: %v, want a refusal", err)
				}
				if te.Locked {
					locked++
				}
			}
			if locked == 0 {
				t.Fatal("no parallel attempt met the second factor's lock")
			}
			if after := counters(); after != before {
				t.Fatalf("refused parallel attempts were counted: account, factor, address %v -> %v", before, after)
			}
			// The lock expires and the cleanup runs: the account counter
			// restarts, the second factor's does not.
			c.Advance(15 * time.Minute)
			if _, err := th.Cleanup(ctx); err != nil {
				t.Fatal(err)
			}
			for i, want := range []time.Duration{30 * time.Minute, time.Hour, 2 * time.Hour} {
				lock := failFactor(6 + i)
				if lock == nil || lock.RetryAfter != want {
					t.Fatalf("failure %d after the first lock: lock %+v, want %v", i+1, lock, want)
				}
				c.Advance(want)
			}
			// An operator unlock clears both counters.
			had, err := th.Unlock(ctx, "mallory-target", "u-1")
			if err != nil || !had {
				t.Fatalf("unlock: %v, %v", had, err)
			}
			if lock := failFactor(0); lock != nil {
				t.Fatal("locked right after the operator's unlock")
			}
			// A completed login clears the second factor's counter.
			a, err := th.AdmitSecondFactor(ctx, "mallory-target", "u-1", ip)
			if err != nil {
				t.Fatal(err)
			}
			if err := a.Succeed(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := st.GetLoginThrottle(ctx, throttle.SecondFactorKey("u-1")); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("second-factor counter after a completed login: %v", err)
			}
		})
	}
}

// Parallel second factors of one user (two browsers, two flows) are
// answered one at a time: a burst gets one attempt checked, not one per
// request.
func TestParallelSecondFactorsAreAnsweredOneAtATime(t *testing.T) {
	for name, open := range throttleStores {
		t.Run(name, func(t *testing.T) {
			th := throttle.New(open(t), throttle.Default, authztest.NewClock(testNow).Now)
			attempts := make([]*throttle.Attempt, 20)
			errs := race(len(attempts), func(i int) error {
				var err error
				attempts[i], err = th.AdmitSecondFactor(t.Context(), "alice", "u-alice", fmt.Sprintf("198.51.100.%d", i))
				return err
			})
			admitted := 0
			for i, err := range errs {
				switch {
				case err == nil:
					admitted++
					if _, err := attempts[i].Fail(t.Context()); err != nil {
						t.Fatal(err)
					}
				case !errors.Is(err, throttle.ErrThrottled):
					t.Fatalf("unexpected error: %v", err)
				}
			}
			if admitted != 1 {
				t.Fatalf("%d parallel second factors admitted, want 1", admitted)
			}
		})
	}
}

// A password attempt refused because its account is locked counts nothing
// against the address (admission gives back what it took).
func TestRefusedAttemptCountsNowhere(t *testing.T) {
	ctx := context.Background()
	st := newMemoryStore(t)
	c := authztest.NewClock(testNow)
	th := throttle.New(st, throttle.Default, c.Now)
	for range 5 {
		if _, err := th.Failure(ctx, "locked-user", "192.0.2.99"); err != nil {
			t.Fatal(err)
		}
		c.Advance(time.Minute)
	}
	before, err := st.GetLoginThrottle(ctx, throttle.IPKey("192.0.2.30"))
	if !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("address counter before: %+v, %v", before, err)
	}
	for range 20 {
		if _, err := th.Admit(ctx, "locked-user", "192.0.2.30"); !errors.Is(err, throttle.ErrThrottled) {
			t.Fatalf("attempt on a locked account: %v", err)
		}
	}
	l, err := st.GetLoginThrottle(ctx, throttle.IPKey("192.0.2.30"))
	if err != nil {
		t.Fatal(err)
	}
	if l.Failures != 0 || l.NextAttemptAt.After(c.Now()) {
		t.Fatalf("refused attempts left %+v on the address", l)
	}
}

// The limiter never runs more computations at once than its bound, and
// refuses the rest with *password.BusyError once its wait is over. Measured through
// the running computations themselves: each one blocks until released, so
// the bound is full when the overflow arrives.
func TestHashLimiterNeverRunsMoreThanItsBound(t *testing.T) {
	const bound = 3
	h := password.NewHashLimiter(password.HashLimits{Concurrent: bound, Wait: time.Millisecond})
	started, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, bound)
	for range bound {
		go func() {
			done <- h.Do(t.Context(), func() {
				started <- struct{}{}
				<-release
			})
		}()
	}
	for range bound {
		<-started
	}
	if st := h.Stats(); st.Running != bound || st.Peak != bound {
		t.Fatalf("stats with the bound full: %+v", st)
	}
	errs := race(10, func(int) error {
		return h.Do(t.Context(), func() { t.Error("ran beyond the bound") })
	})
	for _, err := range errs {
		var be *password.BusyError
		if !errors.As(err, &be) || be.RetryAfter < time.Second || !errors.Is(err, password.ErrBusy) {
			t.Fatalf("overflow: %v, want *password.BusyError", err)
		}
	}
	close(release)
	for range bound {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	st := h.Stats()
	if st.Running != 0 || st.Peak != bound || st.Refused != 10 || st.Bound != bound {
		t.Fatalf("stats after: %+v", st)
	}
	// With a slot free again, work runs.
	ran := false
	if err := h.Do(t.Context(), func() { ran = true }); err != nil || !ran {
		t.Fatalf("after release: %v, ran %v", err, ran)
	}
}

// A login refused for lack of a hashing slot is not a failure: it counts
// nowhere, is not an invalid password, and the next attempt is admitted.
func TestBusyLoginCountsNowhere(t *testing.T) {
	st := newMemoryStore(t)
	p := newTestProvider(t, st)
	p.auth.Limiter = password.NewHashLimiter(password.HashLimits{Concurrent: 1, Wait: time.Millisecond})
	release, started := make(chan struct{}), make(chan struct{})
	go func() {
		_ = p.auth.Limiter.Do(context.Background(), func() { close(started); <-release })
	}()
	<-started
	_, err := p.LoginPassword(t.Context(), &Flow{rec: &storage.AuthFlow{}}, "alice", "some password", LoginMeta{IP: "192.0.2.40"})
	close(release)
	if !errors.Is(err, password.ErrBusy) {
		t.Fatalf("login with no hashing slot: %v, want password.ErrBusy", err)
	}
	for _, key := range []string{throttle.AccountKey("alice"), throttle.IPKey("192.0.2.40")} {
		l, err := st.GetLoginThrottle(t.Context(), key)
		if err != nil {
			t.Fatal(err)
		}
		if l.Failures != 0 || l.NextAttemptAt.After(testNow) {
			t.Fatalf("%s after a busy answer: %+v", key, l)
		}
	}
}

// hangUpStore is the real PostgreSQL store, with the client hanging up
// (its request context canceled) the moment the password is looked up.
type hangUpStore struct {
	*postgres.Store
	cancel context.CancelFunc
}

func (s hangUpStore) GetUserByUsername(ctx context.Context, username string) (*storage.User, error) {
	s.cancel()
	return s.Store.GetUserByUsername(context.WithoutCancel(ctx), username)
}

// A client that hangs up while its guess is being checked still has the
// failure counted: otherwise closing the connection at the right moment
// would be free guessing.
func TestHangingUpDoesNotSkipTheFailureCount(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	st := hangUpStore{Store: openPostgres(t, pgtest.NewDatabase(t)), cancel: cancel}
	p := newTestProvider(t, st)
	_, err := p.LoginPassword(ctx, &Flow{rec: &storage.AuthFlow{}}, "alice", "wrong password", LoginMeta{IP: "192.0.2.50"})
	if !errors.Is(err, password.ErrInvalidCredentials) {
		t.Fatalf("login: %v, want password.ErrInvalidCredentials", err)
	}
	l, err := st.GetLoginThrottle(t.Context(), throttle.AccountKey("alice"))
	if err != nil || l.Failures != 1 {
		t.Fatalf("account counter after a hang-up: %+v, %v; want 1 failure", l, err)
	}
}

// Waiting out the account's window between rounds of guesses does not help:
// the second factor's count lasts a week.
func TestSecondFactorCountOutlastsTheAccountWindow(t *testing.T) {
	ctx := t.Context()
	c := authztest.NewClock(testNow)
	th := throttle.New(newMemoryStore(t), throttle.Default, c.Now)
	var lock *throttle.Error
	for i := range 5 {
		a, err := th.AdmitSecondFactor(ctx, "alice", "u-alice", "192.0.2.60")
		if err != nil {
			t.Fatalf("attempt %d refused: %v", i+1, err)
		}
		if lock, err = a.Fail(ctx); err != nil {
			t.Fatal(err)
		}
		c.Advance(throttle.Default.Account.Window + time.Minute) // the account's count restarts
	}
	if lock == nil {
		t.Fatal("5 wrong second factors, each after the account's window, did not lock")
	}
}
