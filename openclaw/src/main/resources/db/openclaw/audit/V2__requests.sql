-- The first result of each request_id of a principal, so a retried ExecuteTool does not run twice.
CREATE TABLE requests (
  principal TEXT NOT NULL, request_id TEXT NOT NULL, response BLOB NOT NULL, create_ms INTEGER NOT NULL,
  PRIMARY KEY (principal, request_id));
CREATE INDEX requests_time ON requests(create_ms);
