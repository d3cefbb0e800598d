package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/registration"
	"github.com/strongroom/strongroom/storage"
)

// Audit actions written by the administration services.
const (
	ActionClientCreate       = "client.create"
	ActionClientImport       = "client.import"
	ActionClientUpdate       = "client.update"
	ActionClientDelete       = "client.delete"
	ActionClientDisable      = "client.disable"
	ActionClientEnable       = "client.enable"
	ActionClientSecretRotate = "client.secret.rotate"
	ActionClientSecretRevoke = "client.secret.revoke"
	ActionUserCreate         = "user.create"
	ActionUserDelete         = "user.delete"
)

// Defaults of ClientAdminOptions.
const (
	DefaultExpiringSoon = 7 * 24 * time.Hour
	DefaultMaxGrace     = 30 * 24 * time.Hour
	// MinImportedSecretLength is the shortest plain secret import accepts.
	MinImportedSecretLength = 32
)

// AdminStore is what the administration services need: the data they
// change, the audit trail, and transactions so that both commit together.
type AdminStore interface {
	storage.Clients
	storage.Users
	storage.Audit
	storage.Transactor
	// GrantRevocation revokes a disabled client's tokens (SetDisabled).
	storage.GrantRevocation
}

// ClientAdminOptions configure a ClientAdmin; zero values take defaults.
type ClientAdminOptions struct {
	// Now is the clock (default time.Now).
	Now func() time.Time
	// ExpiringSoon flags secrets that end within this window (default 7 days).
	ExpiringSoon time.Duration
	// MaxGrace bounds the grace period of a rotation (default 30 days).
	MaxGrace time.Duration
	// IDTokenAlgs are the ID token algorithms clients may ask for (default RS256, ES256).
	IDTokenAlgs []string
	// Policy relaxes validation for local development (loopback http
	// redirect URIs for confidential clients); zero: production's.
	Policy registration.Policy
	// Changed, when set, is called with a client's id once a change to it
	// (update, disable or enable, secret rotation or revocation, deletion)
	// has committed: the server drops its cached copy at once instead of
	// waiting for the change notification to come back (other nodes still
	// learn of it through the store's notifications).
	Changed func(clientID string)
}

// ClientAdmin manages client registrations and their secrets for operators.
// The CLI (on the database) and the admin API both go through it, so they
// share one validator. Every change writes its audit event in the same
// transaction; secrets are generated here, returned once, stored hashed.
type ClientAdmin struct {
	store  AdminStore
	hasher *authz.SecretHasher
	opts   ClientAdminOptions
}

// NewClientAdmin returns the service over store. hasher must be keyed like
// the server's (the same system secret).
func NewClientAdmin(store AdminStore, hasher *authz.SecretHasher, opts ClientAdminOptions) *ClientAdmin {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ExpiringSoon <= 0 {
		opts.ExpiringSoon = DefaultExpiringSoon
	}
	if opts.MaxGrace <= 0 {
		opts.MaxGrace = DefaultMaxGrace
	}
	return &ClientAdmin{store: store, hasher: hasher, opts: opts}
}

func (a *ClientAdmin) now() time.Time { return a.opts.Now().UTC() }

// IssuedSecret is a newly generated (or imported) client secret, shown
// once: only its hash is stored.
type IssuedSecret struct {
	ClientID     string     `json:"client_id"`
	SecretID     string     `json:"secret_id"`
	ClientSecret string     `json:"client_secret,omitempty"`
	ExpiresAt    *time.Time `json:"expires_at,omitempty"`
	// PreviousSecretID and PreviousExpiresAt name the secret a rotation
	// replaced and when its grace ends.
	PreviousSecretID  string     `json:"previous_secret_id,omitempty"`
	PreviousExpiresAt *time.Time `json:"previous_expires_at,omitempty"`
}

// newSecret generates a secret of client c and its stored form: random
// (256 bits) for client_secret_basic and client_secret_post; for
// client_secret_jwt derived from a random secret id under a server key
// (authz.SecretHasher.DeriveSecret), so that the server can recompute it to
// check HMAC assertions while the database keeps only its id and hash.
func (a *ClientAdmin) newSecret(ctx context.Context, c *storage.Client, now time.Time, expires *time.Time) (string, storage.ClientSecret, error) {
	if c.TokenEndpointAuthMethod == storage.AuthMethodSecretJWT {
		id, err := registration.NewSecretID()
		if err != nil {
			return "", storage.ClientSecret{}, err
		}
		plain := a.hasher.DeriveSecret(c.ID, id)
		s, err := a.hashSecret(ctx, plain, now, expires)
		s.ID = id
		return plain, s, err
	}
	plain, err := authz.GenerateSecret()
	if err != nil {
		return "", storage.ClientSecret{}, fmt.Errorf("generate client secret: %w", err)
	}
	s, err := a.hashSecret(ctx, plain, now, expires)
	return plain, s, err
}

