// Package throttle is the brute-force throttle of end-user logins: every
// failed password or second-factor attempt counts against the account, the
// source address (an IPv6 /64) and, for second factors, the user; past a
// free allowance each costs a growing delay, then a lock. Counters live in
// storage.LoginThrottles, so every node enforces the same limits;
// Throttle.RunCleanup removes stale counters.
//
// Never here: checking a password or a code (authz and authz/password do,
// inside an Attempt), auditing, HTTP.
package throttle
