//! Grafana's interval math: how a query's step and `$__interval` follow from the time range, the
//! point budget and the minimum intervals. Pure functions; every rule is Grafana's (see the unit
//! tests for the table of cases).

use crate::model::TimeRange;

/// Points per panel when a request names no `maxDataPoints` budget for the calculation.
pub const DEFAULT_RESOLUTION: i64 = 1500;
/// Prometheus refuses more than 11,000 points per series; the step never goes below range / this.
pub const PROMETHEUS_SAFE_RESOLUTION: i64 = 11_000;
/// The minimum interval when neither the query nor the datasource names one.
pub const DEFAULT_MIN_INTERVAL_MS: i64 = 15_000;

const SECOND: i64 = 1000;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
const WEEK: i64 = 7 * DAY;
const YEAR: i64 = 365 * DAY;

/// Rounds a calculated interval to a "nice" one, as Grafana's `roundInterval` does.
pub fn round_interval(ms: i64) -> i64 {
    const TABLE: &[(i64, i64)] = &[
        (10, 1),
        (15, 10),
        (35, 20),
        (75, 50),
        (150, 100),
        (350, 200),
        (750, 500),
        (1_500, SECOND),
        (3_500, 2 * SECOND),
        (7_500, 5 * SECOND),
        (12_500, 10 * SECOND),
        (17_500, 15 * SECOND),
        (25_000, 20 * SECOND),
        (45_000, 30 * SECOND),
        (90_000, MINUTE),
        (210_000, 2 * MINUTE),
        (450_000, 5 * MINUTE),
        (750_000, 10 * MINUTE),
        (1_050_000, 15 * MINUTE),
        (1_500_000, 20 * MINUTE),
        (2_700_000, 30 * MINUTE),
        (5_400_000, HOUR),
        (9_000_000, 2 * HOUR),
        (16_200_000, 3 * HOUR),
        (24_300_000, 6 * HOUR),
        (64_800_000, 12 * HOUR),
        (129_600_000, DAY),
        (496_800_000, WEEK),
    ];
    TABLE
        .iter()
        .find(|(upper, _)| ms <= *upper)
        .map_or(30 * DAY, |(_, rounded)| *rounded)
}

/// Formats an interval the way Grafana writes `$__interval`: the largest whole unit, truncated
/// (`90s` → `1m`), `1ms` at the least.
pub fn format_interval(ms: i64) -> String {
    for (unit, suffix) in [
        (YEAR, "y"),
        (DAY, "d"),
        (HOUR, "h"),
        (MINUTE, "m"),
        (SECOND, "s"),
        (1, "ms"),
    ] {
        if ms >= unit {
            return format!("{}{suffix}", ms / unit);
        }
    }
    "1ms".into()
}

/// Formats a duration as Go's `time.Duration.String()` does (`1m0s`, `2h30m0s`, `500ms`), which
/// Grafana uses for `$__rate_interval`.
pub fn go_duration(ms: i64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    if ms < SECOND {
        return format!("{ms}ms");
    }
    let hours = ms / HOUR;
    let minutes = (ms % HOUR) / MINUTE;
    let millis = ms % MINUTE;
    let seconds = if millis % SECOND == 0 {
        format!("{}", millis / SECOND)
    } else {
        let s = format!("{:.3}", millis as f64 / 1000.0);
        s.trim_end_matches('0').to_string()
    };
    if hours > 0 {
        format!("{hours}h{minutes}m{seconds}s")
    } else if minutes > 0 {
        format!("{minutes}m{seconds}s")
    } else {
        format!("{seconds}s")
    }
}

/// Parses an interval as Grafana accepts it in `interval`/`timeInterval` settings: a number and a
/// unit (`ms`, `s`, `m`, `h`, `d`, `w`, `y`), an optional leading `>`; a bare number is seconds.
pub fn parse_interval(text: &str) -> Result<i64, String> {
    let s = text.trim().trim_start_matches('>').trim();
    let bad =
        || format!("invalid interval {text:?}: expected a number and a unit such as 15s, 1m or 1h");
    if s.is_empty() {
        return Err(bad());
    }
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let number: f64 = number.parse().map_err(|_| bad())?;
    let unit_ms = match unit {
        "" | "s" => SECOND,
        "ms" => 1,
        "m" => MINUTE,
        "h" => HOUR,
        "d" => DAY,
        "w" => WEEK,
        "y" => YEAR,
        _ => return Err(bad()),
    } as f64;
    let ms = (number * unit_ms).round();
    if !ms.is_finite() || ms < 0.0 || ms > i64::MAX as f64 {
        return Err(bad());
    }
    Ok(ms as i64)
}

