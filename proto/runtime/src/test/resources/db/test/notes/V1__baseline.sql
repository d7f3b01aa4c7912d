CREATE TABLE notes (
  id INTEGER PRIMARY KEY,
  tenant TEXT NOT NULL,
  text TEXT NOT NULL);
CREATE INDEX notes_by_tenant ON notes(tenant, id);
