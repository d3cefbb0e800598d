package admin_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/strongroom/strongroom/authz/admin"
	"github.com/strongroom/strongroom/authz/password"
	"github.com/strongroom/strongroom/storage"
	"github.com/strongroom/strongroom/storage/pgtest"
	"github.com/strongroom/strongroom/storage/postgres"
)

// openPostgres opens a fresh test database (pgtest).
func openPostgres(t *testing.T) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), pgtest.NewDatabase(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// TestAdminUserCreationSharesThePasswordHashingBound: with every hashing
// slot taken (by logins), creating a user through UserAdmin is refused with
// ErrBusy instead of running one more 19 MiB argon2id, and no user is stored.
func TestAdminUserCreationSharesThePasswordHashingBound(t *testing.T) {
	store := openPostgres(t)
	h := password.NewHashLimiter(password.HashLimits{Concurrent: 1, Wait: time.Millisecond})
	users := admin.NewUserAdmin(store, nil).WithHashLimiter(h)
	started, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- h.Do(t.Context(), func() { close(started); <-release })
	}()
	<-started
	_, err := users.Create(t.Context(), admin.Actor{Name: "test", Source: "admin-api"}, admin.UserSpec{Username: "alice", Password: "correct horse battery staple"})
	if !errors.Is(err, password.ErrBusy) {
		t.Fatalf("create with the bound full: %v, want ErrBusy", err)
	}
	if _, err := store.GetUserByUsername(t.Context(), "alice"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a refused creation stored the user: %v", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := users.Create(t.Context(), admin.Actor{Name: "test", Source: "admin-api"}, admin.UserSpec{Username: "alice", Password: "correct horse battery staple"}); err != nil {
		t.Fatalf("create with a free slot: %v", err)
	}
}
