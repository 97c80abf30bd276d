-- Which request wrote a dashboard version (sqlite). Keep in step with ../postgres/ of the same name.
-- A save sent with an Idempotency-Key stores a hash of (caller scope, key) on the version row
-- it writes, in the save's own transaction. When the replica dies after that commit but before
-- it stores the key's response, the retry (taking the key over on another replica) finds the
-- version its first attempt wrote and answers with it, instead of failing the version check.
ALTER TABLE dashboard_versions ADD COLUMN request_key TEXT;

CREATE INDEX dashboard_versions_request_key ON dashboard_versions (request_key)
    WHERE request_key IS NOT NULL;
