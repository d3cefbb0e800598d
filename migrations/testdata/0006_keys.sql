-- Rows written under the schema of 0006_keys.sql: keys with the new columns
-- set.

INSERT INTO signing_keys (kid, alg, state, public_jwk, private_enc, created_at, activated_at, retired_at,
                          published_at, revoked_at)
VALUES ('key-0006-next', 'EdDSA', 'next', convert_to('{"kty":"OKP","kid":"key-0006-next"}', 'UTF8'),
        '\xdeadbeef03', '2026-01-06 10:00:00+00', NULL, NULL, '2026-01-06 10:00:05+00', NULL),
       ('key-0006-revoked', 'PS256', 'revoked', convert_to('{"kty":"RSA","kid":"key-0006-revoked"}', 'UTF8'),
        '\xdeadbeef04', '2026-01-05 10:00:00+00', '2026-01-05 11:00:00+00', '2026-01-06 09:00:00+00',
        '2026-01-05 10:00:00+00', '2026-01-06 09:30:00+00');
