-- The audit of every tool call. IF NOT EXISTS: a database made before Flyway holds it already.
CREATE TABLE IF NOT EXISTS audit (
  id TEXT PRIMARY KEY, time_ms INTEGER NOT NULL, principal TEXT NOT NULL,
  session_id TEXT NOT NULL, correlation_id TEXT NOT NULL, tool TEXT NOT NULL,
  action_hash TEXT NOT NULL, working_directory TEXT NOT NULL, decision TEXT NOT NULL,
  rule TEXT NOT NULL, approval_id TEXT NOT NULL, outcome TEXT NOT NULL,
  exit_code INTEGER NOT NULL, duration_ms INTEGER NOT NULL, detail TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_time ON audit(time_ms);
