//! Alert rules and rule groups, by Grafana's rules: a rule's uid is unique in the org and its
//! title unique in its folder; a group (folder, name) has one evaluation interval and keeps its
//! rules in order; a group exists while it has rules. Each rule has a version that every write
//! raises, so a save naming a stale version fails with `VersionMismatch`.

use std::collections::BTreeMap;

use sqlx::{Any, Transaction};

use super::{check_json, check_name};
use crate::changes::record;
use crate::dashboards::{generate_uid, validate_uid};
use crate::retry::retry_transaction;
use crate::sql::SqlBuilder;
use crate::{now_ms, Store, StoreError, StoreResult};

/// A stored rule. `data` is the rule's JSON in Grafana's provisioning model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertRule {
    pub org_id: i64,
    pub uid: String,
    pub folder_uid: String,
    pub rule_group: String,
    /// Position in the group, from 0.
    pub group_index: i64,
    pub title: String,
    pub data: String,
    pub version: i64,
    pub updated_at: i64,
    /// Where the rule came from ("" for the UI, "api", "file").
    pub provenance: String,
}

/// A rule as created or updated one at a time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewAlertRule {
    /// Empty on create: a uid is generated.
    pub uid: String,
    pub folder_uid: String,
    pub rule_group: String,
    pub title: String,
    pub data: String,
    pub provenance: String,
}

/// A group with its rules in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertRuleGroup {
    pub org_id: i64,
    pub folder_uid: String,
    pub name: String,
    pub interval_seconds: i64,
    pub updated_at: i64,
    pub rules: Vec<AlertRule>,
}

/// One rule of a group replacement.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupRule {
    /// Empty: a new rule with a generated uid. A uid of a rule in another group moves it here.
    pub uid: String,
    pub title: String,
    pub data: String,
    /// The version the client read; a different stored version fails with `VersionMismatch`.
    /// `None` skips the check.
    pub version: Option<i64>,
}

/// Grafana's `PUT .../folder/{folder}/rule-groups/{group}`: the group's interval and its whole
/// list of rules, in order. Rules of the group missing from `rules` are deleted; an empty list
/// deletes the group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertRuleGroupUpdate {
    pub folder_uid: String,
    pub name: String,
    pub interval_seconds: i64,
    pub provenance: String,
    pub rules: Vec<GroupRule>,
}

const SELECT_RULES: &str = "SELECT org_id, uid, folder_uid, rule_group, group_index, title, data, \
     version, updated_at, provenance FROM alert_rules";

type RuleRow = (
    i64,
    String,
    String,
    String,
    i64,
    String,
    String,
    i64,
    i64,
    String,
);

fn rule_from(r: RuleRow) -> AlertRule {
    AlertRule {
        org_id: r.0,
        uid: r.1,
        folder_uid: r.2,
        rule_group: r.3,
        group_index: r.4,
        title: r.5,
        data: r.6,
        version: r.7,
        updated_at: r.8,
        provenance: r.9,
    }
}

pub(super) fn check_rule(
    folder_uid: &str,
    group: &str,
    title: &str,
    data: &str,
) -> StoreResult<()> {
    if folder_uid.is_empty() {
        return Err(StoreError::Invalid("folderUID is required".into()));
    }
    validate_uid(folder_uid)?;
    check_name("rule group", group)?;
    check_name("title", title)?;
    check_json("rule", data, "object")
}

pub(super) fn check_interval(interval_seconds: i64) -> StoreResult<()> {
    if interval_seconds > 0 {
        Ok(())
    } else {
        Err(StoreError::Invalid(
            "rule group interval must be positive".into(),
        ))
    }
}

pub(super) fn uid_or_new(uid: &str) -> StoreResult<String> {
    if uid.is_empty() {
        Ok(generate_uid())
    } else {
        validate_uid(uid)?;
        Ok(uid.to_string())
    }
}

pub(super) fn group_key(folder_uid: &str, name: &str) -> String {
    format!("{folder_uid}/{name}")
}

