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
/// Grafana's calendar-free month and year in durations: a Julian year of 365.25 days, a twelfth
/// of it a month.
const JULIAN_YEAR: i64 = 365 * DAY + DAY / 4;
const JULIAN_MONTH: i64 = JULIAN_YEAR / 12;
const NS_PER_MS: i128 = 1_000_000;

/// Rounds a calculated interval to a "nice" one, as Grafana's `gtime.RoundInterval` does: each
/// row is (largest interval, in ms, that rounds to the value; the value). Intervals of three weeks
/// and more become 30 days, six weeks and more a year.
pub fn round_interval(ms: i64) -> i64 {
    round_interval_ns(i128::from(ms) * NS_PER_MS)
}

/// [`round_interval`] on nanoseconds: Grafana divides the range in nanoseconds, so a calculated
/// interval of 10.5 ms falls in the row above 10 ms.
fn round_interval_ns(ns: i128) -> i64 {
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
        (32_400_000, 6 * HOUR),
        (86_400_000, 12 * HOUR),
        (172_800_000, DAY),
        (604_800_000, DAY),
        (1_814_400_000, WEEK),
    ];
    if let Some((_, rounded)) = TABLE
        .iter()
        .find(|(upper, _)| ns <= i128::from(*upper) * NS_PER_MS)
    {
        return *rounded;
    }
    if ns < 3_628_800_000 * NS_PER_MS {
        30 * DAY
    } else {
        YEAR
    }
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

/// Parses an interval as Grafana accepts it in `interval`/`timeInterval` settings
/// (`ParseIntervalStringToTimeDuration`): the first `<` and `>` are dropped, a bare number is
/// seconds, and the rest is a Grafana duration (see [`parse_grafana_duration_ns`]): `15s`, `1m30s`,
/// `1.5h`, `500ms`, `2d`, `1w`, `1M`, `1y`. Rounded to whole milliseconds.
pub fn parse_interval(text: &str) -> Result<i64, String> {
    let s = text.replacen('<', "", 1).replacen('>', "", 1);
    let s = s.trim();
    let bad =
        || format!("invalid interval {text:?}: expected a number and a unit such as 15s, 1m or 1h");
    let ns = if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        i128::from(s.parse::<i64>().map_err(|_| bad())?) * i128::from(SECOND) * NS_PER_MS
    } else {
        parse_grafana_duration_ns(s).ok_or_else(bad)?
    };
    let ms = (ns + NS_PER_MS / 2).div_euclid(NS_PER_MS);
    if ns < 0 || ms > i128::from(i64::MAX) {
        return Err(bad());
    }
    Ok(ms as i64)
}

/// Parses a duration as Grafana's `gtime.ParseDuration` does: a whole number and `d`, `w`, `M` or
/// `y` (days, weeks, Julian months of 30.4375 days, Julian years of 365.25 days), or else a Go
/// duration (see [`parse_go_duration_ns`]). Returns nanoseconds.
pub fn parse_grafana_duration_ns(text: &str) -> Option<i128> {
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits_end);
    let unit_ms = match unit {
        "d" => DAY,
        "w" => WEEK,
        "M" => JULIAN_MONTH,
        "y" => JULIAN_YEAR,
        _ => return parse_go_duration_ns(text),
    };
    let n: i128 = number.parse().ok()?;
    n.checked_mul(i128::from(unit_ms) * NS_PER_MS)
}

/// Parses a Go duration (`time.ParseDuration`): an optional sign, then one or more numbers with an
/// optional fraction, each followed by a unit (`ns`, `us`, `µs`, `ms`, `s`, `m`, `h`); `0` alone
/// is allowed. Returns nanoseconds, or `None` when the text is not one.
pub fn parse_go_duration_ns(text: &str) -> Option<i128> {
    let (negative, mut rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, tail) = rest.split_at(number_end);
        let unit_end = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_end);
        let unit_ns: f64 = match unit {
            "ns" => 1.0,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        let valid_number =
            number.matches('.').count() <= 1 && number.chars().any(|c| c.is_ascii_digit());
        if !valid_number {
            return None;
        }
        let value: f64 = if number.ends_with('.') {
            number.trim_end_matches('.').parse().ok()?
        } else {
            number.parse().ok()?
        };
        total += value * unit_ns;
        rest = tail;
    }
    if !total.is_finite() || total > i64::MAX as f64 {
        return None;
    }
    let ns = total.round() as i128;
    Some(if negative { -ns } else { ns })
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
    if query_interval.is_none() && query_interval_ms != 0 {
        return Ok(query_interval_ms);
    }
    match query_interval.or(datasource_interval.filter(|s| !s.trim().is_empty())) {
        Some(text) => parse_interval(text),
        None => Ok(default_ms),
    }
}

