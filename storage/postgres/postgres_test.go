package postgres_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/strongroom/strongroom/storage"
	"github.com/strongroom/strongroom/storage/pgtest"
	"github.com/strongroom/strongroom/storage/postgres"
	"github.com/strongroom/strongroom/storage/storagetest"
)

// newStore returns a store on a fresh, migrated database.
func newStore(t *testing.T) *postgres.Store {
	t.Helper()
	return openStore(t, pgtest.NewDatabase(t))
}

func openStore(t *testing.T, url string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), url, slog.New(slog.NewTextHandler(testWriter{t}, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// testWriter sends log output to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func TestConformance(t *testing.T) {
	// Every subtest gets an empty database of its own; databases are
	// emptied and reused between subtests.
	dbs := pgtest.NewRecycler(t)
	storagetest.Run(t, func(t *testing.T) storage.Store {
		return openStore(t, dbs.Database(t))
	})
}

// TestAuditTamperEvidence: verification names an event changed, deleted or
// reordered with SQL, and a checkpoint forged with SQL.
func TestAuditTamperEvidence(t *testing.T) {
	dbs := pgtest.NewRecycler(t)
	storagetest.RunAuditTamper(t, func(t *testing.T) (storage.Store, storagetest.AuditTamperer) {
		s := openStore(t, dbs.Database(t))
		return s, sqlTamperer{s.Pool()}
	})
}

// sqlTamperer tampers with the audit tables as an attacker with database
// access would.
type sqlTamperer struct{ pool *pgxpool.Pool }

func (x sqlTamperer) exec(ctx context.Context, sql string, args ...any) error {
	tag, err := x.pool.Exec(ctx, sql, args...)
	if err == nil && tag.RowsAffected() == 0 {
		err = errors.New("no row changed")
	}
	return err
}

func (x sqlTamperer) SetAuditDetails(ctx context.Context, id int64, details map[string]string) error {
	return x.exec(ctx, `UPDATE audit_events SET details = $2 WHERE id = $1`, id, details)
}

func (x sqlTamperer) DeleteAudit(ctx context.Context, id int64) error {
	return x.exec(ctx, `DELETE FROM audit_events WHERE id = $1`, id)
}

func (x sqlTamperer) SwapAuditIDs(ctx context.Context, a, b int64) error {
	// Through a negative id: the primary key is checked row by row.
	for _, step := range [][2]int64{{a, -a}, {b, a}, {-a, b}} {
		if err := x.exec(ctx, `UPDATE audit_events SET id = $2 WHERE id = $1`, step[0], step[1]); err != nil {
			return err
		}
	}
	return nil
}

func (x sqlTamperer) SetCheckpointCutHash(ctx context.Context, id int64, hash []byte) error {
	return x.exec(ctx, `UPDATE audit_checkpoints SET cut_hash = $2 WHERE id = $1`, id, hash)
}

func newPool(t *testing.T, url string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func migrationNames(t *testing.T, pool *pgxpool.Pool) []string {
	t.Helper()
	states, err := postgres.MigrationStatus(t.Context(), pool)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, st := range states {
		names = append(names, st.Name)
	}
	return names
}

func TestMigrateIsIdempotent(t *testing.T) {
	t.Parallel()
	pool := newPool(t, pgtest.NewEmptyDatabase(t))
	ctx := t.Context()
	all := migrationNames(t, pool)
	if len(all) == 0 || all[0] != "0001_init.sql" {
		t.Fatalf("embedded migrations = %q, want 0001_init.sql first", all)
	}

	applied, err := postgres.Migrate(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(applied, ",") != strings.Join(all, ",") {
		t.Fatalf("first run applied %q, want %q", applied, all)
	}
	applied, err = postgres.Migrate(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != 0 {
		t.Fatalf("second run applied %q, want nothing", applied)
	}
	states, err := postgres.MigrationStatus(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range states {
		if !st.Applied || st.AppliedAt == nil || time.Since(*st.AppliedAt) > time.Hour {
			t.Errorf("%s: applied=%v at %v", st.Name, st.Applied, st.AppliedAt)
		}
	}
	if err := postgres.CheckSchema(ctx, pool); err != nil {
		t.Fatalf("CheckSchema after Migrate: %v", err)
	}
}

func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	pool := newPool(t, pgtest.NewEmptyDatabase(t))
	all := migrationNames(t, pool)
	const n = 4
	results := make([][]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { results[i], errs[i] = postgres.Migrate(t.Context(), pool) })
	}
	wg.Wait()
	count := map[string]int{}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Migrate %d: %v", i, errs[i])
		}
		for _, name := range results[i] {
			count[name]++
		}
	}
	for _, name := range all {
		if count[name] != 1 {
			t.Errorf("%s applied %d times, want 1", name, count[name])
		}
	}
	if err := postgres.CheckSchema(t.Context(), pool); err != nil {
		t.Fatal(err)
	}
}

func TestCheckSchemaOnEmptyDatabase(t *testing.T) {
	t.Parallel()
	pool := newPool(t, pgtest.NewEmptyDatabase(t))
	err := postgres.CheckSchema(t.Context(), pool)
	if !errors.Is(err, postgres.ErrSchemaBehind) {
		t.Fatalf("CheckSchema = %v, want ErrSchemaBehind", err)
	}
	if !strings.Contains(err.Error(), "strongroom migrate up") || !strings.Contains(err.Error(), "0001_init.sql") {
		t.Fatalf("message %q should name the missing migration and `strongroom migrate up`", err)
	}
	states, err := postgres.MigrationStatus(t.Context(), pool)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range states {
		if st.Applied || st.AppliedAt != nil {
			t.Errorf("%s reported applied on an empty database", st.Name)
		}
	}
}

func TestUnreachableDatabase(t *testing.T) {
	t.Parallel()
	s, err := postgres.Open(context.Background(), "postgres://postgres@127.0.0.1:1/strongroom?sslmode=disable&connect_timeout=2", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	ctx := t.Context()
	calls := map[string]func() error{
		"Ping":      func() error { return s.Ping(ctx) },
		"GetClient": func() error { _, err := s.GetClient(ctx, "c1"); return err },
		"CreateClient": func() error {
			return s.CreateClient(ctx, &storage.Client{ID: "c1"})
		},
		"CreateRequest": func() error {
			return s.CreateRequest(ctx, &storage.Request{Kind: storage.KindAccessToken, Signature: "s", ClientID: "c1"})
		},
		"DeactivateRequest": func() error { return s.DeactivateRequest(ctx, storage.KindRefreshToken, "s") },
		"UseJTI":            func() error { return s.UseJTI(ctx, "jti", time.Now().Add(time.Minute)) },
		"ListKeys":          func() error { _, err := s.ListKeys(ctx); return err },
		"UpdateKeys": func() error {
			return s.UpdateKeys(ctx, func(k []storage.SigningKey) ([]storage.SigningKey, error) { return k, nil })
		},
		"BeginTx":   func() error { _, err := s.BeginTx(ctx); return err },
		"Subscribe": func() error { return s.Subscribe(ctx, storage.TopicClients, func(string) {}) },
		"Migrate":   func() error { _, err := postgres.Migrate(ctx, s.Pool()); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, storage.ErrUnavailable) {
			t.Errorf("%s: error = %v, want one matching ErrUnavailable", name, err)
		}
	}
}

func TestClosedStoreIsUnavailable(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	s.Close()
	if _, err := s.GetClient(t.Context(), "c1"); !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("GetClient on a closed store: %v, want ErrUnavailable", err)
	}
}

// TestSubscribeReconnects: a lost notification connection is reported at
// once (storage.SubscriptionLost), re-established, reported as "reload
// all", and delivers again.
func TestSubscribeReconnects(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	got := make(chan string, 16)
	if err := s.Subscribe(ctx, storage.TopicClients, func(p string) { got <- p }); err != nil {
		t.Fatal(err)
	}
	// Kill the listening connection from the server side.
	tag, err := s.Pool().Exec(ctx, `
SELECT pg_terminate_backend(pid) FROM pg_stat_activity
WHERE application_name = 'strongroom-listen' AND datname = current_database()`)
	if err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("terminate listener: %v (%d rows)", err, tag.RowsAffected())
	}
	// The loss is reported at once (caches stop trusting themselves), then
	// the reconnect as "reload all".
	for _, want := range []string{storage.SubscriptionLost, ""} {
		select {
		case p := <-got:
			if p != want {
				t.Fatalf("payload after the connection was lost = %q, want %q", p, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no %q notification after the connection was lost", want)
		}
	}
	if err := s.CreateClient(ctx, &storage.Client{ID: "c1"}); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-got:
		if p != "c1" {
			t.Fatalf("payload = %q, want c1", p)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no notification after reconnecting")
	}
}

func TestMigrateToStopsAtTheNamedMigration(t *testing.T) {
	t.Parallel()
	pool := newPool(t, pgtest.NewEmptyDatabase(t))
	ctx := t.Context()
	all := migrationNames(t, pool)
	if _, err := postgres.MigrateTo(ctx, pool, "9999_missing.sql"); err == nil {
		t.Fatal("MigrateTo accepted a migration that is not embedded")
	}
	applied, err := postgres.MigrateTo(ctx, pool, all[1])
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(applied, all[:2]) {
		t.Fatalf("MigrateTo(%s) applied %q, want %q", all[1], applied, all[:2])
	}
	if err := postgres.CheckSchema(ctx, pool); !errors.Is(err, postgres.ErrSchemaBehind) {
		t.Fatalf("CheckSchema after a partial migration: %v, want ErrSchemaBehind", err)
	}
	applied, err = postgres.Migrate(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(applied, all[2:]) {
		t.Fatalf("Migrate after MigrateTo applied %q, want %q", applied, all[2:])
	}
}
