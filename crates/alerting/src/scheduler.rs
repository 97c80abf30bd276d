//! The evaluation scheduler: what the holder of the `alerting` lease runs.
//!
//! One [`Scheduler::tick`] (every [`SchedulerSettings::tick`]):
//!
//! 1. reloads the rules, policies, contact points and silences of every org when
//!    [`SchedulerSettings::reload`] has passed (or [`Scheduler::reload_now`] was asked for);
//! 2. for every rule group whose interval is due, evaluates each rule at the interval's aligned
//!    time (`at = now - now % interval`): the rule's queries run concurrently with the other due
//!    rules' (at most [`SchedulerSettings::max_concurrent`] at once, each bounded by
//!    [`SchedulerSettings::eval_timeout`]); the tick waits at most one tick for them, so a slow
//!    datasource delays only its own rules (a later tick applies them; a rule whose previous
//!    evaluation still runs skips an interval). Then the expressions and the state step run over
//!    the instances' persisted states;
//! 3. routes every transition that notifies (to Alerting, NoData or Error; back to Normal from
//!    one of them) through the org's policy tree into its aggregation groups and saves those
//!    groups, **then** saves the instances and history rows — both fenced by the lease. Groups
//!    first: if the holder dies between the two writes, the next holder sees the same transition
//!    again (the states were not saved) and upserting the same alert twice changes nothing; the
//!    other order would lose the notification;
//! 4. plans every group's flush (silenced alerts muted), records each flush in the notification
//!    log under its key (`receiver/group key/tick`: the same for any holder that plans from the
//!    same persisted group) and only then commits and saves the group;
//! 5. claims the log's due entries and sends them on one task per receiver, so a dead receiver
//!    delays only itself; a send marks the entry delivered, or due again after
//!    [`crate::notify::retry_delay`], or given up on a permanent error.
//!
//! A new holder starts with an empty memory: it loads the groups' states at once and each rule's
//! instance states before the rule's first evaluation, so a pending `for` keeps counting from its
//! persisted `since` and nothing is notified twice; entries recorded but not delivered by the
//! former holder are claimed by step 5 like any other.
//!
//! The scheduler reads and writes through [`pharos_store::Store`] (testable on SQLite), runs
//! queries through [`RuleQuerier`] and builds notifiers through [`NotifierFactory`]: the server
//! backs them with the datasource engine and the contact points' decrypted settings.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pharos_store::{
    AlertInstanceBatch, AlertInstanceUpdate, ContactPoint, Lease, NewAlertStateTransition,
    NewNotification, NotificationEntry, NotificationGroupBatch, Store, StoreError,
};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::compile::{compile_rule, CompiledRule};
use crate::eval::{evaluate, EvalOutcome, QueryResult};
use crate::group::{Alert, GroupState};
use crate::labels::Labels;
use crate::model::{AlertQuery, AlertRule};
use crate::notify::{retry_delay, BoxFuture, Notification, Notifier};
use crate::route::{Route, RoutingTree};
use crate::silence::{is_silenced, ActiveSilence, Silence, SilenceMatcher};
use crate::state::{apply_evaluation, InstanceState, State, Transition};

/// Runs a rule's datasource queries.
pub trait RuleQuerier: Send + Sync + 'static {
    /// Runs `query` (not an expression) of a rule of `org_id` for the evaluation at `at_ms`:
    /// its `relativeTimeRange` is relative to `at_ms`. Gives up after `timeout`.
    fn query<'a>(
        &'a self,
        org_id: i64,
        query: &'a AlertQuery,
        at_ms: i64,
        timeout: Duration,
    ) -> BoxFuture<'a, QueryResult>;
}

/// Builds the notifiers of a contact point (one integration each).
pub trait NotifierFactory: Send + Sync + 'static {
    fn notifier(&self, contact_point: &ContactPoint) -> Result<Box<dyn Notifier>, String>;
}

