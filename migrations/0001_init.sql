-- 0001_init: the initial Strongroom schema.
--
-- Conventions: every timestamp is timestamptz; list-valued fields are text[]
-- (never NULL, empty means none); opaque documents (JWK sets, serialized
-- fosite requests) are bytea so they round-trip byte for byte. Rows that
-- belong to a client or a user reference it with ON DELETE CASCADE, so
-- deleting a client removes everything issued to it and deleting a user
-- removes their browser sessions and consents (storage.Clients.DeleteClient,
-- storage.Users.DeleteUser).

-- OAuth 2.0 client registrations (RFC 7591 field names).
CREATE TABLE clients (
    id                           text        PRIMARY KEY,
    name                         text        NOT NULL DEFAULT '',
    redirect_uris                text[]      NOT NULL DEFAULT '{}',
    post_logout_redirect_uris    text[]      NOT NULL DEFAULT '{}',
    grant_types                  text[]      NOT NULL DEFAULT '{}',
    response_types               text[]      NOT NULL DEFAULT '{}',
    scopes                       text[]      NOT NULL DEFAULT '{}',
    audience                     text[]      NOT NULL DEFAULT '{}',
    public                       boolean     NOT NULL DEFAULT false,
    token_endpoint_auth_method   text        NOT NULL DEFAULT '',
    require_par                  boolean     NOT NULL DEFAULT false,
    jwks_uri                     text        NOT NULL DEFAULT '',
    jwks                         bytea,
    access_token_format          text        NOT NULL DEFAULT '',
    id_token_signed_response_alg text        NOT NULL DEFAULT '',
    disabled                     boolean     NOT NULL DEFAULT false,
    created_at                   timestamptz NOT NULL,
    updated_at                   timestamptz NOT NULL
);

-- Client secrets: only a keyed hash is stored. position keeps the order the
-- caller gave (a client holds two secrets during rotation).
CREATE TABLE client_secrets (
    client_id  text        NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    position   integer     NOT NULL,
    hash       bytea       NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz,
    PRIMARY KEY (client_id, position)
);

-- End users. id is the stable subject identifier; username is unique and
-- case-sensitive.
CREATE TABLE users (
    id             text        PRIMARY KEY,
    username       text        NOT NULL UNIQUE,
    email          text        NOT NULL DEFAULT '',
    email_verified boolean     NOT NULL DEFAULT false,
    name           text        NOT NULL DEFAULT '',
    given_name     text        NOT NULL DEFAULT '',
    family_name    text        NOT NULL DEFAULT '',
    password_hash  text        NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);

-- Signing keys: next -> active -> retired -> removed. private_enc is the
-- private key encrypted (AES-256-GCM) under the key-encryption key; the
-- database never sees it in the clear.
CREATE TABLE signing_keys (
    kid          text        PRIMARY KEY,
    alg          text        NOT NULL,
    state        text        NOT NULL,
    public_jwk   bytea       NOT NULL,
    private_enc  bytea       NOT NULL,
    created_at   timestamptz NOT NULL,
    activated_at timestamptz,
    retired_at   timestamptz
);

-- Persisted fosite requests, one row shape for every kind (code, access,
-- refresh, oidc, pkce, par), keyed by the token signature (never the token).
-- request_id groups the rows of one grant (revocation, refresh rotation).
CREATE TABLE oauth2_requests (
    kind         text        NOT NULL,
    signature    text        NOT NULL,
    request_id   text        NOT NULL,
    client_id    text        NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    subject      text        NOT NULL DEFAULT '',
    active       boolean     NOT NULL DEFAULT true,
    requested_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    data         bytea,
    deactivated_at timestamptz,
    PRIMARY KEY (kind, signature)
);
CREATE INDEX oauth2_requests_request_id_kind_idx ON oauth2_requests (request_id, kind);
CREATE INDEX oauth2_requests_expires_at_idx ON oauth2_requests (expires_at);
-- Serves the ON DELETE CASCADE from clients.
CREATE INDEX oauth2_requests_client_id_idx ON oauth2_requests (client_id);

-- JWT ids of client assertions (private_key_jwt, RFC 7523 section 3), kept
-- until the assertion expires to reject replays.
CREATE TABLE client_assertion_jtis (
    jti        text        PRIMARY KEY,
    expires_at timestamptz NOT NULL
);
CREATE INDEX client_assertion_jtis_expires_at_idx ON client_assertion_jtis (expires_at);

-- Pending authorization requests waiting for login and consent. id is the
-- SHA-256 of the single-use challenge handed to the browser.
CREATE TABLE auth_flows (
    id         text        PRIMARY KEY,
    client_id  text        NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    form       bytea,
    subject    text        NOT NULL DEFAULT '',
    auth_time  timestamptz,
    session_id text        NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX auth_flows_client_id_idx ON auth_flows (client_id);
CREATE INDEX auth_flows_expires_at_idx ON auth_flows (expires_at);

-- Logged-in browser sessions. id is the SHA-256 of the cookie value.
CREATE TABLE browser_sessions (
    id           text        PRIMARY KEY,
    user_id      text        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    auth_time    timestamptz NOT NULL,
    amr          text[]      NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL
);
CREATE INDEX browser_sessions_user_id_idx ON browser_sessions (user_id);
CREATE INDEX browser_sessions_expires_at_idx ON browser_sessions (expires_at);

-- Remembered consent, one row per user and client.
CREATE TABLE consents (
    user_id    text        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id  text        NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    scopes     text[]      NOT NULL DEFAULT '{}',
    granted_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, client_id)
);
CREATE INDEX consents_client_id_idx ON consents (client_id);