/// Grafana's interval calculator: range / points (0 points meaning the default resolution),
/// rounded, but never below `min_ms`. Grafana divides in nanoseconds, and so does this.
pub fn calculate(range: TimeRange, min_ms: i64, max_data_points: i64) -> i64 {
    let resolution = if max_data_points == 0 {
        DEFAULT_RESOLUTION
    } else {
        max_data_points
    };
    let calculated_ns = i128::from(range.duration_ms()) * NS_PER_MS / i128::from(resolution);
    if calculated_ns < i128::from(min_ms) * NS_PER_MS {
        min_ms
    } else {
        round_interval_ns(calculated_ns)
    }
}

/// The smallest step that keeps a range within `resolution` points, rounded.
pub fn safe_interval(range: TimeRange, resolution: i64) -> i64 {
    round_interval_ns(i128::from(range.duration_ms()) * NS_PER_MS / i128::from(resolution.max(1)))
}

/// `$__rate_interval`: `max(interval + scrape, 4 × scrape)`, scrape defaulting to 15 s. As in
/// Grafana, a scrape interval that does not parse makes it 0.
pub fn rate_interval(interval_ms: i64, scrape_interval: Option<&str>) -> i64 {
    let scrape = match scrape_interval.filter(|s| !s.trim().is_empty()) {
        None => DEFAULT_MIN_INTERVAL_MS,
        Some(text) => match parse_interval(text) {
            Ok(ms) => ms,
            Err(_) => return 0,
        },
    };
    (interval_ms + scrape).max(4 * scrape)
}

/// True for a query `interval` that names a variable rather than a duration: `$__interval`,
/// `$__interval_ms`, `$__rate_interval`, `$__rate_interval_ms`, each also in `${...}` form.
pub fn is_variable_interval(text: &str) -> bool {
    matches!(
        text.trim(),
        "$__interval"
            | "${__interval}"
            | "$__interval_ms"
            | "${__interval_ms}"
            | "$__rate_interval"
            | "${__rate_interval}"
            | "$__rate_interval_ms"
            | "${__rate_interval_ms}"
    )
}