/// Hooks the server's metrics hang on. Every method does nothing by default.
pub trait SchedulerMetrics: Send + Sync + 'static {
    /// One rule evaluated (`failed`: a query or expression failed).
    fn evaluation(&self, _duration: Duration, _failed: bool) {}
    /// How many instances are in each state now (every state named, zeros included).
    fn instances(&self, _by_state: &BTreeMap<&'static str, u64>) {}
    /// One notification attempt: `delivered`, `retry` or `failed` (given up).
    fn notification(&self, _outcome: &'static str) {}
}

/// Metrics that go nowhere.
pub struct NoMetrics;
impl SchedulerMetrics for NoMetrics {}

/// How the scheduler paces itself.
#[derive(Debug, Clone)]
pub struct SchedulerSettings {
    /// How often it looks for due groups, flushes and notifications.
    pub tick: Duration,
    /// How often rules, policies, contact points and silences are reloaded.
    pub reload: Duration,
    /// The longest one query of a rule may run.
    pub eval_timeout: Duration,
    /// How many rules' queries run at once.
    pub max_concurrent: usize,
    /// The longest one notification may take.
    pub notify_timeout: Duration,
    /// A notification is given up after this many attempts.
    pub max_attempts: i64,
    /// Pharos' public URL for links in notifications.
    pub external_url: String,
}

impl Default for SchedulerSettings {
    fn default() -> Self {
        SchedulerSettings {
            tick: Duration::from_secs(1),
            reload: Duration::from_secs(5),
            eval_timeout: Duration::from_secs(30),
            max_concurrent: 16,
            notify_timeout: Duration::from_secs(30),
            max_attempts: 30,
            external_url: "http://localhost:3000".into(),
        }
    }
}

/// Why the scheduler stopped: its term is over (another replica may hold the lease now).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseLost;

/// The receiver the default policy sends to when an org saved none (Grafana's default).
pub const DEFAULT_RECEIVER: &str = "grafana-default-email";

/// What a notification log entry carries: enough to build the [`Notification`] again.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    receiver: String,
    group_key: String,
    group_labels: Labels,
    alerts: Vec<Alert>,
    external_url: String,
}

struct LoadedRule {
    rule: AlertRule,
    compiled: Arc<CompiledRule>,
}

struct LoadedGroup {
    org_id: i64,
    folder_title: String,
    interval_ms: i64,
    rules: Vec<LoadedRule>,
    /// The last aligned time this group was evaluated at (this holder's term).
    last_at: i64,
}

/// A rule whose queries ran, waiting for its state step.
struct Evaluated {
    org: i64,
    rule: Arc<CompiledRule>,
    folder_title: String,
    at: i64,
    results: BTreeMap<String, QueryResult>,
    started: Instant,
}

/// An org's notification configuration.
#[derive(Default)]
struct OrgConfig {
    tree: Option<RoutingTree>,
    receivers: BTreeMap<String, Vec<ContactPoint>>,
    silences: Vec<ActiveSilence>,
}

impl OrgConfig {
    fn send_resolved(&self, receiver: &str) -> bool {
        self.receivers
            .get(receiver)
            .is_none_or(|cps| cps.iter().any(|c| !c.disable_resolve_message))
    }
}

/// The evaluation and notification loop of one lease term.
pub struct Scheduler {
    store: Store,
    lease: Lease,
    querier: Arc<dyn RuleQuerier>,
    notifiers: Arc<dyn NotifierFactory>,
    metrics: Arc<dyn SchedulerMetrics>,
    settings: SchedulerSettings,
    /// By (org, folder uid, group name).
    groups: BTreeMap<(i64, String, String), LoadedGroup>,
    orgs: BTreeMap<i64, Arc<OrgConfig>>,
    loaded_at: Option<Instant>,
    /// Instance states by (org, rule uid), loaded before a rule's first evaluation.
    states: HashMap<(i64, String), Vec<InstanceState>>,
    /// Aggregation groups by org, then (receiver, group key).
    notification_groups: BTreeMap<i64, BTreeMap<(String, String), GroupState>>,
    groups_loaded: bool,
    deliveries: JoinSet<()>,
    /// Rules whose queries run now, and their tasks.
    in_flight: BTreeSet<(i64, String)>,
    evaluating: JoinSet<Evaluated>,
    permits: Arc<Semaphore>,
}

fn store_err(e: StoreError) -> Result<(), LeaseLost> {
    match e {
        StoreError::LeaseLost(_) => Err(LeaseLost),
        _ => Ok(()),
    }
}

