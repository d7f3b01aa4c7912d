-- What each owner (a tenant's user; user_id '' for the tenant-wide memories) holds in the ledger: memories in any
-- state but forgotten, and the characters of their text. Kept by a trigger, so every path that adds or deletes a
-- memory (a store, a forget, a restore) counts; a store checks it against the owner's quota in its own
-- transaction, where the row's lock orders the replicas' stores of one owner.
CREATE TABLE memory_usage (
  tenant TEXT NOT NULL,
  user_id TEXT NOT NULL,
  memories BIGINT NOT NULL,
  text_chars BIGINT NOT NULL,
  PRIMARY KEY (tenant, user_id));

INSERT INTO memory_usage (tenant, user_id, memories, text_chars)
  SELECT tenant, user_id, count(*), coalesce(sum(length(text)), 0) FROM memories GROUP BY tenant, user_id;

CREATE FUNCTION memory_usage_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO memory_usage (tenant, user_id, memories, text_chars) VALUES (NEW.tenant, NEW.user_id, 1, length(NEW.text))
      ON CONFLICT (tenant, user_id) DO UPDATE
      SET memories = memory_usage.memories + 1, text_chars = memory_usage.text_chars + EXCLUDED.text_chars;
    RETURN NEW;
  END IF;
  UPDATE memory_usage SET memories = memories - 1, text_chars = text_chars - length(OLD.text)
    WHERE tenant = OLD.tenant AND user_id = OLD.user_id;
  RETURN OLD;
END $$;

CREATE TRIGGER memory_usage_count AFTER INSERT OR DELETE ON memories
FOR EACH ROW EXECUTE FUNCTION memory_usage_count();
