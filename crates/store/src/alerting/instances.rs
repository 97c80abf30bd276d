//! Alert instances (the persisted state of each series of a rule) and their state history. The
//! scheduler's writes are fenced by the alerting lease (see the module above).

use sqlx::{Any, Transaction};

use super::{check_json, check_name};
use crate::retry::retry_transaction;
use crate::sql::SqlBuilder;
use crate::{now_ms, Lease, Store, StoreError, StoreResult};

/// One stored instance. `data` is the whole persisted instance as the alerting crate writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertInstance {
    pub org_id: i64,
    pub rule_uid: String,
    pub fingerprint: String,
    /// The instance's labels, a JSON object.
    pub labels: String,
    /// The state's name (Normal, Pending, Alerting, NoData, Error).
    pub state: String,
    pub data: String,
    pub updated_at: i64,
}

/// An instance to insert or overwrite.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertInstanceUpdate {
    pub fingerprint: String,
    pub labels: String,
    pub state: String,
    pub data: String,
}

/// A transition to append to the history.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewAlertStateTransition {
    pub fingerprint: String,
    /// A JSON object.
    pub labels: String,
    pub from_state: String,
    pub to_state: String,
    /// When the transition happened (epoch ms).
    pub at: i64,
    /// The values that decided it, a JSON object.
    pub values: String,
}

/// A stored transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertStateTransition {
    pub id: i64,
    pub org_id: i64,
    pub rule_uid: String,
    pub fingerprint: String,
    pub labels: String,
    pub from_state: String,
    pub to_state: String,
    pub at: i64,
    pub values: String,
}

/// What one evaluation of one rule persists, in one transaction: instances to write, instances
/// to forget (stale series), and the transitions that happened.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertInstanceBatch {
    pub rule_uid: String,
    pub upserts: Vec<AlertInstanceUpdate>,
    /// Fingerprints of instances to delete.
    pub removed: Vec<String>,
    pub transitions: Vec<NewAlertStateTransition>,
}

/// A history query: all filters optional but the org; newest first, at most `limit` (1..=5000).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertStateHistoryQuery {
    pub rule_uid: Option<String>,
    pub fingerprint: Option<String>,
    /// Inclusive lower bound on `at`.
    pub from: Option<i64>,
    /// Inclusive upper bound on `at`.
    pub to: Option<i64>,
    pub limit: i64,
}

const MAX_HISTORY_LIMIT: i64 = 5000;

fn check_transition(t: &NewAlertStateTransition) -> StoreResult<()> {
    check_name("fingerprint", &t.fingerprint)?;
    check_json("labels", &t.labels, "object")?;
    check_name("state", &t.from_state)?;
    check_name("state", &t.to_state)?;
    check_json("values", &t.values, "object")
}

