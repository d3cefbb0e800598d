package admin

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	authzadmin "github.com/strongroom/strongroom/authz/admin"
	"github.com/strongroom/strongroom/authz/registration"
)

// userImportResult is the answer of a successful user import.
type userImportResult struct {
	Results []authzadmin.UserImportResult `json:"results"`
}

// boolQuery reads an optional boolean query parameter (absent: false).
func boolQuery(c echo.Context, name string) (bool, error) {
	v := c.QueryParam(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, &badRequest{msg: name + " must be true or false."}
	}
	return b, nil
}

// importUsers adds users with their password hashes (the records `users
// export` writes), all or nothing: any failed record answers 400 with one
// error per failed record and nothing written.
func (s userRoutes) importUsers(c echo.Context) error {
	skip, err := boolQuery(c, "skip_existing")
	if err != nil {
		return err
	}
	var recs []authzadmin.UserRecord
	if err := decodeBody(c, &recs); err != nil {
		return err
	}
	if len(recs) == 0 {
		return &badRequest{msg: "The import holds no users."}
	}
	res, err := s.opts.Users.Import(c.Request().Context(), actor(c), recs, skip)
	if errors.Is(err, authzadmin.ErrUserImportFailed) {
		var problems []string
		for i, r := range res {
			if r.Status == "failed" {
				problems = append(problems, "user "+strconv.Itoa(i+1)+" ("+strconv.Quote(r.Username)+"): "+r.Error)
			}
		}
		return &registration.ValidationError{Problems: problems}
	}
	if err != nil {
		return err
	}
	return render(c, http.StatusCreated, userImportResult{Results: res})
}

// exportUsers answers every user as `users export` writes them; password
// hashes only with with_password_hashes=true.
func (s userRoutes) exportUsers(c echo.Context) error {
	withHashes, err := boolQuery(c, "with_password_hashes")
	if err != nil {
		return err
	}
	recs, err := s.opts.Users.Export(c.Request().Context(), withHashes)
	if err != nil {
		return err
	}
	if recs == nil {
		recs = []authzadmin.UserRecord{}
	}
	return render(c, http.StatusOK, recs)
}
