package load

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
)

func ccBody(c Client) []byte {
	v := "grant_type=client_credentials"
	if c.Params != "" {
		v += "&" + c.Params
	}
	return []byte(v)
}

// ClientCredentials is one client_credentials token request by c
// (client_secret_basic); it expects 200 and an access_token.
func ClientCredentials(t *Target, c Client) (Op, error) {
	if c.ID == "" {
		return nil, ErrSkip
	}
	p, err := newPost(t.TokenURL, basicAuth(c))
	if err != nil {
		return nil, err
	}
	body := ccBody(c)
	return func(ctx context.Context, hc *http.Client) error {
		status, buf, err := p.do(ctx, hc, nil, body)
		if err != nil {
			return err
		}
		defer p.putBuf(buf)
		if status != http.StatusOK || !bytes.Contains(buf.Bytes(), accessTokenKey) {
			return fmt.Errorf("token: status %d: %s", status, snippet(buf.Bytes()))
		}
		return nil
	}, nil
}

// MintTokens gets n access tokens for c with client_credentials, from
// `workers` connections at once.
func MintTokens(ctx context.Context, t *Target, c Client, n, workers int) ([]string, error) {
	p, err := newPost(t.TokenURL, basicAuth(c))
	if err != nil {
		return nil, err
	}
	body := ccBody(c)
	toks := make([]string, n)
	var next atomic.Int64
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hc := NewClient(0)
			defer hc.CloseIdleConnections()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				tok, err := mintOne(ctx, hc, p, body)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				toks[i] = tok
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, fmt.Errorf("mint %d tokens for %s: %w", n, c.ID, firstErr)
	}
	return toks, nil
}

func mintOne(ctx context.Context, hc *http.Client, p *post, body []byte) (string, error) {
	status, buf, err := p.do(ctx, hc, nil, body)
	if err != nil {
		return "", err
	}
	defer p.putBuf(buf)
	if status != http.StatusOK {
		return "", fmt.Errorf("token: status %d: %s", status, snippet(buf.Bytes()))
	}
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(buf.Bytes(), &tr); err != nil || tr.AccessToken == "" {
		return "", fmt.Errorf("token: no access_token in the answer")
	}
	return tr.AccessToken, nil
}

// Introspection introspects, round robin, one of pool tokens pre-minted for
// c (so no cache sees one token again and again), authenticating as c; it
// expects 200 and "active": true.
func Introspection(ctx context.Context, t *Target, c Client, pool int) (Op, error) {
	if c.ID == "" || t.IntrospectURL == "" {
		return nil, ErrSkip
	}
	toks, err := MintTokens(ctx, t, c, pool, 8)
	if err != nil {
		return nil, err
	}
	p, err := newPost(t.IntrospectURL, basicAuth(c))
	if err != nil {
		return nil, err
	}
	bodies := make([][]byte, len(toks))
	for i, tok := range toks {
		bodies[i] = []byte("token=" + url.QueryEscape(tok) + "&token_type_hint=access_token")
	}
	var next atomic.Uint64
	return func(ctx context.Context, hc *http.Client) error {
		body := bodies[next.Add(1)%uint64(len(bodies))]
		status, buf, err := p.do(ctx, hc, nil, body)
		if err != nil {
			return err
		}
		defer p.putBuf(buf)
		if status != http.StatusOK || !jsonBoolTrue(buf.Bytes(), activeKey) {
			return fmt.Errorf("introspect: status %d: %s", status, snippet(buf.Bytes()))
		}
		return nil
	}, nil
}

// Get is one GET of rawURL expecting 200 (JWKS, discovery).
func Get(rawURL string) (Op, error) {
	if rawURL == "" {
		return nil, ErrSkip
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("parse %q: %w", rawURL, err)
	}
	h := http.Header{"Accept": {"application/json"}}
	return func(ctx context.Context, hc *http.Client) error {
		req := (&http.Request{Method: http.MethodGet, URL: u, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: h, Host: u.Host}).WithContext(ctx)
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		drain(resp)
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: status %d", u.Path, resp.StatusCode)
		}
		return nil
	}, nil
}
