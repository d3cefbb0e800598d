package server

import (
	"time"

	"github.com/strongroom/strongroom/authz"
	authzadmin "github.com/strongroom/strongroom/authz/admin"
	"github.com/strongroom/strongroom/authz/password"
	"github.com/strongroom/strongroom/authz/registration"
	"github.com/strongroom/strongroom/storage"
)

// AdminServices are the administration services over one store: what the
// admin API serves, and what the CLI runs in local mode. serve, the CLI and
// the tests all build them with NewAdminServices, so they are composed in
// one place.
type AdminServices struct {
	Clients     *authzadmin.ClientAdmin
	Users       *authzadmin.UserAdmin
	Credentials *authzadmin.CredentialAdmin
	Audit       *authzadmin.AuditLog
	Sessions    *authzadmin.SessionAdmin
	// AuthorizationTypes are the RFC 9396 authorization details types.
	AuthorizationTypes *authzadmin.AuthorizationTypeAdmin
}

// AdminServicesOptions are the dependencies of the administration services
// beyond the store; zero values take the services' defaults.
type AdminServicesOptions struct {
	// Hasher hashes client secrets; it must be keyed like the server's
	// (the same system secret). nil for uses that never hash a secret
	// (listing, reading).
	Hasher *authz.SecretHasher
	// HashLimiter, when set, bounds user creation's password hashing by the
	// login slots (the server's; the CLI hashes one password per process).
	HashLimiter *password.HashLimiter
	// Now is the clock (default time.Now).
	Now func() time.Time
	// IDTokenAlgs are the ID token algorithms clients may ask for.
	IDTokenAlgs []string
	// RedirectPolicy relaxes redirect URI validation (dev mode, serve
	// --allow-insecure-redirects, clients --allow-insecure-redirects).
	RedirectPolicy registration.Policy
	// ClientChanged is called after a client change commits (the serving
	// node's client cache Invalidate); nil in the CLI, whose changes reach
	// every node through the store's notifications.
	ClientChanged func(clientID string)
}

// NewAdminServices builds the administration services over store.
func NewAdminServices(store storage.Store, opts AdminServicesOptions) *AdminServices {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	users := authzadmin.NewUserAdmin(store, opts.Now)
	if opts.HashLimiter != nil {
		users = users.WithHashLimiter(opts.HashLimiter)
	}
	return &AdminServices{
		Clients: authzadmin.NewClientAdmin(store, opts.Hasher, authzadmin.ClientAdminOptions{
			Now: opts.Now, IDTokenAlgs: opts.IDTokenAlgs, Changed: opts.ClientChanged, Policy: opts.RedirectPolicy,
		}),
		Users:       users,
		Credentials: authzadmin.NewCredentialAdmin(store, opts.Now),
		Audit:       authzadmin.NewAuditLog(store),
		Sessions:    authzadmin.NewSessionAdmin(users, &authz.SessionManager{Store: store, Now: opts.Now}),

		AuthorizationTypes: authzadmin.NewAuthorizationTypeAdmin(store, opts.Now),
	}
}