// secretNotDerivedProblem refuses moving a client whose live secrets the
// server did not derive to client_secret_jwt: the server could never check
// an assertion made with them.
const secretNotDerivedProblem = "token_endpoint_auth_method: client_secret_jwt needs a secret the server derives for it, and this client's live secret " +
	"was generated for client_secret_basic/client_secret_post or imported; register a new client with client_secret_jwt, " +
	"or revoke the client's secrets (revoke-secret), update it, then rotate-secret to get a derived one"

// underivedSecrets counts the live secrets of c that the server did not
// derive (DeriveSecret) and so cannot check client_secret_jwt assertions
// made with: random ones of client_secret_basic/post, imported ones.
func (a *ClientAdmin) underivedSecrets(ctx context.Context, c *storage.Client, now time.Time) int {
	n := 0
	for _, s := range c.Secrets {
		if (s.ExpiresAt == nil || s.ExpiresAt.After(now)) && !a.hasher.DerivedSecretMatches(ctx, c.ID, s.ID, s.Hash) {
			n++
		}
	}
	return n
}

func (a *ClientAdmin) hashSecret(ctx context.Context, plain string, now time.Time, expires *time.Time) (storage.ClientSecret, error) {
	hash, err := a.hasher.Hash(ctx, []byte(plain))
	if err != nil {
		return storage.ClientSecret{}, fmt.Errorf("hash client secret: %w", err)
	}
	return storage.ClientSecret{ID: registration.SecretID(hash), Hash: hash, CreatedAt: now, ExpiresAt: expires}, nil
}

// CreateOptions are the secret options of Create.
type CreateOptions struct {
	// SecretExpiresIn, when positive, gives the generated secret an expiry.
	SecretExpiresIn time.Duration
}

// Create registers a new client from spec with a generated id. A client
// authenticating with a secret gets a generated one (256 bits), returned
// once. The audit event commits with the client.
func (a *ClientAdmin) Create(ctx context.Context, actor Actor, spec registration.ClientSpec, opts CreateOptions) (*registration.ClientInfo, *IssuedSecret, error) {
	var p registration.Problems
	if spec.ClientID != "" {
		p.Add("client_id is generated; it may be given only to import")
	}
	if spec.ClientSecret != "" {
		p.Add("client_secret is generated; an existing secret may be given only to import")
	}
	if spec.Disabled {
		p.Add("disabled: a client is created enabled; disable it afterwards")
	}
	if opts.SecretExpiresIn < 0 {
		p.Add("secret expiry must be positive")
	}
	c, err := spec.BuildWith(a.opts.IDTokenAlgs, a.opts.Policy)
	if err != nil {
		var ve *registration.ValidationError
		errors.As(err, &ve)
		p = append(p, ve.Problems...)
	}
	if err := p.Err(); err != nil {
		return nil, nil, err
	}
	if c.ID, err = registration.NewClientID(); err != nil {
		return nil, nil, err
	}
	now := a.now()
	c.CreatedAt, c.UpdatedAt = now, now
	var issued *IssuedSecret
	if registration.UsesSecret(c.TokenEndpointAuthMethod) {
		var exp *time.Time
		if opts.SecretExpiresIn > 0 {
			exp = ptrTime(now.Add(opts.SecretExpiresIn))
		}
		plain, sec, err := a.newSecret(ctx, c, now, exp)
		if err != nil {
			return nil, nil, err
		}
		c.Secrets = []storage.ClientSecret{sec}
		issued = &IssuedSecret{ClientID: c.ID, SecretID: sec.ID, ClientSecret: plain, ExpiresAt: exp}
	}
	err = storage.InTx(ctx, a.store, func(ctx context.Context) error {
		if err := a.store.CreateClient(ctx, c); err != nil {
			return fmt.Errorf("create client: %w", err)
		}
		return a.audit(ctx, actor, now, ActionClientCreate, c.ID, map[string]string{"client_name": c.Name})
	})
	if err != nil {
		return nil, nil, err
	}
	info := registration.Describe(c, a.now(), a.opts.ExpiringSoon)
	return &info, issued, nil
}

