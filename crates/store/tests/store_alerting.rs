//! Alerting persistence on SQLite and PostgreSQL alike: rules and groups (uniqueness, versions,
//! moves, atomic group replacement), instance states and history fenced by the alerting lease,
//! the notification log's exactly-once recording among racing recorders, claims, retries and
//! pruning, and contact points, policies and silences with their change records.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use pharos_store::*;

async fn fresh(postgres: bool) -> (Store, common::Scratch) {
    let (url, scratch) = common::scratch(postgres, "alerting").await;
    let store = common::connect(&url, 16).await;
    store.migrate().await.unwrap();
    (store, scratch)
}

/// A second org (id 2) next to the main one.
async fn second_org(store: &Store) -> i64 {
    store
        .execute_raw_for_tests("INSERT INTO orgs (name, created, updated) VALUES ('Other', 0, 0)")
        .await;
    2
}

fn rule(uid: &str, folder: &str, group: &str, title: &str) -> NewAlertRule {
    NewAlertRule {
        uid: uid.into(),
        folder_uid: folder.into(),
        rule_group: group.into(),
        title: title.into(),
        data: format!(r#"{{"title":"{title}","condition":"C"}}"#),
        provenance: "api".into(),
    }
}

fn group_rule(uid: &str, title: &str, version: Option<i64>) -> GroupRule {
    GroupRule {
        uid: uid.into(),
        title: title.into(),
        data: format!(r#"{{"title":"{title}"}}"#),
        version,
    }
}

fn uids(rules: &[AlertRule]) -> Vec<&str> {
    rules.iter().map(|r| r.uid.as_str()).collect()
}

async fn changes_of(store: &Store, entity: &str) -> Vec<(String, String)> {
    store
        .changes_since(0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.entity == entity)
        .map(|c| (c.entity_key, c.action))
        .collect()
}

async fn rules_and_groups(postgres: bool) {
    let (store, scratch) = fresh(postgres).await;
    store.create_folder(1, Some("f1"), "F1", "t").await.unwrap();
    store.create_folder(1, Some("f2"), "F2", "t").await.unwrap();

    let r1 = store
        .create_alert_rule(1, &rule("r1", "f1", "g1", "High CPU"), 60)
        .await
        .unwrap();
    assert_eq!((r1.version, r1.group_index), (1, 0));
    let r2 = store
        .create_alert_rule(1, &rule("r2", "f1", "g1", "Disk"), 10)
        .await
        .unwrap();
    assert_eq!(r2.group_index, 1);
    // The group keeps the interval it was created with.
    let g1 = store.alert_rule_group(1, "f1", "g1").await.unwrap();
    assert_eq!(g1.interval_seconds, 60);
    assert_eq!(uids(&g1.rules), ["r1", "r2"]);

    // Uniqueness: uid in the org, title in the folder (another folder may reuse it).
    assert!(matches!(
        store
            .create_alert_rule(1, &rule("r1", "f2", "g", "Other"), 60)
            .await,
        Err(StoreError::AlreadyExists)
    ));
    assert!(matches!(
        store
            .create_alert_rule(1, &rule("r3", "f1", "g9", "High CPU"), 60)
            .await,
        Err(StoreError::NameExists)
    ));
    store
        .create_alert_rule(1, &rule("r3", "f2", "g2", "High CPU"), 30)
        .await
        .unwrap();
    // A missing folder, a bad body, a bad interval.
    for (bad, interval) in [
        (rule("x1", "nope", "g", "T"), 60),
        (
            NewAlertRule {
                data: "[1]".into(),
                ..rule("x2", "f1", "g", "T")
            },
            60,
        ),
        (rule("x3", "f1", "", "T"), 60),
        (rule("x4", "f1", "g", "T"), 0),
        (rule("bad uid!", "f1", "g", "T"), 60),
    ] {
        assert!(
            matches!(
                store.create_alert_rule(1, &bad, interval).await,
                Err(StoreError::Invalid(_))
            ),
            "{bad:?}"
        );
    }

    // Versions: a stale one is refused and changes nothing.
    let mut edit = rule("r1", "f1", "g1", "High CPU!");
    let r1 = store
        .update_alert_rule(1, &edit, Some(1), 60)
        .await
        .unwrap();
    assert_eq!(r1.version, 2);
    edit.title = "Stale".into();
    assert!(matches!(
        store.update_alert_rule(1, &edit, Some(1), 60).await,
        Err(StoreError::VersionMismatch)
    ));
    assert_eq!(store.alert_rule(1, "r1").await.unwrap().title, "High CPU!");
    assert!(matches!(
        store
            .update_alert_rule(1, &rule("nope", "f1", "g1", "N"), None, 60)
            .await,
        Err(StoreError::NotFound)
    ));
    // A title taken by another rule of the folder.
    assert!(matches!(
        store
            .update_alert_rule(1, &rule("r1", "f1", "g1", "Disk"), None, 60)
            .await,
        Err(StoreError::NameExists)
    ));

    // Moving r2 to a new group of f2 puts it at the end there; g1 keeps r1.
    let moved = store
        .update_alert_rule(1, &rule("r2", "f2", "g2", "Disk"), Some(1), 60)
        .await
        .unwrap();
    assert_eq!((moved.group_index, moved.version), (1, 2));
    assert_eq!(
        uids(&store.alert_rules(1, Some("f2"), None).await.unwrap()),
        ["r3", "r2"]
    );
    assert_eq!(
        uids(&store.alert_rules(1, Some("f1"), Some("g1")).await.unwrap()),
        ["r1"]
    );

    // Replacing g1: r1 kept (its title swapped with r2's old one is fine), r2 moved back from
    // g2, a new rule, in the order given.
    let replaced = store
        .replace_alert_rule_group(
            1,
            &AlertRuleGroupUpdate {
                folder_uid: "f1".into(),
                name: "g1".into(),
                interval_seconds: 120,
                provenance: "file".into(),
                rules: vec![
                    group_rule("r2", "High CPU!", Some(2)),
                    group_rule("", "New one", None),
                    group_rule("r1", "Disk", Some(2)),
                ],
            },
        )
        .await
        .unwrap();
    assert_eq!(replaced.interval_seconds, 120);
    assert_eq!(replaced.rules[0].uid, "r2");
    assert_eq!(replaced.rules[2].uid, "r1");
    let new_uid = replaced.rules[1].uid.clone();
    assert!(!new_uid.is_empty());
    let read = store.alert_rule_group(1, "f1", "g1").await.unwrap();
    assert_eq!(read.rules, replaced.rules);
    assert_eq!(
        read.rules.iter().map(|r| r.version).collect::<Vec<_>>(),
        [3, 1, 3]
    );
    assert!(read.rules.iter().all(|r| r.provenance == "file"));
    assert_eq!(read.rules[2].title, "Disk");
    // g2 still has r3; r2 left it.
    assert_eq!(
        uids(&store.alert_rule_group(1, "f2", "g2").await.unwrap().rules),
        ["r3"]
    );

    // A stale version in a replacement changes nothing.
    assert!(matches!(
        store
            .replace_alert_rule_group(
                1,
                &AlertRuleGroupUpdate {
                    folder_uid: "f1".into(),
                    name: "g1".into(),
                    interval_seconds: 10,
                    provenance: "api".into(),
                    rules: vec![group_rule("r1", "Disk", Some(1))],
                },
            )
            .await,
        Err(StoreError::VersionMismatch)
    ));
    assert_eq!(store.alert_rule_group(1, "f1", "g1").await.unwrap(), read);
    // Two rules of one replacement with one title, or a title of another group of the folder.
    for rules in [
        vec![group_rule("a", "Same", None), group_rule("b", "Same", None)],
        vec![group_rule("a", "High CPU", None)],
    ] {
        assert!(matches!(
            store
                .replace_alert_rule_group(
                    1,
                    &AlertRuleGroupUpdate {
                        folder_uid: "f2".into(),
                        name: "g3".into(),
                        interval_seconds: 10,
                        provenance: String::new(),
                        rules,
                    },
                )
                .await,
            Err(StoreError::NameExists)
        ));
    }

    // Dropping rules from the group deletes them.
    let shrunk = store
        .replace_alert_rule_group(
            1,
            &AlertRuleGroupUpdate {
                folder_uid: "f1".into(),
                name: "g1".into(),
                interval_seconds: 120,
                provenance: "api".into(),
                rules: vec![group_rule("r1", "Disk", None)],
            },
        )
        .await
        .unwrap();
    assert_eq!(uids(&shrunk.rules), ["r1"]);
    assert!(matches!(
        store.alert_rule(1, &new_uid).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.alert_rule(1, "r2").await,
        Err(StoreError::NotFound)
    ));

    // Org scoping.
    let org2 = second_org(&store).await;
    assert!(store
        .alert_rules(org2, None, None)
        .await
        .unwrap()
        .is_empty());
    assert!(matches!(
        store.alert_rule(org2, "r1").await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.alert_rule_groups(Some(1)).await.unwrap().len(), 2);
    let all = store.alert_rule_groups(None).await.unwrap();
    assert_eq!(
        all.iter()
            .map(|g| (g.folder_uid.as_str(), g.name.as_str(), g.rules.len()))
            .collect::<Vec<_>>(),
        [("f1", "g1", 1), ("f2", "g2", 1)]
    );

    // Deleting the last rule of a group deletes the group; deleting a group deletes its rules.
    store.delete_alert_rule(1, "r3").await.unwrap();
    assert!(matches!(
        store.alert_rule_group(1, "f2", "g2").await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.delete_alert_rule(1, "r3").await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store.delete_alert_rule_group(1, "f1", "g1").await.unwrap(),
        ["r1"]
    );
    assert!(store.alert_rules(1, None, None).await.unwrap().is_empty());
    assert!(store.alert_rule_groups(None).await.unwrap().is_empty());
    assert!(matches!(
        store.delete_alert_rule_group(1, "f1", "g1").await,
        Err(StoreError::NotFound)
    ));

    // Every write was recorded for the other replicas' caches.
    let rule_changes = changes_of(&store, "alert_rule").await;
    assert!(rule_changes.contains(&("r1".into(), "create".into())));
    assert!(rule_changes.contains(&("r1".into(), "update".into())));
    assert!(rule_changes.contains(&("r1".into(), "delete".into())));
    assert!(rule_changes.contains(&(new_uid.clone(), "delete".into())));
    let group_changes = changes_of(&store, "alert_rule_group").await;
    assert!(group_changes.contains(&("f2/g2".into(), "delete".into())));
    assert!(group_changes.contains(&("f1/g1".into(), "update".into())));

    store.close().await;
    scratch.remove().await;
}

fn instance(fingerprint: &str, state: &str) -> AlertInstanceUpdate {
    AlertInstanceUpdate {
        fingerprint: fingerprint.into(),
        labels: format!(r#"{{"instance":"{fingerprint}"}}"#),
        state: state.into(),
        data: format!(r#"{{"state":"{state}"}}"#),
    }
}

fn transition(fingerprint: &str, from: &str, to: &str, at: i64) -> NewAlertStateTransition {
    NewAlertStateTransition {
        fingerprint: fingerprint.into(),
        labels: "{}".into(),
        from_state: from.into(),
        to_state: to.into(),
        at,
        values: r#"{"A":1.5}"#.into(),
    }
}

async fn instances_and_history(postgres: bool) {
    let (store, scratch) = fresh(postgres).await;
    store.create_folder(1, Some("f"), "F", "t").await.unwrap();
    store
        .create_alert_rule(1, &rule("r1", "f", "g", "R1"), 10)
        .await
        .unwrap();
    store
        .create_alert_rule(1, &rule("r2", "f", "g", "R2"), 10)
        .await
        .unwrap();
    let lease = store
        .acquire_lease(ALERTING_LEASE, "a", 60_000)
        .await
        .unwrap()
        .unwrap();

    store
        .save_alert_instances(
            &lease,
            1,
            &AlertInstanceBatch {
                rule_uid: "r1".into(),
                upserts: vec![instance("fa", "Pending"), instance("fb", "Normal")],
                removed: vec![],
                transitions: vec![transition("fa", "Normal", "Pending", 1_000)],
            },
        )
        .await
        .unwrap();
    store
        .save_alert_instances(
            &lease,
            1,
            &AlertInstanceBatch {
                rule_uid: "r1".into(),
                upserts: vec![instance("fa", "Alerting")],
                removed: vec!["fb".into()],
                transitions: vec![transition("fa", "Pending", "Alerting", 2_000)],
            },
        )
        .await
        .unwrap();
    store
        .save_alert_instances(
            &lease,
            1,
            &AlertInstanceBatch {
                rule_uid: "r2".into(),
                upserts: vec![instance("fc", "Normal")],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let r1 = store.alert_instances(1, "r1").await.unwrap();
    assert_eq!(r1.len(), 1);
    assert_eq!(
        (r1[0].fingerprint.as_str(), r1[0].state.as_str()),
        ("fa", "Alerting")
    );
    assert_eq!(r1[0].data, r#"{"state":"Alerting"}"#);
    assert_eq!(store.alert_instances_of_org(1).await.unwrap().len(), 2);
    assert!(store.alert_instances_of_org(2).await.unwrap().is_empty());

    // Bad input, the wrong lease, a deleted rule.
    assert!(matches!(
        store
            .save_alert_instances(
                &lease,
                1,
                &AlertInstanceBatch {
                    rule_uid: "r1".into(),
                    upserts: vec![AlertInstanceUpdate {
                        labels: "[]".into(),
                        ..instance("fz", "Normal")
                    }],
                    ..Default::default()
                },
            )
            .await,
        Err(StoreError::Invalid(_))
    ));
    let other = store
        .acquire_lease("maintenance", "a", 60_000)
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(
        store
            .save_alert_instances(
                &other,
                1,
                &AlertInstanceBatch {
                    rule_uid: "r1".into(),
                    ..Default::default()
                }
            )
            .await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store
            .save_alert_instances(
                &lease,
                1,
                &AlertInstanceBatch {
                    rule_uid: "gone".into(),
                    upserts: vec![instance("fz", "Normal")],
                    ..Default::default()
                }
            )
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(store.alert_instances(1, "gone").await.unwrap().is_empty());

    // History: by rule, time range and limit, newest first.
    store
        .append_alert_state_history(
            &lease,
            1,
            "r2",
            &[transition("fc", "Normal", "Error", 3_000)],
        )
        .await
        .unwrap();
    let query = |rule: Option<&str>, from, to, limit| AlertStateHistoryQuery {
        rule_uid: rule.map(String::from),
        fingerprint: None,
        from,
        to,
        limit,
    };
    let all = store
        .alert_state_history(1, &query(None, None, None, 100))
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|t| t.at).collect::<Vec<_>>(),
        [3_000, 2_000, 1_000]
    );
    assert_eq!(all[1].to_state, "Alerting");
    assert_eq!(all[1].values, r#"{"A":1.5}"#);
    let r1_hist = store
        .alert_state_history(1, &query(Some("r1"), Some(1_500), None, 100))
        .await
        .unwrap();
    assert_eq!(r1_hist.len(), 1);
    assert_eq!(r1_hist[0].from_state, "Pending");
    assert_eq!(
        store
            .alert_state_history(1, &query(None, None, Some(2_000), 1))
            .await
            .unwrap()[0]
            .at,
        2_000
    );
    assert!(store
        .alert_state_history(2, &query(None, None, None, 100))
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .alert_state_history(1, &query(None, None, None, 0))
        .await
        .is_err());
    assert_eq!(store.prune_alert_state_history(2_500).await.unwrap(), 2);
    assert_eq!(
        store
            .alert_state_history(1, &query(None, None, None, 100))
            .await
            .unwrap()
            .len(),
        1
    );

    // Deleting a rule deletes its instances; deleting instances directly works too.
    store.delete_alert_rule(1, "r1").await.unwrap();
    assert!(store.alert_instances(1, "r1").await.unwrap().is_empty());
    assert_eq!(store.delete_alert_instances(1, "r2").await.unwrap(), 1);

    store.close().await;
    scratch.remove().await;
}

/// A former holder whose lease ran out and was taken cannot write instance states, history or
/// notifications; the new holder can.
async fn fencing(postgres: bool) {
    let (store, scratch) = fresh(postgres).await;
    store.create_folder(1, Some("f"), "F", "t").await.unwrap();
    store
        .create_alert_rule(1, &rule("r1", "f", "g", "R1"), 10)
        .await
        .unwrap();
    let old = store
        .acquire_lease(ALERTING_LEASE, "a", 150)
        .await
        .unwrap()
        .unwrap();
    let batch = AlertInstanceBatch {
        rule_uid: "r1".into(),
        upserts: vec![instance("fa", "Alerting")],
        removed: vec![],
        transitions: vec![transition("fa", "Pending", "Alerting", 5)],
    };
    store.save_alert_instances(&old, 1, &batch).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // Expired, not yet taken: already refused.
    assert!(matches!(
        store.save_alert_instances(&old, 1, &batch).await,
        Err(StoreError::LeaseLost(_))
    ));
    let new = store
        .acquire_lease(ALERTING_LEASE, "b", 60_000)
        .await
        .unwrap()
        .unwrap();
    assert!(new.fencing_token > old.fencing_token);
    let stale_batch = AlertInstanceBatch {
        upserts: vec![instance("fa", "Normal")],
        ..batch.clone()
    };
    assert!(matches!(
        store.save_alert_instances(&old, 1, &stale_batch).await,
        Err(StoreError::LeaseLost(_))
    ));
    // The same holder name with the old token is refused too.
    let forged = Lease {
        holder: "b".into(),
        ..old.clone()
    };
    assert!(matches!(
        store.save_alert_instances(&forged, 1, &stale_batch).await,
        Err(StoreError::LeaseLost(_))
    ));
    assert!(matches!(
        store
            .append_alert_state_history(&old, 1, "r1", &batch.transitions)
            .await,
        Err(StoreError::LeaseLost(_))
    ));
    let note = NewNotification {
        org_id: 1,
        key: "r1/fa/Alerting/5/webhook".into(),
        receiver: "webhook".into(),
        payload: r#"{"status":"firing"}"#.into(),
    };
    assert!(matches!(
        store.record_notification(&old, &note).await,
        Err(StoreError::LeaseLost(_))
    ));
    assert!(matches!(
        store.claim_due_notifications(&old, 10, 1_000).await,
        Err(StoreError::LeaseLost(_))
    ));
    let groups = NotificationGroupBatch {
        upserts: vec![(
            "hook".into(),
            "{}/{alertname=\"X\"}".into(),
            r#"{"t":1}"#.into(),
        )],
        removed: vec![],
    };
    assert!(matches!(
        store.save_notification_groups(&old, 1, &groups).await,
        Err(StoreError::LeaseLost(_))
    ));
    assert!(store.notification_groups(None).await.unwrap().is_empty());
    // Nothing of the stale writes landed.
    assert_eq!(
        store.alert_instances(1, "r1").await.unwrap()[0].state,
        "Alerting"
    );
    assert!(matches!(
        store.notification(1, &note.key).await,
        Err(StoreError::NotFound)
    ));
    let history = AlertStateHistoryQuery {
        limit: 10,
        ..Default::default()
    };
    assert_eq!(
        store.alert_state_history(1, &history).await.unwrap().len(),
        1
    );
    // The new holder writes.
    store
        .save_alert_instances(&new, 1, &stale_batch)
        .await
        .unwrap();
    assert_eq!(
        store.alert_instances(1, "r1").await.unwrap()[0].state,
        "Normal"
    );
    assert!(store.record_notification(&new, &note).await.unwrap());
    assert_eq!(
        store
            .notification(1, &note.key)
            .await
            .unwrap()
            .fencing_token,
        new.fencing_token
    );
    // A released lease fences too.
    assert!(store.release_lease(&new).await.unwrap());
    assert!(matches!(
        store.save_alert_instances(&new, 1, &batch).await,
        Err(StoreError::LeaseLost(_))
    ));
    store.close().await;
    scratch.remove().await;
}

fn note(key: &str) -> NewNotification {
    NewNotification {
        org_id: 1,
        key: key.into(),
        receiver: "hook".into(),
        payload: format!(r#"{{"key":"{key}"}}"#),
    }
}

async fn notification_log(postgres: bool) {
    let (store, scratch) = fresh(postgres).await;
    let lease = store
        .acquire_lease(ALERTING_LEASE, "a", 60_000)
        .await
        .unwrap()
        .unwrap();
    assert!(store
        .record_notification(&lease, &note("k1"))
        .await
        .unwrap());
    // The same key again records nothing and leaves the entry alone.
    let again = NewNotification {
        payload: r#"{"other":true}"#.into(),
        ..note("k1")
    };
    assert!(!store.record_notification(&lease, &again).await.unwrap());
    let k1 = store.notification(1, "k1").await.unwrap();
    assert_eq!(k1.payload, r#"{"key":"k1"}"#);
    assert_eq!(k1.status, NotificationStatus::Pending);
    assert_eq!((k1.attempts, k1.delivered_at), (0, None));
    // The same key in another org is another entry.
    let org2 = second_org(&store).await;
    assert!(store
        .record_notification(
            &lease,
            &NewNotification {
                org_id: org2,
                ..note("k1")
            }
        )
        .await
        .unwrap());
    assert!(matches!(
        store
            .record_notification(
                &lease,
                &NewNotification {
                    payload: "not json".into(),
                    ..note("k9")
                }
            )
            .await,
        Err(StoreError::Invalid(_))
    ));
    assert!(store
        .record_notification(&lease, &note("k2"))
        .await
        .unwrap());
    assert!(store
        .record_notification(&lease, &note("k3"))
        .await
        .unwrap());

    // Claims: due entries, oldest first, each once while held.
    let first = store
        .claim_due_notifications(&lease, 2, 60_000)
        .await
        .unwrap();
    assert_eq!(first.len(), 2);
    assert!(first.iter().all(|e| e.attempts == 1));
    let second = store
        .claim_due_notifications(&lease, 10, 60_000)
        .await
        .unwrap();
    assert_eq!(second.len(), 2);
    assert!(store
        .claim_due_notifications(&lease, 10, 60_000)
        .await
        .unwrap()
        .is_empty());
    let mut keys: Vec<_> = first
        .iter()
        .chain(&second)
        .map(|e| (e.org_id, e.key.clone()))
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            (1, "k1".to_string()),
            (1, "k2".into()),
            (1, "k3".into()),
            (org2, "k1".into())
        ]
    );

    // Delivered; failed with a retry (due again at once); failed for good.
    let id = |key: &str| {
        first
            .iter()
            .chain(&second)
            .find(|e| e.org_id == 1 && e.key == key)
            .unwrap()
            .id
    };
    assert!(store.mark_notification_delivered(id("k1")).await.unwrap());
    assert!(!store.mark_notification_delivered(id("k1")).await.unwrap());
    let k1 = store.notification(1, "k1").await.unwrap();
    assert_eq!(k1.status, NotificationStatus::Delivered);
    assert!(k1.delivered_at.is_some());
    assert!(store
        .mark_notification_failed(id("k2"), Some(0), "connection refused")
        .await
        .unwrap());
    assert!(store
        .mark_notification_failed(id("k3"), Some(3_600_000), "timeout")
        .await
        .unwrap());
    let retried = store
        .claim_due_notifications(&lease, 10, 60_000)
        .await
        .unwrap();
    assert_eq!(retried.len(), 1);
    assert_eq!((retried[0].key.as_str(), retried[0].attempts), ("k2", 2));
    assert_eq!(retried[0].last_error, "connection refused");
    assert!(store
        .mark_notification_failed(id("k2"), None, "gave up")
        .await
        .unwrap());
    assert_eq!(
        store.notification(1, "k2").await.unwrap().status,
        NotificationStatus::Failed
    );
    assert!(!store
        .mark_notification_failed(id("k2"), Some(0), "late")
        .await
        .unwrap());
    assert!(store
        .mark_notification_failed(id("k3"), Some(-1), "x")
        .await
        .is_err());

    // What a new holder resends: everything still pending, due or not.
    let pending = store.pending_notifications(100).await.unwrap();
    let mut pending: Vec<_> = pending.iter().map(|e| (e.org_id, e.key.as_str())).collect();
    pending.sort();
    assert_eq!(pending, [(1, "k3"), (org2, "k1")]);
    assert_eq!(
        store
            .notifications(1, Some(NotificationStatus::Pending), 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(store.notifications(1, None, 10).await.unwrap().len(), 3);

    // Aggregation-group states: upsert, overwrite, remove, per org.
    let key = r#"{}/{alertname="X"}"#;
    store
        .save_notification_groups(
            &lease,
            1,
            &NotificationGroupBatch {
                upserts: vec![
                    ("hook".into(), key.into(), r#"{"v":1}"#.into()),
                    ("mail".into(), key.into(), r#"{"v":1}"#.into()),
                ],
                removed: vec![],
            },
        )
        .await
        .unwrap();
    store
        .save_notification_groups(
            &lease,
            org2,
            &NotificationGroupBatch {
                upserts: vec![("hook".into(), key.into(), r#"{"v":9}"#.into())],
                removed: vec![],
            },
        )
        .await
        .unwrap();
    store
        .save_notification_groups(
            &lease,
            1,
            &NotificationGroupBatch {
                upserts: vec![("hook".into(), key.into(), r#"{"v":2}"#.into())],
                removed: vec![("mail".into(), key.into())],
            },
        )
        .await
        .unwrap();
    let groups = store.notification_groups(Some(1)).await.unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(
        (
            groups[0].receiver.as_str(),
            groups[0].group_key.as_str(),
            groups[0].state.as_str()
        ),
        ("hook", key, r#"{"v":2}"#)
    );
    assert_eq!(store.notification_groups(None).await.unwrap().len(), 2);
    assert!(matches!(
        store
            .save_notification_groups(
                &lease,
                1,
                &NotificationGroupBatch {
                    upserts: vec![("hook".into(), key.into(), "nope".into())],
                    removed: vec![],
                },
            )
            .await,
        Err(StoreError::Invalid(_))
    ));

    // Pruning removes finished entries only.
    let now = store.db_now_ms().await.unwrap();
    assert_eq!(store.prune_notifications(now - 3_600_000).await.unwrap(), 0);
    assert_eq!(store.prune_notifications(now + 1).await.unwrap(), 2);
    assert_eq!(store.pending_notifications(100).await.unwrap().len(), 2);

    store.close().await;
    scratch.remove().await;
}

/// 8 tasks record the same key at once, many rounds: exactly one records it each time.
async fn record_race(postgres: bool) {
    let (store, scratch) = fresh(postgres).await;
    let lease = store
        .acquire_lease(ALERTING_LEASE, "a", 60_000)
        .await
        .unwrap()
        .unwrap();
    for round in 0..10 {
        let n = 8;
        let barrier = Arc::new(tokio::sync::Barrier::new(n));
        let tasks: Vec<_> = (0..n)
            .map(|_| {
                let (store, lease, barrier) = (store.clone(), lease.clone(), barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    store
                        .record_notification(&lease, &note(&format!("race-{round}")))
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut new = 0;
        for task in tasks {
            if task.await.unwrap() {
                new += 1;
            }
        }
        assert_eq!(new, 1, "round {round}");
    }
    assert_eq!(store.pending_notifications(100).await.unwrap().len(), 10);
    store.close().await;
    scratch.remove().await;
}

async fn contact_points_policies_silences(postgres: bool) {
    let (store, scratch) = fresh(postgres).await;
    let secure: BTreeMap<String, String> = [("password".to_string(), "enc:abc".to_string())].into();
    let input = ContactPointInput {
        uid: String::new(),
        name: "ops".into(),
        kind: "webhook".into(),
        settings: r#"{"url":"http://x"}"#.into(),
        secure_settings: secure.clone(),
        disable_resolve_message: true,
        provenance: "api".into(),
    };
    let cp = store.create_contact_point(1, &input).await.unwrap();
    assert_eq!(cp.version, 1);
    assert!(!cp.uid.is_empty());
    let read = store.contact_point(1, &cp.uid).await.unwrap();
    assert_eq!(read, cp);
    assert_eq!(read.secure_settings, secure);
    assert!(matches!(
        store
            .create_contact_point(
                1,
                &ContactPointInput {
                    uid: cp.uid.clone(),
                    ..input.clone()
                }
            )
            .await,
        Err(StoreError::AlreadyExists)
    ));
    // Another integration of the same contact point, and one of another.
    let second = store
        .create_contact_point(
            1,
            &ContactPointInput {
                uid: "am".into(),
                kind: "prometheus-alertmanager".into(),
                ..input.clone()
            },
        )
        .await
        .unwrap();
    store
        .create_contact_point(
            1,
            &ContactPointInput {
                uid: "mail".into(),
                name: "team".into(),
                kind: "email".into(),
                settings: String::new(),
                ..input.clone()
            },
        )
        .await
        .unwrap();
    assert_eq!(store.contact_points(1, Some("ops")).await.unwrap().len(), 2);
    assert_eq!(store.contact_points(1, None).await.unwrap().len(), 3);
    assert_eq!(store.contact_point(1, "mail").await.unwrap().settings, "{}");
    assert!(store.contact_points(2, None).await.unwrap().is_empty());
    assert!(matches!(
        store
            .create_contact_point(
                1,
                &ContactPointInput {
                    settings: "[]".into(),
                    ..input.clone()
                }
            )
            .await,
        Err(StoreError::Invalid(_))
    ));
    let edited = ContactPointInput {
        settings: r#"{"url":"http://y"}"#.into(),
        secure_settings: BTreeMap::new(),
        ..input.clone()
    };
    let updated = store
        .update_contact_point(1, "am", &edited, Some(1))
        .await
        .unwrap();
    assert_eq!(updated.version, 2);
    assert_eq!(store.contact_point(1, "am").await.unwrap(), updated);
    assert!(matches!(
        store.update_contact_point(1, "am", &edited, Some(1)).await,
        Err(StoreError::VersionMismatch)
    ));
    assert!(matches!(
        store.update_contact_point(1, "nope", &edited, None).await,
        Err(StoreError::NotFound)
    ));
    store.delete_contact_point(1, &second.uid).await.unwrap();
    assert!(matches!(
        store.delete_contact_point(1, &second.uid).await,
        Err(StoreError::NotFound)
    ));
    let cp_changes = changes_of(&store, "contact_point").await;
    assert!(cp_changes.contains(&("am".into(), "update".into())));
    assert!(cp_changes.contains(&("am".into(), "delete".into())));

    // Policies: one tree per org with a version.
    assert_eq!(store.notification_policy(1).await.unwrap(), None);
    let tree = r#"{"receiver":"ops","group_by":["alertname"]}"#;
    let p1 = store
        .save_notification_policy(1, tree, "api", Some(0))
        .await
        .unwrap();
    assert_eq!(p1.version, 1);
    let p2 = store
        .save_notification_policy(1, r#"{"receiver":"team"}"#, "", None)
        .await
        .unwrap();
    assert_eq!(p2.version, 2);
    assert!(matches!(
        store.save_notification_policy(1, tree, "", Some(1)).await,
        Err(StoreError::VersionMismatch)
    ));
    assert!(matches!(
        store.save_notification_policy(1, "[]", "", None).await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(store.notification_policy(1).await.unwrap(), Some(p2));
    assert_eq!(store.notification_policy(2).await.unwrap(), None);
    assert!(store.reset_notification_policy(1).await.unwrap());
    assert!(!store.reset_notification_policy(1).await.unwrap());
    assert_eq!(store.notification_policy(1).await.unwrap(), None);
    assert!(!changes_of(&store, "notification_policy").await.is_empty());

    // Silences: create, replace, expire, delete, prune.
    let matchers = r#"[{"name":"alertname","value":"X","isEqual":true,"isRegex":false}]"#;
    let s = store
        .save_silence(
            1,
            &SilenceInput {
                id: None,
                matchers: matchers.into(),
                starts_at: 1_000,
                ends_at: 10_000,
                comment: "maintenance".into(),
                created_by: "admin".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(s.id.len(), 36);
    assert_eq!(store.silence(1, &s.id).await.unwrap(), s);
    let replaced = store
        .save_silence(
            1,
            &SilenceInput {
                id: Some(s.id.clone()),
                matchers: matchers.into(),
                starts_at: 1_000,
                ends_at: 20_000,
                comment: "longer".into(),
                created_by: "admin".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(store.silence(1, &s.id).await.unwrap(), replaced);
    assert!(matches!(
        store
            .save_silence(
                1,
                &SilenceInput {
                    id: Some("unknown".into()),
                    matchers: matchers.into(),
                    starts_at: 1,
                    ends_at: 2,
                    ..Default::default()
                },
            )
            .await,
        Err(StoreError::NotFound)
    ));
    for (m, start, end) in [("{}", 1, 2), (matchers, 5, 5)] {
        assert!(matches!(
            store
                .save_silence(
                    1,
                    &SilenceInput {
                        matchers: m.into(),
                        starts_at: start,
                        ends_at: end,
                        ..Default::default()
                    },
                )
                .await,
            Err(StoreError::Invalid(_))
        ));
    }
    assert!(store.expire_silence(1, &s.id, 5_000).await.unwrap());
    assert!(!store.expire_silence(1, &s.id, 6_000).await.unwrap());
    assert_eq!(store.silence(1, &s.id).await.unwrap().ends_at, 5_000);
    assert!(store.silences(2).await.unwrap().is_empty());
    let later = store
        .save_silence(
            1,
            &SilenceInput {
                id: None,
                matchers: matchers.into(),
                starts_at: 1_000,
                ends_at: 50_000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .silences(1)
            .await
            .unwrap()
            .iter()
            .map(|s| s.id.as_str())
            .collect::<Vec<_>>(),
        [later.id.as_str(), s.id.as_str()]
    );
    assert_eq!(store.prune_silences(5_001).await.unwrap(), 1);
    assert!(matches!(
        store.silence(1, &s.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(store.delete_silence(1, &later.id).await.unwrap());
    assert!(!store.delete_silence(1, &later.id).await.unwrap());
    let silence_changes = changes_of(&store, "silence").await;
    assert!(silence_changes.contains(&(s.id.clone(), "delete".into())));
    assert!(silence_changes.contains(&(later.id.clone(), "delete".into())));

    store.close().await;
    scratch.remove().await;
}

#[tokio::test]
async fn rules_and_groups_on_sqlite() {
    rules_and_groups(false).await;
}

#[tokio::test]
async fn rules_and_groups_on_postgres() {
    rules_and_groups(true).await;
}

#[tokio::test]
async fn instances_and_history_on_sqlite() {
    instances_and_history(false).await;
}

#[tokio::test]
async fn instances_and_history_on_postgres() {
    instances_and_history(true).await;
}

#[tokio::test]
async fn fencing_on_sqlite() {
    fencing(false).await;
}

#[tokio::test]
async fn fencing_on_postgres() {
    fencing(true).await;
}

#[tokio::test]
async fn notification_log_on_sqlite() {
    notification_log(false).await;
}

#[tokio::test]
async fn notification_log_on_postgres() {
    notification_log(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn one_record_among_racers_on_sqlite() {
    record_race(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn one_record_among_racers_on_postgres() {
    record_race(true).await;
}

#[tokio::test]
async fn contact_points_policies_silences_on_sqlite() {
    contact_points_policies_silences(false).await;
}

#[tokio::test]
async fn contact_points_policies_silences_on_postgres() {
    contact_points_policies_silences(true).await;
}

/// Rules created at once in one group get distinct positions; concurrent replacements of one
/// group each see the other's result (the second names a version the first raised).
async fn concurrent_group_writes(postgres: bool) {
    let (store, scratch) = fresh(postgres).await;
    store.create_folder(1, Some("f"), "F", "t").await.unwrap();
    let n = 8;
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (store, barrier) = (store.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                store
                    .create_alert_rule(1, &rule(&format!("r{i}"), "f", "g", &format!("T{i}")), 10)
                    .await
                    .unwrap()
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let group = store.alert_rule_group(1, "f", "g").await.unwrap();
    let mut positions: Vec<i64> = group.rules.iter().map(|r| r.group_index).collect();
    positions.sort();
    assert_eq!(positions, (0..n as i64).collect::<Vec<_>>());

    // One title created at once in different groups of the folder: one wins, the others are
    // told the name exists.
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (store, barrier) = (store.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                store
                    .create_alert_rule(
                        1,
                        &rule(&format!("t{i}"), "f", &format!("g{i}"), "Same"),
                        10,
                    )
                    .await
            })
        })
        .collect();
    let mut won = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => won += 1,
            Err(StoreError::NameExists) => {}
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(won, 1);
    let winner = store
        .alert_rules(1, Some("f"), None)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.title == "Same")
        .unwrap();
    store.delete_alert_rule(1, &winner.uid).await.unwrap();

    // Every replacement names r0 at version 1: exactly one wins, the others are stale.
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (store, barrier) = (store.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                store
                    .replace_alert_rule_group(
                        1,
                        &AlertRuleGroupUpdate {
                            folder_uid: "f".into(),
                            name: "g".into(),
                            interval_seconds: 10 + i as i64,
                            provenance: String::new(),
                            rules: vec![group_rule("r0", &format!("W{i}"), Some(1))],
                        },
                    )
                    .await
            })
        })
        .collect();
    let mut won = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => won += 1,
            Err(StoreError::VersionMismatch) => {}
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(won, 1);
    let group = store.alert_rule_group(1, "f", "g").await.unwrap();
    assert_eq!(uids(&group.rules), ["r0"]);
    assert_eq!(group.rules[0].version, 2);
    store.close().await;
    scratch.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn concurrent_group_writes_on_sqlite() {
    concurrent_group_writes(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn concurrent_group_writes_on_postgres() {
    concurrent_group_writes(true).await;
}

/// A holder dies after claiming notifications: the next lease term's holder claims them at once
/// (not after the claim's hold), entries waiting out a failure's retry delay keep waiting, and
/// within one term a claim still holds.
async fn claims_of_an_older_term(postgres: bool) {
    let (store, scratch) = fresh(postgres).await;
    let old = store
        .acquire_lease(ALERTING_LEASE, "a", 60_000)
        .await
        .unwrap()
        .unwrap();
    for key in ["sent", "claimed", "backoff", "fresh"] {
        assert!(store.record_notification(&old, &note(key)).await.unwrap());
    }
    let claimed = store
        .claim_due_notifications(&old, 3, 600_000)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 3);
    let id = |key: &str| claimed.iter().find(|e| e.key == key).unwrap().id;
    assert!(store.mark_notification_delivered(id("sent")).await.unwrap());
    assert!(store
        .mark_notification_failed(id("backoff"), Some(3_600_000), "refused")
        .await
        .unwrap());
    // Within the term the claim holds: only the never-claimed entry is due.
    let same_term = store
        .claim_due_notifications(&old, 10, 600_000)
        .await
        .unwrap();
    assert_eq!(
        same_term.iter().map(|e| e.key.as_str()).collect::<Vec<_>>(),
        ["fresh"]
    );
    // The holder dies (its lease ends); another takes the lease: what the dead one claimed and
    // did not finish is due at once, with its attempts counted.
    assert!(store.release_lease(&old).await.unwrap());
    let new = store
        .acquire_lease(ALERTING_LEASE, "b", 60_000)
        .await
        .unwrap()
        .unwrap();
    assert!(new.fencing_token > old.fencing_token);
    let mut taken: Vec<(String, i64)> = store
        .claim_due_notifications(&new, 10, 600_000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.key, e.attempts))
        .collect();
    taken.sort();
    assert_eq!(
        taken,
        [("claimed".to_string(), 2), ("fresh".to_string(), 2)]
    );
    // Now held in the new term: not returned again.
    assert!(store
        .claim_due_notifications(&new, 10, 600_000)
        .await
        .unwrap()
        .is_empty());
    store.close().await;
    scratch.remove().await;
}

#[tokio::test]
async fn claims_of_an_older_term_on_sqlite() {
    claims_of_an_older_term(false).await;
}

#[tokio::test]
async fn claims_of_an_older_term_on_postgres() {
    claims_of_an_older_term(true).await;
}
