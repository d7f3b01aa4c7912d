-- The ledger on PostgreSQL: the same rows as on SQLite (db/router/ledger), plus each tenant's month totals,
-- kept in the same transaction as the rows, so that a budget check and its charge are one atomic update.
CREATE TABLE usage (
  id BIGSERIAL PRIMARY KEY,
  ts_ms BIGINT NOT NULL,
  day TEXT NOT NULL,
  tenant TEXT NOT NULL,
  principal TEXT NOT NULL,
  alias TEXT NOT NULL,
  deployment TEXT NOT NULL,
  provider TEXT NOT NULL,
  prompt_tokens BIGINT NOT NULL CHECK (prompt_tokens >= 0),
  completion_tokens BIGINT NOT NULL CHECK (completion_tokens >= 0),
  cost_micros BIGINT NOT NULL CHECK (cost_micros >= 0),
  latency_ms BIGINT NOT NULL);
CREATE INDEX usage_tenant_day ON usage (tenant, day);
CREATE INDEX usage_day ON usage (day);
CREATE TABLE usage_month (
  tenant TEXT NOT NULL,
  month TEXT NOT NULL,
  tokens BIGINT NOT NULL,
  cost_micros BIGINT NOT NULL,
  PRIMARY KEY (tenant, month));
