package client

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/strongroom/strongroom/api/admin"
	authzadmin "github.com/strongroom/strongroom/authz/admin"
)

// List lists the authorization details types, built in first.
func (c *AuthorizationTypes) List(ctx context.Context) ([]authzadmin.AuthorizationTypeInfo, error) {
	var out []authzadmin.AuthorizationTypeInfo
	return out, c.t.call(ctx, http.MethodGet, admin.Path(admin.RouteAuthorizationTypes), nil, nil, &out)
}

// Add registers typ with its JSON Schema.
func (c *AuthorizationTypes) Add(ctx context.Context, typ string, schema []byte) error {
	return c.t.call(ctx, http.MethodPost, admin.Path(admin.RouteAuthorizationTypes), nil,
		admin.AuthorizationTypeBody{Type: typ, Schema: json.RawMessage(schema)}, nil)
}

// Remove removes a registered type.
func (c *AuthorizationTypes) Remove(ctx context.Context, typ string) error {
	return c.t.call(ctx, http.MethodDelete, admin.Path(admin.RouteAuthorizationType, typ), nil, nil, nil)
}
