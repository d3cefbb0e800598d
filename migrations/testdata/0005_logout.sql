-- Rows written under the schema of 0005_logout.sql.

INSERT INTO browser_session_clients (session_id, client_id, created_at)
VALUES ('session-0001', 'client-0001', '2026-01-05 10:00:00+00'),
       ('session-0001', 'client-0003', '2026-01-05 10:01:00+00');

INSERT INTO logout_deliveries (client_id, subject, session_id, attempts, next_attempt_at, last_error, created_at)
VALUES ('client-0003', 'user-0001', 'session-0001', 2, '2026-01-05 10:10:00+00', 'status 503',
        '2026-01-05 10:02:00+00');
