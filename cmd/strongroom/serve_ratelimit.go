package main

import (
	"github.com/spf13/pflag"

	"github.com/strongroom/strongroom/authz/ratelimit"
	"github.com/strongroom/strongroom/server"
)

// rateLimitFlags are serve's per-deployment request limits: per source
// address over every public endpoint, per client at the token, PAR,
// introspection and revocation endpoints (a client's registered
// --rate-limit overrides the latter). With --redis-url every node counts
// in that Redis.
type rateLimitFlags struct {
	address, client           string
	addressBurst, clientBurst int
}

func (f *rateLimitFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&f.address, "rate-limit-address", ratelimit.DefaultAddress.String(), "requests per source address (an IPv6 /64; behind --trusted-proxy the forwarded client) over every public endpoint but /healthz and /readyz: <n>/s, <n>/m, <n>/h, or off; beyond it 429 with Retry-After")
	fl.IntVar(&f.addressBurst, "rate-limit-address-burst", 0, "requests a source address may send at once (0: twice the rate's number, e.g. 400 for 200/s)")
	fl.StringVar(&f.client, "rate-limit-client", ratelimit.DefaultClient.String(), "requests per client at the token, PAR, introspection and revocation endpoints, counted before authentication (a flood of wrong secrets counts too): <n>/s, <n>/m, <n>/h, or off; clients create|update --rate-limit overrides it for one client")
	fl.IntVar(&f.clientBurst, "rate-limit-client-burst", 0, "requests a client may send at once (0: twice the rate's number, e.g. 200 for 100/s)")
}

// apply checks the flags and sets cfg.RateLimits.
func (f *rateLimitFlags) apply(cfg *server.Config) error {
	address, err := parseRateFlag("--rate-limit-address", f.address, "--rate-limit-address-burst", f.addressBurst)
	if err != nil {
		return err
	}
	client, err := parseRateFlag("--rate-limit-client", f.client, "--rate-limit-client-burst", f.clientBurst)
	if err != nil {
		return err
	}
	cfg.RateLimits.Address, cfg.RateLimits.Client = address, client
	return nil
}

// parseRateFlag reads a rate flag and its burst flag.
func parseRateFlag(name, value, burstName string, burst int) (ratelimit.Rate, error) {
	r, err := ratelimit.ParseRate(value)
	if err != nil {
		return r, usageErrorf("%s: %v", name, err)
	}
	if burst < 0 {
		return r, usageErrorf("%s must not be negative", burstName)
	}
	r = r.WithBurst(burst)
	if err := r.Validate(); err != nil {
		return r, usageErrorf("%s: %v", burstName, err)
	}
	return r, nil
}

// rateLimitsLog describes the limits for the start log.
func rateLimitsLog(cfg server.Config) []any {
	where := "per node"
	if cfg.RedisURL != "" {
		where = "redis"
	}
	rl := cfg.RateLimits
	return []any{
		"rate_limit_address", rl.Address.String(), "rate_limit_address_burst", rl.Address.Burst,
		"rate_limit_client", rl.Client.String(), "rate_limit_client_burst", rl.Client.Burst, "rate_limits_counted", where,
	}
}
