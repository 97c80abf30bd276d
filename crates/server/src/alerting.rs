//! Alert evaluation on this server: the `alerting` lease and the scheduler of
//! `pharos_alerting::scheduler` it runs, with a [`RuleQuerier`] over the datasource engine (as
//! `/api/ds/query` runs a query) and a [`NotifierFactory`] over the contact points' decrypted
//! settings.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::{broadcast, watch};

use pharos_alerting::eval::QueryResult;
use pharos_alerting::notify::{self, BoxFuture, Notifier, SmtpServer};
use pharos_alerting::scheduler::{
    NotifierFactory, RuleQuerier, Scheduler, SchedulerMetrics, SchedulerSettings,
};
use pharos_alerting::AlertQuery;
use pharos_datasource::{Frame, QueryItem, TimeRange};
use pharos_store::{ContactPoint, Store, ALERTING_LEASE};
use serde_json::Value;

use crate::config::Config;
use crate::secrets::{SecretError, Secrets};
use crate::state::AppState;

/// Grafana's defaults for a rule query that does not say (`intervalMs`, `maxDataPoints`).
const DEFAULT_INTERVAL_MS: i64 = 1_000;
const DEFAULT_MAX_DATA_POINTS: i64 = 43_200;

/// Runs a rule's queries through the engine, resolving the datasource in the rule's org. Holds
/// the server's state once it exists (the lease runner starts before it does).
pub struct EngineQuerier {
    state: Arc<OnceLock<AppState>>,
}

impl EngineQuerier {
    async fn run(
        &self,
        org_id: i64,
        query: &AlertQuery,
        at_ms: i64,
        timeout: Duration,
    ) -> QueryResult {
        let state = self
            .state
            .get()
            .ok_or_else(|| "the server is starting".to_string())?;
        let frames = query_frames(state, org_id, query, at_ms, timeout).await?;
        pharos_alerting::frames::data_from_frames(&frames)
    }
}

/// Runs one of a rule's datasource queries through the engine as evaluation at `at_ms` runs it,
/// and answers the datasource's frames: the scheduler's path, shared with the rule editor's
/// preview (`POST /api/v1/eval`) so both ask the datasource the same question.
pub async fn query_frames(
    state: &AppState,
    org_id: i64,
    query: &AlertQuery,
    at_ms: i64,
    timeout: Duration,
) -> Result<Arc<Vec<Frame>>, String> {
    let all = crate::datasources::org(state, org_id)
        .await
        .map_err(|e| e.message)?;
    let entry = all
        .items
        .iter()
        .find(|e| e.stored.uid == query.datasource_uid)
        .ok_or_else(|| format!("datasource {:?} not found", query.datasource_uid))?;
    let datasource = crate::datasources::usable(entry).map_err(|e| e.message)?;
    let item = query_item(query);
    let range = query_range(query, at_ms);
    let run = state.engine.query(&datasource, &item, range, at_ms, true);
    let (frames, _) = tokio::time::timeout(timeout, run)
        .await
        .map_err(|_| format!("no answer within {timeout:?}"))?
        .map_err(|e| e.to_string())?;
    Ok(frames)
}

impl RuleQuerier for EngineQuerier {
    fn query<'a>(
        &'a self,
        org_id: i64,
        query: &'a AlertQuery,
        at_ms: i64,
        timeout: Duration,
    ) -> BoxFuture<'a, QueryResult> {
        Box::pin(self.run(org_id, query, at_ms, timeout))
    }
}

/// Builds notifiers from contact points, their secure settings decrypted with the server's key,
/// e-mail through the server's `[smtp]` settings.
pub struct ContactPointNotifiers {
    secrets: Secrets,
    smtp: Option<SmtpServer>,
}

