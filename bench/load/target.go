package load

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
)

// Client is one registered OAuth 2.0 client of a Target.
type Client struct {
	// ID and Secret authenticate with client_secret_basic.
	ID     string `json:"id"`
	Secret string `json:"secret"`
	// Params is added to its client_credentials token request,
	// form-encoded (e.g. "scope=payments" or "resource=urn:api").
	Params string `json:"params,omitempty"`
}

// Target is the server under test: an issuer (endpoints from its discovery
// document) and the clients the scenarios use.
type Target struct {
	// Name labels its results (e.g. "strongroom", "node-oidc").
	Name string `json:"name"`
	// Issuer is the issuer URL; discovery is fetched from it.
	Issuer string `json:"issuer"`
	// Opaque gets opaque access tokens and may introspect them.
	Opaque Client `json:"opaque"`
	// JWT gets JWT access tokens and may introspect them; empty: the JWT
	// scenarios are skipped.
	JWT Client `json:"jwt"`

	// Endpoints, filled by Discover.
	DiscoveryURL  string `json:"-"`
	TokenURL      string `json:"-"`
	IntrospectURL string `json:"-"`
	JWKSURL       string `json:"-"`
}

// LoadTarget reads a Target from a JSON file.
func LoadTarget(path string) (*Target, error) {
	b, err := os.ReadFile(path) // #nosec G304 -- the operator names the file
	if err != nil {
		return nil, fmt.Errorf("read target config: %w", err)
	}
	var t Target
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("parse target config %s: %w", path, err)
	}
	return &t, nil
}

// Discover fills the target's endpoints from its discovery document
// (OpenID Connect, else RFC 8414).
func (t *Target) Discover(ctx context.Context, hc *http.Client) error {
	iss := strings.TrimRight(t.Issuer, "/")
	var lastErr error
	for _, p := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		u := iss + p
		var doc struct {
			Token      string `json:"token_endpoint"`
			Introspect string `json:"introspection_endpoint"`
			JWKS       string `json:"jwks_uri"`
		}
		if err := getJSON(ctx, hc, u, &doc); err != nil {
			lastErr = err
			continue
		}
		if doc.Token == "" {
			lastErr = fmt.Errorf("discovery %s: no token_endpoint", u)
			continue
		}
		t.DiscoveryURL, t.TokenURL, t.IntrospectURL, t.JWKSURL = u, doc.Token, doc.Introspect, doc.JWKS
		return nil
	}
	return fmt.Errorf("discover %s: %w", iss, lastErr)
}

func getJSON(ctx context.Context, hc *http.Client, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", u, resp.StatusCode)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(v); err != nil {
		return fmt.Errorf("GET %s: decode: %w", u, err)
	}
	return nil
}

// basicAuth is the Authorization header value of client_secret_basic
// (RFC 6749 §2.3.1: id and secret form-encoded first).
func basicAuth(c Client) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(c.ID)+":"+url.QueryEscape(c.Secret)))
}

// post is a prepared POST: URL parsed and headers built once; each call
// allocates only the request and its body reader. Response bodies are read
// into pooled buffers.
type post struct {
	u      *url.URL
	header http.Header
	bufs   *sync.Pool
}

func newPost(rawURL string, auth string) (*post, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("parse %q: %w", rawURL, err)
	}
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Accept": {"application/json"}}
	if auth != "" {
		h.Set("Authorization", auth)
	}
	return &post{u: u, header: h, bufs: &sync.Pool{New: func() any { return new(bytes.Buffer) }}}, nil
}

// do sends body (with header h, or the prepared one when nil) and returns
// the status and the response body in a pooled buffer the caller returns
// with p.putBuf.
func (p *post) do(ctx context.Context, hc *http.Client, h http.Header, body []byte) (int, *bytes.Buffer, error) {
	status, buf, _, err := p.doNonce(ctx, hc, h, body)
	return status, buf, err
}

// doNonce is do that also returns the answer's DPoP-Nonce header.
func (p *post) doNonce(ctx context.Context, hc *http.Client, h http.Header, body []byte) (int, *bytes.Buffer, string, error) {
	if h == nil {
		h = p.header
	}
	req := (&http.Request{
		Method:        http.MethodPost,
		URL:           p.u,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Host:          p.u.Host,
	}).WithContext(ctx)
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, "", err
	}
	buf := p.bufs.Get().(*bytes.Buffer)
	buf.Reset()
	_, err = buf.ReadFrom(io.LimitReader(resp.Body, 1<<20))
	drain(resp)
	if err != nil {
		p.putBuf(buf)
		return 0, nil, "", fmt.Errorf("read response: %w", err)
	}
	return resp.StatusCode, buf, resp.Header.Get("DPoP-Nonce"), nil
}

func (p *post) putBuf(b *bytes.Buffer) {
	if b.Cap() <= 64<<10 {
		p.bufs.Put(b)
	}
}

// snippet is the start of a response body for an error message, with
// anything token-like cut: errors must not carry tokens.
func snippet(b []byte) string {
	if i := bytes.Index(b, []byte(`"access_token"`)); i >= 0 {
		b = b[:i]
	}
	if len(b) > 160 {
		b = b[:160]
	}
	return string(b)
}

var (
	accessTokenKey = []byte(`"access_token"`)
	activeKey      = []byte(`"active"`)
)

// jsonBoolTrue reports whether body holds key followed by the JSON value true.
func jsonBoolTrue(body, key []byte) bool {
	i := bytes.Index(body, key)
	if i < 0 {
		return false
	}
	rest := bytes.TrimLeft(body[i+len(key):], " \t\r\n")
	if len(rest) == 0 || rest[0] != ':' {
		return false
	}
	rest = bytes.TrimLeft(rest[1:], " \t\r\n")
	return bytes.HasPrefix(rest, []byte("true"))
}

// ErrSkip is returned by a scenario constructor when the target lacks what
// the scenario needs (e.g. no JWT client): the scenario is not run.
var ErrSkip = errors.New("scenario not available on this target")
