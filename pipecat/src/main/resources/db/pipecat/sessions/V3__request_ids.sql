-- StartSession's request_id: a retried start of the same owner with the same id returns the first session.
ALTER TABLE sessions ADD COLUMN request_id TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX sessions_by_request ON sessions (tenant, user_id, request_id) WHERE request_id <> '';
