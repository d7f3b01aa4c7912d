-- The outbox of a shared search index (services.memory.search.engine: solr): each store and forget records here,
-- in its own transaction, the index write it owes; one replica at a time (an advisory lock) applies the oldest to
-- the index and deletes them once the index acknowledged them, so a write the index missed (SolrCloud down) is
-- applied when it is back. Empty, and never written, with the in-process index. Holds ids, never text.
CREATE TABLE memory_index_outbox (
  seq BIGSERIAL PRIMARY KEY,
  change TEXT NOT NULL,
  memory_id BIGINT NOT NULL,
  tenant TEXT NOT NULL,
  create_ms BIGINT NOT NULL);
