-- Rows written under the schema of 0014_audit_chain.sql: an event chained
-- to the one 0002 wrote (chained by the migration) through the SQL copy of
-- the canonical encoding. Its details have non-ASCII keys, which sort
-- bytewise, and the time has microseconds.
INSERT INTO audit_events (id, time, actor, action, target, outcome, source_ip, user_agent, details, prev_hash, hash)
SELECT 2, v.t, 'operator:root', 'client.update', 'client-0007', 'success', '', 'strongroom-cli', v.d, c.last_hash,
       sha256(c.last_hash || strongroom_audit_encoding(2, v.t, 'operator:root', 'client.update', 'client-0007',
                                                        'success', '', 'strongroom-cli', v.d))
FROM audit_chain c,
     (VALUES ('2026-01-14 10:00:00.123456+00'::timestamptz, '{"é":"ü","Z":"a","a":"b","field":"name"}'::jsonb)) AS v(t, d);
UPDATE audit_chain SET last_id = 2, last_hash = (SELECT hash FROM audit_events WHERE id = 2);
