package admin

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/strongroom/strongroom/authz/keys"
	"github.com/strongroom/strongroom/buildinfo"
	"github.com/strongroom/strongroom/storage"
)

// Health is the operator's health answer (GET /admin/v1/health): what the
// public /healthz (a plain liveness "ok") must not tell anyone, behind the
// admin API's authentication.
type Health struct {
	// Status is "ok", or "degraded" when the store cannot be reached or an
	// algorithm has no active signing key; the answer is then 503.
	Status string         `json:"status"`
	Build  buildinfo.Info `json:"build"`
	Store  StoreHealth    `json:"store"`
	// Keys is the signing-key state per algorithm; absent when the keys
	// could not be read or the API has no key manager.
	Keys []KeyHealth `json:"keys,omitempty"`
	// KeysError says why Keys is absent after a failed read.
	KeysError string `json:"keys_error,omitempty"`
}

// StoreHealth is whether the database answered a ping, and how fast.
type StoreHealth struct {
	Reachable bool   `json:"reachable"`
	LatencyMS int64  `json:"latency_ms"`
	Error     string `json:"error,omitempty"`
}

// KeyHealth is one algorithm's signing keys: the active and next kids (the
// next one's signs_from) and how many retired or revoked keys are still
// published.
type KeyHealth struct {
	Alg       string     `json:"alg"`
	Active    string     `json:"active,omitempty"`
	Next      string     `json:"next,omitempty"`
	SignsFrom *time.Time `json:"next_signs_from,omitempty"`
	Retired   int        `json:"retired"`
	Revoked   int        `json:"revoked"`
}

// healthTimeout bounds each probe of the health answer.
const healthTimeout = 2 * time.Second

// health answers GET /admin/v1/health.
func (s *Server) health(c echo.Context) error {
	ctx := c.Request().Context()
	h := Health{Status: "ok", Build: buildinfo.Read(), Store: StoreHealth{Reachable: true}}
	if s.opts.Ping != nil {
		pctx, cancel := context.WithTimeout(ctx, healthTimeout)
		start := time.Now()
		err := s.opts.Ping(pctx)
		h.Store.LatencyMS = time.Since(start).Milliseconds()
		cancel()
		if err != nil {
			s.opts.Log.Warn("health: the store is unreachable", "err", err)
			h.Status, h.Store.Reachable, h.Store.Error = "degraded", false, "The database did not answer; check its address and that it runs."
		}
	}
	if s.opts.Keys != nil {
		kctx, cancel := context.WithTimeout(ctx, healthTimeout)
		infos, err := s.opts.Keys.List(kctx)
		cancel()
		if err != nil {
			s.opts.Log.Warn("health: cannot read the signing keys", "err", err)
			h.Status, h.KeysError = "degraded", "The signing keys could not be read."
		} else {
			h.Keys = keyHealth(infos)
			for _, k := range h.Keys {
				if k.Active == "" {
					h.Status = "degraded"
				}
			}
		}
	}
	status := http.StatusOK
	if h.Status != "ok" {
		status = http.StatusServiceUnavailable
	}
	return render(c, status, h)
}

// keyHealth groups key infos by algorithm, in their order of first appearance.
func keyHealth(infos []keys.KeyInfo) []KeyHealth {
	var out []KeyHealth
	index := map[string]int{}
	for _, k := range infos {
		i, ok := index[k.Alg]
		if !ok {
			i = len(out)
			index[k.Alg] = i
			out = append(out, KeyHealth{Alg: k.Alg})
		}
		switch k.State {
		case storage.KeyStateActive:
			out[i].Active = k.KID
		case storage.KeyStateNext:
			out[i].Next, out[i].SignsFrom = k.KID, k.SignsFrom
		case storage.KeyStateRetired:
			out[i].Retired++
		case storage.KeyStateRevoked:
			out[i].Revoked++
		}
	}
	return out
}
