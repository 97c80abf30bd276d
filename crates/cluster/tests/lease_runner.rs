//! The lease runner: one job at a time across runners, hand-over on release, and a job stopped
//! before its lease can expire when renewal is refused or the database is gone.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pharos_cluster::{LeaseRunner, Membership, MembershipSettings};
use pharos_store::{Store, StoreOptions};

async fn sqlite_store() -> (Store, std::path::PathBuf) {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "pharos-lease-runner-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let store = open(&format!("sqlite://{}/pharos.db", dir.display())).await;
    store.migrate().await.unwrap();
    (store, dir)
}

async fn open(url: &str) -> Store {
    Store::connect(&StoreOptions {
        url: url.into(),
        max_connections: 4,
        acquire_timeout: Duration::from_secs(2),
    })
    .await
    .unwrap()
}

/// Counts running jobs: +1 while a job's future is alive, -1 when it ends or is aborted.
struct Running(Arc<AtomicUsize>);
impl Drop for Running {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn counting_job(
    running: Arc<AtomicUsize>,
) -> impl Fn(pharos_store::Lease) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>
       + Send
       + Sync
       + 'static {
    move |_lease| {
        let running = running.clone();
        Box::pin(async move {
            running.fetch_add(1, Ordering::SeqCst);
            let _guard = Running(running);
            std::future::pending::<()>().await
        })
    }
}

