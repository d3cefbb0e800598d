// Package memory implements storage.Store in process memory, for
// `strongroom serve --dev` and fast tests. It follows the semantics of
// storage/postgres exactly (the storagetest conformance suite holds both to
// it): expired rows are never returned, inactive requests come back with
// storage.ErrInactive, deleting a client or a user cascades as the SQL
// schema does, creating a row that references a missing client or user gives
// storage.ErrNotFound, times are kept in UTC at microsecond precision, and
// empty slices come back as nil. Values are copied in and out: a caller never
// holds memory the store also holds.
//
// # Concurrency and transactions
//
// A sync.Mutex guards the data, so any method may be called from any
// goroutine. Transactions are serialized: BeginTx takes a store-wide
// transaction lock that every write made outside a transaction also takes
// for its duration, so a transaction sees no concurrent writers and its undo
// log restores the state exactly on RollbackTx. Reads outside a transaction
// do not wait for it (so a read with the wrong context inside a transaction
// cannot deadlock) and may observe its uncommitted writes. A write made
// outside the transaction's context from the goroutine running the
// transaction would wait for itself: always pass the transaction's context.
// BeginTx inside a transaction opens a nested one that behaves like a
// savepoint.
//
// Expiry is judged by the store's clock (time.Now unless WithClock is given).
// Notifications are delivered after commit, to each subscriber from its own
// goroutine in order.
package memory