impl Scheduler {
    pub fn new(
        store: Store,
        lease: Lease,
        querier: Arc<dyn RuleQuerier>,
        notifiers: Arc<dyn NotifierFactory>,
        metrics: Arc<dyn SchedulerMetrics>,
        settings: SchedulerSettings,
    ) -> Scheduler {
        Scheduler {
            store,
            lease,
            querier,
            notifiers,
            metrics,
            groups: BTreeMap::new(),
            orgs: BTreeMap::new(),
            loaded_at: None,
            states: HashMap::new(),
            notification_groups: BTreeMap::new(),
            groups_loaded: false,
            deliveries: JoinSet::new(),
            in_flight: BTreeSet::new(),
            evaluating: JoinSet::new(),
            permits: Arc::new(Semaphore::new(settings.max_concurrent.max(1))),
            settings,
        }
    }

    /// Ticks until the lease is lost (the lease runner aborts the task before its term ends).
    pub async fn run(mut self) {
        let mut interval = tokio::time::interval(self.settings.tick);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            let now = pharos_store::now_ms();
            if self.tick(now).await.is_err() {
                tracing::warn!(
                    token = self.lease.fencing_token,
                    "alerting lease lost: evaluation stops on this replica"
                );
                return;
            }
        }
    }

    /// Makes the next tick reload rules and notification settings (a change-feed signal).
    pub fn reload_now(&mut self) {
        self.loaded_at = None;
    }

    /// One round: evaluate what is due at `now` (epoch ms), flush groups, start deliveries.
    pub async fn tick(&mut self, now: i64) -> Result<(), LeaseLost> {
        self.evaluate_and_flush(now).await?;
        self.deliver().await
    }

    /// Steps 1 to 4 of a tick (no sending).
    pub async fn evaluate_and_flush(&mut self, now: i64) -> Result<(), LeaseLost> {
        if !self.groups_loaded {
            match self.store.notification_groups(None).await {
                Ok(rows) => {
                    for row in rows {
                        match serde_json::from_str::<GroupState>(&row.state) {
                            Ok(g) => {
                                self.notification_groups
                                    .entry(row.org_id)
                                    .or_default()
                                    .insert((row.receiver, row.group_key), g);
                            }
                            Err(e) => tracing::warn!(
                                org = row.org_id, receiver = %row.receiver, error = %e,
                                "unreadable notification group state: dropped"
                            ),
                        }
                    }
                    self.groups_loaded = true;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "loading notification groups failed");
                    return Ok(());
                }
            }
        }
        if self
            .loaded_at
            .is_none_or(|t| t.elapsed() >= self.settings.reload)
        {
            self.reload(now).await?;
        }
        self.evaluate_due(now).await?;
        self.flush(now).await?;
        self.report_instances();
        Ok(())
    }

    async fn reload(&mut self, now: i64) -> Result<(), LeaseLost> {
        let groups = match self.store.alert_rule_groups(None).await {
            Ok(g) => g,
            Err(e) => {
                tracing::warn!(error = %e, "loading alert rules failed");
                return Ok(());
            }
        };
        let mut folders: HashMap<(i64, String), String> = HashMap::new();
        let mut loaded = BTreeMap::new();
        for g in groups {
            let folder_key = (g.org_id, g.folder_uid.clone());
            if !folders.contains_key(&folder_key) {
                let title = match self.store.folder_by_uid(g.org_id, &g.folder_uid).await {
                    Ok(f) => f.title,
                    Err(_) => g.folder_uid.clone(),
                };
                folders.insert(folder_key.clone(), title);
            }
            let mut rules = Vec::new();
            for stored in &g.rules {
                let parsed = serde_json::from_str::<AlertRule>(&stored.data)
                    .map_err(|e| e.to_string())
                    .and_then(|mut rule| {
                        rule.uid = Some(stored.uid.clone());
                        rule.title = stored.title.clone();
                        rule.org_id = g.org_id;
                        rule.folder_uid = g.folder_uid.clone();
                        rule.rule_group = g.name.clone();
                        let compiled = compile_rule(&rule).map_err(|e| e.to_string())?;
                        Ok(LoadedRule {
                            rule,
                            compiled: Arc::new(compiled),
                        })
                    });
                match parsed {
                    Ok(r) => rules.push(r),
                    Err(e) => tracing::warn!(
                        org = g.org_id, rule = %stored.uid, error = %e,
                        "alert rule does not compile: not evaluated"
                    ),
                }
            }
            let key = (g.org_id, g.folder_uid.clone(), g.name.clone());
            let last_at = self.groups.get(&key).map_or(i64::MIN, |o| o.last_at);
            loaded.insert(
                key,
                LoadedGroup {
                    org_id: g.org_id,
                    folder_title: folders[&folder_key].clone(),
                    interval_ms: g.interval_seconds.max(1).saturating_mul(1000),
                    rules,
                    last_at,
                },
            );
        }
        // Forget the states of rules that are gone (the store deleted their instances).
        let live: BTreeSet<(i64, String)> = loaded
            .values()
            .flat_map(|g: &LoadedGroup| {
                g.rules
                    .iter()
                    .map(move |r| (g.org_id, r.compiled.uid.clone()))
            })
            .collect();
        // A deleted rule's firing instances resolve (as in Grafana), or their groups would
        // repeat them every repeat_interval. Only states this holder has in memory are known.
        let gone: Vec<(i64, String)> = self
            .states
            .keys()
            .filter(|k| !live.contains(*k))
            .cloned()
            .collect();
        for key in gone {
            let states = self.states.remove(&key).unwrap_or_default();
            let resolved: Vec<Transition> = states
                .into_iter()
                .filter(|s| is_active(s.state))
                .map(|s| Transition {
                    rule_uid: s.rule_uid,
                    fingerprint: s.fingerprint,
                    labels: s.labels,
                    from: s.state,
                    from_reason: s.reason,
                    to: State::Normal,
                    to_reason: None,
                    at: now,
                    previous_since: s.since,
                    value: s.value,
                    values: s.values,
                    annotations: s.annotations,
                    error: None,
                })
                .collect();
            let touched = self.route_transitions(key.0, &resolved, now);
            self.save_groups(key.0, &touched).await?;
        }
        self.groups = loaded;

        let orgs: BTreeSet<i64> = self
            .groups
            .values()
            .map(|g| g.org_id)
            .chain(self.notification_groups.keys().copied())
            .collect();
        let mut configs = BTreeMap::new();
        for org in orgs {
            configs.insert(org, Arc::new(self.load_org(org).await));
        }
        self.orgs = configs;
        self.loaded_at = Some(Instant::now());
        Ok(())
    }

    async fn load_org(&self, org: i64) -> OrgConfig {
        let mut config = OrgConfig::default();
        match self.store.contact_points(org, None).await {
            Ok(cps) => {
                for cp in cps {
                    config
                        .receivers
                        .entry(cp.name.clone())
                        .or_default()
                        .push(cp);
                }
            }
            Err(e) => tracing::warn!(org, error = %e, "loading contact points failed"),
        }
        let route: Option<Route> = match self.store.notification_policy(org).await {
            Ok(Some(p)) => serde_json::from_str(&p.tree)
                .map_err(|e| tracing::warn!(org, error = %e, "unreadable notification policy"))
                .ok(),
            // Grafana's default policy, when its contact point exists (an org that set up no
            // notifications is not warned about every reload).
            Ok(None) if config.receivers.contains_key(DEFAULT_RECEIVER) => Some(Route {
                receiver: Some(DEFAULT_RECEIVER.into()),
                group_by: Some(vec!["grafana_folder".into(), "alertname".into()]),
                ..Route::default()
            }),
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(org, error = %e, "loading the notification policy failed");
                None
            }
        };
        if let Some(route) = route {
            let names: BTreeSet<String> = config.receivers.keys().cloned().collect();
            match route.compile(&names) {
                Ok(tree) => config.tree = Some(tree),
                Err(e) => tracing::warn!(org, error = %e, "notification policy not usable"),
            }
        }
        match self.store.silences(org).await {
            Ok(list) => {
                for s in list {
                    let Ok(matchers) = serde_json::from_str::<Vec<SilenceMatcher>>(&s.matchers)
                    else {
                        continue;
                    };
                    let silence = Silence {
                        id: s.id,
                        matchers,
                        starts_at: s.starts_at,
                        ends_at: s.ends_at,
                        created_by: s.created_by,
                        comment: s.comment,
                    };
                    if let Ok(active) = silence.compile() {
                        config.silences.push(active);
                    }
                }
            }
            Err(e) => tracing::warn!(org, error = %e, "loading silences failed"),
        }
        config
    }

    async fn evaluate_due(&mut self, now: i64) -> Result<(), LeaseLost> {
        // Start the queries of every due rule whose previous evaluation has finished.
        for g in self.groups.values_mut() {
            let at = now - now.rem_euclid(g.interval_ms);
            if at <= g.last_at {
                continue;
            }
            g.last_at = at;
            for r in &g.rules {
                if r.compiled.is_paused {
                    continue;
                }
                let id = (g.org_id, r.compiled.uid.clone());
                if self.in_flight.contains(&id) {
                    tracing::warn!(
                        org = g.org_id, rule = %r.compiled.uid, at,
                        "the previous evaluation is still running: this one is skipped"
                    );
                    continue;
                }
                self.in_flight.insert(id);
                let queries: Vec<AlertQuery> = r
                    .compiled
                    .queries()
                    .filter_map(|s| r.rule.data.iter().find(|q| q.ref_id == s.ref_id()))
                    .cloned()
                    .collect();
                let querier = self.querier.clone();
                let permits = self.permits.clone();
                let timeout = self.settings.eval_timeout;
                let org = g.org_id;
                let done = Evaluated {
                    org,
                    rule: r.compiled.clone(),
                    folder_title: g.folder_title.clone(),
                    at,
                    results: BTreeMap::new(),
                    started: Instant::now(),
                };
                self.evaluating.spawn(async move {
                    let mut done = done;
                    let _permit = permits.acquire_owned().await;
                    done.started = Instant::now();
                    for q in &queries {
                        let result =
                            match tokio::time::timeout(timeout, querier.query(org, q, at, timeout))
                                .await
                            {
                                Ok(r) => r,
                                Err(_) => Err(format!("no answer within {timeout:?}")),
                            };
                        done.results.insert(q.ref_id.clone(), result);
                    }
                    done
                });
            }
        }
        // Apply what finished, waiting at most one tick for the rest: a slow datasource delays
        // only its own rules, whose results a later tick applies.
        let budget = tokio::time::Instant::now() + self.settings.tick;
        while !self.evaluating.is_empty() {
            let joined = match tokio::time::timeout_at(budget, self.evaluating.join_next()).await {
                Ok(Some(joined)) => joined,
                Ok(None) | Err(_) => break,
            };
            let Ok(done) = joined else {
                continue;
            };
            self.in_flight.remove(&(done.org, done.rule.uid.clone()));
            self.evaluate_rule(done, now).await?;
        }
        Ok(())
    }

    async fn evaluate_rule(&mut self, done: Evaluated, now: i64) -> Result<(), LeaseLost> {
        let Evaluated {
            org,
            rule,
            folder_title,
            at,
            results,
            started,
        } = done;
        let results = &results;
        let state_key = (org, rule.uid.clone());
        if !self.states.contains_key(&state_key) {
            match self.store.alert_instances(org, &rule.uid).await {
                Ok(rows) => {
                    let loaded = rows
                        .iter()
                        .filter_map(|r| serde_json::from_str::<InstanceState>(&r.data).ok())
                        .collect();
                    self.states.insert(state_key.clone(), loaded);
                }
                Err(e) => {
                    tracing::warn!(org, rule = %rule.uid, error = %e, "loading instance states failed");
                    return Ok(());
                }
            }
        }
        let outcome = evaluate(&rule, results);
        let failed = matches!(outcome, EvalOutcome::Error(_));
        if let EvalOutcome::Error(e) = &outcome {
            tracing::debug!(org, rule = %rule.uid, error = %e, "evaluation failed");
        }
        let step = apply_evaluation(&rule, &folder_title, &self.states[&state_key], &outcome, at);
        self.metrics.evaluation(started.elapsed(), failed);

        // Groups first (see the module's comment), then states.
        let touched = self.route_transitions(org, &step.transitions, now);
        self.save_groups(org, &touched).await?;
        let batch = AlertInstanceBatch {
            rule_uid: rule.uid.clone(),
            upserts: step
                .states
                .iter()
                .map(|s| AlertInstanceUpdate {
                    fingerprint: s.fingerprint.to_string(),
                    labels: json_text(&s.labels),
                    state: s.state.as_str().to_string(),
                    data: json_text(s),
                })
                .collect(),
            removed: step.removed.iter().map(ToString::to_string).collect(),
            transitions: step
                .transitions
                .iter()
                .map(|t| NewAlertStateTransition {
                    fingerprint: t.fingerprint.to_string(),
                    labels: json_text(&t.labels),
                    from_state: t.from.as_str().to_string(),
                    to_state: t.to.as_str().to_string(),
                    at: t.at,
                    values: json_text(&t.values),
                })
                .collect(),
        };
        match self
            .store
            .save_alert_instances(&self.lease, org, &batch)
            .await
        {
            Ok(()) => {
                self.states.insert(state_key, step.states);
            }
            Err(StoreError::NotFound) => {
                self.states.remove(&state_key);
            }
            Err(e) => {
                tracing::warn!(org, rule = %state_key.1, error = %e, "saving instance states failed");
                // Read them again before the next evaluation.
                self.states.remove(&state_key);
                store_err(e)?;
            }
        }
        Ok(())
    }

    /// Puts the alerts of notifying transitions into their aggregation groups; returns the
    /// groups it touched.
    fn route_transitions(
        &mut self,
        org: i64,
        transitions: &[Transition],
        now: i64,
    ) -> Vec<(String, String)> {
        let mut touched = Vec::new();
        let Some(config) = self.orgs.get(&org).cloned() else {
            return touched;
        };
        for t in transitions {
            let Some(alert) = alert_of(t, &self.settings.external_url) else {
                continue;
            };
            let Some(tree) = &config.tree else {
                tracing::debug!(org, rule = %t.rule_uid, "no usable notification policy: transition not notified");
                continue;
            };
            for dest in tree.route(&t.labels) {
                let groups = self.notification_groups.entry(org).or_default();
                let gk = (dest.receiver.clone(), dest.group_key.clone());
                let group = groups.entry(gk.clone()).or_insert_with(|| {
                    GroupState::new(
                        &dest.receiver,
                        &dest.group_key,
                        dest.group_labels.clone(),
                        dest.timing,
                        config.send_resolved(&dest.receiver),
                        now,
                    )
                });
                group.upsert(alert.clone());
                if !touched.contains(&gk) {
                    touched.push(gk);
                }
            }
        }
        touched
    }

    async fn save_groups(&self, org: i64, keys: &[(String, String)]) -> Result<(), LeaseLost> {
        if keys.is_empty() {
            return Ok(());
        }
        let mut batch = NotificationGroupBatch::default();
        let groups = self.notification_groups.get(&org);
        for (receiver, group_key) in keys {
            match groups.and_then(|g| g.get(&(receiver.clone(), group_key.clone()))) {
                Some(g) if !g.is_empty() => {
                    batch
                        .upserts
                        .push((receiver.clone(), group_key.clone(), json_text(g)))
                }
                _ => batch.removed.push((receiver.clone(), group_key.clone())),
            }
        }
        if let Err(e) = self
            .store
            .save_notification_groups(&self.lease, org, &batch)
            .await
        {
            tracing::warn!(org, error = %e, "saving notification groups failed");
            store_err(e)?;
        }
        Ok(())
    }

    /// Plans every group's flush; records due ones, then commits and saves the groups.
    async fn flush(&mut self, now: i64) -> Result<(), LeaseLost> {
        let orgs: Vec<i64> = self.notification_groups.keys().copied().collect();
        for org in orgs {
            let config = self.orgs.get(&org).cloned().unwrap_or_default();
            let keys: Vec<(String, String)> =
                self.notification_groups[&org].keys().cloned().collect();
            let mut touched = Vec::new();
            for gk in keys {
                let group = &self.notification_groups[&org][&gk];
                if now < group.next_tick {
                    continue;
                }
                let muted = |a: &Alert| is_silenced(&config.silences, &a.labels, now);
                let plan = group.plan_muted(now, &muted);
                if let Some(flush) = &plan {
                    if flush.needs_sending() {
                        let payload = Payload {
                            receiver: group.receiver.clone(),
                            group_key: group.group_key.clone(),
                            group_labels: group.group_labels.clone(),
                            alerts: flush.alerts.clone(),
                            external_url: self.settings.external_url.clone(),
                        };
                        let entry = NewNotification {
                            org_id: org,
                            key: flush.key.clone(),
                            receiver: group.receiver.clone(),
                            payload: json_text(&payload),
                        };
                        match self.store.record_notification(&self.lease, &entry).await {
                            Ok(recorded) => {
                                if !recorded {
                                    tracing::debug!(key = %flush.key, "flush recorded before (by a former holder)");
                                }
                            }
                            Err(e) => {
                                tracing::warn!(org, key = %flush.key, error = %e, "recording a notification failed");
                                store_err(e)?;
                                continue;
                            }
                        }
                    }
                }
                let group = self
                    .notification_groups
                    .get_mut(&org)
                    .and_then(|g| g.get_mut(&gk))
                    .expect("group listed above");
                match &plan {
                    Some(flush) => group.commit(flush, now),
                    None => group.commit_quiet(now),
                }
                touched.push(gk);
            }
            self.save_groups(org, &touched).await?;
            if let Some(groups) = self.notification_groups.get_mut(&org) {
                groups.retain(|_, g| !g.is_empty());
            }
        }
        Ok(())
    }

    /// Claims due notifications and sends them, one task per receiver.
    pub async fn deliver(&mut self) -> Result<(), LeaseLost> {
        // Reap finished deliveries.
        while self.deliveries.try_join_next().is_some() {}
        let hold = self.settings.notify_timeout.saturating_mul(2) + Duration::from_secs(5);
        // A receiver's task starts no send that could outlast the claim's hold: the rest are
        // left to a later claim, so a slow receiver never gets one entry from two tasks at once.
        let send_until =
            Instant::now() + hold - self.settings.notify_timeout - Duration::from_secs(1);
        let claimed = match self
            .store
            .claim_due_notifications(&self.lease, 100, ms(hold))
            .await
        {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "claiming notifications failed");
                return store_err(e);
            }
        };
        let mut by_receiver: BTreeMap<(i64, String), Vec<NotificationEntry>> = BTreeMap::new();
        for entry in claimed {
            by_receiver
                .entry((entry.org_id, entry.receiver.clone()))
                .or_default()
                .push(entry);
        }
        for ((org, receiver), entries) in by_receiver {
            let config = match self.orgs.get(&org) {
                Some(c) => c.clone(),
                None => {
                    let c = Arc::new(self.load_org(org).await);
                    self.orgs.insert(org, c.clone());
                    c
                }
            };
            let contact_points = config.receivers.get(&receiver).cloned().unwrap_or_default();
            let job = Delivery {
                store: self.store.clone(),
                notifiers: self.notifiers.clone(),
                metrics: self.metrics.clone(),
                timeout: self.settings.notify_timeout,
                max_attempts: self.settings.max_attempts,
                contact_points,
                send_until,
            };
            self.deliveries.spawn(job.run(entries));
        }
        Ok(())
    }

    /// Waits for the deliveries started so far (tests; shutdown).
    pub async fn settle(&mut self) {
        while self.deliveries.join_next().await.is_some() {}
    }

    fn report_instances(&self) {
        let mut counts: BTreeMap<&'static str, u64> = [
            State::Normal,
            State::Pending,
            State::Alerting,
            State::NoData,
            State::Error,
        ]
        .into_iter()
        .map(|s| (s.as_str(), 0))
        .collect();
        for s in self.states.values().flatten() {
            *counts.entry(s.state.as_str()).or_default() += 1;
        }
        self.metrics.instances(&counts);
    }
}

