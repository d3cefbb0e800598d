package keys

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	josev3 "github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite/token/jwt"

	"github.com/strongroom/strongroom/storage"
)

const testIssuer = "https://auth.example.test"

func idTokenClaims(exp time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"iss": testIssuer,
		"sub": "user-1",
		"aud": []string{"client-1"},
		"iat": time.Now().Add(-time.Minute).Unix(),
		"exp": exp.Unix(),
	}
}

// tokenHeader decodes the JOSE header of a compact JWS without verifying it.
func tokenHeader(t *testing.T, token string) map[string]any {
	t.Helper()
	part, _, _ := strings.Cut(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

// loadedManager returns a manager over the given rows, reloaded.
func loadedManager(t testing.TB, kek []byte, rows ...storage.SigningKey) (*Manager, *fakeStore) {
	t.Helper()
	store := newFakeStore()
	store.set(rows...)
	m := newTestManager(t, store, kek)
	if err := m.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	return m, store
}

func TestSignerVerifiesWithGoOIDC(t *testing.T) {
	ctx := context.Background()
	kek := testKEK(t)
	var rows []storage.SigningKey
	for _, alg := range SupportedAlgorithms() {
		rows = append(rows, testKey(t, kek, alg, storage.KeyStateActive, time.Hour))
	}
	m, _ := loadedManager(t, kek, rows...)
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_, _ = w.Write(m.JWKS())
	}))
	t.Cleanup(jwks.Close)
	keySet := oidc.NewRemoteKeySet(ctx, jwks.URL)

	for _, alg := range SupportedAlgorithms() {
		t.Run("ok/"+alg, func(t *testing.T) {
			s := m.Signer(alg)
			token, sig, err := s.Generate(ctx, idTokenClaims(time.Now().Add(time.Hour)), &jwt.Headers{})
			if err != nil {
				t.Fatal(err)
			}
			h := tokenHeader(t, token)
			wantKID, _ := m.ActiveKID(alg)
			if h["alg"] != alg || h["kid"] != wantKID || h["typ"] != "JWT" {
				t.Errorf("header = %v", h)
			}
			if !strings.HasSuffix(token, "."+sig) {
				t.Error("signature is not the token's third part")
			}

			verifier := oidc.NewVerifier(testIssuer, keySet, &oidc.Config{ClientID: "client-1", SupportedSigningAlgs: []string{alg}})
			idt, err := verifier.Verify(ctx, token)
			if err != nil {
				t.Fatalf("go-oidc: %v", err)
			}
			if idt.Subject != "user-1" {
				t.Errorf("sub = %q", idt.Subject)
			}

			got, err := s.Validate(ctx, token)
			if err != nil || got != sig {
				t.Fatalf("Validate = %q, %v", got, err)
			}
			decoded, err := s.Decode(ctx, token)
			if err != nil || !decoded.Valid() || decoded.Claims["sub"] != "user-1" {
				t.Fatalf("Decode = %+v, %v", decoded, err)
			}
		})
	}
}

