package main

import (
	"context"

	"github.com/strongroom/strongroom/api/admin/client"
	"github.com/strongroom/strongroom/authz"
	authzadmin "github.com/strongroom/strongroom/authz/admin"
	"github.com/strongroom/strongroom/authz/registration"
	"github.com/strongroom/strongroom/server"
)

// adminBackend is what the clients and audit commands act on: the database
// directly (local, DATABASE_URL) or a remote admin API (--endpoint). Both
// return the same values, so the commands print the same output.
type adminBackend interface {
	CreateClient(ctx context.Context, spec registration.ClientSpec, opts authzadmin.CreateOptions) (*registration.ClientInfo, *authzadmin.IssuedSecret, error)
	ListClients(ctx context.Context) ([]registration.ClientInfo, error)
	GetClient(ctx context.Context, id string) (*registration.ClientInfo, error)
	UpdateClient(ctx context.Context, id string, patch []byte) (*registration.ClientInfo, error)
	DeleteClient(ctx context.Context, id string) error
	SetClientDisabled(ctx context.Context, id string, disabled bool) (*registration.ClientInfo, error)
	RotateSecret(ctx context.Context, id string, opts authzadmin.RotateOptions) (*authzadmin.IssuedSecret, error)
	RevokeSecret(ctx context.Context, id, secretID string) (*registration.ClientInfo, error)
	ImportClients(ctx context.Context, specs []registration.ClientSpec, progress func(done, total int)) ([]authzadmin.ImportResult, error)
	ExportClients(ctx context.Context, ids []string) ([]registration.ClientSpec, error)
	ListAudit(ctx context.Context, f authzadmin.AuditFilter) ([]authzadmin.AuditEvent, error)
	// Remote reports whether the backend is a remote admin API.
	Remote() bool
	Close()
}

// openBackend returns the remote backend when --endpoint is set, else the
// local one over the database. needSecret says whether the command will
// hash client secrets (local mode then needs STRONGROOM_SECRET).
func (a *app) openBackend(ctx context.Context, rf *remoteFlags, needSecret bool) (adminBackend, error) {
	remote := func(c *client.Client) adminBackend { return remoteClients{c.Clients} }
	return openMode(a, rf, remote, func() (adminBackend, error) {
		var hasher *authz.SecretHasher
		if needSecret {
			var err error
			if hasher, err = a.secretHasher(); err != nil {
				return nil, err
			}
		}
		store, closeStore, err := a.openStore(ctx)
		if err != nil {
			return nil, err
		}
		svc := server.NewAdminServices(store, server.AdminServicesOptions{
			Hasher: hasher, RedirectPolicy: registration.Policy{AllowInsecureRedirects: rf.allowInsecureRedirects},
		})
		return &localBackend{closeStore: closeStore, actor: a.operator(), clients: svc.Clients, audit: svc.Audit}, nil
	})
}

// localBackend runs the administration services over the database.
type localBackend struct {
	closeStore func()
	actor      authzadmin.Actor
	clients    *authzadmin.ClientAdmin
	audit      *authzadmin.AuditLog
}

func (l *localBackend) Remote() bool { return false }
func (l *localBackend) Close()       { l.closeStore() }

func (l *localBackend) CreateClient(ctx context.Context, spec registration.ClientSpec, opts authzadmin.CreateOptions) (*registration.ClientInfo, *authzadmin.IssuedSecret, error) {
	return l.clients.Create(ctx, l.actor, spec, opts)
}
func (l *localBackend) ListClients(ctx context.Context) ([]registration.ClientInfo, error) {
	return l.clients.List(ctx)
}
func (l *localBackend) GetClient(ctx context.Context, id string) (*registration.ClientInfo, error) {
	return l.clients.Get(ctx, id)
}
func (l *localBackend) UpdateClient(ctx context.Context, id string, patch []byte) (*registration.ClientInfo, error) {
	return l.clients.Update(ctx, l.actor, id, patch)
}
func (l *localBackend) DeleteClient(ctx context.Context, id string) error {
	return l.clients.Delete(ctx, l.actor, id)
}
func (l *localBackend) SetClientDisabled(ctx context.Context, id string, disabled bool) (*registration.ClientInfo, error) {
	return l.clients.SetDisabled(ctx, l.actor, id, disabled)
}
func (l *localBackend) RotateSecret(ctx context.Context, id string, opts authzadmin.RotateOptions) (*authzadmin.IssuedSecret, error) {
	return l.clients.RotateSecret(ctx, l.actor, id, opts)
}
func (l *localBackend) RevokeSecret(ctx context.Context, id, secretID string) (*registration.ClientInfo, error) {
	return l.clients.RevokeSecret(ctx, l.actor, id, secretID)
}
func (l *localBackend) ImportClients(ctx context.Context, specs []registration.ClientSpec, progress func(done, total int)) ([]authzadmin.ImportResult, error) {
	return l.clients.Import(ctx, l.actor, specs, progress)
}
func (l *localBackend) ExportClients(ctx context.Context, ids []string) ([]registration.ClientSpec, error) {
	return l.clients.Export(ctx, ids)
}
func (l *localBackend) ListAudit(ctx context.Context, f authzadmin.AuditFilter) ([]authzadmin.AuditEvent, error) {
	return l.audit.List(ctx, f)
}
