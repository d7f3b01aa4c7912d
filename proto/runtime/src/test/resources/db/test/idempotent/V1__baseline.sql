CREATE TABLE IF NOT EXISTS notes (
  id INTEGER PRIMARY KEY,
  tenant TEXT NOT NULL,
  text TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS notes_by_tenant ON notes(tenant, id);
