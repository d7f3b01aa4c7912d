-- The security events of each tenant, append-only (the triggers refuse changes). A sign-in under an unknown
-- name belongs to no tenant (''): no tenant's admin sees it.
CREATE TABLE audit_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant TEXT NOT NULL,
  time_ms INTEGER NOT NULL,
  kind INTEGER NOT NULL,
  success INTEGER NOT NULL,
  actor TEXT NOT NULL,
  user_id TEXT NOT NULL,
  username TEXT NOT NULL,
  address TEXT NOT NULL,
  detail TEXT NOT NULL);

CREATE INDEX audit_events_by_tenant ON audit_events(tenant, seq);

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;

CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
