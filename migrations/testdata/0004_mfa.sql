-- Rows written under the schema of 0004_mfa.sql: one of every kind it
-- creates, for a user with every second factor.

INSERT INTO users (id, username, created_at, updated_at)
VALUES ('user-0004', 'bob', '2026-01-04 10:00:00+00', '2026-01-04 10:00:00+00');

INSERT INTO user_mfa (user_id, require_mfa, updated_at) VALUES ('user-0004', true, '2026-01-04 10:01:00+00');

INSERT INTO totp_enrolments (user_id, secret_enc, confirmed, last_step, created_at, confirmed_at)
VALUES ('user-0004', '\xcafe0004', true, 59000001, '2026-01-04 10:02:00+00', '2026-01-04 10:03:00+00');

-- Three recovery codes, one of them used.
INSERT INTO recovery_codes (user_id, hash, created_at, used_at)
VALUES ('user-0004', '\x0401', '2026-01-04 10:04:00+00', NULL),
       ('user-0004', '\x0402', '2026-01-04 10:04:00+00', NULL),
       ('user-0004', '\x0403', '2026-01-04 10:04:00+00', '2026-01-04 11:00:00+00');

INSERT INTO webauthn_credentials (id, user_id, name, public_key, attestation_type, aaguid, sign_count,
                                  transports, backup_eligible, backup_state, user_verified, created_at,
                                  last_used_at)
VALUES ('\x0400cc', 'user-0004', 'YubiKey', '\xa50102032620', 'packed', '\x00112233445566778899aabbccddeeff',
        42, '{usb,nfc}', true, false, true, '2026-01-04 10:05:00+00', '2026-01-04 12:00:00+00');

INSERT INTO auth_flows (id, client_id, form, created_at, expires_at)
VALUES ('flow-0004', 'client-0003', convert_to('client_id=client-0003', 'UTF8'), '2026-01-04 10:06:00+00',
        '2999-01-01 00:00:00+00');

INSERT INTO pending_logins (flow_id, user_id, amr, webauthn_session, created_at, expires_at)
VALUES ('flow-0004', 'user-0004', '{pwd}', convert_to('{"challenge":"abc"}', 'UTF8'), '2026-01-04 10:07:00+00',
        '2999-01-01 00:00:00+00');

INSERT INTO login_throttles (key, failures, last_failure_at, next_attempt_at, locked_until)
VALUES ('user:bob', 3, '2026-01-04 10:08:00+00', '2026-01-04 10:08:04+00', '2026-01-04 10:23:00+00');
