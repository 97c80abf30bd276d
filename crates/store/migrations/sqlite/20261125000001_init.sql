-- Pharos schema, version 1 (SQLite). Keep in step with ../postgres/ of the same name.
-- Times are epoch milliseconds (BIGINT). Flags are BIGINT 0/1: sqlx's Any driver cannot decode
-- SQLite booleans, and one Rust type must read both databases.

CREATE TABLE orgs (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    name    TEXT NOT NULL UNIQUE,
    created BIGINT NOT NULL,
    updated BIGINT NOT NULL
);
INSERT INTO orgs (name, created, updated) VALUES ('Main Org.', 0, 0);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    login         TEXT NOT NULL,
    email         TEXT NOT NULL,
    name          TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    is_admin      BIGINT NOT NULL DEFAULT 0,
    is_disabled   BIGINT NOT NULL DEFAULT 0,
    org_id        BIGINT NOT NULL REFERENCES orgs (id),
    theme         TEXT NOT NULL DEFAULT '',
    created       BIGINT NOT NULL,
    updated       BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX users_login_key ON users (lower(login));
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE org_users (
    org_id  BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role    TEXT NOT NULL,
    created BIGINT NOT NULL,
    updated BIGINT NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX org_users_user ON org_users (user_id);

CREATE TABLE user_sessions (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id         BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash      TEXT NOT NULL UNIQUE,
    prev_token_hash TEXT,
    created_at      BIGINT NOT NULL,
    rotated_at      BIGINT NOT NULL,
    seen_at         BIGINT NOT NULL,
    client_ip       TEXT NOT NULL DEFAULT '',
    user_agent      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX user_sessions_prev ON user_sessions (prev_token_hash);
CREATE INDEX user_sessions_user ON user_sessions (user_id);

CREATE TABLE login_attempts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    login      TEXT NOT NULL,
    ip_address TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX login_attempts_login ON login_attempts (login, created_at);
CREATE INDEX login_attempts_ip ON login_attempts (ip_address, created_at);

CREATE TABLE service_accounts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id      BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    login       TEXT NOT NULL,
    role        TEXT NOT NULL,
    is_disabled BIGINT NOT NULL DEFAULT 0,
    created     BIGINT NOT NULL,
    updated     BIGINT NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE api_tokens (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id             BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    service_account_id BIGINT NOT NULL REFERENCES service_accounts (id) ON DELETE CASCADE,
    name               TEXT NOT NULL,
    key_hash           TEXT NOT NULL UNIQUE,
    created            BIGINT NOT NULL,
    expires            BIGINT,
    last_used_at       BIGINT,
    UNIQUE (service_account_id, name)
);

CREATE TABLE folders (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id     BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    uid        TEXT NOT NULL,
    title      TEXT NOT NULL,
    version    BIGINT NOT NULL,
    created    BIGINT NOT NULL,
    updated    BIGINT NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    updated_by TEXT NOT NULL DEFAULT '',
    UNIQUE (org_id, uid),
    UNIQUE (org_id, title)
);

CREATE TABLE dashboards (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id     BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    uid        TEXT NOT NULL,
    title      TEXT NOT NULL,
    slug       TEXT NOT NULL,
    folder_id  BIGINT REFERENCES folders (id),
    version    BIGINT NOT NULL,
    tags       TEXT NOT NULL DEFAULT '[]',
    data       TEXT NOT NULL,
    created    BIGINT NOT NULL,
    updated    BIGINT NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    updated_by TEXT NOT NULL DEFAULT '',
    UNIQUE (org_id, uid)
);
CREATE UNIQUE INDEX dashboards_title_in_folder ON dashboards (org_id, coalesce(folder_id, 0), title);
CREATE INDEX dashboards_folder ON dashboards (folder_id);

CREATE TABLE dashboard_versions (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    dashboard_id   BIGINT NOT NULL REFERENCES dashboards (id) ON DELETE CASCADE,
    version        BIGINT NOT NULL,
    parent_version BIGINT NOT NULL,
    restored_from  BIGINT NOT NULL DEFAULT 0,
    message        TEXT NOT NULL DEFAULT '',
    data           TEXT NOT NULL,
    created        BIGINT NOT NULL,
    created_by     TEXT NOT NULL DEFAULT '',
    UNIQUE (dashboard_id, version)
);

CREATE TABLE dashboard_tags (
    dashboard_id BIGINT NOT NULL REFERENCES dashboards (id) ON DELETE CASCADE,
    term         TEXT NOT NULL,
    PRIMARY KEY (dashboard_id, term)
);
CREATE INDEX dashboard_tags_term ON dashboard_tags (term);

CREATE TABLE stars (
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    dashboard_id BIGINT NOT NULL REFERENCES dashboards (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, dashboard_id)
);
CREATE INDEX stars_dashboard ON stars (dashboard_id);

-- Every write that another replica may cache appends here; replicas tail it by id.
CREATE TABLE changes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id     BIGINT NOT NULL,
    entity     TEXT NOT NULL,
    entity_key TEXT NOT NULL,
    action     TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
