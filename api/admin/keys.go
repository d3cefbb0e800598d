package admin

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/strongroom/strongroom/authz/keys"
)

// KeyAdmin is the signing-key lifecycle the admin API exposes; keys.Manager
// implements it. Every change and its audit event commit together there.
type KeyAdmin interface {
	List(ctx context.Context) ([]keys.KeyInfo, error)
	RotateAlgs(ctx context.Context, algs []string, opts keys.RotateOptions) ([]keys.RotateResult, error)
	RotateActive(ctx context.Context, opts keys.RotateOptions) ([]keys.RotateResult, error)
	Revoke(ctx context.Context, kid string, origin keys.Origin) (*keys.RevokeResult, error)
}

var _ KeyAdmin = (*keys.Manager)(nil)

// KeyRotateRequest is the body of POST /admin/v1/keys/rotate. Without Alg
// every algorithm that has an active key rotates.
type KeyRotateRequest struct {
	Alg   string `json:"alg,omitempty"`
	Force bool   `json:"force,omitempty"`
}

// KeyRotation is one algorithm's rotation as the API (and `strongroom keys
// rotate -o json`) reports it.
type KeyRotation struct {
	Alg           string     `json:"alg"`
	Activated     string     `json:"activated,omitempty"`
	Retired       string     `json:"retired,omitempty"`
	Next          string     `json:"next,omitempty"`
	NextSignsFrom *time.Time `json:"next_signs_from,omitempty"`
	Removed       []string   `json:"removed"`
	Forced        bool       `json:"forced"`
}

// NewKeyRotation converts a lifecycle result to its wire form.
func NewKeyRotation(r keys.RotateResult) KeyRotation {
	v := KeyRotation{Alg: r.Alg, Activated: r.Activated, Retired: r.Retired, Next: r.Next, Removed: r.Removed, Forced: r.Forced}
	if v.Removed == nil {
		v.Removed = []string{}
	}
	if r.Next != "" {
		at := r.NextReadyAt.UTC()
		v.NextSignsFrom = &at
	}
	return v
}

// NewKeyRotations converts lifecycle results to their wire form.
func NewKeyRotations(res []keys.RotateResult) []KeyRotation {
	out := make([]KeyRotation, len(res))
	for i, r := range res {
		out[i] = NewKeyRotation(r)
	}
	return out
}

// KeyRevocation is a revocation as the API (and `strongroom keys revoke -o
// json`) reports it.
type KeyRevocation struct {
	KID           string `json:"kid"`
	Alg           string `json:"alg"`
	PreviousState string `json:"previous_state"`
	Activated     string `json:"activated,omitempty"`
	Next          string `json:"next,omitempty"`
}

// NewKeyRevocation converts a lifecycle result to its wire form.
func NewKeyRevocation(r *keys.RevokeResult) KeyRevocation {
	return KeyRevocation{KID: r.KID, Alg: r.Alg, PreviousState: r.PreviousState, Activated: r.Activated, Next: r.Next}
}

// origin is the audit origin of a key operation by the authenticated caller.
func origin(c echo.Context) keys.Origin {
	a := actor(c)
	return keys.Origin{Actor: a.Name, Source: a.Source, SourceIP: a.IP, UserAgent: a.UserAgent}
}

func (s keyRoutes) listKeys(c echo.Context) error {
	return answer(c, http.StatusOK)(s.opts.Keys.List(c.Request().Context()))
}

func (s keyRoutes) rotateKeys(c echo.Context) error {
	var req KeyRotateRequest
	if c.Request().ContentLength != 0 {
		if err := decodeBody(c, &req); err != nil {
			return err
		}
	}
	opts := keys.RotateOptions{Force: req.Force, Origin: origin(c)}
	var (
		res []keys.RotateResult
		err error
	)
	if req.Alg == "" {
		res, err = s.opts.Keys.RotateActive(c.Request().Context(), opts)
	} else {
		res, err = s.opts.Keys.RotateAlgs(c.Request().Context(), []string{req.Alg}, opts)
	}
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, NewKeyRotations(res))
}

func (s keyRoutes) revokeKey(c echo.Context) error {
	res, err := s.opts.Keys.Revoke(c.Request().Context(), c.Param("kid"), origin(c))
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, NewKeyRevocation(res))
}
