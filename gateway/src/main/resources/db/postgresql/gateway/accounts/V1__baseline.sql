-- The accounts on PostgreSQL: the tables of db/gateway/accounts V1 and V3 (its V2, the audit events, is V2 here).
-- Usernames are unique without case (SQLite's COLLATE NOCASE): a unique index on lower(username).
CREATE TABLE tenants (
  id TEXT PRIMARY KEY,
  create_ms BIGINT NOT NULL);

CREATE TABLE users (
  id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL REFERENCES tenants(id),
  username TEXT NOT NULL,
  display_name TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  role TEXT NOT NULL,
  create_ms BIGINT NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0);

CREATE UNIQUE INDEX users_by_name ON users(lower(username));
CREATE INDEX users_by_tenant ON users(tenant, lower(username));

CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  create_ms BIGINT NOT NULL,
  revoked_ms BIGINT NOT NULL DEFAULT 0);

CREATE INDEX sessions_by_user ON sessions(user_id);
CREATE INDEX sessions_by_revocation ON sessions(revoked_ms);

CREATE TABLE refresh_tokens (
  hash TEXT PRIMARY KEY,
  session_id TEXT NOT NULL,
  create_ms BIGINT NOT NULL,
  expire_ms BIGINT NOT NULL,
  used_ms BIGINT NOT NULL DEFAULT 0);

CREATE INDEX refresh_tokens_by_session ON refresh_tokens(session_id);

CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  owner TEXT NOT NULL,
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  create_ms BIGINT NOT NULL,
  revoked_ms BIGINT NOT NULL DEFAULT 0);

CREATE INDEX api_keys_by_owner ON api_keys(tenant, owner);

CREATE TABLE request_ids (
  principal TEXT NOT NULL,
  method TEXT NOT NULL,
  request_id TEXT NOT NULL,
  result_id TEXT NOT NULL,
  create_ms BIGINT NOT NULL,
  PRIMARY KEY (principal, method, request_id));

CREATE INDEX request_ids_by_time ON request_ids(create_ms);
