package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/strongroom/strongroom/storage"
)

var _ storage.Store = (*Store)(nil)

// Store is the PostgreSQL implementation of storage.Store. It is safe for
// concurrent use.
type Store struct {
	pool   *pgxpool.Pool
	logger *slog.Logger

	// closing ends subscriber goroutines on Close; subs waits for them.
	// mu guards closed so that no subscription starts after Close.
	closing context.Context
	close   context.CancelFunc
	subs    sync.WaitGroup
	mu      sync.Mutex
	closed  bool

	// inserts coalesces request rows created outside a transaction.
	inserts *insertBatcher
}

// New returns a Store using pool. The store takes ownership of the pool:
// Close closes it. A nil logger discards log output.
func New(pool *pgxpool.Pool, logger *slog.Logger) *Store {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	closing, cancel := context.WithCancel(context.Background())
	s := &Store{pool: pool, logger: logger, closing: closing, close: cancel}
	s.inserts = newInsertBatcher(s, insertFlushers(pool.Config().MaxConns))
	return s
}

// DefaultMaxConns sizes the pool when the URL does not (pool_max_conns=N).
const DefaultMaxConns = 32

// Open creates a connection pool for databaseURL (a postgres:// URL or a
// keyword/value string, see pgxpool.ParseConfig) and returns a Store on it.
// It does not connect: call Ping to check the database is reachable and
// CheckSchema to check it is migrated.
func Open(ctx context.Context, databaseURL string, logger *slog.Logger, opts ...OpenOption) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		// The parse error may quote the URL, password included: don't wrap it.
		return nil, errors.New("postgres: invalid database URL")
	}
	for _, o := range opts {
		o(cfg)
	}
	if !strings.Contains(databaseURL, "pool_max_conns") {
		// pgx's default (max(4, cores)) starves group commit: token issuance
		// is commit-latency bound and needs many commits in flight.
		cfg.MaxConns = DefaultMaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: create pool: %w", mapError(err))
	}
	return New(pool, logger), nil
}

// OpenOption adjusts the pool configuration Open builds.
type OpenOption func(*pgxpool.Config)

// WithQueryTracer traces every query, batch and connection of the pool
// with t (OpenTelemetry spans: otelpgx). The tracer must never record
// query arguments: they hold token signatures and secret hashes.
func WithQueryTracer(t pgx.QueryTracer) OpenOption {
	return func(cfg *pgxpool.Config) { cfg.ConnConfig.Tracer = t }
}

// Pool returns the connection pool, for Migrate, MigrationStatus and
// CheckSchema.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Ping reports whether the database is reachable; errors match
// storage.ErrUnavailable when it is not.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", mapError(err))
	}
	return nil
}

// Close stops every subscription and closes the pool. It waits for
// connections in use (including open transactions) to be returned.
func (s *Store) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.close()
	s.subs.Wait()
	s.pool.Close()
}

// querier is what *pgxpool.Pool and pgx.Tx have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// txKey is the context key of the transaction started by BeginTx.
type txKey struct{}

// txState is the value stored under txKey. store scopes the transaction to
// the store that began it.
type txState struct {
	store *Store
	tx    pgx.Tx
}

// tx returns the transaction of s carried by ctx, or nil.
func (s *Store) tx(ctx context.Context) pgx.Tx {
	if st, ok := ctx.Value(txKey{}).(*txState); ok && st.store == s {
		return st.tx
	}
	return nil
}

// q returns the transaction carried by ctx, or the pool.
func (s *Store) q(ctx context.Context) querier {
	if tx := s.tx(ctx); tx != nil {
		return tx
	}
	return s.pool
}

// begin starts a transaction, or a savepoint inside the transaction carried
// by ctx.
func (s *Store) begin(ctx context.Context) (pgx.Tx, error) {
	if outer := s.tx(ctx); outer != nil {
		return outer.Begin(ctx)
	}
	return s.pool.Begin(ctx)
}

// BeginTx starts a transaction (a savepoint if ctx already carries one) and
// returns a context carrying it.
func (s *Store) BeginTx(ctx context.Context) (context.Context, error) {
	tx, err := s.begin(ctx)
	if err != nil {
		return ctx, fmt.Errorf("postgres: begin transaction: %w", mapError(err))
	}
	return context.WithValue(ctx, txKey{}, &txState{store: s, tx: tx}), nil
}

// CommitTx commits the transaction (or releases the savepoint) carried by ctx.
func (s *Store) CommitTx(ctx context.Context) error {
	tx := s.tx(ctx)
	if tx == nil {
		return errors.New("postgres: commit: no transaction in context")
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: commit: %w", mapError(err))
	}
	return nil
}

// RollbackTx rolls back the transaction (or the savepoint) carried by ctx.
func (s *Store) RollbackTx(ctx context.Context) error {
	tx := s.tx(ctx)
	if tx == nil {
		return errors.New("postgres: rollback: no transaction in context")
	}
	// With a cancelled ctx pgx closes the connection instead, which rolls
	// back too.
	if err := tx.Rollback(ctx); err != nil {
		return fmt.Errorf("postgres: rollback: %w", mapError(err))
	}
	return nil
}

// inTx runs fn in a transaction of its own, or in a savepoint when ctx
// carries a transaction, committing when fn returns nil. fn's error is
// returned as is.
func (s *Store) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", mapError(err))
	}
	defer func() { _ = tx.Rollback(ctx) }() // no-op after Commit
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", mapError(err))
	}
	return nil
}
