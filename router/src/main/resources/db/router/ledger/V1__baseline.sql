-- The ledger as the router made it before Flyway; IF NOT EXISTS, so a database made then is adopted as is.
CREATE TABLE IF NOT EXISTS usage (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  ts_ms INTEGER NOT NULL,
  day TEXT NOT NULL,
  tenant TEXT NOT NULL,
  principal TEXT NOT NULL,
  alias TEXT NOT NULL,
  deployment TEXT NOT NULL,
  provider TEXT NOT NULL,
  prompt_tokens INTEGER NOT NULL CHECK (prompt_tokens >= 0),
  completion_tokens INTEGER NOT NULL CHECK (completion_tokens >= 0),
  cost_micros INTEGER NOT NULL CHECK (cost_micros >= 0),
  latency_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS usage_tenant_day ON usage (tenant, day);
CREATE INDEX IF NOT EXISTS usage_day ON usage (day);
