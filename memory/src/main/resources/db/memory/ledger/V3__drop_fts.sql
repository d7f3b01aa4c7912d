-- BM25 has one path, the in-memory Lucene index (rebuilt from the ledger at start): the FTS5 index answered only
-- until that was built, cost every store a write, and scored every match of a query (slow for common words).
-- Dropped with secure_delete on, so the text it indexed does not linger in freed pages.
DROP TABLE IF EXISTS memory_fts;
