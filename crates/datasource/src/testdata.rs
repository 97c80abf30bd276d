//! TestData, Grafana's built-in `grafana-testdata-datasource` (plugin id `testdata` in older
//! Grafanas): generated series for demos and tests, with no network.
//!
//! Scenarios, chosen by the query's `scenarioId` as Grafana names them (default `random_walk`):
//!
//! | scenario | fields read |
//! |---|---|
//! | `random_walk` | `seriesCount`, `startValue`, `min`, `max`, `spread`, `noise`, `dropPercent` (or `drop`), `seed`, `alias`, `labels` |
//! | `csv_metric_values` | `stringInput` (`"1,20,90,30,5,0"`), spread evenly over the range; `alias` |
//! | `predictable_pulse` | `pulseWave { timeStep, onCount, offCount, onValue, offValue }`, `alias`, `labels` |
//! | `predictable_csv_wave` | `csvWave [{ timeStep, valuesCSV, labels, name }]`, `alias` |
//! | `no_data_points` | — (no frames) |
//! | `server_error_500` | an error; with a non-empty `stringInput` it answers as `csv_metric_values`, as Grafana's "Conditional Error" does |
//!
//! **Everything is deterministic**, so answers are cacheable and demos and UI tests see stable
//! data. Grafana's own random walk reseeds from the range on every request, so any pan or refresh
//! redraws the whole graph; here a point's value depends only on (seed, series, timestamp, the
//! parameters), so a moving `now-6h..now` window keeps its shape and only grows at the right edge.
//!
//! Points are spaced by Grafana's interval calculator (`intervalMs` as the minimum, 1 s when the
//! query has none, and `maxDataPoints`), at multiples of the interval since the epoch, from the
//! aligned start to the aligned end of the range inclusive, at most 10,000 per series. CSV metric
//! values are spread over that aligned range (Grafana uses the raw one), so that every request
//! within one interval asks the same question and shares one cached answer. The predictable
//! scenarios space points by their own `timeStep` instead, as Grafana does.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::frame::{Field, FieldValues, Frame};
use crate::interval;
use crate::model::{DataSource, QueryError, QueryItem, TimeRange};
use crate::source::{BoxFuture, Prepared, Source, Upstream};

/// The scenario ids this source answers, in the order error messages list them.
pub const SCENARIOS: &[&str] = &[
    "random_walk",
    "csv_metric_values",
    "predictable_pulse",
    "predictable_csv_wave",
    "no_data_points",
    "server_error_500",
];

/// Grafana's cap on points per series.
const MAX_POINTS: i64 = 10_000;
/// A cap on all points of one query (`seriesCount` × points), so one query cannot stall a worker.
const MAX_TOTAL_POINTS: i64 = 2_000_000;
/// Above this many points a query is drawn on the blocking pool rather than the async runtime.
const BLOCKING_POINTS: i64 = 50_000;
/// The minimum interval when the query sends no `intervalMs` (Grafana's API default is 1 s).
const DEFAULT_MIN_INTERVAL_MS: i64 = 1000;
/// The CSV Grafana's query editor fills in for `csv_metric_values`.
const DEFAULT_CSV: &str = "1,20,90,30,5,0";

/// The TestData source. Stateless: every answer follows from the query and the range.
pub struct TestData;

impl Source for TestData {
    fn prepare(
        &self,
        _ds: &DataSource,
        query: &QueryItem,
        range: TimeRange,
    ) -> Result<Prepared, QueryError> {
        let plan = Plan::read(query, range)?;
        Ok(Prepared {
            // The plan holds every input of the output (scenario, parameters, refId and alias for
            // the names, aligned range, step) and nothing else, so its debug form is an exact key.
            key: format!("testdata\u{1f}{plan:?}"),
            range: plan.range,
            step_ms: plan.step_ms,
            cacheable: true,
            plan: Box::new(plan),
        })
    }

    fn execute<'a>(
        &'a self,
        _upstream: &'a Upstream,
        _ds: &'a DataSource,
        prepared: &'a Prepared,
    ) -> BoxFuture<'a, Result<Vec<Frame>, QueryError>> {
        Box::pin(async move {
            let plan = prepared.plan::<Plan>()?;
            if plan.points() < BLOCKING_POINTS {
                return plan.frames();
            }
            // Large walks take a while to draw: off the async runtime, as other CPU work.
            let plan = plan.clone();
            tokio::task::spawn_blocking(move || plan.frames())
                .await
                .map_err(|e| QueryError::Upstream(format!("TestData generator failed: {e}")))?
        })
    }

    fn health<'a>(
        &'a self,
        _upstream: &'a Upstream,
        _ds: &'a DataSource,
    ) -> BoxFuture<'a, Result<String, QueryError>> {
        Box::pin(async { Ok("Data source is working".to_string()) })
    }
}

/// One query, decided. Its `Debug` form is the cache key, so it holds exactly what the frames
/// depend on.
#[derive(Debug, Clone)]
struct Plan {
    ref_id: String,
    alias: Option<String>,
    labels: Labels,
    /// The request's range aligned down to `step_ms` at both ends.
    range: TimeRange,
    step_ms: i64,
    scenario: Scenario,
}

#[derive(Debug, Clone)]
enum Scenario {
    RandomWalk(Walk),
    CsvMetricValues(Vec<Option<f64>>),
    PredictablePulse(Pulse),
    PredictableCsvWave(Vec<Wave>),
    NoDataPoints,
    ServerError,
}

