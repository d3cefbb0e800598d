package authz

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	"github.com/ory/fosite"
)

type requestIDKey struct{}

// WithRequestID returns ctx carrying the HTTP request id, which server-error
// log lines name so they can be matched with the access log.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// WriteAccessError answers a failed token request (RFC 6749 §5.2) through
// fosite after MapError: a 401 carries the Basic challenge, and a server
// error is logged with its cause first (the client sees no detail).
func (p *Provider) WriteAccessError(ctx context.Context, w http.ResponseWriter, ar fosite.AccessRequester, err error) {
	err = MapError(err)
	p.logServerError(ctx, err)
	if fosite.ErrorToRFC6749Error(err).CodeField == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", basicChallenge)
	}
	p.OAuth2.WriteAccessError(ctx, w, ar, err)
}

// WriteJSONError is the package WriteJSONError that also logs a server
// error's cause.
func (p *Provider) WriteJSONError(ctx context.Context, w http.ResponseWriter, err error) {
	err = MapError(err)
	p.logServerError(ctx, err)
	WriteJSONError(w, err)
}

// logServerError logs the cause of an error answered with a 5xx status (a
// 4xx is the client's doing and is not logged). Causes carry no secrets:
// storage errors never include token signatures, fosite's debug text never
// includes a credential.
func (p *Provider) logServerError(ctx context.Context, err error) {
	rfc := fosite.ErrorToRFC6749Error(err)
	if rfc.CodeField < http.StatusInternalServerError {
		return
	}
	var cause []string
	if c := rfc.Cause(); c != nil {
		cause = append(cause, c.Error())
	}
	if rfc.DebugField != "" {
		cause = append(cause, rfc.DebugField)
	}
	if rfc.HintField != "" {
		cause = append(cause, rfc.HintField)
	}
	if len(cause) == 0 {
		cause = append(cause, rfc.ErrorField+" without a recorded cause")
	}
	p.Log.LogAttrs(ctx, slog.LevelError, "server error",
		slog.String("request_id", requestID(ctx)),
		slog.String("oauth_error", rfc.ErrorField),
		slog.Int("status", rfc.CodeField),
		slog.String("error", strings.Join(cause, "; ")),
	)
}
