package main

import (
	"context"

	"github.com/strongroom/strongroom/api/admin"
	"github.com/strongroom/strongroom/api/admin/client"
	"github.com/strongroom/strongroom/authz"
	authzadmin "github.com/strongroom/strongroom/authz/admin"
	"github.com/strongroom/strongroom/server"
)

// usersBackend is what `users list|create|get|update|delete|import|export`
// and `users grants|sessions`
// act on: the database (DATABASE_URL) or a remote admin API (--endpoint).
// Users are named by id or username. Both return the admin API's values, so
// the commands print the same output. The other users commands (passwords,
// second factors, unlock) act on the database only.
type usersBackend interface {
	ListUsers(ctx context.Context) ([]authzadmin.UserInfo, error)
	CreateUser(ctx context.Context, spec authzadmin.UserSpec) (*authzadmin.UserInfo, error)
	GetUser(ctx context.Context, ref string) (*authzadmin.UserInfo, error)
	DeleteUser(ctx context.Context, ref string) error
	UpdateUser(ctx context.Context, ref string, upd authzadmin.UserUpdate) (*authzadmin.UserInfo, error)
	ListGrants(ctx context.Context, userRef string) ([]authz.GrantInfo, error)
	// RevokeGrant returns how many tokens it revoked; authz.ErrGrantNotFound
	// when the user has neither a consent to nor a token from the client.
	RevokeGrant(ctx context.Context, userRef, clientID string) (int64, error)
	ListSessions(ctx context.Context, userRef string) ([]admin.Session, error)
	// EndSession returns authz.ErrSessionNotFound for no such live session.
	EndSession(ctx context.Context, userRef, sessionID string) error
	EndSessions(ctx context.Context, userRef string) (int, error)
	// ImportUsers adds users with their hashes, all or nothing; a failed
	// import is authzadmin.ErrUserImportFailed locally (the results say
	// why) and a *registration.ValidationError remotely.
	ImportUsers(ctx context.Context, recs []authzadmin.UserRecord, skipExisting bool) ([]authzadmin.UserImportResult, error)
	// ExportUsers returns every user, hashes only when withHashes is set.
	ExportUsers(ctx context.Context, withHashes bool) ([]authzadmin.UserRecord, error)
	Close()
}

var _ usersBackend = (*localUsers)(nil)

// reasonOperatorCLI is the audit reason of sessions ended with the CLI.
const reasonOperatorCLI = "revoked by an operator"

// openUsers returns the remote backend when --endpoint is set, else the
// local one over the database.
func (a *app) openUsers(ctx context.Context, rf *remoteFlags) (usersBackend, error) {
	remote := func(c *client.Client) usersBackend { return remoteUsers{c.Users} }
	return openMode(a, rf, remote, func() (usersBackend, error) {
		store, closeStore, err := a.openStore(ctx)
		if err != nil {
			return nil, err
		}
		svc := server.NewAdminServices(store, server.AdminServicesOptions{})
		return &localUsers{closeStore: closeStore, users: svc.Users, sessions: svc.Sessions, actor: a.operator()}, nil
	})
}

// localUsers runs the user and session administration over the database.
type localUsers struct {
	closeStore func()
	users      *authzadmin.UserAdmin
	sessions   *authzadmin.SessionAdmin
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
func (l *localUsers) UpdateUser(ctx context.Context, ref string, upd authzadmin.UserUpdate) (*authzadmin.UserInfo, error) {
	return l.users.Update(ctx, l.actor, ref, upd)
}
func (l *localUsers) DeleteUser(ctx context.Context, ref string) error {
	return l.users.Delete(ctx, l.actor, ref)
}

func (l *localUsers) ImportUsers(ctx context.Context, recs []authzadmin.UserRecord, skipExisting bool) ([]authzadmin.UserImportResult, error) {
	return l.users.Import(ctx, l.actor, recs, skipExisting)
}
func (l *localUsers) ExportUsers(ctx context.Context, withHashes bool) ([]authzadmin.UserRecord, error) {
	return l.users.Export(ctx, withHashes)
}

func (l *localUsers) ListGrants(ctx context.Context, userRef string) ([]authz.GrantInfo, error) {
	return l.sessions.ListGrants(ctx, userRef)
}

func (l *localUsers) RevokeGrant(ctx context.Context, userRef, clientID string) (int64, error) {
	res, err := l.sessions.RevokeGrant(ctx, authz.ActorOperator, userRef, clientID)
	if err != nil {
		return 0, err
	}
	return res.TokensRevoked, nil
}

func (l *localUsers) ListSessions(ctx context.Context, userRef string) ([]admin.Session, error) {
	return l.sessions.ListSessions(ctx, userRef)
}

func (l *localUsers) EndSession(ctx context.Context, userRef, sessionID string) error {
	return l.sessions.EndSession(ctx, authz.ActorOperator, userRef, sessionID, reasonOperatorCLI)
}

func (l *localUsers) EndSessions(ctx context.Context, userRef string) (int, error) {
	res, err := l.sessions.EndSessions(ctx, authz.ActorOperator, userRef, reasonOperatorCLI)
	if err != nil {
		return 0, err
	}
	return res.Ended, nil
}
