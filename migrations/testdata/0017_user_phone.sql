-- Rows written under the schema of 0017_user_phone.sql: a user with a
-- verified phone number.
INSERT INTO users (id, username, email, email_verified, name, given_name, family_name,
                   phone_number, phone_number_verified, password_hash, created_at, updated_at)
VALUES ('user-0017', 'phoebe', '', false, '', '', '', '+14155550100', true,
        '$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA', '2026-01-17 10:00:00+00', '2026-01-17 10:00:00+00');
