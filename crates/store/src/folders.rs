//! Folders: one level, as Grafana without nested folders. Deleting a folder deletes its dashboards.

use crate::changes::record;
use crate::dashboards::{generate_uid, validate_uid};
use crate::retry::retry_transaction;
use crate::{now_ms, Store, StoreError, StoreResult};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folder {
    pub id: i64,
    pub org_id: i64,
    pub uid: String,
    pub title: String,
    pub version: i64,
    pub created: i64,
    pub updated: i64,
    pub created_by: String,
    pub updated_by: String,
}

/// What `PUT /api/folders/:uid` may change.
#[derive(Debug, Clone, Default)]
pub struct FolderUpdate {
    pub title: Option<String>,
    pub new_uid: Option<String>,
    pub version: Option<i64>,
    pub overwrite: bool,
}

type FolderRow = (i64, i64, String, String, i64, i64, i64, String, String);

const FOLDER_SELECT: &str =
    "SELECT id, org_id, uid, title, version, created, updated, created_by, updated_by FROM folders";

fn folder_from_row(r: FolderRow) -> Folder {
    Folder {
        id: r.0,
        org_id: r.1,
        uid: r.2,
        title: r.3,
        version: r.4,
        created: r.5,
        updated: r.6,
        created_by: r.7,
        updated_by: r.8,
    }
}

fn checked_title(title: &str) -> StoreResult<String> {
    let title = title.trim();
    if title.is_empty() {
        return Err(StoreError::Invalid("folder title cannot be empty".into()));
    }
    Ok(title.to_string())
}

