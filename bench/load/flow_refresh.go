package load

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// RefreshPool rotates refresh tokens: each Op call takes a token from the
// pool, exchanges it (grant_type=refresh_token) and puts the new one back.
// Rotation makes the old token invalid (presenting it again would revoke
// the whole family), so a token is only ever held by one call at a time; a
// token whose rotation failed is dropped, and the Op reports the pool empty
// once every token is gone.
type RefreshPool struct {
	base, id, secret string
	tokens           chan string
}

// NewRefreshPool returns a pool of tokens issued to the client id/secret by
// the server at base.
func NewRefreshPool(base, id, secret string, tokens []string) (*RefreshPool, error) {
	if len(tokens) == 0 {
		return nil, errors.New("refresh pool: no tokens")
	}
	p := &RefreshPool{base: strings.TrimRight(base, "/"), id: id, secret: secret, tokens: make(chan string, len(tokens))}
	for _, t := range tokens {
		if t == "" {
			return nil, errors.New("refresh pool: an empty token")
		}
		p.tokens <- t
	}
	return p, nil
}

// Len is how many tokens the pool holds now.
func (p *RefreshPool) Len() int { return len(p.tokens) }

// ErrPoolEmpty is returned by the refresh Op when every token was lost.
var ErrPoolEmpty = errors.New("refresh pool: no token left")

// Op returns the rotation as a load Op.
func (p *RefreshPool) Op() Op {
	return func(ctx context.Context, hc *http.Client) error {
		var rt string
		select {
		case rt = <-p.tokens:
		default:
			return ErrPoolEmpty
		}
		tok, err := postToken(ctx, hc, p.base, p.id, p.secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
		if err != nil {
			return fmt.Errorf("refresh: %w", err)
		}
		if tok.RefreshToken == "" || tok.RefreshToken == rt {
			return errors.New("refresh: no new refresh token")
		}
		p.tokens <- tok.RefreshToken
		return nil
	}
}
