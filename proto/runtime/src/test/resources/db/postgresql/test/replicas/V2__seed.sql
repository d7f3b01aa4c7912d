INSERT INTO replica_notes (text) VALUES ('migrated once');
