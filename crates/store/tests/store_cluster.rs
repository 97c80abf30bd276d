//! Membership and leases, on SQLite and PostgreSQL alike: one winner per term among many racing
//! acquirers, strictly increasing fencing tokens, renewals only by the holder before expiry, and
//! writes fenced by a lease.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use pharos_store::*;

async fn fresh(postgres: bool) -> (Store, common::Scratch) {
    let (url, scratch) = common::scratch(postgres, "cluster").await;
    // Enough connections that the racing acquirers really run at once.
    let store = common::connect(&url, 24).await;
    store.migrate().await.unwrap();
    (store, scratch)
}

async fn clean(store: Store, scratch: common::Scratch) {
    store.close().await;
    scratch.remove().await;
}

/// `n` holders race to acquire `name`; returns the winners' leases.
async fn race(store: &Store, name: &str, n: usize, ttl_ms: i64, round: usize) -> Vec<Lease> {
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(n));
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let store = store.clone();
            let name = name.to_string();
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                store
                    .acquire_lease(&name, &format!("r{round}-h{i}"), ttl_ms)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut winners = Vec::new();
    for t in tasks {
        if let Some(lease) = t.await.unwrap() {
            winners.push(lease);
        }
    }
    winners
}

async fn leases_race(postgres: bool) {
    let (store, scratch) = fresh(postgres).await;
    let ttl_ms = 400;
    let mut last_token = 0;
    for round in 0..4 {
        let winners = race(&store, "maintenance", 20, ttl_ms, round).await;
        assert_eq!(
            winners.len(),
            1,
            "round {round}: exactly one of 20 racing acquirers wins: {winners:?}"
        );
        let lease = winners[0].clone();
        assert!(
            lease.fencing_token > last_token,
            "round {round}: tokens strictly increase: {} after {last_token}",
            lease.fencing_token
        );
        assert_eq!(lease.fencing_token, last_token + 1, "one term per round");
        last_token = lease.fencing_token;

        // The table says the same.
        let rows = store.leases().await.unwrap();
        assert_eq!(rows, vec![lease.clone()]);

        // While it is held: nobody else acquires, a non-holder cannot renew or release, the holder
        // can renew (same token, later expiry).
        assert_eq!(
            store
                .acquire_lease("maintenance", "intruder", ttl_ms)
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            store
                .acquire_lease("maintenance", &lease.holder, ttl_ms)
                .await
                .unwrap(),
            None,
            "acquire is only for a free lease; the holder renews"
        );
        let forged = Lease {
            holder: "intruder".into(),
            ..lease.clone()
        };
        assert_eq!(store.renew_lease(&forged, ttl_ms).await.unwrap(), None);
        assert!(!store.release_lease(&forged).await.unwrap());
        let stale_term = Lease {
            fencing_token: lease.fencing_token - 1,
            ..lease.clone()
        };
        assert_eq!(store.renew_lease(&stale_term, ttl_ms).await.unwrap(), None);
        tokio::time::sleep(Duration::from_millis(20)).await;
        let renewed = store
            .renew_lease(&lease, ttl_ms)
            .await
            .unwrap()
            .expect("the holder renews");
        assert_eq!(renewed.fencing_token, lease.fencing_token);
        assert!(renewed.expires_at > lease.expires_at);

        // Let it expire: the holder can no longer renew, and the next round's race finds it free.
        tokio::time::sleep(Duration::from_millis(ttl_ms as u64 + 100)).await;
        assert_eq!(
            store.renew_lease(&renewed, ttl_ms).await.unwrap(),
            None,
            "round {round}: an expired lease cannot be renewed"
        );
    }

    // Release: the next acquirer gets it at once, with a higher token; the old term stays dead.
    let a = store
        .acquire_lease("maintenance", "a", 60_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.fencing_token, last_token + 1);
    assert!(store.release_lease(&a).await.unwrap());
    assert!(!store.release_lease(&a).await.unwrap(), "released once");
    assert_eq!(store.renew_lease(&a, 60_000).await.unwrap(), None);
    let b = store
        .acquire_lease("maintenance", "b", 60_000)
        .await
        .unwrap()
        .expect("a released lease is free at once");
    assert_eq!(b.fencing_token, a.fencing_token + 1);
    assert!(
        !store.release_lease(&a).await.unwrap(),
        "a cannot release b's term"
    );
    assert_eq!(store.leases().await.unwrap()[0].holder, "b");

    // Leases are independent by name.
    let other = store
        .acquire_lease("alerting", "a", 60_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(other.fencing_token, 1);

    // Bad input is a typed error.
    assert!(matches!(
        store.acquire_lease("", "a", 1000).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.acquire_lease("x", "a", 0).await,
        Err(StoreError::Invalid(_))
    ));
    clean(store, scratch).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn leases_on_sqlite() {
    leases_race(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn leases_on_postgres() {
    leases_race(true).await;
}

/// Many rounds of racers against short leases: every term has one holder, and the tokens the
/// winners saw are exactly 1, 2, 3, … with no term granted twice.
async fn tokens_never_repeat(postgres: bool) {
    let (store, scratch) = fresh(postgres).await;
    let mut seen = BTreeSet::new();
    for round in 0..10 {
        // A 1 ms lease expires almost at once, so racers of the same round may win successive
        // terms; each must still get its own token.
        for lease in race(&store, "short", 12, 1, round).await {
            assert!(
                seen.insert(lease.fencing_token),
                "token {} granted twice",
                lease.fencing_token
            );
        }
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    let max = *seen.last().unwrap();
    assert_eq!(
        seen.len() as i64,
        max,
        "tokens 1..={max} without gaps: {seen:?}"
    );
    assert_eq!(store.leases().await.unwrap()[0].fencing_token, max);
    clean(store, scratch).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn tokens_never_repeat_on_sqlite() {
    tokens_never_repeat(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn tokens_never_repeat_on_postgres() {
    tokens_never_repeat(true).await;
}

async fn membership(postgres: bool) {
    let (store, scratch) = fresh(postgres).await;
    store
        .heartbeat_member("a", "10.0.0.1:3000", "0.1.0")
        .await
        .unwrap();
    store
        .heartbeat_member("b", "10.0.0.2:3000", "0.1.0")
        .await
        .unwrap();
    let members = store.members().await.unwrap();
    assert_eq!(
        members.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
        ["a", "b"]
    );
    let a = members[0].clone();
    assert_eq!(a.address, "10.0.0.1:3000");
    assert_eq!(a.started_at, a.heartbeat_at);
    let now = store.db_now_ms().await.unwrap();
    assert!(
        (now - a.heartbeat_at).abs() < 5_000,
        "{now} vs {}",
        a.heartbeat_at
    );
    assert_eq!(store.live_member_count(30_000).await.unwrap(), 2);

    // A heartbeat moves only the heartbeat (and a changed address); the start time stays.
    // Margins wide enough for a loaded CI machine: b is 1 s stale, a fresh, against a 700 ms timeout.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    store
        .heartbeat_member("a", "10.0.0.9:3000", "0.1.0")
        .await
        .unwrap();
    let a2 = store.members().await.unwrap()[0].clone();
    assert_eq!(a2.started_at, a.started_at);
    assert!(
        a2.heartbeat_at >= a.heartbeat_at + 900,
        "{a2:?} after {a:?}"
    );
    assert_eq!(a2.address, "10.0.0.9:3000");

    // b has not beaten for 1 s: with a 700 ms timeout it is dead, a is alive. Pruning is
    // idempotent.
    assert_eq!(store.live_member_count(700).await.unwrap(), 1);
    assert_eq!(store.prune_dead_members(700).await.unwrap(), 1);
    assert_eq!(store.prune_dead_members(700).await.unwrap(), 0);
    let ids: Vec<String> = store
        .members()
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(ids, ["a"]);

    // A replica deleted as dead comes back with its next heartbeat.
    store
        .heartbeat_member("b", "10.0.0.2:3000", "0.1.0")
        .await
        .unwrap();
    assert_eq!(store.members().await.unwrap().len(), 2);

    // Graceful leave.
    assert!(store.remove_member("a").await.unwrap());
    assert!(!store.remove_member("a").await.unwrap());
    assert_eq!(store.members().await.unwrap()[0].id, "b");
    assert!(matches!(
        store.prune_dead_members(0).await,
        Err(StoreError::Invalid(_))
    ));
    clean(store, scratch).await;
}

#[tokio::test]
async fn membership_on_sqlite() {
    membership(false).await;
}

#[tokio::test]
async fn membership_on_postgres() {
    membership(true).await;
}

/// A session prune fenced by a lease deletes only while that term is current.
async fn fenced_writes(postgres: bool) {
    let (store, scratch) = fresh(postgres).await;
    let user = store
        .create_user(&NewUser {
            login: "u".into(),
            email: "u@example.com".into(),
            name: String::new(),
            password_hash: "x".into(),
            is_admin: false,
            org_id: 1,
            role: Role::Viewer,
        })
        .await
        .unwrap();
    store.create_session(user.id, "h1", "", "").await.unwrap();
    let far_future = i64::MAX / 2;
    let old = store
        .acquire_lease("maintenance", "old", 200)
        .await
        .unwrap()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let new = store
        .acquire_lease("maintenance", "new", 60_000)
        .await
        .unwrap()
        .unwrap();
    assert!(new.fencing_token > old.fencing_token);
    // The former holder woke up: its write is refused by the fence.
    assert_eq!(
        store
            .prune_sessions_under_lease(&old, far_future, far_future)
            .await
            .unwrap(),
        0
    );
    assert!(store.session_with_user("h1").await.unwrap().is_some());
    // The current holder's write goes through.
    assert_eq!(
        store
            .prune_sessions_under_lease(&new, far_future, far_future)
            .await
            .unwrap(),
        1
    );
    assert!(store.session_with_user("h1").await.unwrap().is_none());
    clean(store, scratch).await;
}

#[tokio::test]
async fn fenced_writes_on_sqlite() {
    fenced_writes(false).await;
}

#[tokio::test]
async fn fenced_writes_on_postgres() {
    fenced_writes(true).await;
}
