-- The audit trail: security-relevant events (logins, client authentication
-- failures, operator changes). Append-only by convention; written in the
-- same transaction as the change it records.
CREATE TABLE audit_events (
    id         bigserial   PRIMARY KEY,
    time       timestamptz NOT NULL,
    actor      text        NOT NULL,
    action     text        NOT NULL,
    target     text        NOT NULL DEFAULT '',
    outcome    text        NOT NULL,
    source_ip  text        NOT NULL DEFAULT '',
    user_agent text        NOT NULL DEFAULT '',
    details    jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_action_time_idx ON audit_events (action, time);
CREATE INDEX audit_events_target_idx ON audit_events (target);
CREATE INDEX audit_events_time_idx ON audit_events (time);
