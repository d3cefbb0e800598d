-- 0005_logout: what session management, grant revocation and OpenID Connect
-- Back-Channel Logout 1.0 need.

-- The clients each browser session logged the user in to (recorded when the
-- authorization response is issued). When the session ends, each of them that
-- registered a backchannel_logout_uri receives a logout token. Rows go with
-- their session or client.
CREATE TABLE browser_session_clients (
    session_id text        NOT NULL REFERENCES browser_sessions (id) ON DELETE CASCADE,
    client_id  text        NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (session_id, client_id)
);
-- Serves the ON DELETE CASCADE from clients.
CREATE INDEX browser_session_clients_client_id_idx ON browser_session_clients (client_id);

-- The durable outbox of back-channel logout deliveries, written in the
-- transaction that ends the session. Workers on every node claim due rows
-- with SELECT ... FOR UPDATE SKIP LOCKED and push next_attempt_at past a
-- lease, so no row is sent by two nodes at once and a crash only delays it.
-- A row is deleted once delivered or given up. The logout token is signed
-- at each attempt, never stored.
CREATE TABLE logout_deliveries (
    id              bigserial   PRIMARY KEY,
    client_id       text        NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    subject         text        NOT NULL,
    session_id      text        NOT NULL DEFAULT '',
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_error      text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL
);
CREATE INDEX logout_deliveries_next_attempt_at_idx ON logout_deliveries (next_attempt_at);
CREATE INDEX logout_deliveries_client_id_idx ON logout_deliveries (client_id);

-- Revoking a user's grant to a client deactivates its tokens by subject and client.
CREATE INDEX oauth2_requests_subject_client_id_idx ON oauth2_requests (subject, client_id);
