package admin

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/strongroom/strongroom/authz"
	authzadmin "github.com/strongroom/strongroom/authz/admin"
	"github.com/strongroom/strongroom/authz/keys"
	"github.com/strongroom/strongroom/authz/password"
	"github.com/strongroom/strongroom/authz/registration"
)

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Errors lists every validation problem (extension member).
	Errors []string `json:"errors,omitempty"`
}

// Problem types: URNs, since they identify and need not resolve.
const (
	typePrefix          = "urn:strongroom:problem:"
	TypeInvalidRequest  = typePrefix + "invalid-request"
	TypeNotFound        = typePrefix + "not-found"
	TypeConflict        = typePrefix + "conflict"
	TypeUnauthorized    = typePrefix + "unauthorized"
	TypeForbidden       = typePrefix + "forbidden"
	TypeUnavailable     = typePrefix + "unavailable"
	TypeInternal        = typePrefix + "internal"
	TypeMethodNotAllow  = typePrefix + "method-not-allowed"
	TypePayloadTooLarge = typePrefix + "payload-too-large"
	// TypeKeyNotReady: the next signing key has not been published for the
	// JWKS cache lifetime yet (keys.ErrNextNotReady); retry later or force.
	TypeKeyNotReady = typePrefix + "key-not-ready"
	// TypeConcurrentChange: another rotation changed the keys between
	// reading and writing (keys.ErrAlreadyRotated); nothing was changed.
	TypeConcurrentChange = typePrefix + "concurrent-change"
)

// badRequest is a malformed request (body, parameter) found by a handler.
type badRequest struct{ msg string }

func (e *badRequest) Error() string { return e.msg }

// problemFor maps an error to its problem document: the one place where
// domain errors become HTTP statuses (the store's errors arrive classified
// by authzadmin.ErrorKind). Details of 4xx answers are the domain's
// messages (which never carry secrets), or, for errors authzadmin.Explain
// knows (signing keys, the store), what happened and what to do without
// the chain of wrapped errors; 5xx answers say nothing about internals.
func problemFor(err error) Problem {
	err = authzadmin.ErrorKind(err)
	p := problemOf(err)
	if p.Detail != "" && p.Status < 500 {
		if ue := authzadmin.Explain(err); ue != nil {
			p.Detail = ue.Error() // a sentence and a hint, never the chain
		}
	}
	return p
}

// problemOf classifies err (already through ErrorKind).
func problemOf(err error) Problem {
	var ve *registration.ValidationError
	var br *badRequest
	var he *echo.HTTPError
	var ae *authError
	switch {
	case errors.As(err, &ve):
		return Problem{Type: TypeInvalidRequest, Title: "Invalid request", Status: http.StatusBadRequest,
			Detail: "The request failed validation.", Errors: ve.Problems}
	case errors.As(err, &br):
		return Problem{Type: TypeInvalidRequest, Title: "Invalid request", Status: http.StatusBadRequest, Detail: br.msg}
	case errors.As(err, &ae):
		return Problem{Type: TypeUnauthorized, Title: "Unauthorized", Status: ae.status, Detail: ae.msg}
	case errors.Is(err, authz.ErrAdminTokenInvalid):
		return Problem{Type: TypeUnauthorized, Title: "Unauthorized", Status: http.StatusUnauthorized, Detail: err.Error()}
	case errors.Is(err, authz.ErrAdminScope), errors.Is(err, authz.ErrAdminUserToken):
		return Problem{Type: TypeForbidden, Title: "Forbidden", Status: http.StatusForbidden, Detail: err.Error()}
	case errors.Is(err, authzadmin.ErrSecretNotFound), errors.Is(err, authzadmin.ErrNotFound), errors.Is(err, keys.ErrKeyNotFound),
		errors.Is(err, authz.ErrSessionNotFound), errors.Is(err, authz.ErrGrantNotFound):
		return Problem{Type: TypeNotFound, Title: "Not found", Status: http.StatusNotFound, Detail: err.Error()}
	case errors.Is(err, keys.ErrNextNotReady):
		return Problem{Type: TypeKeyNotReady, Title: "Next key not ready", Status: http.StatusConflict, Detail: err.Error()}
	case errors.Is(err, keys.ErrAlreadyRotated):
		return Problem{Type: TypeConcurrentChange, Title: "Changed concurrently", Status: http.StatusConflict, Detail: err.Error()}
	case errors.Is(err, keys.ErrAlreadyRevoked), errors.Is(err, keys.ErrNoActiveKey):
		return Problem{Type: TypeConflict, Title: "Conflict", Status: http.StatusConflict, Detail: err.Error()}
	case errors.Is(err, keys.ErrUnsupportedAlg):
		return Problem{Type: TypeInvalidRequest, Title: "Invalid request", Status: http.StatusBadRequest, Detail: err.Error()}
	case errors.Is(err, authzadmin.ErrTooManySecrets), errors.Is(err, authzadmin.ErrNoSecretAuth),
		errors.Is(err, authzadmin.ErrConflict), errors.Is(err, authzadmin.ErrBuiltinAuthorizationType):
		return Problem{Type: TypeConflict, Title: "Conflict", Status: http.StatusConflict, Detail: err.Error()}
	case errors.Is(err, password.ErrBusy):
		return Problem{Type: TypeUnavailable, Title: "Service unavailable", Status: http.StatusServiceUnavailable,
			Detail: "Too many passwords are being hashed; retry later."}
	case errors.Is(err, authzadmin.ErrUnavailable):
		return Problem{Type: TypeUnavailable, Title: "Service unavailable", Status: http.StatusServiceUnavailable,
			Detail: "The database is unavailable; retry later."}
	case errors.As(err, &he):
		switch he.Code {
		case http.StatusNotFound:
			return Problem{Type: TypeNotFound, Title: "Not found", Status: he.Code, Detail: "No such resource."}
		case http.StatusMethodNotAllowed:
			return Problem{Type: TypeMethodNotAllow, Title: "Method not allowed", Status: he.Code}
		case http.StatusRequestEntityTooLarge:
			return Problem{Type: TypePayloadTooLarge, Title: "Payload too large", Status: he.Code}
		case http.StatusUnsupportedMediaType, http.StatusBadRequest:
			return Problem{Type: TypeInvalidRequest, Title: "Invalid request", Status: http.StatusBadRequest, Detail: "The request is malformed."}
		}
	}
	return Problem{Type: TypeInternal, Title: "Internal error", Status: http.StatusInternalServerError}
}

// errorHandler renders every error (handlers', middleware's and Echo's own)
// as a problem document. 401s carry a Bearer challenge (RFC 6750 §3).
func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		p := problemFor(err)
		if p.Status >= 500 {
			log.Error("admin API error", "path", c.Request().URL.Path, "err", err)
		}
		h := c.Response().Header()
		switch {
		case p.Status == http.StatusUnauthorized && h.Get("WWW-Authenticate") == "":
			h.Set("WWW-Authenticate", `Bearer realm="strongroom-admin", error="invalid_token", error_description="`+p.Detail+`"`)
		case p.Status == http.StatusForbidden:
			h.Set("WWW-Authenticate", `Bearer realm="strongroom-admin", error="insufficient_scope", scope="`+authz.AdminScope+`"`)
		}
		h.Set("Cache-Control", "no-store")
		h.Set(echo.HeaderContentType, "application/problem+json")
		c.Response().WriteHeader(p.Status)
		_ = jsonEncode(c.Response(), p)
	}
}
