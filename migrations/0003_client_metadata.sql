-- Registration metadata that no query filters on (RFC 7591 contacts and URIs,
-- back-channel logout, MFA and first-party flags), as one JSON document.
ALTER TABLE clients ADD COLUMN metadata jsonb NOT NULL DEFAULT '{}';
