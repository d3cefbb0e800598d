-- Rows written under the schema of 0007_clients.sql: secrets with ids of
-- their own (0007 gave the older secrets fingerprints).

INSERT INTO clients (id, name, created_at, updated_at)
VALUES ('client-0007', 'Client 0007', '2026-01-07 10:00:00+00', '2026-01-07 10:00:00+00');

INSERT INTO client_secrets (client_id, position, id, hash, created_at, expires_at)
VALUES ('client-0007', 0, 'secret-07-a', '\x0707070707070701', '2026-01-07 10:00:00+00', '2999-01-01 00:00:00+00'),
       ('client-0007', 1, 'secret-07-b', '\x0707070707070702', '2026-01-07 11:00:00+00', NULL);
