-- Append-only: one row per decision, never updated, so who decided what and when survives the approval's own
-- later changes (use, expiry). IF NOT EXISTS: databases made before Flyway may hold it already.
CREATE TABLE IF NOT EXISTS decisions (
  approval_id TEXT NOT NULL, tenant TEXT NOT NULL, requester TEXT NOT NULL,
  decided_by TEXT NOT NULL, decide_ms INTEGER NOT NULL, state INTEGER NOT NULL,
  grant_scope INTEGER NOT NULL, risk INTEGER NOT NULL, tool TEXT NOT NULL,
  action_hash TEXT NOT NULL, expire_ms INTEGER NOT NULL, reason TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS decisions_tenant_time ON decisions(tenant, decide_ms);
CREATE INDEX IF NOT EXISTS approvals_hash ON approvals(action_hash, state);
CREATE INDEX IF NOT EXISTS approvals_tenant_tool ON approvals(tenant, tool, grant_scope, state);
CREATE INDEX IF NOT EXISTS approvals_tenant_time ON approvals(tenant, create_ms);
CREATE INDEX IF NOT EXISTS approvals_requester ON approvals(tenant, requester, create_ms);
CREATE INDEX IF NOT EXISTS approvals_state ON approvals(state, expire_ms);
