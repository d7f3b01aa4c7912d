-- Stores by request id (AIP-155): a retried StoreMemory with the request id of an earlier one by the same
-- principal returns that store's memory. Holds names, never text; purged after a day by the sweeper.
CREATE TABLE store_requests (
  principal TEXT NOT NULL,
  request_id TEXT NOT NULL,
  memory TEXT NOT NULL,
  created INTEGER NOT NULL,
  create_ms INTEGER NOT NULL,
  PRIMARY KEY (principal, request_id)) WITHOUT ROWID;
CREATE INDEX store_requests_age ON store_requests(create_ms);