/// Checks that the folder exists and locks its row for the rest of the transaction: rule writes
/// in one folder take turns on PostgreSQL, so the title check cannot be raced (SQLite runs one
/// writer at a time anyway).
pub(super) async fn require_folder(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    folder_uid: &str,
) -> StoreResult<()> {
    let n = sqlx::query("UPDATE folders SET version = version WHERE org_id = $1 AND uid = $2")
        .bind(org_id)
        .bind(folder_uid.to_string())
        .execute(&mut **tx)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(StoreError::Invalid(format!(
            "folder {folder_uid} does not exist"
        )));
    }
    Ok(())
}

/// The uid of the rule titled `title` in the folder, if any.
pub(super) async fn title_owner(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    folder_uid: &str,
    title: &str,
) -> StoreResult<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT uid FROM alert_rules WHERE org_id = $1 AND folder_uid = $2 AND title = $3",
    )
    .bind(org_id)
    .bind(folder_uid.to_string())
    .bind(title.to_string())
    .fetch_optional(&mut **tx)
    .await?)
}

pub(super) async fn rule_in_tx(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    uid: &str,
) -> StoreResult<Option<AlertRule>> {
    let sql = format!("{SELECT_RULES} WHERE org_id = $1 AND uid = $2");
    let row: Option<RuleRow> = sqlx::query_as(&sql)
        .bind(org_id)
        .bind(uid.to_string())
        .fetch_optional(&mut **tx)
        .await?;
    Ok(row.map(rule_from))
}

/// Creates the group when missing (with `interval_seconds`; an existing group keeps its own) and
/// locks its row for the rest of the transaction, so writers of one group take turns on
/// PostgreSQL (positions are read after the lock).
async fn ensure_group(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    folder_uid: &str,
    name: &str,
    interval_seconds: i64,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO alert_rule_groups (org_id, folder_uid, name, interval_seconds, updated_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (org_id, folder_uid, name) \
         DO UPDATE SET updated_at = excluded.updated_at",
    )
    .bind(org_id)
    .bind(folder_uid.to_string())
    .bind(name.to_string())
    .bind(interval_seconds)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn next_index(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    folder_uid: &str,
    name: &str,
) -> StoreResult<i64> {
    let max: Option<i64> = sqlx::query_scalar(
        "SELECT max(group_index) FROM alert_rules \
         WHERE org_id = $1 AND folder_uid = $2 AND rule_group = $3",
    )
    .bind(org_id)
    .bind(folder_uid.to_string())
    .bind(name.to_string())
    .fetch_one(&mut **tx)
    .await?;
    Ok(max.map_or(0, |m| m + 1))
}

/// Deletes the group when it has no rules left (recording the change). The group's row is locked
/// first and the emptiness read by a later statement, so on PostgreSQL a rule another
/// transaction just added to the group is seen (and the group kept) instead of being deleted
/// with it by the cascade.
pub(super) async fn drop_group_if_empty(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    folder_uid: &str,
    name: &str,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE alert_rule_groups SET updated_at = updated_at \
         WHERE org_id = $1 AND folder_uid = $2 AND name = $3",
    )
    .bind(org_id)
    .bind(folder_uid.to_string())
    .bind(name.to_string())
    .execute(&mut **tx)
    .await?;
    let deleted = sqlx::query(
        "DELETE FROM alert_rule_groups WHERE org_id = $1 AND folder_uid = $2 AND name = $3 \
         AND NOT EXISTS (SELECT 1 FROM alert_rules r WHERE r.org_id = $1 \
                         AND r.folder_uid = $2 AND r.rule_group = $3)",
    )
    .bind(org_id)
    .bind(folder_uid.to_string())
    .bind(name.to_string())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if deleted > 0 {
        record(
            tx,
            org_id,
            "alert_rule_group",
            &group_key(folder_uid, name),
            "delete",
        )
        .await?;
    }
    Ok(())
}

