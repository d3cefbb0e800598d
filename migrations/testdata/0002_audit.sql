-- Rows written under the schema of 0002_audit.sql.

INSERT INTO audit_events (time, actor, action, target, outcome, source_ip, user_agent, details)
VALUES ('2026-01-02 09:00:00+00', 'user:user-0001', 'login.password', 'user-0001', 'failure',
        '192.0.2.1', 'Mozilla/5.0', '{"reason":"bad password","attempt":"2"}');
