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

// LogServerError logs, on log, the cause of err when it is answered with a
// 5xx status, with the request id of ctx (WithRequestID); a 4xx is the
// client's doing and is not logged. Causes carry no secrets: storage errors
// never include token signatures, fosite's debug text never includes a
// credential.
func LogServerError(ctx context.Context, log *slog.Logger, err error) {
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
	log.LogAttrs(ctx, slog.LevelError, "server error",
		slog.String("request_id", requestID(ctx)),
		slog.String("oauth_error", rfc.ErrorField),
		slog.Int("status", rfc.CodeField),
		slog.String("error", strings.Join(cause, "; ")),
	)
}
