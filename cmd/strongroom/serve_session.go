package main

import (
	"time"

	"github.com/spf13/pflag"

	"github.com/strongroom/strongroom/server"
)

// Defaults of the session and back-channel logout flags; they match
// authz.Config.ApplyDefaults and backchannel.Config.ApplyDefaults.
const (
	defaultSessionIdleTimeout = 30 * time.Minute
	defaultSessionLifetime    = 12 * time.Hour
	defaultBackchannelTimeout = 5 * time.Second
	defaultBackchannelTries   = 10
)

// sessionFlags are serve's browser-session and back-channel logout settings.
type sessionFlags struct {
	idleTimeout        time.Duration
	lifetime           time.Duration
	backchannelTimeout time.Duration
	backchannelTries   int
}

// register declares the flags on fl.
func (s *sessionFlags) register(fl *pflag.FlagSet) {
	fl.DurationVar(&s.idleTimeout, "session-idle-timeout", defaultSessionIdleTimeout,
		"end a browser session unused this long (its clients get back-channel logout)")
	fl.DurationVar(&s.lifetime, "session-lifetime", defaultSessionLifetime,
		"absolute lifetime of a browser session, however active (a new login is then needed)")
	fl.DurationVar(&s.backchannelTimeout, "backchannel-logout-timeout", defaultBackchannelTimeout,
		"time limit of one back-channel logout POST to a client")
	fl.IntVar(&s.backchannelTries, "backchannel-logout-attempts", defaultBackchannelTries,
		"attempts per back-channel logout delivery (5xx, 429 and network errors are retried with backoff); then it is dropped and audited")
}

// apply validates the flags and writes them into cfg. Every value must be
// positive, and the idle timeout cannot exceed the absolute lifetime: a
// usage error (exit 2) otherwise, before anything is opened.
func (s *sessionFlags) apply(cfg *server.Config) error {
	for name, d := range map[string]time.Duration{
		"--session-idle-timeout": s.idleTimeout, "--session-lifetime": s.lifetime,
		"--backchannel-logout-timeout": s.backchannelTimeout,
	} {
		if d <= 0 {
			return usageErrorf("%s must be positive, not %s", name, d)
		}
	}
	if s.backchannelTries <= 0 {
		return usageErrorf("--backchannel-logout-attempts must be positive, not %d", s.backchannelTries)
	}
	if s.idleTimeout > s.lifetime {
		return usageErrorf("--session-idle-timeout (%s) must not exceed --session-lifetime (%s)", s.idleTimeout, s.lifetime)
	}
	cfg.Authz.BrowserSessionIdleTimeout = s.idleTimeout
	cfg.Authz.BrowserSessionLifespan = s.lifetime
	cfg.Backchannel.Timeout = s.backchannelTimeout
	cfg.Backchannel.MaxAttempts = s.backchannelTries
	return nil
}
