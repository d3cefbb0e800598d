-- Rows written under the schema of 0001_init.sql: one of every kind it
-- creates, with every column set, plus a client that leaves every column to
-- its default. migrate_test.go reads them back through the store after the
-- last migration.

INSERT INTO clients (id, name, redirect_uris, post_logout_redirect_uris, grant_types, response_types,
                     scopes, audience, public, token_endpoint_auth_method, require_par, jwks_uri, jwks,
                     access_token_format, id_token_signed_response_alg, disabled, created_at, updated_at)
VALUES ('client-0001', 'Client 0001', '{https://app.example/cb,https://app.example/cb2}',
        '{https://app.example/bye}', '{authorization_code,refresh_token}', '{code}',
        '{openid,profile,offline_access}', '{https://api.example}', false, 'client_secret_basic', true,
        'https://app.example/jwks', convert_to('{"keys":[]}', 'UTF8'), 'jwt', 'ES256', true,
        '2026-01-01 10:00:00+00', '2026-01-02 10:00:00+00');

INSERT INTO clients (id, created_at, updated_at)
VALUES ('client-0001-defaults', '2026-01-01 10:00:00+00', '2026-01-01 10:00:00+00');

-- Two secrets, as during a rotation; 0007 gives each an id.
INSERT INTO client_secrets (client_id, position, hash, created_at, expires_at)
VALUES ('client-0001', 0, '\x0101010101010101', '2026-01-01 10:00:00+00', NULL),
       ('client-0001', 1, '\x0202020202020202', '2026-01-02 10:00:00+00', '2999-01-01 00:00:00+00');

INSERT INTO users (id, username, email, email_verified, name, given_name, family_name, password_hash,
                   created_at, updated_at)
VALUES ('user-0001', 'alice', 'alice@example.com', true, 'Alice Liddell', 'Alice', 'Liddell',
        '$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA', '2026-01-01 11:00:00+00', '2026-01-03 11:00:00+00');

-- 0006 sets published_at of existing keys to their created_at.
INSERT INTO signing_keys (kid, alg, state, public_jwk, private_enc, created_at, activated_at, retired_at)
VALUES ('key-0001-active', 'RS256', 'active', convert_to('{"kty":"RSA","kid":"key-0001-active"}', 'UTF8'),
        '\xdeadbeef01', '2026-01-01 12:00:00+00', '2026-01-01 13:00:00+00', NULL),
       ('key-0001-retired', 'ES256', 'retired', convert_to('{"kty":"EC","kid":"key-0001-retired"}', 'UTF8'),
        '\xdeadbeef02', '2025-12-01 12:00:00+00', '2025-12-01 13:00:00+00', '2026-01-01 13:00:00+00');

INSERT INTO oauth2_requests (kind, signature, request_id, client_id, subject, active, requested_at, expires_at,
                             data, deactivated_at)
VALUES ('access', 'sig-0001-access', 'grant-0001', 'client-0001', 'user-0001', true,
        '2026-01-01 14:00:00+00', '2999-01-01 00:00:00+00', convert_to('{"id":"grant-0001"}', 'UTF8'), NULL),
       ('refresh', 'sig-0001-refresh', 'grant-0001', 'client-0001', 'user-0001', false,
        '2026-01-01 14:00:00+00', '2999-01-01 00:00:00+00', convert_to('{"id":"grant-0001","r":1}', 'UTF8'),
        '2026-01-01 15:00:00+00');

INSERT INTO client_assertion_jtis (jti, expires_at) VALUES ('jti-0001', '2999-01-01 00:00:00+00');

-- 0010 adds a binding: this flow keeps the empty one.
INSERT INTO auth_flows (id, client_id, form, subject, auth_time, session_id, created_at, expires_at)
VALUES ('flow-0001', 'client-0001', convert_to('client_id=client-0001&response_type=code', 'UTF8'),
        'user-0001', '2026-01-01 16:00:00+00', 'session-0001', '2026-01-01 15:59:00+00', '2999-01-01 00:00:00+00');

INSERT INTO browser_sessions (id, user_id, auth_time, amr, created_at, last_seen_at, expires_at)
VALUES ('session-0001', 'user-0001', '2026-01-01 16:00:00+00', '{pwd}', '2026-01-01 16:00:00+00',
        '2026-01-01 16:30:00+00', '2999-01-01 00:00:00+00');

INSERT INTO consents (user_id, client_id, scopes, granted_at)
VALUES ('user-0001', 'client-0001', '{openid,profile}', '2026-01-01 16:01:00+00');