/// A contact point's settings with its secure fields decrypted into them (the API encrypts each
/// secret with the secrets module, the field name bound to it, as datasource secrets are).
pub fn notifier_settings(secrets: &Secrets, cp: &ContactPoint) -> Result<Value, SecretError> {
    let settings = match serde_json::from_str::<Value>(&cp.settings) {
        Ok(Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    };
    with_stored_secrets(secrets, settings, &cp.secure_settings).map(Value::Object)
}

/// Decrypts each stored secret (field name → sealed value) into `settings`, where the field is
/// absent or still the redaction placeholder the API answers: a secret the caller sent in clear
/// (the receiver test of edited settings) is the one used. The one place contact-point secrets
/// are opened, for the scheduler and the receiver test alike.
pub fn with_stored_secrets(
    secrets: &Secrets,
    mut settings: serde_json::Map<String, Value>,
    stored: &BTreeMap<String, String>,
) -> Result<serde_json::Map<String, Value>, SecretError> {
    for (field, sealed) in stored {
        let sent = settings
            .get(field)
            .and_then(Value::as_str)
            .is_some_and(|v| v != crate::api::alerting::SECURE_PLACEHOLDER);
        if !sent {
            settings.insert(
                field.clone(),
                Value::String(secrets.decrypt(field, sealed)?),
            );
        }
    }
    Ok(settings)
}

impl NotifierFactory for ContactPointNotifiers {
    fn notifier(&self, cp: &ContactPoint) -> Result<Box<dyn Notifier>, String> {
        let settings = notifier_settings(&self.secrets, cp).map_err(|e| {
            format!(
                "the secure settings of contact point {:?} do not decrypt with this replica's \
                 security.secret_key: {e}",
                cp.name
            )
        })?;
        notify::notifier(&cp.kind, &settings, self.smtp.as_ref())
    }
}

/// A rule query as the engine takes it: the model with the refId, Grafana's defaults for
/// `intervalMs` and `maxDataPoints` where the model has none.
pub fn query_item(query: &AlertQuery) -> QueryItem {
    let mut model = match &query.model {
        Value::Object(m) => m.clone(),
        _ => serde_json::Map::new(),
    };
    model.insert("refId".into(), Value::String(query.ref_id.clone()));
    let int = |key: &str, default: i64| {
        model
            .get(key)
            .and_then(|v| v.as_f64().or_else(|| v.as_str()?.parse().ok()))
            .map(|f| f as i64)
            .filter(|v| *v > 0)
            .unwrap_or(default)
    };
    QueryItem {
        ref_id: query.ref_id.clone(),
        interval_ms: int("intervalMs", DEFAULT_INTERVAL_MS),
        max_data_points: int("maxDataPoints", DEFAULT_MAX_DATA_POINTS),
        model,
    }
}

/// The range a rule query covers when evaluated at `at_ms` (`relativeTimeRange` is seconds
/// before the evaluation time).
pub fn query_range(query: &AlertQuery, at_ms: i64) -> TimeRange {
    TimeRange {
        from_ms: at_ms.saturating_sub(query.relative_time_range.from.saturating_mul(1000)),
        to_ms: at_ms.saturating_sub(query.relative_time_range.to.saturating_mul(1000)),
    }
}

/// Starts competing for the `alerting` lease (`None` when `alerting.enabled` is off). `state` is
/// filled once the server's state exists; queries fail until then.
pub fn start(
    store: &Store,
    config: &Config,
    member_id: &str,
    state: Arc<OnceLock<AppState>>,
    metrics: Arc<dyn SchedulerMetrics>,
) -> Option<pharos_cluster::LeaseRunner> {
    if !config.raw.alerting.enabled {
        return None;
    }
    let querier: Arc<dyn RuleQuerier> = Arc::new(EngineQuerier { state });
    let notifiers: Arc<dyn NotifierFactory> = Arc::new(ContactPointNotifiers {
        secrets: Secrets::from_config(config),
        smtp: config.smtp.clone(),
    });
    let settings = SchedulerSettings {
        eval_timeout: config.alerting_evaluation_timeout,
        max_concurrent: config.raw.alerting.max_concurrent_evaluations as usize,
        notify_timeout: config.alerting_notification_timeout,
        external_url: config.root_url.as_str().trim_end_matches('/').to_string(),
        reload: FALLBACK_RELOAD,
        ..SchedulerSettings::default()
    };
    let job_store = store.clone();
    let feed_cell: Arc<tokio::sync::OnceCell<watch::Receiver<u64>>> = Arc::default();
    Some(pharos_cluster::LeaseRunner::start(
        store.clone(),
        ALERTING_LEASE,
        member_id,
        config.alerting_lease_ttl,
        move |lease| {
            tracing::info!(
                token = lease.fencing_token,
                "holding the alerting lease: evaluating alert rules"
            );
            let scheduler = Scheduler::new(
                job_store.clone(),
                lease,
                querier.clone(),
                notifiers.clone(),
                metrics.clone(),
                settings.clone(),
            );
            let store = job_store.clone();
            let feed_cell = feed_cell.clone();
            let tick = settings.tick;
            async move {
                let changes = alerting_changes(&store, &feed_cell).await;
                run_scheduler(scheduler, tick, changes).await
            }
        },
    ))
}

/// The change-feed entities whose writes change what the scheduler evaluates or sends.
const SCHEDULER_INPUTS: [&str; 5] = [
    "alert_rule",
    "alert_rule_group",
    "contact_point",
    "notification_policy",
    "silence",
];

/// How often the alerting change feed polls when PostgreSQL's LISTEN does not wake it first.
const FEED_POLL_INTERVAL: Duration = Duration::from_millis(500);

/// How often the scheduler reloads without being told of a change: a safety net for a change
/// the feed missed, as the feed makes every alerting write apply at once.
const FALLBACK_RELOAD: Duration = Duration::from_secs(30);

/// A counter that moves on every write to the alerting configuration (any replica's), from a
/// change feed this replica starts the first time it holds the lease. `None` when the feed could
/// not start: the scheduler then reloads every [`FALLBACK_RELOAD`] only.
async fn alerting_changes(
    store: &Store,
    cell: &tokio::sync::OnceCell<watch::Receiver<u64>>,
) -> Option<watch::Receiver<u64>> {
    let started = cell
        .get_or_try_init(|| async {
            let feed = pharos_cluster::ChangeFeed::start(store.clone(), FEED_POLL_INTERVAL).await?;
            let mut batches = feed.subscribe();
            let (sender, receiver) = watch::channel(0u64);
            tokio::spawn(async move {
                loop {
                    let relevant = match batches.recv().await {
                        Ok(batch) => batch
                            .iter()
                            .any(|c| SCHEDULER_INPUTS.contains(&c.entity.as_str())),
                        // Missed batches may have held anything.
                        Err(broadcast::error::RecvError::Lagged(_)) => true,
                        Err(broadcast::error::RecvError::Closed) => return,
                    };
                    if relevant {
                        sender.send_modify(|n| *n = n.wrapping_add(1));
                    }
                }
            });
            Ok::<_, pharos_store::StoreError>(receiver)
        })
        .await;
    match started {
        Ok(receiver) => {
            let mut receiver = receiver.clone();
            // Changes before this term are in the first load already.
            receiver.mark_unchanged();
            Some(receiver)
        }
        Err(e) => {
            tracing::warn!(error = %e, "the alerting change feed did not start: rule edits apply at the next periodic reload");
            None
        }
    }
}

/// The scheduler's loop (as `Scheduler::run`), also woken by alerting writes: each makes the
/// next tick reload at once, so an edit applies on the lease holder within a tick.
async fn run_scheduler(
    mut scheduler: Scheduler,
    tick: Duration,
    mut changes: Option<watch::Receiver<u64>>,
) {
    let mut interval = tokio::time::interval(tick);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let changed = async {
            match changes.as_mut() {
                Some(receiver) => receiver.changed().await.is_ok(),
                None => std::future::pending().await,
            }
        };
        let woken_by_change = tokio::select! {
            _ = interval.tick() => None,
            ok = changed => Some(ok),
        };
        match woken_by_change {
            Some(true) => {
                tracing::debug!("alerting configuration changed: reloading rules at once");
                scheduler.reload_now();
            }
            Some(false) => changes = None,
            None => {}
        }
        if scheduler.tick(pharos_store::now_ms()).await.is_err() {
            tracing::warn!("alerting lease lost: evaluation stops on this replica");
            return;
        }
    }
}
