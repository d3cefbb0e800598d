// Package redisreplay is the Redis implementation of dpop.ReplayCache, for
// deployments that keep DPoP proof ids in Redis instead of PostgreSQL: one
// SET NX with an expiry per proof, so every node sharing the Redis accepts a
// proof once and Redis forgets it when it could no longer be accepted.
//
// It holds no configuration parsing and opens no connections of its own:
// the caller builds the go-redis client (and closes it).
package redisreplay
