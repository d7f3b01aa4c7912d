-- What the services' schemas hold besides tables: a trigger with a body of statements, a partial index,
-- a WITHOUT ROWID table and a contentless FTS5 table with a setting.
CREATE TABLE note_log (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  note INTEGER NOT NULL,
  detail TEXT NOT NULL);
CREATE TRIGGER note_log_no_update BEFORE UPDATE ON note_log
BEGIN
  SELECT RAISE(ABORT, 'the log is append-only; no; really');
END;
CREATE INDEX notes_tagged ON notes(tenant) WHERE tags <> '';
CREATE TABLE note_meta (note INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
                        PRIMARY KEY (note, key)) WITHOUT ROWID;
CREATE VIRTUAL TABLE note_fts USING fts5(text, content='', contentless_delete=1, tokenize='porter unicode61');
INSERT INTO note_fts(note_fts, rank) VALUES('secure-delete', 1);
