//! Contact points and notification policy trees. Every write records a change, since every
//! replica's notifier caches them.
//!
//! A contact point's `secure_settings` is a map of *encrypted* values, as a datasource's
//! `secure_json_data` is: the server encrypts before it calls the store and merges kept secrets
//! itself; the store stores the map it is given.

use std::collections::BTreeMap;

use super::{check_json, check_name};
use crate::changes::record;
use crate::dashboards::{generate_uid, validate_uid};
use crate::retry::retry_transaction;
use crate::{now_ms, Store, StoreError, StoreResult};

/// One integration of a contact point (Grafana groups integrations sharing a `name`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactPoint {
    pub org_id: i64,
    pub uid: String,
    pub name: String,
    /// The integration type (webhook, prometheus-alertmanager, email, ...).
    pub kind: String,
    /// The plain settings, a JSON object.
    pub settings: String,
    /// Field name → encrypted value.
    pub secure_settings: BTreeMap<String, String>,
    pub disable_resolve_message: bool,
    pub provenance: String,
    pub version: i64,
    pub updated_at: i64,
}

/// A contact point as created or updated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactPointInput {
    /// Empty on create: a uid is generated. Ignored on update.
    pub uid: String,
    pub name: String,
    pub kind: String,
    /// A JSON object; empty means `{}`.
    pub settings: String,
    pub secure_settings: BTreeMap<String, String>,
    pub disable_resolve_message: bool,
    pub provenance: String,
}

/// An org's notification policy tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationPolicy {
    pub org_id: i64,
    /// The tree as JSON (an object: the root route).
    pub tree: String,
    pub version: i64,
    pub provenance: String,
    pub updated_at: i64,
}

const SELECT_CONTACT_POINTS: &str = "SELECT org_id, uid, name, type, settings, secure_settings, \
     disable_resolve_message, provenance, version, updated_at FROM contact_points";

type ContactPointRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    i64,
    String,
    i64,
    i64,
);

fn contact_point_from(r: ContactPointRow) -> StoreResult<ContactPoint> {
    let secure_settings = serde_json::from_str(&r.5).map_err(|e| {
        StoreError::Corrupt(format!(
            "contact point secure_settings is not a string map: {e}"
        ))
    })?;
    Ok(ContactPoint {
        org_id: r.0,
        uid: r.1,
        name: r.2,
        kind: r.3,
        settings: r.4,
        secure_settings,
        disable_resolve_message: r.6 != 0,
        provenance: r.7,
        version: r.8,
        updated_at: r.9,
    })
}

/// Checks the input; returns its settings text (`{}` for empty) and secure settings as JSON.
fn checked_contact_point(input: &ContactPointInput) -> StoreResult<(String, String)> {
    check_name("name", &input.name)?;
    check_name("type", &input.kind)?;
    let settings = if input.settings.trim().is_empty() {
        "{}".to_string()
    } else {
        check_json("settings", &input.settings, "object")?;
        input.settings.clone()
    };
    let secure = serde_json::to_string(&input.secure_settings)
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok((settings, secure))
}

impl Store {
    // ---- Contact points ----

