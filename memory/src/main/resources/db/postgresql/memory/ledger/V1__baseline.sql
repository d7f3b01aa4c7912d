-- The memory ledger on PostgreSQL: the tables of db/memory/ledger as its V1 to V3 leave them (no full-text
-- table: BM25 is the in-process Lucene index's), plus the change feed every replica's index follows.
CREATE TABLE memories (
  id BIGSERIAL PRIMARY KEY,
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
  create_ms BIGINT NOT NULL,
  access_ms BIGINT NOT NULL,
  access_count BIGINT NOT NULL DEFAULT 0,
  valid_from_ms BIGINT NOT NULL,
  valid_to_ms BIGINT,
  expire_ms BIGINT,
  supersedes TEXT NOT NULL DEFAULT '',
  superseded_by TEXT NOT NULL DEFAULT '');

-- Idempotency: one active memory per scope and content hash (replicas storing the same text at once meet here).
CREATE UNIQUE INDEX memories_active_hash ON memories(tenant, user_id, session_id, content_hash) WHERE state = 1;
CREATE INDEX memories_scope ON memories(tenant, user_id, session_id, id);
CREATE INDEX memories_expiry ON memories(expire_ms) WHERE state = 1 AND expire_ms IS NOT NULL;

CREATE TABLE memory_metadata (
  memory_id BIGINT NOT NULL REFERENCES memories(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (memory_id, key));
CREATE INDEX memory_metadata_pair ON memory_metadata(key, value, memory_id);

-- Vectors as little-endian float32 bytes, as in the SQLite ledger.
CREATE TABLE memory_vectors (
  memory_id BIGINT PRIMARY KEY REFERENCES memories(id) ON DELETE CASCADE,
  tenant TEXT NOT NULL,
  model TEXT NOT NULL,
  vector BYTEA NOT NULL);

CREATE TABLE audit_records (
  id BIGSERIAL PRIMARY KEY,
  action TEXT NOT NULL,
  memory TEXT NOT NULL,
  tenant TEXT NOT NULL,
  principal TEXT NOT NULL,
  correlation_id TEXT NOT NULL,
  create_ms BIGINT NOT NULL,
  detail TEXT NOT NULL);
CREATE INDEX audit_records_memory ON audit_records(memory, id);
CREATE INDEX audit_records_tenant ON audit_records(tenant, id);

CREATE FUNCTION audit_records_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit records are append-only';
END $$;

CREATE TRIGGER audit_records_append_only BEFORE UPDATE OR DELETE ON audit_records
FOR EACH ROW EXECUTE FUNCTION audit_records_append_only();

-- Stores by request id (AIP-155), as db/memory/ledger V2.
CREATE TABLE store_requests (
  principal TEXT NOT NULL,
  request_id TEXT NOT NULL,
  memory TEXT NOT NULL,
  created INTEGER NOT NULL,
  create_ms BIGINT NOT NULL,
  PRIMARY KEY (principal, request_id));
CREATE INDEX store_requests_age ON store_requests(create_ms);

-- What changed in the searchable set (ADD, REMOVE, RELOAD after a restore), for the in-process index of every
-- replica. A reader keeps the oldest transaction id still running at its last read (pg_snapshot_xmin) and
-- reads the rows of every transaction from there: a change committed later than one with a higher seq is
-- still read, which a seq cursor alone would pass. Rows older than a day are pruned by the sweeper.
CREATE TABLE memory_changes (
  seq BIGSERIAL PRIMARY KEY,
  xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
  change TEXT NOT NULL,
  memory_id BIGINT NOT NULL,
  tenant TEXT NOT NULL,
  create_ms BIGINT NOT NULL);
CREATE INDEX memory_changes_xid ON memory_changes(xid);
CREATE INDEX memory_changes_age ON memory_changes(create_ms);