async fn wait_for(what: &str, timeout: Duration, check: impl Fn() -> bool) -> Duration {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    start.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_job_at_a_time_and_hand_over_on_release() {
    let (store, dir) = sqlite_store().await;
    let running = Arc::new(AtomicUsize::new(0));
    let ttl = Duration::from_millis(600);
    let runners: Vec<LeaseRunner> = (0..3)
        .map(|i| {
            LeaseRunner::start(
                store.clone(),
                "job",
                &format!("r{i}"),
                ttl,
                counting_job(running.clone()),
            )
        })
        .collect();
    wait_for("a holder", Duration::from_secs(3), || {
        running.load(Ordering::SeqCst) == 1
    })
    .await;
    // Over several renewal periods: exactly one job runs, on the runner that says it holds.
    let until = Instant::now() + Duration::from_millis(1500);
    while Instant::now() < until {
        assert_eq!(running.load(Ordering::SeqCst), 1);
        assert!(runners.iter().filter(|r| r.is_held()).count() <= 1);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let holder = runners.iter().position(|r| r.is_held()).expect("a holder");
    let token = runners[holder].fencing_token();
    assert_eq!(token, 1, "renewals keep the term");
    // The holder stops: it releases, so another takes over within one retry period, not a ttl.
    runners[holder].stop().await;
    assert_eq!(running.load(Ordering::SeqCst), 0, "stop ends the job");
    let took = wait_for("a new holder", Duration::from_secs(3), || {
        runners.iter().any(|r| r.is_held())
    })
    .await;
    assert!(took <= ttl / 3 + Duration::from_millis(200), "{took:?}");
    let next = runners.iter().find(|r| r.is_held()).unwrap();
    assert_eq!(next.fencing_token(), token + 1);
    assert_eq!(running.load(Ordering::SeqCst), 1);
    for r in &runners {
        r.stop().await;
    }
    assert_eq!(running.load(Ordering::SeqCst), 0);
    assert!(store.leases().await.unwrap()[0].holder.is_empty());
    store.close().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lost_lease_stops_the_job_before_expiry() {
    let (store, dir) = sqlite_store().await;
    let running = Arc::new(AtomicUsize::new(0));
    let ttl = Duration::from_millis(900);
    let runner = LeaseRunner::start(
        store.clone(),
        "job",
        "me",
        ttl,
        counting_job(running.clone()),
    );
    wait_for("the lease", Duration::from_secs(3), || runner.is_held()).await;
    // Someone else takes the term (as an operator or a bug might): the next renewal is refused
    // and the job stops at once, within one renewal period.
    store
        .execute_raw_for_tests("UPDATE leases SET holder = 'thief'")
        .await;
    let stopped = wait_for("the job to stop", ttl, || {
        running.load(Ordering::SeqCst) == 0
    })
    .await;
    assert!(
        stopped <= ttl / 3 + Duration::from_millis(150),
        "{stopped:?}"
    );
    assert!(!runner.is_held());
    runner.stop().await;
    store.close().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn losing_the_database_stops_the_job_before_expiry() {
    let (store, dir) = sqlite_store().await;
    // The runner's own pool, which the test then closes: every renewal fails.
    let url = format!("sqlite://{}/pharos.db", dir.display());
    let runner_store = open(&url).await;
    let running = Arc::new(AtomicUsize::new(0));
    let ttl = Duration::from_millis(900);
    let runner = LeaseRunner::start(
        runner_store.clone(),
        "job",
        "me",
        ttl,
        counting_job(running.clone()),
    );
    wait_for("the lease", Duration::from_secs(3), || runner.is_held()).await;
    let expires_at = store.leases().await.unwrap()[0].expires_at;
    runner_store.close().await;
    wait_for("the job to stop", ttl, || {
        running.load(Ordering::SeqCst) == 0
    })
    .await;
    let now = store.db_now_ms().await.unwrap();
    assert!(
        now < expires_at,
        "the job ran until {now}, past the lease's expiry {expires_at}"
    );
    runner.stop().await;
    store.close().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_renewal_that_hangs_stops_the_job_before_expiry() {
    use sqlx::Connection;
    let (store, dir) = sqlite_store().await;
    let running = Arc::new(AtomicUsize::new(0));
    let ttl = Duration::from_millis(900);
    let runner = LeaseRunner::start(
        store.clone(),
        "job",
        "me",
        ttl,
        counting_job(running.clone()),
    );
    wait_for("the lease", Duration::from_secs(3), || runner.is_held()).await;
    // Another connection takes SQLite's write lock and keeps it: the next renewal waits for the
    // busy timeout (5 s), far past the term. The runner must not wait for it.
    let url = format!("sqlite://{}/pharos.db", dir.display());
    let mut locker = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut locker)
        .await
        .unwrap();
    // (WAL: reads still work while the lock is held.)
    let expires_at = store.leases().await.unwrap()[0].expires_at;
    wait_for("the job to stop", ttl, || {
        running.load(Ordering::SeqCst) == 0
    })
    .await;
    let now = store.db_now_ms().await.unwrap();
    assert!(
        now < expires_at,
        "the job ran until {now}, past the lease's expiry {expires_at}"
    );
    assert!(!runner.is_held());
    sqlx::query("ROLLBACK").execute(&mut locker).await.unwrap();
    locker.close().await.unwrap();
    runner.stop().await;
    store.close().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn members_join_heartbeat_and_leave() {
    let (store, dir) = sqlite_store().await;
    let settings = |id: &str| MembershipSettings {
        id: id.into(),
        address: format!("{id}:3000"),
        version: "test".into(),
        heartbeat_interval: Duration::from_millis(100),
        member_timeout: Duration::from_millis(600),
    };
    let a = Membership::join(store.clone(), settings("a"))
        .await
        .unwrap();
    assert_eq!(a.live_members(), 1);
    let b = Membership::join(store.clone(), settings("b"))
        .await
        .unwrap();
    assert_eq!(b.live_members(), 2);
    wait_for("a to see b", Duration::from_secs(2), || {
        a.live_members() == 2
    })
    .await;
    // A member that stopped heartbeating without leaving (killed): the others delete it.
    store
        .heartbeat_member("ghost", "ghost:3000", "old")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(900)).await;
    let ids: Vec<String> = store
        .members()
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(ids, ["a", "b"], "the ghost aged out; a and b heartbeat");
    b.leave().await;
    assert_eq!(store.members().await.unwrap().len(), 1);
    wait_for("a to see b gone", Duration::from_secs(2), || {
        a.live_members() == 1
    })
    .await;
    a.leave().await;
    assert!(store.members().await.unwrap().is_empty());
    store.close().await;
    let _ = std::fs::remove_dir_all(dir);
}
