package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/strongroom/strongroom/authz/rar"
	"github.com/strongroom/strongroom/authz/registration"
	"github.com/strongroom/strongroom/storage"
)

// Audit actions of authorization details types.
const (
	ActionAuthorizationTypeAdd    = "authorization_type.add"
	ActionAuthorizationTypeRemove = "authorization_type.remove"
)

// MaxAuthorizationTypeSchema bounds a type's JSON Schema document.
const MaxAuthorizationTypeSchema = 64 << 10

// ErrBuiltinAuthorizationType: the type is built in (payment_initiation);
// it cannot be added or removed.
var ErrBuiltinAuthorizationType = errors.New("the authorization details type is built in")

// AuthorizationTypeStore is what AuthorizationTypeAdmin needs.
type AuthorizationTypeStore interface {
	storage.AuthorizationTypes
	storage.Audit
	storage.Transactor
}

// AuthorizationTypeInfo is an authorization details type as operators list it.
type AuthorizationTypeInfo struct {
	Type      string          `json:"type"`
	Builtin   bool            `json:"builtin"`
	Schema    json.RawMessage `json:"schema"`
	CreatedAt *time.Time      `json:"created_at,omitempty"`
}

// AuthorizationTypeAdmin manages the authorization details types
// (RFC 9396) a deployment accepts: `strongroom authorization-types`.
type AuthorizationTypeAdmin struct {
	store AuthorizationTypeStore
	now   func() time.Time
}

// NewAuthorizationTypeAdmin returns the service over store.
func NewAuthorizationTypeAdmin(store AuthorizationTypeStore, now func() time.Time) *AuthorizationTypeAdmin {
	if now == nil {
		now = time.Now
	}
	return &AuthorizationTypeAdmin{store: store, now: now}
}

// Get returns one type, built-in or registered (ErrNotFound if neither).
func (a *AuthorizationTypeAdmin) Get(ctx context.Context, typ string) (*AuthorizationTypeInfo, error) {
	if rar.IsBuiltin(typ) {
		return &AuthorizationTypeInfo{Type: typ, Builtin: true, Schema: rar.BuiltinSchema(typ)}, nil
	}
	t, err := a.store.GetAuthorizationType(ctx, typ)
	if err != nil {
		return nil, domainError(err)
	}
	created := t.CreatedAt
	return &AuthorizationTypeInfo{Type: t.Type, Schema: t.Schema, CreatedAt: &created}, nil
}

// Add registers typ with its JSON Schema, which must compile (self-contained:
// no reference is loaded). A validation problem is a
// *registration.ValidationError listing what is wrong; a taken name is ErrConflict; a built-in name
// ErrBuiltinAuthorizationType. The audit event commits with the type.
func (a *AuthorizationTypeAdmin) Add(ctx context.Context, actor Actor, typ string, schema []byte) error {
	var problems []string
	if typ == "" || len(typ) > 64 || strings.IndexFunc(typ, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		problems = append(problems, "type must be 1 to 64 bytes without whitespace")
	}
	if len(schema) > MaxAuthorizationTypeSchema {
		problems = append(problems, fmt.Sprintf("schema must be at most %d bytes", MaxAuthorizationTypeSchema))
	} else if _, err := rar.CompileSchema(schema); err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		return &registration.ValidationError{Problems: problems}
	}
	if rar.IsBuiltin(typ) {
		return fmt.Errorf("%q: %w", typ, ErrBuiltinAuthorizationType)
	}
	now := a.now().UTC()
	err := storage.InTx(ctx, a.store, func(ctx context.Context) error {
		if err := a.store.CreateAuthorizationType(ctx, &storage.AuthorizationType{Type: typ, Schema: schema, CreatedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
		return a.store.AppendAudit(ctx, actor.event(now, ActionAuthorizationTypeAdd, typ, nil))
	})
	return domainError(err)
}

// List returns the built-in types, then the registered ones by name.
func (a *AuthorizationTypeAdmin) List(ctx context.Context) ([]AuthorizationTypeInfo, error) {
	var out []AuthorizationTypeInfo
	for _, t := range rar.BuiltinTypes() {
		out = append(out, AuthorizationTypeInfo{Type: t, Builtin: true, Schema: rar.BuiltinSchema(t)})
	}
	stored, err := a.store.ListAuthorizationTypes(ctx)
	if err != nil {
		return nil, domainError(err)
	}
	for _, t := range stored {
		created := t.CreatedAt
		out = append(out, AuthorizationTypeInfo{Type: t.Type, Schema: t.Schema, CreatedAt: &created})
	}
	return out, nil
}

// Remove deletes a registered type (ErrNotFound if there is none; a
// built-in one is ErrBuiltinAuthorizationType). Clients that name it keep
// the name; their requests for it are refused from then on.
func (a *AuthorizationTypeAdmin) Remove(ctx context.Context, actor Actor, typ string) error {
	if rar.IsBuiltin(typ) {
		return fmt.Errorf("%q: %w", typ, ErrBuiltinAuthorizationType)
	}
	now := a.now().UTC()
	err := storage.InTx(ctx, a.store, func(ctx context.Context) error {
		if err := a.store.DeleteAuthorizationType(ctx, typ); err != nil {
			return err
		}
		return a.store.AppendAudit(ctx, actor.event(now, ActionAuthorizationTypeRemove, typ, nil))
	})
	return domainError(err)
}