async fn insert_transitions(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    rule_uid: &str,
    transitions: &[NewAlertStateTransition],
) -> StoreResult<()> {
    for t in transitions {
        sqlx::query(
            "INSERT INTO alert_state_history (org_id, rule_uid, fingerprint, labels, from_state, \
             to_state, at, eval_values) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(org_id)
        .bind(rule_uid.to_string())
        .bind(t.fingerprint.clone())
        .bind(t.labels.clone())
        .bind(t.from_state.clone())
        .bind(t.to_state.clone())
        .bind(t.at)
        .bind(t.values.clone())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

const SELECT_INSTANCES: &str = "SELECT org_id, rule_uid, fingerprint, labels, state, data, \
     updated_at FROM alert_instances";

type InstanceRow = (i64, String, String, String, String, String, i64);

fn instance_from(r: InstanceRow) -> AlertInstance {
    AlertInstance {
        org_id: r.0,
        rule_uid: r.1,
        fingerprint: r.2,
        labels: r.3,
        state: r.4,
        data: r.5,
        updated_at: r.6,
    }
}

impl Store {
    /// Persists one evaluation of a rule in one transaction fenced by the alerting `lease`:
    /// upserts instances, deletes removed ones, appends transitions. `LeaseLost` when the lease
    /// is no longer held in `lease`'s term; `NotFound` when the rule was deleted meanwhile (its
    /// row is locked for the transaction, so a concurrent delete cannot leave instances behind).
    pub async fn save_alert_instances(
        &self,
        lease: &Lease,
        org_id: i64,
        batch: &AlertInstanceBatch,
    ) -> StoreResult<()> {
        check_name("rule uid", &batch.rule_uid)?;
        for i in &batch.upserts {
            check_name("fingerprint", &i.fingerprint)?;
            check_json("labels", &i.labels, "object")?;
            check_name("state", &i.state)?;
            check_json("instance", &i.data, "object")?;
        }
        for t in &batch.transitions {
            check_transition(t)?;
        }
        retry_transaction("save alert instances", move || async move {
            let now = now_ms();
            let mut tx = self.begin_write().await?;
            self.fence_alerting(&mut tx, lease).await?;
            let rule = sqlx::query(
                "UPDATE alert_rules SET version = version WHERE org_id = $1 AND uid = $2",
            )
            .bind(org_id)
            .bind(batch.rule_uid.clone())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if rule == 0 {
                return Err(StoreError::NotFound);
            }
            for i in &batch.upserts {
                sqlx::query(
                    "INSERT INTO alert_instances (org_id, rule_uid, fingerprint, labels, state, \
                     data, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                     ON CONFLICT (org_id, rule_uid, fingerprint) DO UPDATE SET \
                     labels = excluded.labels, state = excluded.state, data = excluded.data, \
                     updated_at = excluded.updated_at",
                )
                .bind(org_id)
                .bind(batch.rule_uid.clone())
                .bind(i.fingerprint.clone())
                .bind(i.labels.clone())
                .bind(i.state.clone())
                .bind(i.data.clone())
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            for fingerprint in &batch.removed {
                sqlx::query(
                    "DELETE FROM alert_instances WHERE org_id = $1 AND rule_uid = $2 \
                     AND fingerprint = $3",
                )
                .bind(org_id)
                .bind(batch.rule_uid.clone())
                .bind(fingerprint.clone())
                .execute(&mut *tx)
                .await?;
            }
            insert_transitions(&mut tx, org_id, &batch.rule_uid, &batch.transitions).await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    /// The instances of one rule, by fingerprint.
    pub async fn alert_instances(
        &self,
        org_id: i64,
        rule_uid: &str,
    ) -> StoreResult<Vec<AlertInstance>> {
        let sql =
            format!("{SELECT_INSTANCES} WHERE org_id = $1 AND rule_uid = $2 ORDER BY fingerprint");
        let rows: Vec<InstanceRow> = sqlx::query_as(&sql)
            .bind(org_id)
            .bind(rule_uid.to_string())
            .fetch_all(self.pool())
            .await?;
        Ok(rows.into_iter().map(instance_from).collect())
    }

    /// Every instance of the org, by rule and fingerprint.
    pub async fn alert_instances_of_org(&self, org_id: i64) -> StoreResult<Vec<AlertInstance>> {
        let sql = format!("{SELECT_INSTANCES} WHERE org_id = $1 ORDER BY rule_uid, fingerprint");
        let rows: Vec<InstanceRow> = sqlx::query_as(&sql)
            .bind(org_id)
            .fetch_all(self.pool())
            .await?;
        Ok(rows.into_iter().map(instance_from).collect())
    }

    /// Deletes the instances of a rule (rule deletion does this itself); returns how many.
    pub async fn delete_alert_instances(&self, org_id: i64, rule_uid: &str) -> StoreResult<u64> {
        retry_transaction("delete alert instances", move || async move {
            Ok(
                sqlx::query("DELETE FROM alert_instances WHERE org_id = $1 AND rule_uid = $2")
                    .bind(org_id)
                    .bind(rule_uid.to_string())
                    .execute(self.pool())
                    .await?
                    .rows_affected(),
            )
        })
        .await
    }

    /// Appends transitions of one rule's instances, fenced by the alerting `lease`.
    pub async fn append_alert_state_history(
        &self,
        lease: &Lease,
        org_id: i64,
        rule_uid: &str,
        transitions: &[NewAlertStateTransition],
    ) -> StoreResult<()> {
        check_name("rule uid", rule_uid)?;
        for t in transitions {
            check_transition(t)?;
        }
        retry_transaction("append alert state history", move || async move {
            let mut tx = self.begin_write().await?;
            self.fence_alerting(&mut tx, lease).await?;
            insert_transitions(&mut tx, org_id, rule_uid, transitions).await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    /// The org's transitions matching `query`, newest first.
    pub async fn alert_state_history(
        &self,
        org_id: i64,
        query: &AlertStateHistoryQuery,
    ) -> StoreResult<Vec<AlertStateTransition>> {
        if !(1..=MAX_HISTORY_LIMIT).contains(&query.limit) {
            return Err(StoreError::Invalid(format!(
                "limit must be between 1 and {MAX_HISTORY_LIMIT}"
            )));
        }
        let mut sql = SqlBuilder::new(
            "SELECT id, org_id, rule_uid, fingerprint, labels, from_state, to_state, at, \
             eval_values FROM alert_state_history WHERE org_id = ",
        );
        sql.bind(org_id);
        if let Some(rule_uid) = &query.rule_uid {
            sql.push(" AND rule_uid = ").bind(rule_uid.clone());
        }
        if let Some(fingerprint) = &query.fingerprint {
            sql.push(" AND fingerprint = ").bind(fingerprint.clone());
        }
        if let Some(from) = query.from {
            sql.push(" AND at >= ").bind(from);
        }
        if let Some(to) = query.to {
            sql.push(" AND at <= ").bind(to);
        }
        sql.push(" ORDER BY at DESC, id DESC LIMIT ")
            .bind(query.limit);
        let (text, args) = sql.build();
        let rows: Vec<(
            i64,
            i64,
            String,
            String,
            String,
            String,
            String,
            i64,
            String,
        )> = sqlx::query_as_with(&text, args)
            .fetch_all(self.pool())
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| AlertStateTransition {
                id: r.0,
                org_id: r.1,
                rule_uid: r.2,
                fingerprint: r.3,
                labels: r.4,
                from_state: r.5,
                to_state: r.6,
                at: r.7,
                values: r.8,
            })
            .collect())
    }

    /// Deletes transitions that happened before `before_ms` (the maintenance job); returns how
    /// many.
    pub async fn prune_alert_state_history(&self, before_ms: i64) -> StoreResult<u64> {
        Ok(sqlx::query("DELETE FROM alert_state_history WHERE at < $1")
            .bind(before_ms)
            .execute(self.pool())
            .await?
            .rows_affected())
    }
}
