//! Whole rule groups: Grafana's PUT of a rule group (replace every rule of the group in one
//! transaction) and group deletion.

use std::collections::BTreeSet;

use super::rules::{
    check_interval, check_rule, delete_rule_rows, drop_group_if_empty, group_key, insert_rule,
    require_folder, rule_in_tx, title_owner, uid_or_new,
};
use super::{AlertRule, AlertRuleGroup, AlertRuleGroupUpdate};
use crate::changes::record;
use crate::retry::retry_transaction;
use crate::{now_ms, Store, StoreError, StoreResult};

impl Store {
    /// Replaces a whole group atomically (Grafana's PUT of a rule group): sets its interval,
    /// deletes its rules that `group.rules` does not name (with their instances), updates the
    /// ones it names (raising their versions; a rule of another group moves here), creates the
    /// new ones, and orders them as listed. An empty list deletes the group.
    pub async fn replace_alert_rule_group(
        &self,
        org_id: i64,
        group: &AlertRuleGroupUpdate,
    ) -> StoreResult<AlertRuleGroup> {
        check_interval(group.interval_seconds)?;
        let mut rules = Vec::with_capacity(group.rules.len());
        let mut uids = BTreeSet::new();
        let mut titles = BTreeSet::new();
        for rule in &group.rules {
            check_rule(&group.folder_uid, &group.name, &rule.title, &rule.data)?;
            let uid = uid_or_new(&rule.uid)?;
            if !uids.insert(uid.clone()) {
                return Err(StoreError::Invalid(format!(
                    "rule uid {uid} appears twice in the group"
                )));
            }
            if !titles.insert(rule.title.clone()) {
                return Err(StoreError::NameExists);
            }
            rules.push((uid, rule));
        }
        if group.rules.is_empty() {
            check_rule(&group.folder_uid, &group.name, "-", "{}")?;
        }
        let (rules, uids) = (&rules, &uids);
        retry_transaction("replace alert rule group", move || async move {
            let now = now_ms();
            let mut tx = self.begin_write().await?;
            require_folder(&mut tx, org_id, &group.folder_uid).await?;
            // The group's row first: concurrent replacements of one group take turns, and what
            // follows reads the rules as the previous one left them.
            if rules.is_empty() {
                sqlx::query(
                    "UPDATE alert_rule_groups SET updated_at = updated_at \
                     WHERE org_id = $1 AND folder_uid = $2 AND name = $3",
                )
                .bind(org_id)
                .bind(group.folder_uid.clone())
                .bind(group.name.clone())
                .execute(&mut *tx)
                .await?;
            } else {
                sqlx::query(
                    "INSERT INTO alert_rule_groups (org_id, folder_uid, name, interval_seconds, \
                     updated_at) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (org_id, folder_uid, name) \
                     DO UPDATE SET interval_seconds = excluded.interval_seconds, \
                     updated_at = excluded.updated_at",
                )
                .bind(org_id)
                .bind(group.folder_uid.clone())
                .bind(group.name.clone())
                .bind(group.interval_seconds)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            // The rules named, as stored now (None: new).
            let mut current = Vec::with_capacity(rules.len());
            for (uid, rule) in rules {
                let stored = rule_in_tx(&mut tx, org_id, uid).await?;
                if let (Some(want), Some(stored)) = (rule.version, &stored) {
                    if want != stored.version {
                        return Err(StoreError::VersionMismatch);
                    }
                }
                if let Some(owner) =
                    title_owner(&mut tx, org_id, &group.folder_uid, &rule.title).await?
                {
                    if !uids.contains(&owner) {
                        return Err(StoreError::NameExists);
                    }
                }
                current.push(stored);
            }
            let existing: Vec<String> = sqlx::query_scalar(
                "SELECT uid FROM alert_rules WHERE org_id = $1 AND folder_uid = $2 \
                 AND rule_group = $3",
            )
            .bind(org_id)
            .bind(group.folder_uid.clone())
            .bind(group.name.clone())
            .fetch_all(&mut *tx)
            .await?;
            for uid in existing.iter().filter(|u| !uids.contains(*u)) {
                delete_rule_rows(&mut tx, org_id, uid).await?;
            }
            let key = group_key(&group.folder_uid, &group.name);
            if rules.is_empty() {
                let deleted = sqlx::query(
                    "DELETE FROM alert_rule_groups WHERE org_id = $1 AND folder_uid = $2 \
                     AND name = $3",
                )
                .bind(org_id)
                .bind(group.folder_uid.clone())
                .bind(group.name.clone())
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if deleted > 0 {
                    record(&mut tx, org_id, "alert_rule_group", &key, "delete").await?;
                }
                tx.commit().await?;
                return Ok(AlertRuleGroup {
                    org_id,
                    folder_uid: group.folder_uid.clone(),
                    name: group.name.clone(),
                    interval_seconds: group.interval_seconds,
                    updated_at: now,
                    rules: Vec::new(),
                });
            }
            // Rewritten rows are deleted first and inserted again, so titles may swap places
            // without tripping the unique index half-way.
            for (uid, _) in rules {
                sqlx::query("DELETE FROM alert_rules WHERE org_id = $1 AND uid = $2")
                    .bind(org_id)
                    .bind(uid.clone())
                    .execute(&mut *tx)
                    .await?;
            }
            let mut stored_rules = Vec::with_capacity(rules.len());
            for (index, ((uid, rule), before)) in rules.iter().zip(&current).enumerate() {
                let stored = AlertRule {
                    org_id,
                    uid: uid.clone(),
                    folder_uid: group.folder_uid.clone(),
                    rule_group: group.name.clone(),
                    group_index: index as i64,
                    title: rule.title.clone(),
                    data: rule.data.clone(),
                    version: before.as_ref().map_or(1, |b| b.version + 1),
                    updated_at: now,
                    provenance: group.provenance.clone(),
                };
                insert_rule(&mut tx, &stored).await?;
                let action = if before.is_some() { "update" } else { "create" };
                record(&mut tx, org_id, "alert_rule", uid, action).await?;
                stored_rules.push(stored);
            }
            // Groups that rules moved out of.
            let left: BTreeSet<(String, String)> = current
                .iter()
                .flatten()
                .map(|b| (b.folder_uid.clone(), b.rule_group.clone()))
                .filter(|(f, g)| *f != group.folder_uid || *g != group.name)
                .collect();
            for (folder_uid, name) in &left {
                drop_group_if_empty(&mut tx, org_id, folder_uid, name).await?;
            }
            record(&mut tx, org_id, "alert_rule_group", &key, "update").await?;
            tx.commit().await?;
            Ok(AlertRuleGroup {
                org_id,
                folder_uid: group.folder_uid.clone(),
                name: group.name.clone(),
                interval_seconds: group.interval_seconds,
                updated_at: now,
                rules: stored_rules,
            })
        })
        .await
    }

    /// Deletes a group, its rules and their instances; returns the deleted rules' uids.
    pub async fn delete_alert_rule_group(
        &self,
        org_id: i64,
        folder_uid: &str,
        name: &str,
    ) -> StoreResult<Vec<String>> {
        retry_transaction("delete alert rule group", move || async move {
            let mut tx = self.begin_write().await?;
            let uids: Vec<String> = sqlx::query_scalar(
                "SELECT uid FROM alert_rules WHERE org_id = $1 AND folder_uid = $2 \
                 AND rule_group = $3 ORDER BY group_index",
            )
            .bind(org_id)
            .bind(folder_uid.to_string())
            .bind(name.to_string())
            .fetch_all(&mut *tx)
            .await?;
            for uid in &uids {
                delete_rule_rows(&mut tx, org_id, uid).await?;
            }
            let deleted = sqlx::query(
                "DELETE FROM alert_rule_groups WHERE org_id = $1 AND folder_uid = $2 AND name = $3",
            )
            .bind(org_id)
            .bind(folder_uid.to_string())
            .bind(name.to_string())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if deleted == 0 {
                return Err(StoreError::NotFound);
            }
            let key = group_key(folder_uid, name);
            record(&mut tx, org_id, "alert_rule_group", &key, "delete").await?;
            tx.commit().await?;
            Ok(uids)
        })
        .await
    }
}
