-- Rows written under the schema of 0003_client_metadata.sql: a client with
-- every metadata field set (client-0001 keeps the default document).

INSERT INTO clients (id, name, grant_types, token_endpoint_auth_method, metadata, created_at, updated_at)
VALUES ('client-0003', 'Client 0003', '{client_credentials}', 'client_secret_post',
        '{"contacts":["ops@example.com","sec@example.com"],"client_uri":"https://c3.example",
          "logo_uri":"https://c3.example/logo.png","policy_uri":"https://c3.example/policy",
          "tos_uri":"https://c3.example/tos","backchannel_logout_uri":"https://c3.example/bcl",
          "backchannel_logout_session_required":true,"require_mfa":true,"skip_consent":true,
          "introspect":true}',
        '2026-01-03 10:00:00+00', '2026-01-03 10:00:00+00');

INSERT INTO client_secrets (client_id, position, hash, created_at, expires_at)
VALUES ('client-0003', 0, '\x0303030303030303', '2026-01-03 10:00:00+00', NULL);
