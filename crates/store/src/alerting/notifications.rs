//! The notification log: every notification is recorded under a unique key before it is sent, so
//! of any number of replicas (or one replica retrying) exactly one records it; then it is
//! claimed, delivered, or retried with backoff. Recording and claiming are fenced by the alerting
//! lease. Times here are the database's clock, so replicas agree on what is due. Beside it, the
//! aggregation groups' persisted states (their timers), so a new holder plans the same flushes.

use super::{check_json, check_name};
use crate::retry::retry_transaction;
use crate::sql::SqlBuilder;
use crate::{now_ms, Lease, Store, StoreError, StoreResult};

/// Where a notification is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationStatus {
    /// Recorded, not yet delivered: due at `next_attempt_at`.
    Pending,
    Delivered,
    /// Given up after repeated failures.
    Failed,
}

impl NotificationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationStatus::Pending => "pending",
            NotificationStatus::Delivered => "delivered",
            NotificationStatus::Failed => "failed",
        }
    }

    fn from_db(text: &str) -> StoreResult<Self> {
        match text {
            "pending" => Ok(NotificationStatus::Pending),
            "delivered" => Ok(NotificationStatus::Delivered),
            "failed" => Ok(NotificationStatus::Failed),
            other => Err(StoreError::Corrupt(format!(
                "unknown notification status {other:?}"
            ))),
        }
    }
}

/// A notification to record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewNotification {
    pub org_id: i64,
    /// Unique in the org: the transition key (rule, fingerprint, state, transition time) and the
    /// receiver's name. Also the stable idempotency key the payload carries.
    pub key: String,
    pub receiver: String,
    /// What to send, as JSON.
    pub payload: String,
}

/// A stored notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationEntry {
    pub id: i64,
    pub org_id: i64,
    pub key: String,
    pub receiver: String,
    pub payload: String,
    /// The alerting lease's fencing token when it was recorded.
    pub fencing_token: i64,
    pub status: NotificationStatus,
    /// How many times it was claimed for sending.
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: String,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
}

/// The persisted state of one aggregation group (the alerting crate's `GroupState` as JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationGroup {
    pub org_id: i64,
    pub receiver: String,
    /// The group's labels as the router keys them.
    pub group_key: String,
    pub state: String,
    pub updated_at: i64,
}

/// Aggregation-group states to write and groups to forget, for one org, in one transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotificationGroupBatch {
    /// (receiver, group key, state JSON)
    pub upserts: Vec<(String, String, String)>,
    /// (receiver, group key)
    pub removed: Vec<(String, String)>,
}

const COLUMNS: &str = "id, org_id, notify_key, receiver, payload, fencing_token, status, \
     attempts, next_attempt_at, last_error, created_at, delivered_at";

type EntryRow = (
    i64,
    i64,
    String,
    String,
    String,
    i64,
    String,
    i64,
    i64,
    String,
    i64,
    Option<i64>,
);

fn entry_from(r: EntryRow) -> StoreResult<NotificationEntry> {
    Ok(NotificationEntry {
        id: r.0,
        org_id: r.1,
        key: r.2,
        receiver: r.3,
        payload: r.4,
        fencing_token: r.5,
        status: NotificationStatus::from_db(&r.6)?,
        attempts: r.7,
        next_attempt_at: r.8,
        last_error: r.9,
        created_at: r.10,
        delivered_at: r.11,
    })
}

fn entries(rows: Vec<EntryRow>) -> StoreResult<Vec<NotificationEntry>> {
    rows.into_iter().map(entry_from).collect()
}

/// The longest error text kept with an entry.
const MAX_ERROR_LEN: usize = 1000;

impl Store {
    /// Records a notification, due at once, fenced by the alerting `lease`. True when this call
    /// recorded it; false when the key was recorded before (by any replica), which leaves the
    /// existing entry as it was. `LeaseLost` when the lease is no longer held in its term.
    pub async fn record_notification(
        &self,
        lease: &Lease,
        entry: &NewNotification,
    ) -> StoreResult<bool> {
        if entry.key.is_empty() || entry.key.len() > 1000 {
            return Err(StoreError::Invalid(
                "notification key must be 1 to 1000 bytes".into(),
            ));
        }
        check_name("receiver", &entry.receiver)?;
        if serde_json::from_str::<serde_json::Value>(&entry.payload).is_err() {
            return Err(StoreError::Invalid(
                "notification payload must be JSON".into(),
            ));
        }
        retry_transaction("record notification", move || async move {
            let mut tx = self.begin_write().await?;
            self.fence_alerting(&mut tx, lease).await?;
            let sql = self.with_now(
                "INSERT INTO notification_log (org_id, notify_key, receiver, payload, \
                 fencing_token, status, attempts, next_attempt_at, last_error, created_at) \
                 VALUES ($1, $2, $3, $4, $5, 'pending', 0, {now}, '', {now}) \
                 ON CONFLICT (org_id, notify_key) DO NOTHING",
            );
            let inserted = sqlx::query(&sql)
                .bind(entry.org_id)
                .bind(entry.key.clone())
                .bind(entry.receiver.clone())
                .bind(entry.payload.clone())
                .bind(lease.fencing_token)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            Ok(inserted > 0)
        })
        .await
    }

