//! Dashboards, their version history, tags and stars.
//!
//! The dashboard JSON is stored as the client sent it, key order included; only `id`, `uid` and
//! `version` are written into it by the server. Saves follow Grafana's rules: a stale `version` is a
//! conflict unless `overwrite`, a title must be unique within its folder, and every save is one
//! transaction that writes the dashboard, a version row, its tags and a change-feed row.

use rand::Rng;
use serde_json::{Map, Value};

use crate::changes::record;
use crate::{now_ms, Store, StoreError, StoreResult};

/// A stored dashboard with the folder it lives in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dashboard {
    pub id: i64,
    pub org_id: i64,
    pub uid: String,
    pub title: String,
    pub slug: String,
    pub folder_id: Option<i64>,
    pub folder_uid: Option<String>,
    pub folder_title: Option<String>,
    pub version: i64,
    pub tags: Vec<String>,
    /// The dashboard JSON, exactly as stored.
    pub data: String,
    pub created: i64,
    pub updated: i64,
    pub created_by: String,
    pub updated_by: String,
}

/// A save request (`POST /api/dashboards/db`, import, restore).
#[derive(Debug, Clone)]
pub struct SaveDashboard {
    pub org_id: i64,
    pub dashboard: Map<String, Value>,
    /// The folder to save into; `None` or empty is the General level.
    pub folder_uid: Option<String>,
    pub overwrite: bool,
    pub message: String,
    pub actor: String,
    /// The version this save restores, or 0.
    pub restored_from: i64,
    /// Identifies the request (a hash of its caller and `Idempotency-Key`), when it has one: kept
    /// on the version row the save writes, so a retry of a save that committed finds its result
    /// (see [`Store::save_dashboard`]).
    pub request_key: Option<String>,
}

/// What a save produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedDashboard {
    pub id: i64,
    pub uid: String,
    pub title: String,
    pub slug: String,
    pub version: i64,
    pub folder_id: Option<i64>,
    pub folder_uid: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionSummary {
    pub id: i64,
    pub dashboard_id: i64,
    pub dashboard_uid: String,
    pub parent_version: i64,
    pub restored_from: i64,
    pub version: i64,
    pub created: i64,
    pub created_by: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DashboardVersion {
    pub summary: VersionSummary,
    pub data: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagCount {
    pub term: String,
    pub count: i64,
}

/// Grafana's limit on a uid's length.
pub const MAX_UID_LEN: usize = 40;

/// A new uid: 14 characters of `[a-z0-9]` starting with a letter, like Grafana's short uids.
pub(crate) fn generate_uid() -> String {
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
    const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    let mut uid = String::with_capacity(14);
    uid.push(LETTERS[rng.gen_range(0..LETTERS.len())] as char);
    for _ in 1..14 {
        uid.push(ALNUM[rng.gen_range(0..ALNUM.len())] as char);
    }
    uid
}

pub(crate) fn validate_uid(uid: &str) -> StoreResult<()> {
    if uid.len() > MAX_UID_LEN {
        return Err(StoreError::Invalid(format!(
            "uid too long, max {MAX_UID_LEN} characters"
        )));
    }
    if !uid
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(StoreError::Invalid(
            "uid contains illegal characters".into(),
        ));
    }
    Ok(())
}

/// The URL slug of a title: lowercase letters and digits, other runs turned into one `-`.
pub fn slugify(title: &str) -> String {
    let mut slug = String::with_capacity(title.len());
    let mut dash = false;
    for c in title.trim().chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            if dash && !slug.is_empty() {
                slug.push('-');
            }
            dash = false;
            slug.push(c);
        } else {
            dash = true;
        }
    }
    slug
}

/// The fields of a dashboard JSON the store itself reads.
struct DashboardFields {
    title: String,
    id: Option<i64>,
    uid: Option<String>,
    version: Option<i64>,
    tags: Vec<String>,
}

