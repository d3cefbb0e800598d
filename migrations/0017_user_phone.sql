-- OpenID Connect Core §5.1 phone claims of end users. The defaults keep
-- existing rows valid: no phone number, not verified. The value is E.164
-- ('+' then 8 to 15 digits), checked by the admin service and here.
ALTER TABLE users
    ADD COLUMN phone_number          text    NOT NULL DEFAULT '',
    ADD COLUMN phone_number_verified boolean NOT NULL DEFAULT false;

ALTER TABLE users
    ADD CONSTRAINT users_phone_number_e164 CHECK (phone_number = '' OR phone_number ~ '^\+[0-9]{8,15}$');
