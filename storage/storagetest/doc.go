// Package storagetest is the one conformance suite for storage.Store
// implementations. storage/memory and storage/postgres both pass it, which
// is what lets the memory store stand in for PostgreSQL in dev mode and in
// other packages' tests.
//
// Run executes named subtests ("ok/<concern>/<case>" and
// "fail/<concern>/<case>"), each on a fresh store. They cover every method
// of every interface: round trips, sentinel errors, ordering, copying in and
// out, expiry (rows whose expiry is in the past are never returned: fixtures
// use fixed dates far in the past or future, so the implementation's own
// clock decides), exactly-one-wins under concurrency, transactions
// (commit, rollback, nesting, statement atomicity inside a transaction) and
// change notifications.
package storagetest