/// The inputs of a Prometheus step calculation, as a query and its datasource carry them.
#[derive(Debug, Clone, Default)]
pub struct PrometheusStepInput<'a> {
    /// The query's `interval` (its "min step"), possibly `$__rate_interval`.
    pub query_interval: Option<&'a str>,
    /// The query's `intervalMs` as sent (0 when absent).
    pub interval_ms: i64,
    /// The query's `intervalFactor` (legacy "resolution"), 0 or 1 for none; Grafana multiplies by
    /// any other value as sent, even a negative one.
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
    let factor = if input.interval_factor == 0 {
        1
    } else {
        input.interval_factor
    };
    Ok(adjusted * factor)
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

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = SECOND;
    const M: i64 = MINUTE;
    const H: i64 = HOUR;

    fn range(duration_ms: i64) -> TimeRange {
        let from_ms = 1_700_000_000_000;
        TimeRange {
            from_ms,
            to_ms: from_ms + duration_ms,
        }
    }

    #[test]
    fn round_interval_follows_grafanas_table() {
        let cases = [
            (0, 1),
            (10, 1),
            (11, 10),
            (15, 10),
            (16, 20),
            (35, 20),
            (36, 50),
            (100, 100),
            (300, 200),
            (700, 500),
            (1_000, S),
            (1_501, 2 * S),
            (5 * S, 5 * S),
            (11 * S, 10 * S),
            (16 * S, 15 * S),
            (24 * S, 20 * S),
            (40 * S, 30 * S),
            (80 * S, M),
            (3 * M, 2 * M),
            (7 * M, 5 * M),
            (12 * M, 10 * M),
            (17 * M, 15 * M),
            (25 * M, 20 * M),
            (45 * M, 30 * M),
            (90 * M, H),
            (150 * M, 2 * H),
            (4 * H, 3 * H),
            (9 * H, 6 * H),
            (9 * H + 1, 12 * H),
            (24 * H, 12 * H),
            (48 * H, DAY),
            (7 * DAY, DAY),
            (7 * DAY + 1, WEEK),
            (21 * DAY, WEEK),
            (30 * DAY, 30 * DAY),
            (42 * DAY - 1, 30 * DAY),
            (42 * DAY, YEAR),
            (1000 * DAY, YEAR),
        ];
        for (input, want) in cases {
            assert_eq!(round_interval(input), want, "round_interval({input})");
        }
    }

    #[test]
    fn format_interval_takes_the_largest_whole_unit() {
        let cases = [
            (0, "1ms"),
            (1, "1ms"),
            (999, "999ms"),
            (S, "1s"),
            (90 * S, "1m"),
            (2 * H, "2h"),
            (36 * H, "1d"),
            (400 * DAY, "1y"),
        ];
        for (ms, want) in cases {
            assert_eq!(format_interval(ms), want, "format_interval({ms})");
        }
    }

    #[test]
    fn go_duration_writes_like_go() {
        let cases = [
            (0, "0s"),
            (500, "500ms"),
            (S, "1s"),
            (1_500, "1.5s"),
            (M, "1m0s"),
            (130 * S, "2m10s"),
            (H, "1h0m0s"),
            (2 * H + 30 * M, "2h30m0s"),
            (M + 250, "1m0.25s"),
            (26 * H, "26h0m0s"),
        ];
        for (ms, want) in cases {
            assert_eq!(go_duration(ms), want, "go_duration({ms})");
        }
    }

    #[test]
    fn parse_interval_accepts_grafanas_forms() {
        let cases = [
            ("15s", 15 * S),
            ("15", 15 * S),
            (">10s", 10 * S),
            ("<10s>", 10 * S),
            ("500ms", 500),
            ("1m30s", 90 * S),
            ("1.5h", 90 * M),
            ("+90s", 90 * S),
            ("2d", 2 * DAY),
            ("1w", WEEK),
            ("1M", 2_629_800_000),
            ("1y", 31_557_600_000),
            ("0s", 0),
            ("100us", 0),
            ("1500us", 2),
        ];
        for (text, want) in cases {
            assert_eq!(parse_interval(text), Ok(want), "parse_interval({text:?})");
        }
        for bad in ["", "abc", "1.5", "1.5d", "5x", "-5s", "s", "1h30"] {
            let err = parse_interval(bad).unwrap_err();
            assert!(err.contains(&format!("{bad:?}")), "{err}");
        }
    }

    #[test]
    fn go_durations_parse_like_go() {
        let cases = [
            ("0", Some(0)),
            ("1s", Some(1_000_000_000)),
            ("-1.5h", Some(-5_400_000_000_000)),
            ("+2m", Some(120_000_000_000)),
            ("1h2m3s4ms5us6ns", Some(3_723_004_005_006)),
            ("3\u{b5}s", Some(3_000)),
            (".5s", Some(500_000_000)),
            ("5.s", Some(5_000_000_000)),
            ("", None),
            ("1", None),
            ("1d", None),
            (".s", None),
            ("1..5s", None),
            ("now", None),
            ("--1s", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_go_duration_ns(text), want, "{text:?}");
        }
    }

    #[test]
    fn min_interval_prefers_query_then_interval_ms_then_datasource() {
        let d = DEFAULT_MIN_INTERVAL_MS;
        assert_eq!(min_interval(Some("30s"), Some("1m"), 5_000, d), Ok(M));
        assert_eq!(min_interval(Some("30s"), None, 5_000, d), Ok(5 * S));
        assert_eq!(min_interval(Some("30s"), Some("0s"), 5_000, d), Ok(5 * S));
        assert_eq!(min_interval(Some("30s"), Some(""), 0, d), Ok(30 * S));
        assert_eq!(min_interval(None, None, 0, d), Ok(d));
        assert_eq!(min_interval(Some(""), None, 0, 1), Ok(1));
        assert!(min_interval(None, Some("often"), 0, d).is_err());
    }

    #[test]
    fn calculate_divides_the_range_by_the_points() {
        // 1 h over the default 1500 points is 2.4 s, rounded to 2 s.
        assert_eq!(calculate(range(H), 1, 0), 2 * S);
        // The minimum wins when the calculated interval is below it.
        assert_eq!(calculate(range(H), 15 * S, 0), 15 * S);
        assert_eq!(calculate(range(48 * H), 15 * S, 761), 5 * M);
        // 15.75 ms (in nanoseconds) rounds up to 20 ms where whole milliseconds would give 10 ms.
        assert_eq!(calculate(range(15_750), 1, 1000), 20);
        assert_eq!(calculate(range(0), 1, 100), 1);
    }

    #[test]
    fn safe_interval_caps_the_points_at_the_resolution() {
        assert_eq!(
            safe_interval(range(48 * H), PROMETHEUS_SAFE_RESOLUTION),
            15 * S
        );
        assert_eq!(
            safe_interval(range(3650 * DAY), PROMETHEUS_SAFE_RESOLUTION),
            6 * H
        );
    }

    #[test]
    fn rate_interval_is_interval_plus_scrape_at_least_four_scrapes() {
        let cases = [
            (100 * S, Some("30s"), 130 * S),
            (60 * S, Some("30s"), 120 * S),
            (30 * S, Some("15s"), 60 * S),
            (30 * S, Some(""), 60 * S),
            (30 * S, None, 60 * S),
            (5 * M, Some("1m"), 6 * M),
            (0, Some("30s"), 120 * S),
            (10 * M, Some("30s"), 630 * S),
            (2 * H, Some("1h"), 4 * H),
            (M, Some("2m"), 8 * M),
            (100 * S, Some("invalid-interval"), 0),
        ];
        for (interval, scrape, want) in cases {
            assert_eq!(
                rate_interval(interval, scrape),
                want,
                "rate_interval({interval}, {scrape:?})"
            );
        }
    }

    /// One row of Grafana's Prometheus step cases: query interval ("min step"), scrape interval,
    /// intervalMs, intervalFactor, range, maxDataPoints → step.
    struct StepCase {
        query_interval: &'static str,
        scrape: &'static str,
        interval_ms: i64,
        factor: i64,
        range_ms: i64,
        max_data_points: i64,
        want: i64,
    }

    #[test]
    fn prometheus_step_matches_grafanas_cases() {
        let case =
            |query_interval, scrape, interval_ms, factor, range_ms, max_data_points, want| {
                StepCase {
                    query_interval,
                    scrape,
                    interval_ms,
                    factor,
                    range_ms,
                    max_data_points,
                    want,
                }
            };
        let cases = [
            case("10m", "", 300_000, 1, 48 * H, 761, 10 * M),
            case("2m", "", 300_000, 1, 48 * H, 761, 5 * M),
            case("2m", "", 900_000, 1, 48 * H, 175, 15 * M),
            case("", "15s", 0, 1, 12 * H, 0, 30 * S),
            case("", "15s", 0, 1, H, 0, 15 * S),
            case("", "15s", 0, 10, 48 * H, 0, 20 * M),
            case("", "15s", 0, 1, 48 * H, 0, 2 * M),
            case("", "240s", 0, 1, 48 * H, 0, 4 * M),
            case("", "15s", 0, 0, H, 0, 15 * S),
            case("$__interval", "15s", 60_000, 1, 48 * H, 0, 2 * M),
            case("${__interval}", "15s", 60_000, 1, 48 * H, 0, 2 * M),
            case("$__interval_ms", "15s", 60_000, 1, 48 * H, 0, 2 * M),
            case("${__interval_ms}", "15s", 60_000, 1, 48 * H, 0, 2 * M),
            case("1m", "15s", 60_000, 1, 48 * H, 0, 2 * M),
            case(
                "$__rate_interval",
                "30s",
                100_000,
                1,
                48 * H,
                12_384,
                130 * S,
            ),
            case(
                "${__rate_interval}",
                "30s",
                100_000,
                1,
                48 * H,
                12_384,
                130 * S,
            ),
            case("150s", "30s", 100_000, 1, 48 * H, 12_384, 150 * S),
            case("150s", "30s", 120_000, 1, 48 * H, 12_384, 150 * S),
            case("120s", "30s", 120_000, 1, 48 * H, 12_384, 120 * S),
            case("30s", "30s", 30_000, 1, H, 12_384, 30 * S),
            case("$__rate_interval", "30s", 30_000, 1, H, 12_384, 2 * M),
            case(
                "$__rate_interval",
                "30s",
                120_000,
                1,
                48 * H,
                12_384,
                150 * S,
            ),
            case("$__interval", "15s", 120_000, 1, 48 * H, 12_384, 120 * S),
            case("", "", 0, 1, H, 0, 15 * S),
            case("", "15s", 0, 1, M, 0, 15 * S),
            case("", "15s", 0, 1, 30 * DAY, 0, 30 * M),
            case("5m", "15s", 0, 1, 48 * H, 0, 5 * M),
            case("", "30s", 30_000, 1, H, 1613, 30 * S),
            case("", "15s", 15_000, 1, 5 * M, 1055, 15 * S),
            case("", "15s", 0, -5, 48 * H, 0, -10 * M),
            case("", "15s", 0, 1, H, 10, 5 * M),
            case("", "15s", 0, 1, H, 10_000, 15 * S),
            // A ten-year range is held to Prometheus' 11,000 points, not sent at 15 s.
            case("", "15s", 0, 1, 3650 * DAY, 0, DAY),
        ];
        for c in cases {
            let input = PrometheusStepInput {
                query_interval: Some(c.query_interval),
                interval_ms: c.interval_ms,
                interval_factor: c.factor,
                max_data_points: c.max_data_points,
                scrape_interval: Some(c.scrape),
            };
            assert_eq!(
                prometheus_step(range(c.range_ms), &input),
                Ok(c.want),
                "min step {:?}, scrape {:?}, intervalMs {}, factor {}, range {} ms, {} points",
                c.query_interval,
                c.scrape,
                c.interval_ms,
                c.factor,
                c.range_ms,
                c.max_data_points
            );
        }
    }

    #[test]
    fn prometheus_step_rejects_an_unparseable_min_step() {
        let input = PrometheusStepInput {
            query_interval: Some("invalid-interval"),
            scrape_interval: Some("15s"),
            ..Default::default()
        };
        assert!(prometheus_step(range(48 * H), &input).is_err());
    }

    #[test]
    fn variable_intervals_are_recognised() {
        for text in [
            "$__interval",
            "${__interval}",
            "$__interval_ms",
            "${__interval_ms}",
            "$__rate_interval",
            "${__rate_interval}",
            "$__rate_interval_ms",
            "${__rate_interval_ms}",
        ] {
            assert!(is_variable_interval(text), "{text}");
        }
        assert!(!is_variable_interval("15s"));
        assert!(!is_variable_interval("$__range"));
    }

    #[test]
    fn align_rounds_down_to_the_step_in_the_offset_zone() {
        assert_eq!(align(1_000_123, 1_000, 0), 1_000_000);
        assert_eq!(align(1_000_000, 1_000, 0), 1_000_000);
        assert_eq!(align(-1, 1_000, 0), -1_000);
        assert_eq!(align(5, 0, 0), 5);
        // A day step aligns to midnight in UTC+2, i.e. 22:00 UTC.
        let midnight_utc2 = 1_699_999_200_000; // 2023-11-15T00:00+02:00
        assert_eq!(align(midnight_utc2 + 5 * H, DAY, 7200), midnight_utc2);
    }
}