fn read_fields(dashboard: &Map<String, Value>) -> StoreResult<DashboardFields> {
    let title = match dashboard.get("title") {
        Some(Value::String(t)) if !t.trim().is_empty() => t.trim().to_string(),
        Some(Value::String(_)) | None | Some(Value::Null) => {
            return Err(StoreError::Invalid(
                "Dashboard title cannot be empty".into(),
            ))
        }
        Some(_) => {
            return Err(StoreError::Invalid(
                "Dashboard title must be a string".into(),
            ))
        }
    };
    let id = match dashboard.get("id") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_i64() {
            Some(0) => None,
            Some(id) => Some(id),
            None => return Err(StoreError::Invalid("Dashboard id must be a number".into())),
        },
    };
    let uid = match dashboard.get("uid") {
        None | Some(Value::Null) => None,
        Some(Value::String(u)) if u.is_empty() => None,
        Some(Value::String(u)) => {
            validate_uid(u)?;
            Some(u.clone())
        }
        Some(_) => return Err(StoreError::Invalid("Dashboard uid must be a string".into())),
    };
    let version = match dashboard.get("version") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_i64()
                .or_else(|| v.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
                .ok_or_else(|| StoreError::Invalid("Dashboard version must be a number".into()))?,
        ),
    };
    let mut tags: Vec<String> = match dashboard.get("tags") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|t| t.as_str())
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect(),
        _ => Vec::new(),
    };
    tags.sort();
    tags.dedup();
    Ok(DashboardFields {
        title,
        id,
        uid,
        version,
        tags,
    })
}

/// The row facts a save decides on.
#[derive(Debug, Clone)]
struct Existing {
    id: i64,
    uid: String,
    version: i64,
}

type ExistingRow = (i64, String, i64);

type DashboardRow = (
    i64,
    i64,
    String,
    String,
    String,
    Option<i64>,
    Option<String>,
    Option<String>,
    i64,
    String,
    String,
    i64,
    i64,
    String,
    String,
);

const DASHBOARD_SELECT: &str =
    "SELECT d.id, d.org_id, d.uid, d.title, d.slug, d.folder_id, f.uid, f.title, d.version, \
            d.tags, d.data, d.created, d.updated, d.created_by, d.updated_by \
     FROM dashboards d LEFT JOIN folders f ON f.id = d.folder_id";

fn dashboard_from_row(r: DashboardRow) -> StoreResult<Dashboard> {
    let tags: Vec<String> = serde_json::from_str(&r.9)
        .map_err(|e| StoreError::Corrupt(format!("tags of {}: {e}", r.2)))?;
    Ok(Dashboard {
        id: r.0,
        org_id: r.1,
        uid: r.2,
        title: r.3,
        slug: r.4,
        folder_id: r.5,
        folder_uid: r.6,
        folder_title: r.7,
        version: r.8,
        tags,
        data: r.10,
        created: r.11,
        updated: r.12,
        created_by: r.13,
        updated_by: r.14,
    })
}

/// One row of `dashboard_versions` to write.
struct NewVersion<'a> {
    dashboard_id: i64,
    version: i64,
    parent_version: i64,
    restored_from: i64,
    message: &'a str,
    data: String,
    created: i64,
    actor: &'a str,
    request_key: Option<&'a str>,
}

/// The result of the save that wrote a version under `request_key`, if one did.
async fn saved_by_request(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    org_id: i64,
    request_key: &str,
) -> StoreResult<Option<SavedDashboard>> {
    let row: Option<(
        i64,
        String,
        String,
        String,
        i64,
        Option<i64>,
        Option<String>,
    )> = sqlx::query_as(
        "SELECT d.id, d.uid, d.title, d.slug, v.version, d.folder_id, f.uid \
             FROM dashboard_versions v JOIN dashboards d ON d.id = v.dashboard_id \
             LEFT JOIN folders f ON f.id = d.folder_id \
             WHERE v.request_key = $1 AND d.org_id = $2",
    )
    .bind(request_key.to_string())
    .bind(org_id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.map(
        |(id, uid, title, slug, version, folder_id, folder_uid)| SavedDashboard {
            id,
            uid,
            title,
            slug,
            version,
            folder_id,
            folder_uid,
        },
    ))
}

