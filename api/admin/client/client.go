package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/strongroom/strongroom/api/admin"
	authzadmin "github.com/strongroom/strongroom/authz/admin"
	"github.com/strongroom/strongroom/authz/registration"
)

// maxAnswerBytes caps the answers read (an export of many clients).
const maxAnswerBytes = 32 << 20

// Client calls one admin API with one bearer token, one domain at a time:
// Clients (with the audit trail), Users (with their grants and sessions),
// Keys and AuthorizationTypes.
type Client struct {
	Clients            *Clients
	Users              *Users
	Keys               *Keys
	AuthorizationTypes *AuthorizationTypes
}

// AuthorizationTypes are the RFC 9396 authorization details types routes.
type AuthorizationTypes struct{ t *transport }

// Clients are the client registration and audit routes.
type Clients struct{ t *transport }

// Users are the end-user routes, with each user's grants and sessions.
type Users struct{ t *transport }

// Keys are the signing-key routes.
type Keys struct{ t *transport }

// transport sends requests to one admin API with one bearer token.
type transport struct {
	base  string
	token string
	http  *http.Client
}

// New returns a client of the admin API at endpoint (scheme and host, e.g.
// https://auth.internal:8081) authenticating with token, an access token
// with the strongroom:admin scope, or "" when httpClient presents a client
// certificate to an mTLS admin listener. httpClient may be nil (a default with a
// 60 s timeout).
func New(endpoint, token string, httpClient *http.Client) *Client {
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 60 * time.Second}
	}
	t := &transport{base: strings.TrimRight(endpoint, "/"), token: token, http: httpClient}
	return &Client{Clients: &Clients{t}, Users: &Users{t}, Keys: &Keys{t}, AuthorizationTypes: &AuthorizationTypes{t}}
}

// ProblemError is a problem document from the admin API that no more
// specific error describes; its message is the detail, and its type lets a
// caller tell one refusal from another. A 409 matches
// authzadmin.ErrConflict and a 503 authzadmin.ErrUnavailable.
type ProblemError struct{ Problem admin.Problem }

func (e *ProblemError) Error() string { return e.Problem.Detail }

// Is maps the answer's status to the services' error kinds.
func (e *ProblemError) Is(target error) bool {
	switch e.Problem.Status {
	case http.StatusConflict:
		return target == authzadmin.ErrConflict
	case http.StatusServiceUnavailable:
		return target == authzadmin.ErrUnavailable
	}
	return false
}

// NotFoundError is a 404 from the admin API; it matches
// authzadmin.ErrNotFound.
type NotFoundError struct{ Detail string }

func (e *NotFoundError) Error() string { return e.Detail }

// Unwrap makes errors.Is(err, authzadmin.ErrNotFound) hold.
func (e *NotFoundError) Unwrap() error { return authzadmin.ErrNotFound }

// sentinelError is an admin API refusal that matches a local error
// (errors.Is), so that callers answer alike in both modes.
type sentinelError struct {
	msg string
	err error
}

func (e *sentinelError) Error() string { return e.msg }
func (e *sentinelError) Unwrap() error { return e.err }

// call sends one request and decodes the JSON answer into out; a problem
// document becomes an error like the local services'. body is JSON-encoded
// unless it is already a []byte.
func (c *transport) call(ctx context.Context, method, path string, query url.Values, body any, out any) error {
	var rd io.Reader
	if body != nil {
		data, ok := body.([]byte)
		if !ok {
			var err error
			if data, err = json.Marshal(body); err != nil {
				return fmt.Errorf("encode request: %w", err)
			}
		}
		rd = bytes.NewReader(data)
	}
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return fmt.Errorf("admin API request: %w", err)
	}
	if c.token != "" { // else the TLS client certificate authenticates
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach the admin API: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if err != nil {
		return fmt.Errorf("read admin API answer: %w", err)
	}
	if resp.StatusCode >= 400 {
		return problemError(resp, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("decode admin API answer: %w", err)
		}
	}
	return nil
}

// problemError turns an error answer into an error.
func problemError(resp *http.Response, data []byte) error {
	var p admin.Problem
	if json.Unmarshal(data, &p) != nil || p.Status == 0 {
		return fmt.Errorf("admin API answered %s", resp.Status)
	}
	switch {
	case len(p.Errors) > 0:
		return &registration.ValidationError{Problems: p.Errors}
	case resp.StatusCode == http.StatusNotFound:
		return &NotFoundError{Detail: p.Detail}
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("admin API refused the token (%d %s): %s", p.Status, p.Title, p.Detail)
	case p.Detail != "":
		return &ProblemError{Problem: p}
	}
	return fmt.Errorf("admin API: %d %s", p.Status, p.Title)
}

// notFoundAs maps a 404 that is not about the user (callers name the user
// first) to sentinel.
func notFoundAs(err, sentinel error) error {
	var nf *NotFoundError
	if errors.As(err, &nf) && !isUserNotFound(nf.Detail) {
		return &sentinelError{msg: nf.Detail, err: sentinel}
	}
	return err
}

// isUserNotFound recognises the admin API's unknown-user detail
// (authzadmin.NotFoundError: `user "x" not found`).
func isUserNotFound(detail string) bool {
	return strings.HasPrefix(detail, "user ") && strings.HasSuffix(detail, " not found")
}
