package admin

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/strongroom/strongroom/api"
	"github.com/strongroom/strongroom/api/httpmw"
	"github.com/strongroom/strongroom/authz"
	authzadmin "github.com/strongroom/strongroom/authz/admin"
	"github.com/strongroom/strongroom/authz/audit"
)

// Prefix is the path prefix of every admin API route.
const Prefix = "/admin/v1"

// TokenAuthenticator checks a bearer token for the admin API and returns the
// client id it was issued to (oauth.Tokens implements it).
type TokenAuthenticator interface {
	AuthenticateAdmin(ctx context.Context, token string) (string, error)
}

// Options are the admin API's dependencies.
type Options struct {
	Clients *authzadmin.ClientAdmin
	Users   *authzadmin.UserAdmin
	// Audit lists the audit trail and records the API's own events
	// (refused authentications, reads).
	Audit  *authzadmin.AuditLog
	Tokens TokenAuthenticator
	// Keys, when set, mounts the signing-key routes (/keys).
	Keys KeyAdmin
	// AuditTrail, when set, mounts GET /audit/verify (the chain check of
	// `strongroom audit verify`).
	AuditTrail *audit.Trail
	// Sessions, when set, mounts a user's grants and browser sessions
	// (/users/{ref}/grants, /users/{ref}/sessions).
	Sessions *authzadmin.SessionAdmin
	// AuthorizationTypes, when set, mounts the authorization details types
	// (RFC 9396) routes (/authorization-types).
	AuthorizationTypes *authzadmin.AuthorizationTypeAdmin
	// Ping, when set, reports whether the store is reachable
	// (storage.Store.Ping), for GET /health.
	Ping func(ctx context.Context) error
	// MTLS accepts a verified TLS client certificate instead of a bearer
	// token (the listener requires and verifies certificates).
	MTLS bool
	// MaxBodyBytes caps request bodies (default 4 MiB: imports of many clients).
	MaxBodyBytes int64
	// Now is the clock of the audit events the API records (default time.Now).
	Now func() time.Time
	Log *slog.Logger
	// Metrics, when set, records every admin request (route pattern,
	// method, status, duration; metrics.HTTPRecorder).
	Metrics httpmw.RequestObserver
}

// Server is the admin API.
type Server struct {
	opts Options
	e    *echo.Echo
}

