package admin

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	authzadmin "github.com/strongroom/strongroom/authz/admin"
)

// ActionAdminRead is the audit action of every admin API read (PCI DSS
// 10.2.1: every access to account and cardholder data is logged).
const ActionAdminRead = "admin.read"

// auditReads records every read (GET) in the audit trail: the
// authenticated actor, the route and what it named (path parameters, query:
// ids and filters, never the content returned), the HTTP status and the
// outcome. The answer is held back until its event is written, so nothing
// is disclosed without a record: a successful read whose event cannot be
// written is answered 503 (500 for another failure) instead. A refused read
// whose event cannot be written is logged and refused as it was.
// Authentication failures are recorded by authenticate (admin.auth).
func (s *Server) auditReads(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			return next(c)
		}
		res := c.Response()
		orig := res.Writer
		held := &heldResponse{header: orig.Header()}
		res.Writer = held
		defer func() {
			if res.Writer == held { // a panic: nothing was sent; let the recoverer's 500 through
				res.Writer = orig
				res.Committed, res.Status, res.Size = false, 0, 0
			}
		}()
		err := next(c)
		if err != nil {
			c.Error(err) // render the problem into the held answer, to know its status
		}
		res.Writer = orig
		status := held.status
		if status == 0 {
			status = http.StatusOK
		}
		if aerr := s.opts.Audit.Record(context.WithoutCancel(r.Context()), s.readEvent(c, status)); aerr != nil {
			if status < http.StatusBadRequest {
				// Nothing of the answer has been sent: drop it and refuse.
				for k := range orig.Header() {
					delete(orig.Header(), k)
				}
				res.Committed, res.Status, res.Size = false, 0, 0
				return fmt.Errorf("record an admin read in the audit trail: %w", aerr)
			}
			s.opts.Log.Warn("cannot record a refused admin read in the audit trail", "err", aerr)
		}
		orig.WriteHeader(status)
		if r.Method != http.MethodHead {
			_, werr := orig.Write(held.body.Bytes())
			return werr
		}
		return nil
	}
}

// readEvent is the audit event of one read: target is the route's path
// parameter (a client id, user id or username), details name the route,
// its parameters and query, and the status.
func (s *Server) readEvent(c echo.Context, status int) authzadmin.AuditEvent {
	a := actor(c)
	name := a.Name
	if name == "" {
		name = "anonymous"
	}
	outcome := authzadmin.OutcomeSuccess
	if status >= http.StatusBadRequest {
		outcome = authzadmin.OutcomeFailure
	}
	d := map[string]string{
		"source": a.Source, "method": c.Request().Method, "route": c.Path(),
		"path": truncate(c.Request().URL.Path, 256), "status": strconv.Itoa(status),
	}
	if q := c.Request().URL.RawQuery; q != "" {
		d["query"] = truncate(q, 512)
	}
	target := ""
	for i, n := range c.ParamNames() {
		v := truncate(c.ParamValues()[i], 256)
		d["param."+n] = v
		if target == "" {
			target = v
		}
	}
	return authzadmin.AuditEvent{
		Time: s.opts.Now().UTC(), Actor: name, Action: ActionAdminRead, Target: target, Outcome: outcome,
		SourceIP: a.IP, UserAgent: a.UserAgent, Details: d,
	}
}

// heldResponse holds an answer (status and body; headers go to the real
// writer's map, which is not sent before WriteHeader) until it may be sent.
type heldResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (h *heldResponse) Header() http.Header { return h.header }

func (h *heldResponse) WriteHeader(status int) {
	if h.status == 0 {
		h.status = status
	}
}

func (h *heldResponse) Write(b []byte) (int, error) {
	if h.status == 0 {
		h.status = http.StatusOK
	}
	return h.body.Write(b)
}
