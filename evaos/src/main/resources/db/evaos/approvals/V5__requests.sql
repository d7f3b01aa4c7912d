-- The first response to each request_id of a requester, so a retried AuthorizeAction is answered the same.
CREATE TABLE requests (
  tenant TEXT NOT NULL, requester TEXT NOT NULL, request_id TEXT NOT NULL, response BLOB NOT NULL,
  create_ms INTEGER NOT NULL, PRIMARY KEY (tenant, requester, request_id));
CREATE INDEX requests_time ON requests(create_ms);
