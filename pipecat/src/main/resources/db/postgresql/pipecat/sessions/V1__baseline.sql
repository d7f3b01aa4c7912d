-- The session store on PostgreSQL: the tables of db/pipecat/sessions (V1 to V3), shared by every replica,
-- named pipecat_* since every service's stores share the database (the gateway has a sessions table).
-- last_seq is each session's event counter: an append raises it in the statement that locks the session's
-- row, so sequences stay gapless and unique however many replicas append at once.
CREATE TABLE pipecat_sessions (
  session_id TEXT PRIMARY KEY,
  state INTEGER NOT NULL,
  create_ms BIGINT NOT NULL,
  activity_ms BIGINT NOT NULL,
  snapshot BYTEA NOT NULL,
  tenant TEXT NOT NULL,
  user_id TEXT NOT NULL,
  request_id TEXT NOT NULL DEFAULT '',
  last_seq BIGINT NOT NULL DEFAULT 0);
CREATE INDEX pipecat_sessions_by_create ON pipecat_sessions (create_ms DESC, session_id DESC);
CREATE INDEX pipecat_sessions_by_owner ON pipecat_sessions (tenant, user_id, create_ms DESC, session_id DESC);
CREATE INDEX pipecat_sessions_by_activity ON pipecat_sessions (activity_ms);
-- StartSession's request_id: a retried start of the same owner with the same id returns the first session.
CREATE UNIQUE INDEX pipecat_sessions_by_request ON pipecat_sessions (tenant, user_id, request_id)
  WHERE request_id <> '';

CREATE TABLE pipecat_history (
  session_id TEXT NOT NULL,
  position BIGINT NOT NULL,
  entry BYTEA NOT NULL,
  PRIMARY KEY (session_id, position));

CREATE TABLE pipecat_events (
  session_id TEXT NOT NULL,
  seq BIGINT NOT NULL,
  event BYTEA NOT NULL,
  PRIMARY KEY (session_id, seq));

CREATE TABLE pipecat_seen_messages (
  session_id TEXT NOT NULL,
  message_id TEXT NOT NULL,
  PRIMARY KEY (session_id, message_id));
