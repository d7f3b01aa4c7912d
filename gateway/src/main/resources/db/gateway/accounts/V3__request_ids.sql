-- The request_id of creates (Register, CreateApiKey) per caller, with what each made, so a retried create
-- returns the first one's result for at least 24 hours; older entries are dropped as new ones come.
CREATE TABLE request_ids (
  principal TEXT NOT NULL,
  method TEXT NOT NULL,
  request_id TEXT NOT NULL,
  result_id TEXT NOT NULL,
  create_ms INTEGER NOT NULL,
  PRIMARY KEY (principal, method, request_id)) WITHOUT ROWID;

CREATE INDEX request_ids_by_time ON request_ids(create_ms);
