//! Writes the database aborts under contention are run again inside the store. PostgreSQL only:
//! each case provokes a real deadlock (40P01) against one store write, which PostgreSQL resolves
//! by aborting the store's transaction; the call must still succeed, with its effect and its
//! change row applied exactly once.
//!
//! How: another connection takes a SHARE lock on `changes` (every write appends to it last), the
//! store write starts, locks its row and blocks on `changes`; the other connection then updates
//! that same row, closing the cycle. Its `deadlock_timeout` is long, so the store's backend is
//! the one that detects the deadlock and is aborted; the other connection commits, and the
//! store's second attempt goes through.

mod common;

use std::future::Future;
use std::time::{Duration, Instant};

use pharos_store::*;
use sqlx::{Connection, PgConnection};

async fn changes_for(store: &Store, entity: &str, key: &str) -> usize {
    store
        .changes_since(0, 100_000)
        .await
        .unwrap()
        .iter()
        .filter(|c| c.entity == entity && c.entity_key == key)
        .count()
}

/// Runs `write` while another transaction deadlocks with it on the row `contended` (an UPDATE
/// statement touching the row the write updates first); returns the write's result and how long
/// it took.
async fn against_a_deadlock<T, Fut>(
    url: &str,
    contended: &str,
    write: Fut,
) -> (StoreResult<T>, Duration)
where
    Fut: Future<Output = StoreResult<T>> + Send + 'static,
    T: Send + 'static,
{
    let mut other = PgConnection::connect(url).await.unwrap();
    for sql in [
        "BEGIN",
        "SET LOCAL deadlock_timeout = '20s'",
        "LOCK TABLE changes IN SHARE MODE",
    ] {
        sqlx::query(sql).execute(&mut other).await.unwrap();
    }
    let started = Instant::now();
    let write = tokio::spawn(write);
    // Let the write lock its row and block on `changes`.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!write.is_finished(), "the write did not block on changes");
    // Closes the cycle; returns once PostgreSQL has aborted the store's transaction.
    sqlx::query(contended).execute(&mut other).await.unwrap();
    sqlx::query("COMMIT").execute(&mut other).await.unwrap();
    let result = write.await.unwrap();
    (result, started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writes_aborted_by_a_deadlock_are_retried() {
    let (url, scratch) = common::scratch(true, "retries").await;
    let store = common::connect(&url, 8).await;
    store.migrate().await.unwrap();
    let user = store
        .create_user(&NewUser {
            login: "dora".into(),
            email: String::new(),
            name: String::new(),
            password_hash: "old".into(),
            is_admin: false,
            org_id: 1,
            role: Role::Viewer,
        })
        .await
        .unwrap();
    let uid = user.id;
    let key = uid.to_string();
    let session = store.create_session(uid, "s1", "", "").await.unwrap();
    let account = store
        .create_service_account(1, "robot", Role::Viewer, false)
        .await
        .unwrap();
    let token = store
        .create_api_token(1, account.id, "t", "hash-1", None)
        .await
        .unwrap();

    // A password change: users row first.
    let before = changes_for(&store, "user", &key).await;
    let s = store.clone();
    let (result, took) = against_a_deadlock(
        &url,
        &format!("UPDATE users SET updated = updated WHERE id = {uid}"),
        async move { s.set_user_password(uid, "new").await },
    )
    .await;
    println!("set_user_password through a deadlock: {result:?} in {took:?}");
    result.expect("the password change is retried");
    assert_eq!(store.user_by_id(uid).await.unwrap().password_hash, "new");
    assert_eq!(changes_for(&store, "user", &key).await, before + 1);
    assert!(store.session_with_user("s1").await.unwrap().is_none());

    // An org role change.
    let before = changes_for(&store, "org_user", &key).await;
    let s = store.clone();
    let (result, _) = against_a_deadlock(
        &url,
        &format!("UPDATE org_users SET updated = updated WHERE user_id = {uid}"),
        async move { s.set_org_member_role(1, uid, Role::Editor).await },
    )
    .await;
    result.expect("the role change is retried");
    assert_eq!(store.org_role(uid, 1).await.unwrap(), Some(Role::Editor));
    assert_eq!(changes_for(&store, "org_user", &key).await, before + 1);

    // A service account update.
    let sa = account.id;
    let s = store.clone();
    let (result, _) = against_a_deadlock(
        &url,
        &format!("UPDATE service_accounts SET updated = updated WHERE id = {sa}"),
        async move {
            s.update_service_account(1, sa, Some("renamed"), None, Some(true))
                .await
        },
    )
    .await;
    let updated = result.expect("the service account update is retried");
    assert_eq!(updated.name, "renamed");
    assert!(updated.is_disabled);
    assert_eq!(
        changes_for(&store, "service_account", &sa.to_string()).await,
        2,
        "create and one update"
    );

    // A token deletion.
    let t = token.id;
    let s = store.clone();
    let (result, _) = against_a_deadlock(
        &url,
        &format!("UPDATE api_tokens SET name = name WHERE id = {t}"),
        async move { s.delete_api_token(1, sa, t).await },
    )
    .await;
    result.expect("the token deletion is retried");
    assert!(store.token_identity("hash-1").await.unwrap().is_none());

    // A logout (a second session, the first went with the password change).
    let session2 = store.create_session(uid, "s2", "", "").await.unwrap();
    assert_ne!(session.id, session2.id);
    let id = session2.id;
    let s = store.clone();
    let (result, _) = against_a_deadlock(
        &url,
        &format!("UPDATE user_sessions SET seen_at = seen_at WHERE id = {id}"),
        async move { s.revoke_session(id).await },
    )
    .await;
    result.expect("the logout is retried");
    assert!(store.session_with_user("s2").await.unwrap().is_none());

    store.close().await;
    scratch.remove().await;
}
