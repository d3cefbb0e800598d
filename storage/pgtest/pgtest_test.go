package pgtest_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/strongroom/strongroom/storage/pgtest"
)

// fatalRecorder records Fatalf instead of failing the real test.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper() {}

func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestUnreachableServerFails(t *testing.T) {
	t.Setenv(pgtest.EnvURL, "postgres://postgres:hunter2@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=2")
	rec := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		pgtest.NewDatabase(rec)
	}()
	<-done
	if !strings.Contains(rec.msg, "cannot reach the test PostgreSQL server") || !strings.Contains(rec.msg, pgtest.EnvURL) {
		t.Fatalf("Fatalf message = %q, want it to say the server is unreachable and name %s", rec.msg, pgtest.EnvURL)
	}
	if strings.Contains(rec.msg, "hunter2") {
		t.Fatalf("Fatalf message leaks the password: %q", rec.msg)
	}
}

func TestNewDatabaseIsMigrated(t *testing.T) {
	conn, err := pgx.Connect(t.Context(), pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	var n int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil || n == 0 {
		t.Fatalf("schema_migrations: %d rows, %v", n, err)
	}
}

func TestRecyclerEmptiesAndReuses(t *testing.T) {
	dbs := pgtest.NewRecycler(t)
	var first string
	t.Run("write", func(t *testing.T) {
		first = dbs.Database(t)
		conn, err := pgx.Connect(t.Context(), first)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = conn.Close(context.Background()) }()
		if _, err := conn.Exec(t.Context(), `INSERT INTO client_assertion_jtis (jti, expires_at) VALUES ('j', now())`); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("reuse", func(t *testing.T) {
		dbURL := dbs.Database(t)
		if dbURL != first {
			t.Fatalf("got a new database %q, want %q reused", dbURL, first)
		}
		conn, err := pgx.Connect(t.Context(), dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = conn.Close(context.Background()) }()
		var rows, migrations int
		err = conn.QueryRow(t.Context(), `SELECT (SELECT count(*) FROM client_assertion_jtis), (SELECT count(*) FROM schema_migrations)`).Scan(&rows, &migrations)
		if err != nil {
			t.Fatal(err)
		}
		if rows != 0 || migrations == 0 {
			t.Fatalf("reused database has %d rows left and %d migrations recorded", rows, migrations)
		}
	})
}
