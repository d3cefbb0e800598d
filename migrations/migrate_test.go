package migrations_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/strongroom/strongroom/authz/audit"
	"github.com/strongroom/strongroom/storage"
	"github.com/strongroom/strongroom/storage/pgtest"
	"github.com/strongroom/strongroom/storage/postgres"
)

// TestMigrationsKeepData applies the embedded migrations one at a time to a
// fresh database and, after each, runs testdata/<migration>: rows written in
// the schema as it stands at that step. After the last step every row is
// read back through the PostgreSQL store and compared with what was
// written, so a migration that drops, truncates or rewrites existing data
// (or gives old rows the wrong defaults) fails here. A new migration needs a
// testdata file of its own and its rows in expectations below.
func TestMigrationsKeepData(t *testing.T) {
	ctx := t.Context()
	dbURL := pgtest.NewEmptyDatabase(t)
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)

	steps, err := postgres.MigrationNames()
	if err != nil || len(steps) == 0 {
		t.Fatalf("embedded migrations %q: %v", steps, err)
	}
	checkTestdataNamesMigrations(t, steps)
	for _, step := range steps {
		before := rowCounts(t, pool)
		applied, err := postgres.MigrateTo(ctx, pool, step)
		if err != nil {
			t.Fatalf("migrate to %s: %v", step, err)
		}
		if !slices.Equal(applied, []string{step}) {
			t.Fatalf("migrate to %s applied %q, want only %s", step, applied, step)
		}
		// Rows the store never shows (used recovery codes, ...) count too.
		after := rowCounts(t, pool)
		for table, n := range before {
			if after[table] != n {
				t.Errorf("%s: table %s holds %d rows, %d before", step, table, after[table], n)
			}
		}
		rows, err := os.ReadFile(filepath.Join("testdata", step))
		if errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("no testdata/%s: add rows written in the schema as %s leaves it, and check them in expectations", step, step)
		}
		if err != nil {
			t.Fatal(err)
		}
		// Without arguments pgx runs every statement of the file.
		if _, err := pool.Exec(ctx, string(rows)); err != nil {
			t.Fatalf("testdata/%s: %v", step, err)
		}
	}
	if err := postgres.CheckSchema(ctx, pool); err != nil {
		t.Fatalf("after the last step: %v", err)
	}

	store, err := postgres.Open(ctx, dbURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	checked := map[string]bool{}
	for _, e := range expectations {
		checked[e.step] = true
		t.Run("rows of "+e.step, func(t *testing.T) { e.check(t, t.Context(), store) })
	}
	for _, step := range steps {
		if !checked[step] {
			t.Errorf("expectations has no check for the rows of testdata/%s", step)
		}
	}
}

// rowCounts returns the number of rows of every table but schema_migrations.
func rowCounts(t *testing.T, pool *pgxpool.Pool) map[string]int64 {
	t.Helper()
	ctx := t.Context()
	rows, err := pool.Query(ctx, `
SELECT tablename FROM pg_tables
WHERE schemaname = current_schema() AND tablename <> 'schema_migrations'`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	counts := make(map[string]int64, len(tables))
	for _, table := range tables {
		var n int64
		if err := pool.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{table}.Sanitize()).Scan(&n); err != nil {
			t.Fatalf("count rows of %s: %v", table, err)
		}
		counts[table] = n
	}
	return counts
}

// checkTestdataNamesMigrations fails on a testdata file that names no
// migration (a typo would silently never run).
func checkTestdataNamesMigrations(t *testing.T, steps []string) {
	t.Helper()
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !slices.Contains(steps, e.Name()) {
			t.Errorf("testdata/%s names no embedded migration", e.Name())
		}
	}
}

