-- Cluster membership and leases (PostgreSQL). Keep in step with ../sqlite/ of the same name.
-- Times are epoch milliseconds of the database's clock, so replicas whose clocks disagree still
-- agree on who is alive and who holds a lease.

-- One row per running replica: written at start, refreshed every heartbeat, deleted on graceful
-- shutdown, and deleted by any replica that finds its heartbeat older than the member timeout.
CREATE TABLE members (
    id           TEXT PRIMARY KEY,
    address      TEXT NOT NULL,
    version      TEXT NOT NULL,
    started_at   BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL
);

-- One row per lease ever taken. A released lease keeps its row (holder '', expires_at 0) so its
-- fencing token keeps growing across terms.
CREATE TABLE leases (
    name          TEXT PRIMARY KEY,
    holder        TEXT NOT NULL,
    fencing_token BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);
