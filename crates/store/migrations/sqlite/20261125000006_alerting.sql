-- Alerting (SQLite). Keep in step with ../postgres/ of the same name.
-- Rule bodies, instance states, payloads, policy trees and matchers are JSON text written by the
-- alerting crate; the store keeps the columns it looks rows up by beside them. Times are epoch
-- milliseconds: the replica's clock for rules, instances, history, contact points, policies and
-- silences; the database's clock for the notification log (claims and backoff compare against it,
-- so replicas whose clocks disagree still agree on what is due).

-- A rule group: the folder-scoped unit Grafana evaluates on one interval.
CREATE TABLE alert_rule_groups (
    org_id           BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    folder_uid       TEXT NOT NULL,
    name             TEXT NOT NULL,
    interval_seconds BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    PRIMARY KEY (org_id, folder_uid, name)
);

-- One rule, in Grafana's provisioning model (`data`), at position `group_index` of its group.
CREATE TABLE alert_rules (
    org_id      BIGINT NOT NULL,
    uid         TEXT NOT NULL,
    folder_uid  TEXT NOT NULL,
    rule_group  TEXT NOT NULL,
    group_index BIGINT NOT NULL,
    title       TEXT NOT NULL,
    data        TEXT NOT NULL,
    version     BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    provenance  TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (org_id, uid),
    FOREIGN KEY (org_id, folder_uid, rule_group)
        REFERENCES alert_rule_groups (org_id, folder_uid, name) ON DELETE CASCADE
);
-- Grafana: a rule's title is unique within its folder.
CREATE UNIQUE INDEX alert_rules_title_in_folder ON alert_rules (org_id, folder_uid, title);
CREATE INDEX alert_rules_group ON alert_rules (org_id, folder_uid, rule_group, group_index);

-- The persisted state of one alert instance (one series of a rule). No foreign key to the rule:
-- the store deletes a rule's instances with it, and a save for a deleted rule is refused.
CREATE TABLE alert_instances (
    org_id      BIGINT NOT NULL,
    rule_uid    TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    labels      TEXT NOT NULL,
    state       TEXT NOT NULL,
    data        TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (org_id, rule_uid, fingerprint)
);

-- Every state transition of every instance, append-only; pruned by age.
CREATE TABLE alert_state_history (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id      BIGINT NOT NULL,
    rule_uid    TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    labels      TEXT NOT NULL,
    from_state  TEXT NOT NULL,
    to_state    TEXT NOT NULL,
    at          BIGINT NOT NULL,
    eval_values TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX alert_state_history_rule ON alert_state_history (org_id, rule_uid, at);
CREATE INDEX alert_state_history_org ON alert_state_history (org_id, at);
CREATE INDEX alert_state_history_at ON alert_state_history (at);

-- Every notification, recorded under its unique key before it is sent (exactly once across
-- replicas: the key refuses a second row), then claimed, delivered or retried with backoff.
CREATE TABLE notification_log (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id          BIGINT NOT NULL,
    notify_key      TEXT NOT NULL,
    receiver        TEXT NOT NULL,
    payload         TEXT NOT NULL,
    fencing_token   BIGINT NOT NULL,
    status          TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    delivered_at    BIGINT,
    UNIQUE (org_id, notify_key)
);
CREATE INDEX notification_log_due ON notification_log (status, next_attempt_at);
CREATE INDEX notification_log_created ON notification_log (created_at);

-- The persisted state of each aggregation group (the alerts one policy sends to one receiver
-- with the same group labels, and its timers), so a new lease holder plans the same flushes.
CREATE TABLE notification_groups (
    org_id     BIGINT NOT NULL,
    receiver   TEXT NOT NULL,
    group_key  TEXT NOT NULL,
    state      TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, receiver, group_key)
);

-- One integration of a contact point (Grafana groups integrations by `name`). `secure_settings`
-- holds a JSON object of encrypted values only, as datasources' secure_json_data does.
CREATE TABLE contact_points (
    org_id                  BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    uid                     TEXT NOT NULL,
    name                    TEXT NOT NULL,
    type                    TEXT NOT NULL,
    settings                TEXT NOT NULL DEFAULT '{}',
    secure_settings         TEXT NOT NULL DEFAULT '{}',
    disable_resolve_message BIGINT NOT NULL DEFAULT 0,
    provenance              TEXT NOT NULL DEFAULT '',
    version                 BIGINT NOT NULL,
    updated_at              BIGINT NOT NULL,
    PRIMARY KEY (org_id, uid)
);
CREATE INDEX contact_points_name ON contact_points (org_id, name);

-- The notification policy tree of an org (absent: the default policy).
CREATE TABLE notification_policies (
    org_id     BIGINT PRIMARY KEY REFERENCES orgs (id) ON DELETE CASCADE,
    tree       TEXT NOT NULL,
    version    BIGINT NOT NULL,
    provenance TEXT NOT NULL DEFAULT '',
    updated_at BIGINT NOT NULL
);

CREATE TABLE silences (
    org_id     BIGINT NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    id         TEXT NOT NULL,
    matchers   TEXT NOT NULL,
    starts_at  BIGINT NOT NULL,
    ends_at    BIGINT NOT NULL,
    comment    TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL DEFAULT '',
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX silences_ends ON silences (org_id, ends_at);