impl Plan {
    fn read(query: &QueryItem, range: TimeRange) -> Result<Plan, QueryError> {
        let id = query
            .str("scenarioId")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .unwrap_or("random_walk");
        let string_input = query.str("stringInput").map(str::trim).unwrap_or("");
        let (scenario, step_ms) = match id {
            "random_walk" => (
                Scenario::RandomWalk(Walk::read(query)?),
                points_step(query, range),
            ),
            "csv_metric_values" => {
                let text = query.str("stringInput").unwrap_or(DEFAULT_CSV);
                (
                    Scenario::CsvMetricValues(csv_values(text)?),
                    points_step(query, range),
                )
            }
            "server_error_500" if !string_input.is_empty() => (
                Scenario::CsvMetricValues(csv_values(string_input)?),
                points_step(query, range),
            ),
            "server_error_500" => (Scenario::ServerError, points_step(query, range)),
            "no_data_points" => (Scenario::NoDataPoints, points_step(query, range)),
            "predictable_pulse" => {
                let pulse = Pulse::read(query)?;
                let step = pulse.step_ms;
                (Scenario::PredictablePulse(pulse), step)
            }
            "predictable_csv_wave" => {
                let waves = Wave::read_all(query)?;
                // Every wave's points are multiples of its own step; aligning the range to the
                // steps' gcd keeps each wave's aligned range, and so the key, exact.
                let step = waves.iter().map(|w| w.step_ms).fold(0, gcd);
                (Scenario::PredictableCsvWave(waves), step)
            }
            other => {
                return Err(QueryError::BadQuery(format!(
                    "unknown TestData scenario {other:?}; Pharos supports {}",
                    SCENARIOS.join(", ")
                )))
            }
        };
        let plan = Plan {
            ref_id: query.ref_id.clone(),
            alias: query
                .str("alias")
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            labels: Labels::parse(query.str("labels").unwrap_or(""))?,
            range: TimeRange {
                from_ms: interval::align(range.from_ms, step_ms, 0),
                to_ms: interval::align(range.to_ms, step_ms, 0),
            },
            step_ms,
            scenario,
        };
        let total = plan.points();
        if total > MAX_TOTAL_POINTS {
            return Err(QueryError::BadQuery(format!(
                "this TestData query would return {total} points, more than {MAX_TOTAL_POINTS}; \
                 lower seriesCount or maxDataPoints"
            )));
        }
        Ok(plan)
    }

    /// About how many points the frames will hold: the measure of the work to draw them.
    fn points(&self) -> i64 {
        match &self.scenario {
            Scenario::RandomWalk(walk) => walk.series_count as i64 * self.point_count(self.step_ms),
            Scenario::CsvMetricValues(values) => values.len() as i64,
            Scenario::PredictablePulse(pulse) => self.point_count(pulse.step_ms),
            Scenario::PredictableCsvWave(waves) => {
                waves.iter().map(|w| self.point_count(w.step_ms)).sum()
            }
            Scenario::NoDataPoints | Scenario::ServerError => 0,
        }
    }

    fn frames(&self) -> Result<Vec<Frame>, QueryError> {
        Ok(match &self.scenario {
            Scenario::RandomWalk(walk) => (0..walk.series_count)
                .map(|series| self.random_walk(walk, series))
                .collect(),
            Scenario::CsvMetricValues(values) => self.csv_metric_values(values),
            Scenario::PredictablePulse(pulse) => vec![self.pulse(pulse)],
            Scenario::PredictableCsvWave(waves) => waves.iter().map(|w| self.wave(w)).collect(),
            Scenario::NoDataPoints => Vec::new(),
            Scenario::ServerError => {
                return Err(QueryError::Upstream(
                    "TestData scenario server_error_500: a simulated server error \
                     (give it a String Input to get CSV metric values instead)"
                        .into(),
                ))
            }
        })
    }

    /// The timestamps at multiples of `step` from the aligned start to the aligned end of the
    /// range, at most [`MAX_POINTS`].
    fn times(&self, step: i64) -> Vec<i64> {
        let from = interval::align(self.range.from_ms, step, 0);
        (0..self.point_count(step))
            .map(|k| from + k * step)
            .collect()
    }

    /// How many points [`Plan::times`] gives for `step`.
    fn point_count(&self, step: i64) -> i64 {
        let from = interval::align(self.range.from_ms, step, 0);
        let to = interval::align(self.range.to_ms, step, 0);
        if to < from {
            return 0;
        }
        ((to - from) / step + 1).min(MAX_POINTS)
    }

    /// Grafana's series name: the alias, else `<refId>-series`, `<refId>-series1`, ...
    fn series_name(&self, index: usize) -> String {
        match (&self.alias, index) {
            (Some(alias), _) => alias.clone(),
            (None, 0) => format!("{}-series", self.ref_id),
            (None, i) => format!("{}-series{i}", self.ref_id),
        }
    }

    fn random_walk(&self, walk: &Walk, series: usize) -> Frame {
        let mut times = Vec::new();
        let mut values = Vec::new();
        for t in self.times(self.step_ms) {
            if let Some(v) = walk.value(series as u64, t / self.step_ms) {
                times.push(t);
                values.push(Some(v));
            }
        }
        let mut value = Field::new(self.series_name(series), FieldValues::Number(values));
        value.labels = self.labels.for_series(series);
        Frame {
            name: None,
            meta: Some(timeseries_meta()),
            fields: vec![
                Field::new("time", FieldValues::Time(times))
                    .with_config("interval", json!(self.step_ms)),
                value,
            ],
        }
    }

    /// The values spread evenly from the start to the end of the (aligned) range.
    fn csv_metric_values(&self, values: &[Option<f64>]) -> Vec<Frame> {
        if values.is_empty() {
            return Vec::new();
        }
        let from = self.range.from_ms;
        let gap = match values.len() {
            1 => 0,
            n => (self.range.to_ms - from) / (n as i64 - 1),
        };
        let times = (0..values.len() as i64).map(|i| from + i * gap).collect();
        vec![Frame::new(vec![
            Field::new("time", FieldValues::Time(times)),
            Field::new(self.series_name(0), FieldValues::Number(values.to_vec())),
        ])]
    }

