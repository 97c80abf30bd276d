//! Datasources, by Grafana's rules: a uid (generated when absent) and a name, each unique in the
//! org; at most one default per org (making one default clears the others; the first datasource
//! of an org becomes the default when there is none); the version goes up on every update.
//!
//! `secure_json_data` is a map of *encrypted* values: the server encrypts before it calls the
//! store and decrypts what it reads; the store never sees a plaintext secret.
//!
//! Every write is one transaction that first locks the org's row, so datasource writes of one org
//! are serialized across replicas: the "one default" and "first becomes default" rules cannot be
//! raced, and neither can demo seeding on an empty database.

use std::collections::BTreeMap;

use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::changes::record;
use crate::dashboards::{generate_uid, validate_uid};
use crate::{now_ms, Store, StoreError, StoreResult};

/// A stored datasource. `secure_json_data` holds encrypted values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDataSource {
    pub id: i64,
    pub org_id: i64,
    pub uid: String,
    pub name: String,
    /// Grafana's plugin id (`type` in the API).
    pub kind: String,
    pub access: String,
    pub url: String,
    pub user: String,
    pub database: String,
    pub basic_auth: bool,
    pub basic_auth_user: String,
    pub with_credentials: bool,
    pub is_default: bool,
    /// `jsonData` as JSON text (an object).
    pub json_data: String,
    /// Field name → encrypted value.
    pub secure_json_data: BTreeMap<String, String>,
    pub read_only: bool,
    pub version: i64,
    pub created: i64,
    pub updated: i64,
}

/// The settings of a datasource as written by create and update.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DataSourceSettings {
    pub name: String,
    pub kind: String,
    pub access: String,
    pub url: String,
    pub user: String,
    pub database: String,
    pub basic_auth: bool,
    pub basic_auth_user: String,
    pub with_credentials: bool,
    pub is_default: bool,
    /// `jsonData` as JSON text; empty means `{}`.
    pub json_data: String,
    pub read_only: bool,
}

/// `POST /api/datasources`: the settings, an optional uid and the encrypted secrets.
#[derive(Debug, Clone, Default)]
pub struct NewDataSource {
    /// `None` or empty: a uid is generated.
    pub uid: Option<String>,
    pub settings: DataSourceSettings,
    pub secure_json_data: BTreeMap<String, String>,
}

/// `PUT /api/datasources/...`: replaces the settings; secrets change field by field.
#[derive(Debug, Clone, Default)]
pub struct DataSourceUpdate {
    /// `None` or empty keeps the uid.
    pub uid: Option<String>,
    pub settings: DataSourceSettings,
    /// Field → `Some(encrypted)` to set it, `None` to remove it. Fields not named are kept.
    pub secure_changes: BTreeMap<String, Option<String>>,
    /// The version the client read. A stale one (lower than the stored version) is refused with
    /// `VersionMismatch`; `None` skips the check (as Grafana does for a missing or zero version).
    pub version: Option<i64>,
}

/// How a datasource is addressed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DataSourceRef {
    Id(i64),
    Uid(String),
    Name(String),
}

/// Grafana's limit on a datasource name.
pub const MAX_DATASOURCE_NAME_LEN: usize = 190;

const SELECT: &str = "SELECT id, org_id, uid, name, type, access, url, username, database_name, \
     basic_auth, basic_auth_user, with_credentials, is_default, json_data, secure_json_data, \
     read_only, version, created, updated FROM datasources";

fn from_row(row: &AnyRow) -> StoreResult<StoredDataSource> {
    let secure_text: String = row.try_get(14)?;
    let secure_json_data = serde_json::from_str(&secure_text).map_err(|e| {
        StoreError::Corrupt(format!(
            "datasource secure_json_data is not a string map: {e}"
        ))
    })?;
    Ok(StoredDataSource {
        id: row.try_get(0)?,
        org_id: row.try_get(1)?,
        uid: row.try_get(2)?,
        name: row.try_get(3)?,
        kind: row.try_get(4)?,
        access: row.try_get(5)?,
        url: row.try_get(6)?,
        user: row.try_get(7)?,
        database: row.try_get(8)?,
        basic_auth: row.try_get::<i64, _>(9)? != 0,
        basic_auth_user: row.try_get(10)?,
        with_credentials: row.try_get::<i64, _>(11)? != 0,
        is_default: row.try_get::<i64, _>(12)? != 0,
        json_data: row.try_get(13)?,
        secure_json_data,
        read_only: row.try_get::<i64, _>(15)? != 0,
        version: row.try_get(16)?,
        created: row.try_get(17)?,
        updated: row.try_get(18)?,
    })
}