    /// Creates a contact point; `AlreadyExists` when the uid is taken in the org.
    pub async fn create_contact_point(
        &self,
        org_id: i64,
        input: &ContactPointInput,
    ) -> StoreResult<ContactPoint> {
        let (settings, secure) = checked_contact_point(input)?;
        let uid = if input.uid.is_empty() {
            generate_uid()
        } else {
            validate_uid(&input.uid)?;
            input.uid.clone()
        };
        let (uid, settings, secure) = (&uid, &settings, &secure);
        let now = retry_transaction("create contact point", move || async move {
            let now = now_ms();
            let mut tx = self.begin_write().await?;
            sqlx::query(
                "INSERT INTO contact_points (org_id, uid, name, type, settings, secure_settings, \
                 disable_resolve_message, provenance, version, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9)",
            )
            .bind(org_id)
            .bind(uid.clone())
            .bind(input.name.clone())
            .bind(input.kind.clone())
            .bind(settings.clone())
            .bind(secure.clone())
            .bind(i64::from(input.disable_resolve_message))
            .bind(input.provenance.clone())
            .bind(now)
            .execute(&mut *tx)
            .await?;
            record(&mut tx, org_id, "contact_point", uid, "create").await?;
            tx.commit().await?;
            Ok(now)
        })
        .await?;
        Ok(ContactPoint {
            org_id,
            uid: uid.clone(),
            name: input.name.clone(),
            kind: input.kind.clone(),
            settings: settings.clone(),
            secure_settings: input.secure_settings.clone(),
            disable_resolve_message: input.disable_resolve_message,
            provenance: input.provenance.clone(),
            version: 1,
            updated_at: now,
        })
    }

    /// Replaces the contact point `uid`'s fields. `version`, when given, must equal the stored
    /// version (`VersionMismatch` otherwise).
    pub async fn update_contact_point(
        &self,
        org_id: i64,
        uid: &str,
        input: &ContactPointInput,
        version: Option<i64>,
    ) -> StoreResult<ContactPoint> {
        let (settings, secure) = checked_contact_point(input)?;
        let (settings, secure) = (&settings, &secure);
        retry_transaction("update contact point", move || async move {
            let now = now_ms();
            let mut tx = self.begin_write().await?;
            let current: i64 = sqlx::query_scalar(
                "SELECT version FROM contact_points WHERE org_id = $1 AND uid = $2",
            )
            .bind(org_id)
            .bind(uid.to_string())
            .fetch_one(&mut *tx)
            .await?;
            if version.is_some_and(|v| v != current) {
                return Err(StoreError::VersionMismatch);
            }
            let updated = sqlx::query(
                "UPDATE contact_points SET name = $1, type = $2, settings = $3, \
                 secure_settings = $4, disable_resolve_message = $5, provenance = $6, \
                 version = version + 1, updated_at = $7 \
                 WHERE org_id = $8 AND uid = $9 AND version = $10",
            )
            .bind(input.name.clone())
            .bind(input.kind.clone())
            .bind(settings.clone())
            .bind(secure.clone())
            .bind(i64::from(input.disable_resolve_message))
            .bind(input.provenance.clone())
            .bind(now)
            .bind(org_id)
            .bind(uid.to_string())
            .bind(current)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if updated == 0 {
                return Err(StoreError::VersionMismatch);
            }
            record(&mut tx, org_id, "contact_point", uid, "update").await?;
            tx.commit().await?;
            Ok(ContactPoint {
                org_id,
                uid: uid.to_string(),
                name: input.name.clone(),
                kind: input.kind.clone(),
                settings: settings.clone(),
                secure_settings: input.secure_settings.clone(),
                disable_resolve_message: input.disable_resolve_message,
                provenance: input.provenance.clone(),
                version: current + 1,
                updated_at: now,
            })
        })
        .await
    }

    pub async fn contact_point(&self, org_id: i64, uid: &str) -> StoreResult<ContactPoint> {
        let sql = format!("{SELECT_CONTACT_POINTS} WHERE org_id = $1 AND uid = $2");
        let row: ContactPointRow = sqlx::query_as(&sql)
            .bind(org_id)
            .bind(uid.to_string())
            .fetch_one(self.pool())
            .await?;
        contact_point_from(row)
    }

    /// The org's contact points (those named `name` when given), by name and uid.
    pub async fn contact_points(
        &self,
        org_id: i64,
        name: Option<&str>,
    ) -> StoreResult<Vec<ContactPoint>> {
        let rows: Vec<ContactPointRow> = match name {
            Some(name) => {
                let sql = format!(
                    "{SELECT_CONTACT_POINTS} WHERE org_id = $1 AND name = $2 ORDER BY name, uid"
                );
                sqlx::query_as(&sql)
                    .bind(org_id)
                    .bind(name.to_string())
                    .fetch_all(self.pool())
                    .await?
            }
            None => {
                let sql = format!("{SELECT_CONTACT_POINTS} WHERE org_id = $1 ORDER BY name, uid");
                sqlx::query_as(&sql)
                    .bind(org_id)
                    .fetch_all(self.pool())
                    .await?
            }
        };
        rows.into_iter().map(contact_point_from).collect()
    }

