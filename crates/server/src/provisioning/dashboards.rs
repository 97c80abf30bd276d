//! Applying one dashboard provider: every `*.json` under `options.path` becomes a dashboard, keyed
//! by its uid (or, without one, by a uid derived from the provider's name and the file's relative
//! path). A file whose content and folder are unchanged is not saved again, so no version is added.
//! Dashboards whose file disappeared are deleted (or only unmarked, with `disableDeletion`) — but
//! only when the whole directory was read and every file parsed.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use pharos_store::{Provisioned, ProvisionedKind, SaveDashboard, StoreError};
use serde_json::{Map, Value};

use super::files::Provider;
use super::{derived_uid, hash, relative, Provisioner, ACTOR};

/// One dashboard file read and parsed.
struct DashboardFile {
    rel: String,
    dashboard: Map<String, Value>,
    content_hash: String,
    /// The folder from the directory structure (`foldersFromFilesStructure`), if any.
    dir_folder: Option<String>,
}

/// What a read of the provider's directory gave: the files, and whether the read was complete
/// (directory readable, every file parsed). Only a complete read may delete.
struct Scan {
    files: Vec<DashboardFile>,
    complete: bool,
    /// What went wrong, for the log.
    problems: Vec<String>,
}

fn scan(provider: &Provider) -> Scan {
    let base = PathBuf::from(&provider.options.path);
    let mut scan = Scan {
        files: Vec::new(),
        complete: true,
        problems: Vec::new(),
    };
    let mut paths = Vec::new();
    if let Err(e) = walk(&base, &mut paths) {
        scan.problems.push(format!(
            "cannot read the dashboards directory {}: {e}",
            base.display()
        ));
        scan.complete = false;
        return scan;
    }
    paths.sort();
    for path in paths {
        let rel = relative(&base, &path);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) => {
                scan.problems
                    .push(format!("cannot read {}: {e}", path.display()));
                scan.complete = false;
                continue;
            }
        };
        let dashboard = match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(map)) => map,
            Ok(_) => {
                scan.problems
                    .push(format!("{} does not hold a JSON object", path.display()));
                scan.complete = false;
                continue;
            }
            Err(e) => {
                scan.problems
                    .push(format!("{} is not valid JSON: {e}", path.display()));
                scan.complete = false;
                continue;
            }
        };
        let dir_folder = if provider.options.folders_from_files_structure {
            rel.rsplit_once('/')
                .map(|(dir, _)| dir.rsplit('/').next().unwrap_or(dir).to_string())
        } else {
            None
        };
        scan.files.push(DashboardFile {
            rel,
            dashboard,
            content_hash: hash(&[&bytes]),
            dir_folder,
        });
    }
    scan
}

/// Every `*.json` file under `dir`. Any unreadable directory is an error (not an empty result).
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    Ok(())
}

pub async fn apply(p: &Provisioner, provider: &Provider) {
    let org = provider.org();
    let scan = {
        let owned = provider.clone();
        match tokio::task::spawn_blocking(move || scan(&owned)).await {
            Ok(scan) => scan,
            Err(e) => {
                tracing::error!(provider = %provider.name, error = %e, "scanning dashboards failed");
                return;
            }
        }
    };
    let scope = format!("dashboards:{}", provider.name);
    let mut clean = scan.problems.is_empty();
    for problem in &scan.problems {
        if p.first_report(&format!("{scope}\0{problem}")) {
            tracing::error!(provider = %provider.name, error = %problem,
                "a dashboard provider's files cannot all be read; nothing is deleted until they can");
        }
    }
    let mut seen: HashSet<String> = HashSet::new();
    for file in scan.files {
        let uid = match file.dashboard.get("uid").and_then(Value::as_str) {
            Some(uid) if !uid.trim().is_empty() => uid.trim().to_string(),
            _ => derived_uid("dashboard", &[&provider.name, &file.rel]),
        };
        if !seen.insert(uid.clone()) {
            tracing::warn!(provider = %provider.name, file = %file.rel, uid = %uid,
                "another file of this provider has the same dashboard uid; this one is ignored");
            continue;
        }
        if let Err(e) = apply_file(p, provider, org, &uid, file).await {
            clean = false;
            if p.first_report(&format!("{scope}\0{uid}\0{e}")) {
                tracing::error!(provider = %provider.name, uid = %uid, error = %e, "provisioning a dashboard failed");
            }
        }
    }
    if clean {
        p.resolved(&scope);
    }
    if !scan.complete {
        return;
    }
    let markers = match p
        .store
        .provisioned_by_provider(ProvisionedKind::Dashboard, &provider.name)
        .await
    {
        Ok(markers) => markers,
        Err(e) => {
            tracing::warn!(provider = %provider.name, error = %e, "listing provisioned dashboards failed");
            return;
        }
    };
    for gone in markers
        .into_iter()
        .filter(|m| m.org_id == org && !seen.contains(&m.uid))
    {
        let result = if provider.disable_deletion {
            p.store
                .delete_provisioned(org, ProvisionedKind::Dashboard, &gone.uid)
                .await
        } else {
            match p.store.delete_dashboard(org, &gone.uid).await {
                Ok(_) | Err(StoreError::NotFound) => {
                    p.store
                        .delete_provisioned(org, ProvisionedKind::Dashboard, &gone.uid)
                        .await
                }
                Err(e) => Err(e),
            }
        };
        match result {
            Ok(()) => {
                tracing::info!(provider = %provider.name, uid = %gone.uid, file = %gone.origin,
                kept = provider.disable_deletion, "a provisioned dashboard's file is gone")
            }
            Err(e) => tracing::warn!(provider = %provider.name, uid = %gone.uid, error = %e,
                "removing a provisioned dashboard failed"),
        }
    }
}

