// Package ratelimit decides whether a request may go on under a rate limit:
// per client (token, PAR, introspection, revocation) and per source address
// (every public endpoint; an IPv6 address counts by its /64). A limit is a
// Rate (events per period, with a burst), enforced as a token bucket / GCRA:
// in process with golang.org/x/time/rate by default, or shared by every node
// through Redis with github.com/go-redis/redis_rate (one GCRA Lua script,
// atomic in Redis) when the server has a Redis client.
//
// When Redis cannot be reached the Limiter falls back to per-node limits (the
// same rates, each node counting alone), never fails open and never fails
// the request: it says so through Observer.OnFallback, the log and Status
// (shown in /readyz), and tries Redis again after a short pause. Every
// rejection is reported through Observer.OnReject; Sample thins those reports
// for the audit trail (at most one per key per interval).
//
// Never here: HTTP (api applies the limits and writes the 429 with its
// Retry-After and RateLimit headers), the login brute-force throttle
// (authz/throttle), storage.
package ratelimit