    fn pulse(&self, pulse: &Pulse) -> Frame {
        let times = self.times(pulse.step_ms);
        let period = pulse.on_count + pulse.off_count;
        let values = times
            .iter()
            .map(|t| {
                let position = (t / pulse.step_ms).rem_euclid(period);
                if position < pulse.on_count {
                    pulse.on_value
                } else {
                    pulse.off_value
                }
            })
            .collect();
        self.predictable_frame(
            self.series_name(0),
            pulse.step_ms,
            times,
            values,
            &self.labels,
        )
    }

    fn wave(&self, wave: &Wave) -> Frame {
        let times = self.times(wave.step_ms);
        let len = wave.values.len() as i64;
        let values = times
            .iter()
            .map(|t| wave.values[(t / wave.step_ms).rem_euclid(len) as usize])
            .collect();
        let name = wave.name.clone().unwrap_or_else(|| self.series_name(0));
        self.predictable_frame(name, wave.step_ms, times, values, &wave.labels)
    }

    /// The frame shape of Grafana's predictable scenarios: a named frame with `Time` and `Value`.
    fn predictable_frame(
        &self,
        name: String,
        step_ms: i64,
        times: Vec<i64>,
        values: Vec<Option<f64>>,
        labels: &Labels,
    ) -> Frame {
        let mut value = Field::new("Value", FieldValues::Number(values));
        value.labels = labels.for_series(0);
        Frame {
            name: Some(name),
            meta: Some(timeseries_meta()),
            fields: vec![
                Field::new("Time", FieldValues::Time(times))
                    .with_config("interval", json!(step_ms)),
                value,
            ],
        }
    }
}

fn timeseries_meta() -> Value {
    json!({"type": "timeseries-multi", "typeVersion": [0, 0]})
}

/// The interval between points of the scenarios that follow the panel's resolution: Grafana's
/// calculator with `intervalMs` (else 1 s) as the minimum, raised if needed so a series stays
/// within [`MAX_POINTS`] even for a huge `maxDataPoints`.
fn points_step(query: &QueryItem, range: TimeRange) -> i64 {
    let min = if query.interval_ms > 0 {
        query.interval_ms
    } else {
        DEFAULT_MIN_INTERVAL_MS
    };
    let step = interval::calculate(range, min, query.max_data_points);
    // Aligning both ends can add one point, so leave room for it.
    let points = MAX_POINTS - 2;
    let floor = (range.duration_ms().max(0) + points - 1) / points;
    step.max(floor).max(1)
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// A number field that may be absent; present but not a finite number is an error naming it.
fn number(model: &Map<String, Value>, key: &str) -> Result<Option<f64>, QueryError> {
    let value = match model.get(key) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
        Some(_) => None,
    };
    match value {
        Some(v) if v.is_finite() => Ok(Some(v)),
        _ => Err(QueryError::BadQuery(format!(
            "TestData: {key} must be a number, got {}",
            model[key]
        ))),
    }
}

/// A whole-number field that may be absent.
fn count(model: &Map<String, Value>, key: &str) -> Result<Option<i64>, QueryError> {
    match number(model, key)? {
        None => Ok(None),
        Some(v) if v.fract() == 0.0 && v.abs() < 1e15 => Ok(Some(v as i64)),
        Some(v) => Err(QueryError::BadQuery(format!(
            "TestData: {key} must be a whole number, got {v}"
        ))),
    }
}

/// A point value as Grafana's predictable scenarios take it: a number, `"null"` or `"nan"`.
fn point_value(text: &str) -> Result<Option<f64>, QueryError> {
    match text.trim() {
        "null" => Ok(None),
        "nan" | "NaN" => Ok(Some(f64::NAN)),
        t => t.parse::<f64>().map(Some).map_err(|_| {
            QueryError::BadQuery(format!(
                "TestData: {t:?} is not a number (use a number, null or nan)"
            ))
        }),
    }
}

/// Comma-separated values; `null` (or nothing) between commas is a missing value.
fn csv_values(text: &str) -> Result<Vec<Option<f64>>, QueryError> {
    let text = text.trim().trim_end_matches(',');
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    text.split(',')
        .map(|v| {
            if v.trim().is_empty() {
                Ok(None)
            } else {
                point_value(v)
            }
        })
        .collect()
}

/// Labels as Grafana's TestData takes them: `job=x, instance=y` or `{job="x", instance="y"}`;
/// `$seriesIndex` in a value becomes the series' index.
#[derive(Debug, Clone, Default)]
struct Labels(Vec<(String, String)>);

impl Labels {
    fn parse(text: &str) -> Result<Labels, QueryError> {
        let text = text.trim().trim_start_matches('{').trim_end_matches('}');
        if text.trim().is_empty() {
            return Ok(Labels::default());
        }
        let pairs = text
            .split(',')
            .filter(|pair| !pair.trim().is_empty())
            .map(|pair| {
                let (key, value) = pair.split_once('=').ok_or_else(|| {
                    QueryError::BadQuery(format!(
                        "TestData labels: {:?} is not key=value (write e.g. job=api, instance=a)",
                        pair.trim()
                    ))
                })?;
                Ok((
                    key.trim().to_string(),
                    value.trim().trim_matches('"').to_string(),
                ))
            })
            .collect::<Result<_, QueryError>>()?;
        Ok(Labels(pairs))
    }

    fn for_series(&self, series: usize) -> Option<BTreeMap<String, String>> {
        if self.0.is_empty() {
            return None;
        }
        let index = series.to_string();
        Some(
            self.0
                .iter()
                .map(|(k, v)| (k.clone(), v.replace("$seriesIndex", &index)))
                .collect(),
        )
    }
}

/// Random walk parameters, defaults as Grafana's (one series, spread 1, no noise, no drops).
#[derive(Debug, Clone)]
struct Walk {
    seed: u64,
    series_count: usize,
    start_value: f64,
    spread: f64,
    noise: f64,
    min: Option<f64>,
    max: Option<f64>,
    drop_percent: f64,
}