// expectations reads back, after the last migration, the rows each
// testdata file wrote, and compares them with what the file says.
var expectations = []struct {
	step  string
	check func(t *testing.T, ctx context.Context, s *postgres.Store)
}{
	{"0001_init.sql", func(t *testing.T, ctx context.Context, s *postgres.Store) {
		h1, h2 := hexBytes(t, "0101010101010101"), hexBytes(t, "0202020202020202")
		readBack(t, "client-0001", &storage.Client{
			ID:   "client-0001",
			Name: "Client 0001",
			Secrets: []storage.ClientSecret{ // ids from 0007: fingerprints of the hashes
				{ID: fingerprint(h1), Hash: h1, CreatedAt: at("2026-01-01 10:00:00")},
				{ID: fingerprint(h2), Hash: h2, CreatedAt: at("2026-01-02 10:00:00"), ExpiresAt: ptr(at("2999-01-01 00:00:00"))},
			},
			RedirectURIs:             []string{"https://app.example/cb", "https://app.example/cb2"},
			PostLogoutRedirectURIs:   []string{"https://app.example/bye"},
			GrantTypes:               []string{"authorization_code", "refresh_token"},
			ResponseTypes:            []string{"code"},
			Scopes:                   []string{"openid", "profile", "offline_access"},
			Audience:                 []string{"https://api.example"},
			TokenEndpointAuthMethod:  storage.AuthMethodSecretBasic,
			RequirePAR:               true,
			JWKSURI:                  "https://app.example/jwks",
			JWKS:                     []byte(`{"keys":[]}`),
			AccessTokenFormat:        storage.TokenFormatJWT,
			IDTokenSignedResponseAlg: "ES256",
			Disabled:                 true,
			Metadata:                 storage.ClientMetadata{}, // 0003's default document
			CreatedAt:                at("2026-01-01 10:00:00"),
			UpdatedAt:                at("2026-01-02 10:00:00"),
		})(s.GetClient(ctx, "client-0001"))
		readBack(t, "client-0001-defaults", &storage.Client{
			ID:        "client-0001-defaults",
			CreatedAt: at("2026-01-01 10:00:00"),
			UpdatedAt: at("2026-01-01 10:00:00"),
		})(s.GetClient(ctx, "client-0001-defaults"))
		readBack(t, "user-0001", &storage.User{
			ID:            "user-0001",
			Username:      "alice",
			Email:         "alice@example.com",
			EmailVerified: true,
			Name:          "Alice Liddell",
			GivenName:     "Alice",
			FamilyName:    "Liddell",
			PasswordHash:  "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
			CreatedAt:     at("2026-01-01 11:00:00"),
			UpdatedAt:     at("2026-01-03 11:00:00"),
		})(s.GetUser(ctx, "user-0001"))
		keys := keysByKID(t, ctx, s)
		same(t, "key-0001-active", keys["key-0001-active"], storage.SigningKey{
			KID:         "key-0001-active",
			Alg:         "RS256",
			State:       storage.KeyStateActive,
			PublicJWK:   []byte(`{"kty":"RSA","kid":"key-0001-active"}`),
			PrivateEnc:  hexBytes(t, "deadbeef01"),
			CreatedAt:   at("2026-01-01 12:00:00"),
			ActivatedAt: ptr(at("2026-01-01 13:00:00")),
			PublishedAt: ptr(at("2026-01-01 12:00:00")), // 0006: published when created
		})
		same(t, "key-0001-retired", keys["key-0001-retired"], storage.SigningKey{
			KID:         "key-0001-retired",
			Alg:         "ES256",
			State:       storage.KeyStateRetired,
			PublicJWK:   []byte(`{"kty":"EC","kid":"key-0001-retired"}`),
			PrivateEnc:  hexBytes(t, "deadbeef02"),
			CreatedAt:   at("2025-12-01 12:00:00"),
			ActivatedAt: ptr(at("2025-12-01 13:00:00")),
			RetiredAt:   ptr(at("2026-01-01 13:00:00")),
			PublishedAt: ptr(at("2025-12-01 12:00:00")),
		})
		readBack(t, "access token row", &storage.Request{
			Kind:        storage.KindAccessToken,
			Signature:   "sig-0001-access",
			RequestID:   "grant-0001",
			ClientID:    "client-0001",
			Subject:     "user-0001",
			Active:      true,
			RequestedAt: at("2026-01-01 14:00:00"),
			ExpiresAt:   at("2999-01-01 00:00:00"),
			Data:        []byte(`{"id":"grant-0001"}`),
		})(s.GetRequest(ctx, storage.KindAccessToken, "sig-0001-access"))
		refresh, err := s.GetRequest(ctx, storage.KindRefreshToken, "sig-0001-refresh")
		if !errors.Is(err, storage.ErrInactive) {
			t.Errorf("inactive refresh token row: error %v, want ErrInactive", err)
		}
		same(t, "refresh token row", refresh, &storage.Request{
			Kind:          storage.KindRefreshToken,
			Signature:     "sig-0001-refresh",
			RequestID:     "grant-0001",
			ClientID:      "client-0001",
			Subject:       "user-0001",
			DeactivatedAt: at("2026-01-01 15:00:00"),
			RequestedAt:   at("2026-01-01 14:00:00"),
			ExpiresAt:     at("2999-01-01 00:00:00"),
			Data:          []byte(`{"id":"grant-0001","r":1}`),
		})
		if err := s.UseJTI(ctx, "jti-0001", at("2999-01-01 00:00:00")); !errors.Is(err, storage.ErrAlreadyExists) {
			t.Errorf("UseJTI of the recorded jti-0001: %v, want ErrAlreadyExists (a replay)", err)
		}
		readBack(t, "flow-0001", &storage.AuthFlow{
			ID:        "flow-0001",
			ClientID:  "client-0001",
			Form:      []byte("client_id=client-0001&response_type=code"),
			Subject:   "user-0001",
			AuthTime:  ptr(at("2026-01-01 16:00:00")),
			SessionID: "session-0001",
			Binding:   "", // 0010: older flows have no binding
			CreatedAt: at("2026-01-01 15:59:00"),
			ExpiresAt: at("2999-01-01 00:00:00"),
		})(s.GetAuthFlow(ctx, "flow-0001"))
		readBack(t, "session-0001", &storage.BrowserSession{
			ID:         "session-0001",
			UserID:     "user-0001",
			AuthTime:   at("2026-01-01 16:00:00"),
			AMR:        []string{"pwd"},
			CreatedAt:  at("2026-01-01 16:00:00"),
			LastSeenAt: at("2026-01-01 16:30:00"),
			ExpiresAt:  at("2999-01-01 00:00:00"),
		})(s.GetBrowserSession(ctx, "session-0001"))
		readBack(t, "consent", &storage.Consent{
			UserID:    "user-0001",
			ClientID:  "client-0001",
			Scopes:    []string{"openid", "profile"},
			GrantedAt: at("2026-01-01 16:01:00"),
		})(s.GetConsent(ctx, "user-0001", "client-0001"))
	}},
	{"0002_audit.sql", func(t *testing.T, ctx context.Context, s *postgres.Store) {
		// 0014 chained it from the genesis hash, in SQL: the hashes are the
		// Go encoding's.
		want := storage.AuditEvent{
			ID:        1,
			Time:      at("2026-01-02 09:00:00"),
			Actor:     "user:user-0001",
			Action:    "login.password",
			Target:    "user-0001",
			Outcome:   storage.OutcomeFailure,
			SourceIP:  "192.0.2.1",
			UserAgent: "Mozilla/5.0",
			Details:   map[string]string{"reason": "bad password", "attempt": "2"},
			PrevHash:  storage.AuditGenesisHash(),
		}
		want.Hash = storage.AuditHash(want.PrevHash, &want)
		readBack(t, "audit events", []storage.AuditEvent{want})(s.ListAudit(ctx, storage.AuditFilter{Action: "login.password"}))
	}},
	{"0003_client_metadata.sql", func(t *testing.T, ctx context.Context, s *postgres.Store) {
		h := hexBytes(t, "0303030303030303")
		readBack(t, "client-0003", &storage.Client{
			ID:                      "client-0003",
			Name:                    "Client 0003",
			Secrets:                 []storage.ClientSecret{{ID: fingerprint(h), Hash: h, CreatedAt: at("2026-01-03 10:00:00")}},
			GrantTypes:              []string{"client_credentials"},
			TokenEndpointAuthMethod: storage.AuthMethodSecretPost,
			Metadata: storage.ClientMetadata{
				Contacts:                         []string{"ops@example.com", "sec@example.com"},
				ClientURI:                        "https://c3.example",
				LogoURI:                          "https://c3.example/logo.png",
				PolicyURI:                        "https://c3.example/policy",
				TosURI:                           "https://c3.example/tos",
				BackchannelLogoutURI:             "https://c3.example/bcl",
				BackchannelLogoutSessionRequired: true,
				RequireMFA:                       true,
				SkipConsent:                      true,
				Introspect:                       true,
			},
			CreatedAt: at("2026-01-03 10:00:00"),
			UpdatedAt: at("2026-01-03 10:00:00"),
		})(s.GetClient(ctx, "client-0003"))
	}},
	{"0004_mfa.sql", func(t *testing.T, ctx context.Context, s *postgres.Store) {
		readBack(t, "require MFA of user-0004", true)(s.RequireMFA(ctx, "user-0004"))
		readBack(t, "TOTP of user-0004", &storage.TOTPEnrolment{
			UserID:      "user-0004",
			SecretEnc:   hexBytes(t, "cafe0004"),
			Confirmed:   true,
			LastStep:    59000001,
			CreatedAt:   at("2026-01-04 10:02:00"),
			ConfirmedAt: ptr(at("2026-01-04 10:03:00")),
		})(s.GetTOTP(ctx, "user-0004"))
		readBack(t, "unused recovery codes of user-0004", 2)(s.CountRecoveryCodes(ctx, "user-0004"))
		if err := s.UseRecoveryCode(ctx, "user-0004", hexBytes(t, "0403"), at("2026-02-01 00:00:00")); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("using the used recovery code again: %v, want ErrNotFound", err)
		}
		readBack(t, "WebAuthn credentials of user-0004", []storage.WebAuthnCredential{{
			ID:              hexBytes(t, "0400cc"),
			UserID:          "user-0004",
			Name:            "YubiKey",
			PublicKey:       hexBytes(t, "a50102032620"),
			AttestationType: "packed",
			AAGUID:          hexBytes(t, "00112233445566778899aabbccddeeff"),
			SignCount:       42,
			Transports:      []string{"usb", "nfc"},
			BackupEligible:  true,
			UserVerified:    true,
			CreatedAt:       at("2026-01-04 10:05:00"),
			LastUsedAt:      ptr(at("2026-01-04 12:00:00")),
		}})(s.ListWebAuthnCredentials(ctx, "user-0004"))
		readBack(t, "pending login of flow-0004", &storage.PendingLogin{
			FlowID:          "flow-0004",
			UserID:          "user-0004",
			AMR:             []string{"pwd"},
			WebAuthnSession: []byte(`{"challenge":"abc"}`),
			CreatedAt:       at("2026-01-04 10:07:00"),
			ExpiresAt:       at("2999-01-01 00:00:00"),
		})(s.GetPendingLogin(ctx, "flow-0004"))
		readBack(t, "login throttle of bob", &storage.LoginThrottle{
			Key:           "user:bob",
			Failures:      3,
			LastFailureAt: at("2026-01-04 10:08:00"),
			NextAttemptAt: at("2026-01-04 10:08:04"),
			LockedUntil:   at("2026-01-04 10:23:00"),
		})(s.GetLoginThrottle(ctx, "user:bob"))
	}},
	{"0005_logout.sql", func(t *testing.T, ctx context.Context, s *postgres.Store) {
		readBack(t, "clients of session-0001", []string{"client-0001", "client-0003"})(s.ListSessionClients(ctx, "session-0001"))
		readBack(t, "logout deliveries", []storage.LogoutDelivery{{
			ID:            1,
			ClientID:      "client-0003",
			Subject:       "user-0001",
			SessionID:     "session-0001",
			Attempts:      2,
			NextAttemptAt: at("2026-01-05 10:10:00"),
			LastError:     "status 503",
			CreatedAt:     at("2026-01-05 10:02:00"),
		}})(s.ListLogoutDeliveries(ctx))
	}},
	{"0006_keys.sql", func(t *testing.T, ctx context.Context, s *postgres.Store) {
		keys := keysByKID(t, ctx, s)
		same(t, "key-0006-next", keys["key-0006-next"], storage.SigningKey{
			KID:         "key-0006-next",
			Alg:         "EdDSA",
			State:       storage.KeyStateNext,
			PublicJWK:   []byte(`{"kty":"OKP","kid":"key-0006-next"}`),
			PrivateEnc:  hexBytes(t, "deadbeef03"),
			CreatedAt:   at("2026-01-06 10:00:00"),
			PublishedAt: ptr(at("2026-01-06 10:00:05")),
		})
		same(t, "key-0006-revoked", keys["key-0006-revoked"], storage.SigningKey{
			KID:         "key-0006-revoked",
			Alg:         "PS256",
			State:       storage.KeyStateRevoked,
			PublicJWK:   []byte(`{"kty":"RSA","kid":"key-0006-revoked"}`),
			PrivateEnc:  hexBytes(t, "deadbeef04"),
			CreatedAt:   at("2026-01-05 10:00:00"),
			ActivatedAt: ptr(at("2026-01-05 11:00:00")),
			RetiredAt:   ptr(at("2026-01-06 09:00:00")),
			PublishedAt: ptr(at("2026-01-05 10:00:00")),
			RevokedAt:   ptr(at("2026-01-06 09:30:00")),
		})
		same(t, "number of keys", len(keys), 4)
	}},
	{"0007_clients.sql", func(t *testing.T, ctx context.Context, s *postgres.Store) {
		readBack(t, "client-0007", &storage.Client{
			ID:   "client-0007",
			Name: "Client 0007",
			Secrets: []storage.ClientSecret{
				{ID: "secret-07-a", Hash: hexBytes(t, "0707070707070701"), CreatedAt: at("2026-01-07 10:00:00"), ExpiresAt: ptr(at("2999-01-01 00:00:00"))},
				{ID: "secret-07-b", Hash: hexBytes(t, "0707070707070702"), CreatedAt: at("2026-01-07 11:00:00")},
			},
			CreatedAt: at("2026-01-07 10:00:00"),
			UpdatedAt: at("2026-01-07 10:00:00"),
		})(s.GetClient(ctx, "client-0007"))
	}},
	{"0010_flow_binding.sql", func(t *testing.T, ctx context.Context, s *postgres.Store) {
		readBack(t, "flow-0010", &storage.AuthFlow{
			ID:        "flow-0010",
			ClientID:  "client-0007",
			Form:      []byte("client_id=client-0007&state=s"),
			Binding:   "binding-0010",
			CreatedAt: at("2026-01-10 10:00:00"),
			ExpiresAt: at("2999-01-01 00:00:00"),
		})(s.GetAuthFlow(ctx, "flow-0010"))
	}},
	{"0012_authorization_details.sql", func(t *testing.T, ctx context.Context, s *postgres.Store) {
		readBack(t, "authorization type", &storage.AuthorizationType{
			Type:      "account_information",
			Schema:    []byte(`{"type":"object","required":["type"]}`),
			CreatedAt: at("2026-01-12 10:00:00"),
			UpdatedAt: at("2026-01-12 11:00:00"),
		})(s.GetAuthorizationType(ctx, "account_information"))
		readBack(t, "consent with authorization details", &storage.Consent{
			UserID:               "user-0004",
			ClientID:             "client-0007",
			Scopes:               []string{"openid"},
			AuthorizationDetails: []byte(`[{"type":"payment_initiation","instructedAmount":{"amount":"1.00","currency":"EUR"}}]`),
			GrantedAt:            at("2026-01-12 12:00:00"),
		})(s.GetConsent(ctx, "user-0004", "client-0007"))
	}},
	{"0014_audit_chain.sql", func(t *testing.T, ctx context.Context, s *postgres.Store) {
		first, err := s.ListAudit(ctx, storage.AuditFilter{Action: "login.password"})
		if err != nil || len(first) != 1 {
			t.Fatalf("event 1: %v %v", first, err)
		}
		want := storage.AuditEvent{
			ID:        2,
			Time:      at("2026-01-14 10:00:00").Add(123456 * time.Microsecond),
			Actor:     "operator:root",
			Action:    "client.update",
			Target:    "client-0007",
			Outcome:   storage.OutcomeSuccess,
			UserAgent: "strongroom-cli",
			Details:   map[string]string{"é": "ü", "Z": "a", "a": "b", "field": "name"},
			PrevHash:  first[0].Hash,
		}
		want.Hash = storage.AuditHash(want.PrevHash, &want)
		readBack(t, "audit event chained in SQL", []storage.AuditEvent{want})(s.ListAudit(ctx, storage.AuditFilter{Action: "client.update"}))
		readBack(t, "chain head", storage.AuditHead{LastID: 2, LastHash: want.Hash})(s.AuditHead(ctx))
		trail, err := audit.New(s, make([]byte, 32), nil)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := trail.Verify(ctx, audit.VerifyOptions{})
		if err != nil || rep.Problem != nil || rep.Events != 2 {
			t.Errorf("verify after the migration: %d events, problem %v, error %v", rep.Events, rep.Problem, err)
		}
		// The next event continues the chain.
		next := &storage.AuditEvent{Time: at("2026-01-15 00:00:00"), Actor: "system", Action: "server.start", Outcome: storage.OutcomeSuccess}
		if err := s.AppendAudit(ctx, next); err != nil || next.ID != 3 || !bytes.Equal(next.PrevHash, want.Hash) {
			t.Errorf("append after the migration: id %d prev %x: %v", next.ID, next.PrevHash, err)
		}
	}},
	{"0015_revoked_grants.sql", func(t *testing.T, ctx context.Context, s *postgres.Store) {
		revoked, err := s.IsGrantRevoked(ctx, "grant-0015")
		if err != nil || !revoked {
			t.Fatalf("grant-0015 revoked: %v, %v", revoked, err)
		}
		readBack(t, "revoked grants", []storage.RevokedGrant{{GrantID: "grant-0015", ClientID: "client-0007", ExpiresAt: at("2099-01-15 10:00:00")}})(s.ListRevokedGrants(ctx))
	}},
	{"0017_user_phone.sql", func(t *testing.T, ctx context.Context, s *postgres.Store) {
		readBack(t, "user-0017", &storage.User{
			ID: "user-0017", Username: "phoebe", PhoneNumber: "+14155550100", PhoneNumberVerified: true,
			PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
			CreatedAt:    at("2026-01-17 10:00:00"), UpdatedAt: at("2026-01-17 10:00:00"),
		})(s.GetUser(ctx, "user-0017"))
	}},
}

