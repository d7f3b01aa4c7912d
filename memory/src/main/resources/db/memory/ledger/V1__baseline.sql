-- The ledger as the user_version list made it (its version 1): memories, their metadata, vectors, the
-- full-text index and the audit log. A database made before Flyway (user_version = 1) is adopted at this
-- version without running it.
CREATE TABLE memories (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  tenant TEXT NOT NULL,
  user_id TEXT NOT NULL,
  session_id TEXT NOT NULL,
  kind INTEGER NOT NULL,
  text TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  source TEXT NOT NULL,
  trust TEXT NOT NULL,
  state INTEGER NOT NULL,
  create_ms INTEGER NOT NULL,
  access_ms INTEGER NOT NULL,
  access_count INTEGER NOT NULL DEFAULT 0,
  valid_from_ms INTEGER NOT NULL,
  valid_to_ms INTEGER,
  expire_ms INTEGER,
  supersedes TEXT NOT NULL DEFAULT '',
  superseded_by TEXT NOT NULL DEFAULT '');

-- Idempotency: one active memory per scope and content hash.
CREATE UNIQUE INDEX memories_active_hash ON memories(tenant, user_id, session_id, content_hash) WHERE state = 1;
CREATE INDEX memories_scope ON memories(tenant, user_id, session_id, id);
CREATE INDEX memories_expiry ON memories(expire_ms) WHERE state = 1 AND expire_ms IS NOT NULL;

CREATE TABLE memory_metadata (
  memory_id INTEGER NOT NULL REFERENCES memories(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (memory_id, key)) WITHOUT ROWID;
CREATE INDEX memory_metadata_pair ON memory_metadata(key, value, memory_id);

CREATE TABLE memory_vectors (
  memory_id INTEGER PRIMARY KEY REFERENCES memories(id) ON DELETE CASCADE,
  tenant TEXT NOT NULL,
  model TEXT NOT NULL,
  vector BLOB NOT NULL);

-- Contentless with delete support: the text lives only in memories, so forgetting a memory leaves no copy
-- of it in the index.
CREATE VIRTUAL TABLE memory_fts USING fts5(text, content='', contentless_delete=1, tokenize='porter unicode61');
INSERT INTO memory_fts(memory_fts, rank) VALUES('secure-delete', 1);

CREATE TABLE audit_records (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  action TEXT NOT NULL,
  memory TEXT NOT NULL,
  tenant TEXT NOT NULL,
  principal TEXT NOT NULL,
  correlation_id TEXT NOT NULL,
  create_ms INTEGER NOT NULL,
  detail TEXT NOT NULL);
CREATE INDEX audit_records_memory ON audit_records(memory, id);
CREATE TRIGGER audit_records_no_update BEFORE UPDATE ON audit_records
  BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
CREATE TRIGGER audit_records_no_delete BEFORE DELETE ON audit_records
  BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
