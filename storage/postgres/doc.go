// Package postgres implements storage.Store on PostgreSQL with pgx/v5.
//
// SQL is written inline, one file per table, with explicit column lists and
// the caller's context passed to every query. Database errors are translated
// to the storage sentinels in exactly one place (mapError): unique violations
// become storage.ErrAlreadyExists, serialization failures and deadlocks
// storage.ErrConflict, missing rows and foreign keys to a missing row
// storage.ErrNotFound, and connection failures storage.ErrUnavailable.
//
// # Time
//
// Expiry is always judged by the database clock (now()), never by the clock
// of the node asking, so every node agrees on whether a row has expired.
// Expired rows are never returned; they behave as if they were absent. The
// store never invents timestamps: CreatedAt, ExpiresAt and the like are
// stored exactly as given (at microsecond precision) and returned in UTC.
//
// # Ordering
//
// Lists sort text with COLLATE "C" (byte order), like Go's string
// comparison and the memory store, whatever the database's collation.
//
// # Transactions
//
// BeginTx starts a transaction and returns a context carrying it; every
// method called with that context runs on the transaction, every other call
// runs on the pool. BeginTx with a context that already carries a transaction
// of this store opens a savepoint: CommitTx releases it and RollbackTx undoes
// only the work done since. Methods that issue several statements (clients,
// UpdateKeys) run them in their own transaction, or in a savepoint when
// called inside one, so a failure leaves nothing half written. Expected
// outcomes (a taken key, a missing or inactive row, an update function's
// error) leave the caller's transaction usable; any other database error
// aborts it in PostgreSQL, so roll back on unexpected errors. A transaction
// holds a pooled connection until it is committed or rolled back.
//
// # Notifications
//
// Writes to clients and signing keys publish pg_notify on the channels
// strongroom_clients and strongroom_keys inside the writing transaction, so a
// notification is delivered only when the change commits. Subscribe listens
// on a dedicated connection and reconnects with backoff when it is lost.
//
// # Schema
//
// Migrate applies the embedded migrations (package migrations), and
// CheckSchema reports ErrSchemaBehind when some are missing; serve should
// call it at startup and refuse to run on an old schema.
package postgres
