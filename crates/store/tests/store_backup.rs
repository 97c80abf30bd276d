//! Backups round-trip between SQLite and PostgreSQL with every row equal, and a bad file (truncated,
//! damaged, altered, from a newer format, needing another secret_key) or a non-empty target is
//! refused with nothing written.

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};

use pharos_store::*;
use serde_json::{json, Value};

const KEY_CHECK: &str = "check-of-the-secret-key";

async fn fresh(postgres: bool, prefix: &str) -> (Store, common::Scratch) {
    let (url, scratch) = common::scratch(postgres, prefix).await;
    let store = common::connect(&url, 4).await;
    store.migrate().await.unwrap();
    (store, scratch)
}

/// A little of everything: users in two roles, a folder, dashboards with versions and tags, a
/// star, a service account with a token, a datasource with an encrypted secret.
async fn populate(store: &Store) {
    store.secret_key_check(KEY_CHECK).await.unwrap();
    let mut users = Vec::new();
    for (login, role) in [("ann", Role::Admin), ("bob", Role::Viewer)] {
        users.push(
            store
                .create_user(&NewUser {
                    login: login.into(),
                    email: format!("{login}@example.com"),
                    name: login.to_uppercase(),
                    password_hash: format!("$argon2id$hash-of-{login}"),
                    is_admin: false,
                    org_id: 1,
                    role,
                })
                .await
                .unwrap(),
        );
    }
    store
        .create_folder(1, Some("ops"), "Operations", "ann")
        .await
        .unwrap();
    for (i, folder) in [(0, None), (1, Some("ops")), (2, Some("ops"))] {
        for version in 0..3 {
            let mut body = json!({"uid": format!("dash-{i}"), "title": format!("Dash {i}"),
                                  "tags": ["a", format!("t{i}")], "panels": [{"id": 1, "title": "ünïcode ✓"}]});
            if version > 0 {
                body["version"] = json!(version);
            }
            store
                .save_dashboard(SaveDashboard {
                    org_id: 1,
                    dashboard: body.as_object().unwrap().clone(),
                    folder_uid: folder.map(str::to_string),
                    overwrite: false,
                    message: format!("save {version}"),
                    actor: "ann".into(),
                    restored_from: 0,
                    request_key: None,
                })
                .await
                .unwrap();
        }
    }
    store
        .star_dashboard(users[1].id, 1, "dash-1")
        .await
        .unwrap();
    let sa = store
        .create_service_account(1, "ci", Role::Editor, false)
        .await
        .unwrap();
    store
        .create_api_token(1, sa.id, "deploy", &hash_secret("glsa_secret"), None)
        .await
        .unwrap();
    store
        .create_datasource(
            1,
            NewDataSource {
                uid: Some("prom".into()),
                settings: DataSourceSettings {
                    name: "Prometheus".into(),
                    kind: "prometheus".into(),
                    access: "proxy".into(),
                    url: "http://127.0.0.1:9090".into(),
                    ..Default::default()
                },
                secure_json_data: BTreeMap::from([(
                    "basicAuthPassword".to_string(),
                    "v1:encrypted-bytes".to_string(),
                )]),
            },
        )
        .await
        .unwrap();
}

async fn backup_of(store: &Store) -> (Vec<u8>, BackupCounts) {
    // A small channel: the backup waits for its reader, as behind a slow HTTP client.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<u8>>(1);
    let reader = tokio::spawn(async move {
        let mut file = Vec::new();
        while let Some(chunk) = rx.recv().await {
            file.extend_from_slice(&chunk);
        }
        file
    });
    let counts = store.backup(tx, &mut |_, _| {}).await.unwrap();
    (reader.await.unwrap(), counts)
}

/// `file` as a restore reads it: chunks over a channel (small ones, to cross line boundaries).
fn chunks(file: &[u8]) -> BackupChunks {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let file = file.to_vec();
    tokio::spawn(async move {
        for piece in file.chunks(1000) {
            if tx.send(piece.to_vec()).await.is_err() {
                return;
            }
        }
    });
    rx
}

fn ungzip(file: &[u8]) -> Vec<String> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut text)
        .unwrap();
    text.lines().map(str::to_string).collect()
}

fn gzip(lines: &[String]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    for l in lines {
        e.write_all(l.as_bytes()).unwrap();
        e.write_all(b"\n").unwrap();
    }
    e.finish().unwrap()
}

/// The rows of a backup (everything but the header, whose time and backend differ, and the
/// trailer, whose checksum covers the header).
fn rows_of(file: &[u8]) -> Vec<String> {
    let lines = ungzip(file);
    lines[1..lines.len() - 1].to_vec()
}

