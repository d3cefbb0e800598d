package main

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/strongroom/strongroom/api/admin"
	"github.com/strongroom/strongroom/authz"
	authzadmin "github.com/strongroom/strongroom/authz/admin"
	"github.com/strongroom/strongroom/storage"
)

// usersBackend is what `users list|create|delete` and `users grants|sessions`
// act on: the database (DATABASE_URL) or a remote admin API (--endpoint).
// Users are named by id or username. Both return the admin API's values, so
// the commands print the same output. The other users commands (passwords,
// second factors, unlock) act on the database only.
type usersBackend interface {
	ListUsers(ctx context.Context) ([]authzadmin.UserInfo, error)
	CreateUser(ctx context.Context, spec authzadmin.UserSpec) (*authzadmin.UserInfo, error)
	GetUser(ctx context.Context, ref string) (*authzadmin.UserInfo, error)
	DeleteUser(ctx context.Context, ref string) error
	ListGrants(ctx context.Context, userRef string) ([]authz.GrantInfo, error)
	// RevokeGrant returns how many tokens it revoked; authz.ErrGrantNotFound
	// when the user has neither a consent to nor a token from the client.
	RevokeGrant(ctx context.Context, userRef, clientID string) (int64, error)
	ListSessions(ctx context.Context, userRef string) ([]admin.Session, error)
	// EndSession returns authz.ErrSessionNotFound for no such live session.
	EndSession(ctx context.Context, userRef, sessionID string) error
	EndSessions(ctx context.Context, userRef string) (int, error)
	Close()
}

var (
	_ usersBackend = (*localUsers)(nil)
	_ usersBackend = (*remoteBackend)(nil)
)

// reasonOperatorCLI is the audit reason of sessions ended with the CLI.
const reasonOperatorCLI = "revoked by an operator"

// openUsers returns the remote backend when --endpoint is set, else the
// local one over the database.
func (a *app) openUsers(ctx context.Context, rf *remoteFlags) (usersBackend, error) {
	if rf.endpoint != "" {
		return a.newRemote(rf)
	}
	if rf.tokenFile != "" {
		return nil, usageErrorf("--token-file is used only with --endpoint")
	}
	store, closeStore, err := a.openStore(ctx)
	if err != nil {
		return nil, err
	}
	return &localUsers{
		store: store, closeStore: closeStore,
		users:    authzadmin.NewUserAdmin(store, nil),
		sessions: &authz.SessionManager{Store: store, Now: time.Now},
		actor:    authzadmin.Actor{Name: "operator:" + orDefault(a.getenv("USER"), "unknown"), Source: "cli"},
	}, nil
}

// localUsers runs the authz user and session services over the database.
type localUsers struct {
	store      storage.Store
	closeStore func()
	users      *authzadmin.UserAdmin
	sessions   *authz.SessionManager
	actor      authzadmin.Actor
}

func (l *localUsers) Close() { l.closeStore() }

func (l *localUsers) ListUsers(ctx context.Context) ([]authzadmin.UserInfo, error) {
	return l.users.List(ctx)
}
func (l *localUsers) CreateUser(ctx context.Context, spec authzadmin.UserSpec) (*authzadmin.UserInfo, error) {
	return l.users.Create(ctx, l.actor, spec)
}
func (l *localUsers) GetUser(ctx context.Context, ref string) (*authzadmin.UserInfo, error) {
	return l.users.Get(ctx, ref)
}
func (l *localUsers) DeleteUser(ctx context.Context, ref string) error {
	return l.users.Delete(ctx, l.actor, ref)
}

func (l *localUsers) ListGrants(ctx context.Context, userRef string) ([]authz.GrantInfo, error) {
	u, err := l.users.Get(ctx, userRef)
	if err != nil {
		return nil, err
	}
	return l.sessions.ListGrantInfo(ctx, u.ID)
}

func (l *localUsers) RevokeGrant(ctx context.Context, userRef, clientID string) (int64, error) {
	u, err := l.users.Get(ctx, userRef)
	if err != nil {
		return 0, err
	}
	return l.sessions.RevokeGrant(ctx, u.ID, clientID, authz.ActorOperator)
}