/// Salts that keep the random streams of a walk's different uses apart.
const ANCHOR: u64 = 1;
const BRIDGE: u64 = 2;
const NOISE: u64 = 3;
const DROP: u64 = 4;
const START: u64 = 5;

/// Steps between a walk's anchor points (a power of two, so the bridge halves evenly).
const BRIDGE_SPAN: i64 = 1024;

impl Walk {
    fn read(query: &QueryItem) -> Result<Walk, QueryError> {
        let m = &query.model;
        let seed = match m.get("seed") {
            None | Some(Value::Null) => fnv1a(query.ref_id.as_bytes()),
            Some(Value::Number(n)) => n
                .as_u64()
                .or_else(|| n.as_i64().map(|i| i as u64))
                .unwrap_or_else(|| n.as_f64().unwrap_or_default().to_bits()),
            Some(Value::String(s)) => s.trim().parse().unwrap_or_else(|_| fnv1a(s.as_bytes())),
            Some(other) => {
                return Err(QueryError::BadQuery(format!(
                    "TestData: seed must be a number or a string, got {other}"
                )))
            }
        };
        let series_count = count(m, "seriesCount")?.unwrap_or(1);
        if !(0..=1000).contains(&series_count) {
            return Err(QueryError::BadQuery(format!(
                "TestData: seriesCount must be between 0 and 1000, got {series_count}"
            )));
        }
        let (min, max) = (number(m, "min")?, number(m, "max")?);
        if let (Some(lo), Some(hi)) = (min, max) {
            if lo > hi {
                return Err(QueryError::BadQuery(format!(
                    "TestData: min ({lo}) is above max ({hi})"
                )));
            }
        }
        let drop_percent = match number(m, "dropPercent")? {
            Some(d) => Some(d),
            None => number(m, "drop")?,
        };
        Ok(Walk {
            seed,
            series_count: series_count as usize,
            // Grafana picks a random start in [0, 100); this one comes from the seed.
            start_value: match number(m, "startValue")? {
                Some(v) => v,
                None => 100.0 * SplitMix64::keyed(&[seed, START]).next_f64(),
            },
            spread: number(m, "spread")?.unwrap_or(1.0),
            noise: number(m, "noise")?.unwrap_or(0.0),
            min,
            max,
            drop_percent: drop_percent.unwrap_or(0.0).clamp(0.0, 100.0),
        })
    }

    /// The value of `series` at step index `i` (its timestamp / the step), or `None` where the
    /// point is dropped. Random access: no state, no walking from an origin.
    ///
    /// The walk is a Brownian bridge. Every [`BRIDGE_SPAN`] steps sits an anchor drawn around
    /// `startValue`; between two anchors the midpoint is drawn around their mean with the spread
    /// a walk of that length would have, and so on halving down to the step, so each point costs
    /// log2(span) draws. Each draw is keyed by (seed, series, absolute index), so a point never
    /// depends on where the range starts. The result looks like Grafana's walk (each step moves by
    /// about `spread`), but anchors pull it back towards `startValue` instead of drifting away
    /// forever, which suits gauges and thresholds. `noise` is added on top as in Grafana
    /// (uniform in [0, noise)); `min`/`max` reflect the walk back into range rather than clamping
    /// it (Grafana clamps and restarts the walker there, which needs the walk's history).
    fn value(&self, series: u64, i: i64) -> Option<f64> {
        let key = |salt: u64, index: i64| [self.seed, series, salt, index as u64];
        if self.drop_percent > 0.0
            && SplitMix64::keyed(&key(DROP, i)).next_f64() * 100.0 < self.drop_percent
        {
            return None;
        }
        // Grafana's step is uniform in [-spread/2, spread/2): standard deviation spread/√12.
        let sigma = self.spread.abs() / 12f64.sqrt();
        let anchor = |k: i64| {
            self.start_value
                + sigma
                    * ((BRIDGE_SPAN / 2) as f64).sqrt()
                    * SplitMix64::keyed(&key(ANCHOR, k)).next_normal()
        };
        let k = i.div_euclid(BRIDGE_SPAN);
        let base = k * BRIDGE_SPAN;
        let offset = i - base;
        let mut walk = anchor(k);
        if offset != 0 {
            let (mut lo, mut hi) = (0, BRIDGE_SPAN);
            let (mut v_lo, mut v_hi) = (walk, anchor(k + 1));
            loop {
                let mid = (lo + hi) / 2;
                // A Brownian bridge over n steps has variance n/4 · σ² at its midpoint.
                let spread = sigma * ((hi - lo) as f64 / 4.0).sqrt();
                let v_mid = (v_lo + v_hi) / 2.0
                    + spread * SplitMix64::keyed(&key(BRIDGE, base + mid)).next_normal();
                if offset == mid {
                    walk = v_mid;
                    break;
                }
                if offset < mid {
                    (hi, v_hi) = (mid, v_mid);
                } else {
                    (lo, v_lo) = (mid, v_mid);
                }
            }
        }
        let noise = self.noise * SplitMix64::keyed(&key(NOISE, i)).next_f64();
        Some(reflect(walk + noise, self.min, self.max))
    }
}

/// Folds `v` back into `[min, max]` as a mirror would.
fn reflect(v: f64, min: Option<f64>, max: Option<f64>) -> f64 {
    match (min, max) {
        (Some(lo), Some(hi)) => {
            let width = hi - lo;
            if width <= 0.0 {
                return lo;
            }
            let m = (v - lo).rem_euclid(2.0 * width);
            lo + if m > width { 2.0 * width - m } else { m }
        }
        (Some(lo), None) if v < lo => 2.0 * lo - v,
        (None, Some(hi)) if v > hi => 2.0 * hi - v,
        _ => v,
    }
}

