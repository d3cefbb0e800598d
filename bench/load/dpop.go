package load

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// DPoPClientCredentials is a client_credentials token request by c carrying
// a fresh DPoP proof (RFC 9449: ES256, unique jti, htm/htu/iat) each time;
// it expects 200, an access_token and token_type DPoP. Signing the proof
// costs the driver one ES256 signature per request, on the same CPUs as the
// server. A server nonce (use_dpop_nonce) is learnt and the request retried
// once.
func DPoPClientCredentials(t *Target, c Client) (Op, error) {
	if c.ID == "" {
		return nil, ErrSkip
	}
	p, err := newPost(t.TokenURL, basicAuth(c))
	if err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("dpop key: %w", err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
	if err != nil {
		return nil, fmt.Errorf("dpop signer: %w", err)
	}
	body := ccBody(c)
	htu := strconv.Quote(t.TokenURL)
	var nonce atomic.Pointer[string]
	proof := func() (string, error) {
		var jti [12]byte
		if _, err := rand.Read(jti[:]); err != nil {
			return "", fmt.Errorf("dpop jti: %w", err)
		}
		claims := make([]byte, 0, 160)
		claims = append(claims, `{"jti":"`...)
		claims = base64.RawURLEncoding.AppendEncode(claims, jti[:])
		claims = append(claims, `","htm":"POST","htu":`...)
		claims = append(claims, htu...)
		claims = append(claims, `,"iat":`...)
		claims = strconv.AppendInt(claims, time.Now().Unix(), 10)
		if n := nonce.Load(); n != nil {
			claims = append(claims, `,"nonce":`...)
			claims = append(claims, strconv.Quote(*n)...)
		}
		claims = append(claims, '}')
		jws, err := signer.Sign(claims)
		if err != nil {
			return "", fmt.Errorf("dpop sign: %w", err)
		}
		return jws.CompactSerialize()
	}
	return func(ctx context.Context, hc *http.Client) error {
		for attempt := 0; ; attempt++ {
			jwt, err := proof()
			if err != nil {
				return err
			}
			h := make(http.Header, len(p.header)+1)
			for k, v := range p.header {
				h[k] = v
			}
			h["Dpop"] = []string{jwt}
			status, buf, respNonce, err := p.doNonce(ctx, hc, h, body)
			if err != nil {
				return err
			}
			b := buf.Bytes()
			if status == http.StatusOK && bytes.Contains(b, accessTokenKey) && bytes.Contains(b, []byte(`"DPoP"`)) {
				p.putBuf(buf)
				return nil
			}
			if respNonce != "" && attempt == 0 && bytes.Contains(b, []byte("use_dpop_nonce")) {
				nonce.Store(&respNonce)
				p.putBuf(buf)
				continue
			}
			err = fmt.Errorf("dpop token: status %d: %s", status, snippet(b))
			p.putBuf(buf)
			return err
		}
	}, nil
}
