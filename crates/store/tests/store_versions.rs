//! Dashboard version retention, on SQLite and PostgreSQL alike: the newest N versions of each
//! dashboard stay, older ones go in bounded batches, the current version always stays, and a
//! former lease holder deletes nothing. Also the change feed's pruning by age.

mod common;

use pharos_store::*;
use serde_json::json;

fn save(uid: &str, version: i64) -> SaveDashboard {
    let mut body = json!({"uid": uid, "title": format!("Dash {uid}")});
    if version > 0 {
        body["version"] = json!(version);
    }
    SaveDashboard {
        org_id: 1,
        dashboard: body.as_object().unwrap().clone(),
        folder_uid: None,
        overwrite: false,
        message: String::new(),
        actor: "test".into(),
        restored_from: 0,
        request_key: None,
    }
}

/// Saves `uid` `n` times: versions 1..=n.
async fn with_versions(store: &Store, uid: &str, n: i64) {
    for v in 0..n {
        let saved = store.save_dashboard(save(uid, v)).await.unwrap();
        assert_eq!(saved.version, v + 1);
    }
}

async fn versions(store: &Store, uid: &str) -> Vec<i64> {
    let mut v: Vec<i64> = store
        .dashboard_versions(1, uid, 1000, 0)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.version)
        .collect();
    v.sort();
    v
}

async fn retention(postgres: bool) {
    let (url, scratch) = common::scratch(postgres, "versions").await;
    let store = common::connect(&url, 4).await;
    store.migrate().await.unwrap();
    with_versions(&store, "many", 25).await;
    with_versions(&store, "few", 3).await;
    with_versions(&store, "other", 22).await;
    let lease = store
        .acquire_lease("maintenance", "me", 60_000)
        .await
        .unwrap()
        .unwrap();

    // Keep 20, two rows per statement: 5 + 2 deleted, over several batches.
    let deleted = store
        .prune_dashboard_versions_under_lease(&lease, 20, 2)
        .await
        .unwrap();
    assert_eq!(deleted, 7);
    assert_eq!(versions(&store, "many").await, (6..=25).collect::<Vec<_>>());
    assert_eq!(versions(&store, "few").await, [1, 2, 3]);
    assert_eq!(
        versions(&store, "other").await,
        (3..=22).collect::<Vec<_>>()
    );
    // Nothing left to do.
    assert_eq!(
        store
            .prune_dashboard_versions_under_lease(&lease, 20, 2)
            .await
            .unwrap(),
        0
    );
    // The dashboard itself is untouched, and saving goes on from the current version.
    assert_eq!(store.dashboard_by_uid(1, "many").await.unwrap().version, 25);
    assert_eq!(
        store
            .save_dashboard(save("many", 25))
            .await
            .unwrap()
            .version,
        26
    );

    // A former holder (another term) deletes nothing.
    store.release_lease(&lease).await.unwrap();
    let next = store
        .acquire_lease("maintenance", "next", 60_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        store
            .prune_dashboard_versions_under_lease(&lease, 1, 1000)
            .await
            .unwrap(),
        0
    );
    assert_eq!(versions(&store, "few").await, [1, 2, 3]);

    // Keep 1: only the current version of each stays.
    let deleted = store
        .prune_dashboard_versions_under_lease(&next, 1, 1000)
        .await
        .unwrap();
    assert_eq!(deleted, 20 + 2 + 19);
    for (uid, current) in [("many", 26), ("few", 3), ("other", 22)] {
        assert_eq!(versions(&store, uid).await, [current], "{uid}");
    }

    // The current version stays even when newer version rows exist (never written by Pharos,
    // but the rule holds): versions 1..=5 with the dashboard at 3 keep 3, 4 and 5.
    with_versions(&store, "odd", 5).await;
    store
        .execute_raw_for_tests("UPDATE dashboards SET version = 3 WHERE uid = 'odd'")
        .await;
    store
        .prune_dashboard_versions_under_lease(&next, 1, 1000)
        .await
        .unwrap();
    assert_eq!(versions(&store, "odd").await, [3, 4, 5]);

    assert!(store
        .prune_dashboard_versions_under_lease(&next, 0, 10)
        .await
        .is_err());

    // The change feed's rows are pruned by age.
    let rows = store.changes_since(0, 100_000).await.unwrap().len() as u64;
    assert!(rows > 0);
    assert_eq!(store.prune_changes(0).await.unwrap(), 0);
    assert_eq!(store.prune_changes(now_ms() + 1000).await.unwrap(), rows);
    assert_eq!(store.latest_change_id().await.unwrap(), 0);
    store.close().await;
    scratch.remove().await;
}

#[tokio::test]
async fn version_retention_on_sqlite() {
    retention(false).await;
}

#[tokio::test]
async fn version_retention_on_postgres() {
    retention(true).await;
}
