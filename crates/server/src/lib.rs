//! The `pharos` server: configuration, start-up, the HTTP API and the admin commands.

pub mod alerting;
pub mod api;
pub mod auth;
pub mod cache;
pub mod config;
pub mod datasources;
pub mod demo;
pub mod error;
pub mod idempotency;
pub mod import_grafana;
pub mod json;
pub mod ops;
pub mod provisioning;
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

/// The lease whose holder runs the maintenance job.
pub const MAINTENANCE_LEASE: &str = "maintenance";

/// Runs the server until SIGTERM or Ctrl-C.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let started = Instant::now();
    let store = open_store(&config).await?;
    ensure_admin(&store, &config).await?;
    secrets::verify_key(&store, &config).await?;
    demo::seed(&store, &config).await;
    let mut registry = prometheus_client::registry::Registry::with_prefix("pharos");
    let engine = pharos_datasource::Engine::new(engine_settings(&config), &mut registry);
    let alerting_metrics = std::sync::Arc::new(telemetry::AlertingMetrics::register(&mut registry));
    let metrics = Metrics::new(registry, config.raw.database.max_connections);
    let listen = config.listen;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen} (setting server.listen)"))?;
    let address = listener.local_addr().unwrap_or(listen);
    let mut cluster = join_cluster(&store, &config, address).await?;
    // Applied by the holder of the `provisioning` lease (see provisioning/mod.rs).
    cluster.provisioning = provisioning::start(&store, &config, cluster.membership.id());
    // Evaluated by the holder of the `alerting` lease; its queries need the state made below.
    let state_cell = std::sync::Arc::new(std::sync::OnceLock::new());
    cluster.alerting = alerting::start(
        &store,
        &config,
        cluster.membership.id(),
        state_cell.clone(),
        alerting_metrics,
    );
    let state = AppState::new(store.clone(), config, metrics, engine, cluster.clone());
    let _ = state_cell.set(state.clone());
    let app = api::router(state.clone());
    let feed = pharos_cluster::ChangeFeed::start(store.clone(), CHANGE_POLL_INTERVAL)
        .await
        .context("starting the change feed")?;
    tokio::spawn(cache::follow_change_feed(state.clone(), feed));
    tokio::spawn(api::watch_database(
        state.clone(),
        state.config.heartbeat_interval,
    ));
    // Listening before the ready line, so a SIGTERM right after it drains instead of killing.
    let mut signals = Signals::install();
    tracing::info!(
        address = %address,
        version = telemetry::VERSION,
        backend = store.backend().as_str(),
        member = cluster.membership.id(),
        startup_ms = started.elapsed().as_millis() as u64,
        "pharos is ready"
    );
    // Counts requests being answered, so a shutdown that gives up on them can say how many.
    let in_flight = InFlight::default();
    let app = app.layer(axum::middleware::from_fn_with_state(
        in_flight.clone(),
        count_in_flight,
    ));
    // Trailing slashes are trimmed before routing: Grafana answers `/api/serviceaccounts/` as
    // `/api/serviceaccounts`, and clients (grafana-client) rely on it.
    let app = tower_http::normalize_path::NormalizePathLayer::trim_trailing_slash().layer(app);
    let app = axum::ServiceExt::<axum::extract::Request>::into_make_service_with_connect_info::<
        SocketAddr,
    >(app);
    let stop_accepting = std::sync::Arc::new(tokio::sync::Notify::new());
    let stop = stop_accepting.clone();
    let serving =
        axum::serve(listener, app).with_graceful_shutdown(async move { stop.notified().await });
    let serving = std::future::IntoFuture::into_future(serving);
    tokio::pin!(serving);
    let drain_period = state.config.drain_period;
    let shutdown_timeout = state.config.shutdown_timeout;
    let served = tokio::select! {
        // Only a failing listener ends serving before a signal.
        served = &mut serving => served,
        () = drain(&state, &mut signals, drain_period) => {
            // `notify_one` keeps a permit, so the shutdown future sees it even if not yet waiting.
            stop_accepting.notify_one();
            tracing::info!(
                timeout_ms = shutdown_timeout.as_millis() as u64,
                in_flight = in_flight.count(),
                "stopped accepting connections: finishing in-flight requests"
            );
            match tokio::time::timeout(shutdown_timeout, &mut serving).await {
                Ok(served) => served,
                Err(_) => {
                    // The connections' tasks end with the runtime when `main` returns.
                    tracing::warn!(
                        abandoned = in_flight.count(),
                        "server.shutdown_timeout passed: abandoning {} in-flight request(s)",
                        in_flight.count()
                    );
                    Ok(())
                }
            }
        }
    };
    let served = served.context("serving HTTP");
    // Hand the lease over and leave the member list, so the other replicas take over at once.
    for lease in cluster.leases() {
        lease.stop().await;
    }
    cluster.membership.leave().await;
    // Closing waits for pooled connections to come back; an abandoned request may hold one.
    if tokio::time::timeout(STORE_CLOSE_TIMEOUT, store.close())
        .await
        .is_err()
    {
        tracing::warn!("closing the database pool timed out");
    }
    served?;
    tracing::info!("stopped");
    Ok(())
}

