-- Rows written under the schema of 0010_flow_binding.sql: a flow bound to
-- its browser.

INSERT INTO auth_flows (id, client_id, form, binding, created_at, expires_at)
VALUES ('flow-0010', 'client-0007', convert_to('client_id=client-0007&state=s', 'UTF8'), 'binding-0010',
        '2026-01-10 10:00:00+00', '2999-01-01 00:00:00+00');
