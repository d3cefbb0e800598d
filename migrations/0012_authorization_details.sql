-- Rich authorization requests (RFC 9396). authorization_types holds the
-- authorization details types a deployment accepts, each with the JSON
-- Schema its objects must meet (built-in types such as payment_initiation
-- are not stored). A consent remembers the exact authorization details the
-- user approved last (canonical JSON, kept byte for byte, hence text and
-- not jsonb): a request with other details asks again.
CREATE TABLE authorization_types (
    type       text PRIMARY KEY,
    schema     text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
ALTER TABLE consents ADD COLUMN authorization_details text;
