-- True while a user's password is one Sonia generated (the first admin's) and the user has not chosen another.
-- V4 as on SQLite (V3 there added request ids, which the PostgreSQL baseline already has), so the versions agree.
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