/// The longest shutdown waits for the database pool to close.
const STORE_CLOSE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// How many requests are being answered right now.
#[derive(Clone, Default)]
struct InFlight(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl InFlight {
    fn count(&self) -> usize {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// Decrements the count when the request ends, including when its task is dropped mid-way.
struct InFlightGuard(InFlight);

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        (self.0)
            .0
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

async fn count_in_flight(
    axum::extract::State(in_flight): axum::extract::State<InFlight>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    in_flight
        .0
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let _guard = InFlightGuard(in_flight);
    next.run(request).await
}

/// SIGTERM and Ctrl-C, listened to from start-up on so that none is missed during the drain.
struct Signals {
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn install() -> Signals {
        Signals {
            #[cfg(unix)]
            terminate: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .map_err(|e| tracing::warn!(error = %e, "cannot listen for SIGTERM"))
                .ok(),
        }
    }

    /// The next SIGTERM or Ctrl-C; returns its name.
    async fn next(&mut self) -> &'static str {
        #[cfg(unix)]
        let terminate = async {
            match self.terminate.as_mut() {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! {
            Ok(()) = tokio::signal::ctrl_c() => "Ctrl-C",
            () = terminate => "SIGTERM",
        }
    }
}

/// Waits for SIGTERM or Ctrl-C, then drains: `/readyz` answers 503 at once while every other
/// route keeps serving for `drain_period`, so a load balancer takes the replica out before it
/// stops accepting. A second signal ends the drain period early.
async fn drain(state: &AppState, signals: &mut Signals, drain_period: std::time::Duration) {
    let signal = signals.next().await;
    state.start_draining();
    tracing::info!(
        signal,
        drain_period_ms = drain_period.as_millis() as u64,
        "draining: /readyz answers 503, still serving until the drain period ends"
    );
    tokio::select! {
        () = tokio::time::sleep(drain_period) => {}
        signal = signals.next() => {
            tracing::info!(signal, "second signal: skipping the rest of the drain period");
        }
    }
}

/// Registers this replica in the members table (heartbeating from now on) and starts competing
/// for the maintenance lease.
async fn join_cluster(
    store: &Store,
    config: &Config,
    listening: SocketAddr,
) -> anyhow::Result<state::Cluster> {
    let advertise = &config.raw.cluster.advertise_address;
    let membership = pharos_cluster::Membership::join(
        store.clone(),
        pharos_cluster::MembershipSettings {
            id: pharos_cluster::new_replica_id(),
            address: if advertise.is_empty() {
                listening.to_string()
            } else {
                advertise.clone()
            },
            version: telemetry::VERSION.to_string(),
            heartbeat_interval: config.heartbeat_interval,
            member_timeout: config.member_timeout,
        },
    )
    .await
    .context("joining the cluster (members table)")?;
    let job = MaintenanceJob {
        store: store.clone(),
        interval: config.maintenance_interval,
        session_inactive_lifetime: config.session_inactive_lifetime,
        session_max_lifetime: config.session_max_lifetime,
        login_failure_window: config.login_failure_window,
        idempotency_ttl: config.idempotency_ttl,
        versions_to_keep: i64::from(config.raw.dashboards.versions_to_keep),
    };
    let maintenance = pharos_cluster::LeaseRunner::start(
        store.clone(),
        MAINTENANCE_LEASE,
        membership.id(),
        config.lease_ttl,
        move |lease| job.clone().run(lease),
    );
    Ok(state::Cluster {
        membership,
        maintenance,
        provisioning: None,
        alerting: None,
    })
}

/// Deletes expired sessions, old failed-login records, old idempotency keys, change-feed rows
/// older than [`CHANGES_RETENTION`] and dashboard versions beyond `versions_to_keep` every
/// `interval`, on the one replica holding the maintenance lease. The session and version deletes
/// are fenced by the lease's token.
#[derive(Clone)]
struct MaintenanceJob {
    store: Store,
    interval: std::time::Duration,
    session_inactive_lifetime: std::time::Duration,
    session_max_lifetime: std::time::Duration,
    login_failure_window: std::time::Duration,
    idempotency_ttl: std::time::Duration,
    versions_to_keep: i64,
}

/// How long change-feed rows are kept: tailers read them within a second; a day leaves room for
/// a replica cut off from the database for hours to catch up.
const CHANGES_RETENTION: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Most dashboard versions one statement of the retention deletes.
const VERSION_DELETE_BATCH: i64 = 500;

impl MaintenanceJob {
    async fn run(self, lease: pharos_store::Lease) {
        let ms = |d: std::time::Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        let mut tick = tokio::time::interval(self.interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let now = pharos_store::now_ms();
            let idle_before = now.saturating_sub(ms(self.session_inactive_lifetime));
            let created_before = now.saturating_sub(ms(self.session_max_lifetime));
            match self
                .store
                .prune_sessions_under_lease(&lease, idle_before, created_before)
                .await
            {
                Ok(n) if n > 0 => tracing::info!(sessions = n, "pruned expired sessions"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "pruning sessions failed"),
            }
            let attempts_before = now.saturating_sub(ms(self.login_failure_window));
            if let Err(e) = self.store.prune_failed_logins(attempts_before).await {
                tracing::warn!(error = %e, "pruning failed logins failed");
            }
            let keys_before = now.saturating_sub(ms(self.idempotency_ttl));
            match self.store.prune_idempotency_keys(keys_before).await {
                Ok(n) if n > 0 => tracing::info!(keys = n, "pruned old idempotency keys"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "pruning idempotency keys failed"),
            }
            let changes_before = now.saturating_sub(ms(CHANGES_RETENTION));
            if let Err(e) = self.store.prune_changes(changes_before).await {
                tracing::warn!(error = %e, "pruning the change feed failed");
            }
            match self
                .store
                .prune_dashboard_versions_under_lease(
                    &lease,
                    self.versions_to_keep,
                    VERSION_DELETE_BATCH,
                )
                .await
            {
                Ok(n) if n > 0 => tracing::info!(
                    versions = n,
                    keep = self.versions_to_keep,
                    "deleted old dashboard versions"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "deleting old dashboard versions failed"),
            }
        }
    }
}
