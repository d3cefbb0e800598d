-- Signing-key lifecycle: when a key was first published in the JWKS (a next
-- key may sign only once relying parties have had a JWKS cache lifetime to
-- fetch it) and when it was revoked in an emergency (state 'revoked': no
-- longer published, no longer trusted). Existing keys were published when
-- they were created.
ALTER TABLE signing_keys
    ADD COLUMN published_at timestamptz,
    ADD COLUMN revoked_at   timestamptz;
UPDATE signing_keys SET published_at = created_at WHERE published_at IS NULL;
