-- The grant revocation list of stateless JWT access tokens (client
-- credentials JWTs are not stored: see docs/tokens.md). Revoking one (RFC
-- 7009) records its grant id here until the token expires; every node keeps
-- the unexpired rows in memory, loaded at start and kept current through
-- NOTIFY strongroom_revoked_grants. The janitor deletes expired rows.
CREATE TABLE revoked_grants (
    grant_id   text        PRIMARY KEY,
    client_id  text        NOT NULL,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX revoked_grants_expires_at ON revoked_grants (expires_at);
