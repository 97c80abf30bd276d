//! The engine: runs one query against its source with a timeout, shares one upstream request among
//! identical queries in flight (coalescing), and keeps results in a per-replica cache whose
//! lifetime follows the range: a range wholly in the past is kept for `cache_ttl`; a range ending
//! near now is kept until the next step boundary, because its aligned range cannot change before
//! then. The load on a source therefore depends on the dashboards being watched, not on how many
//! people watch them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use crate::frame::Frame;
use crate::model::{DataSource, QueryError, QueryItem, TimeRange};
use crate::source::{Prepared, Source, Upstream};

#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// How long one query may take at the source before it answers 504.
    pub query_timeout: Duration,
    /// Whether results are kept at all (coalescing of identical in-flight queries always applies).
    pub cache_enabled: bool,
    /// How long a result whose range ended before `now - cache_tolerance` is kept.
    pub cache_ttl: Duration,
    /// How far in the past a range must end to count as settled (late samples land within it).
    pub cache_tolerance: Duration,
    /// Upper bound on cached values (points × fields) per replica.
    pub cache_max_values: u64,
}

impl Default for EngineSettings {
    fn default() -> Self {
        EngineSettings {
            query_timeout: Duration::from_secs(30),
            cache_enabled: true,
            cache_ttl: Duration::from_secs(300),
            cache_tolerance: Duration::from_secs(60),
            cache_max_values: 5_000_000,
        }
    }
}

/// How a query's answer was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Served from the cache.
    Hit,
    /// This request asked the source.
    Miss,
    /// Another identical request was asking the source; this one shared its answer.
    Coalesced,
    /// The client asked to skip the cache (`Cache-Control: no-cache`).
    Bypass,
}

impl CacheOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            CacheOutcome::Hit => "hit",
            CacheOutcome::Miss => "miss",
            CacheOutcome::Coalesced => "coalesced",
            CacheOutcome::Bypass => "bypass",
        }
    }
}

/// What [`Engine::query`] gives: the frames and how they were obtained, or why the query failed.
pub type QueryOutcome = Result<(Arc<Vec<Frame>>, CacheOutcome), QueryError>;

#[derive(Clone)]
struct Cached {
    frames: Arc<Vec<Frame>>,
    ttl: Duration,
}

struct TtlFromEntry;

impl moka::Expiry<Arc<str>, Cached> for TtlFromEntry {
    fn expire_after_create(&self, _: &Arc<str>, value: &Cached, _: Instant) -> Option<Duration> {
        Some(value.ttl)
    }

    fn expire_after_update(
        &self,
        _: &Arc<str>,
        value: &Cached,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SourceLabels {
    datasource: String,
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UpstreamLabels {
    datasource: String,
    kind: String,
    outcome: &'static str,
}

struct EngineMetrics {
    hits: Family<SourceLabels, Counter>,
    misses: Family<SourceLabels, Counter>,
    coalesced: Family<SourceLabels, Counter>,
    upstream: Family<UpstreamLabels, Histogram>,
}

impl EngineMetrics {
    fn register(registry: &mut Registry) -> EngineMetrics {
        let hits = Family::<SourceLabels, Counter>::default();
        registry.register(
            "query_cache_hits",
            "Queries answered from the result cache, by datasource",
            hits.clone(),
        );
        let misses = Family::<SourceLabels, Counter>::default();
        registry.register(
            "query_cache_misses",
            "Queries that asked their source (not cached, not shared), by datasource",
            misses.clone(),
        );
        let coalesced = Family::<SourceLabels, Counter>::default();
        registry.register(
            "query_coalesced",
            "Queries that shared an identical in-flight upstream request, by datasource",
            coalesced.clone(),
        );
        let upstream = Family::<UpstreamLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
            ])
        });
        registry.register_with_unit(
            "query_upstream_duration",
            "Time the source took to answer, by datasource and outcome (ok, error, timeout)",
            Unit::Seconds,
            upstream.clone(),
        );
        EngineMetrics {
            hits,
            misses,
            coalesced,
            upstream,
        }
    }
}

pub struct Engine {
    sources: HashMap<&'static str, Arc<dyn Source>>,
    upstreams: Mutex<HashMap<(String, i64), Arc<Upstream>>>,
    cache: moka::future::Cache<Arc<str>, Cached>,
    settings: EngineSettings,
    metrics: EngineMetrics,
}

