package login

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/mfa"
	"github.com/strongroom/strongroom/authz/oauth"
	"github.com/strongroom/strongroom/authz/password"
	"github.com/strongroom/strongroom/authz/throttle"
	"github.com/strongroom/strongroom/storage"
)

// Service is the browser flow of the authorization endpoint: it parks an
// authorization request that needs the user as a flow, runs its steps
// (password, second factor, enrolment, consent) and finishes or denies it
// through the token service (oauth.Authorizer issues the response).
type Service struct {
	cfg        authz.Config
	store      storage.Store
	clients    *authz.ClientCache
	authorizer *oauth.Authorizer
	sessions   *authz.SessionManager
	auth       *password.Authenticator
	factors    *mfa.Service
	throttle   *throttle.Throttle
	now        func() time.Time
	log        *slog.Logger
	metrics    Metrics
	tracer     trace.Tracer
}

// Metrics receives the outcome of every login step the service audits
// (metrics.Metrics implements it). Calls must be cheap and never block.
type Metrics interface {
	// LoginAttempt counts one step: the audit action (login.password,
	// login.totp, login.recovery_code, login.webauthn, account.locked),
	// its outcome (success, failure) and the reason of a failure.
	LoginAttempt(step, outcome, reason string)
}

// noMetrics is the default Metrics: it keeps nothing.
type noMetrics struct{}

func (noMetrics) LoginAttempt(string, string, string) {}

// Options are the dependencies of a Service; every field is required but
// Now (time.Now), Log (slog.Default) and Metrics (none).
type Options struct {
	// Config is the server's authorization configuration (lifespans, page
	// paths, the system secret the CSRF key derives from).
	Config  authz.Config
	Store   storage.Store
	Clients *authz.ClientCache
	// Authorizer parses authorization requests and issues their answers.
	Authorizer *oauth.Authorizer
	// Sessions ends the browser sessions a login replaces or that idled out.
	Sessions *authz.SessionManager
	// Passwords checks end-user passwords (argon2id, under its HashLimiter).
	Passwords *password.Authenticator
	// Factors verifies and enrols second factors.
	Factors *mfa.Service
	// Throttle admits login and second-factor attempts.
	Throttle *throttle.Throttle
	Now      func() time.Time
	Log      *slog.Logger
	// Metrics counts login outcomes; nil keeps none.
	Metrics Metrics
	// Tracer, when set, records a span for the authorization request and
	// for each login step (a child of the HTTP span, parent of the SQL
	// spans); never the username, password or code. nil: no spans.
	Tracer trace.TracerProvider
}

// New returns the browser-flow service.
func New(o Options) (*Service, error) {
	if o.Store == nil || o.Clients == nil || o.Authorizer == nil || o.Sessions == nil ||
		o.Passwords == nil || o.Factors == nil || o.Throttle == nil {
		return nil, errors.New("login: missing dependency")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Metrics == nil {
		o.Metrics = noMetrics{}
	}
	if o.Tracer == nil {
		o.Tracer = noop.NewTracerProvider()
	}
	return &Service{
		cfg: o.Config, store: o.Store, clients: o.Clients, authorizer: o.Authorizer, sessions: o.Sessions,
		auth: o.Passwords, factors: o.Factors, throttle: o.Throttle, now: o.Now, log: o.Log, metrics: o.Metrics,
		tracer: o.Tracer.Tracer("github.com/strongroom/strongroom/authz/login"),
	}, nil
}

// span starts the span of one step of the flow; end it with endSpan.
func (s *Service) span(ctx context.Context, name string) (context.Context, trace.Span) {
	return s.tracer.Start(ctx, name)
}

// endSpan ends span, marked failed with err's type when there is one (the
// error's text may quote what the user typed).
func endSpan(span trace.Span, err error) {
	if err != nil {
		span.SetStatus(codes.Error, fmt.Sprintf("%T", err))
	}
	span.End()
}
