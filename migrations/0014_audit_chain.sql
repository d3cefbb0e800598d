-- The audit trail becomes tamper-evident: every event is chained to the one
-- before it by hash = SHA-256(prev_hash || canonical encoding of the event)
-- (storage.AppendAuditEncoding documents the encoding; the function below is
-- the same encoding in SQL). Writers serialise on the one row of
-- audit_chain (SELECT ... FOR UPDATE in the appending transaction), which
-- names the newest event; the next event's id is its last_id + 1.
--
-- Events written before this migration are chained here, in id order, from
-- the genesis hash (32 zero bytes), so `strongroom audit verify` checks the
-- whole trail, old events included. This walks the table once (one UPDATE
-- per event).

CREATE FUNCTION strongroom_audit_encoding(
    id bigint, at timestamptz, actor text, action text, target text, outcome text,
    source_ip text, user_agent text, details jsonb
) RETURNS bytea LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT convert_to('strongroom-audit-event-v1', 'UTF8')
        || int8send(id)
        || int8send((extract(epoch FROM at) * 1000000)::bigint)
        || int4send(length(convert_to(actor, 'UTF8')))      || convert_to(actor, 'UTF8')
        || int4send(length(convert_to(action, 'UTF8')))     || convert_to(action, 'UTF8')
        || int4send(length(convert_to(target, 'UTF8')))     || convert_to(target, 'UTF8')
        || int4send(length(convert_to(outcome, 'UTF8')))    || convert_to(outcome, 'UTF8')
        || int4send(length(convert_to(source_ip, 'UTF8')))  || convert_to(source_ip, 'UTF8')
        || int4send(length(convert_to(user_agent, 'UTF8'))) || convert_to(user_agent, 'UTF8')
        || int4send((SELECT count(*)::int FROM jsonb_object_keys(details)))
        || coalesce((
            SELECT string_agg(
                       int4send(length(convert_to(key, 'UTF8'))) || convert_to(key, 'UTF8')
                    || int4send(length(convert_to(value, 'UTF8'))) || convert_to(value, 'UTF8'),
                       ''::bytea ORDER BY convert_to(key, 'UTF8'))
            FROM jsonb_each_text(details)), ''::bytea)
$$;
COMMENT ON FUNCTION strongroom_audit_encoding IS
    'Canonical encoding (v1) of an audit event, as storage.AppendAuditEncoding';

ALTER TABLE audit_events ADD COLUMN prev_hash bytea, ADD COLUMN hash bytea;

CREATE TABLE audit_chain (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    last_id   bigint  NOT NULL,
    last_hash bytea   NOT NULL
);

DO $$
DECLARE
    r    record;
    prev bytea  := decode(repeat('00', 32), 'hex');
    last bigint := 0;
BEGIN
    FOR r IN SELECT * FROM audit_events ORDER BY id LOOP
        UPDATE audit_events
        SET prev_hash = prev,
            hash = sha256(prev || strongroom_audit_encoding(r.id, r.time, r.actor, r.action, r.target,
                                                            r.outcome, r.source_ip, r.user_agent, r.details))
        WHERE id = r.id
        RETURNING hash INTO prev;
        last := r.id;
    END LOOP;
    INSERT INTO audit_chain (last_id, last_hash) VALUES (last, prev);
END $$;

ALTER TABLE audit_events ALTER COLUMN prev_hash SET NOT NULL, ALTER COLUMN hash SET NOT NULL;

-- A checkpoint vouches for the chain at a cut (the event cut_id had hash
-- cut_hash); a prune deletes the events up to the cut and writes one in the
-- same transaction. mac is HMAC-SHA256 under a key derived from
-- STRONGROOM_SECRET (authz/audit), which the database does not hold.
CREATE TABLE audit_checkpoints (
    id         bigserial   PRIMARY KEY,
    cut_id     bigint      NOT NULL,
    cut_hash   bytea       NOT NULL,
    cut_time   timestamptz NOT NULL,
    pruned     bigint      NOT NULL,
    created_at timestamptz NOT NULL,
    mac        bytea       NOT NULL
);
CREATE INDEX audit_checkpoints_cut_idx ON audit_checkpoints (cut_id);