impl Engine {
    /// An engine with every built-in source kind; its metrics go into `registry`.
    pub fn new(settings: EngineSettings, registry: &mut Registry) -> Engine {
        let mut sources: HashMap<&'static str, Arc<dyn Source>> = HashMap::new();
        sources.insert("prometheus", Arc::new(crate::prometheus::Prometheus));
        sources.insert("influxdb", Arc::new(crate::influxdb::InfluxDb));
        let testdata: Arc<dyn Source> = Arc::new(crate::testdata::TestData);
        sources.insert("grafana-testdata-datasource", testdata.clone());
        sources.insert("testdata", testdata);
        let cache = moka::future::Cache::builder()
            .max_capacity(settings.cache_max_values)
            .weigher(|_: &Arc<str>, v: &Cached| {
                let values: usize = v
                    .frames
                    .iter()
                    .map(|f| f.fields.len() * f.rows().max(1))
                    .sum();
                u32::try_from(values + 1).unwrap_or(u32::MAX)
            })
            .expire_after(TtlFromEntry)
            .build();
        Engine {
            sources,
            upstreams: Mutex::new(HashMap::new()),
            cache,
            metrics: EngineMetrics::register(registry),
            settings,
        }
    }

    pub fn settings(&self) -> &EngineSettings {
        &self.settings
    }

    /// True when Pharos can query datasources of this plugin id.
    pub fn supports(&self, kind: &str) -> bool {
        self.sources.contains_key(kind)
    }

    fn source(&self, ds: &DataSource) -> Result<&Arc<dyn Source>, QueryError> {
        self.sources.get(ds.kind.as_str()).ok_or_else(|| {
            QueryError::BadQuery(format!(
                "datasource {:?} is of type {:?}, which Pharos cannot query",
                ds.name, ds.kind
            ))
        })
    }

    /// The HTTP client and settings for a datasource, built once per datasource version.
    pub fn upstream(&self, ds: &DataSource) -> Result<Arc<Upstream>, QueryError> {
        let key = (ds.uid.clone(), ds.version);
        let mut upstreams = self.upstreams.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(u) = upstreams.get(&key) {
            return Ok(u.clone());
        }
        let upstream = Arc::new(Upstream::for_datasource(ds)?);
        // Older versions of this datasource are never asked for again.
        upstreams.retain(|(uid, _), _| *uid != ds.uid);
        upstreams.insert(key, upstream.clone());
        Ok(upstream)
    }

    /// Runs the "Save & test" check of a datasource, under the query timeout.
    pub async fn health(&self, ds: &DataSource) -> Result<String, QueryError> {
        let source = self.source(ds)?;
        let upstream = self.upstream(ds)?;
        match tokio::time::timeout(self.settings.query_timeout, source.health(&upstream, ds)).await
        {
            Ok(result) => result,
            Err(_) => Err(self.timeout_error(ds)),
        }
    }

    /// Resolves a query variable's options: the source's raw values, then the variable's regex
    /// (filter and capture) and sort, as Grafana does. `query` is already interpolated.
    pub async fn variable_options(
        &self,
        ds: &DataSource,
        query: &str,
        regex: &str,
        sort: crate::variables::VariableSort,
        range: TimeRange,
    ) -> Result<Vec<crate::variables::VariableOption>, QueryError> {
        let source = self.source(ds)?;
        let upstream = self.upstream(ds)?;
        let raw = tokio::time::timeout(
            self.settings.query_timeout,
            source.variable_options(&upstream, ds, query, range),
        )
        .await
        .unwrap_or_else(|_| Err(self.timeout_error(ds)))?;
        crate::variables::process_options(raw, regex, crate::variables::RegexApplyTo::Value, sort)
            .map_err(QueryError::BadQuery)
    }

    /// Decides the upstream request for a query without running it.
    pub fn prepare(
        &self,
        ds: &DataSource,
        query: &QueryItem,
        range: TimeRange,
    ) -> Result<Prepared, QueryError> {
        self.source(ds)?.prepare(ds, query, range)
    }