func (l *localUsers) ListSessions(ctx context.Context, userRef string) ([]admin.Session, error) {
	u, err := l.users.Get(ctx, userRef)
	if err != nil {
		return nil, err
	}
	sessions, err := l.sessions.ListSessions(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	out := make([]admin.Session, len(sessions))
	for i, s := range sessions {
		out[i] = admin.NewSession(s)
	}
	return out, nil
}

func (l *localUsers) EndSession(ctx context.Context, userRef, sessionID string) error {
	u, err := l.users.Get(ctx, userRef)
	if err != nil {
		return err
	}
	return l.sessions.EndSession(ctx, u.ID, sessionID, authz.ActorOperator, reasonOperatorCLI)
}

func (l *localUsers) EndSessions(ctx context.Context, userRef string) (int, error) {
	u, err := l.users.Get(ctx, userRef)
	if err != nil {
		return 0, err
	}
	return l.sessions.EndUserSessions(ctx, u.ID, authz.ActorOperator, reasonOperatorCLI)
}

func userPath(ref string, rest ...string) string {
	p := "/admin/v1/users/" + url.PathEscape(ref)
	for _, r := range rest {
		p += "/" + url.PathEscape(r)
	}
	return p
}

func (r *remoteBackend) ListUsers(ctx context.Context) ([]authzadmin.UserInfo, error) {
	var out []authzadmin.UserInfo
	return out, r.call(ctx, http.MethodGet, "/admin/v1/users", nil, nil, &out)
}

func (r *remoteBackend) CreateUser(ctx context.Context, spec authzadmin.UserSpec) (*authzadmin.UserInfo, error) {
	var out authzadmin.UserInfo
	err := r.call(ctx, http.MethodPost, "/admin/v1/users", nil, spec, &out)
	var rp *remoteProblem
	if errors.As(err, &rp) && rp.p.Status == http.StatusConflict {
		return nil, &remoteSentinel{msg: rp.p.Detail, err: storage.ErrAlreadyExists}
	}
	if err != nil {
		return nil, err
	}
	return &out, nil
}

func (r *remoteBackend) GetUser(ctx context.Context, ref string) (*authzadmin.UserInfo, error) {
	var out authzadmin.UserInfo
	if err := r.call(ctx, http.MethodGet, userPath(ref), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func (r *remoteBackend) DeleteUser(ctx context.Context, ref string) error {
	return r.call(ctx, http.MethodDelete, userPath(ref), nil, nil, nil)
}

func (r *remoteBackend) ListGrants(ctx context.Context, userRef string) ([]authz.GrantInfo, error) {
	var out []authz.GrantInfo
	return out, r.call(ctx, http.MethodGet, userPath(userRef, "grants"), nil, nil, &out)
}

func (r *remoteBackend) RevokeGrant(ctx context.Context, userRef, clientID string) (int64, error) {
	var out admin.GrantRevocation
	err := r.call(ctx, http.MethodDelete, userPath(userRef, "grants", clientID), nil, nil, &out)
	return out.TokensRevoked, notFoundAs(err, authz.ErrGrantNotFound)
}

func (r *remoteBackend) ListSessions(ctx context.Context, userRef string) ([]admin.Session, error) {
	var out []admin.Session
	return out, r.call(ctx, http.MethodGet, userPath(userRef, "sessions"), nil, nil, &out)
}

func (r *remoteBackend) EndSession(ctx context.Context, userRef, sessionID string) error {
	err := r.call(ctx, http.MethodDelete, userPath(userRef, "sessions", sessionID), nil, nil, nil)
	return notFoundAs(err, authz.ErrSessionNotFound)
}

func (r *remoteBackend) EndSessions(ctx context.Context, userRef string) (int, error) {
	var out admin.SessionsEnded
	return out.Ended, r.call(ctx, http.MethodDelete, userPath(userRef, "sessions"), nil, nil, &out)
}

// remoteSentinel is an admin API refusal that matches a local error
// (errors.Is), so that commands answer alike in both modes.
type remoteSentinel struct {
	msg string
	err error
}

func (e *remoteSentinel) Error() string { return e.msg }
func (e *remoteSentinel) Unwrap() error { return e.err }

// notFoundAs maps a 404 that is not about the user (the commands look the
// user up first) to sentinel.
func notFoundAs(err, sentinel error) error {
	var nf *remoteNotFound
	if errors.As(err, &nf) && !isUserNotFound(nf.msg) {
		return &remoteSentinel{msg: nf.msg, err: sentinel}
	}
	return err
}

// isUserNotFound recognises the admin API's unknown-user detail
// (authzadmin.NotFoundError: `user "x" not found`).
func isUserNotFound(detail string) bool {
	return strings.HasPrefix(detail, "user ") && strings.HasSuffix(detail, " not found")
}
