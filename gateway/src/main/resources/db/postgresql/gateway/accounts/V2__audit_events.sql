-- The security events of each tenant, append-only (the trigger refuses changes), as db/gateway/accounts V2.
-- A sign-in under an unknown name belongs to no tenant (''): no tenant's admin sees it.
CREATE TABLE audit_events (
  seq BIGSERIAL PRIMARY KEY,
  tenant TEXT NOT NULL,
  time_ms BIGINT NOT NULL,
  kind INTEGER NOT NULL,
  success INTEGER NOT NULL,
  actor TEXT NOT NULL,
  user_id TEXT NOT NULL,
  username TEXT NOT NULL,
  address TEXT NOT NULL,
  detail TEXT NOT NULL);

CREATE INDEX audit_events_by_tenant ON audit_events(tenant, seq);

CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit events are append-only';
END $$;

CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
