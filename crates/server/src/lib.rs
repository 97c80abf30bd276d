//! The `pharos` server: configuration, start-up, the HTTP API and the admin commands.

pub mod api;
pub mod auth;
pub mod cache;
pub mod config;
pub mod datasources;
pub mod demo;
pub mod error;
pub mod json;
pub mod secrets;
pub mod state;
pub mod telemetry;
pub mod web;

use std::net::SocketAddr;
use std::time::Instant;

use anyhow::Context;
use pharos_store::{NewUser, Role, Store, StoreError, StoreOptions};
use tower::Layer;

use crate::config::{Config, DEFAULT_ADMIN_PASSWORD, DEFAULT_SECRET_KEY};
use crate::state::AppState;
use crate::telemetry::Metrics;

/// Opens the database and applies migrations (under PostgreSQL's advisory lock).
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let store = Store::connect(&StoreOptions {
        url: config.raw.database.url.clone(),
        max_connections: config.raw.database.max_connections,
        acquire_timeout: config.acquire_timeout,
    })
    .await
    .map_err(|e| match e {
        StoreError::Config(msg) => anyhow::anyhow!("invalid setting database.url: {msg}"),
        other => anyhow::anyhow!(
            "cannot open the database ({}): {other}",
            redact(&config.raw.database.url)
        ),
    })?;
    let report = store
        .migrate()
        .await
        .context("applying database migrations")?;
    if report.applied.is_empty() {
        tracing::info!(versions = report.total, "database schema is current");
    } else {
        tracing::info!(applied = ?report.applied, versions = report.total, "applied database migrations");
    }
    Ok(store)
}

/// A database URL with any password replaced, for messages.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

/// Creates the server admin on first start; warns while its password or the secret key is a default.
pub async fn ensure_admin(store: &Store, config: &Config) -> anyhow::Result<()> {
    let security = &config.raw.security;
    match store.user_by_login_or_email(&security.admin_user).await {
        Ok(user) => {
            if auth::password::PasswordVerifier::new()
                .verify(&user.login, DEFAULT_ADMIN_PASSWORD, &user.password_hash)
                .await
            {
                tracing::warn!(user = %user.login, "the admin password is still the default: change it");
            }
        }
        Err(StoreError::NotFound) => {
            let hash = auth::password::hash_password(&security.admin_password).await?;
            let created = store
                .create_user(&NewUser {
                    login: security.admin_user.clone(),
                    email: security.admin_email.clone(),
                    name: String::new(),
                    password_hash: hash,
                    is_admin: true,
                    org_id: 1,
                    role: Role::Admin,
                })
                .await;
            match created {
                Ok(_) => tracing::info!(user = %security.admin_user, "created the admin user"),
                // Another replica created it at the same moment.
                Err(StoreError::AlreadyExists) => {}
                Err(e) => return Err(e).context("creating the admin user"),
            }
            if security.admin_password == DEFAULT_ADMIN_PASSWORD {
                tracing::warn!(user = %security.admin_user, "the admin password is the default: change it");
            }
        }
        Err(e) => return Err(e).context("looking up the admin user"),
    }
    if security.secret_key == DEFAULT_SECRET_KEY {
        tracing::warn!("security.secret_key is the default: set your own before storing secrets");
    }
    Ok(())
}

/// How often the change feed polls when no notification woke it (the bound on cross-replica
/// staleness of cached reads where LISTEN/NOTIFY is unavailable).
const CHANGE_POLL_INTERVAL: std::time::Duration = std::time::Duration::from_millis(500);

/// The query engine's settings from `[query]`.
pub fn engine_settings(config: &Config) -> pharos_datasource::EngineSettings {
    pharos_datasource::EngineSettings {
        query_timeout: config.query_timeout,
        cache_enabled: config.raw.query.cache_enabled,
        cache_ttl: config.query_cache_ttl,
        cache_tolerance: config.query_cache_tolerance,
        cache_max_values: config.raw.query.cache_max_values,
    }
}

/// Runs the server until SIGTERM or Ctrl-C.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let started = Instant::now();
    let store = open_store(&config).await?;
    ensure_admin(&store, &config).await?;
    secrets::verify_key(&store, &config).await?;
    demo::seed(&store, &config).await;
    let mut registry = prometheus_client::registry::Registry::with_prefix("pharos");
    let engine = pharos_datasource::Engine::new(engine_settings(&config), &mut registry);
    let metrics = Metrics::new(registry, config.raw.database.max_connections);
    let listen = config.listen;
    let state = AppState::new(store.clone(), config, metrics, engine);
    let app = api::router(state.clone());
    tokio::spawn(prune_periodically(state.clone()));
    let feed = pharos_cluster::ChangeFeed::start(store.clone(), CHANGE_POLL_INTERVAL)
        .await
        .context("starting the change feed")?;
    tokio::spawn(cache::follow_change_feed(state.clone(), feed));
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen} (setting server.listen)"))?;
    tracing::info!(
        address = %listener.local_addr().unwrap_or(listen),
        version = telemetry::VERSION,
        backend = store.backend().as_str(),
        startup_ms = started.elapsed().as_millis() as u64,
        "pharos is ready"
    );
    // Trailing slashes are trimmed before routing: Grafana answers `/api/serviceaccounts/` as
    // `/api/serviceaccounts`, and clients (grafana-client) rely on it.
    let app = tower_http::normalize_path::NormalizePathLayer::trim_trailing_slash().layer(app);
    let app = axum::ServiceExt::<axum::extract::Request>::into_make_service_with_connect_info::<
        SocketAddr,
    >(app);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal(state))
        .await
        .context("serving HTTP")?;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Deletes expired sessions and old failed-login records every few minutes. Every replica runs it:
/// the deletes are idempotent, so running twice at once is harmless (the HA issue moves it under a lease).
async fn prune_periodically(state: AppState) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(300));
    loop {
        tick.tick().await;
        let now = pharos_store::now_ms();
        let cfg = &state.config;
        let idle_before = now - cfg.session_inactive_lifetime.as_millis() as i64;
        let created_before = now - cfg.session_max_lifetime.as_millis() as i64;
        match state
            .store
            .prune_sessions(idle_before, created_before)
            .await
        {
            Ok(n) if n > 0 => tracing::info!(sessions = n, "pruned expired sessions"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "pruning sessions failed"),
        }
        let attempts_before = now - cfg.login_failure_window.as_millis() as i64;
        if let Err(e) = state.store.prune_failed_logins(attempts_before).await {
            tracing::warn!(error = %e, "pruning failed logins failed");
        }
    }
}

async fn shutdown_signal(state: AppState) {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    state.start_draining();
    tracing::info!("shutting down: finishing in-flight requests");
}
