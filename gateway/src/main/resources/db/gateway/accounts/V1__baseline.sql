-- Tenants, users, login sessions with their (hashed) refresh tokens, and (hashed) API keys.
-- No foreign keys on sessions and keys: a deleted user's revoked sessions stay on record, so the revocation
-- of their access tokens survives a restart.
CREATE TABLE tenants (
  id TEXT PRIMARY KEY,
  create_ms INTEGER NOT NULL);

CREATE TABLE users (
  id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL REFERENCES tenants(id),
  username TEXT NOT NULL UNIQUE COLLATE NOCASE,
  display_name TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  role TEXT NOT NULL,
  create_ms INTEGER NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0);

CREATE INDEX users_by_tenant ON users(tenant, username);

CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  create_ms INTEGER NOT NULL,
  revoked_ms INTEGER NOT NULL DEFAULT 0);

CREATE INDEX sessions_by_user ON sessions(user_id);
CREATE INDEX sessions_by_revocation ON sessions(revoked_ms);

CREATE TABLE refresh_tokens (
  hash TEXT PRIMARY KEY,
  session_id TEXT NOT NULL,
  create_ms INTEGER NOT NULL,
  expire_ms INTEGER NOT NULL,
  used_ms INTEGER NOT NULL DEFAULT 0);

CREATE INDEX refresh_tokens_by_session ON refresh_tokens(session_id);

CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  owner TEXT NOT NULL,
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  create_ms INTEGER NOT NULL,
  revoked_ms INTEGER NOT NULL DEFAULT 0);

CREATE INDEX api_keys_by_owner ON api_keys(tenant, owner);