/// The alert a transition notifies, if it does: firing when it enters an active state, resolved
/// when it leaves one for Normal; Pending and Normal moves notify nothing.
fn is_active(s: State) -> bool {
    matches!(s, State::Alerting | State::NoData | State::Error)
}

fn alert_of(t: &Transition, external_url: &str) -> Option<Alert> {
    let active = is_active;
    let (starts_at, ends_at) = if active(t.to) {
        (
            if active(t.from) {
                t.previous_since
            } else {
                t.at
            },
            None,
        )
    } else if active(t.from) && t.to == State::Normal {
        (t.previous_since, Some(t.at))
    } else {
        return None;
    };
    let mut annotations = t.annotations.clone();
    if let Some(e) = &t.error {
        annotations.insert("Error".into(), e.clone());
    }
    Some(Alert {
        labels: t.labels.clone(),
        annotations,
        starts_at,
        ends_at,
        generator_url: format!(
            "{}/alerting/grafana/{}/view",
            external_url.trim_end_matches('/'),
            t.rule_uid
        ),
        values: t.values.clone(),
        value_string: t
            .values
            .iter()
            .map(|(k, v)| match v {
                Some(v) => format!("[ var='{k}' value={v} ]"),
                None => format!("[ var='{k}' value=null ]"),
            })
            .collect::<Vec<_>>()
            .join(", "),
    })
}

