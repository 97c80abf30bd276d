//! The datasource store's rules (uids, names, one default per org, versions, secret changes,
//! seeding an empty org, the secret-key check), run against SQLite and PostgreSQL alike.

use std::collections::BTreeMap;

mod common;

use pharos_store::*;

async fn open(url: &str) -> Store {
    let store = common::connect(url, 8).await;
    store.migrate().await.unwrap();
    store
}

async fn fresh(postgres: bool) -> (Store, common::Scratch) {
    let (url, scratch) = common::scratch(postgres, "ds").await;
    (open(&url).await, scratch)
}

async fn clean(store: Store, scratch: common::Scratch) {
    store.close().await;
    scratch.remove().await;
}

fn new_ds(name: &str, uid: Option<&str>, is_default: bool) -> NewDataSource {
    NewDataSource {
        uid: uid.map(str::to_string),
        settings: DataSourceSettings {
            name: name.into(),
            kind: "prometheus".into(),
            url: "http://127.0.0.1:9090".into(),
            is_default,
            ..Default::default()
        },
        secure_json_data: BTreeMap::from([("password".to_string(), "v1:sealed".to_string())]),
    }
}

async fn defaults(store: &Store) -> Vec<String> {
    store
        .list_datasources(1)
        .await
        .unwrap()
        .into_iter()
        .filter(|d| d.is_default)
        .map(|d| d.name)
        .collect()
}

async fn rules(store: &Store) {
    let a = store
        .create_datasource(1, new_ds("A", Some("a"), false))
        .await
        .unwrap();
    assert!(a.is_default, "the first datasource becomes the default");
    assert_eq!(
        (a.version, a.access.as_str(), a.json_data.as_str()),
        (1, "proxy", "{}")
    );
    let b = store
        .create_datasource(1, new_ds("B", None, false))
        .await
        .unwrap();
    assert!(!b.is_default);
    assert_eq!(b.uid.len(), 14);
    let c = store
        .create_datasource(1, new_ds("C", Some("c"), true))
        .await
        .unwrap();
    assert!(c.is_default);
    assert_eq!(defaults(store).await, ["C"]);

    // Conflicts.
    for clash in [new_ds("A", None, false), new_ds("Z", Some("a"), false)] {
        assert!(matches!(
            store.create_datasource(1, clash).await,
            Err(StoreError::AlreadyExists)
        ));
    }
    assert!(matches!(
        store.create_datasource(1, new_ds(" ", None, false)).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.create_datasource(999, new_ds("Q", None, false)).await,
        Err(StoreError::NotFound)
    ));

    // Lookups.
    for at in [
        DataSourceRef::Id(a.id),
        DataSourceRef::Uid("a".into()),
        DataSourceRef::Name("A".into()),
    ] {
        let got = store.datasource(1, &at).await.unwrap();
        assert_eq!(got.id, a.id);
        assert_eq!(got.secure_json_data["password"], "v1:sealed");
    }
    assert!(matches!(
        store.datasource(2, &DataSourceRef::Uid("a".into())).await,
        Err(StoreError::NotFound)
    ));

    // Updates: settings replaced, secrets changed field by field, version bumped, default moved.
    let update = |version: Option<i64>, secure: Vec<(&str, Option<&str>)>| DataSourceUpdate {
        uid: Some("a2".into()),
        settings: DataSourceSettings {
            name: "A2".into(),
            kind: "prometheus".into(),
            url: "http://127.0.0.1:9091".into(),
            is_default: true,
            json_data: r#"{"httpMethod":"GET"}"#.into(),
            ..Default::default()
        },
        secure_changes: secure
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
            .collect(),
        version,
    };
    let a2 = store
        .update_datasource(
            1,
            &DataSourceRef::Uid("a".into()),
            update(Some(1), vec![("basicAuthPassword", Some("v1:other"))]),
        )
        .await
        .unwrap();
    assert_eq!(
        (a2.uid.as_str(), a2.name.as_str(), a2.version),
        ("a2", "A2", 2)
    );
    assert_eq!(
        a2.secure_json_data.keys().collect::<Vec<_>>(),
        ["basicAuthPassword", "password"]
    );
    assert_eq!(defaults(store).await, ["A2"]);
    // Stale: the version read before this update.
    assert!(matches!(
        store
            .update_datasource(1, &DataSourceRef::Id(a.id), update(Some(1), vec![]))
            .await,
        Err(StoreError::VersionMismatch)
    ));
    // Clearing a secret; no version means no check.
    let a3 = store
        .update_datasource(
            1,
            &DataSourceRef::Id(a.id),
            update(None, vec![("password", None)]),
        )
        .await
        .unwrap();
    assert_eq!(a3.version, 3);
    assert_eq!(
        a3.secure_json_data.keys().collect::<Vec<_>>(),
        ["basicAuthPassword"]
    );
    // Renaming onto another's name or uid.
    let mut clash = update(None, vec![]);
    clash.settings.name = "B".into();
    assert!(matches!(
        store
            .update_datasource(1, &DataSourceRef::Id(a.id), clash)
            .await,
        Err(StoreError::AlreadyExists)
    ));

    // Delete.
    let gone = store
        .delete_datasource(1, &DataSourceRef::Name("C".into()))
        .await
        .unwrap();
    assert_eq!(gone.id, c.id);
    assert!(matches!(
        store
            .delete_datasource(1, &DataSourceRef::Name("C".into()))
            .await,
        Err(StoreError::NotFound)
    ));
    let names: Vec<String> = store
        .list_datasources(1)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.name)
        .collect();
    assert_eq!(names, ["A2", "B"]);

    // Every write is in the change feed.
    let changes = store.changes_since(0, 1000).await.unwrap();
    assert!(
        changes.iter().filter(|c| c.entity == "datasource").count() >= 6,
        "{changes:?}"
    );

    // Seeding only happens in an empty org.
    assert!(store
        .create_datasource_if_org_empty(1, new_ds("Seed", Some("seed"), true))
        .await
        .unwrap()
        .is_none());

    // The secret-key check: the first value stays.
    assert_eq!(store.secret_key_check("one").await.unwrap(), "one");
    assert_eq!(store.secret_key_check("two").await.unwrap(), "one");
}

/// Concurrent creates that each ask to be the default leave exactly one default, and concurrent
/// seeding of an empty org creates exactly one datasource.
async fn races(store: &Store) {
    let seeds = (0..4).map(|i| {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .create_datasource_if_org_empty(1, new_ds(&format!("Seed{i}"), None, true))
                .await
        })
    });
    let mut created = 0;
    for s in seeds {
        if s.await.unwrap().unwrap().is_some() {
            created += 1;
        }
    }
    assert_eq!(created, 1);
    let tasks = (0..6).map(|i| {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .create_datasource(1, new_ds(&format!("D{i}"), None, true))
                .await
        })
    });
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(defaults(store).await.len(), 1);
    assert_eq!(store.list_datasources(1).await.unwrap().len(), 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn datasource_rules_on_sqlite() {
    let (store, f) = fresh(false).await;
    rules(&store).await;
    clean(store, f).await;
    let (store, f) = fresh(false).await;
    races(&store).await;
    clean(store, f).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn datasource_rules_on_postgres() {
    let (store, f) = fresh(true).await;
    rules(&store).await;
    clean(store, f).await;
    let (store, f) = fresh(true).await;
    races(&store).await;
    clean(store, f).await;
}
