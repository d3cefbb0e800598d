INSERT INTO authorization_types (type, schema, created_at, updated_at)
VALUES ('account_information', '{"type":"object","required":["type"]}', '2026-01-12 10:00:00+00', '2026-01-12 11:00:00+00');
INSERT INTO consents (user_id, client_id, scopes, granted_at, authorization_details)
VALUES ('user-0004', 'client-0007', '{openid}', '2026-01-12 12:00:00+00',
        '[{"type":"payment_initiation","instructedAmount":{"amount":"1.00","currency":"EUR"}}]');