    /// Runs one query: from the cache, by joining an identical request in flight, or by asking
    /// the source. `now_ms` decides how long the answer may be kept; `no_cache` skips the cache
    /// (the answer still refreshes it).
    pub async fn query(
        &self,
        ds: &DataSource,
        query: &QueryItem,
        range: TimeRange,
        now_ms: i64,
        no_cache: bool,
    ) -> QueryOutcome {
        let source = self.source(ds)?.clone();
        let prepared = source.prepare(ds, query, range)?;
        let labels = SourceLabels {
            datasource: ds.uid.clone(),
            kind: ds.kind.clone(),
        };
        if !prepared.cacheable {
            self.metrics.misses.get_or_create(&labels).inc();
            let frames = self.execute(&source, ds, &prepared).await?;
            return Ok((Arc::new(frames), CacheOutcome::Miss));
        }
        let key: Arc<str> = format!(
            "{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}",
            ds.uid,
            ds.version,
            prepared.range.from_ms,
            prepared.range.to_ms,
            prepared.step_ms,
            prepared.key
        )
        .into();
        let ttl = self.ttl(&prepared, now_ms);

        if no_cache {
            self.metrics.misses.get_or_create(&labels).inc();
            let frames = Arc::new(self.execute(&source, ds, &prepared).await?);
            self.cache
                .insert(
                    key,
                    Cached {
                        frames: frames.clone(),
                        ttl,
                    },
                )
                .await;
            return Ok((frames, CacheOutcome::Bypass));
        }
        if let Some(hit) = self.cache.get(&key).await {
            self.metrics.hits.get_or_create(&labels).inc();
            return Ok((hit.frames, CacheOutcome::Hit));
        }
        let asked = AtomicBool::new(false);
        let loaded = self
            .cache
            .try_get_with(key, async {
                asked.store(true, Ordering::Relaxed);
                let frames = self.execute(&source, ds, &prepared).await?;
                Ok::<_, QueryError>(Cached {
                    frames: Arc::new(frames),
                    ttl,
                })
            })
            .await
            .map_err(|e| (*e).clone())?;
        let outcome = if asked.load(Ordering::Relaxed) {
            self.metrics.misses.get_or_create(&labels).inc();
            CacheOutcome::Miss
        } else {
            self.metrics.coalesced.get_or_create(&labels).inc();
            CacheOutcome::Coalesced
        };
        Ok((loaded.frames, outcome))
    }

    /// How long an answer for `prepared` may be reused.
    fn ttl(&self, prepared: &Prepared, now_ms: i64) -> Duration {
        if !self.settings.cache_enabled {
            return Duration::ZERO;
        }
        let settled_before = now_ms - self.settings.cache_tolerance.as_millis() as i64;
        if prepared.range.to_ms < settled_before {
            return self.settings.cache_ttl;
        }
        if prepared.step_ms <= 0 {
            return Duration::ZERO;
        }
        // The aligned end moves to the next multiple of the step at `to + step`; until then every
        // request for the range ending now asks the same question. A range that ended earlier
        // (but within the tolerance, where late samples may still land) is kept one step.
        let remaining = if prepared.range.to_ms + prepared.step_ms > now_ms {
            prepared.range.to_ms + prepared.step_ms - now_ms
        } else {
            prepared.step_ms
        };
        Duration::from_millis(remaining.clamp(0, prepared.step_ms) as u64)
            .min(self.settings.cache_ttl)
    }

    async fn execute(
        &self,
        source: &Arc<dyn Source>,
        ds: &DataSource,
        prepared: &Prepared,
    ) -> Result<Vec<Frame>, QueryError> {
        let upstream = self.upstream(ds)?;
        let started = Instant::now();
        let result = tokio::time::timeout(
            self.settings.query_timeout,
            source.execute(&upstream, ds, prepared),
        )
        .await
        .unwrap_or_else(|_| Err(self.timeout_error(ds)));
        let outcome = match &result {
            Ok(_) => "ok",
            Err(QueryError::Timeout(_)) => "timeout",
            Err(_) => "error",
        };
        self.metrics
            .upstream
            .get_or_create(&UpstreamLabels {
                datasource: ds.uid.clone(),
                kind: ds.kind.clone(),
                outcome,
            })
            .observe(started.elapsed().as_secs_f64());
        result
    }