/// Checks and normalizes settings: a name is required, `jsonData` must be an object.
fn checked(mut s: DataSourceSettings) -> StoreResult<DataSourceSettings> {
    s.name = s.name.trim().to_string();
    if s.name.is_empty() {
        return Err(StoreError::Invalid("Name is required".into()));
    }
    if s.name.chars().count() > MAX_DATASOURCE_NAME_LEN {
        return Err(StoreError::Invalid(format!(
            "Name is too long, max {MAX_DATASOURCE_NAME_LEN} characters"
        )));
    }
    if s.kind.trim().is_empty() {
        return Err(StoreError::Invalid("Type is required".into()));
    }
    if s.access.is_empty() {
        s.access = "proxy".into();
    }
    if s.json_data.trim().is_empty() {
        s.json_data = "{}".into();
    } else {
        match serde_json::from_str::<serde_json::Value>(&s.json_data) {
            Ok(serde_json::Value::Object(_)) => {}
            _ => return Err(StoreError::Invalid("jsonData must be a JSON object".into())),
        }
    }
    Ok(s)
}

fn checked_uid(uid: Option<&str>) -> StoreResult<Option<String>> {
    match uid.map(str::trim).filter(|u| !u.is_empty()) {
        Some(uid) => {
            validate_uid(uid)?;
            Ok(Some(uid.to_string()))
        }
        None => Ok(None),
    }
}

