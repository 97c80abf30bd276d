//! What every handler shares. Nothing here is durable: all state that matters is in the database.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use pharos_store::Store;

use crate::auth::password::PasswordVerifier;
use crate::cache::Caches;
use crate::config::Config;
use crate::telemetry::Metrics;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub store: Store,
    pub config: Config,
    pub metrics: Metrics,
    pub engine: pharos_datasource::Engine,
    pub passwords: PasswordVerifier,
    pub caches: Caches,
    /// This replica's membership and the leases it competes for.
    pub cluster: Cluster,
    /// Set on SIGTERM: `/readyz` answers 503 so balancers stop sending new requests.
    pub draining: AtomicBool,
    /// Set once `/readyz` has seen every migration applied (they are never unapplied).
    pub migrations_ok: AtomicBool,
    pub started: Instant,
}

impl AppState {
    pub fn new(
        store: Store,
        config: Config,
        metrics: Metrics,
        engine: pharos_datasource::Engine,
        cluster: Cluster,
    ) -> Self {
        AppState(Arc::new(Inner {
            store,
            config,
            metrics,
            engine,
            passwords: PasswordVerifier::new(),
            caches: Caches::new(),
            cluster,
            draining: AtomicBool::new(false),
            migrations_ok: AtomicBool::new(false),
            started: Instant::now(),
        }))
    }

    pub fn is_draining(&self) -> bool {
        self.0.draining.load(Ordering::Relaxed)
    }

    pub fn start_draining(&self) {
        self.0.draining.store(true, Ordering::Relaxed);
    }
}

/// The replica's place in the cluster: its membership and the lease-guarded jobs it runs.
#[derive(Clone)]
pub struct Cluster {
    pub membership: pharos_cluster::Membership,
    /// Runs the maintenance job (expired sessions, old failed logins, dashboard version
    /// retention) on one replica.
    pub maintenance: pharos_cluster::LeaseRunner,
    /// Applies the provisioning files on one replica (`None` when provisioning is off).
    pub provisioning: Option<pharos_cluster::LeaseRunner>,
    /// Evaluates alert rules and sends notifications on one replica (`None` when
    /// `alerting.enabled` is off).
    pub alerting: Option<pharos_cluster::LeaseRunner>,
}

impl Cluster {
    /// Every lease this replica competes for.
    pub fn leases(&self) -> impl Iterator<Item = &pharos_cluster::LeaseRunner> {
        std::iter::once(&self.maintenance)
            .chain(self.provisioning.as_ref())
            .chain(self.alerting.as_ref())
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
