package fositestore

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/token/jwt"

	"github.com/strongroom/strongroom/authz"
	"github.com/strongroom/strongroom/storage"
	"github.com/strongroom/strongroom/storage/pgtest"
)

// The fosite-level conformance suite of Store: what fosite's handlers
// rely on from their storage, checked through the adapter against every
// storage backend, with commit and rollback cases (as Hydra's
// oauth2/fosite_store_helpers_test.go does).

// fositeHarness is one case's view of a backend with the adapter on top.
// Cases may share a backend (one PostgreSQL database serves every case):
// each names its clients, grants, signatures and jtis with id, which
// appends a suffix of its own.
type fositeHarness struct {
	store  storage.Store
	suffix string
	cache  *authz.ClientCache
	// fs has no refresh grace: an inactive refresh token is reported as
	// such at once. Grace tests build their own adapter with withGrace.
	fs     *Store
	client fosite.Client
}

// id makes name unique to the case.
func (h *fositeHarness) id(name string) string { return name + "-" + h.suffix }

func (h *fositeHarness) withGrace(grace time.Duration) *Store {
	return New(h.store, h.cache, nil, grace)
}

func newFositeHarness(t *testing.T, store storage.Store) *fositeHarness {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	h := &fositeHarness{store: store, suffix: hex.EncodeToString(b[:])}
	must(t, store.CreateClient(t.Context(), testClient(h.id("c1"))))
	h.cache = authz.NewClientCache(store, time.Hour, nil)
	h.fs = New(store, h.cache, nil, 0)
	c, err := h.fs.GetClient(t.Context(), h.id("c1"))
	must(t, err)
	h.client = c
	return h
}

type fositeStoreTest struct {
	name string
	run  func(t *testing.T, h *fositeHarness)
}

func TestFositeStore(t *testing.T) {
	// One database serves every PostgreSQL case (they name their rows
	// apart); a database per case would cost more than the cases.
	pg := openPostgres(t, pgtest.NewDatabase(t))
	backends := []struct {
		name string
		open func(t *testing.T) storage.Store
	}{
		{"memory", func(t *testing.T) storage.Store { return newMemoryStore(t) }},
		{"postgres", func(*testing.T) storage.Store { return pg }},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range fositeStoreTests() {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.run(t, newFositeHarness(t, b.open(t)))
				})
			}
		})
	}
}

// Credentials a client sends along with its requests. None of them, nor
// their parameter names, may reach storage.
var sensitiveForm = url.Values{
	"client_secret":    {"SECRET-client-secret"},
	"client_assertion": {"SECRET-client-assertion"},
	"code_verifier":    {"SECRET-code-verifier"},
	"refresh_token":    {"SECRET-refresh-token"},
	"code":             {"SECRET-authorization-code"},
	"password":         {"SECRET-password"},
}