impl Store {
    /// Creates or updates a dashboard following Grafana's save rules (see the module docs).
    pub async fn save_dashboard(&self, mut cmd: SaveDashboard) -> StoreResult<SavedDashboard> {
        let fields = read_fields(&cmd.dashboard)?;
        // Two saves can both pass the checks and then meet at a unique index (the same new uid, or
        // the same title in a folder), or at the version guard of the update. Saving again gives
        // the loser what a sequential save gets: 412 `version-mismatch` or `name-exists`, or the
        // overwrite it asked for.
        // A transaction the database aborted under contention (40001, 40P01) is run again after
        // a short wait (see `retry`).
        let mut retries = 0;
        let mut waits = crate::retry::BACKOFF.iter();
        loop {
            match self.try_save_dashboard(&mut cmd, &fields).await {
                Err(StoreError::AlreadyExists) if retries < 4 => retries += 1,
                Err(StoreError::VersionMismatch) if cmd.overwrite && retries < 4 => retries += 1,
                Err(e) if e.is_retryable_conflict() => match waits.next() {
                    Some(wait) => {
                        tracing::debug!(error = %e, "dashboard save aborted by the database; retrying");
                        tokio::time::sleep(*wait).await;
                    }
                    None => return Err(e),
                },
                result => return result,
            }
        }
    }

    /// One attempt of [`Store::save_dashboard`], in one transaction.
    async fn try_save_dashboard(
        &self,
        cmd: &mut SaveDashboard,
        fields: &DashboardFields,
    ) -> StoreResult<SavedDashboard> {
        let SaveDashboard {
            org_id,
            dashboard,
            folder_uid,
            overwrite,
            message,
            actor,
            restored_from,
            request_key,
        } = cmd;
        let (org_id, overwrite, restored_from) = (*org_id, *overwrite, *restored_from);
        let folder_uid = folder_uid.clone().filter(|u| !u.is_empty());
        let mut tx = self.begin_write().await?;

        // A retry of a save that already committed (its replica died before storing the
        // Idempotency-Key response) answers with what that save wrote, instead of failing the
        // version check against its own change or applying it twice.
        if let Some(request_key) = request_key.as_deref() {
            if let Some(saved) = saved_by_request(&mut tx, org_id, request_key).await? {
                return Ok(saved);
            }
        }

        let folder_id: Option<i64> = match &folder_uid {
            None => None,
            Some(uid) => Some(
                sqlx::query_scalar("SELECT id FROM folders WHERE org_id = $1 AND uid = $2")
                    .bind(org_id)
                    .bind(uid.clone())
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or_else(|| StoreError::Invalid("Folder not found".into()))?,
            ),
        };

        let by_id: Option<ExistingRow> = match fields.id {
            None => None,
            Some(id) => Some(
                sqlx::query_as(
                    "SELECT id, uid, version FROM dashboards WHERE org_id = $1 AND id = $2",
                )
                .bind(org_id)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound)?,
            ),
        };
        let by_uid: Option<ExistingRow> = match &fields.uid {
            None => None,
            Some(uid) => {
                sqlx::query_as(
                    "SELECT id, uid, version FROM dashboards WHERE org_id = $1 AND uid = $2",
                )
                .bind(org_id)
                .bind(uid.clone())
                .fetch_optional(&mut *tx)
                .await?
            }
        };
        if let (Some(a), Some(b)) = (&by_id, &by_uid) {
            if a.0 != b.0 {
                return Err(StoreError::Invalid(
                    "A dashboard with the same uid already exists".into(),
                ));
            }
        }
        let mut existing = by_id
            .or(by_uid)
            .map(|(id, uid, version)| Existing { id, uid, version });
        if let Some(found) = &existing {
            if !overwrite && fields.version != Some(found.version) {
                return Err(StoreError::VersionMismatch);
            }
        }

        let same_title: Option<ExistingRow> = sqlx::query_as(
            "SELECT id, uid, version FROM dashboards \
             WHERE org_id = $1 AND coalesce(folder_id, 0) = $2 AND title = $3 AND id <> $4",
        )
        .bind(org_id)
        .bind(folder_id.unwrap_or(0))
        .bind(fields.title.clone())
        .bind(existing.as_ref().map_or(0, |e| e.id))
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((id, uid, version)) = same_title {
            // Grafana lets `overwrite` replace the same-titled dashboard, when nothing else matched.
            if overwrite && existing.is_none() && fields.uid.is_none() {
                existing = Some(Existing { id, uid, version });
            } else {
                return Err(StoreError::NameExists);
            }
        }

