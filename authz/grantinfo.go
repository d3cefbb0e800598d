package authz

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/strongroom/strongroom/storage"
)

// GrantInfo is a user's remembered consent as operators list it (`strongroom
// users grants list`, GET /admin/v1/users/{ref}/grants): the client, its
// name when it still exists, and the scopes the user agreed to.
type GrantInfo struct {
	ClientID   string   `json:"client_id"`
	ClientName string   `json:"client_name,omitempty"`
	Scopes     []string `json:"scopes"`
	// AuthorizationDetails are the RFC 9396 details the user approved last.
	AuthorizationDetails json.RawMessage `json:"authorization_details,omitempty"`
	GrantedAt            time.Time       `json:"granted_at"`
}

// ListGrantInfo returns the user's remembered consents with each client's
// name, ordered by client id. Scopes is never nil.
func (m *SessionManager) ListGrantInfo(ctx context.Context, userID string) ([]GrantInfo, error) {
	grants, err := m.ListGrants(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make([]GrantInfo, len(grants))
	for i, g := range grants {
		out[i] = GrantInfo{ClientID: g.ClientID, Scopes: g.Scopes, GrantedAt: g.GrantedAt.UTC()}
		if len(g.AuthorizationDetails) > 0 {
			out[i].AuthorizationDetails = json.RawMessage(g.AuthorizationDetails)
		}
		if out[i].Scopes == nil {
			out[i].Scopes = []string{}
		}
		c, err := m.Store.GetClient(ctx, g.ClientID)
		switch {
		case err == nil:
			out[i].ClientName = c.Name
		case !errors.Is(err, storage.ErrNotFound):
			return nil, fmt.Errorf("get client: %w", err)
		}
	}
	return out, nil
}
