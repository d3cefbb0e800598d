// Package gateway is the forward-auth endpoint API gateways call before
// they pass a request to an API (serve --gateway-listen, a listener of its
// own): GET /gateway/check. It reads the original request from the
// gateway's headers, hands the decision to authz/gateway and answers 200
// with the identity headers (X-Strongroom-Subject, -Client, -Scope) or
// 401/403 with a WWW-Authenticate challenge (Bearer or DPoP; RFC 6750 §3,
// RFC 9449 §7.1).
//
// The original request, by gateway convention:
//
//	method  X-Forwarded-Method (Traefik), X-Original-Method (nginx), else
//	        the check request's own method (Envoy ext_authz HTTP)
//	URI     X-Forwarded-Uri (Traefik), X-Original-URI (nginx), else the
//	        check request's path after /gateway/check (Envoy path_prefix)
//	host    X-Forwarded-Host, else the check request's Host
//	scheme  X-Forwarded-Proto (http or https), else the check request's
//
// Each must be sent at most once and hold one value. The gateway must set
// them itself, overwriting whatever the client sent; the listener is meant
// for the gateway only (loopback or a private network). The client
// certificate header (serve --client-cert-header) is believed only from
// --trusted-proxy peers, as on the public listener.
package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/strongroom/strongroom/api/httpmw"
	"github.com/strongroom/strongroom/api/render"
	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/authz/dpop"
	authzgw "github.com/strongroom/strongroom/authz/gateway"
)

// PathCheck is the forward-auth endpoint.
const PathCheck = "/gateway/check"

// Identity headers of an admitted request, for the API behind the gateway.
const (
	HeaderSubject = "X-Strongroom-Subject"
	HeaderClient  = "X-Strongroom-Client"
	HeaderScope   = "X-Strongroom-Scope"
)

// Checker decides a forward-auth request (authz/gateway.Checker).
type Checker interface {
	Check(ctx context.Context, req authzgw.Request) (*authzgw.Decision, error)
}

// Server is the forward-auth listener's handler.
type Server struct {
	checker Checker
	algs    []string
	log     *slog.Logger
	e       *echo.Echo
}

// New builds the handler. algs are the accepted DPoP proof algorithms,
// named in the DPoP challenge of a request without a token.
func New(checker Checker, algs []string, log *slog.Logger) *Server {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	s := &Server{checker: checker, algs: algs, log: log, e: e}
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		code := http.StatusInternalServerError
		var he *echo.HTTPError
		if errors.As(err, &he) {
			code = he.Code
		}
		render.JSON(c.Response(), code, map[string]string{"error": "invalid_request", "error_description": http.StatusText(code)})
	}
	httpmw.Use(e, httpmw.Options{
		Log: log, WithRequestID: authz.WithRequestID, AccessLogMessage: "gateway check", PanicMessage: "panic in gateway check",
		Caller: func(c echo.Context) slog.Attr {
			id, _ := c.Get("strongroom.client_id").(string)
			return slog.String("client_id", id)
		},
	})
	e.Any(PathCheck, s.check)
	e.Any(PathCheck+"/*", s.check)
	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok\n") })
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.e.ServeHTTP(w, r) }

func (s *Server) check(c echo.Context) error {
	r := c.Request()
	w := c.Response()
	req, err := OriginalRequest(r)
	if err != nil {
		render.Error(w, r, s.log, err)
		return nil
	}
	d, err := s.checker.Check(r.Context(), req)
	if err != nil {
		s.refuse(w, r, err)
		return nil
	}
	c.Set("strongroom.client_id", d.Client)
	h := w.Header()
	// set even when empty: a gateway that copies them replaces what the client sent
	h.Set(HeaderSubject, d.Subject)
	h.Set(HeaderClient, d.Client)
	h.Set(HeaderScope, strings.Join(d.Scopes, " "))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	return nil
}

// refuse answers a refusal: a request without a token gets both
// challenges, Bearer and DPoP with the accepted algorithms (RFC 9449
// §7.1); everything else its own (render.Error).
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, err error) {
	var be *authz.BearerError
	if asBearer(err, &be) && be.NoToken {
		w.Header()["Www-Authenticate"] = []string{be.Challenge(), dpop.ResourceChallenge(nil, s.algs)}
		render.JSON(w, be.Status, map[string]string{"error": be.Code, "error_description": be.Description})
		return
	}
	if asBearer(err, &be) && be.DPoP && len(be.Algs) == 0 {
		be.Algs = s.algs
	}
	render.Error(w, r, s.log, err)
}

func asBearer(err error, target **authz.BearerError) bool { return errors.As(err, target) }

// badRequest is a gateway request whose original request cannot be read.
func badRequest(desc string) error {
	return &authz.BearerError{Status: http.StatusBadRequest, Code: "invalid_request", Description: desc}
}

// OriginalRequest reads the original request a gateway asks about from
// its check request (see the package documentation for the headers).
func OriginalRequest(r *http.Request) (authzgw.Request, error) {
	out := authzgw.Request{HTTP: r}
	one := func(names ...string) (string, bool, error) {
		for _, n := range names {
			vs := r.Header.Values(n)
			switch {
			case len(vs) == 0:
				continue
			case len(vs) > 1 || strings.Contains(vs[0], ","):
				return "", false, badRequest("The " + n + " header must be sent once with one value.")
			}
			return strings.TrimSpace(vs[0]), true, nil
		}
		return "", false, nil
	}

	method, ok, err := one("X-Forwarded-Method", "X-Original-Method")
	if err != nil {
		return out, err
	}
	if !ok {
		method = r.Method
	}
	if !validMethod(method) {
		return out, badRequest("The original request method is not an HTTP method.")
	}
	out.Method = method

	uri, ok, err := one("X-Forwarded-Uri", "X-Original-Uri")
	if err != nil {
		return out, err
	}
	if ok {
		u, perr := url.ParseRequestURI(uri)
		if perr != nil || u.Opaque != "" {
			return out, badRequest("The original request URI does not parse.")
		}
		out.EscapedPath = u.EscapedPath()
	} else {
		rest, found := strings.CutPrefix(r.URL.EscapedPath(), PathCheck)
		if !found || !strings.HasPrefix(rest, "/") {
			return out, badRequest("The original request URI is missing: send X-Forwarded-Uri or X-Original-URI, or call " + PathCheck + " followed by the original path.")
		}
		out.EscapedPath = rest
	}
	if out.EscapedPath == "" {
		out.EscapedPath = "/"
	}

	host, ok, err := one("X-Forwarded-Host")
	if err != nil {
		return out, err
	}
	if !ok {
		host = r.Host
	}
	if u, perr := url.Parse("http://" + host); host == "" || perr != nil || u.Host != host || u.User != nil || u.Path != "" {
		return out, badRequest("The original request host is not a host name.")
	}
	out.Host = strings.ToLower(host)

	scheme, ok, err := one("X-Forwarded-Proto")
	if err != nil {
		return out, err
	}
	switch {
	case !ok && r.TLS != nil:
		scheme = "https"
	case !ok:
		scheme = "http"
	}
	scheme = strings.ToLower(scheme)
	if scheme != "http" && scheme != "https" {
		return out, badRequest("X-Forwarded-Proto must be http or https.")
	}
	out.Scheme = scheme
	return out, nil
}

// validMethod reports whether m is an HTTP method token (RFC 9110 §9.1).
func validMethod(m string) bool {
	if m == "" || len(m) > 32 {
		return false
	}
	for _, c := range []byte(m) {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}
