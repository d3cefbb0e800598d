// Package replaytest is the one conformance suite every dpop.ReplayCache
// passes (the storage.JTIs adapter on PostgreSQL and memory, and Redis):
// single use, independence of keys, expiry, atomicity under concurrency, and
// single use of a DPoP proof across two nodes that share a backend.
//
// It is imported by tests only; nothing here runs in production.
package replaytest