// New builds the admin API and mounts its routes.
func New(opts Options) (*Server, error) {
	if opts.Clients == nil || opts.Users == nil || opts.Audit == nil || opts.Tokens == nil {
		return nil, errors.New("admin: clients, users, audit and tokens are required")
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxBodyBytes == 0 {
		opts.MaxBodyBytes = 4 << 20
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = errorHandler(opts.Log)
	s := &Server{opts: opts, e: e}
	httpmw.Use(e, httpmw.Options{
		Log: opts.Log, WithRequestID: authz.WithRequestID, Caller: actorAttr,
		AccessLogMessage: "admin request", PanicMessage: "panic in admin handler", Metrics: opts.Metrics,
	})

	// Per-route middleware (an Echo group would answer unknown paths under
	// it with 405 instead of 404).
	add := func(method, path string, h echo.HandlerFunc) {
		e.Add(method, Prefix+path, h, s.limitBody, s.authenticate, s.auditReads)
	}
	// The description is public on the listener (no token: it holds no
	// data, and an operator fetches it before having one); an mTLS-only
	// listener still requires the certificate at the handshake.
	e.GET(Prefix+RouteOpenAPI, serveOpenAPI)
	clientAPI, userAPI, keyAPI := clientRoutes{s}, userRoutes{s}, keyRoutes{s}
	add(http.MethodGet, RouteClients, clientAPI.listClients)
	add(http.MethodPost, RouteClients, clientAPI.createClient)
	add(http.MethodGet, RouteClient, clientAPI.getClient)
	add(http.MethodPatch, RouteClient, clientAPI.updateClient)
	add(http.MethodDelete, RouteClient, clientAPI.deleteClient)
	add(http.MethodPost, RouteClientDisable, clientAPI.disableClient)
	add(http.MethodPost, RouteClientEnable, clientAPI.enableClient)
	add(http.MethodPost, RouteClientSecrets, clientAPI.rotateSecret)
	add(http.MethodDelete, RouteClientSecret, clientAPI.revokeSecret)
	add(http.MethodPost, RouteClientImport, clientAPI.importClients)
	add(http.MethodGet, RouteClientExport, clientAPI.exportClients)
	add(http.MethodGet, RouteUsers, userAPI.listUsers)
	add(http.MethodPost, RouteUsers, userAPI.createUser)
	add(http.MethodGet, RouteUser, userAPI.getUser)
	add(http.MethodDelete, RouteUser, userAPI.deleteUser)
	add(http.MethodPatch, RouteUser, userAPI.updateUser)
	add(http.MethodPost, RouteUserImport, userAPI.importUsers)
	add(http.MethodGet, RouteUserExport, userAPI.exportUsers)
	add(http.MethodGet, RouteHealth, s.health)
	add(http.MethodGet, RouteAuditEvents, s.listAudit)
	if opts.AuditTrail != nil {
		add(http.MethodGet, RouteAuditVerify, s.verifyAudit)
	}
	if opts.Keys != nil {
		add(http.MethodGet, RouteKeys, keyAPI.listKeys)
		add(http.MethodPost, RouteKeysRotate, keyAPI.rotateKeys)
		add(http.MethodPost, RouteKeyRevoke, keyAPI.revokeKey)
	}
	if opts.AuthorizationTypes != nil {
		typeAPI := authorizationTypeRoutes{s}
		add(http.MethodGet, RouteAuthorizationTypes, typeAPI.listTypes)
		add(http.MethodPost, RouteAuthorizationTypes, typeAPI.addType)
		add(http.MethodGet, RouteAuthorizationType, typeAPI.getType)
		add(http.MethodDelete, RouteAuthorizationType, typeAPI.removeType)
	}
	if opts.Sessions != nil {
		add(http.MethodGet, RouteUserGrants, userAPI.listGrants)
		add(http.MethodDelete, RouteUserGrant, userAPI.revokeGrant)
		add(http.MethodGet, RouteUserSessions, userAPI.listSessions)
		add(http.MethodDelete, RouteUserSessions, userAPI.endUserSessions)
		add(http.MethodDelete, RouteUserSession, userAPI.endSession)
	}
	return s, nil
}

// serveOpenAPI answers the embedded api/openapi.yaml.
func serveOpenAPI(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-cache")
	return c.Blob(http.StatusOK, "application/yaml", api.OpenAPI)
}

// Echo exposes the router so that other admin domains (signing keys) can
// mount their routes beside these, with Authenticate in front.
func (s *Server) Echo() *echo.Echo { return s.e }

// Authenticate is the admin API's authentication middleware, for routes
// mounted by other packages; reads behind it are audited like the others.
func (s *Server) Authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return s.authenticate(s.auditReads(next))
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.e.ServeHTTP(w, r) }

const ctxActor = "strongroom.admin.actor"

// actor is who is calling, as authenticated by the middleware.
func actor(c echo.Context) authzadmin.Actor {
	a, _ := c.Get(ctxActor).(authzadmin.Actor)
	return a
}

// ActionAdminAuth is the audit action of a refused admin API authentication.
const ActionAdminAuth = "admin.auth"

// authenticate accepts a bearer access token with the strongroom:admin
// scope or, where mTLS is configured, a verified client certificate, and
// records the actor for the audit trail. The rule when both are presented:
// a request that carries an Authorization header is judged by its token
// alone (a bad token is refused even with a good certificate: credentials
// presented are never silently ignored), and the actor is the token's
// client; a request without one is authenticated by its certificate. Every
// refusal is written to the audit trail (ActionAdminAuth, outcome failure,
// the source address), never the token.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		a := authzadmin.Actor{Source: "admin-api", IP: remoteIP(r), UserAgent: truncate(r.UserAgent(), 256)}
		header := r.Header.Get("Authorization")
		if header == "" && s.opts.MTLS && r.TLS != nil && len(r.TLS.VerifiedChains) > 0 && len(r.TLS.VerifiedChains[0]) > 0 {
			a.Name = "mtls:" + certName(r.TLS.VerifiedChains[0][0])
			c.Set(ctxActor, a)
			return next(c)
		}
		scheme, token, ok := strings.Cut(header, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			reason := "no bearer token"
			if header != "" {
				reason = "malformed Authorization header"
			}
			s.auditAuthFailure(c, a, "", reason)
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="strongroom-admin"`)
			return &authError{status: http.StatusUnauthorized, msg: "A bearer access token with the " + authz.AdminScope + " scope is required."}
		}
		clientID, err := s.opts.Tokens.AuthenticateAdmin(r.Context(), strings.TrimSpace(token))
		var userToken *authz.AdminUserTokenError
		switch {
		case errors.As(err, &userToken):
			s.auditAuthFailure(c, a, clientID, "token issued for a user, not through the client credentials grant", "subject", userToken.Subject)
			return err
		case errors.Is(err, authz.ErrAdminClientWithdrawn):
			s.auditAuthFailure(c, a, clientID, "the token's client is no longer registered for the "+authz.AdminScope+" scope")
			return err
		case errors.Is(err, authz.ErrAdminScope):
			s.auditAuthFailure(c, a, clientID, "token without the "+authz.AdminScope+" scope")
			return err
		case errors.Is(err, authz.ErrAdminTokenInvalid):
			s.auditAuthFailure(c, a, clientID, "invalid, expired or revoked token")
			return err
		case err != nil:
			return err // e.g. the database is down: not a refusal
		}
		a.Name = "client:" + clientID
		c.Set(ctxActor, a)
		return next(c)
	}
}

// auditAuthFailure records a refused authentication: the claimed client when
// the token names one, else "anonymous"; the method and path; extra details
// given as name, value pairs (the user a refused user token was issued
// for); never the token. A failure to record it is logged, and the refusal
// stands.
func (s *Server) auditAuthFailure(c echo.Context, a authzadmin.Actor, clientID, reason string, extra ...string) {
	name := "anonymous"
	if clientID != "" {
		name = "client:" + clientID
	}
	r := c.Request()
	ev := authzadmin.AuditEvent{
		Time: s.opts.Now().UTC(), Actor: name, Action: ActionAdminAuth, Outcome: authzadmin.OutcomeFailure,
		SourceIP: a.IP, UserAgent: a.UserAgent,
		Details: map[string]string{"source": a.Source, "reason": reason, "method": r.Method, "path": truncate(r.URL.Path, 256)},
	}
	for i := 0; i+1 < len(extra); i += 2 {
		ev.Details[extra[i]] = extra[i+1]
	}
	if err := s.opts.Audit.Record(context.WithoutCancel(r.Context()), ev); err != nil {
		s.opts.Log.Warn("cannot record a refused admin authentication in the audit trail", "err", err)
	}
}

// authError is an authentication failure whose challenge is already set.
type authError struct {
	status int
	msg    string
}

func (e *authError) Error() string { return e.msg }

func certName(cert *x509.Certificate) string {
	if cert.Subject.CommonName != "" {
		return cert.Subject.CommonName
	}
	return cert.Subject.String()
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// limitBody caps request bodies (Options.MaxBodyBytes); the refusal is a
// payload-too-large problem.
func (s *Server) limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return httpmw.LimitBody(s.opts.MaxBodyBytes, func(echo.Context) error {
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge)
	})(next)
}

// readBody reads the whole request body; a JSON body is required.
func readBody(c echo.Context) ([]byte, error) {
	ct := c.Request().Header.Get(echo.HeaderContentType)
	if mt, _, _ := strings.Cut(ct, ";"); mt != echo.MIMEApplicationJSON && mt != "application/merge-patch+json" {
		return nil, &badRequest{msg: "The request body must be JSON (Content-Type: application/json)."}
	}
	data, err := io.ReadAll(c.Request().Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, echo.NewHTTPError(http.StatusRequestEntityTooLarge)
		}
		return nil, &badRequest{msg: "The request body could not be read."}
	}
	return data, nil
}

// decodeBody decodes a JSON body strictly (unknown fields are refused).
func decodeBody(c echo.Context, v any) error {
	data, err := readBody(c)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &badRequest{msg: "The request body is not valid JSON for this operation: " + err.Error()}
	}
	if dec.More() {
		return &badRequest{msg: "The request body holds data after the JSON document."}
	}
	return nil
}

func jsonEncode(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// render writes v as JSON with status; admin answers are never cached.
func render(c echo.Context, status int, v any) error {
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	c.Response().WriteHeader(status)
	return jsonEncode(c.Response(), v)
}

// actorAttr is the access log's caller: the actor authentication recorded.
func actorAttr(c echo.Context) slog.Attr { return slog.String("actor", actor(c).Name) }
