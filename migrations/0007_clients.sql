-- Client secrets get a stable, non-secret id so operators can name one
-- (revoke-secret, listings) while a client holds two during rotation. The id
-- is a fingerprint of the keyed hash: it reveals nothing about the secret.
ALTER TABLE client_secrets ADD COLUMN id text NOT NULL DEFAULT '';
UPDATE client_secrets SET id = substr(encode(sha256(hash), 'hex'), 1, 12) WHERE id = '';
CREATE UNIQUE INDEX client_secrets_client_id_id ON client_secrets (client_id, id) WHERE id <> '';
