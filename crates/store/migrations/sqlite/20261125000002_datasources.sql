-- Datasources and the secret-key check (SQLite). Keep in step with ../postgres/ of the same name.
-- `secure_json_data` holds a JSON object of encrypted values only (never plaintext); the server
-- encrypts with AES-256-GCM under a key derived from `security.secret_key`.

CREATE TABLE datasources (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id           BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    uid              TEXT NOT NULL,
    name             TEXT NOT NULL,
    type             TEXT NOT NULL,
    access           TEXT NOT NULL DEFAULT 'proxy',
    url              TEXT NOT NULL DEFAULT '',
    username         TEXT NOT NULL DEFAULT '',
    database_name    TEXT NOT NULL DEFAULT '',
    basic_auth       BIGINT NOT NULL DEFAULT 0,
    basic_auth_user  TEXT NOT NULL DEFAULT '',
    with_credentials BIGINT NOT NULL DEFAULT 0,
    is_default       BIGINT NOT NULL DEFAULT 0,
    json_data        TEXT NOT NULL DEFAULT '{}',
    secure_json_data TEXT NOT NULL DEFAULT '{}',
    read_only        BIGINT NOT NULL DEFAULT 0,
    version          BIGINT NOT NULL DEFAULT 1,
    created          BIGINT NOT NULL,
    updated          BIGINT NOT NULL,
    UNIQUE (org_id, uid),
    UNIQUE (org_id, name)
);
-- At most one default per org, whatever races the application's rule loses.
CREATE UNIQUE INDEX datasources_one_default ON datasources (org_id) WHERE is_default = 1;

-- One row: a value derived from the secret key that encrypted this database's secrets. A replica
-- whose key derives another value refuses to start instead of writing secrets no one can read.
CREATE TABLE secret_key_check (
    id          BIGINT PRIMARY KEY,
    check_value TEXT NOT NULL,
    created     BIGINT NOT NULL
);