    /// Deletes a contact point; `NotFound` when there is none.
    pub async fn delete_contact_point(&self, org_id: i64, uid: &str) -> StoreResult<()> {
        retry_transaction("delete contact point", move || async move {
            let mut tx = self.begin_write().await?;
            let deleted = sqlx::query("DELETE FROM contact_points WHERE org_id = $1 AND uid = $2")
                .bind(org_id)
                .bind(uid.to_string())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if deleted == 0 {
                return Err(StoreError::NotFound);
            }
            record(&mut tx, org_id, "contact_point", uid, "delete").await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    // ---- Notification policies ----

    /// The org's policy tree; `None` when it has none saved (the default policy applies).
    pub async fn notification_policy(
        &self,
        org_id: i64,
    ) -> StoreResult<Option<NotificationPolicy>> {
        let row: Option<(String, i64, String, i64)> = sqlx::query_as(
            "SELECT tree, version, provenance, updated_at FROM notification_policies \
             WHERE org_id = $1",
        )
        .bind(org_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(
            |(tree, version, provenance, updated_at)| NotificationPolicy {
                org_id,
                tree,
                version,
                provenance,
                updated_at,
            },
        ))
    }

    /// Saves the org's policy tree. `version`, when given, must equal the stored version (0 when
    /// none is stored); a stale one fails with `VersionMismatch`.
    pub async fn save_notification_policy(
        &self,
        org_id: i64,
        tree: &str,
        provenance: &str,
        version: Option<i64>,
    ) -> StoreResult<NotificationPolicy> {
        check_json("policy tree", tree, "object")?;
        retry_transaction("save notification policy", move || async move {
            let now = now_ms();
            let mut tx = self.begin_write().await?;
            let current: Option<i64> =
                sqlx::query_scalar("SELECT version FROM notification_policies WHERE org_id = $1")
                    .bind(org_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let current = current.unwrap_or(0);
            if version.is_some_and(|v| v != current) {
                return Err(StoreError::VersionMismatch);
            }
            let written = sqlx::query(
                "INSERT INTO notification_policies (org_id, tree, version, provenance, updated_at) \
                 VALUES ($1, $2, 1, $3, $4) ON CONFLICT (org_id) DO UPDATE SET \
                 tree = excluded.tree, version = notification_policies.version + 1, \
                 provenance = excluded.provenance, updated_at = excluded.updated_at \
                 WHERE notification_policies.version = $5",
            )
            .bind(org_id)
            .bind(tree.to_string())
            .bind(provenance.to_string())
            .bind(now)
            .bind(current)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if written == 0 {
                return Err(StoreError::VersionMismatch);
            }
            record(&mut tx, org_id, "notification_policy", "", "update").await?;
            tx.commit().await?;
            Ok(NotificationPolicy {
                org_id,
                tree: tree.to_string(),
                version: current + 1,
                provenance: provenance.to_string(),
                updated_at: now,
            })
        })
        .await
    }

    /// Deletes the org's tree (back to the default policy). True when there was one.
    pub async fn reset_notification_policy(&self, org_id: i64) -> StoreResult<bool> {
        retry_transaction("reset notification policy", move || async move {
            let mut tx = self.begin_write().await?;
            let deleted = sqlx::query("DELETE FROM notification_policies WHERE org_id = $1")
                .bind(org_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if deleted > 0 {
                record(&mut tx, org_id, "notification_policy", "", "delete").await?;
            }
            tx.commit().await?;
            Ok(deleted > 0)
        })
        .await
    }
}
