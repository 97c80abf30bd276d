-- Objects created from provisioning files (sqlite). Keep in step with ../postgres/ of the same name.
-- One row per provisioned dashboard or datasource: which provider and file it came from, the hash
-- of what was last applied (an unchanged file is not written again) and whether the API may
-- change it. The API refuses writes to a row's object unless allow_updates is set.
CREATE TABLE provisioned (
    org_id        BIGINT NOT NULL,
    kind          TEXT NOT NULL,
    uid           TEXT NOT NULL,
    provider      TEXT NOT NULL,
    origin        TEXT NOT NULL,
    content_hash  TEXT NOT NULL,
    allow_updates BIGINT NOT NULL,
    updated       BIGINT NOT NULL,
    PRIMARY KEY (org_id, kind, uid)
);

CREATE INDEX provisioned_provider ON provisioned (kind, provider);