/// Deletes the rule's row and its instances (recording the change).
pub(super) async fn delete_rule_rows(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    uid: &str,
) -> StoreResult<()> {
    for sql in [
        "DELETE FROM alert_rules WHERE org_id = $1 AND uid = $2",
        "DELETE FROM alert_instances WHERE org_id = $1 AND rule_uid = $2",
    ] {
        sqlx::query(sql)
            .bind(org_id)
            .bind(uid.to_string())
            .execute(&mut **tx)
            .await?;
    }
    record(tx, org_id, "alert_rule", uid, "delete").await
}

pub(super) async fn insert_rule(
    tx: &mut Transaction<'static, Any>,
    rule: &AlertRule,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO alert_rules (org_id, uid, folder_uid, rule_group, group_index, title, data, \
         version, updated_at, provenance) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(rule.org_id)
    .bind(rule.uid.clone())
    .bind(rule.folder_uid.clone())
    .bind(rule.rule_group.clone())
    .bind(rule.group_index)
    .bind(rule.title.clone())
    .bind(rule.data.clone())
    .bind(rule.version)
    .bind(rule.updated_at)
    .bind(rule.provenance.clone())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// Creates a rule at the end of its group, creating the group with `interval_seconds` when it
    /// does not exist. `AlreadyExists` for a taken uid, `NameExists` for a title taken in the
    /// folder, `Invalid` for a missing folder or malformed input.
    pub async fn create_alert_rule(
        &self,
        org_id: i64,
        rule: &NewAlertRule,
        interval_seconds: i64,
    ) -> StoreResult<AlertRule> {
        check_rule(&rule.folder_uid, &rule.rule_group, &rule.title, &rule.data)?;
        check_interval(interval_seconds)?;
        let uid = &uid_or_new(&rule.uid)?;
        retry_transaction("create alert rule", move || async move {
            let now = now_ms();
            let mut tx = self.begin_write().await?;
            require_folder(&mut tx, org_id, &rule.folder_uid).await?;
            ensure_group(
                &mut tx,
                org_id,
                &rule.folder_uid,
                &rule.rule_group,
                interval_seconds,
                now,
            )
            .await?;
            if rule_in_tx(&mut tx, org_id, uid).await?.is_some() {
                return Err(StoreError::AlreadyExists);
            }
            if title_owner(&mut tx, org_id, &rule.folder_uid, &rule.title)
                .await?
                .is_some()
            {
                return Err(StoreError::NameExists);
            }
            let stored = AlertRule {
                org_id,
                uid: uid.clone(),
                folder_uid: rule.folder_uid.clone(),
                rule_group: rule.rule_group.clone(),
                group_index: next_index(&mut tx, org_id, &rule.folder_uid, &rule.rule_group)
                    .await?,
                title: rule.title.clone(),
                data: rule.data.clone(),
                version: 1,
                updated_at: now,
                provenance: rule.provenance.clone(),
            };
            insert_rule(&mut tx, &stored).await?;
            record(&mut tx, org_id, "alert_rule", uid, "create").await?;
            let key = group_key(&rule.folder_uid, &rule.rule_group);
            record(&mut tx, org_id, "alert_rule_group", &key, "update").await?;
            tx.commit().await?;
            Ok(stored)
        })
        .await
    }

    /// Updates the rule `rule.uid`. A rule moved to another folder or group goes to the end of
    /// that group (created with `interval_seconds` when missing); the group it left is deleted
    /// when empty. `version`, when given, must equal the stored version.
    pub async fn update_alert_rule(
        &self,
        org_id: i64,
        rule: &NewAlertRule,
        version: Option<i64>,
        interval_seconds: i64,
    ) -> StoreResult<AlertRule> {
        check_rule(&rule.folder_uid, &rule.rule_group, &rule.title, &rule.data)?;
        check_interval(interval_seconds)?;
        retry_transaction("update alert rule", move || async move {
            let now = now_ms();
            let mut tx = self.begin_write().await?;
            require_folder(&mut tx, org_id, &rule.folder_uid).await?;
            let current = rule_in_tx(&mut tx, org_id, &rule.uid)
                .await?
                .ok_or(StoreError::NotFound)?;
            if version.is_some_and(|v| v != current.version) {
                return Err(StoreError::VersionMismatch);
            }
            let moved =
                current.folder_uid != rule.folder_uid || current.rule_group != rule.rule_group;
            if title_owner(&mut tx, org_id, &rule.folder_uid, &rule.title)
                .await?
                .is_some_and(|owner| owner != rule.uid)
            {
                return Err(StoreError::NameExists);
            }
            let group_index = if moved {
                ensure_group(
                    &mut tx,
                    org_id,
                    &rule.folder_uid,
                    &rule.rule_group,
                    interval_seconds,
                    now,
                )
                .await?;
                next_index(&mut tx, org_id, &rule.folder_uid, &rule.rule_group).await?
            } else {
                current.group_index
            };
            let updated = sqlx::query(
                "UPDATE alert_rules SET folder_uid = $1, rule_group = $2, group_index = $3, \
                 title = $4, data = $5, version = version + 1, updated_at = $6, provenance = $7 \
                 WHERE org_id = $8 AND uid = $9 AND version = $10",
            )
            .bind(rule.folder_uid.clone())
            .bind(rule.rule_group.clone())
            .bind(group_index)
            .bind(rule.title.clone())
            .bind(rule.data.clone())
            .bind(now)
            .bind(rule.provenance.clone())
            .bind(org_id)
            .bind(rule.uid.clone())
            .bind(current.version)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if updated == 0 {
                return Err(StoreError::VersionMismatch);
            }
            record(&mut tx, org_id, "alert_rule", &rule.uid, "update").await?;
            if moved {
                drop_group_if_empty(&mut tx, org_id, &current.folder_uid, &current.rule_group)
                    .await?;
                let key = group_key(&rule.folder_uid, &rule.rule_group);
                record(&mut tx, org_id, "alert_rule_group", &key, "update").await?;
            }
            tx.commit().await?;
            Ok(AlertRule {
                org_id,
                uid: rule.uid.clone(),
                folder_uid: rule.folder_uid.clone(),
                rule_group: rule.rule_group.clone(),
                group_index,
                title: rule.title.clone(),
                data: rule.data.clone(),
                version: current.version + 1,
                updated_at: now,
                provenance: rule.provenance.clone(),
            })
        })
        .await
    }

    /// The rule `uid` of the org.
    pub async fn alert_rule(&self, org_id: i64, uid: &str) -> StoreResult<AlertRule> {
        let sql = format!("{SELECT_RULES} WHERE org_id = $1 AND uid = $2");
        let row: RuleRow = sqlx::query_as(&sql)
            .bind(org_id)
            .bind(uid.to_string())
            .fetch_one(self.pool())
            .await?;
        Ok(rule_from(row))
    }

    /// The org's rules, optionally of one folder and one group, by folder, group and position.
    pub async fn alert_rules(
        &self,
        org_id: i64,
        folder_uid: Option<&str>,
        rule_group: Option<&str>,
    ) -> StoreResult<Vec<AlertRule>> {
        let mut sql = SqlBuilder::new(
            "SELECT org_id, uid, folder_uid, rule_group, group_index, title, data, version, \
             updated_at, provenance FROM alert_rules WHERE org_id = ",
        );
        sql.bind(org_id);
        if let Some(folder) = folder_uid {
            sql.push(" AND folder_uid = ").bind(folder.to_string());
        }
        if let Some(group) = rule_group {
            sql.push(" AND rule_group = ").bind(group.to_string());
        }
        sql.push(" ORDER BY folder_uid, rule_group, group_index, uid");
        let (text, args) = sql.build();
        let rows: Vec<RuleRow> = sqlx::query_as_with(&text, args)
            .fetch_all(self.pool())
            .await?;
        Ok(rows.into_iter().map(rule_from).collect())
    }

    /// One group with its rules in order.
    pub async fn alert_rule_group(
        &self,
        org_id: i64,
        folder_uid: &str,
        name: &str,
    ) -> StoreResult<AlertRuleGroup> {
        let (interval_seconds, updated_at): (i64, i64) = sqlx::query_as(
            "SELECT interval_seconds, updated_at FROM alert_rule_groups \
             WHERE org_id = $1 AND folder_uid = $2 AND name = $3",
        )
        .bind(org_id)
        .bind(folder_uid.to_string())
        .bind(name.to_string())
        .fetch_one(self.pool())
        .await?;
        Ok(AlertRuleGroup {
            org_id,
            folder_uid: folder_uid.to_string(),
            name: name.to_string(),
            interval_seconds,
            updated_at,
            rules: self
                .alert_rules(org_id, Some(folder_uid), Some(name))
                .await?,
        })
    }

    /// Every group with its rules, of one org or (`None`, for the scheduler) of all orgs, by org,
    /// folder and name.
    pub async fn alert_rule_groups(&self, org_id: Option<i64>) -> StoreResult<Vec<AlertRuleGroup>> {
        let mut groups_sql = SqlBuilder::new(
            "SELECT org_id, folder_uid, name, interval_seconds, updated_at FROM alert_rule_groups",
        );
        let mut rules_sql = SqlBuilder::new(
            "SELECT org_id, uid, folder_uid, rule_group, group_index, title, data, version, \
             updated_at, provenance FROM alert_rules",
        );
        if let Some(org_id) = org_id {
            groups_sql.push(" WHERE org_id = ").bind(org_id);
            rules_sql.push(" WHERE org_id = ").bind(org_id);
        }
        groups_sql.push(" ORDER BY org_id, folder_uid, name");
        rules_sql.push(" ORDER BY org_id, folder_uid, rule_group, group_index, uid");
        // Both reads see one snapshot, so every rule's group is in the list: one transaction,
        // which PostgreSQL must run as REPEATABLE READ (READ COMMITTED gives each statement its
        // own snapshot); SQLite's read transaction is a snapshot already.
        let mut tx = self.pool().begin().await?;
        if self.backend() == crate::Backend::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                .execute(&mut *tx)
                .await?;
        }
        let (text, args) = groups_sql.build();
        let groups: Vec<(i64, String, String, i64, i64)> =
            sqlx::query_as_with(&text, args).fetch_all(&mut *tx).await?;
        let (text, args) = rules_sql.build();
        let rules: Vec<RuleRow> = sqlx::query_as_with(&text, args).fetch_all(&mut *tx).await?;
        tx.commit().await?;
        let mut by_group: BTreeMap<(i64, String, String), Vec<AlertRule>> = BTreeMap::new();
        for rule in rules.into_iter().map(rule_from) {
            by_group
                .entry((
                    rule.org_id,
                    rule.folder_uid.clone(),
                    rule.rule_group.clone(),
                ))
                .or_default()
                .push(rule);
        }
        Ok(groups
            .into_iter()
            .map(
                |(org_id, folder_uid, name, interval_seconds, updated_at)| AlertRuleGroup {
                    rules: by_group
                        .remove(&(org_id, folder_uid.clone(), name.clone()))
                        .unwrap_or_default(),
                    org_id,
                    folder_uid,
                    name,
                    interval_seconds,
                    updated_at,
                },
            )
            .collect())
    }

    /// Deletes the rule and its instances; its group goes too when it was the last rule.
    pub async fn delete_alert_rule(&self, org_id: i64, uid: &str) -> StoreResult<()> {
        retry_transaction("delete alert rule", move || async move {
            let mut tx = self.begin_write().await?;
            let current = rule_in_tx(&mut tx, org_id, uid)
                .await?
                .ok_or(StoreError::NotFound)?;
            delete_rule_rows(&mut tx, org_id, uid).await?;
            drop_group_if_empty(&mut tx, org_id, &current.folder_uid, &current.rule_group).await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }
}
