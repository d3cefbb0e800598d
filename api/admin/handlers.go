package admin

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	authzadmin "github.com/strongroom/strongroom/authz/admin"
	"github.com/strongroom/strongroom/authz/audit"
	"github.com/strongroom/strongroom/authz/registration"
)

// answer returns what renders a service's result with status, or hands its
// error to the error handler: return answer(c, http.StatusOK)(svc.Get(ctx, id)).
func answer(c echo.Context, status int) func(v any, err error) error {
	return func(v any, err error) error {
		if err != nil {
			return err
		}
		return render(c, status, v)
	}
}

// The handlers of each domain, over the server's options: clients and their
// secrets, users with their grants and sessions, signing keys.
type (
	clientRoutes struct{ *Server }
	userRoutes   struct{ *Server }
	keyRoutes    struct{ *Server }
)

// createdClient is the answer to a create: the client and, for a client
// that authenticates with a secret, the secret (shown this once).
type createdClient struct {
	Client registration.ClientInfo  `json:"client"`
	Secret *authzadmin.IssuedSecret `json:"secret,omitempty"`
}

func (s clientRoutes) listClients(c echo.Context) error {
	return answer(c, http.StatusOK)(s.opts.Clients.List(c.Request().Context()))
}

func (s clientRoutes) createClient(c echo.Context) error {
	var spec registration.ClientSpec
	if err := decodeBody(c, &spec); err != nil {
		return err
	}
	var opts authzadmin.CreateOptions
	if v := c.QueryParam("secret_expires_in"); v != "" {
		d, err := parseDuration("secret_expires_in", v)
		if err != nil {
			return err
		}
		opts.SecretExpiresIn = d
	}
	info, secret, err := s.opts.Clients.Create(c.Request().Context(), actor(c), spec, opts)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, Prefix+RouteClients+"/"+info.ClientID)
	return render(c, http.StatusCreated, createdClient{Client: *info, Secret: secret})
}

func (s clientRoutes) getClient(c echo.Context) error {
	return answer(c, http.StatusOK)(s.opts.Clients.Get(c.Request().Context(), c.Param("id")))
}

func (s clientRoutes) updateClient(c echo.Context) error {
	patch, err := readBody(c)
	if err != nil {
		return err
	}
	return answer(c, http.StatusOK)(s.opts.Clients.Update(c.Request().Context(), actor(c), c.Param("id"), patch))
}

func (s clientRoutes) deleteClient(c echo.Context) error {
	if err := s.opts.Clients.Delete(c.Request().Context(), actor(c), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s clientRoutes) disableClient(c echo.Context) error { return s.setDisabled(c, true) }
func (s clientRoutes) enableClient(c echo.Context) error  { return s.setDisabled(c, false) }

func (s clientRoutes) setDisabled(c echo.Context, disabled bool) error {
	return answer(c, http.StatusOK)(s.opts.Clients.SetDisabled(c.Request().Context(), actor(c), c.Param("id"), disabled))
}

// RotateRequest is the body of a secret rotation: Go durations ("24h", "90m").
type RotateRequest struct {
	Grace     string `json:"grace"`
	ExpiresIn string `json:"expires_in,omitempty"`
}

func (s clientRoutes) rotateSecret(c echo.Context) error {
	var req RotateRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	var opts authzadmin.RotateOptions
	var err error
	if opts.Grace, err = parseDuration("grace", req.Grace); err != nil {
		return err
	}
	if req.ExpiresIn != "" {
		if opts.ExpiresIn, err = parseDuration("expires_in", req.ExpiresIn); err != nil {
			return err
		}
	}
	return answer(c, http.StatusCreated)(s.opts.Clients.RotateSecret(c.Request().Context(), actor(c), c.Param("id"), opts))
}

func (s clientRoutes) revokeSecret(c echo.Context) error {
	return answer(c, http.StatusOK)(s.opts.Clients.RevokeSecret(c.Request().Context(), actor(c), c.Param("id"), c.Param("secret_id")))
}

// importResult is the answer to an import.
type importResult struct {
	Imported []authzadmin.ImportResult `json:"imported"`
}

func (s clientRoutes) importClients(c echo.Context) error {
	data, err := readBody(c)
	if err != nil {
		return err
	}
	specs, err := registration.DecodeClientSpecs(data)
	if err != nil {
		return &badRequest{msg: "The import is not a client or a list of clients: " + err.Error()}
	}
	res, err := s.opts.Clients.Import(c.Request().Context(), actor(c), specs, nil)
	if err != nil {
		return err
	}
	return render(c, http.StatusCreated, importResult{Imported: res})
}

func (s clientRoutes) exportClients(c echo.Context) error {
	specs, err := s.opts.Clients.Export(c.Request().Context(), c.QueryParams()["id"])
	if err != nil {
		return err
	}
	if specs == nil {
		specs = []registration.ClientSpec{}
	}
	return render(c, http.StatusOK, specs)
}

func (s userRoutes) listUsers(c echo.Context) error {
	return answer(c, http.StatusOK)(s.opts.Users.List(c.Request().Context()))
}

func (s userRoutes) createUser(c echo.Context) error {
	var spec authzadmin.UserSpec
	if err := decodeBody(c, &spec); err != nil {
		return err
	}
	u, err := s.opts.Users.Create(c.Request().Context(), actor(c), spec)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, Prefix+RouteUsers+"/"+u.ID)
	return render(c, http.StatusCreated, u)
}

