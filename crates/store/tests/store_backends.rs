//! The store's rules, run against SQLite and PostgreSQL alike.

mod common;

use pharos_store::*;
use serde_json::json;

async fn open(url: &str) -> Store {
    let store = common::connect(url, 4).await;
    let report = store.migrate().await.unwrap();
    assert!(!report.applied.is_empty());
    assert_eq!(store.migrate().await.unwrap().applied, Vec::<i64>::new());
    store
}

async fn rules(store: Store) {
    let user = store
        .create_user(&NewUser {
            login: "Alice".into(),
            email: "alice@example.com".into(),
            name: "Alice".into(),
            password_hash: "x".into(),
            is_admin: true,
            org_id: 1,
            role: Role::Admin,
        })
        .await
        .unwrap();
    assert!(user.is_admin && !user.is_disabled);
    assert_eq!(
        store.user_by_login_or_email("ALICE").await.unwrap().id,
        user.id
    );
    assert_eq!(store.org_role(user.id, 1).await.unwrap(), Some(Role::Admin));

    let folder = store.create_folder(1, None, "Ops", "alice").await.unwrap();
    assert!(matches!(
        store.create_folder(1, None, "Ops", "alice").await,
        Err(StoreError::AlreadyExists)
    ));
    let save = |body: serde_json::Value, overwrite: bool| SaveDashboard {
        org_id: 1,
        dashboard: body.as_object().unwrap().clone(),
        folder_uid: Some(folder.uid.clone()),
        overwrite,
        message: String::new(),
        actor: "alice".into(),
        restored_from: 0,
        request_key: None,
    };
    let saved = store
        .save_dashboard(save(
            json!({"title": "Net", "tags": ["a", "b"], "zz": 1, "panels": []}),
            false,
        ))
        .await
        .unwrap();
    assert_eq!(saved.version, 1);
    let got = store.dashboard_by_uid(1, &saved.uid).await.unwrap();
    assert_eq!(got.folder_uid.as_deref(), Some(folder.uid.as_str()));
    assert!(
        got.data
            .starts_with("{\"title\":\"Net\",\"tags\":[\"a\",\"b\"],\"zz\":1"),
        "{}",
        got.data
    );
    let stale = save(
        json!({"title": "Net", "uid": saved.uid, "version": 0}),
        false,
    );
    assert!(matches!(
        store.save_dashboard(stale).await,
        Err(StoreError::VersionMismatch)
    ));
    let same_name = save(json!({"title": "Net"}), false);
    assert!(matches!(
        store.save_dashboard(same_name).await,
        Err(StoreError::NameExists)
    ));
    let v2 = store
        .save_dashboard(save(
            json!({"title": "Net", "uid": saved.uid, "version": 1, "tags": ["b"]}),
            false,
        ))
        .await
        .unwrap();
    assert_eq!(v2.version, 2);
    assert_eq!(
        store
            .dashboard_versions(1, &saved.uid, 10, 0)
            .await
            .unwrap()
            .len(),
        2
    );
    let tags = store.dashboard_tags(1).await.unwrap();
    assert_eq!(
        tags,
        vec![TagCount {
            term: "b".into(),
            count: 1
        }]
    );
    store.star_dashboard(user.id, 1, &saved.uid).await.unwrap();
    let hits = store
        .search(&SearchQuery {
            org_id: 1,
            user_id: Some(user.id),
            limit: 100,
            page: 1,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[0].kind, SearchHitKind::Folder);
    assert!(hits[1].is_starred);
    let restored = store
        .restore_dashboard_version(1, &saved.uid, 1, "alice", None)
        .await
        .unwrap();
    assert_eq!(restored.version, 3);
    assert!(store.changes_since(0, 1000).await.unwrap().len() >= 5);
    store.delete_folder(1, &folder.uid).await.unwrap();
    assert!(matches!(
        store.dashboard_by_uid(1, &saved.uid).await,
        Err(StoreError::NotFound)
    ));
}

#[tokio::test]
async fn rules_on_sqlite() {
    let (url, scratch) = common::scratch(false, "store").await;
    let store = open(&url).await;
    rules(store.clone()).await;
    store.close().await;
    scratch.remove().await;
}

#[tokio::test]
async fn rules_on_postgres() {
    let (url, scratch) = common::scratch(true, "store").await;
    let store = open(&url).await;
    rules(store.clone()).await;
    store.close().await;
    scratch.remove().await;
}
