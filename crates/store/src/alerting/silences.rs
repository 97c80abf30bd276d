//! Silences, as Alertmanager's v2 API has them: matchers, a start and an end, a comment and who
//! made it. Every write records a change, since every replica's notifier caches them.

use rand::Rng;

use super::{check_json, check_name};
use crate::changes::record;
use crate::retry::retry_transaction;
use crate::{now_ms, Store, StoreError, StoreResult};

/// A stored silence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Silence {
    pub org_id: i64,
    pub id: String,
    /// A JSON array of matchers.
    pub matchers: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub comment: String,
    pub created_by: String,
    pub updated_at: i64,
}

/// A silence to create (no id) or replace (the id of an existing one), as Alertmanager's
/// `POST /silences` does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SilenceInput {
    pub id: Option<String>,
    pub matchers: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub comment: String,
    pub created_by: String,
}

const SELECT_SILENCES: &str = "SELECT org_id, id, matchers, starts_at, ends_at, comment, \
     created_by, updated_at FROM silences";

type SilenceRow = (i64, String, String, i64, i64, String, String, i64);

fn silence_from(r: SilenceRow) -> Silence {
    Silence {
        org_id: r.0,
        id: r.1,
        matchers: r.2,
        starts_at: r.3,
        ends_at: r.4,
        comment: r.5,
        created_by: r.6,
        updated_at: r.7,
    }
}

/// A random UUID (version 4), as Alertmanager names silences.
fn new_silence_id() -> String {
    let mut bytes: [u8; 16] = rand::thread_rng().gen();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

impl Store {
    /// Creates a silence (no id: one is generated) or replaces an existing one (`NotFound` when
    /// the id names none in the org).
    pub async fn save_silence(&self, org_id: i64, input: &SilenceInput) -> StoreResult<Silence> {
        check_json("matchers", &input.matchers, "array")?;
        if input.ends_at <= input.starts_at {
            return Err(StoreError::Invalid(
                "a silence must end after it starts".into(),
            ));
        }
        let (id, create) = match input.id.as_deref().filter(|id| !id.is_empty()) {
            Some(id) => {
                check_name("silence id", id)?;
                (id.to_string(), false)
            }
            None => (new_silence_id(), true),
        };
        let id = &id;
        retry_transaction("save silence", move || async move {
            let now = now_ms();
            let mut tx = self.begin_write().await?;
            if create {
                sqlx::query(
                    "INSERT INTO silences (org_id, id, matchers, starts_at, ends_at, comment, \
                     created_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(org_id)
                .bind(id.clone())
                .bind(input.matchers.clone())
                .bind(input.starts_at)
                .bind(input.ends_at)
                .bind(input.comment.clone())
                .bind(input.created_by.clone())
                .bind(now)
                .execute(&mut *tx)
                .await?;
            } else {
                let updated = sqlx::query(
                    "UPDATE silences SET matchers = $1, starts_at = $2, ends_at = $3, \
                     comment = $4, created_by = $5, updated_at = $6 WHERE org_id = $7 AND id = $8",
                )
                .bind(input.matchers.clone())
                .bind(input.starts_at)
                .bind(input.ends_at)
                .bind(input.comment.clone())
                .bind(input.created_by.clone())
                .bind(now)
                .bind(org_id)
                .bind(id.clone())
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if updated == 0 {
                    return Err(StoreError::NotFound);
                }
            }
            let action = if create { "create" } else { "update" };
            record(&mut tx, org_id, "silence", id, action).await?;
            tx.commit().await?;
            Ok(Silence {
                org_id,
                id: id.clone(),
                matchers: input.matchers.clone(),
                starts_at: input.starts_at,
                ends_at: input.ends_at,
                comment: input.comment.clone(),
                created_by: input.created_by.clone(),
                updated_at: now,
            })
        })
        .await
    }

    pub async fn silence(&self, org_id: i64, id: &str) -> StoreResult<Silence> {
        let sql = format!("{SELECT_SILENCES} WHERE org_id = $1 AND id = $2");
        let row: SilenceRow = sqlx::query_as(&sql)
            .bind(org_id)
            .bind(id.to_string())
            .fetch_one(self.pool())
            .await?;
        Ok(silence_from(row))
    }

    /// The org's silences, latest ending first.
    pub async fn silences(&self, org_id: i64) -> StoreResult<Vec<Silence>> {
        let sql = format!("{SELECT_SILENCES} WHERE org_id = $1 ORDER BY ends_at DESC, id");
        let rows: Vec<SilenceRow> = sqlx::query_as(&sql)
            .bind(org_id)
            .fetch_all(self.pool())
            .await?;
        Ok(rows.into_iter().map(silence_from).collect())
    }

    /// Ends a silence at `now_ms` (Alertmanager's expire). True when it was still running or
    /// pending; a silence that has ended already is left as it was.
    pub async fn expire_silence(&self, org_id: i64, id: &str, now_ms: i64) -> StoreResult<bool> {
        retry_transaction("expire silence", move || async move {
            let mut tx = self.begin_write().await?;
            let expired = sqlx::query(
                "UPDATE silences SET ends_at = $1, \
                 starts_at = CASE WHEN starts_at > $1 THEN $1 ELSE starts_at END, updated_at = $1 \
                 WHERE org_id = $2 AND id = $3 AND ends_at > $1",
            )
            .bind(now_ms)
            .bind(org_id)
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if expired > 0 {
                record(&mut tx, org_id, "silence", id, "update").await?;
            }
            tx.commit().await?;
            Ok(expired > 0)
        })
        .await
    }

    /// Deletes a silence. True when there was one.
    pub async fn delete_silence(&self, org_id: i64, id: &str) -> StoreResult<bool> {
        retry_transaction("delete silence", move || async move {
            let mut tx = self.begin_write().await?;
            let deleted = sqlx::query("DELETE FROM silences WHERE org_id = $1 AND id = $2")
                .bind(org_id)
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if deleted > 0 {
                record(&mut tx, org_id, "silence", id, "delete").await?;
            }
            tx.commit().await?;
            Ok(deleted > 0)
        })
        .await
    }

    /// Deletes silences (of every org) that ended before `before_ms` (the maintenance job),
    /// recording each deletion. Returns how many it deleted.
    pub async fn prune_silences(&self, before_ms: i64) -> StoreResult<u64> {
        retry_transaction("prune silences", move || async move {
            let mut tx = self.begin_write().await?;
            let gone: Vec<(i64, String)> =
                sqlx::query_as("DELETE FROM silences WHERE ends_at < $1 RETURNING org_id, id")
                    .bind(before_ms)
                    .fetch_all(&mut *tx)
                    .await?;
            for (org_id, id) in &gone {
                record(&mut tx, *org_id, "silence", id, "delete").await?;
            }
            tx.commit().await?;
            Ok(gone.len() as u64)
        })
        .await
    }
}
