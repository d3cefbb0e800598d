package storage

import (
	"context"
	"time"
)

// ---------------------------------------------------------------- rich authorization requests

// AuthorizationType is an authorization details type (RFC 9396 §2) the
// deployment accepts: requests carrying an authorization_details object of
// this type are validated against Schema. Built-in types (authz/rar) are
// not stored.
type AuthorizationType struct {
	// Type is the value of the object's "type" field (RFC 9396 §2).
	Type string
	// Schema is the JSON Schema (JSON) every object of the type must meet.
	Schema    []byte
	CreatedAt time.Time
	UpdatedAt time.Time
}

// AuthorizationTypes stores the registered authorization details types.
type AuthorizationTypes interface {
	// CreateAuthorizationType inserts t; ErrAlreadyExists if the type is taken.
	CreateAuthorizationType(ctx context.Context, t *AuthorizationType) error
	// GetAuthorizationType returns the type or ErrNotFound.
	GetAuthorizationType(ctx context.Context, typ string) (*AuthorizationType, error)
	// ListAuthorizationTypes returns every registered type ordered by name.
	ListAuthorizationTypes(ctx context.Context) ([]AuthorizationType, error)
	// DeleteAuthorizationType removes the type; ErrNotFound if missing.
	// Clients naming it keep the name (a request for it is then refused).
	DeleteAuthorizationType(ctx context.Context, typ string) error
}