/// `pulseWave`: `timeStep` seconds between points; `onCount` points of `onValue`, then
/// `offCount` of `offValue`, the cycle counted from the epoch. Defaults as Grafana's editor.
#[derive(Debug, Clone)]
struct Pulse {
    step_ms: i64,
    on_count: i64,
    off_count: i64,
    on_value: Option<f64>,
    off_value: Option<f64>,
}

impl Pulse {
    fn read(query: &QueryItem) -> Result<Pulse, QueryError> {
        let empty = Map::new();
        let m = query
            .model
            .get("pulseWave")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let value = |key: &str, default: f64| match m.get(key) {
            None | Some(Value::Null) => Ok(Some(default)),
            Some(Value::Number(n)) => Ok(n.as_f64()),
            Some(Value::String(s)) => point_value(s),
            Some(other) => Err(QueryError::BadQuery(format!(
                "TestData pulseWave: {key} must be a number, null or nan, got {other}"
            ))),
        };
        let pulse = Pulse {
            step_ms: time_step_ms(m, "pulseWave")?,
            on_count: count(m, "onCount")?.unwrap_or(3),
            off_count: count(m, "offCount")?.unwrap_or(3),
            on_value: value("onValue", 2.0)?,
            off_value: value("offValue", 1.0)?,
        };
        if pulse.on_count < 0 || pulse.off_count < 0 || pulse.on_count + pulse.off_count == 0 {
            return Err(QueryError::BadQuery(
                "TestData pulseWave: onCount and offCount must not be negative, nor both zero"
                    .into(),
            ));
        }
        Ok(pulse)
    }
}

/// `timeStep` in seconds (default 60) as milliseconds, at least 1 ms.
fn time_step_ms(m: &Map<String, Value>, what: &str) -> Result<i64, QueryError> {
    let seconds = number(m, "timeStep")?.unwrap_or(60.0);
    let ms = (seconds * 1000.0).round();
    if !(1.0..=1e13).contains(&ms) {
        return Err(QueryError::BadQuery(format!(
            "TestData {what}: timeStep must be a positive number of seconds, got {seconds}"
        )));
    }
    Ok(ms as i64)
}

/// One `csvWave` entry: `valuesCSV` repeated every `timeStep` seconds, from the epoch.
#[derive(Debug, Clone)]
struct Wave {
    step_ms: i64,
    values: Vec<Option<f64>>,
    labels: Labels,
    name: Option<String>,
}

impl Wave {
    fn read_all(query: &QueryItem) -> Result<Vec<Wave>, QueryError> {
        let default = json!([{"timeStep": 60, "valuesCSV": "0,0,2,2,1,1"}]);
        let waves = match query.model.get("csvWave") {
            None | Some(Value::Null) => default.as_array().cloned().unwrap_or_default(),
            Some(Value::Array(waves)) => waves.clone(),
            // Older saved queries hold a single wave rather than a list.
            Some(one @ Value::Object(_)) => vec![one.clone()],
            Some(other) => {
                return Err(QueryError::BadQuery(format!(
                    "TestData: csvWave must be a list of waves, got {other}"
                )))
            }
        };
        waves
            .iter()
            .map(|wave| {
                let m = wave.as_object().ok_or_else(|| {
                    QueryError::BadQuery(format!(
                        "TestData: a csvWave entry must be an object, got {wave}"
                    ))
                })?;
                let text = m.get("valuesCSV").and_then(Value::as_str).unwrap_or("");
                let values = csv_values(text)?;
                if values.is_empty() {
                    return Err(QueryError::BadQuery(
                        "TestData csvWave: valuesCSV must hold at least one value".into(),
                    ));
                }
                Ok(Wave {
                    step_ms: time_step_ms(m, "csvWave")?,
                    values,
                    labels: Labels::parse(m.get("labels").and_then(Value::as_str).unwrap_or(""))?,
                    name: m
                        .get("name")
                        .and_then(Value::as_str)
                        .filter(|s| !s.is_empty())
                        .map(str::to_string),
                })
            })
            .collect()
    }
}

/// FNV-1a, 64 bit: turns a string seed or a refId into a seed that is the same on every build.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// splitmix64 (Steele, Lea and Flood): tiny, fast and fixed forever, unlike a library generator
/// whose stream may change between versions and redraw every demo graph.
struct SplitMix64(u64);

