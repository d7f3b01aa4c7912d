-- Approvals as they were first made, before tenants (V2) and owners (V3).
CREATE TABLE approvals (
  id TEXT PRIMARY KEY, state INTEGER NOT NULL, tool TEXT NOT NULL, arguments TEXT NOT NULL,
  working_directory TEXT NOT NULL, action_hash TEXT NOT NULL, risk INTEGER NOT NULL,
  rule TEXT NOT NULL, grant_scope INTEGER NOT NULL, pattern TEXT NOT NULL,
  session_id TEXT NOT NULL, requested_by TEXT NOT NULL, decided_by TEXT NOT NULL,
  create_ms INTEGER NOT NULL, decide_ms INTEGER NOT NULL, expire_ms INTEGER NOT NULL,
  reason TEXT NOT NULL, use_count INTEGER NOT NULL);
CREATE INDEX approvals_tool ON approvals(tool, grant_scope, state);
