-- A pending authorization flow is bound to the browser that started it: the
-- SHA-256 of a random cookie set at /authorize. The login, second-factor and
-- consent steps refuse a challenge presented without that cookie (a leaked
-- link). Flows created before this migration have no binding and are refused;
-- they live at most the login flow lifespan (10 minutes by default).
ALTER TABLE auth_flows ADD COLUMN binding text NOT NULL DEFAULT '';
