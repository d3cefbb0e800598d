package httpmw

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// Options configure the common middleware of one listener.
type Options struct {
	// Log receives the access-log lines and the panic reports.
	Log *slog.Logger
	// WithRequestID carries the request id into the request context, for
	// the log lines written below the handlers (authz.WithRequestID); nil:
	// the id is only answered and logged here.
	WithRequestID func(ctx context.Context, id string) context.Context
	// AccessLogMessage is the message of every access-log line (e.g.
	// "request", "admin request"): log queries tell the listeners apart by it.
	AccessLogMessage string
	// PanicMessage is the message of the line that reports a handler's panic.
	PanicMessage string
	// Caller, when set, returns the access-log attribute that names who
	// called (an OAuth client id, an admin actor); it runs after the
	// handler, so it may read what authentication recorded in the context.
	// It must never return a credential.
	Caller func(c echo.Context) slog.Attr
	// Metrics, when set, records every request with its route pattern
	// (Echo's c.Path(), never the raw path), method, final status and
	// duration (metrics.HTTPRecorder).
	Metrics RequestObserver
}

// RequestObserver records answered requests (metrics.HTTPRecorder). route
// is the matched route pattern, "" when no route matched.
type RequestObserver interface {
	ObserveRequest(route, method string, status int, elapsed time.Duration)
}

// Use installs the common middleware on e, outermost first: request id,
// access log, panic recoverer. The recoverer sits inside the access log so
// that a panic is logged with its 500.
func Use(e *echo.Echo, opts Options) {
	e.Use(requestID(opts.WithRequestID), accessLog(opts), recoverer(opts.Log, opts.PanicMessage))
}

// requestID assigns each request an id (or keeps the X-Request-Id the
// client sent, as Echo's RequestID does), answers it in X-Request-Id and,
// with withID, puts it in the request context.
func requestID(withID func(context.Context, string) context.Context) echo.MiddlewareFunc {
	cfg := middleware.RequestIDConfig{}
	if withID != nil {
		cfg.RequestIDHandler = func(c echo.Context, id string) {
			c.SetRequest(c.Request().WithContext(withID(c.Request().Context(), id)))
		}
	}
	return middleware.RequestIDWithConfig(cfg)
}

// requestIDOf is the id requestID assigned to c's request.
func requestIDOf(c echo.Context) string { return c.Response().Header().Get(echo.HeaderXRequestID) }

// logAttrsKey carries a request's *logAttrs in its context.
type logAttrsKey struct{}

// logAttrs are attributes added below the handler for the access-log line.
type logAttrs struct {
	mu    sync.Mutex
	attrs []slog.Attr
}

// AddLogAttrs adds attributes to the access-log line of the request whose
// context ctx is (e.g. the OAuth error code an error response carried). It
// does nothing outside a request the access log wraps. Never pass a
// credential, a token or a whole request value.
func AddLogAttrs(ctx context.Context, attrs ...slog.Attr) {
	if la, ok := ctx.Value(logAttrsKey{}).(*logAttrs); ok {
		la.mu.Lock()
		la.attrs = append(la.attrs, attrs...)
		la.mu.Unlock()
	}
}

// remoteHost is the peer's address without its port (the TCP peer: behind a
// proxy, the proxy; the login throttle applies --trusted-proxy rules itself).
func remoteHost(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// accessLog writes one structured line per request: request id, method,
// route (the pattern the router matched: bounded, unlike paths), path
// (never the query string, which may carry codes), status, duration, the
// peer's address, the caller attribute and what the handlers added with
// AddLogAttrs (the OAuth error code of an error response). No header, body
// or token is logged. A handler's
// error is rendered here (c.Error) so that the line has the final status.
func accessLog(opts Options) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			extra := &logAttrs{}
			c.SetRequest(c.Request().WithContext(context.WithValue(c.Request().Context(), logAttrsKey{}, extra)))
			if err := next(c); err != nil {
				c.Error(err)
			}
			elapsed := time.Since(start)
			route := routeOf(c)
			if opts.Metrics != nil {
				opts.Metrics.ObserveRequest(route, c.Request().Method, c.Response().Status, elapsed)
			}
			nameSpan(c, route)
			if !opts.Log.Enabled(c.Request().Context(), slog.LevelInfo) {
				return nil // access log off (log level above info): no line to build
			}
			attrs := []slog.Attr{
				slog.String("request_id", requestIDOf(c)),
				slog.String("method", c.Request().Method),
				slog.String("route", route),
				slog.String("path", c.Request().URL.Path),
				slog.Int("status", c.Response().Status),
				slog.Duration("duration", elapsed),
				slog.String("remote_addr", remoteHost(c.Request().RemoteAddr)),
			}
			if opts.Caller != nil {
				attrs = append(attrs, opts.Caller(c))
			}
			extra.mu.Lock()
			attrs = append(attrs, extra.attrs...)
			extra.mu.Unlock()
			opts.Log.LogAttrs(c.Request().Context(), slog.LevelInfo, opts.AccessLogMessage, attrs...)
			return nil
		}
	}
}

// routeOf is the route pattern the router matched for c: a registered
// route's, or for a 405 (or a 404 under a known prefix) the pattern of
// the nearest registered node; "" when nothing matched. Metrics label
// requests by it, never by the raw path, so that the paths of a scan
// cannot create series.
func routeOf(c echo.Context) string { return c.Path() }

// nameSpan names the request's trace span, when one records (the server
// wraps the listener in otelhttp with tracing on), by its method and route
// pattern, and sets http.route (OpenTelemetry HTTP semantic conventions):
// the raw path stays in url.path.
func nameSpan(c echo.Context, route string) {
	span := trace.SpanFromContext(c.Request().Context())
	if !span.IsRecording() {
		return
	}
	if route == "" {
		route = "unmatched"
	}
	span.SetName(c.Request().Method + " " + route)
	span.SetAttributes(attribute.String("http.route", route))
}

// recoverer turns a panic into a 500 (echo.HTTPError, rendered by the
// listener's error handler) without a stack or the panic's text in the
// response; the log gets the panic value's type only (values may hold
// secrets).
func recoverer(log *slog.Logger, msg string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			defer func() {
				if r := recover(); r != nil {
					log.Error(msg, "path", c.Request().URL.Path, "panic_type", fmt.Sprintf("%T", r),
						"request_id", requestIDOf(c))
					err = echo.NewHTTPError(http.StatusInternalServerError)
				}
			}()
			return next(c)
		}
	}
}

// LimitBody caps request bodies at limit bytes: a request that declares a
// longer body (Content-Length) is answered with tooLarge(c) before the
// handler runs; reading past the cap fails with *http.MaxBytesError (and
// the connection is closed after the answer). Each listener sets its own
// cap and renders its own refusal.
func LimitBody(limit int64, tooLarge func(c echo.Context) error) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if r.ContentLength > limit {
				return tooLarge(c)
			}
			r.Body = http.MaxBytesReader(c.Response(), r.Body, limit)
			return next(c)
		}
	}
}
