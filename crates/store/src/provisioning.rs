//! Markers of provisioned objects: which dashboards and datasources came from provisioning files,
//! the provider and file each came from, and the hash of what was last applied.
//!
//! The provisioner writes an object first (through the ordinary save paths) and its marker after;
//! a marker write also records a change-feed row for the object, so every replica's caches drop a
//! GET answer that was built before the object became provisioned.

use crate::changes::record;
use crate::{now_ms, Store, StoreResult};

/// What a provisioned object is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProvisionedKind {
    Dashboard,
    DataSource,
}

impl ProvisionedKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProvisionedKind::Dashboard => "dashboard",
            ProvisionedKind::DataSource => "datasource",
        }
    }
}

/// One marker row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provisioned {
    pub org_id: i64,
    pub kind: ProvisionedKind,
    pub uid: String,
    /// The provider's name (dashboards) or the config file's path (datasources).
    pub provider: String,
    /// The file the object came from.
    pub origin: String,
    /// Hash of the applied content; an equal hash means nothing to write.
    pub content_hash: String,
    /// Whether the API may change the object (`allowUiUpdates`, a datasource's `editable`).
    pub allow_updates: bool,
}

type Row = (i64, String, String, String, String, i64);

fn from_row(kind: ProvisionedKind, r: Row) -> Provisioned {
    Provisioned {
        org_id: r.0,
        kind,
        uid: r.1,
        provider: r.2,
        origin: r.3,
        content_hash: r.4,
        allow_updates: r.5 != 0,
    }
}

impl Store {
    /// The marker of one object, if it is provisioned.
    pub async fn provisioned(
        &self,
        org_id: i64,
        kind: ProvisionedKind,
        uid: &str,
    ) -> StoreResult<Option<Provisioned>> {
        let row: Option<Row> = sqlx::query_as(
            "SELECT org_id, uid, provider, origin, content_hash, allow_updates FROM provisioned \
             WHERE org_id = $1 AND kind = $2 AND uid = $3",
        )
        .bind(org_id)
        .bind(kind.as_str())
        .bind(uid.to_string())
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|r| from_row(kind, r)))
    }

    /// Every marker one provider wrote, in every org.
    pub async fn provisioned_by_provider(
        &self,
        kind: ProvisionedKind,
        provider: &str,
    ) -> StoreResult<Vec<Provisioned>> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT org_id, uid, provider, origin, content_hash, allow_updates FROM provisioned \
             WHERE kind = $1 AND provider = $2 ORDER BY org_id, uid",
        )
        .bind(kind.as_str())
        .bind(provider.to_string())
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(|r| from_row(kind, r)).collect())
    }

    /// Writes (or replaces) a marker. Idempotent: replicas writing the same marker at once end
    /// with one row.
    pub async fn upsert_provisioned(&self, p: &Provisioned) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO provisioned (org_id, kind, uid, provider, origin, content_hash, allow_updates, updated) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (org_id, kind, uid) DO UPDATE SET provider = excluded.provider, \
             origin = excluded.origin, content_hash = excluded.content_hash, \
             allow_updates = excluded.allow_updates, updated = excluded.updated",
        )
        .bind(p.org_id)
        .bind(p.kind.as_str())
        .bind(p.uid.clone())
        .bind(p.provider.clone())
        .bind(p.origin.clone())
        .bind(p.content_hash.clone())
        .bind(i64::from(p.allow_updates))
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        record(&mut tx, p.org_id, p.kind.as_str(), &p.uid, "update").await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes a marker (the object itself is left as it is).
    pub async fn delete_provisioned(
        &self,
        org_id: i64,
        kind: ProvisionedKind,
        uid: &str,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let gone =
            sqlx::query("DELETE FROM provisioned WHERE org_id = $1 AND kind = $2 AND uid = $3")
                .bind(org_id)
                .bind(kind.as_str())
                .bind(uid.to_string())
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if gone > 0 {
            record(&mut tx, org_id, kind.as_str(), uid, "update").await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