        let now = now_ms();
        let slug = slugify(&fields.title);
        let tags_json = serde_json::to_string(&fields.tags).unwrap_or_else(|_| "[]".into());
        let (id, uid, version, parent_version) = match &existing {
            Some(found) => {
                let version = found.version + 1;
                dashboard.insert("id".into(), Value::from(found.id));
                dashboard.insert("uid".into(), Value::from(found.uid.clone()));
                dashboard.insert("version".into(), Value::from(version));
                let data = serde_json::to_string(&*dashboard)
                    .map_err(|e| StoreError::Invalid(e.to_string()))?;
                // The version guard makes a concurrent save on another replica lose cleanly.
                let changed = sqlx::query(
                    "UPDATE dashboards SET title = $1, slug = $2, folder_id = $3, version = $4, tags = $5, \
                     data = $6, updated = $7, updated_by = $8 WHERE id = $9 AND version = $10",
                )
                .bind(fields.title.clone())
                .bind(slug.clone())
                .bind(folder_id)
                .bind(version)
                .bind(tags_json)
                .bind(data.clone())
                .bind(now)
                .bind(actor.clone())
                .bind(found.id)
                .bind(found.version)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if changed == 0 {
                    return Err(StoreError::VersionMismatch);
                }
                sqlx::query("DELETE FROM dashboard_tags WHERE dashboard_id = $1")
                    .bind(found.id)
                    .execute(&mut *tx)
                    .await?;
                self.insert_version(
                    &mut tx,
                    NewVersion {
                        dashboard_id: found.id,
                        version,
                        parent_version: found.version,
                        restored_from,
                        message,
                        data,
                        created: now,
                        actor,
                        request_key: request_key.as_deref(),
                    },
                )
                .await?;
                (found.id, found.uid.clone(), version, found.version)
            }
            None => {
                let uid = fields.uid.clone().unwrap_or_else(generate_uid);
                // The id is only known after the insert, so the JSON is written in two steps.
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO dashboards (org_id, uid, title, slug, folder_id, version, tags, data, \
                     created, updated, created_by, updated_by) \
                     VALUES ($1, $2, $3, $4, $5, 1, $6, '{}', $7, $7, $8, $8) RETURNING id",
                )
                .bind(org_id)
                .bind(uid.clone())
                .bind(fields.title.clone())
                .bind(slug.clone())
                .bind(folder_id)
                .bind(tags_json)
                .bind(now)
                .bind(actor.clone())
                .fetch_one(&mut *tx)
                .await?;
                dashboard.insert("id".into(), Value::from(id));
                dashboard.insert("uid".into(), Value::from(uid.clone()));
                dashboard.insert("version".into(), Value::from(1));
                let data = serde_json::to_string(&*dashboard)
                    .map_err(|e| StoreError::Invalid(e.to_string()))?;
                sqlx::query("UPDATE dashboards SET data = $1 WHERE id = $2")
                    .bind(data.clone())
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                self.insert_version(
                    &mut tx,
                    NewVersion {
                        dashboard_id: id,
                        version: 1,
                        parent_version: 0,
                        restored_from,
                        message,
                        data,
                        created: now,
                        actor,
                        request_key: request_key.as_deref(),
                    },
                )
                .await?;
                (id, uid, 1, 0)
            }
        };
        for tag in &fields.tags {
            sqlx::query("INSERT INTO dashboard_tags (dashboard_id, term) VALUES ($1, $2)")
                .bind(id)
                .bind(tag.clone())
                .execute(&mut *tx)
                .await?;
        }
        let action = if parent_version == 0 {
            "create"
        } else {
            "update"
        };
        record(&mut tx, org_id, "dashboard", &uid, action).await?;
        tx.commit().await?;
        Ok(SavedDashboard {
            id,
            uid,
            title: fields.title.clone(),
            slug,
            version,
            folder_id,
            folder_uid,
        })
    }

    async fn insert_version(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        row: NewVersion<'_>,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO dashboard_versions (dashboard_id, version, parent_version, restored_from, message, data, \
             created, created_by, request_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(row.dashboard_id)
        .bind(row.version)
        .bind(row.parent_version)
        .bind(row.restored_from)
        .bind(row.message.to_string())
        .bind(row.data)
        .bind(row.created)
        .bind(row.actor.to_string())
        .bind(row.request_key.map(str::to_string))
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    pub async fn dashboard_by_uid(&self, org_id: i64, uid: &str) -> StoreResult<Dashboard> {
        let sql = format!("{DASHBOARD_SELECT} WHERE d.org_id = $1 AND d.uid = $2");
        let row: DashboardRow = sqlx::query_as(&sql)
            .bind(org_id)
            .bind(uid.to_string())
            .fetch_one(self.pool())
            .await?;
        dashboard_from_row(row)
    }

    pub async fn dashboard_by_id(&self, org_id: i64, id: i64) -> StoreResult<Dashboard> {
        let sql = format!("{DASHBOARD_SELECT} WHERE d.org_id = $1 AND d.id = $2");
        let row: DashboardRow = sqlx::query_as(&sql)
            .bind(org_id)
            .bind(id)
            .fetch_one(self.pool())
            .await?;
        dashboard_from_row(row)
    }

    /// Deletes a dashboard with its versions, tags and stars; returns its id and title.
    pub async fn delete_dashboard(&self, org_id: i64, uid: &str) -> StoreResult<(i64, String)> {
        crate::retry::retry_transaction("delete dashboard", move || {
            self.try_delete_dashboard(org_id, uid)
        })
        .await
    }

    /// One attempt of [`Store::delete_dashboard`], in one transaction.
    async fn try_delete_dashboard(&self, org_id: i64, uid: &str) -> StoreResult<(i64, String)> {
        let mut tx = self.begin_write().await?;
        let row: Option<(i64, String)> = sqlx::query_as(
            "DELETE FROM dashboards WHERE org_id = $1 AND uid = $2 RETURNING id, title",
        )
        .bind(org_id)
        .bind(uid.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        let (id, title) = row.ok_or(StoreError::NotFound)?;
        record(&mut tx, org_id, "dashboard", uid, "delete").await?;
        tx.commit().await?;
        Ok((id, title))
    }

    /// The dashboard's versions, newest first.
    pub async fn dashboard_versions(
        &self,
        org_id: i64,
        uid: &str,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Vec<VersionSummary>> {
        let dashboard_id = self.dashboard_id_by_uid(org_id, uid).await?;
        let rows: Vec<(i64, i64, i64, i64, i64, i64, String, String)> = sqlx::query_as(
            "SELECT id, dashboard_id, parent_version, restored_from, version, created, created_by, message \
             FROM dashboard_versions WHERE dashboard_id = $1 ORDER BY version DESC LIMIT $2 OFFSET $3",
        )
        .bind(dashboard_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| VersionSummary {
                id: r.0,
                dashboard_id: r.1,
                dashboard_uid: uid.to_string(),
                parent_version: r.2,
                restored_from: r.3,
                version: r.4,
                created: r.5,
                created_by: r.6,
                message: r.7,
            })
            .collect())
    }

    /// One version of the dashboard, by version number.
    pub async fn dashboard_version(
        &self,
        org_id: i64,
        uid: &str,
        version: i64,
    ) -> StoreResult<DashboardVersion> {
        let dashboard_id = self.dashboard_id_by_uid(org_id, uid).await?;
        let r: (i64, i64, i64, i64, i64, i64, String, String, String) = sqlx::query_as(
            "SELECT id, dashboard_id, parent_version, restored_from, version, created, created_by, message, data \
             FROM dashboard_versions WHERE dashboard_id = $1 AND version = $2",
        )
        .bind(dashboard_id)
        .bind(version)
        .fetch_one(self.pool())
        .await?;
        Ok(DashboardVersion {
            summary: VersionSummary {
                id: r.0,
                dashboard_id: r.1,
                dashboard_uid: uid.to_string(),
                parent_version: r.2,
                restored_from: r.3,
                version: r.4,
                created: r.5,
                created_by: r.6,
                message: r.7,
            },
            data: r.8,
        })
    }

    /// Saves an old version's JSON as the newest version, in the dashboard's current folder.
    /// `request_key` as in [`SaveDashboard::request_key`].
    pub async fn restore_dashboard_version(
        &self,
        org_id: i64,
        uid: &str,
        version: i64,
        actor: &str,
        request_key: Option<&str>,
    ) -> StoreResult<SavedDashboard> {
        let current = self.dashboard_by_uid(org_id, uid).await?;
        let old = self.dashboard_version(org_id, uid, version).await?;
        let mut json: Map<String, Value> = serde_json::from_str(&old.data)
            .map_err(|e| StoreError::Corrupt(format!("version {version} of {uid}: {e}")))?;
        json.insert("version".into(), Value::from(current.version));
        self.save_dashboard(SaveDashboard {
            org_id,
            dashboard: json,
            folder_uid: current.folder_uid,
            overwrite: false,
            message: format!("Restored from version {version}"),
            actor: actor.to_string(),
            restored_from: version,
            request_key: request_key.map(str::to_string),
        })
        .await
    }

    /// Dashboard version retention (Grafana's `versions_to_keep`): deletes every version of a
    /// dashboard older than its `keep` newest, never the current one, in statements of at most
    /// `batch` rows so no statement holds locks for long. Fenced by `lease` like
    /// [`Store::prune_sessions_under_lease`]: nothing is deleted unless that term is current.
    /// Returns how many versions it deleted.
    pub async fn prune_dashboard_versions_under_lease(
        &self,
        lease: &crate::Lease,
        keep: i64,
        batch: i64,
    ) -> StoreResult<u64> {
        if keep < 1 || batch < 1 {
            return Err(StoreError::Invalid(
                "versions to keep and batch size must be at least 1".into(),
            ));
        }
        // Dashboards with more than `keep` versions, a page at a time by id.
        const PAGE: i64 = 100;
        let delete = self.with_now(
            "DELETE FROM dashboard_versions WHERE id IN (\
               SELECT id FROM dashboard_versions WHERE dashboard_id = $1 \
               AND version < (SELECT version FROM dashboard_versions WHERE dashboard_id = $1 \
                              ORDER BY version DESC LIMIT 1 OFFSET $2) \
               AND version < (SELECT version FROM dashboards WHERE id = $1) \
               ORDER BY version LIMIT $3) \
             AND EXISTS (SELECT 1 FROM leases WHERE name = $4 AND holder = $5 \
                         AND fencing_token = $6 AND expires_at > {now})",
        );
        let mut deleted = 0;
        let mut after = 0_i64;
        loop {
            let ids: Vec<i64> = sqlx::query_scalar(
                "SELECT dashboard_id FROM dashboard_versions WHERE dashboard_id > $1 \
                 GROUP BY dashboard_id HAVING count(*) > $2 ORDER BY dashboard_id LIMIT $3",
            )
            .bind(after)
            .bind(keep)
            .bind(PAGE)
            .fetch_all(self.pool())
            .await?;
            for &id in &ids {
                loop {
                    let n = sqlx::query(&delete)
                        .bind(id)
                        .bind(keep - 1)
                        .bind(batch)
                        .bind(lease.name.clone())
                        .bind(lease.holder.clone())
                        .bind(lease.fencing_token)
                        .execute(self.pool())
                        .await?
                        .rows_affected();
                    deleted += n;
                    if n < batch as u64 {
                        break;
                    }
                }
            }
            match ids.last() {
                Some(&last) if ids.len() as i64 == PAGE => after = last,
                _ => return Ok(deleted),
            }
        }
    }

    async fn dashboard_id_by_uid(&self, org_id: i64, uid: &str) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT id FROM dashboards WHERE org_id = $1 AND uid = $2")
            .bind(org_id)
            .bind(uid.to_string())
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Every tag used in the org with how many dashboards carry it, by term.
    pub async fn dashboard_tags(&self, org_id: i64) -> StoreResult<Vec<TagCount>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT t.term, count(*) FROM dashboard_tags t JOIN dashboards d ON d.id = t.dashboard_id \
             WHERE d.org_id = $1 GROUP BY t.term ORDER BY t.term",
        )
        .bind(org_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(term, count)| TagCount { term, count })
            .collect())
    }

    /// Stars the dashboard for the user; starring twice is not an error.
    pub async fn star_dashboard(&self, user_id: i64, org_id: i64, uid: &str) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let dashboard_id: i64 =
            sqlx::query_scalar("SELECT id FROM dashboards WHERE org_id = $1 AND uid = $2")
                .bind(org_id)
                .bind(uid.to_string())
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound)?;
        let already: Option<i64> = sqlx::query_scalar(
            "SELECT user_id FROM stars WHERE user_id = $1 AND dashboard_id = $2",
        )
        .bind(user_id)
        .bind(dashboard_id)
        .fetch_optional(&mut *tx)
        .await?;
        if already.is_none() {
            sqlx::query("INSERT INTO stars (user_id, dashboard_id) VALUES ($1, $2)")
                .bind(user_id)
                .bind(dashboard_id)
                .execute(&mut *tx)
                .await?;
            record(&mut tx, org_id, "star", &user_id.to_string(), "create").await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn unstar_dashboard(&self, user_id: i64, org_id: i64, uid: &str) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let changed = sqlx::query(
            "DELETE FROM stars WHERE user_id = $1 AND dashboard_id = \
             (SELECT id FROM dashboards WHERE org_id = $2 AND uid = $3)",
        )
        .bind(user_id)
        .bind(org_id)
        .bind(uid.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        record(&mut tx, org_id, "star", &user_id.to_string(), "delete").await?;
        tx.commit().await?;
        Ok(())
    }

    /// Uids of the dashboards the user starred in the org.
    pub async fn starred_uids(&self, user_id: i64, org_id: i64) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT d.uid FROM stars s JOIN dashboards d ON d.id = s.dashboard_id \
             WHERE s.user_id = $1 AND d.org_id = $2 ORDER BY d.uid",
        )
        .bind(user_id)
        .bind(org_id)
        .fetch_all(self.pool())
        .await?)
    }

    pub async fn count_dashboards(&self, org_id: i64) -> StoreResult<i64> {
        Ok(
            sqlx::query_scalar("SELECT count(*) FROM dashboards WHERE org_id = $1")
                .bind(org_id)
                .fetch_one(self.pool())
                .await?,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_match_grafana_for_common_titles() {
        assert_eq!(slugify("Production Overview"), "production-overview");
        assert_eq!(slugify("  CPU / Memory (5m) "), "cpu-memory-5m");
        assert_eq!(slugify("Node Exporter Full"), "node-exporter-full");
        assert_eq!(slugify("---"), "");
    }

    #[test]
    fn generated_uids_are_valid() {
        for _ in 0..100 {
            let uid = generate_uid();
            assert_eq!(uid.len(), 14);
            assert!(uid.chars().next().unwrap().is_ascii_lowercase());
            validate_uid(&uid).unwrap();
        }
    }

    #[test]
    fn uid_rules() {
        assert!(validate_uid(&"a".repeat(40)).is_ok());
        assert!(
            matches!(validate_uid(&"a".repeat(41)), Err(StoreError::Invalid(m)) if m.contains("40"))
        );
        assert!(validate_uid("a b").is_err());
        assert!(validate_uid("ok-uid_1").is_ok());
    }

    #[test]
    fn fields_are_read_strictly() {
        let json = |s: &str| serde_json::from_str::<Map<String, Value>>(s).unwrap();
        assert!(read_fields(&json(r#"{"title":" "}"#)).is_err());
        assert!(read_fields(&json(r#"{"title":5}"#)).is_err());
        assert!(read_fields(&json(r#"{"title":"x","uid":7}"#)).is_err());
        let f = read_fields(&json(
            r#"{"title":"x","id":null,"uid":"","version":3,"tags":["b","a","b",1]}"#,
        ))
        .unwrap();
        assert_eq!((f.id, f.uid, f.version), (None, None, Some(3)));
        assert_eq!(f.tags, vec!["a", "b"]);
    }
}