func TestSignerKeySelection(t *testing.T) {
	ctx := context.Background()
	kek := testKEK(t)
	rs := testKey(t, kek, RS256, storage.KeyStateActive, time.Hour)
	es := testKey(t, kek, ES256, storage.KeyStateActive, time.Hour)
	esOld := testKey(t, kek, ES256, storage.KeyStateRetired, 48*time.Hour)
	esNext := testKey(t, kek, ES256, storage.KeyStateNext, time.Minute)
	m, _ := loadedManager(t, kek, rs, es, esOld, esNext)

	tests := map[string]struct {
		defaultAlg string
		header     map[string]any
		wantKID    string
		wantTyp    string
		wantErr    error
	}{
		"ok/default-alg":                  {defaultAlg: RS256, wantKID: rs.KID},
		"ok/default-alg-es256":            {defaultAlg: ES256, wantKID: es.KID},
		"ok/alg-hint":                     {defaultAlg: RS256, header: map[string]any{"alg": ES256}, wantKID: es.KID},
		"ok/kid-hint":                     {defaultAlg: RS256, header: map[string]any{"kid": es.KID}, wantKID: es.KID},
		"ok/kid-and-alg-hint-agree":       {defaultAlg: RS256, header: map[string]any{"kid": es.KID, "alg": ES256}, wantKID: es.KID},
		"ok/kid-hint-disagrees-with-alg":  {defaultAlg: ES256, header: map[string]any{"kid": es.KID, "alg": RS256}, wantKID: rs.KID},
		"ok/retired-kid-hint-ignored":     {defaultAlg: RS256, header: map[string]any{"kid": esOld.KID}, wantKID: rs.KID},
		"ok/next-kid-hint-ignored":        {defaultAlg: RS256, header: map[string]any{"kid": esNext.KID}, wantKID: rs.KID},
		"ok/retired-kid-with-alg-hint":    {defaultAlg: RS256, header: map[string]any{"kid": esOld.KID, "alg": ES256}, wantKID: es.KID},
		"ok/unknown-kid-hint-ignored":     {defaultAlg: ES256, header: map[string]any{"kid": "nope"}, wantKID: es.KID},
		"ok/typ-at+jwt":                   {defaultAlg: RS256, header: map[string]any{"typ": "at+jwt"}, wantKID: rs.KID, wantTyp: "at+jwt"},
		"fail/alg-hint-without-key":       {defaultAlg: RS256, header: map[string]any{"alg": EdDSA}, wantErr: ErrNoActiveKey},
		"fail/default-alg-without-key":    {defaultAlg: PS256, wantErr: ErrNoActiveKey},
		"fail/alg-hint-unsupported":       {defaultAlg: RS256, header: map[string]any{"alg": "HS256"}, wantErr: ErrUnsupportedAlg},
		"fail/alg-hint-none":              {defaultAlg: RS256, header: map[string]any{"alg": "none"}, wantErr: ErrUnsupportedAlg},
		"fail/default-alg-empty-no-hints": {defaultAlg: "", wantErr: ErrUnsupportedAlg},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := &jwt.Headers{Extra: tc.header}
			token, _, err := m.Signer(tc.defaultAlg).Generate(ctx, idTokenClaims(time.Now().Add(time.Hour)), h)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := tokenHeader(t, token)
			if got["kid"] != tc.wantKID {
				t.Errorf("kid = %v, want %v", got["kid"], tc.wantKID)
			}
			wantAlg := m.snap.Load().byKID[tc.wantKID].alg
			if got["alg"] != wantAlg {
				t.Errorf("alg = %v, want %v", got["alg"], wantAlg)
			}
			wantTyp := tc.wantTyp
			if wantTyp == "" {
				wantTyp = "JWT"
			}
			if got["typ"] != wantTyp {
				t.Errorf("typ = %v, want %v", got["typ"], wantTyp)
			}
			if _, err := m.Signer(RS256).Validate(ctx, token); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}

	t.Run("ok/header-not-mutated", func(t *testing.T) {
		h := &jwt.Headers{Extra: map[string]any{"alg": ES256, "kid": "stale", "typ": "at+jwt"}}
		if _, _, err := m.Signer(RS256).Generate(ctx, jwt.MapClaims{"sub": "x"}, h); err != nil {
			t.Fatal(err)
		}
		if len(h.Extra) != 3 || h.Extra["kid"] != "stale" {
			t.Errorf("header mapper changed: %v", h.Extra)
		}
	})
	t.Run("fail/nil-header", func(t *testing.T) {
		if _, _, err := m.Signer(RS256).Generate(ctx, jwt.MapClaims{}, nil); err == nil {
			t.Fatal("no error")
		}
	})
	t.Run("fail/nil-claims", func(t *testing.T) {
		if _, _, err := m.Signer(RS256).Generate(ctx, nil, &jwt.Headers{}); err == nil {
			t.Fatal("no error")
		}
	})
	t.Run("fail/no-keys-loaded", func(t *testing.T) {
		empty := newTestManager(t, newFakeStore(), kek)
		if _, _, err := empty.Signer(RS256).Generate(ctx, jwt.MapClaims{}, &jwt.Headers{}); !errors.Is(err, ErrNoActiveKey) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestSignerValidate(t *testing.T) {
	ctx := context.Background()
	kek := testKEK(t)
	rs := testKey(t, kek, RS256, storage.KeyStateActive, time.Hour)
	es := testKey(t, kek, ES256, storage.KeyStateActive, time.Hour)
	m, _ := loadedManager(t, kek, rs, es)
	s := m.Signer(RS256)
	valid := idTokenClaims(time.Now().Add(time.Hour))

	good, _, err := s.Generate(ctx, valid, &jwt.Headers{})
	if err != nil {
		t.Fatal(err)
	}
	expired, _, err := s.Generate(ctx, idTokenClaims(time.Now().Add(-time.Hour)), &jwt.Headers{})
	if err != nil {
		t.Fatal(err)
	}
	notYet := idTokenClaims(time.Now().Add(time.Hour))
	notYet["nbf"] = time.Now().Add(30 * time.Minute).Unix()
	notYetValid, _, err := s.Generate(ctx, notYet, &jwt.Headers{})
	if err != nil {
		t.Fatal(err)
	}

	// A token from another server (same algorithms, other keys).
	other, _ := loadedManager(t, kek, testKey(t, kek, RS256, storage.KeyStateActive, time.Hour))
	foreign, _, err := other.Signer(RS256).Generate(ctx, valid, &jwt.Headers{})
	if err != nil {
		t.Fatal(err)
	}

	// Hand-made tokens: alg none, alg confusion, no kid.
	rsPriv := m.snap.Load().active[RS256].priv
	craft := func(method josev3.SignatureAlgorithm, key any, header map[string]any) string {
		t.Helper()
		tok := jwt.NewWithClaims(method, valid)
		tok.Header = header
		raw, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	algNone := craft(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, map[string]any{"kid": rs.KID})
	psWithRSKey := craft(josev3.PS256, rsPriv, map[string]any{"kid": rs.KID})
	rsClaimingES := craft(josev3.RS256, rsPriv, map[string]any{"kid": es.KID})
	hsWithKID := craft(josev3.HS256, []byte("0123456789abcdef0123456789abcdef"), map[string]any{"kid": rs.KID})
	noKID := craft(josev3.RS256, rsPriv, map[string]any{})
	parts := strings.Split(good, ".")
	badSig := parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))
	otherPayload := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"admin"}`)) + "." + parts[2]

	tests := map[string]struct {
		token     string
		wantFlags uint32
		wantInner error
		// wantToken: Decode returns the parsed token with the error, as
		// fosite's id_token_hint handling expects for expired tokens.
		wantToken bool
	}{
		"ok/valid":             {token: good},
		"fail/expired":         {token: expired, wantFlags: jwt.ValidationErrorExpired, wantToken: true},
		"fail/not-yet-valid":   {token: notYetValid, wantFlags: jwt.ValidationErrorNotValidYet, wantToken: true},
		"fail/unknown-kid":     {token: foreign, wantFlags: jwt.ValidationErrorUnverifiable, wantInner: ErrUnknownKey},
		"fail/no-kid":          {token: noKID, wantFlags: jwt.ValidationErrorUnverifiable, wantInner: ErrUnknownKey},
		"fail/alg-none":        {token: algNone, wantFlags: jwt.ValidationErrorSignatureInvalid, wantInner: ErrAlgMismatch},
		"fail/alg-PS256-on-RS": {token: psWithRSKey, wantFlags: jwt.ValidationErrorSignatureInvalid, wantInner: ErrAlgMismatch},
		"fail/rs-key-es-kid":   {token: rsClaimingES, wantFlags: jwt.ValidationErrorSignatureInvalid, wantInner: ErrAlgMismatch},
		"fail/hs256-confusion": {token: hsWithKID, wantFlags: jwt.ValidationErrorSignatureInvalid, wantInner: ErrAlgMismatch},
		"fail/bad-signature":   {token: badSig, wantFlags: jwt.ValidationErrorSignatureInvalid},
		"fail/swapped-payload": {token: otherPayload, wantFlags: jwt.ValidationErrorSignatureInvalid},
		"fail/malformed":       {token: "not.a.jwt", wantFlags: jwt.ValidationErrorMalformed},
		"fail/two-parts":       {token: parts[0] + "." + parts[1], wantFlags: jwt.ValidationErrorMalformed},
		"fail/empty":           {token: "", wantFlags: jwt.ValidationErrorMalformed},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			sig, err := s.Validate(ctx, tc.token)
			tok, derr := s.Decode(ctx, tc.token)
			if tc.wantFlags == 0 {
				if err != nil || derr != nil || sig != parts[2] || !tok.Valid() {
					t.Fatalf("Validate = %q, %v; Decode err %v", sig, err, derr)
				}
				return
			}
			for _, e := range []error{err, derr} {
				var ve *jwt.ValidationError
				if !errors.As(e, &ve) {
					t.Fatalf("err = %T %v, want *jwt.ValidationError", e, e)
				}
				if !ve.Has(tc.wantFlags) {
					t.Errorf("flags = %b, want %b (%v)", ve.Errors, tc.wantFlags, ve)
				}
				if tc.wantInner != nil && !errors.Is(ve.Inner, tc.wantInner) {
					t.Errorf("inner = %v, want %v", ve.Inner, tc.wantInner)
				}
			}
			if sig != "" {
				t.Errorf("Validate returned signature %q with error", sig)
			}
			if tc.wantToken && (tok == nil || tok.Claims["sub"] != "user-1" || tok.Valid()) {
				t.Errorf("Decode token = %+v", tok)
			}
		})
	}
}

func TestSignerRetiredKey(t *testing.T) {
	ctx := context.Background()
	kek := testKEK(t)
	k1 := testKey(t, kek, ES256, storage.KeyStateActive, 48*time.Hour)
	k2 := testKey(t, kek, ES256, storage.KeyStateNext, time.Hour)
	m, store := loadedManager(t, kek, k1, k2)
	s := m.Signer(ES256)

	old, _, err := s.Generate(ctx, idTokenClaims(time.Now().Add(time.Hour)), &jwt.Headers{})
	if err != nil {
		t.Fatal(err)
	}
	if tokenHeader(t, old)["kid"] != k1.KID {
		t.Fatal("signed with the wrong key before rotation")
	}

	// Rotate: k1 retired, k2 active.
	r1, a2 := cloneKey(k1), cloneKey(k2)
	r1.State, a2.State = storage.KeyStateRetired, storage.KeyStateActive
	store.set(r1, a2)
	if err := m.Reload(ctx); err != nil {
		t.Fatal(err)
	}

	if _, err := s.Validate(ctx, old); err != nil {
		t.Fatalf("token of retired key: %v", err)
	}
	for name, hdr := range map[string]map[string]any{
		"ok/no-hint":          nil,
		"ok/retired-kid-hint": {"kid": k1.KID},
	} {
		t.Run(name, func(t *testing.T) {
			tok, _, err := s.Generate(ctx, idTokenClaims(time.Now().Add(time.Hour)), &jwt.Headers{Extra: hdr})
			if err != nil {
				t.Fatal(err)
			}
			if kid := tokenHeader(t, tok)["kid"]; kid != k2.KID {
				t.Fatalf("signed with %v, want active %s", kid, k2.KID)
			}
		})
	}
	if kid, _ := m.ActiveKID(ES256); kid != k2.KID {
		t.Fatalf("ActiveKID = %s", kid)
	}

	// Removed altogether: its tokens stop validating.
	store.set(a2)
	if err := m.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	var ve *jwt.ValidationError
	if _, err := s.Validate(ctx, old); !errors.As(err, &ve) || !errors.Is(ve.Inner, ErrUnknownKey) {
		t.Fatalf("token of removed key: %v", err)
	}
}

func TestSignerHash(t *testing.T) {
	ctx := context.Background()
	m := newTestManager(t, newFakeStore(), testKEK(t))
	s := m.Signer(RS256)
	def := &jwt.DefaultSigner{}
	for name, in := range map[string][]byte{"ok/empty": nil, "ok/text": []byte("access token")} {
		t.Run(name, func(t *testing.T) {
			got, err := s.Hash(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := def.Hash(ctx, in)
			if string(got) != string(want) {
				t.Errorf("Hash = %x, want %x", got, want)
			}
		})
	}
	if s.GetSigningMethodLength(ctx) != def.GetSigningMethodLength(ctx) {
		t.Error("GetSigningMethodLength differs from DefaultSigner")
	}
	if sig, err := s.GetSignature(ctx, "a.b.c"); err != nil || sig != "c" {
		t.Errorf("GetSignature = %q, %v", sig, err)
	}
	if _, err := s.GetSignature(ctx, "a.b"); err == nil {
		t.Error("GetSignature accepted two parts")
	}
}

func benchmarkSign(b *testing.B, alg string) {
	kek := testKEK(b)
	m, _ := loadedManager(b, kek, testKey(b, kek, alg, storage.KeyStateActive, time.Hour))
	s := m.Signer(alg)
	ctx := context.Background()
	claims := idTokenClaims(time.Now().Add(time.Hour))
	claims["nonce"] = "n-0S6_WzA2Mj"
	claims["auth_time"] = time.Now().Unix()
	claims["at_hash"] = "77QmUPtjPfzWtF2AnpK9RQ"
	header := &jwt.Headers{}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := s.Generate(ctx, claims, header); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignES256 measures Signer.Generate of an ID token with ES256.
func BenchmarkSignES256(b *testing.B) { benchmarkSign(b, ES256) }

// BenchmarkSignRS256 measures Signer.Generate of an ID token with RS256 (2048 bits).
func BenchmarkSignRS256(b *testing.B) { benchmarkSign(b, RS256) }