async fn apply_file(
    p: &Provisioner,
    provider: &Provider,
    org: i64,
    uid: &str,
    file: DashboardFile,
) -> Result<(), String> {
    let (folder_title, folder_uid) = match &file.dir_folder {
        Some(dir) => (dir.clone(), String::new()),
        None => (provider.folder.clone(), provider.folder_uid.clone()),
    };
    // The folder is part of the content: moving a provider to another folder saves again.
    let content_hash = hash(&[
        file.content_hash.as_bytes(),
        folder_title.as_bytes(),
        folder_uid.as_bytes(),
    ]);
    let marker = p
        .store
        .provisioned(org, ProvisionedKind::Dashboard, uid)
        .await
        .map_err(|e| e.to_string())?;
    let new_marker = Provisioned {
        org_id: org,
        kind: ProvisionedKind::Dashboard,
        uid: uid.to_string(),
        provider: provider.name.clone(),
        origin: file.rel.clone(),
        content_hash: content_hash.clone(),
        allow_updates: provider.allow_ui_updates,
    };
    if let Some(m) = &marker {
        if m.content_hash == content_hash && dashboard_exists(p, org, uid).await? {
            if *m != new_marker {
                p.store
                    .upsert_provisioned(&new_marker)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            return Ok(());
        }
    }
    let folder = if folder_title.trim().is_empty() && folder_uid.trim().is_empty() {
        None
    } else {
        Some(ensure_folder(p, org, &folder_title, &folder_uid).await?)
    };
    let mut dashboard = file.dashboard;
    dashboard.remove("id");
    dashboard.remove("version");
    dashboard.insert("uid".into(), Value::from(uid));
    let saved = p
        .store
        .save_dashboard(SaveDashboard {
            org_id: org,
            dashboard,
            folder_uid: folder,
            overwrite: true,
            message: format!("provisioned from {}", file.rel),
            actor: ACTOR.into(),
            restored_from: 0,
            request_key: None,
        })
        .await
        .map_err(|e| format!("{}: {e}", file.rel))?;
    p.store
        .upsert_provisioned(&new_marker)
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(provider = %provider.name, uid = %saved.uid, file = %file.rel, version = saved.version,
        "provisioned a dashboard");
    Ok(())
}

async fn dashboard_exists(p: &Provisioner, org: i64, uid: &str) -> Result<bool, String> {
    match p.store.dashboard_by_uid(org, uid).await {
        Ok(_) => Ok(true),
        Err(StoreError::NotFound) => Ok(false),
        Err(e) => Err(e.to_string()),
    }
}

/// The uid of the provider's folder, created when missing. Without a `folderUid` an existing
/// folder of that title is used, else one is created under a uid derived from the title, so
/// replicas racing to create it meet at the unique index and re-read.
async fn ensure_folder(
    p: &Provisioner,
    org: i64,
    title: &str,
    uid: &str,
) -> Result<String, String> {
    let title = if title.trim().is_empty() {
        uid
    } else {
        title.trim()
    };
    for _ in 0..3 {
        if !uid.is_empty() {
            match p.store.folder_by_uid(org, uid).await {
                Ok(f) => return Ok(f.uid),
                Err(StoreError::NotFound) => {}
                Err(e) => return Err(e.to_string()),
            }
        } else if let Some(f) = folder_by_title(p, org, title).await? {
            return Ok(f);
        }
        let new_uid = if uid.is_empty() {
            derived_uid("folder", &[title])
        } else {
            uid.to_string()
        };
        match p
            .store
            .create_folder(org, Some(&new_uid), title, ACTOR)
            .await
        {
            Ok(f) => {
                tracing::info!(folder = %f.title, uid = %f.uid, "created a folder for provisioned dashboards");
                return Ok(f.uid);
            }
            Err(StoreError::AlreadyExists) => continue,
            Err(e) => return Err(format!("creating folder {title:?}: {e}")),
        }
    }
    Err(format!(
        "folder {title:?} (uid {uid:?}) cannot be created: its title or uid is taken by another folder"
    ))
}

async fn folder_by_title(p: &Provisioner, org: i64, title: &str) -> Result<Option<String>, String> {
    let folders = p
        .store
        .list_folders(org, 100_000, 0)
        .await
        .map_err(|e| e.to_string())?;
    Ok(folders
        .into_iter()
        .find(|f| f.title == title)
        .map(|f| f.uid))
}
