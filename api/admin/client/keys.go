package client

import (
	"context"
	"errors"
	"net/http"

	"github.com/strongroom/strongroom/api/admin"
	"github.com/strongroom/strongroom/authz/keys"
)

// ListKeys lists the signing keys.
func (c *Keys) ListKeys(ctx context.Context) ([]keys.KeyInfo, error) {
	var out []keys.KeyInfo
	return out, c.t.call(ctx, http.MethodGet, admin.Path(admin.RouteKeys), nil, nil, &out)
}

// RotateKeys rotates alg, or every algorithm with an active key when alg is
// empty. keys.ErrNextNotReady and keys.ErrAlreadyRotated match the API's
// refusals.
func (c *Keys) RotateKeys(ctx context.Context, alg string, force bool) ([]admin.KeyRotation, error) {
	var out []admin.KeyRotation
	err := c.t.call(ctx, http.MethodPost, admin.Path(admin.RouteKeysRotate), nil, admin.KeyRotateRequest{Alg: alg, Force: force}, &out)
	return out, keyError(err)
}

// RevokeKey revokes a signing key; keys.ErrKeyNotFound for an unknown kid.
func (c *Keys) RevokeKey(ctx context.Context, kid string) (*admin.KeyRevocation, error) {
	var out admin.KeyRevocation
	if err := c.t.call(ctx, http.MethodPost, admin.Path(admin.RouteKeyRevoke, kid), nil, nil, &out); err != nil {
		return nil, keyError(err)
	}
	return &out, nil
}

// keyError maps the admin API's key problems to keys' errors.
func keyError(err error) error {
	var pe *ProblemError
	var nf *NotFoundError
	switch {
	case errors.As(err, &nf):
		return &sentinelError{msg: nf.Detail, err: keys.ErrKeyNotFound}
	case !errors.As(err, &pe):
		return err
	case pe.Problem.Type == admin.TypeKeyNotReady:
		return &sentinelError{msg: pe.Problem.Detail, err: keys.ErrNextNotReady}
	case pe.Problem.Type == admin.TypeConcurrentChange:
		return &sentinelError{msg: pe.Problem.Detail, err: keys.ErrAlreadyRotated}
	}
	return err
}
