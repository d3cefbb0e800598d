package admin

import (
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"
)

// authorizationTypeRoutes are the RFC 9396 authorization details types.
type authorizationTypeRoutes struct{ *Server }

// AuthorizationTypeBody is the body of POST /authorization-types: the type
// name and its JSON Schema (a JSON object).
type AuthorizationTypeBody struct {
	Type   string          `json:"type"`
	Schema json.RawMessage `json:"schema"`
}

func (s authorizationTypeRoutes) listTypes(c echo.Context) error {
	return answer(c, http.StatusOK)(s.opts.AuthorizationTypes.List(c.Request().Context()))
}

func (s authorizationTypeRoutes) getType(c echo.Context) error {
	return answer(c, http.StatusOK)(s.opts.AuthorizationTypes.Get(c.Request().Context(), c.Param("type")))
}

func (s authorizationTypeRoutes) addType(c echo.Context) error {
	var body AuthorizationTypeBody
	if err := decodeBody(c, &body); err != nil {
		return err
	}
	ctx := c.Request().Context()
	if err := s.opts.AuthorizationTypes.Add(ctx, actor(c), body.Type, body.Schema); err != nil {
		return err
	}
	return answer(c, http.StatusCreated)(s.opts.AuthorizationTypes.Get(ctx, body.Type))
}

func (s authorizationTypeRoutes) removeType(c echo.Context) error {
	if err := s.opts.AuthorizationTypes.Remove(c.Request().Context(), actor(c), c.Param("type")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
