//! Applying `datasources/*.yaml`: `deleteDatasources` first, then every datasource created or
//! updated by uid (else name) through the store's ordinary datasource writes, secrets encrypted
//! as the API encrypts them. `editable: false` (the default) makes the datasource read-only in
//! the API. A datasource that only disappears from a file is kept, as in Grafana.

use std::collections::{BTreeMap, HashMap};

use pharos_store::{
    DataSourceRef, DataSourceSettings, DataSourceUpdate, NewDataSource, Provisioned,
    ProvisionedKind, StoreError, StoredDataSource,
};
use serde_json::Value;

use super::files::{self, DataSourceEntry};
use super::{env_lookup, hash, Provisioner};

/// What this lease term has applied: file path → hash of its text. A file is applied when its
/// text differs (so `deleteDatasources` runs once per term and per change, not every pass).
#[derive(Default)]
pub struct State {
    applied: HashMap<String, String>,
}

pub async fn apply(p: &Provisioner, state: &mut State) {
    let dir = p.root.join("datasources");
    let paths = match files::yaml_files(&dir) {
        Ok(paths) => paths,
        Err(e) => {
            tracing::error!(error = %e, "reading datasource provisioning files failed");
            return;
        }
    };
    for path in paths {
        let key = path.display().to_string();
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) => {
                tracing::error!(file = %key, error = %e, "cannot read datasource provisioning file");
                continue;
            }
        };
        let text_hash = hash(&[text.as_bytes()]);
        if state.applied.get(&key) == Some(&text_hash) {
            continue;
        }
        let file = match files::parse_datasources(&path, &text, &env_lookup) {
            Ok(file) => file,
            Err(e) => {
                if p.first_report(&format!("datasources:{key}\0{e}")) {
                    tracing::error!(error = %e, "invalid datasource provisioning file");
                }
                continue;
            }
        };
        let mut complete = true;
        for d in &file.delete_datasources {
            let org = d.org_id.filter(|o| *o > 0).unwrap_or(1);
            if let Err(e) = delete(p, org, &d.name).await {
                complete = false;
                tracing::warn!(file = %key, datasource = %d.name, error = %e, "deleting a provisioned datasource failed");
            }
        }
        for entry in &file.datasources {
            if let Err(e) = upsert(p, &key, entry).await {
                complete = false;
                if p.first_report(&format!("datasources:{key}\0{}\0{e}", entry.name)) {
                    tracing::error!(file = %key, datasource = %entry.name, error = %e, "provisioning a datasource failed");
                }
            }
        }
        // A file with a failed write is tried again on the next pass.
        if complete {
            p.resolved(&format!("datasources:{key}"));
            state.applied.insert(key, text_hash);
        }
    }
}

async fn delete(p: &Provisioner, org: i64, name: &str) -> Result<(), StoreError> {
    match p
        .store
        .delete_datasource(org, &DataSourceRef::Name(name.to_string()))
        .await
    {
        Ok(gone) => {
            p.store
                .delete_provisioned(org, ProvisionedKind::DataSource, &gone.uid)
                .await?;
            tracing::info!(datasource = %name, org, "deleted a datasource (deleteDatasources)");
            Ok(())
        }
        Err(StoreError::NotFound) => Ok(()),
        Err(e) => Err(e),
    }
}

fn settings(entry: &DataSourceEntry) -> DataSourceSettings {
    DataSourceSettings {
        name: entry.name.trim().to_string(),
        kind: entry.kind.trim().to_string(),
        access: match entry.access.trim() {
            "" => "proxy".to_string(),
            other => other.to_string(),
        },
        url: entry.url.trim().to_string(),
        user: entry.user.clone(),
        database: entry.database.clone(),
        basic_auth: entry.basic_auth,
        basic_auth_user: entry.basic_auth_user.clone(),
        with_credentials: entry.with_credentials,
        is_default: entry.is_default,
        json_data: match &entry.json_data {
            Some(v @ Value::Object(_)) => v.to_string(),
            _ => "{}".to_string(),
        },
        read_only: !entry.editable,
    }
}

async fn find(
    p: &Provisioner,
    org: i64,
    entry: &DataSourceEntry,
) -> Result<Option<StoredDataSource>, StoreError> {
    let at = if entry.uid.trim().is_empty() {
        DataSourceRef::Name(entry.name.trim().to_string())
    } else {
        DataSourceRef::Uid(entry.uid.trim().to_string())
    };
    match p.store.datasource(org, &at).await {
        Ok(d) => Ok(Some(d)),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

fn encrypt_all(
    p: &Provisioner,
    entry: &DataSourceEntry,
) -> Result<BTreeMap<String, String>, String> {
    entry
        .secure_json_data
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| {
            p.secrets
                .encrypt(k, v)
                .map(|sealed| (k.clone(), sealed))
                .map_err(|e| format!("encrypting secureJsonData.{k}: {e}"))
        })
        .collect()
}

/// Creates or updates one datasource; unchanged ones (same content hash in the marker) are not
/// written. A concurrent create of the same uid or name is re-read and updated instead.
async fn upsert(p: &Provisioner, origin: &str, entry: &DataSourceEntry) -> Result<(), String> {
    let org = entry.org_id.filter(|o| *o > 0).unwrap_or(1);
    let content = serde_json::to_string(entry).map_err(|e| e.to_string())?;
    let content_hash = hash(&[content.as_bytes()]);
    let uid_wanted = Some(entry.uid.trim().to_string()).filter(|u| !u.is_empty());
    for _attempt in 0..3 {
        let existing = find(p, org, entry).await.map_err(|e| e.to_string())?;
        let written = match existing {
            Some(current) => {
                let marker = p
                    .store
                    .provisioned(org, ProvisionedKind::DataSource, &current.uid)
                    .await
                    .map_err(|e| e.to_string())?;
                if marker
                    .as_ref()
                    .is_some_and(|m| m.content_hash == content_hash)
                {
                    return Ok(());
                }
                let secure_changes = encrypt_all(p, entry)?
                    .into_iter()
                    .map(|(k, v)| (k, Some(v)))
                    .collect();
                let change = DataSourceUpdate {
                    uid: uid_wanted.clone(),
                    settings: settings(entry),
                    secure_changes,
                    version: None,
                };
                p.store
                    .update_datasource(org, &DataSourceRef::Id(current.id), change)
                    .await
            }
            None => {
                let new = NewDataSource {
                    uid: uid_wanted.clone(),
                    settings: settings(entry),
                    secure_json_data: encrypt_all(p, entry)?,
                };
                p.store.create_datasource(org, new).await
            }
        };
        match written {
            Ok(d) => {
                p.store
                    .upsert_provisioned(&Provisioned {
                        org_id: org,
                        kind: ProvisionedKind::DataSource,
                        uid: d.uid.clone(),
                        provider: "datasources".into(),
                        origin: origin.to_string(),
                        content_hash,
                        allow_updates: entry.editable,
                    })
                    .await
                    .map_err(|e| e.to_string())?;
                tracing::info!(datasource = %d.name, uid = %d.uid, "provisioned a datasource");
                return Ok(());
            }
            // Someone created it (or changed it) between our read and our write: read again.
            Err(StoreError::AlreadyExists | StoreError::VersionMismatch | StoreError::NotFound) => {
                continue
            }
            Err(e) => return Err(e.to_string()),
        }
    }
    Err("the datasource kept changing underneath (uid or name taken by another?)".into())
}
