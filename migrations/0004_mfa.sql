-- 0004_mfa: second factors, the per-user MFA policy, logins waiting for a
-- second factor and the failed-login counters that throttle brute force.

-- Per-user MFA policy (a row only once an operator set it).
CREATE TABLE user_mfa (
    user_id     text        PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    require_mfa boolean     NOT NULL DEFAULT false,
    updated_at  timestamptz NOT NULL
);

-- TOTP (RFC 6238) secrets, AES-256-GCM encrypted under a key derived from the
-- system secret. last_step is the last accepted time step: a code is accepted
-- once only.
CREATE TABLE totp_enrolments (
    user_id      text        PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret_enc   bytea       NOT NULL,
    confirmed    boolean     NOT NULL DEFAULT false,
    last_step    bigint      NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL,
    confirmed_at timestamptz
);

-- One-time recovery codes, stored as keyed hashes (HMAC-SHA256).
CREATE TABLE recovery_codes (
    user_id    text        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash       bytea       NOT NULL,
    created_at timestamptz NOT NULL,
    used_at    timestamptz,
    PRIMARY KEY (user_id, hash)
);

-- WebAuthn credential records (WebAuthn Level 3 §4 "credential record").
CREATE TABLE webauthn_credentials (
    id               bytea       PRIMARY KEY,
    user_id          text        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name             text        NOT NULL DEFAULT '',
    public_key       bytea       NOT NULL,
    attestation_type text        NOT NULL DEFAULT '',
    aaguid           bytea,
    sign_count       bigint      NOT NULL DEFAULT 0,
    transports       text[]      NOT NULL DEFAULT '{}',
    backup_eligible  boolean     NOT NULL DEFAULT false,
    backup_state     boolean     NOT NULL DEFAULT false,
    user_verified    boolean     NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL,
    last_used_at     timestamptz
);
CREATE INDEX webauthn_credentials_user_id_idx ON webauthn_credentials (user_id);

-- Logins that passed the password and wait for a second factor (or its
-- enrolment). Removed with their flow.
CREATE TABLE pending_logins (
    flow_id          text        PRIMARY KEY REFERENCES auth_flows (id) ON DELETE CASCADE,
    user_id          text        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    amr              text[]      NOT NULL DEFAULT '{}',
    webauthn_session bytea,
    created_at       timestamptz NOT NULL,
    expires_at       timestamptz NOT NULL
);
CREATE INDEX pending_logins_user_id_idx ON pending_logins (user_id);

-- Failed-login counters per account ("user:<username>") and per source
-- address ("ip:<addr>"), shared by every node.
CREATE TABLE login_throttles (
    key             text        PRIMARY KEY,
    failures        integer     NOT NULL DEFAULT 0,
    last_failure_at timestamptz,
    next_attempt_at timestamptz,
    locked_until    timestamptz
);
CREATE INDEX login_throttles_last_failure_at_idx ON login_throttles (last_failure_at);