// publicForm are the parameters that must survive storage.
var publicForm = url.Values{
	"response_type":         {"code"},
	"scope":                 {"openid offline_access"},
	"redirect_uri":          {"https://c1.example/cb"},
	"nonce":                 {"nonce-123"},
	"code_challenge":        {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"},
	"code_challenge_method": {"S256"},
	"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
}

func mergeForms(forms ...url.Values) url.Values {
	out := url.Values{}
	for _, f := range forms {
		for k, v := range f {
			out[k] = slices.Clone(v)
		}
	}
	return out
}

// newRequester returns an authorization request of grant id whose tokens of
// every kind expire at expires.
func (h *fositeHarness) newRequester(id string, expires time.Time) *fosite.AuthorizeRequest {
	sess := authz.NewSession()
	sess.Subject = "alice"
	sess.Username = "alice@example.com"
	sess.ClientID = h.client.GetID()
	for _, tt := range []fosite.TokenType{fosite.AuthorizeCode, fosite.AccessToken, fosite.RefreshToken, fosite.PushedAuthorizeRequestContext} {
		sess.SetExpiresAt(tt, expires)
	}
	ar := fosite.NewAuthorizeRequest()
	ar.ID = id
	ar.Client = h.client
	ar.RequestedAt = time.Now().UTC().Truncate(time.Second)
	ar.RequestedScope = fosite.Arguments{"openid", "offline_access"}
	ar.GrantedScope = fosite.Arguments{"openid", "offline_access"}
	ar.RequestedAudience = fosite.Arguments{"https://api.example"}
	ar.GrantedAudience = fosite.Arguments{"https://api.example"}
	ar.Form = mergeForms(publicForm, sensitiveForm)
	ar.Session = sess
	return ar
}

func (h *fositeHarness) live(id string) *fosite.AuthorizeRequest {
	return h.newRequester(id, time.Now().UTC().Add(time.Hour).Truncate(time.Second))
}

// kindOps is the fosite storage API of one kind of stored request.
type kindOps struct {
	name   string
	kind   storage.RequestKind
	create func(ctx context.Context, fs *Store, sig string, r *fosite.AuthorizeRequest) error
	get    func(ctx context.Context, fs *Store, sig string) (fosite.Requester, error)
	del    func(fs *Store, ctx context.Context, sig string) error // nil: fosite deletes none of this kind
}

var allKinds = []kindOps{
	{
		name: "code", kind: storage.KindAuthorizeCode,
		create: func(ctx context.Context, fs *Store, sig string, r *fosite.AuthorizeRequest) error {
			return fs.CreateAuthorizeCodeSession(ctx, sig, r)
		},
		get: func(ctx context.Context, fs *Store, sig string) (fosite.Requester, error) {
			return fs.GetAuthorizeCodeSession(ctx, sig, authz.NewSession())
		},
	},
	{
		name: "access", kind: storage.KindAccessToken,
		create: func(ctx context.Context, fs *Store, sig string, r *fosite.AuthorizeRequest) error {
			return fs.CreateAccessTokenSession(ctx, sig, r)
		},
		get: func(ctx context.Context, fs *Store, sig string) (fosite.Requester, error) {
			return fs.GetAccessTokenSession(ctx, sig, authz.NewSession())
		},
		del: (*Store).DeleteAccessTokenSession,
	},
	{
		name: "refresh", kind: storage.KindRefreshToken,
		create: func(ctx context.Context, fs *Store, sig string, r *fosite.AuthorizeRequest) error {
			return fs.CreateRefreshTokenSession(ctx, sig, "access-of-"+sig, r)
		},
		get: func(ctx context.Context, fs *Store, sig string) (fosite.Requester, error) {
			return fs.GetRefreshTokenSession(ctx, sig, authz.NewSession())
		},
		del: (*Store).DeleteRefreshTokenSession,
	},
	{
		name: "oidc", kind: storage.KindOIDC,
		create: func(ctx context.Context, fs *Store, sig string, r *fosite.AuthorizeRequest) error {
			return fs.CreateOpenIDConnectSession(ctx, sig, r)
		},
		get: func(ctx context.Context, fs *Store, sig string) (fosite.Requester, error) {
			// fosite passes the token request; the stored session fills its session.
			return fs.GetOpenIDConnectSession(ctx, sig, &fosite.Request{Session: authz.NewSession()})
		},
		del: (*Store).DeleteOpenIDConnectSession,
	},
	{
		name: "pkce", kind: storage.KindPKCE,
		create: func(ctx context.Context, fs *Store, sig string, r *fosite.AuthorizeRequest) error {
			return fs.CreatePKCERequestSession(ctx, sig, r)
		},
		get: func(ctx context.Context, fs *Store, sig string) (fosite.Requester, error) {
			return fs.GetPKCERequestSession(ctx, sig, authz.NewSession())
		},
		del: (*Store).DeletePKCERequestSession,
	},
	{
		name: "par", kind: storage.KindPAR,
		create: func(ctx context.Context, fs *Store, sig string, r *fosite.AuthorizeRequest) error {
			return fs.CreatePARSession(ctx, sig, r)
		},
		get: func(ctx context.Context, fs *Store, sig string) (fosite.Requester, error) {
			r, err := fs.GetPARSession(ctx, sig)
			if r == nil {
				return nil, err // not a typed nil
			}
			return r, err
		},
		del: (*Store).DeletePARSession,
	},
}

// checkRequester compares what fosite reads back with what it stored.
func checkRequester(t *testing.T, got fosite.Requester, want *fosite.AuthorizeRequest) {
	t.Helper()
	if got == nil {
		t.Fatal("no requester")
	}
	if got.GetID() != want.GetID() {
		t.Errorf("ID = %q, want %q", got.GetID(), want.GetID())
	}
	if got.GetClient() == nil || got.GetClient().GetID() != want.GetClient().GetID() {
		t.Errorf("client = %v, want %q", got.GetClient(), want.GetClient().GetID())
	}
	if _, ok := got.GetClient().(*authz.Client); !ok {
		t.Errorf("client is %T, want *authz.Client (fosite type-asserts it)", got.GetClient())
	}
	if !got.GetRequestedAt().Equal(want.GetRequestedAt()) {
		t.Errorf("RequestedAt = %v, want %v", got.GetRequestedAt(), want.GetRequestedAt())
	}
	for _, c := range []struct {
		name      string
		got, want fosite.Arguments
	}{
		{"requested scope", got.GetRequestedScopes(), want.GetRequestedScopes()},
		{"granted scope", got.GetGrantedScopes(), want.GetGrantedScopes()},
		{"requested audience", got.GetRequestedAudience(), want.GetRequestedAudience()},
		{"granted audience", got.GetGrantedAudience(), want.GetGrantedAudience()},
	} {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if !reflect.DeepEqual(got.GetRequestForm(), publicForm) {
		t.Errorf("form = %v, want the request's non-secret parameters %v", got.GetRequestForm(), publicForm)
	}
	sess, ok := got.GetSession().(*authz.Session)
	if !ok {
		t.Fatalf("session is %T, want *authz.Session", got.GetSession())
	}
	if sess.GetSubject() != "alice" || sess.ClientID != want.GetClient().GetID() {
		t.Errorf("session subject %q client %q, want alice and %q", sess.GetSubject(), sess.ClientID, want.GetClient().GetID())
	}
}

// checkStoredRow reads the raw row and checks its columns and that no
// credential reached storage.
func checkStoredRow(t *testing.T, h *fositeHarness, kind storage.RequestKind, sig string, want *fosite.AuthorizeRequest) {
	t.Helper()
	row, err := h.store.GetRequest(t.Context(), kind, sig)
	must(t, err)
	if row.RequestID != want.GetID() || row.ClientID != want.GetClient().GetID() || row.Subject != "alice" || !row.Active {
		t.Errorf("row = {request %q client %q subject %q active %v}, want {%q %q alice true}",
			row.RequestID, row.ClientID, row.Subject, row.Active, want.GetID(), want.GetClient().GetID())
	}
	checkNoSecrets(t, row.Data)
}

func checkNoSecrets(t *testing.T, data []byte) {
	t.Helper()
	for name, vs := range sensitiveForm {
		if bytes.Contains(data, []byte(vs[0])) {
			t.Errorf("stored data holds the value of %s: %s", name, data)
		}
	}
	var stored struct {
		Form map[string][]string `json:"form"`
	}
	must(t, json.Unmarshal(data, &stored))
	for name := range sensitiveForm {
		if _, ok := stored.Form[name]; ok {
			t.Errorf("stored form has parameter %s", name)
		}
	}
	if len(stored.Form) == 0 {
		t.Errorf("stored form is empty: %s", data)
	}
}

func fositeStoreTests() []fositeStoreTest {
	var tests []fositeStoreTest
	for _, k := range allKinds {
		tests = append(tests,
			fositeStoreTest{"ok/" + k.name + "/create-get", func(t *testing.T, h *fositeHarness) {
				want := h.live(h.id("grant-1"))
				must(t, k.create(t.Context(), h.fs, h.id("sig-1"), want))
				got, err := k.get(t.Context(), h.fs, h.id("sig-1"))
				must(t, err)
				checkRequester(t, got, want)
				checkStoredRow(t, h, k.kind, h.id("sig-1"), want)
			}},
			fositeStoreTest{"fail/" + k.name + "/get-unknown", func(t *testing.T, h *fositeHarness) {
				must(t, k.create(t.Context(), h.fs, h.id("sig-1"), h.live(h.id("grant-1"))))
				got, err := k.get(t.Context(), h.fs, h.id("sig-2"))
				wantErr(t, err, fosite.ErrNotFound)
				wantErr(t, err, storage.ErrNotFound) // the cause stays in the chain
				if got != nil {
					t.Errorf("requester %v returned for an unknown signature", got)
				}
			}},
			fositeStoreTest{"fail/" + k.name + "/create-duplicate", func(t *testing.T, h *fositeHarness) {
				must(t, k.create(t.Context(), h.fs, h.id("sig-1"), h.live(h.id("grant-1"))))
				err := k.create(t.Context(), h.fs, h.id("sig-1"), h.live(h.id("grant-2")))
				wantErr(t, err, storage.ErrAlreadyExists)
				got, err := k.get(t.Context(), h.fs, h.id("sig-1"))
				must(t, err)
				if got.GetID() != h.id("grant-1") {
					t.Fatalf("duplicate replaced the row: grant %q", got.GetID())
				}
			}},
			fositeStoreTest{"fail/" + k.name + "/expired", func(t *testing.T, h *fositeHarness) {
				r := h.newRequester(h.id("grant-1"), time.Now().UTC().Add(-time.Minute))
				must(t, k.create(t.Context(), h.fs, h.id("sig-1"), r))
				got, err := k.get(t.Context(), h.fs, h.id("sig-1"))
				wantErr(t, err, fosite.ErrNotFound)
				if got != nil {
					t.Errorf("expired requester returned")
				}
			}},
			fositeStoreTest{"fail/" + k.name + "/unknown-client", func(t *testing.T, h *fositeHarness) {
				r := h.live(h.id("grant-1"))
				r.Client = &fosite.DefaultClient{ID: "ghost"}
				err := k.create(t.Context(), h.fs, h.id("sig-1"), r)
				wantErr(t, err, fosite.ErrNotFound)
			}},
		)
		if k.del != nil {
			tests = append(tests,
				fositeStoreTest{"ok/" + k.name + "/delete", func(t *testing.T, h *fositeHarness) {
					must(t, k.create(t.Context(), h.fs, h.id("sig-1"), h.live(h.id("grant-1"))))
					// another grant's row: deleting a refresh token is fosite's
					// reuse path, which revokes its own grant's other tokens
					// (DeleteRefreshTokenSession), never another grant's
					must(t, k.create(t.Context(), h.fs, h.id("sig-2"), h.live(h.id("grant-2"))))
					must(t, k.del(h.fs, t.Context(), h.id("sig-1")))
					_, err := k.get(t.Context(), h.fs, h.id("sig-1"))
					wantErr(t, err, fosite.ErrNotFound)
					_, err = k.get(t.Context(), h.fs, h.id("sig-2")) // the other row stays
					must(t, err)
				}},
				fositeStoreTest{"fail/" + k.name + "/delete-unknown", func(t *testing.T, h *fositeHarness) {
					wantErr(t, k.del(h.fs, t.Context(), "nope"), fosite.ErrNotFound)
				}},
			)
		}
	}
	tests = append(tests, sessionTests()...)
	tests = append(tests, parTests()...)
	tests = append(tests, codeTests()...)
	tests = append(tests, refreshTests()...)
	tests = append(tests, revokeTests()...)
	tests = append(tests, txTests()...)
	tests = append(tests, clientTests()...)
	return tests
}

func sessionTests() []fositeStoreTest {
	return []fositeStoreTest{
		{"ok/session/round-trip", func(t *testing.T, h *fositeHarness) {
			at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
			want := authz.NewSession()
			want.Subject = "user-1"
			want.Username = "alice"
			want.ClientID = h.id("c1")
			want.AccessTokenAlg = "PS256"
			// Whole numbers come back as int64, not float64: signed as a
			// float, updated_at read 1.893456e+09 (OIDC Core §5.1 wants an integer).
			want.UserClaims = map[string]any{"email": "alice@example.com", "email_verified": true, "updated_at": int64(1893456000), "ratio": 0.5}
			want.Claims = &jwt.IDTokenClaims{
				Issuer: "https://as.example", Subject: "user-1", Audience: []string{h.id("c1")}, Nonce: "n-0S6",
				AuthTime: at, RequestedAt: at.Add(time.Second), ExpiresAt: at.Add(time.Hour), IssuedAt: at,
				AuthenticationMethodsReferences: []string{"pwd", "otp"}, AuthenticationContextClassReference: "acr-1",
				Extra: map[string]any{"sid": "sid-1", "name": "Alice", "updated_at": int64(1893456000), "nested": map[string]any{"n": int64(-7)}},
			}
			want.Headers = &jwt.Headers{Extra: map[string]any{"alg": "ES256"}}
			want.ExpiresAt = map[fosite.TokenType]time.Time{fosite.AccessToken: time.Now().UTC().Add(time.Hour).Truncate(time.Second)}
			r := h.live(h.id("grant-1"))
			r.Session = want
			must(t, h.fs.CreateAccessTokenSession(t.Context(), h.id("sig-1"), r))

			proto := authz.NewSession()
			got, err := h.fs.GetAccessTokenSession(t.Context(), h.id("sig-1"), proto)
			must(t, err)
			if got.GetSession() != proto {
				t.Error("the stored session was not read into the session fosite passed")
			}
			if !reflect.DeepEqual(proto, want) {
				g, _ := json.MarshalIndent(proto, "", "  ")
				w, _ := json.MarshalIndent(want, "", "  ")
				t.Fatalf("session mismatch\n got: %s\nwant: %s", g, w)
			}
		}},
		{"ok/session/oidc-fills-token-request-session", func(t *testing.T, h *fositeHarness) {
			r := h.live(h.id("grant-1"))
			r.Session.(*authz.Session).Claims.Nonce = "nonce-xyz"
			must(t, h.fs.CreateOpenIDConnectSession(t.Context(), h.id("code-1"), r))
			tokenReq := &fosite.Request{Session: authz.NewSession()}
			_, err := h.fs.GetOpenIDConnectSession(t.Context(), h.id("code-1"), tokenReq)
			must(t, err)
			if n := tokenReq.Session.(*authz.Session).IDTokenClaims().Nonce; n != "nonce-xyz" {
				t.Fatalf("nonce = %q in the token request's session, want nonce-xyz", n)
			}
		}},
	}
}

func parTests() []fositeStoreTest {
	const uri = "urn:ietf:params:oauth:request_uri:abc123"
	return []fositeStoreTest{
		{"ok/par/round-trip-keeps-authorize-fields", func(t *testing.T, h *fositeHarness) {
			want := h.live(h.id("grant-1"))
			want.ResponseTypes = fosite.Arguments{"code", "id_token"}
			want.RedirectURI, _ = url.Parse("https://c1.example/cb?x=1")
			want.State = "state-abcdefgh"
			want.ResponseMode = fosite.ResponseModeFormPost
			must(t, h.fs.CreatePARSession(t.Context(), h.id(uri), want))

			got, err := h.fs.GetPARSession(t.Context(), h.id(uri))
			must(t, err)
			checkRequester(t, got, want)
			if !slices.Equal(got.GetResponseTypes(), want.ResponseTypes) {
				t.Errorf("response types = %v, want %v", got.GetResponseTypes(), want.ResponseTypes)
			}
			if got.GetRedirectURI() == nil || got.GetRedirectURI().String() != "https://c1.example/cb?x=1" {
				t.Errorf("redirect URI = %v", got.GetRedirectURI())
			}
			if got.GetState() != want.State {
				t.Errorf("state = %q, want %q", got.GetState(), want.State)
			}
			if got.GetResponseMode() != fosite.ResponseModeFormPost {
				t.Errorf("response mode = %q, want form_post", got.GetResponseMode())
			}
		}},
		{"ok/par/sensitive-params-not-stored", func(t *testing.T, h *fositeHarness) {
			r := h.live(h.id("grant-1"))
			must(t, h.fs.CreatePARSession(t.Context(), h.id(uri), r))
			row, err := h.store.GetRequest(t.Context(), storage.KindPAR, h.id(uri))
			must(t, err)
			for _, name := range []string{"client_secret", "client_assertion", "code_verifier"} {
				if bytes.Contains(row.Data, []byte(sensitiveForm.Get(name))) {
					t.Errorf("the value of %s is stored: %s", name, row.Data)
				}
				if bytes.Contains(row.Data, []byte(`"`+name+`"`)) {
					t.Errorf("parameter %s is stored: %s", name, row.Data)
				}
			}
			if !bytes.Contains(row.Data, []byte(publicForm.Get("code_challenge"))) {
				t.Errorf("code_challenge (not a secret) is missing: %s", row.Data)
			}
			// The caller's request is not modified.
			if r.Form.Get("client_secret") == "" {
				t.Error("storing the request stripped the caller's form")
			}
		}},
		{"ok/par/other-kinds-keep-no-authorize-fields", func(t *testing.T, h *fositeHarness) {
			r := h.live(h.id("grant-1"))
			r.State = "state-abcdefgh"
			must(t, h.fs.CreateAuthorizeCodeSession(t.Context(), h.id("code-1"), r))
			row, err := h.store.GetRequest(t.Context(), storage.KindAuthorizeCode, h.id("code-1"))
			must(t, err)
			if bytes.Contains(row.Data, []byte("state-abcdefgh")) {
				t.Errorf("authorize-only fields stored for a code: %s", row.Data)
			}
		}},
	}
}

func codeTests() []fositeStoreTest {
	return []fositeStoreTest{
		{"ok/code/invalidate-then-get-returns-requester-and-error", func(t *testing.T, h *fositeHarness) {
			want := h.live(h.id("grant-1"))
			must(t, h.fs.CreateAuthorizeCodeSession(t.Context(), h.id("code-1"), want))
			must(t, h.fs.InvalidateAuthorizeCodeSession(t.Context(), h.id("code-1")))
			got, err := h.fs.GetAuthorizeCodeSession(t.Context(), h.id("code-1"), authz.NewSession())
			wantErr(t, err, fosite.ErrInvalidatedAuthorizeCode)
			// fosite needs the requester to revoke the tokens of a reused code.
			checkRequester(t, got, want)
		}},
		{"fail/code/invalidate-twice", func(t *testing.T, h *fositeHarness) {
			must(t, h.fs.CreateAuthorizeCodeSession(t.Context(), h.id("code-1"), h.live(h.id("grant-1"))))
			must(t, h.fs.InvalidateAuthorizeCodeSession(t.Context(), h.id("code-1")))
			wantErr(t, h.fs.InvalidateAuthorizeCodeSession(t.Context(), h.id("code-1")), fosite.ErrInvalidatedAuthorizeCode)
		}},
		{"fail/code/invalidate-unknown", func(t *testing.T, h *fositeHarness) {
			wantErr(t, h.fs.InvalidateAuthorizeCodeSession(t.Context(), "nope"), fosite.ErrNotFound)
		}},
		{"fail/code/concurrent-invalidate-one-wins", func(t *testing.T, h *fositeHarness) {
			must(t, h.fs.CreateAuthorizeCodeSession(t.Context(), h.id("code-1"), h.live(h.id("grant-1"))))
			errs := race(2, func(int) error {
				return h.fs.InvalidateAuthorizeCodeSession(t.Context(), h.id("code-1"))
			})
			wins := 0
			for _, err := range errs {
				if err == nil {
					wins++
				} else if !errors.Is(err, fosite.ErrInvalidatedAuthorizeCode) {
					t.Errorf("loser got %v, want ErrInvalidatedAuthorizeCode", err)
				}
			}
			if wins != 1 {
				t.Fatalf("%d exchanges won, want 1 (%v)", wins, errs)
			}
		}},
	}
}

// rotateInTx runs one refresh rotation the way fosite's refresh handler
// does: in a transaction, rolled back when the rotation fails.
func rotateInTx(ctx context.Context, fs *Store, requestID, sig string) error {
	txCtx, err := fs.BeginTX(ctx)
	if err != nil {
		return err
	}
	if err := fs.RotateRefreshToken(txCtx, requestID, sig); err != nil {
		if rbErr := fs.Rollback(txCtx); rbErr != nil {
			return errors.Join(err, rbErr)
		}
		return err
	}
	return fs.Commit(txCtx)
}

func refreshTests() []fositeStoreTest {
	return []fositeStoreTest{
		{"ok/refresh/rotate-deactivates-token-and-revokes-access-tokens", func(t *testing.T, h *fositeHarness) {
			ctx := t.Context()
			must(t, h.fs.CreateRefreshTokenSession(ctx, h.id("rt-1"), h.id("at-1"), h.live(h.id("grant-1"))))
			must(t, h.fs.CreateRefreshTokenSession(ctx, h.id("rt-other"), h.id("at-other"), h.live(h.id("grant-2"))))
			must(t, h.fs.CreateAccessTokenSession(ctx, h.id("at-1"), h.live(h.id("grant-1"))))
			must(t, h.fs.CreateAccessTokenSession(ctx, h.id("at-2"), h.live(h.id("grant-1"))))
			must(t, h.fs.CreateAccessTokenSession(ctx, h.id("at-other"), h.live(h.id("grant-2"))))

			must(t, rotateInTx(ctx, h.fs, h.id("grant-1"), h.id("rt-1")))

			got, err := h.fs.GetRefreshTokenSession(ctx, h.id("rt-1"), authz.NewSession())
			wantErr(t, err, fosite.ErrInactiveToken)
			if got == nil || got.GetID() != h.id("grant-1") {
				t.Errorf("inactive refresh token: requester %v, want grant-1 (fosite revokes the family with it)", got)
			}
			for _, sig := range []string{h.id("at-1"), h.id("at-2")} {
				_, err := h.fs.GetAccessTokenSession(ctx, sig, authz.NewSession())
				wantErr(t, err, fosite.ErrInactiveToken)
			}
			_, err = h.fs.GetAccessTokenSession(ctx, h.id("at-other"), authz.NewSession())
			must(t, err)
			_, err = h.fs.GetRefreshTokenSession(ctx, h.id("rt-other"), authz.NewSession())
			must(t, err)
		}},
		{"fail/refresh/rotate-twice", func(t *testing.T, h *fositeHarness) {
			must(t, h.fs.CreateRefreshTokenSession(t.Context(), h.id("rt-1"), h.id("at-1"), h.live(h.id("grant-1"))))
			must(t, h.fs.RotateRefreshToken(t.Context(), h.id("grant-1"), h.id("rt-1")))
			wantErr(t, h.fs.RotateRefreshToken(t.Context(), h.id("grant-1"), h.id("rt-1")), fosite.ErrSerializationFailure)
		}},
		{"fail/refresh/rotate-unknown", func(t *testing.T, h *fositeHarness) {
			wantErr(t, h.fs.RotateRefreshToken(t.Context(), h.id("grant-1"), "nope"), fosite.ErrNotFound)
		}},
		{"fail/refresh/concurrent-rotate-one-wins", func(t *testing.T, h *fositeHarness) {
			ctx := t.Context()
			for round := range 3 {
				sig := h.id("rt-" + string(rune('a'+round)))
				must(t, h.fs.CreateRefreshTokenSession(ctx, sig, "at", h.live(h.id("grant-1"))))
				errs := race(2, func(int) error { return rotateInTx(ctx, h.fs, h.id("grant-1"), sig) })
				wins := 0
				for _, err := range errs {
					switch {
					case err == nil:
						wins++
					case errors.Is(err, fosite.ErrSerializationFailure):
					default:
						t.Errorf("round %d: loser got %v, want ErrSerializationFailure", round, err)
					}
				}
				if wins != 1 {
					t.Fatalf("round %d: %d rotations won, want exactly 1 (%v)", round, wins, errs)
				}
				_, err := h.fs.GetRefreshTokenSession(ctx, sig, authz.NewSession())
				wantErr(t, err, fosite.ErrInactiveToken)
			}
		}},
		{"ok/refresh/grace-just-rotated-is-not-found", func(t *testing.T, h *fositeHarness) {
			fs := h.withGrace(time.Minute)
			must(t, fs.CreateRefreshTokenSession(t.Context(), h.id("rt-1"), h.id("at-1"), h.live(h.id("grant-1"))))
			must(t, rotateInTx(t.Context(), fs, h.id("grant-1"), h.id("rt-1")))
			got, err := fs.GetRefreshTokenSession(t.Context(), h.id("rt-1"), authz.NewSession())
			wantErr(t, err, fosite.ErrNotFound)
			if errors.Is(err, fosite.ErrInactiveToken) {
				t.Fatalf("error %v would make fosite revoke the grant", err)
			}
			if got != nil {
				t.Fatalf("requester returned within the grace window: fosite would treat it as reuse")
			}
		}},
		{"ok/refresh/grace-elapsed-is-reuse", func(t *testing.T, h *fositeHarness) {
			const grace = 5 * time.Millisecond
			fs := h.withGrace(grace)
			must(t, fs.CreateRefreshTokenSession(t.Context(), h.id("rt-1"), h.id("at-1"), h.live(h.id("grant-1"))))
			must(t, rotateInTx(t.Context(), fs, h.id("grant-1"), h.id("rt-1")))
			time.Sleep(10 * grace)
			got, err := fs.GetRefreshTokenSession(t.Context(), h.id("rt-1"), authz.NewSession())
			wantErr(t, err, fosite.ErrInactiveToken)
			if got == nil || got.GetID() != h.id("grant-1") {
				t.Fatalf("requester = %v, want grant-1 with ErrInactiveToken", got)
			}
		}},
		{"ok/refresh/grace-does-not-hide-active-token", func(t *testing.T, h *fositeHarness) {
			fs := h.withGrace(time.Hour)
			must(t, fs.CreateRefreshTokenSession(t.Context(), h.id("rt-1"), h.id("at-1"), h.live(h.id("grant-1"))))
			_, err := fs.GetRefreshTokenSession(t.Context(), h.id("rt-1"), authz.NewSession())
			must(t, err)
		}},
	}
}

func revokeTests() []fositeStoreTest {
	return []fositeStoreTest{
		{"ok/revoke/refresh-by-request-id", func(t *testing.T, h *fositeHarness) {
			ctx := t.Context()
			must(t, h.fs.CreateRefreshTokenSession(ctx, h.id("rt-1"), h.id("at-1"), h.live(h.id("grant-1"))))
			must(t, h.fs.CreateRefreshTokenSession(ctx, h.id("rt-2"), h.id("at-2"), h.live(h.id("grant-1"))))
			must(t, h.fs.CreateRefreshTokenSession(ctx, h.id("rt-3"), h.id("at-3"), h.live(h.id("grant-2"))))
			must(t, h.fs.CreateAccessTokenSession(ctx, h.id("at-1"), h.live(h.id("grant-1"))))
			must(t, h.fs.RevokeRefreshToken(ctx, h.id("grant-1")))
			for _, sig := range []string{h.id("rt-1"), h.id("rt-2")} {
				_, err := h.fs.GetRefreshTokenSession(ctx, sig, authz.NewSession())
				wantErr(t, err, fosite.ErrInactiveToken)
			}
			_, err := h.fs.GetRefreshTokenSession(ctx, h.id("rt-3"), authz.NewSession())
			must(t, err)
			_, err = h.fs.GetAccessTokenSession(ctx, h.id("at-1"), authz.NewSession()) // only refresh tokens
			must(t, err)
		}},
		{"ok/revoke/access-by-request-id", func(t *testing.T, h *fositeHarness) {
			ctx := t.Context()
			must(t, h.fs.CreateAccessTokenSession(ctx, h.id("at-1"), h.live(h.id("grant-1"))))
			must(t, h.fs.CreateAccessTokenSession(ctx, h.id("at-2"), h.live(h.id("grant-2"))))
			must(t, h.fs.CreateRefreshTokenSession(ctx, h.id("rt-1"), h.id("at-1"), h.live(h.id("grant-1"))))
			must(t, h.fs.RevokeAccessToken(ctx, h.id("grant-1")))
			_, err := h.fs.GetAccessTokenSession(ctx, h.id("at-1"), authz.NewSession())
			wantErr(t, err, fosite.ErrInactiveToken)
			_, err = h.fs.GetAccessTokenSession(ctx, h.id("at-2"), authz.NewSession())
			must(t, err)
			_, err = h.fs.GetRefreshTokenSession(ctx, h.id("rt-1"), authz.NewSession())
			must(t, err)
		}},
		{"ok/revoke/unknown-request-id", func(t *testing.T, h *fositeHarness) {
			must(t, h.fs.RevokeAccessToken(t.Context(), "nope"))
			must(t, h.fs.RevokeRefreshToken(t.Context(), "nope"))
		}},
	}
}

func txTests() []fositeStoreTest {
	createAll := func(t *testing.T, ctx context.Context, h *fositeHarness) {
		t.Helper()
		r := h.live(h.id("grant-tx"))
		must(t, h.fs.CreateAuthorizeCodeSession(ctx, h.id("code-tx"), r))
		must(t, h.fs.CreateAccessTokenSession(ctx, h.id("at-tx"), r))
		must(t, h.fs.CreateRefreshTokenSession(ctx, h.id("rt-tx"), h.id("at-tx"), r))
		must(t, h.fs.CreatePKCERequestSession(ctx, h.id("code-tx"), r))
		must(t, h.fs.CreateOpenIDConnectSession(ctx, h.id("code-tx"), r))
	}
	type getter func(ctx context.Context, h *fositeHarness) error
	gets := map[string]getter{
		"code": func(ctx context.Context, h *fositeHarness) error {
			_, err := h.fs.GetAuthorizeCodeSession(ctx, h.id("code-tx"), authz.NewSession())
			return err
		},
		"access": func(ctx context.Context, h *fositeHarness) error {
			_, err := h.fs.GetAccessTokenSession(ctx, h.id("at-tx"), authz.NewSession())
			return err
		},
		"refresh": func(ctx context.Context, h *fositeHarness) error {
			_, err := h.fs.GetRefreshTokenSession(ctx, h.id("rt-tx"), authz.NewSession())
			return err
		},
		"pkce": func(ctx context.Context, h *fositeHarness) error {
			_, err := h.fs.GetPKCERequestSession(ctx, h.id("code-tx"), authz.NewSession())
			return err
		},
		"oidc": func(ctx context.Context, h *fositeHarness) error {
			_, err := h.fs.GetOpenIDConnectSession(ctx, h.id("code-tx"), &fosite.Request{Session: authz.NewSession()})
			return err
		},
	}
	return []fositeStoreTest{
		{"ok/tx/commit-keeps", func(t *testing.T, h *fositeHarness) {
			ctx, err := h.fs.BeginTX(t.Context())
			must(t, err)
			createAll(t, ctx, h)
			for name, get := range gets {
				if err := get(ctx, h); err != nil {
					t.Errorf("%s not visible inside its transaction: %v", name, err)
				}
			}
			must(t, h.fs.Commit(ctx))
			for name, get := range gets {
				if err := get(t.Context(), h); err != nil {
					t.Errorf("%s lost by commit: %v", name, err)
				}
			}
		}},
		{"ok/tx/rollback-leaves-nothing", func(t *testing.T, h *fositeHarness) {
			ctx, err := h.fs.BeginTX(t.Context())
			must(t, err)
			createAll(t, ctx, h)
			must(t, h.fs.Rollback(ctx))
			for name, get := range gets {
				if err := get(t.Context(), h); !errors.Is(err, fosite.ErrNotFound) {
					t.Errorf("%s after rollback: %v, want ErrNotFound", name, err)
				}
			}
		}},
		{"ok/tx/rollback-undoes-rotation", func(t *testing.T, h *fositeHarness) {
			bg := t.Context()
			must(t, h.fs.CreateRefreshTokenSession(bg, h.id("rt-1"), h.id("at-1"), h.live(h.id("grant-1"))))
			must(t, h.fs.CreateAccessTokenSession(bg, h.id("at-1"), h.live(h.id("grant-1"))))
			ctx, err := h.fs.BeginTX(bg)
			must(t, err)
			must(t, h.fs.RotateRefreshToken(ctx, h.id("grant-1"), h.id("rt-1")))
			must(t, h.fs.CreateRefreshTokenSession(ctx, h.id("rt-2"), h.id("at-2"), h.live(h.id("grant-1"))))
			must(t, h.fs.Rollback(ctx))
			_, err = h.fs.GetRefreshTokenSession(bg, h.id("rt-1"), authz.NewSession())
			must(t, err)
			_, err = h.fs.GetAccessTokenSession(bg, h.id("at-1"), authz.NewSession())
			must(t, err)
			_, err = h.fs.GetRefreshTokenSession(bg, h.id("rt-2"), authz.NewSession())
			wantErr(t, err, fosite.ErrNotFound)
		}},
		{"ok/tx/rollback-undoes-code-invalidation", func(t *testing.T, h *fositeHarness) {
			bg := t.Context()
			must(t, h.fs.CreateAuthorizeCodeSession(bg, h.id("code-1"), h.live(h.id("grant-1"))))
			ctx, err := h.fs.BeginTX(bg)
			must(t, err)
			must(t, h.fs.InvalidateAuthorizeCodeSession(ctx, h.id("code-1")))
			must(t, h.fs.Rollback(ctx))
			_, err = h.fs.GetAuthorizeCodeSession(bg, h.id("code-1"), authz.NewSession())
			must(t, err)
		}},
		{"fail/tx/commit-twice", func(t *testing.T, h *fositeHarness) {
			ctx, err := h.fs.BeginTX(t.Context())
			must(t, err)
			must(t, h.fs.Commit(ctx))
			if err := h.fs.Commit(ctx); err == nil {
				t.Fatal("second commit succeeded")
			}
		}},
		{"fail/tx/commit-without-begin", func(t *testing.T, h *fositeHarness) {
			if err := h.fs.Commit(t.Context()); err == nil {
				t.Fatal("commit without a transaction succeeded")
			}
			if err := h.fs.Rollback(t.Context()); err == nil {
				t.Fatal("rollback without a transaction succeeded")
			}
		}},
	}
}

func clientTests() []fositeStoreTest {
	return []fositeStoreTest{
		{"ok/client/get", func(t *testing.T, h *fositeHarness) {
			c, err := h.fs.GetClient(t.Context(), h.id("c1"))
			must(t, err)
			if c.GetID() != h.id("c1") || !slices.Equal(c.GetRedirectURIs(), testClient(h.id("c1")).RedirectURIs) {
				t.Fatalf("client = %+v", c)
			}
		}},
		{"fail/client/unknown", func(t *testing.T, h *fositeHarness) {
			_, err := h.fs.GetClient(t.Context(), "ghost")
			wantErr(t, err, fosite.ErrNotFound)
		}},
		{"fail/client/disabled", func(t *testing.T, h *fositeHarness) {
			c := testClient(h.id("c2"))
			c.Disabled = true
			must(t, h.store.CreateClient(t.Context(), c))
			_, err := h.fs.GetClient(t.Context(), h.id("c2"))
			wantErr(t, err, fosite.ErrNotFound)
			wantErr(t, err, storage.ErrNotFound)
		}},
		{"fail/client/disabled-after-issue-invalidates-tokens", func(t *testing.T, h *fositeHarness) {
			must(t, h.fs.CreateAccessTokenSession(t.Context(), h.id("at-1"), h.live(h.id("grant-1"))))
			must(t, h.store.UpdateClient(t.Context(), h.id("c1"), func(c *storage.Client) error {
				c.Disabled = true
				return nil
			}))
			h.cache.Invalidate(h.id("c1")) // what the change notification does
			_, err := h.fs.GetAccessTokenSession(t.Context(), h.id("at-1"), authz.NewSession())
			wantErr(t, err, fosite.ErrNotFound)
		}},
		{"fail/jti/replay", func(t *testing.T, h *fositeHarness) {
			exp := time.Now().Add(time.Minute)
			must(t, h.fs.ClientAssertionJWTValid(t.Context(), h.id("jti-1")))
			must(t, h.fs.SetClientAssertionJWT(t.Context(), h.id("jti-1"), exp))
			must(t, h.fs.SetClientAssertionJWT(t.Context(), h.id("jti-2"), exp))
			err := h.fs.SetClientAssertionJWT(t.Context(), h.id("jti-1"), exp)
			wantErr(t, err, fosite.ErrJTIKnown)
			mapped := authz.MapError(err)
			wantRFC(t, mapped, "invalid_client", http.StatusUnauthorized)
			wantErr(t, mapped, fosite.ErrJTIKnown)
		}},
		{"ok/jti/expired-may-be-reused", func(t *testing.T, h *fositeHarness) {
			must(t, h.fs.SetClientAssertionJWT(t.Context(), h.id("jti-1"), time.Now().Add(-time.Minute)))
			must(t, h.fs.SetClientAssertionJWT(t.Context(), h.id("jti-1"), time.Now().Add(time.Minute)))
		}},
	}
}

// TestFositeStoreUnavailable checks that a database outage keeps its
// identity through the adapter (storage.ErrUnavailable) and that MapError
// answers it 503 temporarily_unavailable, never invalid_client,
// invalid_grant or active:false.
func TestFositeStoreUnavailable(t *testing.T) {
	t.Parallel()
	outages := []struct {
		name string
		open func(t *testing.T) storage.Store
	}{
		{"closed-pool", func(t *testing.T) storage.Store {
			s := openPostgres(t, pgtest.NewDatabase(t))
			must(t, s.CreateClient(t.Context(), testClient("c1")))
			s.Close()
			return s
		}},
		{"unreachable", func(t *testing.T) storage.Store {
			return openPostgres(t, "postgres://postgres@127.0.0.1:1/strongroom?sslmode=disable&connect_timeout=2")
		}},
	}
	for _, o := range outages {
		t.Run(o.name, func(t *testing.T) {
			t.Parallel()
			store := o.open(t)
			cache := authz.NewClientCache(store, time.Hour, nil)
			fs := New(store, cache, nil, time.Minute)
			r := fosite.NewAuthorizeRequest()
			r.ID = "grant-1"
			r.Client = &fosite.DefaultClient{ID: "c1"}
			r.Session = authz.NewSession()
			ops := []struct {
				name string
				call func(ctx context.Context) error
			}{
				{"GetClient", func(ctx context.Context) error { _, err := fs.GetClient(ctx, "c1"); return err }},
				{"SetClientAssertionJWT", func(ctx context.Context) error {
					return fs.SetClientAssertionJWT(ctx, "jti", time.Now().Add(time.Minute))
				}},
				{"CreateAuthorizeCodeSession", func(ctx context.Context) error { return fs.CreateAuthorizeCodeSession(ctx, "s", r) }},
				{"GetAuthorizeCodeSession", func(ctx context.Context) error {
					_, err := fs.GetAuthorizeCodeSession(ctx, "s", authz.NewSession())
					return err
				}},
				{"InvalidateAuthorizeCodeSession", func(ctx context.Context) error { return fs.InvalidateAuthorizeCodeSession(ctx, "s") }},
				{"CreateAccessTokenSession", func(ctx context.Context) error { return fs.CreateAccessTokenSession(ctx, "s", r) }},
				{"GetAccessTokenSession", func(ctx context.Context) error {
					_, err := fs.GetAccessTokenSession(ctx, "s", authz.NewSession())
					return err
				}},
				{"DeleteAccessTokenSession", func(ctx context.Context) error { return fs.DeleteAccessTokenSession(ctx, "s") }},
				{"GetRefreshTokenSession", func(ctx context.Context) error {
					_, err := fs.GetRefreshTokenSession(ctx, "s", authz.NewSession())
					return err
				}},
				{"RotateRefreshToken", func(ctx context.Context) error { return fs.RotateRefreshToken(ctx, "grant-1", "s") }},
				{"RevokeRefreshToken", func(ctx context.Context) error { return fs.RevokeRefreshToken(ctx, "grant-1") }},
				{"RevokeAccessToken", func(ctx context.Context) error { return fs.RevokeAccessToken(ctx, "grant-1") }},
				{"GetOpenIDConnectSession", func(ctx context.Context) error {
					_, err := fs.GetOpenIDConnectSession(ctx, "s", &fosite.Request{Session: authz.NewSession()})
					return err
				}},
				{"GetPKCERequestSession", func(ctx context.Context) error {
					_, err := fs.GetPKCERequestSession(ctx, "s", authz.NewSession())
					return err
				}},
				{"CreatePARSession", func(ctx context.Context) error { return fs.CreatePARSession(ctx, "s", r) }},
				{"GetPARSession", func(ctx context.Context) error { _, err := fs.GetPARSession(ctx, "s"); return err }},
				{"BeginTX", func(ctx context.Context) error { _, err := fs.BeginTX(ctx); return err }},
			}
			for _, op := range ops {
				t.Run("fail/"+op.name, func(t *testing.T) {
					ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
					defer cancel()
					err := op.call(ctx)
					wantErr(t, err, storage.ErrUnavailable)
					for _, wrong := range []error{fosite.ErrNotFound, fosite.ErrInactiveToken, fosite.ErrInvalidatedAuthorizeCode, fosite.ErrSerializationFailure} {
						if errors.Is(err, wrong) {
							t.Errorf("outage reported as %v: %v", wrong, err)
						}
					}
					mapped := authz.MapError(err)
					wantErr(t, mapped, fosite.ErrTemporarilyUnavailable)
					wantRFC(t, mapped, "temporarily_unavailable", http.StatusServiceUnavailable)
					wantErr(t, mapped, storage.ErrUnavailable)
				})
			}
		})
	}
}
