-- Training locks on PostgreSQL, as on SQLite (db/evaos/training): one row per tenant in training mode; a row
-- past expire_ms reads as off and is replaced or removed.
CREATE TABLE training_locks (
  tenant TEXT PRIMARY KEY,
  reason TEXT NOT NULL,
  enabled_by TEXT NOT NULL,
  since_ms BIGINT NOT NULL,
  expire_ms BIGINT NOT NULL);
