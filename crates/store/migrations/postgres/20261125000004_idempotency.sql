-- Idempotency keys of write requests (postgres). Keep in step with ../sqlite/ of the same name.
-- One row per (caller scope, key): claimed in flight (completed 0, locked_until in the future)
-- by the replica processing the first request, then completed with the response to replay.
-- Times are epoch milliseconds. Rows older than server.idempotency_ttl are pruned by the
-- maintenance job.
CREATE TABLE idempotency_keys (
    scope        TEXT NOT NULL,
    idem_key     TEXT NOT NULL,
    -- SHA-256 over method, path and query, and the request body's SHA-256.
    fingerprint  TEXT NOT NULL,
    -- Random token of the claim, so only its holder completes or releases it.
    owner        TEXT NOT NULL,
    completed    BIGINT NOT NULL DEFAULT 0,
    status       BIGINT NOT NULL DEFAULT 0,
    content_type TEXT NOT NULL DEFAULT '',
    body         BYTEA,
    created_at   BIGINT NOT NULL,
    -- While in flight: when another request may take the key over (the processing replica died).
    locked_until BIGINT NOT NULL,
    PRIMARY KEY (scope, idem_key)
);

CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