func ptrTime(t time.Time) *time.Time { return &t }

func (a *ClientAdmin) audit(ctx context.Context, actor Actor, now time.Time, action, target string, details map[string]string) error {
	if err := a.store.AppendAudit(ctx, actor.event(now, action, target, details)); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// NotFoundError names what was not found for people; it matches
// storage.ErrNotFound.
type NotFoundError struct {
	Kind string // "client", "user"
	ID   string
}

func (e *NotFoundError) Error() string { return fmt.Sprintf("%s %q not found", e.Kind, e.ID) }

// Unwrap makes errors.Is(err, storage.ErrNotFound) hold.
func (e *NotFoundError) Unwrap() error { return storage.ErrNotFound }

// Is makes errors.Is(err, ErrNotFound) hold.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// clientNotFound turns storage.ErrNotFound into a NotFoundError naming the client.
func clientNotFound(id string, err error) error {
	if errors.Is(err, storage.ErrNotFound) {
		return &NotFoundError{Kind: "client", ID: id}
	}
	return err
}

// Get returns one client.
func (a *ClientAdmin) Get(ctx context.Context, id string) (*registration.ClientInfo, error) {
	c, err := a.store.GetClient(ctx, id)
	if err != nil {
		return nil, clientNotFound(id, fmt.Errorf("get client: %w", err))
	}
	info := registration.Describe(c, a.now(), a.opts.ExpiringSoon)
	return &info, nil
}

// List returns every client ordered by id.
func (a *ClientAdmin) List(ctx context.Context) ([]registration.ClientInfo, error) {
	clients, err := a.store.ListClients(ctx)
	if err != nil {
		return nil, fmt.Errorf("list clients: %w", err)
	}
	out := make([]registration.ClientInfo, len(clients))
	for i := range clients {
		out[i] = registration.Describe(&clients[i], a.now(), a.opts.ExpiringSoon)
	}
	return out, nil
}

// Update applies patch, a JSON object of registration.ClientSpec fields (RFC 7396 merge
// semantics for top-level fields: a field given replaces the stored value),
// validates the whole result and stores it with its audit event. client_id,
// client_secret and disabled cannot be patched. A client moved to an
// authentication method without secrets loses its secrets.
func (a *ClientAdmin) Update(ctx context.Context, actor Actor, id string, patch []byte) (*registration.ClientInfo, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(patch, &fields); err != nil || fields == nil {
		return nil, &registration.ValidationError{Problems: []string{"the update must be a JSON object of client metadata fields"}}
	}
	var p registration.Problems
	for _, k := range []string{"client_id", "client_secret", "disabled"} {
		if _, ok := fields[k]; ok {
			switch k {
			case "disabled":
				p.Add("disabled cannot be updated; use disable or enable")
			default:
				p.Add("%s cannot be updated", k)
			}
		}
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	changed := make([]string, 0, len(fields))
	for k := range fields {
		changed = append(changed, k)
	}
	sort.Strings(changed)

	now := a.now()
	var updated *storage.Client
	err := storage.InTx(ctx, a.store, func(ctx context.Context) error {
		var fnErr error
		err := a.store.UpdateClient(ctx, id, func(c *storage.Client) error {
			spec := registration.FromClient(c)
			if err := spec.MergePatch(patch); err != nil {
				fnErr = &registration.ValidationError{Problems: []string{err.Error()}}
				return fnErr
			}
			next, err := spec.BuildWith(a.opts.IDTokenAlgs, a.opts.Policy)
			if err != nil {
				fnErr = err
				return err
			}
			next.ID, next.Disabled, next.CreatedAt, next.UpdatedAt = c.ID, c.Disabled, c.CreatedAt, now
			if registration.UsesSecret(next.TokenEndpointAuthMethod) {
				next.Secrets = c.Secrets
			}
			if next.TokenEndpointAuthMethod == storage.AuthMethodSecretJWT && c.TokenEndpointAuthMethod != storage.AuthMethodSecretJWT && a.underivedSecrets(ctx, next, now) > 0 {
				fnErr = &registration.ValidationError{Problems: []string{secretNotDerivedProblem}}
				return fnErr
			}
			*c = *next
			updated = next
			return nil
		})
		if fnErr != nil {
			return fnErr
		}
		if err != nil {
			return clientNotFound(id, err)
		}
		return a.audit(ctx, actor, now, ActionClientUpdate, id, map[string]string{"fields": strings.Join(changed, ",")})
	})
	if err != nil {
		return nil, err
	}
	a.changed(id)
	info := registration.Describe(updated, a.now(), a.opts.ExpiringSoon)
	return &info, nil
}

// Delete removes a client and everything issued to it.
func (a *ClientAdmin) Delete(ctx context.Context, actor Actor, id string) error {
	now := a.now()
	defer a.changed(id) // also after a failure: dropping a cached copy is always safe
	return storage.InTx(ctx, a.store, func(ctx context.Context) error {
		if err := a.store.DeleteClient(ctx, id); err != nil {
			return clientNotFound(id, fmt.Errorf("delete client: %w", err))
		}
		return a.audit(ctx, actor, now, ActionClientDelete, id, nil)
	})
}

// SetDisabled disables or enables a client. A disabled client cannot
// authenticate, and its tokens stop introspecting as active (ClientCache
// reports it as not found; every node drops it on the change notification).
//
// Disabling is a kill switch, not a pause: in the same transaction every
// code, access token and refresh token issued to the client is revoked, so
// enabling the client again does not bring them back. Enabling revokes
// again whatever is still active (a token request that had authenticated
// the client before the disable committed, and issued after it): only
// tokens issued after the enable are valid. The audit event records how
// many were revoked.
func (a *ClientAdmin) SetDisabled(ctx context.Context, actor Actor, id string, disabled bool) (*registration.ClientInfo, error) {
	action := ActionClientEnable
	if disabled {
		action = ActionClientDisable
	}
	return a.changeThen(ctx, actor, id, action, func(c *storage.Client, _ time.Time) (map[string]string, error) {
		c.Disabled = disabled
		return nil, nil
	}, func(ctx context.Context) (map[string]string, error) {
		n, err := a.store.RevokeClientRequests(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("revoke the tokens of client %q: %w", id, err)
		}
		return map[string]string{"tokens_revoked": strconv.FormatInt(n, 10)}, nil
	})
}

// change runs one read-modify-write of a client with its audit event.
func (a *ClientAdmin) change(ctx context.Context, actor Actor, id, action string,
	fn func(c *storage.Client, now time.Time) (map[string]string, error),
) (*registration.ClientInfo, error) {
	return a.changeThen(ctx, actor, id, action, fn, nil)
}

// changeThen is change with then, when not nil, run in the same
// transaction after the client is written; the details of both go into the
// audit event.
func (a *ClientAdmin) changeThen(ctx context.Context, actor Actor, id, action string,
	fn func(c *storage.Client, now time.Time) (map[string]string, error),
	then func(ctx context.Context) (map[string]string, error),
) (*registration.ClientInfo, error) {
	now := a.now()
	var updated storage.Client
	err := storage.InTx(ctx, a.store, func(ctx context.Context) error {
		var details map[string]string
		var fnErr error
		err := a.store.UpdateClient(ctx, id, func(c *storage.Client) error {
			d, err := fn(c, now)
			if err != nil {
				fnErr = err
				return err
			}
			details = d
			c.UpdatedAt = now
			updated = *c
			return nil
		})
		if fnErr != nil {
			return fnErr // the change's own error, not the store's wrapping of it
		}
		if err != nil {
			return clientNotFound(id, err)
		}
		if then != nil {
			more, err := then(ctx)
			if err != nil {
				return err
			}
			if details == nil && len(more) > 0 {
				details = map[string]string{}
			}
			maps.Copy(details, more)
		}
		return a.audit(ctx, actor, now, action, id, details)
	})
	if err != nil {
		return nil, err
	}
	a.changed(id)
	info := registration.Describe(&updated, a.now(), a.opts.ExpiringSoon)
	return &info, nil
}

// RotateOptions tune a secret rotation.
type RotateOptions struct {
	// Grace is how long the current secret keeps working (0 ends it now).
	Grace time.Duration
	// ExpiresIn, when positive, gives the new secret an expiry.
	ExpiresIn time.Duration
}

// RotateSecret issues a new secret (returned once) and lets the current one
// work until the grace period ends: at most two secrets are live at once.
// Expired secrets are dropped.
func (a *ClientAdmin) RotateSecret(ctx context.Context, actor Actor, id string, opts RotateOptions) (*IssuedSecret, error) {
	var p registration.Problems
	if opts.Grace < 0 || opts.Grace > a.opts.MaxGrace {
		p.Add("grace must be between 0 and %s", a.opts.MaxGrace)
	}
	if opts.ExpiresIn < 0 {
		p.Add("secret expiry must be positive")
	} else if opts.ExpiresIn > 0 && opts.ExpiresIn <= opts.Grace {
		p.Add("the new secret must outlive the grace period of the old one")
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	var issued *IssuedSecret
	_, err := a.change(ctx, actor, id, ActionClientSecretRotate, func(c *storage.Client, now time.Time) (map[string]string, error) {
		if !registration.UsesSecret(c.TokenEndpointAuthMethod) || c.Public {
			return nil, ErrNoSecretAuth
		}
		live := c.Secrets[:0:0]
		for _, s := range c.Secrets {
			if s.ExpiresAt == nil || s.ExpiresAt.After(now) {
				live = append(live, s)
			}
		}
		if len(live) >= 2 {
			return nil, ErrTooManySecrets
		}
		var exp *time.Time
		if opts.ExpiresIn > 0 {
			exp = ptrTime(now.Add(opts.ExpiresIn))
		}
		plain, sec, err := a.newSecret(ctx, c, now, exp)
		if err != nil {
			return nil, err
		}
		issued = &IssuedSecret{ClientID: c.ID, SecretID: sec.ID, ClientSecret: plain, ExpiresAt: exp}
		details := map[string]string{"secret_id": sec.ID, "grace": opts.Grace.String()}
		if len(live) == 1 {
			old := &live[0]
			end := now.Add(opts.Grace)
			if old.ExpiresAt == nil || old.ExpiresAt.After(end) {
				old.ExpiresAt = &end
			}
			if old.ID == "" {
				old.ID = registration.SecretID(old.Hash)
			}
			issued.PreviousSecretID, issued.PreviousExpiresAt = old.ID, old.ExpiresAt
			details["previous_secret_id"] = old.ID
			details["previous_expires_at"] = old.ExpiresAt.UTC().Format(time.RFC3339)
			if !old.ExpiresAt.After(now) {
				live = live[:0] // ended now: drop it
			}
		}
		c.Secrets = append(live, sec)
		return details, nil
	})
	if err != nil {
		return nil, err
	}
	return issued, nil
}

// RevokeSecret ends one secret of a client now, named by its id.
func (a *ClientAdmin) RevokeSecret(ctx context.Context, actor Actor, id, secretID string) (*registration.ClientInfo, error) {
	return a.change(ctx, actor, id, ActionClientSecretRevoke, func(c *storage.Client, _ time.Time) (map[string]string, error) {
		i := slices.IndexFunc(c.Secrets, func(s storage.ClientSecret) bool {
			return s.ID == secretID || (s.ID == "" && registration.SecretID(s.Hash) == secretID)
		})
		if i < 0 {
			return nil, fmt.Errorf("client %q has no secret %q: %w", c.ID, secretID, ErrSecretNotFound)
		}
		c.Secrets = slices.Delete(c.Secrets, i, i+1)
		return map[string]string{"secret_id": secretID}, nil
	})
}

// Export returns the registrations of the named clients (all when ids is
// empty), ordered by id, without secrets: secrets never leave the server,
// and their hashes are keyed by this environment's system secret.
func (a *ClientAdmin) Export(ctx context.Context, ids []string) ([]registration.ClientSpec, error) {
	var out []registration.ClientSpec
	if len(ids) == 0 {
		clients, err := a.store.ListClients(ctx)
		if err != nil {
			return nil, fmt.Errorf("list clients: %w", err)
		}
		for i := range clients {
			out = append(out, registration.FromClient(&clients[i]))
		}
		return out, nil
	}
	for _, id := range authz.Dedupe(ids) {
		c, err := a.store.GetClient(ctx, id)
		if err != nil {
			return nil, clientNotFound(id, fmt.Errorf("get client: %w", err))
		}
		out = append(out, registration.FromClient(c))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ClientID < out[j].ClientID })
	return out, nil
}

// ImportResult is one imported client; Secret is set when a secret was
// generated for it (shown once).
type ImportResult struct {
	ClientID   string        `json:"client_id"`
	ClientName string        `json:"client_name"`
	Secret     *IssuedSecret `json:"secret,omitempty"`
}

// Import registers every spec, all or nothing, in one transaction. Specs
// keep their client_id (one is generated when absent); a plain client_secret
// (at least 32 characters) is hashed on the way in; a secret-based client
// without one gets a generated secret, returned once. Every problem of every
// spec is reported at once, and nothing is written. progress, when not nil,
// is called after each client is written.
func (a *ClientAdmin) Import(ctx context.Context, actor Actor, specs []registration.ClientSpec, progress func(done, total int)) ([]ImportResult, error) {
	if len(specs) == 0 {
		return nil, &registration.ValidationError{Problems: []string{"the import holds no client"}}
	}
	now := a.now()
	var p registration.Problems
	clients := make([]*storage.Client, len(specs))
	results := make([]ImportResult, len(specs))
	seen := map[string]int{}
	for i, spec := range specs {
		label := fmt.Sprintf("client %d", i+1)
		if spec.ClientID != "" {
			label = fmt.Sprintf("client %d (%s)", i+1, spec.ClientID)
			if err := registration.CheckClientID(spec.ClientID); err != nil {
				p.Add("%s: %v", label, err)
			}
			if j, dup := seen[spec.ClientID]; dup {
				p.Add("%s: client_id also used by client %d", label, j+1)
			}
			seen[spec.ClientID] = i
		}
		c, err := spec.BuildWith(a.opts.IDTokenAlgs, a.opts.Policy)
		if err != nil {
			var ve *registration.ValidationError
			if errors.As(err, &ve) {
				for _, msg := range ve.Problems {
					p.Add("%s: %s", label, msg)
				}
				continue
			}
			return nil, err
		}
		if spec.ClientSecret != "" && !registration.UsesSecret(c.TokenEndpointAuthMethod) {
			p.Add("%s: client_secret is used only with client_secret_basic or client_secret_post", label)
		}
		if spec.ClientSecret != "" && c.TokenEndpointAuthMethod == storage.AuthMethodSecretJWT {
			p.Add("%s: client_secret cannot be imported for client_secret_jwt: the server derives the secrets of client_secret_jwt clients (it keeps no secret it could check HMAC assertions with); import without client_secret to get one, shown once", label)
		}
		if spec.ClientSecret != "" && len(spec.ClientSecret) < MinImportedSecretLength {
			p.Add("%s: client_secret must be at least %d characters", label, MinImportedSecretLength)
		}
		c.ID = spec.ClientID
		if c.ID == "" {
			if c.ID, err = registration.NewClientID(); err != nil {
				return nil, err
			}
		}
		c.CreatedAt, c.UpdatedAt = now, now
		results[i] = ImportResult{ClientID: c.ID, ClientName: c.Name}
		if registration.UsesSecret(c.TokenEndpointAuthMethod) {
			var sec storage.ClientSecret
			if spec.ClientSecret != "" {
				sec, err = a.hashSecret(ctx, spec.ClientSecret, now, nil)
			} else {
				var plain string
				plain, sec, err = a.newSecret(ctx, c, now, nil)
				results[i].Secret = &IssuedSecret{ClientID: c.ID, ClientSecret: plain}
			}
			if err != nil {
				return nil, err
			}
			if results[i].Secret != nil {
				results[i].Secret.SecretID = sec.ID
			}
			c.Secrets = []storage.ClientSecret{sec}
		}
		clients[i] = c
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	err := storage.InTx(ctx, a.store, func(ctx context.Context) error {
		for i, c := range clients {
			if err := a.store.CreateClient(ctx, c); err != nil {
				if errors.Is(err, storage.ErrAlreadyExists) {
					return fmt.Errorf("client %d: client_id %q already exists; nothing was imported: %w", i+1, c.ID, storage.ErrAlreadyExists)
				}
				return fmt.Errorf("client %d: create: %w", i+1, err)
			}
			if err := a.audit(ctx, actor, now, ActionClientImport, c.ID, map[string]string{"client_name": c.Name}); err != nil {
				return err
			}
			if progress != nil {
				progress(i+1, len(clients))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

// changed reports a committed change of client id to the Changed hook.
func (a *ClientAdmin) changed(id string) {
	if a.opts.Changed != nil {
		a.opts.Changed(id)
	}
}
