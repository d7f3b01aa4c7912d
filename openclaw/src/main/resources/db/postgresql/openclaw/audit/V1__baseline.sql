-- The audit of every tool call on PostgreSQL (db/openclaw/audit V1 and V2), shared by every replica, named
-- openclaw_* since every service's stores share the database.
-- seq orders appends (SQLite's rowid): pages run by (time_ms, seq). The trigger refuses any change.
CREATE TABLE openclaw_audit (
  seq BIGSERIAL PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  time_ms BIGINT NOT NULL,
  principal TEXT NOT NULL,
  session_id TEXT NOT NULL,
  correlation_id TEXT NOT NULL,
  tool TEXT NOT NULL,
  action_hash TEXT NOT NULL,
  working_directory TEXT NOT NULL,
  decision TEXT NOT NULL,
  rule TEXT NOT NULL,
  approval_id TEXT NOT NULL,
  outcome TEXT NOT NULL,
  exit_code INTEGER NOT NULL,
  duration_ms BIGINT NOT NULL,
  detail TEXT NOT NULL);
CREATE INDEX openclaw_audit_time ON openclaw_audit (time_ms, seq);

CREATE FUNCTION openclaw_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the tool audit is append-only';
END $$;

CREATE TRIGGER openclaw_audit_append_only BEFORE UPDATE OR DELETE ON openclaw_audit
FOR EACH ROW EXECUTE FUNCTION openclaw_audit_append_only();
CREATE TRIGGER openclaw_audit_never_truncated BEFORE TRUNCATE ON openclaw_audit
FOR EACH STATEMENT EXECUTE FUNCTION openclaw_audit_append_only();

-- The first result of each request_id of a principal, so a retried ExecuteTool does not run twice.
CREATE TABLE openclaw_requests (
  principal TEXT NOT NULL,
  request_id TEXT NOT NULL,
  response BYTEA NOT NULL,
  create_ms BIGINT NOT NULL,
  PRIMARY KEY (principal, request_id));
CREATE INDEX openclaw_requests_time ON openclaw_requests (create_ms);
