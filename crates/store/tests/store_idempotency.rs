//! Idempotency keys on SQLite and PostgreSQL alike: one claim among racing requests, replay of a
//! completed response, in-flight and fingerprint conflicts, take-over of an expired lock by the
//! same request only, owner-checked completion and release, and pruning by age.

mod common;

use pharos_store::*;

async fn fresh(postgres: bool) -> (Store, common::Scratch) {
    let (url, scratch) = common::scratch(postgres, "idem").await;
    let store = common::connect(&url, 16).await;
    store.migrate().await.unwrap();
    (store, scratch)
}

const LOCK: i64 = 60_000;

fn owner_of(claim: IdempotencyClaim) -> String {
    match claim {
        IdempotencyClaim::Claimed { owner } => owner,
        other => panic!("expected a claim, got {other:?}"),
    }
}

async fn lifecycle(postgres: bool) {
    let (store, scratch) = fresh(postgres).await;
    let t = 1_000_000;
    let owner = owner_of(
        store
            .claim_idempotency_key("org:1:user:1", "k1", "fp-a", "r1", t, LOCK)
            .await
            .unwrap(),
    );
    // While in flight: the same request conflicts, another request with the key mismatches.
    assert!(matches!(
        store
            .claim_idempotency_key("org:1:user:1", "k1", "fp-a", "r1", t + 1, LOCK)
            .await
            .unwrap(),
        IdempotencyClaim::InFlight { .. }
    ));
    assert_eq!(
        store
            .claim_idempotency_key("org:1:user:1", "k1", "fp-b", "r1", t + 1, LOCK)
            .await
            .unwrap(),
        IdempotencyClaim::Mismatch
    );
    // Another caller's key of the same name is its own.
    owner_of(
        store
            .claim_idempotency_key("org:1:user:2", "k1", "fp-b", "r1", t + 1, LOCK)
            .await
            .unwrap(),
    );
    // Only the owner completes; any bytes survive the round trip.
    let response = StoredResponse {
        status: 200,
        content_type: "application/json".into(),
        body: vec![0, 1, 2, 255, b'{', b'}'],
    };
    assert!(!store
        .complete_idempotency_key("org:1:user:1", "k1", "someone-else", &response)
        .await
        .unwrap());
    assert!(store
        .complete_idempotency_key("org:1:user:1", "k1", &owner, &response)
        .await
        .unwrap());
    assert!(!store
        .complete_idempotency_key("org:1:user:1", "k1", &owner, &response)
        .await
        .unwrap());
    // Completed: replayed, even long after the lock would have run out; never taken over.
    assert_eq!(
        store
            .claim_idempotency_key("org:1:user:1", "k1", "fp-a", "r1", t + 10 * LOCK, LOCK)
            .await
            .unwrap(),
        IdempotencyClaim::Completed(response.clone())
    );
    assert_eq!(
        store
            .claim_idempotency_key("org:1:user:1", "k1", "fp-b", "r1", t + 10 * LOCK, LOCK)
            .await
            .unwrap(),
        IdempotencyClaim::Mismatch
    );
    // An empty body comes back empty.
    let empty = StoredResponse {
        status: 204,
        content_type: String::new(),
        body: Vec::new(),
    };
    let o = owner_of(
        store
            .claim_idempotency_key("s", "empty", "fp", "r1", t, LOCK)
            .await
            .unwrap(),
    );
    assert!(store
        .complete_idempotency_key("s", "empty", &o, &empty)
        .await
        .unwrap());
    assert_eq!(
        store
            .claim_idempotency_key("s", "empty", "fp", "r1", t, LOCK)
            .await
            .unwrap(),
        IdempotencyClaim::Completed(empty)
    );
    // Empty names are refused.
    assert!(matches!(
        store
            .claim_idempotency_key("", "k", "fp", "r1", t, LOCK)
            .await,
        Err(StoreError::Invalid(_))
    ));
    store.close().await;
    scratch.remove().await;
}

