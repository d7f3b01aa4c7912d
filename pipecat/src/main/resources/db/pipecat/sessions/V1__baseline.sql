-- Sessions, their history, their recent events and the message ids they have seen. Idempotent: a database
-- made before Flyway has these tables already (perhaps without the owner columns, which V2 adds).
CREATE TABLE IF NOT EXISTS sessions (session_id TEXT PRIMARY KEY, state INTEGER NOT NULL,
    create_ms INTEGER NOT NULL, activity_ms INTEGER NOT NULL, snapshot BLOB NOT NULL,
    tenant TEXT NOT NULL, user_id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS sessions_by_create ON sessions (create_ms DESC, session_id DESC);
CREATE TABLE IF NOT EXISTS history (session_id TEXT NOT NULL, position INTEGER NOT NULL,
    entry BLOB NOT NULL, PRIMARY KEY (session_id, position));
CREATE TABLE IF NOT EXISTS events (session_id TEXT NOT NULL, seq INTEGER NOT NULL,
    event BLOB NOT NULL, PRIMARY KEY (session_id, seq));
CREATE TABLE IF NOT EXISTS seen_messages (session_id TEXT NOT NULL,
    message_id TEXT NOT NULL, PRIMARY KEY (session_id, message_id));