impl Store {
    /// Creates a folder; `AlreadyExists` when the uid or the title is taken in the org.
    pub async fn create_folder(
        &self,
        org_id: i64,
        uid: Option<&str>,
        title: &str,
        actor: &str,
    ) -> StoreResult<Folder> {
        let title = checked_title(title)?;
        let uid = match uid.filter(|u| !u.is_empty()) {
            Some(uid) => {
                validate_uid(uid)?;
                uid.to_string()
            }
            None => generate_uid(),
        };
        let now = now_ms();
        let (uid, title) = (&uid, &title);
        // The uid is chosen once, outside: a retry inserts the same folder.
        let id = retry_transaction("create folder", move || async move {
            let mut tx = self.begin_write().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO folders (org_id, uid, title, version, created, updated, created_by, updated_by) \
                 VALUES ($1, $2, $3, 1, $4, $4, $5, $5) RETURNING id",
            )
            .bind(org_id)
            .bind(uid.clone())
            .bind(title.clone())
            .bind(now)
            .bind(actor.to_string())
            .fetch_one(&mut *tx)
            .await?;
            record(&mut tx, org_id, "folder", uid, "create").await?;
            tx.commit().await?;
            Ok(id)
        })
        .await?;
        self.folder_by_id(org_id, id).await
    }

    pub async fn folder_by_uid(&self, org_id: i64, uid: &str) -> StoreResult<Folder> {
        let sql = format!("{FOLDER_SELECT} WHERE org_id = $1 AND uid = $2");
        let row: FolderRow = sqlx::query_as(&sql)
            .bind(org_id)
            .bind(uid.to_string())
            .fetch_one(self.pool())
            .await?;
        Ok(folder_from_row(row))
    }

    pub async fn folder_by_id(&self, org_id: i64, id: i64) -> StoreResult<Folder> {
        let sql = format!("{FOLDER_SELECT} WHERE org_id = $1 AND id = $2");
        let row: FolderRow = sqlx::query_as(&sql)
            .bind(org_id)
            .bind(id)
            .fetch_one(self.pool())
            .await?;
        Ok(folder_from_row(row))
    }

    /// Folders of the org by title.
    pub async fn list_folders(
        &self,
        org_id: i64,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Vec<Folder>> {
        let sql = format!(
            "{FOLDER_SELECT} WHERE org_id = $1 ORDER BY lower(title), id LIMIT $2 OFFSET $3"
        );
        let rows: Vec<FolderRow> = sqlx::query_as(&sql)
            .bind(org_id)
            .bind(limit)
            .bind(offset)
            .fetch_all(self.pool())
            .await?;
        Ok(rows.into_iter().map(folder_from_row).collect())
    }

    /// Renames a folder (and optionally changes its uid). Unless `overwrite`, `version` must be the
    /// stored one, else `VersionMismatch`.
    pub async fn update_folder(
        &self,
        org_id: i64,
        uid: &str,
        change: FolderUpdate,
        actor: &str,
    ) -> StoreResult<Folder> {
        let change = &change;
        retry_transaction("update folder", move || {
            self.try_update_folder(org_id, uid, change.clone(), actor)
        })
        .await
    }

    /// One attempt of [`Store::update_folder`], in one transaction.
    async fn try_update_folder(
        &self,
        org_id: i64,
        uid: &str,
        change: FolderUpdate,
        actor: &str,
    ) -> StoreResult<Folder> {
        let FolderUpdate {
            title: new_title,
            new_uid,
            version,
            overwrite,
        } = change;
        let mut tx = self.begin_write().await?;
        let sql = format!("{FOLDER_SELECT} WHERE org_id = $1 AND uid = $2");
        let current: FolderRow = sqlx::query_as(&sql)
            .bind(org_id)
            .bind(uid.to_string())
            .fetch_one(&mut *tx)
            .await?;
        let current = folder_from_row(current);
        if !overwrite && version != Some(current.version) {
            return Err(StoreError::VersionMismatch);
        }
        let title = match new_title.as_deref() {
            Some(t) => checked_title(t)?,
            None => current.title.clone(),
        };
        let target_uid = match new_uid.filter(|u| !u.is_empty()) {
            Some(u) => {
                validate_uid(&u)?;
                u
            }
            None => current.uid.clone(),
        };
        // Unless `overwrite`, the version guard makes a concurrent update (on this or another
        // replica) that read the same version lose cleanly instead of overwriting the winner.
        let mut update = sqlx::query(if overwrite {
            "UPDATE folders SET title = $1, uid = $2, version = version + 1, updated = $3, updated_by = $4 \
             WHERE id = $5"
        } else {
            "UPDATE folders SET title = $1, uid = $2, version = version + 1, updated = $3, updated_by = $4 \
             WHERE id = $5 AND version = $6"
        })
        .bind(title)
        .bind(target_uid.clone())
        .bind(now_ms())
        .bind(actor.to_string())
        .bind(current.id);
        if !overwrite {
            update = update.bind(current.version);
        }
        let changed = update.execute(&mut *tx).await?.rows_affected();
        if changed == 0 {
            return Err(StoreError::VersionMismatch);
        }
        record(&mut tx, org_id, "folder", &current.uid, "update").await?;
        if target_uid != current.uid {
            record(&mut tx, org_id, "folder", &target_uid, "update").await?;
        }
        // Read inside the transaction: the answer is this update's row, even when another update
        // commits right after it.
        let sql = format!("{FOLDER_SELECT} WHERE id = $1");
        let updated: FolderRow = sqlx::query_as(&sql)
            .bind(current.id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(folder_from_row(updated))
    }

    /// Deletes the folder and every dashboard in it; returns the folder as it was.
    pub async fn delete_folder(&self, org_id: i64, uid: &str) -> StoreResult<Folder> {
        retry_transaction("delete folder", move || self.try_delete_folder(org_id, uid)).await
    }

    /// One attempt of [`Store::delete_folder`], in one transaction.
    async fn try_delete_folder(&self, org_id: i64, uid: &str) -> StoreResult<Folder> {
        let mut tx = self.begin_write().await?;
        let sql = format!("{FOLDER_SELECT} WHERE org_id = $1 AND uid = $2");
        let folder: FolderRow = sqlx::query_as(&sql)
            .bind(org_id)
            .bind(uid.to_string())
            .fetch_one(&mut *tx)
            .await?;
        let folder = folder_from_row(folder);
        let dashboard_uids: Vec<String> =
            sqlx::query_scalar("DELETE FROM dashboards WHERE folder_id = $1 RETURNING uid")
                .bind(folder.id)
                .fetch_all(&mut *tx)
                .await?;
        for dashboard_uid in &dashboard_uids {
            record(&mut tx, org_id, "dashboard", dashboard_uid, "delete").await?;
        }
        sqlx::query("DELETE FROM folders WHERE id = $1")
            .bind(folder.id)
            .execute(&mut *tx)
            .await?;
        record(&mut tx, org_id, "folder", uid, "delete").await?;
        tx.commit().await?;
        Ok(folder)
    }
}