async fn expiry_release_prune(postgres: bool) {
    let (store, scratch) = fresh(postgres).await;
    let t = 5_000_000;
    let first = owner_of(
        store
            .claim_idempotency_key("s", "k", "fp", "r1", t, LOCK)
            .await
            .unwrap(),
    );
    // The processing replica died: once the lock ran out, the same request takes over...
    assert!(matches!(
        store
            .claim_idempotency_key("s", "k", "fp", "r1", t + LOCK - 1, LOCK)
            .await
            .unwrap(),
        IdempotencyClaim::InFlight { .. }
    ));
    assert_eq!(
        store
            .claim_idempotency_key("s", "k", "other", "r1", t + LOCK, LOCK)
            .await
            .unwrap(),
        IdempotencyClaim::Mismatch
    );
    let second = owner_of(
        store
            .claim_idempotency_key("s", "k", "fp", "r1", t + LOCK, LOCK)
            .await
            .unwrap(),
    );
    assert_ne!(first, second);
    // ...and the slow original can neither release nor complete the successor's claim.
    assert!(!store
        .release_idempotency_key("s", "k", &first)
        .await
        .unwrap());
    let response = StoredResponse {
        status: 201,
        content_type: "application/json".into(),
        body: b"{}".to_vec(),
    };
    assert!(!store
        .complete_idempotency_key("s", "k", &first, &response)
        .await
        .unwrap());
    // Released by its owner: the next request runs afresh.
    assert!(store
        .release_idempotency_key("s", "k", &second)
        .await
        .unwrap());
    let third = owner_of(
        store
            .claim_idempotency_key("s", "k", "other", "r1", t + LOCK + 1, LOCK)
            .await
            .unwrap(),
    );
    assert!(store
        .complete_idempotency_key("s", "k", &third, &response)
        .await
        .unwrap());
    // A completed key cannot be released.
    assert!(!store
        .release_idempotency_key("s", "k", &third)
        .await
        .unwrap());
    // Pruning removes keys claimed before the cut-off only.
    owner_of(
        store
            .claim_idempotency_key("s", "newer", "fp", "r1", t + 10 * LOCK, LOCK)
            .await
            .unwrap(),
    );
    assert_eq!(
        store.prune_idempotency_keys(t + 10 * LOCK).await.unwrap(),
        1
    );
    assert!(matches!(
        store
            .claim_idempotency_key("s", "newer", "fp", "r1", t + 10 * LOCK + 1, LOCK)
            .await
            .unwrap(),
        IdempotencyClaim::InFlight { .. }
    ));
    owner_of(
        store
            .claim_idempotency_key("s", "k", "fp", "r1", t + 10 * LOCK + 1, LOCK)
            .await
            .unwrap(),
    );
    store.close().await;
    scratch.remove().await;
}

/// Many requests with one key at once: exactly one claims it.
async fn take_over(postgres: bool) {
    let (store, scratch) = fresh(postgres).await;
    let t = 9_000_000;
    let dead = owner_of(
        store
            .claim_idempotency_key("s", "k", "fp", "r1", t, LOCK)
            .await
            .unwrap(),
    );
    assert_eq!(owner_replica(&dead), Some("r1"));
    let in_flight = store
        .claim_idempotency_key("s", "k", "fp", "r2", t + 1, LOCK)
        .await
        .unwrap();
    assert_eq!(
        in_flight,
        IdempotencyClaim::InFlight {
            owner: dead.clone()
        },
        "the conflict names the holder"
    );
    // Only the holder named can be displaced, and only once.
    assert_eq!(
        store
            .take_over_idempotency_key("s", "k", "r1/not-the-owner", "r2", t + 2, LOCK)
            .await
            .unwrap(),
        None
    );
    let successor = store
        .take_over_idempotency_key("s", "k", &dead, "r2", t + 2, LOCK)
        .await
        .unwrap()
        .expect("took over");
    assert_eq!(owner_replica(&successor), Some("r2"));
    assert_eq!(
        store
            .take_over_idempotency_key("s", "k", &dead, "r3", t + 3, LOCK)
            .await
            .unwrap(),
        None,
        "a second taker loses"
    );
    let response = StoredResponse {
        status: 200,
        content_type: "application/json".into(),
        body: b"{}".to_vec(),
    };
    assert!(!store
        .complete_idempotency_key("s", "k", &dead, &response)
        .await
        .unwrap());
    assert!(store
        .complete_idempotency_key("s", "k", &successor, &response)
        .await
        .unwrap());
    // A completed key cannot be taken over.
    assert_eq!(
        store
            .take_over_idempotency_key("s", "k", &successor, "r3", t + 4, LOCK)
            .await
            .unwrap(),
        None
    );
    assert_eq!(owner_replica("no-slash"), None);
    store.close().await;
    scratch.remove().await;
}

async fn race(postgres: bool) {
    let (store, scratch) = fresh(postgres).await;
    for round in 0..5 {
        let n = 12;
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(n));
        let tasks: Vec<_> = (0..n)
            .map(|_| {
                let store = store.clone();
                let barrier = barrier.clone();
                tokio::spawn(async move {
                    barrier.wait().await;
                    store
                        .claim_idempotency_key("s", &format!("race-{round}"), "fp", "r1", 1, LOCK)
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut claimed = 0;
        for task in tasks {
            match task.await.unwrap() {
                IdempotencyClaim::Claimed { .. } => claimed += 1,
                IdempotencyClaim::InFlight { .. } => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(claimed, 1, "round {round}");
    }
    store.close().await;
    scratch.remove().await;
}

#[tokio::test]
async fn lifecycle_on_sqlite() {
    lifecycle(false).await;
}

#[tokio::test]
async fn lifecycle_on_postgres() {
    lifecycle(true).await;
}

#[tokio::test]
async fn expiry_release_prune_on_sqlite() {
    expiry_release_prune(false).await;
}

#[tokio::test]
async fn expiry_release_prune_on_postgres() {
    expiry_release_prune(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn one_claim_among_racers_on_sqlite() {
    race(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn one_claim_among_racers_on_postgres() {
    race(true).await;
}

#[tokio::test]
async fn take_over_on_sqlite() {
    take_over(false).await;
}

#[tokio::test]
async fn take_over_on_postgres() {
    take_over(true).await;
}
