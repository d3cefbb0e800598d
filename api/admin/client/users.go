package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/strongroom/strongroom/api/admin"
	"github.com/strongroom/strongroom/authz"
	authzadmin "github.com/strongroom/strongroom/authz/admin"
)

// ListUsers lists every user.
func (c *Users) ListUsers(ctx context.Context) ([]authzadmin.UserInfo, error) {
	var out []authzadmin.UserInfo
	return out, c.t.call(ctx, http.MethodGet, admin.Path(admin.RouteUsers), nil, nil, &out)
}

// CreateUser adds a user; a taken username matches authzadmin.ErrConflict.
func (c *Users) CreateUser(ctx context.Context, spec authzadmin.UserSpec) (*authzadmin.UserInfo, error) {
	var out authzadmin.UserInfo
	if err := c.t.call(ctx, http.MethodPost, admin.Path(admin.RouteUsers), nil, spec, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetUser finds a user by id or username.
func (c *Users) GetUser(ctx context.Context, ref string) (*authzadmin.UserInfo, error) {
	var out authzadmin.UserInfo
	if err := c.t.call(ctx, http.MethodGet, admin.Path(admin.RouteUser, ref), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateUser changes the fields of upd given (not nil).
func (c *Users) UpdateUser(ctx context.Context, ref string, upd authzadmin.UserUpdate) (*authzadmin.UserInfo, error) {
	var out authzadmin.UserInfo
	if err := c.t.call(ctx, http.MethodPatch, admin.Path(admin.RouteUser, ref), nil, upd, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteUser removes a user and signs them out everywhere.
func (c *Users) DeleteUser(ctx context.Context, ref string) error {
	return c.t.call(ctx, http.MethodDelete, admin.Path(admin.RouteUser, ref), nil, nil, nil)
}

// ListGrants lists the clients the user granted access to.
func (c *Users) ListGrants(ctx context.Context, userRef string) ([]authz.GrantInfo, error) {
	var out []authz.GrantInfo
	return out, c.t.call(ctx, http.MethodGet, admin.Path(admin.RouteUserGrants, userRef), nil, nil, &out)
}

// RevokeGrant revokes the user's grant to a client and reports how many
// tokens it revoked; authz.ErrGrantNotFound when there is none.
func (c *Users) RevokeGrant(ctx context.Context, userRef, clientID string) (int64, error) {
	var out admin.GrantRevocation
	err := c.t.call(ctx, http.MethodDelete, admin.Path(admin.RouteUserGrant, userRef, clientID), nil, nil, &out)
	return out.TokensRevoked, notFoundAs(err, authz.ErrGrantNotFound)
}

// ListSessions lists the user's live browser sessions.
func (c *Users) ListSessions(ctx context.Context, userRef string) ([]admin.Session, error) {
	var out []admin.Session
	return out, c.t.call(ctx, http.MethodGet, admin.Path(admin.RouteUserSessions, userRef), nil, nil, &out)
}

// EndSession ends one session of the user; authz.ErrSessionNotFound for
// no such live session.
func (c *Users) EndSession(ctx context.Context, userRef, sessionID string) error {
	err := c.t.call(ctx, http.MethodDelete, admin.Path(admin.RouteUserSession, userRef, sessionID), nil, nil, nil)
	return notFoundAs(err, authz.ErrSessionNotFound)
}

// EndSessions ends every session of the user and reports how many.
func (c *Users) EndSessions(ctx context.Context, userRef string) (int, error) {
	var out admin.SessionsEnded
	return out.Ended, c.t.call(ctx, http.MethodDelete, admin.Path(admin.RouteUserSessions, userRef), nil, nil, &out)
}

// ImportUsers adds users with their password hashes, all or nothing (POST
// /user-import). A failed import is a *registration.ValidationError naming
// each failed record; nothing was written.
func (c *Users) ImportUsers(ctx context.Context, recs []authzadmin.UserRecord, skipExisting bool) ([]authzadmin.UserImportResult, error) {
	var out struct {
		Results []authzadmin.UserImportResult `json:"results"`
	}
	var q url.Values
	if skipExisting {
		q = url.Values{"skip_existing": {"true"}}
	}
	return out.Results, c.t.call(ctx, http.MethodPost, admin.Path(admin.RouteUserImport), q, recs, &out)
}

// ExportUsers returns every user ordered by username (GET /user-export),
// with password hashes only when withHashes is set.
func (c *Users) ExportUsers(ctx context.Context, withHashes bool) ([]authzadmin.UserRecord, error) {
	var out []authzadmin.UserRecord
	var q url.Values
	if withHashes {
		q = url.Values{"with_password_hashes": {"true"}}
	}
	return out, c.t.call(ctx, http.MethodGet, admin.Path(admin.RouteUserExport), q, nil, &out)
}
