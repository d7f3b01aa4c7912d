-- At most one pending approval per action (its hash) and session of a requester, as Approvals keeps it within
-- one JVM: replicas asked for the same action at the same moment share one approval instead of making two.
CREATE UNIQUE INDEX approvals_one_pending ON approvals (tenant, requester, action_hash, session_id) WHERE state = 1;