    /// The entry recorded under `key` in the org.
    pub async fn notification(&self, org_id: i64, key: &str) -> StoreResult<NotificationEntry> {
        let sql =
            format!("SELECT {COLUMNS} FROM notification_log WHERE org_id = $1 AND notify_key = $2");
        let row: EntryRow = sqlx::query_as(&sql)
            .bind(org_id)
            .bind(key.to_string())
            .fetch_one(self.pool())
            .await?;
        entry_from(row)
    }

    /// Claims up to `limit` pending entries that are due (all orgs, oldest due first) for
    /// sending, fenced by the alerting `lease`: each one's attempts go up by one and it is not
    /// due again for `hold_ms`, so a second claim meanwhile does not return it again. An entry
    /// claimed in an older lease term and still pending (its sender lost the lease, most likely
    /// by dying mid-send) is due at once for the new term's holder; within one term, an entry
    /// whose sender vanished is retried after `hold_ms`.
    pub async fn claim_due_notifications(
        &self,
        lease: &Lease,
        limit: i64,
        hold_ms: i64,
    ) -> StoreResult<Vec<NotificationEntry>> {
        if limit <= 0 || hold_ms <= 0 {
            return Err(StoreError::Invalid(
                "limit and hold must be positive".into(),
            ));
        }
        let mut claimed = retry_transaction("claim notifications", move || async move {
            let mut tx = self.begin_write().await?;
            self.fence_alerting(&mut tx, lease).await?;
            // The outer conditions repeat the inner ones: on PostgreSQL a row a concurrent claim
            // took is re-checked after that claim commits and skipped.
            // Due: its time has come, or an older lease term claimed it and did not finish (that
            // holder lost the lease, most likely dying mid-send): taken over at once.
            let sql = self.with_now(&format!(
                "UPDATE notification_log SET attempts = attempts + 1, \
                 next_attempt_at = {{now}} + $1, claimed_token = $3 \
                 WHERE status = 'pending' \
                 AND (next_attempt_at <= {{now}} OR (claimed_token > 0 AND claimed_token < $3)) \
                 AND id IN \
                 (SELECT id FROM notification_log WHERE status = 'pending' \
                  AND (next_attempt_at <= {{now}} OR (claimed_token > 0 AND claimed_token < $3)) \
                  ORDER BY next_attempt_at, id LIMIT $2) \
                 RETURNING {COLUMNS}"
            ));
            let rows: Vec<EntryRow> = sqlx::query_as(&sql)
                .bind(hold_ms)
                .bind(limit)
                .bind(lease.fencing_token)
                .fetch_all(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(rows)
        })
        .await
        .and_then(entries)?;
        claimed.sort_by_key(|e| e.id);
        Ok(claimed)
    }

    /// Marks a pending entry delivered. True when it was pending.
    pub async fn mark_notification_delivered(&self, id: i64) -> StoreResult<bool> {
        let sql = self.with_now(
            "UPDATE notification_log SET status = 'delivered', delivered_at = {now}, \
             last_error = '' WHERE id = $1 AND status = 'pending'",
        );
        retry_transaction("mark notification delivered", || async {
            Ok(sqlx::query(&sql)
                .bind(id)
                .execute(self.pool())
                .await?
                .rows_affected()
                > 0)
        })
        .await
    }

    /// Records a failed attempt of a pending entry: with `retry_in_ms` it is due again that much
    /// later; with `None` it is given up (status failed). True when it was pending.
    pub async fn mark_notification_failed(
        &self,
        id: i64,
        retry_in_ms: Option<i64>,
        error: &str,
    ) -> StoreResult<bool> {
        let error: String = error.chars().take(MAX_ERROR_LEN).collect();
        if retry_in_ms.is_some_and(|ms| ms < 0) {
            return Err(StoreError::Invalid(
                "retry delay must not be negative".into(),
            ));
        }
        let retry_sql = self.with_now(
            // No longer claimed: a retry waits its delay even across a change of lease holder.
            "UPDATE notification_log SET next_attempt_at = {now} + $1, last_error = $2, \
             claimed_token = 0 WHERE id = $3 AND status = 'pending'",
        );
        let (retry_sql, error) = (&retry_sql, &error);
        retry_transaction("mark notification failed", move || async move {
            let query = match retry_in_ms {
                Some(ms) => sqlx::query(retry_sql).bind(ms),
                None => sqlx::query(
                    "UPDATE notification_log SET status = 'failed', last_error = $1 \
                     WHERE id = $2 AND status = 'pending'",
                ),
            };
            Ok(query
                .bind(error.clone())
                .bind(id)
                .execute(self.pool())
                .await?
                .rows_affected()
                > 0)
        })
        .await
    }

    /// Pending entries, due or not (all orgs, oldest first, at most `limit`): what a new lease
    /// holder resends.
    pub async fn pending_notifications(&self, limit: i64) -> StoreResult<Vec<NotificationEntry>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM notification_log WHERE status = 'pending' ORDER BY id LIMIT $1"
        );
        let rows: Vec<EntryRow> = sqlx::query_as(&sql)
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        entries(rows)
    }

    /// The org's entries, newest first, optionally of one status.
    pub async fn notifications(
        &self,
        org_id: i64,
        status: Option<NotificationStatus>,
        limit: i64,
    ) -> StoreResult<Vec<NotificationEntry>> {
        let mut sql = SqlBuilder::new(
            "SELECT id, org_id, notify_key, receiver, payload, fencing_token, status, attempts, \
             next_attempt_at, last_error, created_at, delivered_at FROM notification_log \
             WHERE org_id = ",
        );
        sql.bind(org_id);
        if let Some(status) = status {
            sql.push(" AND status = ").bind(status.as_str().to_string());
        }
        sql.push(" ORDER BY id DESC LIMIT ").bind(limit);
        let (text, args) = sql.build();
        let rows: Vec<EntryRow> = sqlx::query_as_with(&text, args)
            .fetch_all(self.pool())
            .await?;
        entries(rows)
    }

    /// Writes and deletes aggregation-group states of the org in one transaction fenced by the
    /// alerting `lease` (`LeaseLost` when its term is over).
    pub async fn save_notification_groups(
        &self,
        lease: &Lease,
        org_id: i64,
        batch: &NotificationGroupBatch,
    ) -> StoreResult<()> {
        for (receiver, group_key, state) in &batch.upserts {
            check_name("receiver", receiver)?;
            if group_key.len() > 10_000 {
                return Err(StoreError::Invalid("group key is too long".into()));
            }
            check_json("group state", state, "object")?;
        }
        retry_transaction("save notification groups", move || async move {
            let now = now_ms();
            let mut tx = self.begin_write().await?;
            self.fence_alerting(&mut tx, lease).await?;
            for (receiver, group_key, state) in &batch.upserts {
                sqlx::query(
                    "INSERT INTO notification_groups (org_id, receiver, group_key, state, \
                     updated_at) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (org_id, receiver, group_key) DO UPDATE SET \
                     state = excluded.state, updated_at = excluded.updated_at",
                )
                .bind(org_id)
                .bind(receiver.clone())
                .bind(group_key.clone())
                .bind(state.clone())
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            for (receiver, group_key) in &batch.removed {
                sqlx::query(
                    "DELETE FROM notification_groups WHERE org_id = $1 AND receiver = $2 \
                     AND group_key = $3",
                )
                .bind(org_id)
                .bind(receiver.clone())
                .bind(group_key.clone())
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    /// Aggregation-group states of one org or (`None`: what a new lease holder loads) of all,
    /// by org, receiver and group key.
    pub async fn notification_groups(
        &self,
        org_id: Option<i64>,
    ) -> StoreResult<Vec<NotificationGroup>> {
        let mut sql = SqlBuilder::new(
            "SELECT org_id, receiver, group_key, state, updated_at FROM notification_groups",
        );
        if let Some(org_id) = org_id {
            sql.push(" WHERE org_id = ").bind(org_id);
        }
        sql.push(" ORDER BY org_id, receiver, group_key");
        let (text, args) = sql.build();
        let rows: Vec<(i64, String, String, String, i64)> = sqlx::query_as_with(&text, args)
            .fetch_all(self.pool())
            .await?;
        Ok(rows
            .into_iter()
            .map(
                |(org_id, receiver, group_key, state, updated_at)| NotificationGroup {
                    org_id,
                    receiver,
                    group_key,
                    state,
                    updated_at,
                },
            )
            .collect())
    }

    /// Deletes delivered and given-up entries recorded before `before_ms` (database clock; the
    /// maintenance job). Pending ones stay whatever their age. Returns how many it deleted.
    pub async fn prune_notifications(&self, before_ms: i64) -> StoreResult<u64> {
        Ok(sqlx::query(
            "DELETE FROM notification_log WHERE status IN ('delivered', 'failed') \
             AND created_at < $1",
        )
        .bind(before_ms)
        .execute(self.pool())
        .await?
        .rows_affected())
    }
}