async fn round_trip(from_postgres: bool, to_postgres: bool) {
    let (source, s1) = fresh(from_postgres, "backup_src").await;
    populate(&source).await;
    let (file, counts) = backup_of(&source).await;
    assert_eq!(counts.get("dashboards"), 3);
    assert_eq!(counts.get("dashboard_versions"), 9);
    assert_eq!(counts.get("users"), 2);
    assert_eq!(counts.get("api_tokens"), 1);
    let (header, verified) = Store::verify_backup(chunks(&file)).await.unwrap();
    assert_eq!(verified, counts);
    assert_eq!(header.secret_key_check.as_deref(), Some(KEY_CHECK));

    let (target, s2) = fresh(to_postgres, "backup_dst").await;
    let mut progress_lines = 0;
    let restored = target
        .restore(chunks(&file), Some(KEY_CHECK), false, &mut |_, _| {
            progress_lines += 1
        })
        .await
        .unwrap();
    assert_eq!(restored, counts);
    assert!(progress_lines >= BACKUP_TABLES.len());
    assert_eq!(target.backup_table_counts().await.unwrap(), counts);
    // Every row equal, column by column.
    let (again, _) = backup_of(&target).await;
    assert_eq!(rows_of(&again), rows_of(&file));

    // The restored database works on: a save continues the versions, new rows get fresh ids.
    let d = target.dashboard_by_uid(1, "dash-2").await.unwrap();
    assert_eq!(d.version, 3);
    let saved = target
        .save_dashboard(SaveDashboard {
            org_id: 1,
            dashboard: json!({"title": "After restore"})
                .as_object()
                .unwrap()
                .clone(),
            folder_uid: None,
            overwrite: false,
            message: String::new(),
            actor: "ann".into(),
            restored_from: 0,
            request_key: None,
        })
        .await
        .unwrap();
    assert!(saved.id > 3, "a fresh id: {}", saved.id);
    target.create_folder(1, None, "New", "ann").await.unwrap();
    assert_eq!(target.secret_key_check("another").await.unwrap(), KEY_CHECK);
    for (store, scratch) in [(source, s1), (target, s2)] {
        store.close().await;
        scratch.remove().await;
    }
}

#[tokio::test]
async fn sqlite_to_postgres_and_back() {
    round_trip(false, true).await;
    round_trip(true, false).await;
}

#[tokio::test]
async fn same_kind_round_trips() {
    round_trip(false, false).await;
    round_trip(true, true).await;
}

/// Expects `restore` to fail with a message containing `expected` and the target unchanged.
async fn refused(target: &Store, file: &[u8], key: &str, force: bool, expected: &str) {
    let before = target.backup_table_counts().await.unwrap();
    let err = target
        .restore(chunks(file), Some(key), force, &mut |_, _| {})
        .await
        .expect_err(expected);
    assert!(
        err.to_string().contains(expected),
        "expected {expected:?} in {err}"
    );
    assert_eq!(
        target.backup_table_counts().await.unwrap(),
        before,
        "{expected}: nothing written"
    );
}

#[tokio::test]
async fn bad_files_are_refused_before_anything_is_written() {
    let (source, s1) = fresh(false, "backup_bad_src").await;
    populate(&source).await;
    let (file, _) = backup_of(&source).await;
    let (target, s2) = fresh(true, "backup_bad_dst").await;

    // Truncated: at several points, including inside the last lines.
    for cut in [
        10,
        file.len() / 3,
        file.len() / 2,
        file.len() - 30,
        file.len() - 1,
    ] {
        refused(&target, &file[..cut], KEY_CHECK, false, "").await;
    }
    // A flipped byte in the compressed stream.
    let mut damaged = file.clone();
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0x55;
    refused(&target, &damaged, KEY_CHECK, false, "damaged").await;
    // A row altered with a valid gzip around it: only the checksum can tell.
    let mut lines = ungzip(&file);
    let row = lines
        .iter()
        .position(|l| l.contains("hash-of-bob"))
        .unwrap();
    lines[row] = lines[row].replace("hash-of-bob", "hash-of-eve");
    refused(
        &target,
        &gzip(&lines),
        KEY_CHECK,
        false,
        "checksum does not match",
    )
    .await;
    // A row dropped (the table's count then disagrees).
    let mut lines = ungzip(&file);
    lines.remove(row);
    refused(&target, &gzip(&lines), KEY_CHECK, false, "damaged").await;
    // A newer format, and a newer schema.
    let mut lines = ungzip(&file);
    let mut header: Value = serde_json::from_str(&lines[0]).unwrap();
    header["version"] = json!(BACKUP_FORMAT_VERSION + 1);
    lines[0] = header.to_string();
    refused(
        &target,
        &gzip(&lines),
        KEY_CHECK,
        false,
        "newer than this Pharos reads",
    )
    .await;
    header["version"] = json!(BACKUP_FORMAT_VERSION);
    header["schema"] = json!(latest_schema(Backend::Postgres) + 1);
    lines[0] = header.to_string();
    refused(
        &target,
        &gzip(&lines),
        KEY_CHECK,
        false,
        "newer than this Pharos knows",
    )
    .await;
    // Not a backup at all.
    refused(&target, b"hello", KEY_CHECK, false, "not a Pharos backup").await;
    refused(
        &target,
        &gzip(&["{\"a\":1}".to_string()]),
        KEY_CHECK,
        false,
        "not a Pharos backup",
    )
    .await;
    // Another secret_key.
    refused(
        &target,
        &file,
        "another-key-check",
        false,
        "another secret_key",
    )
    .await;
    // verify_backup agrees on the damaged ones.
    assert!(Store::verify_backup(chunks(&damaged)).await.is_err());
    assert!(Store::verify_backup(chunks(&file[..file.len() / 2]))
        .await
        .is_err());

    // The good file restores; a second restore needs --force, and then replaces.
    target
        .restore(chunks(&file), Some(KEY_CHECK), false, &mut |_, _| {})
        .await
        .unwrap();
    refused(&target, &file, KEY_CHECK, false, "not empty").await;
    let counts = target
        .restore(chunks(&file), Some(KEY_CHECK), true, &mut |_, _| {})
        .await
        .unwrap();
    assert_eq!(target.backup_table_counts().await.unwrap(), counts);
    for (store, scratch) in [(source, s1), (target, s2)] {
        store.close().await;
        scratch.remove().await;
    }
}