func (s userRoutes) getUser(c echo.Context) error {
	return answer(c, http.StatusOK)(s.opts.Users.Get(c.Request().Context(), c.Param("ref")))
}

func (s userRoutes) updateUser(c echo.Context) error {
	var upd authzadmin.UserUpdate
	if err := decodeBody(c, &upd); err != nil {
		return err
	}
	return answer(c, http.StatusOK)(s.opts.Users.Update(c.Request().Context(), actor(c), c.Param("ref"), upd))
}

func (s userRoutes) deleteUser(c echo.Context) error {
	if err := s.opts.Users.Delete(c.Request().Context(), actor(c), c.Param("ref")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) listAudit(c echo.Context) error {
	f := authzadmin.AuditFilter{Action: c.QueryParam("action"), Actor: c.QueryParam("actor"), Target: c.QueryParam("target"),
		Outcome: c.QueryParam("outcome"), Client: c.QueryParam("client"), Subject: c.QueryParam("subject")}
	if f.Outcome != "" && f.Outcome != authzadmin.OutcomeSuccess && f.Outcome != authzadmin.OutcomeFailure {
		return &badRequest{msg: "outcome must be success or failure."}
	}
	for name, dst := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
		if v := c.QueryParam(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return &badRequest{msg: name + " must be an RFC 3339 time, e.g. 2026-01-02T15:04:05Z."}
			}
			*dst = t
		}
	}
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > authzadmin.MaxAuditLimit {
			return &badRequest{msg: fmt.Sprintf("limit must be a number from 1 to %d.", authzadmin.MaxAuditLimit)}
		}
		f.Limit = n
	}
	return answer(c, http.StatusOK)(s.opts.Audit.List(c.Request().Context(), f))
}

// auditVerification is the answer of GET /audit/verify: the report of
// `strongroom audit verify`, with intact false and the problem when the
// trail is broken (still 200: the check itself succeeded).
type auditVerification struct {
	Intact bool `json:"intact"`
	audit.Report
}

func (s *Server) verifyAudit(c echo.Context) error {
	rep, err := s.opts.AuditTrail.Verify(c.Request().Context(), audit.VerifyOptions{})
	if err != nil {
		return fmt.Errorf("verify the audit trail: %w", err)
	}
	return c.JSON(http.StatusOK, auditVerification{Intact: rep.Problem == nil, Report: rep})
}

func parseDuration(name, v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, &badRequest{msg: fmt.Sprintf("%s must be a duration such as 24h or 90m.", name)}
	}
	return d, nil
}