    fn timeout_error(&self, ds: &DataSource) -> QueryError {
        QueryError::Timeout(format!(
            "datasource {:?} did not answer within {} s (the query timeout)",
            ds.name,
            self.settings.query_timeout.as_secs_f64()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{Field, FieldValues};
    use crate::source::BoxFuture;
    use std::sync::atomic::AtomicUsize;

    /// A source that counts its upstream calls and takes `delay` to answer: the fault a real
    /// source cannot produce on demand (a fixed slowness).
    struct Slow {
        calls: Arc<AtomicUsize>,
        delay: Duration,
    }

    impl Source for Slow {
        fn prepare(
            &self,
            _: &DataSource,
            q: &QueryItem,
            range: TimeRange,
        ) -> Result<Prepared, QueryError> {
            Ok(Prepared {
                key: q.str("expr").unwrap_or_default().to_string(),
                range,
                step_ms: 1000,
                cacheable: true,
                plan: Box::new(()),
            })
        }

        fn execute<'a>(
            &'a self,
            _: &'a Upstream,
            _: &'a DataSource,
            _: &'a Prepared,
        ) -> BoxFuture<'a, Result<Vec<Frame>, QueryError>> {
            Box::pin(async move {
                self.calls.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(self.delay).await;
                Ok(vec![Frame::new(vec![Field::new(
                    "Time",
                    FieldValues::Time(vec![1]),
                )])])
            })
        }

        fn health<'a>(
            &'a self,
            _: &'a Upstream,
            _: &'a DataSource,
        ) -> BoxFuture<'a, Result<String, QueryError>> {
            Box::pin(async { Ok("ok".into()) })
        }
    }

    fn engine(settings: EngineSettings, delay: Duration) -> (Engine, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let mut engine = Engine::new(settings, &mut Registry::default());
        engine.sources.insert(
            "slow",
            Arc::new(Slow {
                calls: calls.clone(),
                delay,
            }),
        );
        (engine, calls)
    }

    fn ds() -> DataSource {
        DataSource {
            uid: "s".into(),
            kind: "slow".into(),
            ..Default::default()
        }
    }

    fn query(expr: &str) -> QueryItem {
        QueryItem {
            ref_id: "A".into(),
            model: serde_json::json!({"expr": expr})
                .as_object()
                .unwrap()
                .clone(),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn identical_queries_in_flight_share_one_upstream_call_even_without_a_cache() {
        let settings = EngineSettings {
            cache_enabled: false,
            ..Default::default()
        };
        let (engine, calls) = engine(settings, Duration::from_millis(200));
        let range = TimeRange {
            from_ms: 0,
            to_ms: 10_000,
        };
        let (ds, q) = (ds(), query("x"));
        let runs = (0..100).map(|_| engine.query(&ds, &q, range, 20_000_000, false));
        let outcomes = futures_util::future::join_all(runs).await;
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        let coalesced = outcomes
            .iter()
            .filter(|o| matches!(o, Ok((_, CacheOutcome::Coalesced))))
            .count();
        assert_eq!(coalesced, 99);
        // With no cache, a later identical query asks again.
        engine
            .query(&ds, &q, range, 20_000_000, false)
            .await
            .unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn results_ending_now_live_until_the_next_step_and_settled_ones_for_the_ttl() {
        let (engine, calls) = engine(EngineSettings::default(), Duration::ZERO);
        let (ds, q) = (ds(), query("y"));
        // Ends "now" (to = now - 400 ms on a 1 s step): kept for the remaining 600 ms only.
        let now = 1_000_000_400;
        let live = TimeRange {
            from_ms: 999_000_000,
            to_ms: 1_000_000_000,
        };
        engine.query(&ds, &q, live, now, false).await.unwrap();
        let (_, outcome) = engine.query(&ds, &q, live, now, false).await.unwrap();
        assert_eq!(outcome, CacheOutcome::Hit);
        tokio::time::sleep(Duration::from_millis(700)).await;
        engine.query(&ds, &q, live, now + 700, false).await.unwrap();
        assert_eq!(
            calls.load(Ordering::SeqCst),
            2,
            "a live result outlived its step"
        );

        // Settled an hour ago: kept (well past one step).
        let settled = TimeRange {
            from_ms: 0,
            to_ms: now - 3_600_000,
        };
        engine.query(&ds, &q, settled, now, false).await.unwrap();
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let (_, outcome) = engine.query(&ds, &q, settled, now, false).await.unwrap();
        assert_eq!(outcome, CacheOutcome::Hit);
        // no-cache asks again and refreshes the entry.
        let (_, outcome) = engine.query(&ds, &q, settled, now, true).await.unwrap();
        assert_eq!(outcome, CacheOutcome::Bypass);
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn a_slow_source_times_out_with_a_clear_error() {
        let settings = EngineSettings {
            query_timeout: Duration::from_millis(100),
            ..Default::default()
        };
        let (engine, _) = engine(settings, Duration::from_secs(10));
        let range = TimeRange {
            from_ms: 0,
            to_ms: 1,
        };
        let started = Instant::now();
        let err = engine
            .query(&ds(), &query("z"), range, 5, false)
            .await
            .unwrap_err();
        assert!(matches!(err, QueryError::Timeout(_)), "{err:?}");
        assert_eq!(err.status(), 504);
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}