impl SplitMix64 {
    /// A stream keyed by several words, each folded in through the mixer so that nearby keys
    /// ((1, 2) and (2, 1), or consecutive timestamps) give unrelated streams.
    fn keyed(words: &[u64]) -> SplitMix64 {
        let mut state = 0x243f_6a88_85a3_08d3;
        for word in words {
            state = SplitMix64(state ^ word).next_u64();
        }
        SplitMix64(state)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1), from the top 53 bits.
    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// About standard normal: the sum of four uniforms, centred and scaled (Irwin–Hall). Only
    /// additions, multiplications and a square root, which IEEE 754 rounds the same everywhere,
    /// so the demo data is bit-identical on every platform (`ln`/`cos` of Box–Muller are not).
    fn next_normal(&mut self) -> f64 {
        let sum: f64 = (0..4).map(|_| self.next_f64()).sum();
        (sum - 2.0) * 3f64.sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;
    /// 2024-01-01T00:00:00Z.
    const T0: i64 = 1_704_067_200_000;

    fn query(ref_id: &str, model: Value, max_data_points: i64) -> QueryItem {
        QueryItem {
            ref_id: ref_id.into(),
            interval_ms: 0,
            max_data_points,
            model: model.as_object().cloned().unwrap_or_default(),
        }
    }

    fn range(from_ms: i64, to_ms: i64) -> TimeRange {
        TimeRange { from_ms, to_ms }
    }

    /// Prepares and executes through the `Source` trait, as the engine does.
    fn run(q: &QueryItem, r: TimeRange) -> Result<Vec<Frame>, QueryError> {
        let ds = DataSource {
            kind: "grafana-testdata-datasource".into(),
            ..DataSource::default()
        };
        let prepared = TestData.prepare(&ds, q, r)?;
        let upstream = Upstream::for_datasource(&ds)?;
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(TestData.execute(&upstream, &ds, &prepared))
    }

    fn times(frame: &Frame) -> &[i64] {
        match &frame.fields[0].values {
            FieldValues::Time(t) => t,
            other => panic!("not a time field: {other:?}"),
        }
    }

    fn numbers(frame: &Frame) -> &[Option<f64>] {
        match &frame.fields[1].values {
            FieldValues::Number(v) => v,
            other => panic!("not a number field: {other:?}"),
        }
    }

    fn points(frame: &Frame) -> BTreeMap<i64, Option<f64>> {
        times(frame)
            .iter()
            .copied()
            .zip(numbers(frame).iter().copied())
            .collect()
    }

    #[test]
    fn random_walk_is_the_same_for_the_same_range_and_at_the_same_times_of_a_shifted_one() {
        let q = query(
            "A",
            json!({"scenarioId": "random_walk", "seriesCount": 2}),
            500,
        );
        let r = range(T0, T0 + 6 * HOUR);
        let first = run(&q, r).unwrap();
        assert_eq!(first, run(&q, r).unwrap());
        assert_eq!(first.len(), 2);

        let shifted = run(&q, range(T0 + 2 * HOUR, T0 + 8 * HOUR)).unwrap();
        for (a, b) in first.iter().zip(&shifted) {
            let (a, b) = (points(a), points(b));
            let common: Vec<_> = a.keys().filter(|t| b.contains_key(t)).collect();
            assert!(common.len() > 300, "overlap of {} points", common.len());
            for t in common {
                assert_eq!(a[t], b[t], "at {t}");
            }
        }
        assert_ne!(numbers(&first[0]), numbers(&first[1]), "series differ");
    }

    #[test]
    fn random_walk_moves_like_a_walk_of_its_spread_and_follows_the_seed() {
        let r = range(T0, T0 + 24 * HOUR);
        let walk = |model: Value| run(&query("A", model, 1000), r).unwrap();
        let a = walk(json!({"seed": 7, "startValue": 50, "spread": 2}));
        let values: Vec<f64> = numbers(&a[0]).iter().map(|v| v.unwrap()).collect();
        let mean_step =
            values.windows(2).map(|w| (w[1] - w[0]).abs()).sum::<f64>() / (values.len() - 1) as f64;
        // A uniform step in [-1, 1) moves 0.5 on average.
        assert!((0.3..0.7).contains(&mean_step), "mean step {mean_step}");
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        assert!((mean - 50.0).abs() < 40.0, "mean {mean}");

        assert_eq!(a, walk(json!({"seed": 7, "startValue": 50, "spread": 2})));
        assert_eq!(a, walk(json!({"seed": "7", "startValue": 50, "spread": 2})));
        assert_ne!(a, walk(json!({"seed": 8, "startValue": 50, "spread": 2})));
        // Without a seed the refId seeds the walk, so refIds differ but each is stable.
        let b = run(&query("B", json!({}), 1000), r).unwrap();
        assert_eq!(b, run(&query("B", json!({}), 1000), r).unwrap());
        assert_ne!(
            numbers(&b[0]),
            numbers(&run(&query("C", json!({}), 1000), r).unwrap()[0])
        );
    }

    #[test]
    fn random_walk_respects_min_max_noise_and_drops() {
        let r = range(T0, T0 + 24 * HOUR);
        let q = query(
            "A",
            json!({"seed": 1, "startValue": 10, "min": 5, "max": 15, "spread": 5, "noise": 3}),
            2000,
        );
        let frames = run(&q, r).unwrap();
        assert!(numbers(&frames[0])
            .iter()
            .all(|v| (5.0..=15.0).contains(&v.unwrap())));

        let full = run(&query("A", json!({"seed": 1}), 1000), r).unwrap();
        let dropped = run(&query("A", json!({"seed": 1, "dropPercent": 30}), 1000), r).unwrap();
        let (full, dropped) = (points(&full[0]), points(&dropped[0]));
        let kept = dropped.len() as f64 / full.len() as f64;
        assert!((0.6..0.8).contains(&kept), "kept {kept}");
        // The points that remain are the same points.
        assert!(dropped.iter().all(|(t, v)| full[t] == *v));
        let also = run(&query("A", json!({"seed": 1, "drop": 30}), 1000), r).unwrap();
        assert_eq!(points(&also[0]), dropped);
    }

    #[test]
    fn random_walk_names_and_labels_its_series_as_grafana() {
        let q = query(
            "A",
            json!({"seriesCount": 3, "labels": "job=api, instance=\"web-$seriesIndex\""}),
            100,
        );
        let frames = run(&q, range(T0, T0 + HOUR)).unwrap();
        let names: Vec<_> = frames.iter().map(|f| f.fields[1].name.as_str()).collect();
        assert_eq!(names, ["A-series", "A-series1", "A-series2"]);
        assert_eq!(
            frames[2].fields[1].labels,
            Some(BTreeMap::from([
                ("instance".to_string(), "web-2".to_string()),
                ("job".to_string(), "api".to_string()),
            ]))
        );
        assert_eq!(frames[0].fields[0].name, "time");
        assert_eq!(
            frames[0].fields[0].config.as_ref().unwrap()["interval"], // 1 h / 100 points, rounded
            30_000
        );

        let aliased = run(
            &query("B", json!({"alias": "cpu"}), 100),
            range(T0, T0 + HOUR),
        )
        .unwrap();
        assert_eq!(aliased[0].fields[1].name, "cpu");
        assert_eq!(aliased[0].fields[1].labels, None);
    }

    #[test]
    fn points_follow_the_interval_and_max_data_points() {
        // 1 h at 60 points: a point a minute on whole minutes, both ends included.
        let frames = run(
            &query("A", json!({}), 60),
            range(T0 + 30_000, T0 + HOUR + 30_000),
        )
        .unwrap();
        let t = times(&frames[0]);
        assert_eq!(t.len(), 61);
        assert!(t.iter().all(|t| t % 60_000 == 0));
        assert_eq!((t[0], t[60]), (T0, T0 + HOUR));

        // intervalMs is the minimum.
        let mut q = query("A", json!({}), 1000);
        q.interval_ms = 30_000;
        assert_eq!(times(&run(&q, range(T0, T0 + HOUR)).unwrap()[0]).len(), 121);

        // The count stays near the budget (Grafana rounds to nice intervals) and within 10,000.
        for (duration, max_points) in [
            (HOUR, 100),
            (6 * HOUR, 1000),
            (7 * 24 * HOUR, 1500),
            (3650 * 24 * HOUR, 1_000_000),
            (HOUR, 0),
        ] {
            let frames = run(&query("A", json!({}), max_points), range(T0, T0 + duration)).unwrap();
            let n = times(&frames[0]).len() as i64;
            let budget = if max_points == 0 { 1500 } else { max_points };
            assert!(
                n <= MAX_POINTS && n <= 2 * budget,
                "{duration} ms, {max_points}: {n}"
            );
            assert!(
                n >= budget.min(MAX_POINTS) / 3,
                "{duration} ms, {max_points}: {n}"
            );
        }
    }

    #[test]
    fn large_walks_are_drawn_on_the_blocking_pool_with_the_same_values() {
        let q = query("A", json!({"seed": 3, "seriesCount": 10}), 10_000);
        let r = range(T0, T0 + 24 * HOUR);
        let prepared = TestData.prepare(&DataSource::default(), &q, r).unwrap();
        let plan = prepared.plan::<Plan>().unwrap();
        assert!(plan.points() >= BLOCKING_POINTS);
        assert_eq!(run(&q, r).unwrap(), plan.frames().unwrap());
    }

    #[test]
    fn prepared_key_and_range_identify_the_output() {
        let ds = DataSource::default();
        let prepare =
            |model: Value, r: TimeRange| TestData.prepare(&ds, &query("A", model, 60), r).unwrap();
        let a = prepare(json!({"seed": 1}), range(T0 + 1, T0 + HOUR + 1));
        assert!(a.cacheable);
        assert_eq!(a.step_ms, 60_000);
        assert_eq!(a.range, range(T0, T0 + HOUR));
        // Within the same step the question is the same.
        assert_eq!(
            a.key,
            prepare(json!({"seed": 1}), range(T0 + 59_000, T0 + HOUR + 59_000)).key
        );
        assert_ne!(a.key, prepare(json!({"seed": 2}), range(T0, T0 + HOUR)).key);
        assert_ne!(
            a.key,
            prepare(json!({"seed": 1, "spread": 2}), range(T0, T0 + HOUR)).key
        );
        assert_ne!(
            a.key,
            prepare(json!({"seed": 1}), range(T0, T0 + 2 * HOUR)).key
        );
        assert_ne!(
            a.key,
            prepare(
                json!({"scenarioId": "no_data_points"}),
                range(T0, T0 + HOUR)
            )
            .key
        );
    }

    #[test]
    fn csv_metric_values_spread_over_the_range() {
        let q = query(
            "A",
            json!({"scenarioId": "csv_metric_values", "stringInput": "1,20,90,30,5,0"}),
            100,
        );
        let frames = run(&q, range(0, 50_000)).unwrap();
        assert_eq!(frames.len(), 1);
        assert_eq!(
            times(&frames[0]),
            [0, 10_000, 20_000, 30_000, 40_000, 50_000]
        );
        let expected: Vec<_> = [1.0, 20.0, 90.0, 30.0, 5.0, 0.0].map(Some).to_vec();
        assert_eq!(numbers(&frames[0]), expected);
        assert_eq!(frames[0].fields[1].name, "A-series");

        let with_null = query(
            "A",
            json!({"scenarioId": "csv_metric_values", "stringInput": "1,null,3"}),
            100,
        );
        assert_eq!(
            numbers(&run(&with_null, range(0, 50_000)).unwrap()[0]),
            [Some(1.0), None, Some(3.0)]
        );
        let default = query("A", json!({"scenarioId": "csv_metric_values"}), 100);
        assert_eq!(
            numbers(&run(&default, range(0, 50_000)).unwrap()[0]).len(),
            6
        );
        let bad = query(
            "A",
            json!({"scenarioId": "csv_metric_values", "stringInput": "1,x"}),
            100,
        );
        assert!(matches!(
            run(&bad, range(0, 50_000)),
            Err(QueryError::BadQuery(_))
        ));
    }

    #[test]
    fn predictable_pulse_is_aligned_to_absolute_time() {
        let q = query(
            "A",
            json!({"scenarioId": "predictable_pulse", "labels": "kind=pulse",
                   "pulseWave": {"timeStep": 60, "onCount": 3, "offCount": 6,
                                 "onValue": 1, "offValue": "null"}}),
            100,
        );
        let frames = run(&q, range(10_000, 600_000)).unwrap();
        let frame = &frames[0];
        assert_eq!(frame.name.as_deref(), Some("A-series"));
        assert_eq!(
            times(frame),
            (0..=10).map(|k| k * 60_000).collect::<Vec<_>>()
        );
        let (on, off) = (Some(1.0), None);
        assert_eq!(
            numbers(frame),
            [on, on, on, off, off, off, off, off, off, on, on]
        );

        // Any window sees the same cycle: 9 minutes in, a new pulse starts.
        let later = run(&q, range(T0, T0 + HOUR)).unwrap();
        for (t, v) in points(&later[0]) {
            let expected = if (t / 60_000) % 9 < 3 { on } else { off };
            assert_eq!(v, expected, "at {t}");
        }
        let defaults = query("A", json!({"scenarioId": "predictable_pulse"}), 100);
        let values = numbers(&run(&defaults, range(0, 300_000)).unwrap()[0]).to_vec();
        assert_eq!(values, [2.0, 2.0, 2.0, 1.0, 1.0, 1.0].map(Some));
    }

    #[test]
    fn predictable_csv_wave_repeats_its_values() {
        let q = query(
            "A",
            json!({"scenarioId": "predictable_csv_wave", "csvWave": [
                {"timeStep": 10, "valuesCSV": "0,1,2,", "name": "fast", "labels": "w=a"},
                {"timeStep": 15, "valuesCSV": "5,nan"}
            ]}),
            100,
        );
        let frames = run(&q, range(0, 60_000)).unwrap();
        assert_eq!(frames[0].name.as_deref(), Some("fast"));
        assert_eq!(times(&frames[0]).len(), 7);
        assert_eq!(
            numbers(&frames[0]),
            [0.0, 1.0, 2.0, 0.0, 1.0, 2.0, 0.0].map(Some)
        );
        assert_eq!(frames[1].name.as_deref(), Some("A-series"));
        assert_eq!(times(&frames[1]), [0, 15_000, 30_000, 45_000, 60_000]);
        let second = numbers(&frames[1]);
        assert_eq!(second[2], Some(5.0));
        assert!(second[1].unwrap().is_nan());
    }

    #[test]
    fn no_data_errors_and_unknown_scenarios() {
        let r = range(T0, T0 + HOUR);
        let none = run(&query("A", json!({"scenarioId": "no_data_points"}), 100), r).unwrap();
        assert!(none.is_empty());

        let error = run(
            &query("A", json!({"scenarioId": "server_error_500"}), 100),
            r,
        );
        match error {
            Err(e @ QueryError::Upstream(_)) => assert!(e.to_string().contains("simulated")),
            other => panic!("expected an upstream error, got {other:?}"),
        }
        // Grafana's "Conditional Error": with a String Input it answers as CSV values.
        let conditional = query(
            "A",
            json!({"scenarioId": "server_error_500", "stringInput": "1,2"}),
            100,
        );
        assert_eq!(
            numbers(&run(&conditional, r).unwrap()[0]),
            [Some(1.0), Some(2.0)]
        );

        match run(&query("A", json!({"scenarioId": "logs"}), 100), r) {
            Err(QueryError::BadQuery(message)) => {
                assert!(message.contains("\"logs\""), "{message}");
                assert!(
                    message.contains("random_walk, csv_metric_values"),
                    "{message}"
                );
            }
            other => panic!("expected a bad query, got {other:?}"),
        }
        for bad in [
            json!({"min": 10, "max": 1}),
            json!({"seriesCount": -1}),
            json!({"seriesCount": 1.5}),
            json!({"spread": "wide"}),
            json!({"labels": "job"}),
            json!({"seriesCount": 1000, "startValue": 1}),
            json!({"scenarioId": "predictable_pulse", "pulseWave": {"timeStep": 0}}),
            json!({"scenarioId": "predictable_pulse", "pulseWave": {"onCount": 0, "offCount": 0}}),
            json!({"scenarioId": "predictable_csv_wave", "csvWave": [{"valuesCSV": ""}]}),
        ] {
            let result = run(&query("A", bad.clone(), 10_000), range(T0, T0 + 24 * HOUR));
            assert!(
                matches!(result, Err(QueryError::BadQuery(_))),
                "{bad}: {result:?}"
            );
        }
    }

    #[test]
    fn health_is_always_ok() {
        let ds = DataSource::default();
        let upstream = Upstream::for_datasource(&ds).unwrap();
        let message = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(TestData.health(&upstream, &ds))
            .unwrap();
        assert_eq!(message, "Data source is working");
    }

    #[test]
    fn generator_streams_are_fixed_forever() {
        // splitmix64's published first outputs for seed 0 and FNV-1a of "A"; a change here
        // redraws every demo.
        let mut g = SplitMix64(0);
        assert_eq!(g.next_u64(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(g.next_u64(), 0x6e78_9e6a_a1b9_65f4);
        assert_eq!(fnv1a(b"A"), 0xaf63_fc4c_8602_22ec);
    }

    /// Every target of the demo dashboard answers with data over a fixed range.
    #[test]
    fn demo_dashboard_targets_all_return_data() {
        let dashboard: Value =
            serde_json::from_str(include_str!("../../server/src/demo/dashboard.json")).unwrap();
        let mut panels: Vec<&Value> = Vec::new();
        for panel in dashboard["panels"].as_array().unwrap() {
            panels.push(panel);
            if let Some(nested) = panel["panels"].as_array() {
                panels.extend(nested);
            }
        }
        let r = range(T0 - 6 * HOUR, T0);
        let mut ran = 0;
        for panel in panels {
            let Some(targets) = panel["targets"].as_array() else {
                continue;
            };
            assert_eq!(
                panel["datasource"],
                json!({"type": "grafana-testdata-datasource", "uid": "pharos-testdata"})
            );
            let max_points = panel["maxDataPoints"].as_i64().unwrap_or(1000);
            for target in targets {
                let ref_id = target["refId"].as_str().unwrap();
                let frames = run(&query(ref_id, target.clone(), max_points), r)
                    .unwrap_or_else(|e| panic!("{} {ref_id}: {e}", panel["title"]));
                assert!(!frames.is_empty(), "{} {ref_id}: no frames", panel["title"]);
                assert!(
                    frames.iter().all(|f| f.rows() > 0),
                    "{} {ref_id}: empty",
                    panel["title"]
                );
                ran += 1;
            }
        }
        assert!(ran >= 8, "only {ran} targets");
    }
}
