//! The change feed on PostgreSQL with concurrent writers: a change whose transaction took a lower
//! id but committed after a higher one is still delivered, and every change arrives once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use pharos_cluster::ChangeFeed;
use pharos_store::{Change, Store, StoreOptions};
use sqlx::{Connection, PgConnection};
use tokio::sync::broadcast;

fn server() -> String {
    std::env::var("PHAROS_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

async fn open(url: &str) -> Store {
    Store::connect(&StoreOptions {
        url: url.into(),
        max_connections: 4,
        acquire_timeout: Duration::from_secs(5),
    })
    .await
    .unwrap()
}

/// A fresh, migrated database; returns its URL, a store on it and the admin store that drops it.
async fn fresh_postgres() -> (String, Store, Store, String) {
    let name = format!(
        "pharos_feed_test_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    let admin = open(&format!("{}/postgres", server())).await;
    admin
        .execute_raw_for_tests(&format!("CREATE DATABASE {name}"))
        .await;
    let url = format!("{}/{name}", server());
    let store = open(&url).await;
    store.migrate().await.unwrap();
    (url, store, admin, name)
}

/// Opens a transaction that appends one change (and notifies, as the store's writers do) and
/// returns the id the sequence gave it, leaving the transaction open.
async fn begin_change(conn: &mut PgConnection, key: &str) -> i64 {
    sqlx::query("BEGIN").execute(&mut *conn).await.unwrap();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO changes (org_id, entity, entity_key, action, created_at) \
         VALUES (1, 'dashboard', $1, 'update', 0) RETURNING id",
    )
    .bind(key)
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(pharos_store::CHANGE_CHANNEL)
        .execute(&mut *conn)
        .await
        .unwrap();
    id
}

async fn finish(conn: &mut PgConnection, how: &str) {
    sqlx::query(how).execute(&mut *conn).await.unwrap();
}

/// Collects what the feed delivers until `key` arrives or `timeout` passes.
async fn wait_for_key(
    rx: &mut broadcast::Receiver<Arc<Vec<Change>>>,
    seen: &mut Vec<Change>,
    key: &str,
    timeout: Duration,
) -> Option<Duration> {
    let start = Instant::now();
    loop {
        if seen.iter().any(|c| c.entity_key == key) {
            return Some(start.elapsed());
        }
        let left = timeout.checked_sub(start.elapsed())?;
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Ok(batch)) => seen.extend(batch.iter().cloned()),
            Ok(Err(e)) => panic!("feed: {e}"),
            Err(_) => return None,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lower_id_that_commits_after_a_higher_one_is_still_delivered() {
    let (url, store, admin, name) = fresh_postgres().await;
    // A long poll interval: only NOTIFY (or the re-check of gaps it triggers) delivers in time.
    let feed = ChangeFeed::start(store.clone(), Duration::from_millis(300))
        .await
        .unwrap();
    let mut rx = feed.subscribe();
    let mut seen = Vec::new();

    let mut slow = PgConnection::connect(&url).await.unwrap();
    let mut fast = PgConnection::connect(&url).await.unwrap();
    for round in 0..3 {
        let (low_key, high_key) = (format!("low-{round}"), format!("high-{round}"));
        let low = begin_change(&mut slow, &low_key).await;
        let high = begin_change(&mut fast, &high_key).await;
        assert!(low < high, "{low} < {high}");
        finish(&mut fast, "COMMIT").await;
        let took = wait_for_key(&mut rx, &mut seen, &high_key, Duration::from_secs(2)).await;
        assert!(
            took.is_some(),
            "round {round}: the higher id {high} never arrived"
        );
        assert!(
            !seen.iter().any(|c| c.entity_key == low_key),
            "round {round}: not committed yet"
        );
        // Now the lower id becomes visible, after the tailer has moved past it.
        tokio::time::sleep(Duration::from_millis(400)).await;
        finish(&mut slow, "COMMIT").await;
        let took = wait_for_key(&mut rx, &mut seen, &low_key, Duration::from_secs(2)).await;
        println!("round {round}: id {low}, committed after {high}, delivered after {took:?}");
        assert!(
            took.is_some_and(|t| t < Duration::from_secs(1)),
            "round {round}: the late-committing id {low} was not delivered within 1 s ({took:?})"
        );
    }

    // A rolled-back id never appears and costs nothing: later changes flow as before.
    let gone = begin_change(&mut slow, "rolled-back").await;
    finish(&mut slow, "ROLLBACK").await;
    let after = begin_change(&mut fast, "after-rollback").await;
    finish(&mut fast, "COMMIT").await;
    assert!(gone < after);
    assert!(
        wait_for_key(&mut rx, &mut seen, "after-rollback", Duration::from_secs(2))
            .await
            .is_some()
    );

    // Every change was delivered exactly once.
    let mut ids: Vec<i64> = seen.iter().map(|c| c.id).collect();
    let delivered = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(
        ids.len(),
        delivered,
        "a change was delivered twice: {seen:?}"
    );
    assert_eq!(delivered, 7, "{seen:?}");
    assert!(!seen.iter().any(|c| c.entity_key == "rolled-back"));

    drop((slow, fast));
    store.close().await;
    admin
        .execute_raw_for_tests(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await;
    admin.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_in_flight_when_the_feed_starts_is_delivered() {
    let (url, store, admin, name) = fresh_postgres().await;
    let mut early = PgConnection::connect(&url).await.unwrap();
    let mut other = PgConnection::connect(&url).await.unwrap();
    let low = begin_change(&mut early, "in-flight").await;
    let high = begin_change(&mut other, "committed").await;
    finish(&mut other, "COMMIT").await;
    assert!(low < high);
    // The feed starts after `high`, with `low` still uncommitted below it.
    let feed = ChangeFeed::start(store.clone(), Duration::from_millis(200))
        .await
        .unwrap();
    let mut rx = feed.subscribe();
    let mut seen = Vec::new();
    tokio::time::sleep(Duration::from_millis(300)).await;
    finish(&mut early, "COMMIT").await;
    assert!(
        wait_for_key(&mut rx, &mut seen, "in-flight", Duration::from_secs(2))
            .await
            .is_some(),
        "a write that committed just after the feed started was lost: {seen:?}"
    );
    assert!(
        !seen.iter().any(|c| c.entity_key == "committed"),
        "a change that existed before the start was reported: {seen:?}"
    );
    drop((early, other));
    store.close().await;
    admin
        .execute_raw_for_tests(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await;
    admin.close().await;
}

/// Sixteen writers commit (and now and then roll back) interleaved transactions that hold their
/// change id for a random moment: every committed change is delivered exactly once, none of the
/// rolled-back ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_lose_nothing_and_repeat_nothing() {
    let (url, store, admin, name) = fresh_postgres().await;
    let feed = ChangeFeed::start(store.clone(), Duration::from_millis(100))
        .await
        .unwrap();
    // Drained as it comes: a receiver that falls 64 batches behind lags.
    let mut rx = feed.subscribe();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers_done = done.clone();
    let collector = tokio::spawn(async move {
        let mut delivered = Vec::new();
        loop {
            match tokio::time::timeout(Duration::from_secs(1), rx.recv()).await {
                Ok(Ok(batch)) => delivered.extend(batch.iter().map(|c| c.id)),
                Ok(Err(e)) => panic!("feed: {e}"),
                // A quiet second after the writers are done: everything is in (or lost).
                Err(_) if writers_done.load(std::sync::atomic::Ordering::SeqCst) => {
                    return delivered
                }
                Err(_) => {}
            }
        }
    });
    let writers: Vec<_> = (0..16)
        .map(|w| {
            let url = url.clone();
            tokio::spawn(async move {
                let mut conn = PgConnection::connect(&url).await.unwrap();
                let mut committed = Vec::new();
                for i in 0..30u64 {
                    let id = begin_change(&mut conn, &format!("w{w}-{i}")).await;
                    // A pseudo-random hold of 0-20 ms, different per writer and round.
                    let hold = (w as u64 * 7 + i * 13) % 21;
                    tokio::time::sleep(Duration::from_millis(hold)).await;
                    if (w + i as usize).is_multiple_of(7) {
                        finish(&mut conn, "ROLLBACK").await;
                    } else {
                        finish(&mut conn, "COMMIT").await;
                        committed.push(id);
                    }
                }
                committed
            })
        })
        .collect();
    let mut expected = Vec::new();
    for w in writers {
        expected.extend(w.await.unwrap());
    }
    expected.sort();
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut delivered = collector.await.unwrap();
    let count = delivered.len();
    delivered.sort();
    println!(
        "{} committed, {} delivered, {} rolled back",
        expected.len(),
        count,
        16 * 30 - expected.len()
    );
    assert_eq!(
        delivered, expected,
        "delivered exactly the committed ids, once each"
    );
    store.close().await;
    admin
        .execute_raw_for_tests(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await;
    admin.close().await;
}
