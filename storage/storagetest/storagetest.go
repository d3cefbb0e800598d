package storagetest

import (
	"encoding/json"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage"
)

// Run runs the conformance suite. newStore must return a fresh, empty store
// for each subtest and arrange for it to be closed (t.Cleanup). Subtests run
// in parallel with each other.
func Run(t *testing.T, newStore func(t *testing.T) storage.Store) {
	var all []test
	for _, group := range [][]test{
		clientTests(), userTests(), keyTests(), requestTests(), jtiTests(),
		authFlowTests(), sessionTests(), consentTests(), authorizationTypeTests(), logoutTests(), userSignOutTests(), auditTests(), mfaTests(), txTests(), notifyTests(), revokedGrantTests(), miscTests(),
	} {
		all = append(all, group...)
	}
	for _, tc := range all {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, newStore(t))
		})
	}
}

// test is one named case.
type test struct {
	name string
	run  func(t *testing.T, s storage.Store)
}

// Fixed dates keep fixtures deterministic. Live rows expire in 2100 and
// expired ones in 2000, so whichever clock the implementation consults
// (the database's or its own) agrees.
var (
	base    = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	future  = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	past    = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	errBoom = errors.New("boom")
)

func ptr[T any](v T) *T { return &v }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want one matching %q", err, target)
	}
}

// equal fails the test when got and want differ, showing both as JSON.
func equal(t *testing.T, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Fatalf("mismatch\n got: %s\nwant: %s", g, w)
	}
}

// Race runs fn(0) … fn(n-1) in n goroutines released at the same moment and
// returns their errors.
func Race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// exactlyOneWins checks that exactly one error is nil and every other
// matches one of losers.
func exactlyOneWins(t *testing.T, errs []error, losers ...error) {
	t.Helper()
	wins := 0
	for _, err := range errs {
		if err == nil {
			wins++
			continue
		}
		ok := false
		for _, l := range losers {
			ok = ok || errors.Is(err, l)
		}
		if !ok {
			t.Errorf("loser got %v, want one matching %v", err, losers)
		}
	}
	if wins != 1 {
		t.Fatalf("%d callers won, want exactly 1 (errors: %v)", wins, errs)
	}
}

// ---------------------------------------------------------------- fixtures

func newClient(id string) *storage.Client {
	return &storage.Client{
		ID:   id,
		Name: "Client " + id,
		Secrets: []storage.ClientSecret{
			{Hash: []byte("hash-1-" + id), CreatedAt: base.Add(-time.Hour)},
			{Hash: []byte("hash-2-" + id), CreatedAt: base, ExpiresAt: ptr(base.Add(24 * time.Hour))},
		},
		RedirectURIs:             []string{"https://" + id + ".example/cb", "https://" + id + ".example/cb2"},
		PostLogoutRedirectURIs:   []string{"https://" + id + ".example/bye"},
		GrantTypes:               []string{"authorization_code", "refresh_token"},
		ResponseTypes:            []string{"code"},
		Scopes:                   []string{"openid", "profile", "offline_access"},
		Audience:                 []string{"https://api.example"},
		TokenEndpointAuthMethod:  storage.AuthMethodPrivateKeyJWT,
		RequirePAR:               true,
		JWKSURI:                  "https://" + id + ".example/jwks",
		JWKS:                     []byte(`{"keys":[{"kty":"EC","crv":"P-256"}]}`),
		AccessTokenFormat:        storage.TokenFormatJWT,
		IDTokenSignedResponseAlg: "ES256",
		Metadata: storage.ClientMetadata{
			Contacts: []string{"ops@" + id + ".example"}, ClientURI: "https://" + id + ".example",
			LogoURI: "https://" + id + ".example/logo.png", PolicyURI: "https://" + id + ".example/privacy",
			TosURI: "https://" + id + ".example/tos", BackchannelLogoutURI: "https://" + id + ".example/bcl",
			BackchannelLogoutSessionRequired: true, RequireMFA: true, SkipConsent: true, Introspect: true,
			RateLimit: "50/s", RateLimitBurst: 100,
		},
		CreatedAt: base.Add(-time.Hour),
		UpdatedAt: base,
	}
}

func newUser(id, username string) *storage.User {
	return &storage.User{ // #nosec G101 -- a test fixture user, not a credential
		ID:            id,
		Username:      username,
		Email:         username + "@example.com",
		EmailVerified: true,
		Name:          "Name " + username,
		GivenName:     "Given",
		FamilyName:    "Family",
		PasswordHash:  "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
		CreatedAt:     base.Add(-time.Hour),
		UpdatedAt:     base,
	}
}

func newKey(kid, state string, created time.Time) *storage.SigningKey {
	k := &storage.SigningKey{
		KID:        kid,
		Alg:        "ES256",
		State:      state,
		PublicJWK:  []byte(`{"kty":"EC","kid":"` + kid + `"}`),
		PrivateEnc: []byte("sealed-" + kid),
		CreatedAt:  created,
	}
	if state != storage.KeyStateNext {
		k.ActivatedAt = ptr(created.Add(time.Hour))
	}
	if state == storage.KeyStateRetired {
		k.RetiredAt = ptr(created.Add(2 * time.Hour))
	}
	return k
}

func newRequest(kind storage.RequestKind, sig, requestID, clientID string) *storage.Request {
	return &storage.Request{
		Kind:        kind,
		Signature:   sig,
		RequestID:   requestID,
		ClientID:    clientID,
		Subject:     "subject-1",
		Active:      true,
		RequestedAt: base,
		ExpiresAt:   future,
		Data:        []byte(`{"form":{"scope":["openid"]},"session":{}}`),
	}
}

func newFlow(id, clientID string) *storage.AuthFlow {
	return &storage.AuthFlow{
		ID:        id,
		ClientID:  clientID,
		Form:      []byte("response_type=code&client_id=" + clientID),
		Binding:   "binding-of-" + id,
		CreatedAt: base,
		ExpiresAt: future,
	}
}

func newSession(id, userID string) *storage.BrowserSession {
	return &storage.BrowserSession{
		ID:         id,
		UserID:     userID,
		AuthTime:   base,
		AMR:        []string{"pwd", "otp"},
		CreatedAt:  base,
		LastSeenAt: base,
		ExpiresAt:  future,
	}
}

func newConsent(userID, clientID string) *storage.Consent {
	return &storage.Consent{UserID: userID, ClientID: clientID, Scopes: []string{"openid", "email"}, GrantedAt: base}
}

// Creators that fail the test on error.

func createClient(t *testing.T, s storage.Store, id string) *storage.Client {
	t.Helper()
	c := newClient(id)
	must(t, s.CreateClient(t.Context(), c))
	return newClient(id)
}

func createUser(t *testing.T, s storage.Store, id, username string) *storage.User {
	t.Helper()
	u := newUser(id, username)
	must(t, s.CreateUser(t.Context(), u))
	return newUser(id, username)
}

func createRequest(t *testing.T, s storage.Store, r *storage.Request) {
	t.Helper()
	must(t, s.CreateRequest(t.Context(), r))
}