fn json_text<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "{}".into())
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX).max(1)
}

/// One receiver's claimed notifications, sent in order on a task of their own.
struct Delivery {
    store: Store,
    notifiers: Arc<dyn NotifierFactory>,
    metrics: Arc<dyn SchedulerMetrics>,
    timeout: Duration,
    max_attempts: i64,
    contact_points: Vec<ContactPoint>,
    /// No send starts after this (see [`Scheduler::deliver`]).
    send_until: Instant,
}

impl Delivery {
    async fn run(self, entries: Vec<NotificationEntry>) {
        for entry in entries {
            if Instant::now() > self.send_until {
                return;
            }
            let result = self.send(&entry).await;
            let outcome = match result {
                Ok(()) => self
                    .store
                    .mark_notification_delivered(entry.id)
                    .await
                    .map(|_| "delivered"),
                Err((retryable, message)) => {
                    tracing::warn!(
                        key = %entry.key, receiver = %entry.receiver, attempt = entry.attempts,
                        retryable, error = %message, "notification failed"
                    );
                    let retry = (retryable && entry.attempts < self.max_attempts).then(|| {
                        let attempt = u32::try_from(entry.attempts).unwrap_or(u32::MAX);
                        ms(retry_delay(&entry.key, attempt))
                    });
                    self.store
                        .mark_notification_failed(entry.id, retry, &message)
                        .await
                        .map(|_| if retry.is_some() { "retry" } else { "failed" })
                }
            };
            match outcome {
                Ok(o) => self.metrics.notification(o),
                Err(e) => {
                    tracing::warn!(key = %entry.key, error = %e, "recording a delivery failed")
                }
            }
        }
    }