fn secure_text(map: &BTreeMap<String, String>) -> StoreResult<String> {
    serde_json::to_string(map).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn flag(b: bool) -> i64 {
    i64::from(b)
}

/// Locks the org's row for the rest of the transaction (serializing datasource writes of the org
/// across replicas); `NotFound` when the org does not exist.
async fn lock_org(tx: &mut Transaction<'static, Any>, org_id: i64) -> StoreResult<()> {
    let locked = sqlx::query("UPDATE orgs SET updated = updated WHERE id = $1")
        .bind(org_id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    if locked == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Reads one datasource through `exec` (the pool or a transaction).
async fn fetch<'c, E>(exec: E, org_id: i64, at: &DataSourceRef) -> StoreResult<StoredDataSource>
where
    E: sqlx::Executor<'c, Database = Any>,
{
    // The column comes from this fixed set, never from the request.
    let column = match at {
        DataSourceRef::Id(_) => "id",
        DataSourceRef::Uid(_) => "uid",
        DataSourceRef::Name(_) => "name",
    };
    let sql = format!("{SELECT} WHERE org_id = $1 AND {column} = $2");
    let query = sqlx::query(&sql).bind(org_id);
    let query = match at {
        DataSourceRef::Id(id) => query.bind(*id),
        DataSourceRef::Uid(uid) => query.bind(uid.clone()),
        DataSourceRef::Name(name) => query.bind(name.clone()),
    };
    let row = query.fetch_one(exec).await?;
    from_row(&row)
}

/// Makes `id` the org's only default. As in Grafana, the others' versions stay: losing the default
/// flag changes nothing a client editing them would overwrite.
async fn clear_other_defaults(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    id: i64,
) -> StoreResult<()> {
    let cleared: Vec<String> = sqlx::query_scalar(
        "UPDATE datasources SET is_default = 0, updated = $3 \
         WHERE org_id = $1 AND is_default = 1 AND id <> $2 RETURNING uid",
    )
    .bind(org_id)
    .bind(id)
    .bind(now_ms())
    .fetch_all(&mut **tx)
    .await?;
    for uid in &cleared {
        record(tx, org_id, "datasource", uid, "update").await?;
    }
    Ok(())
}

async fn has_default(tx: &mut Transaction<'static, Any>, org_id: i64) -> StoreResult<bool> {
    let n: i64 =
        sqlx::query_scalar("SELECT count(*) FROM datasources WHERE org_id = $1 AND is_default = 1")
            .bind(org_id)
            .fetch_one(&mut **tx)
            .await?;
    Ok(n > 0)
}

/// Inserts a datasource inside a transaction that holds the org lock.
async fn insert(
    tx: &mut Transaction<'static, Any>,
    org_id: i64,
    new: NewDataSource,
) -> StoreResult<i64> {
    let mut s = checked(new.settings)?;
    let uid = checked_uid(new.uid.as_deref())?.unwrap_or_else(generate_uid);
    if !s.is_default && !has_default(tx, org_id).await? {
        s.is_default = true;
    }
    if s.is_default {
        // No row has this id yet, so every current default is cleared.
        clear_other_defaults(tx, org_id, 0).await?;
    }
    let now = now_ms();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO datasources (org_id, uid, name, type, access, url, username, database_name, \
         basic_auth, basic_auth_user, with_credentials, is_default, json_data, secure_json_data, \
         read_only, version, created, updated) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 1, $16, $16) \
         RETURNING id",
    )
    .bind(org_id)
    .bind(uid.clone())
    .bind(s.name)
    .bind(s.kind)
    .bind(s.access)
    .bind(s.url)
    .bind(s.user)
    .bind(s.database)
    .bind(flag(s.basic_auth))
    .bind(s.basic_auth_user)
    .bind(flag(s.with_credentials))
    .bind(flag(s.is_default))
    .bind(s.json_data)
    .bind(secure_text(&new.secure_json_data)?)
    .bind(flag(s.read_only))
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    record(tx, org_id, "datasource", &uid, "create").await?;
    Ok(id)
}

impl Store {
    /// Creates a datasource. `AlreadyExists` when its name or uid is taken in the org; `Invalid`
    /// for a missing name or type, a bad uid or `jsonData` that is not an object.
    pub async fn create_datasource(
        &self,
        org_id: i64,
        new: NewDataSource,
    ) -> StoreResult<StoredDataSource> {
        let new = &new;
        crate::retry::retry_transaction("create datasource", move || {
            self.try_create_datasource(org_id, new.clone())
        })
        .await
    }

    /// One attempt of [`Store::create_datasource`], in one transaction.
    async fn try_create_datasource(
        &self,
        org_id: i64,
        new: NewDataSource,
    ) -> StoreResult<StoredDataSource> {
        let mut tx = self.begin_write().await?;
        lock_org(&mut tx, org_id).await?;
        let id = insert(&mut tx, org_id, new).await?;
        let created = fetch(&mut *tx, org_id, &DataSourceRef::Id(id)).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Creates `new` only when the org has no datasource and no dashboard yet (first start with
    /// an empty database); `None` when it has some. Safe when replicas race: the org lock makes
    /// the check and the insert one step.
    pub async fn create_datasource_if_org_empty(
        &self,
        org_id: i64,
        new: NewDataSource,
    ) -> StoreResult<Option<StoredDataSource>> {
        let mut tx = self.begin_write().await?;
        lock_org(&mut tx, org_id).await?;
        let existing: i64 = sqlx::query_scalar(
            "SELECT (SELECT count(*) FROM datasources WHERE org_id = $1) \
                  + (SELECT count(*) FROM dashboards WHERE org_id = $1)",
        )
        .bind(org_id)
        .fetch_one(&mut *tx)
        .await?;
        if existing > 0 {
            return Ok(None);
        }
        let id = insert(&mut tx, org_id, new).await?;
        let created = fetch(&mut *tx, org_id, &DataSourceRef::Id(id)).await?;
        tx.commit().await?;
        Ok(Some(created))
    }

    /// One datasource of the org.
    pub async fn datasource(
        &self,
        org_id: i64,
        at: &DataSourceRef,
    ) -> StoreResult<StoredDataSource> {
        fetch(self.pool(), org_id, at).await
    }

    /// Every datasource of the org, by name (case-insensitively, as Grafana lists them).
    pub async fn list_datasources(&self, org_id: i64) -> StoreResult<Vec<StoredDataSource>> {
        let rows = sqlx::query(&format!(
            "{SELECT} WHERE org_id = $1 ORDER BY lower(name), id"
        ))
        .bind(org_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Replaces the settings of the datasource at `at`, bumps its version and applies the secret
    /// changes. `NotFound`, `AlreadyExists` (name or uid taken), `VersionMismatch` (stale version).
    pub async fn update_datasource(
        &self,
        org_id: i64,
        at: &DataSourceRef,
        change: DataSourceUpdate,
    ) -> StoreResult<StoredDataSource> {
        let change = &change;
        crate::retry::retry_transaction("update datasource", move || {
            self.try_update_datasource(org_id, at, change.clone())
        })
        .await
    }

    /// One attempt of [`Store::update_datasource`], in one transaction.
    async fn try_update_datasource(
        &self,
        org_id: i64,
        at: &DataSourceRef,
        change: DataSourceUpdate,
    ) -> StoreResult<StoredDataSource> {
        let settings = checked(change.settings)?;
        let new_uid = checked_uid(change.uid.as_deref())?;
        let mut tx = self.begin_write().await?;
        lock_org(&mut tx, org_id).await?;
        let current = fetch(&mut *tx, org_id, at).await?;
        // Grafana's rule: an older version than the stored one is stale; a newer one is accepted
        // (provisioning files state versions without knowing the database's).
        if change.version.is_some_and(|v| v > 0 && v < current.version) {
            return Err(StoreError::VersionMismatch);
        }
        let mut secure = current.secure_json_data.clone();
        for (field, value) in change.secure_changes {
            match value {
                Some(encrypted) => secure.insert(field, encrypted),
                None => secure.remove(&field),
            };
        }
        if settings.is_default {
            clear_other_defaults(&mut tx, org_id, current.id).await?;
        }
        let uid = new_uid.unwrap_or_else(|| current.uid.clone());
        let version = current.version.max(change.version.unwrap_or(0)) + 1;
        let changed = sqlx::query(
            "UPDATE datasources SET uid = $1, name = $2, type = $3, access = $4, url = $5, \
             username = $6, database_name = $7, basic_auth = $8, basic_auth_user = $9, \
             with_credentials = $10, is_default = $11, json_data = $12, secure_json_data = $13, \
             read_only = $14, version = $15, updated = $16 WHERE id = $17 AND version = $18",
        )
        .bind(uid.clone())
        .bind(settings.name)
        .bind(settings.kind)
        .bind(settings.access)
        .bind(settings.url)
        .bind(settings.user)
        .bind(settings.database)
        .bind(flag(settings.basic_auth))
        .bind(settings.basic_auth_user)
        .bind(flag(settings.with_credentials))
        .bind(flag(settings.is_default))
        .bind(settings.json_data)
        .bind(secure_text(&secure)?)
        .bind(flag(settings.read_only))
        .bind(version)
        .bind(now_ms())
        .bind(current.id)
        .bind(current.version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            return Err(StoreError::VersionMismatch);
        }
        record(&mut tx, org_id, "datasource", &current.uid, "update").await?;
        if uid != current.uid {
            record(&mut tx, org_id, "datasource", &uid, "update").await?;
        }
        let updated = fetch(&mut *tx, org_id, &DataSourceRef::Id(current.id)).await?;
        tx.commit().await?;
        Ok(updated)
    }

    /// Deletes the datasource at `at`; returns it as it was.
    pub async fn delete_datasource(
        &self,
        org_id: i64,
        at: &DataSourceRef,
    ) -> StoreResult<StoredDataSource> {
        crate::retry::retry_transaction("delete datasource", move || {
            self.try_delete_datasource(org_id, at)
        })
        .await
    }

    /// One attempt of [`Store::delete_datasource`], in one transaction.
    async fn try_delete_datasource(
        &self,
        org_id: i64,
        at: &DataSourceRef,
    ) -> StoreResult<StoredDataSource> {
        let mut tx = self.begin_write().await?;
        lock_org(&mut tx, org_id).await?;
        let current = fetch(&mut *tx, org_id, at).await?;
        sqlx::query("DELETE FROM datasources WHERE id = $1")
            .bind(current.id)
            .execute(&mut *tx)
            .await?;
        record(&mut tx, org_id, "datasource", &current.uid, "delete").await?;
        tx.commit().await?;
        Ok(current)
    }

    /// The check value of the key this database's secrets are encrypted with: the stored one,
    /// or `value` when none was stored yet (then it is stored). Replicas racing on an empty
    /// database all get the first writer's value.
    pub async fn secret_key_check(&self, value: &str) -> StoreResult<String> {
        if let Some(stored) =
            sqlx::query_scalar::<_, String>("SELECT check_value FROM secret_key_check WHERE id = 1")
                .fetch_optional(self.pool())
                .await?
        {
            return Ok(stored);
        }
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO secret_key_check (id, check_value, created) VALUES (1, $1, $2) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(value.to_string())
        .bind(now_ms())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted > 0 {
            record(&mut tx, 0, "secret_key_check", "1", "create").await?;
        }
        let stored: String =
            sqlx::query_scalar("SELECT check_value FROM secret_key_check WHERE id = 1")
                .fetch_one(&mut *tx)
                .await?;
        tx.commit().await?;
        Ok(stored)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_checked() {
        let ok = DataSourceSettings {
            name: "  Prom ".into(),
            kind: "prometheus".into(),
            ..Default::default()
        };
        let s = checked(ok.clone()).unwrap();
        assert_eq!(s.name, "Prom");
        assert_eq!(s.access, "proxy");
        assert_eq!(s.json_data, "{}");
        for bad in [
            DataSourceSettings {
                name: " ".into(),
                ..ok.clone()
            },
            DataSourceSettings {
                kind: String::new(),
                ..ok.clone()
            },
            DataSourceSettings {
                json_data: "[1]".into(),
                ..ok.clone()
            },
            DataSourceSettings {
                name: "x".repeat(MAX_DATASOURCE_NAME_LEN + 1),
                ..ok.clone()
            },
        ] {
            assert!(matches!(checked(bad), Err(StoreError::Invalid(_))));
        }
        assert!(checked_uid(Some("bad uid")).is_err());
        assert_eq!(checked_uid(Some(" ")).unwrap(), None);
    }
}
