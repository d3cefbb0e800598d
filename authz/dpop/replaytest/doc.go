// Package replaytest is the one conformance suite every dpop.ReplayCache
// passes (the storage.JTIs adapter on PostgreSQL and memory, and Redis).
// Run covers the cache: single use, independence of keys, expiry, atomicity
// under concurrency, replay across two nodes. ProofReplayAcrossTwoNodesFails
// covers a whole DPoP proof used on one server and replayed on another that
// shares the backend.
//
// It is imported by tests only; nothing here runs in production.
package replaytest
