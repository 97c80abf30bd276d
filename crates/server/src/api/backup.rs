//! `GET /api/admin/backup` (server admin): the same file `pharos backup` writes, streamed, for
//! operators who cannot run commands next to the database (a Kubernetes CronJob can fetch it; see
//! deploy/kubernetes/backup-cronjob.yaml). Pharos' own route: Grafana has none.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::auth::ServerAdmin;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/admin/backup", get(backup))
}

async fn backup(State(state): State<AppState>, ServerAdmin(who): ServerAdmin) -> Response {
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<u8>>(4);
    let store = state.store.clone();
    let actor = who.actor().to_string();
    // The backup runs in a task of its own; the bounded channel lets the client's pace set its
    // speed. A failure midway ends the body early: the file then has no checksum line, and any
    // restore refuses it.
    tokio::spawn(async move {
        let started = std::time::Instant::now();
        match store.backup(tx, &mut |_, _| {}).await {
            Ok(counts) => tracing::info!(
                rows = counts.total(),
                took_ms = started.elapsed().as_millis() as u64,
                by = actor,
                "backup streamed"
            ),
            Err(e) => tracing::warn!(error = %e, by = actor, "backup through the API failed"),
        }
    });
    let chunks = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|chunk| (Ok::<_, std::io::Error>(Bytes::from(chunk)), rx))
    });
    let name = format!(
        "attachment; filename=\"pharos-{}.pharos-backup\"",
        file_stamp(pharos_store::now_ms())
    );
    (
        [
            (header::CONTENT_TYPE, "application/gzip".to_string()),
            (header::CONTENT_DISPOSITION, name),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        Body::from_stream(chunks),
    )
        .into_response()
}

/// `20261207T040100Z` for a file name (no colons, sorts by time).
fn file_stamp(ms: i64) -> String {
    super::rfc3339(ms)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(15)
        .collect::<String>()
        + "Z"
}