// readBack returns a function that takes what a store read returned and
// fails t on an error or a value other than want:
// readBack(t, "user", want)(s.GetUser(ctx, id)).
func readBack[T any](t *testing.T, what string, want T) func(got T, err error) {
	return func(got T, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("%s: read back after the last migration: %v", what, err)
			return
		}
		same(t, what, got, want)
	}
}

// same fails t when got differs from want, showing both.
func same[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("%s read back after the last migration:\n%s\nwant:\n%s", what, g, w)
	}
}

func keysByKID(t *testing.T, ctx context.Context, s *postgres.Store) map[string]storage.SigningKey {
	t.Helper()
	keys, err := s.ListKeys(ctx)
	if err != nil {
		t.Fatalf("list keys: %v", err)
	}
	byKID := make(map[string]storage.SigningKey, len(keys))
	for _, k := range keys {
		byKID[k.KID] = k
	}
	return byKID
}

// at parses a UTC time in the testdata files' notation.
func at(s string) time.Time {
	tm, err := time.Parse(time.DateTime, s)
	if err != nil {
		panic(err)
	}
	return tm
}

func ptr[T any](v T) *T { return &v }

func hexBytes(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fingerprint is the id 0007_clients.sql gives a secret stored before it:
// the first 12 hex digits of the SHA-256 of the keyed hash.
func fingerprint(hash []byte) string {
	sum := sha256.Sum256(hash)
	return hex.EncodeToString(sum[:])[:12]
}