/// Grafana's `GetIntervalFrom`: the minimum interval is the query's own `interval` if set, else
/// its `intervalMs`, else the datasource's `timeInterval`, else `default_ms`.
pub fn min_interval(
    datasource_interval: Option<&str>,
    query_interval: Option<&str>,
    query_interval_ms: i64,
    default_ms: i64,
) -> Result<i64, String> {
    let query_interval = query_interval
        .map(str::trim)
        .filter(|s| !s.is_empty() && *s != "0s");
    if query_interval.is_none() && query_interval_ms > 0 {
        return Ok(query_interval_ms);
    }
    match query_interval.or(datasource_interval.filter(|s| !s.trim().is_empty())) {
        Some(text) => parse_interval(text),
        None => Ok(default_ms),
    }
}

/// Grafana's interval calculator: range / points, rounded, but never below `min_ms`.
pub fn calculate(range: TimeRange, min_ms: i64, max_data_points: i64) -> i64 {
    let resolution = if max_data_points > 0 {
        max_data_points
    } else {
        DEFAULT_RESOLUTION
    };
    let calculated = range.duration_ms().max(0) / resolution;
    if calculated < min_ms {
        min_ms
    } else {
        round_interval(calculated)
    }
}

/// The smallest step that keeps a range within `resolution` points, rounded.
pub fn safe_interval(range: TimeRange, resolution: i64) -> i64 {
    round_interval(range.duration_ms().max(0) / resolution)
}

/// `$__rate_interval`: `max(interval + scrape, 4 × scrape)`, scrape defaulting to 15 s.
pub fn rate_interval(interval_ms: i64, scrape_interval: Option<&str>) -> i64 {
    let scrape = scrape_interval
        .filter(|s| !s.trim().is_empty())
        .and_then(|s| parse_interval(s).ok())
        .unwrap_or(DEFAULT_MIN_INTERVAL_MS);
    (interval_ms + scrape).max(4 * scrape)
}

/// True for a query `interval` that names a variable rather than a duration.
pub fn is_variable_interval(text: &str) -> bool {
    matches!(
        text.trim(),
        "$__interval" | "${__interval}" | "$__rate_interval" | "${__rate_interval}"
    )
}

/// The inputs of a Prometheus step calculation, as a query and its datasource carry them.
#[derive(Debug, Clone, Default)]
pub struct PrometheusStepInput<'a> {
    /// The query's `interval` (its "min step"), possibly `$__rate_interval`.
    pub query_interval: Option<&'a str>,
    /// The query's `intervalMs` as sent (0 when absent).
    pub interval_ms: i64,
    /// The query's `intervalFactor` (legacy "resolution"), 0 or 1 for none.
    pub interval_factor: i64,
    pub max_data_points: i64,
    /// The datasource's `jsonData.timeInterval` (its scrape interval).
    pub scrape_interval: Option<&'a str>,
}

/// Grafana's `calculatePrometheusInterval`: the step of a Prometheus range query.
pub fn prometheus_step(range: TimeRange, input: &PrometheusStepInput) -> Result<i64, String> {
    let original = input.query_interval.map(str::trim).unwrap_or("");
    let query_interval = if is_variable_interval(original) {
        None
    } else {
        Some(original)
    };
    let min = min_interval(
        input.scrape_interval,
        query_interval,
        input.interval_ms,
        DEFAULT_MIN_INTERVAL_MS,
    )?;
    let calculated = calculate(range, min, input.max_data_points);
    let safe = safe_interval(range, PROMETHEUS_SAFE_RESOLUTION);
    let adjusted = calculated.max(safe);
    if original == "$__rate_interval" || original == "${__rate_interval}" {
        return Ok(rate_interval(adjusted, input.scrape_interval));
    }
    Ok(adjusted * input.interval_factor.max(1))
}

/// Rounds `t_ms` down to a multiple of `step_ms`, shifted by a time zone offset in seconds, as
/// Grafana aligns Prometheus range queries.
pub fn align(t_ms: i64, step_ms: i64, utc_offset_sec: i64) -> i64 {
    if step_ms <= 0 {
        return t_ms;
    }
    let offset = utc_offset_sec * 1000;
    (t_ms + offset).div_euclid(step_ms) * step_ms - offset
}
