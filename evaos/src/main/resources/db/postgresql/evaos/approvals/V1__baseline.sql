-- Approvals on PostgreSQL: the same rows as on SQLite at its V5 (db/evaos/approvals), with the key SQLite
-- keeps as rowid made explicit (seq: the listing's tie-break, and the decision ids).
CREATE TABLE approvals (
  seq BIGSERIAL NOT NULL UNIQUE,
  id TEXT PRIMARY KEY,
  state INTEGER NOT NULL,
  tool TEXT NOT NULL,
  arguments TEXT NOT NULL,
  working_directory TEXT NOT NULL,
  action_hash TEXT NOT NULL,
  risk INTEGER NOT NULL,
  rule TEXT NOT NULL,
  grant_scope INTEGER NOT NULL,
  pattern TEXT NOT NULL,
  session_id TEXT NOT NULL,
  requested_by TEXT NOT NULL,
  decided_by TEXT NOT NULL,
  create_ms BIGINT NOT NULL,
  decide_ms BIGINT NOT NULL,
  expire_ms BIGINT NOT NULL,
  reason TEXT NOT NULL,
  use_count INTEGER NOT NULL,
  tenant TEXT NOT NULL,
  requester TEXT NOT NULL);
CREATE INDEX approvals_hash ON approvals (action_hash, state);
CREATE INDEX approvals_tenant_tool ON approvals (tenant, tool, grant_scope, state);
CREATE INDEX approvals_tenant_time ON approvals (tenant, create_ms, seq);
CREATE INDEX approvals_requester ON approvals (tenant, requester, create_ms, seq);
CREATE INDEX approvals_state ON approvals (state, expire_ms);
-- Append-only: one row per decision, never updated or deleted (a trigger refuses both), so who decided what
-- and when survives the approval's own later changes (use, expiry). An approval is decided once.
CREATE TABLE decisions (
  seq BIGSERIAL PRIMARY KEY,
  approval_id TEXT NOT NULL UNIQUE,
  tenant TEXT NOT NULL,
  requester TEXT NOT NULL,
  decided_by TEXT NOT NULL,
  decide_ms BIGINT NOT NULL,
  state INTEGER NOT NULL,
  grant_scope INTEGER NOT NULL,
  risk INTEGER NOT NULL,
  tool TEXT NOT NULL,
  action_hash TEXT NOT NULL,
  expire_ms BIGINT NOT NULL,
  reason TEXT NOT NULL);
CREATE INDEX decisions_tenant_seq ON decisions (tenant, seq);
CREATE FUNCTION decisions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'decisions are append-only';
END $$;
CREATE TRIGGER decisions_append_only BEFORE UPDATE OR DELETE ON decisions
  FOR EACH ROW EXECUTE FUNCTION decisions_append_only();
-- The first response to each request_id of a requester, so a retried AuthorizeAction is answered the same.
CREATE TABLE requests (
  tenant TEXT NOT NULL,
  requester TEXT NOT NULL,
  request_id TEXT NOT NULL,
  response BYTEA NOT NULL,
  create_ms BIGINT NOT NULL,
  PRIMARY KEY (tenant, requester, request_id));
CREATE INDEX requests_time ON requests (create_ms);
