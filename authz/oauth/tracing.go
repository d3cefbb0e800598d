package oauth

import (
	"context"
	"errors"

	"github.com/ory/fosite"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// tracerName names the token service's spans' instrumentation scope.
const tracerName = "github.com/strongroom/strongroom/authz/oauth"

// WithTracerProvider makes the token-side endpoints (token, PAR,
// introspection, revocation) record a span each, a child of the HTTP
// request's span and parent of the SQL spans below it (nil: no spans).
// Spans carry the client id, the grant type and the OAuth error code,
// never a token, secret or assertion.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *core) {
		if tp != nil {
			c.tracer = tp.Tracer(tracerName)
		}
	}
}

// noTracer is the default: spans that record nothing.
var noTracer = noop.NewTracerProvider().Tracer(tracerName)

// startSpan starts the span of one endpoint's work.
func (p *core) startSpan(ctx context.Context, name string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	return p.tracer.Start(ctx, name, trace.WithAttributes(attrs...))
}

// endSpan ends span with the client the request named and, for an error,
// its OAuth error code (the error's text may quote request values).
func endSpan(span trace.Span, clientID string, err error) {
	if clientID != "" {
		span.SetAttributes(attribute.String("oauth.client_id", clientID))
	}
	if err != nil {
		code := "server_error"
		var rfc *fosite.RFC6749Error
		if errors.As(err, &rfc) {
			code = rfc.ErrorField
		}
		span.SetAttributes(attribute.String("oauth.error", code))
		span.SetStatus(codes.Error, code)
	}
	span.End()
}