    /// Sends to every integration of the receiver; Err((retryable, message)) when one failed.
    async fn send(&self, entry: &NotificationEntry) -> Result<(), (bool, String)> {
        let payload: Payload = serde_json::from_str(&entry.payload)
            .map_err(|e| (false, format!("unreadable payload: {e}")))?;
        if self.contact_points.is_empty() {
            return Err((true, format!("no contact point named {:?}", entry.receiver)));
        }
        let notification = Notification {
            log_key: entry.key.clone(),
            receiver: payload.receiver,
            group_key: payload.group_key,
            group_labels: payload.group_labels,
            alerts: payload.alerts,
            org_id: entry.org_id,
            external_url: payload.external_url,
        };
        let mut errors = Vec::new();
        let mut retryable = true;
        for cp in &self.contact_points {
            let sent = match self.notifiers.notifier(cp) {
                Ok(n) => n
                    .notify(&notification, self.timeout)
                    .await
                    .map_err(|e| (e.retryable, e.message)),
                Err(e) => Err((false, e)),
            };
            if let Err((r, message)) = sent {
                retryable &= r;
                errors.push(format!("{} ({}): {message}", cp.name, cp.kind));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err((retryable, errors.join("; ")))
        }
    }
}

#[cfg(test)]
mod tests;
