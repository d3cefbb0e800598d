-- Rows written under the schema of 0015_revoked_grants.sql: a revoked
-- stateless grant that expires far in the future.
INSERT INTO revoked_grants (grant_id, client_id, expires_at, revoked_at)
VALUES ('grant-0015', 'client-0007', '2099-01-15 10:00:00+00', '2026-01-15 09:00:00+00');
