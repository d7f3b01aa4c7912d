-- What each owner (a tenant's user; user_id '' for the tenant-wide memories) holds in the ledger: memories in any
-- state but forgotten, and the characters of their text. Kept by triggers, so every path that adds or deletes a
-- memory (a store, a forget, a restore) counts; a store checks it against the owner's quota in its own
-- transaction (services.memory.maxMemoriesPerUser, maxTextCharsPerUser).
CREATE TABLE memory_usage (
  tenant TEXT NOT NULL,
  user_id TEXT NOT NULL,
  memories INTEGER NOT NULL,
  text_chars INTEGER NOT NULL,
  PRIMARY KEY (tenant, user_id)) WITHOUT ROWID;

INSERT INTO memory_usage (tenant, user_id, memories, text_chars)
  SELECT tenant, user_id, count(*), coalesce(sum(length(text)), 0) FROM memories GROUP BY tenant, user_id;

CREATE TRIGGER memory_usage_add AFTER INSERT ON memories
BEGIN
  INSERT INTO memory_usage (tenant, user_id, memories, text_chars) VALUES (NEW.tenant, NEW.user_id, 1, length(NEW.text))
    ON CONFLICT (tenant, user_id) DO UPDATE SET memories = memories + 1, text_chars = text_chars + excluded.text_chars;
END;

CREATE TRIGGER memory_usage_remove AFTER DELETE ON memories
BEGIN
  UPDATE memory_usage SET memories = memories - 1, text_chars = text_chars - length(OLD.text)
    WHERE tenant = OLD.tenant AND user_id = OLD.user_id;
END;
