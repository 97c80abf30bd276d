//! Grafana's time-range strings, as `/api/ds/query` bodies and dashboard URLs carry them in
//! `from`/`to`: epoch milliseconds (`1700000000000`), `now` with date math (`now-6h`, `now+1d`,
//! `now/d`, `now-1d/d`, several steps in a row), an absolute ISO 8601 / RFC 3339 date with
//! optional math after `||` (`2024-01-02T15:04:05Z||+1h`), and a bare duration meaning that long
//! ago (`6h`, `1h30m`, `7d`; Grafana's `gtime.ParseDuration`, so `1M` is a Julian month and `-6h`
//! is six hours ahead).
//!
//! The rules are those of Grafana's server (`gtime.TimeRange`, which uses go-datemath), because
//! that is what parses `from`/`to` of `/api/ds/query`:
//! - units `y` (year), `Q` (quarter), `M` (month), `w` (week), `d`, `h`/`H`, `m`, `s`;
//! - `/unit` rounds `from` down to the start of the unit and `to` up to its last millisecond
//!   (start of the next unit minus 1 ms);
//! - weeks start on Monday unless told otherwise;
//! - adding months or years lets the day overflow as Go's `AddDate` does (31 March minus one month
//!   is 3 March, not 28 February as in the browser's moment.js);
//! - calendar math and dates without a zone use UTC, or a fixed offset when one is given.
//!
//! Not supported: fiscal units (`fy`, `fQ`), business days (`b`), and time-only strings.

use time::{Date, Duration, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset, Weekday};

use crate::interval::parse_grafana_duration_ns;
use crate::model::TimeRange;

/// What a time string is evaluated against: the current time, the zone of the calendar math and
/// the first day of a week.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseOptions {
    /// "now", in epoch milliseconds.
    pub now_ms: i64,
    /// The fixed offset from UTC, in minutes, that `now/d` and zone-less dates use (UTC: 0).
    pub utc_offset_minutes: i32,
    /// The first day of a week for `/w` (Grafana's server default: Monday).
    pub week_start: Weekday,
}

impl ParseOptions {
    /// UTC, weeks from Monday.
    pub fn new(now_ms: i64) -> Self {
        ParseOptions {
            now_ms,
            utc_offset_minutes: 0,
            week_start: Weekday::Monday,
        }
    }
}

/// Parses one time string in UTC with weeks from Monday. `round_up` is true for `to`: `/unit`
/// then goes to the last millisecond of the unit.
pub fn parse(text: &str, now_ms: i64, round_up: bool) -> Result<i64, String> {
    parse_with(text, round_up, &ParseOptions::new(now_ms))
}

/// Parses `from` and `to` in UTC; errors name the bad value, and `from` after `to` is an error.
pub fn parse_range(from: &str, to: &str, now_ms: i64) -> Result<TimeRange, String> {
    parse_range_with(from, to, &ParseOptions::new(now_ms))
}

/// [`parse_range`] with a time zone offset and week start.
pub fn parse_range_with(from: &str, to: &str, options: &ParseOptions) -> Result<TimeRange, String> {
    let from_ms = parse_with(from, false, options).map_err(|e| format!("from: {e}"))?;
    let to_ms = parse_with(to, true, options).map_err(|e| format!("to: {e}"))?;
    if from_ms > to_ms {
        return Err(format!(
            "the time range starts after it ends: from {from:?} ({from_ms}) is after to {to:?} ({to_ms})"
        ));
    }
    Ok(TimeRange { from_ms, to_ms })
}

/// Parses `from` or `to` as JSON carries it: a number of epoch milliseconds or a string.
pub fn parse_json(
    value: &serde_json::Value,
    round_up: bool,
    options: &ParseOptions,
) -> Result<i64, String> {
    match value {
        serde_json::Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
            .ok_or_else(|| format!("invalid time {n}: not a number of epoch milliseconds")),
        serde_json::Value::String(s) => parse_with(s, round_up, options),
        other => Err(format!(
            "invalid time {other}: expected epoch milliseconds or a string such as now-6h"
        )),
    }
}

/// True when the value depends on the current time (`now…` or a bare duration), so a range ending
/// in it moves with the clock.
pub fn is_relative(text: &str) -> bool {
    let s = text.trim();
    s.starts_with("now") || (s.parse::<i64>().is_err() && parse_grafana_duration_ns(s).is_some())
}

/// Parses one time string with the given options; see the module documentation for the forms.
pub fn parse_with(text: &str, round_up: bool, options: &ParseOptions) -> Result<i64, String> {
    let s = text.trim();
    let bad = |why: &str| {
        format!(
            "invalid time {text:?}: {why}; expected epoch milliseconds, now with date math such \
             as now-6h or now/d, or an ISO 8601 date such as 2024-01-02T15:04:05Z"
        )
    };
    if s.is_empty() {
        return Err(bad("it is empty"));
    }
    if let Ok(ms) = s.parse::<i64>() {
        return Ok(ms);
    }
    // Grafana reads a bare duration such as "6h" as that long before now (and "-6h" after now).
    if let Some(ns) = parse_grafana_duration_ns(s) {
        let now_ns = i128::from(options.now_ms) * 1_000_000;
        return i64::try_from((now_ns - ns) / 1_000_000).map_err(|_| bad("it is out of range"));
    }
    let offset = options
        .utc_offset_minutes
        .checked_mul(60)
        .and_then(|seconds| UtcOffset::from_whole_seconds(seconds).ok())
        .ok_or_else(|| bad("the time zone offset is out of range"))?;
    let (anchor, math) = if let Some(math) = s.strip_prefix("now") {
        (
            local_time(options.now_ms, offset).ok_or_else(|| bad("now is out of range"))?,
            math,
        )
    } else {
        let (date, math) = s.split_once("||").unwrap_or((s, ""));
        let anchor = parse_absolute(date.trim(), offset).ok_or_else(|| bad("not a known form"))?;
        (anchor, math)
    };
    let result = apply_math(anchor, math, round_up, options.week_start).map_err(|why| bad(&why))?;
    to_epoch_ms(result, offset).ok_or_else(|| bad("it is out of range"))
}

/// A date-math unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Year,
    Quarter,
    Month,
    Week,
    Day,
    Hour,
    Minute,
    Second,
}

impl Unit {
    fn from_char(c: char) -> Option<Unit> {
        Some(match c {
            'y' => Unit::Year,
            'Q' => Unit::Quarter,
            'M' => Unit::Month,
            'w' => Unit::Week,
            'd' => Unit::Day,
            'h' | 'H' => Unit::Hour,
            'm' => Unit::Minute,
            's' => Unit::Second,
            _ => return None,
        })
    }
}

/// Applies `+N unit`, `-N unit` and `/unit` steps left to right. Whitespace is ignored, as the
/// browser's dateMath does; a missing number means 1.
fn apply_math(
    mut t: PrimitiveDateTime,
    math: &str,
    round_up: bool,
    week_start: Weekday,
) -> Result<PrimitiveDateTime, String> {
    let chars: Vec<char> = math.chars().filter(|c| !c.is_whitespace()).collect();
    let mut i = 0;
    while i < chars.len() {
        let op = chars[i];
        i += 1;
        let digits_start = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        let digits: String = chars[digits_start..i].iter().collect();
        let amount: i64 = if digits.is_empty() {
            1
        } else {
            digits
                .parse()
                .map_err(|_| format!("the number {digits} is too large"))?
        };
        let unit_char = chars.get(i).copied();
        i += 1;
        let unit = unit_char
            .and_then(Unit::from_char)
            .ok_or_else(|| match unit_char {
                Some(c) => format!("unknown unit {c:?} (use y, Q, M, w, d, h, m or s)"),
                None => format!("a unit is missing after {op:?}"),
            })?;
        let out_of_range = || "the result is out of range".to_string();
        t = match op {
            '+' => add(t, amount, unit).ok_or_else(out_of_range)?,
            '-' => add(t, -amount, unit).ok_or_else(out_of_range)?,
            '/' if amount == 1 => round(t, unit, round_up, week_start).ok_or_else(out_of_range)?,
            '/' => return Err(format!("rounding takes a single unit, not {amount}")),
            other => return Err(format!("unexpected {other:?} where +, - or / was expected")),
        };
    }
    Ok(t)
}

/// Adds `n` units. Months and years keep the day of the month and let it overflow into the next
/// month, as Go's `AddDate` does; with a fixed offset, days are always 24 hours.
fn add(t: PrimitiveDateTime, n: i64, unit: Unit) -> Option<PrimitiveDateTime> {
    let seconds = |per_unit: i64| Some(Duration::seconds(n.checked_mul(per_unit)?));
    match unit {
        Unit::Year => add_months(t, n.checked_mul(12)?),
        Unit::Quarter => add_months(t, n.checked_mul(3)?),
        Unit::Month => add_months(t, n),
        Unit::Week => t.checked_add(seconds(7 * 86_400)?),
        Unit::Day => t.checked_add(seconds(86_400)?),
        Unit::Hour => t.checked_add(seconds(3_600)?),
        Unit::Minute => t.checked_add(seconds(60)?),
        Unit::Second => t.checked_add(seconds(1)?),
    }
}

fn add_months(t: PrimitiveDateTime, n: i64) -> Option<PrimitiveDateTime> {
    let months = i64::from(t.year()) * 12 + i64::from(t.month() as u8) - 1 + n;
    let year = i32::try_from(months.div_euclid(12)).ok()?;
    let month = Month::try_from(u8::try_from(months.rem_euclid(12) + 1).ok()?).ok()?;
    let first = Date::from_calendar_date(year, month, 1).ok()?;
    let date = first.checked_add(Duration::seconds((i64::from(t.day()) - 1) * 86_400))?;
    Some(PrimitiveDateTime::new(date, t.time()))
}

/// Rounds down to the start of the unit, or with `round_up` to its last millisecond.
fn round(
    t: PrimitiveDateTime,
    unit: Unit,
    round_up: bool,
    week_start: Weekday,
) -> Option<PrimitiveDateTime> {
    let start = start_of(t, unit, week_start)?;
    if round_up {
        add(start, 1, unit)?.checked_sub(Duration::milliseconds(1))
    } else {
        Some(start)
    }
}

fn start_of(t: PrimitiveDateTime, unit: Unit, week_start: Weekday) -> Option<PrimitiveDateTime> {
    let midnight = |date: Date| Some(PrimitiveDateTime::new(date, Time::MIDNIGHT));
    let first_of = |month: Month| Date::from_calendar_date(t.year(), month, 1).ok();
    let hms = |h: u8, m: u8, s: u8| Time::from_hms(h, m, s).ok();
    match unit {
        Unit::Year => midnight(first_of(Month::January)?),
        Unit::Quarter => {
            let first_month = (t.month() as u8 - 1) / 3 * 3 + 1;
            midnight(first_of(Month::try_from(first_month).ok()?)?)
        }
        Unit::Month => midnight(first_of(t.month())?),
        Unit::Week => {
            let back = (i64::from(t.weekday().number_days_from_sunday())
                - i64::from(week_start.number_days_from_sunday()))
            .rem_euclid(7);
            midnight(t.date().checked_sub(Duration::seconds(back * 86_400))?)
        }
        Unit::Day => midnight(t.date()),
        Unit::Hour => Some(t.replace_time(hms(t.hour(), 0, 0)?)),
        Unit::Minute => Some(t.replace_time(hms(t.hour(), t.minute(), 0)?)),
        Unit::Second => Some(t.replace_time(hms(t.hour(), t.minute(), t.second())?)),
    }
}

/// An absolute date: epoch milliseconds (five digits or more), `YYYY`, `YYYY-MM`, `YYYY-MM-DD`,
/// optionally `T` (or a space) and `HH`, `HH:MM`, `HH:MM:SS` or `HH:MM:SS.fff`, then `Z`, `±HH:MM`,
/// `±HHMM` or nothing (meaning the options' zone). The result is in the options' zone.
fn parse_absolute(s: &str, offset: UtcOffset) -> Option<PrimitiveDateTime> {
    if s.len() >= 5 && s.bytes().all(|b| b.is_ascii_digit()) {
        return local_time(s.parse().ok()?, offset);
    }
    let (date_part, time_part) = match s.find(['T', ' ']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let date = parse_date(date_part)?;
    let Some(time_part) = time_part else {
        return Some(PrimitiveDateTime::new(date, Time::MIDNIGHT));
    };
    let zone_start = time_part.find(['Z', '+', '-']).unwrap_or(time_part.len());
    let (clock, zone) = time_part.split_at(zone_start);
    let local = PrimitiveDateTime::new(date, parse_clock(clock)?);
    let zone = match zone {
        "" => offset,
        "Z" => UtcOffset::UTC,
        z => parse_zone(z)?,
    };
    let t = local.assume_offset(zone).checked_to_offset(offset)?;
    Some(PrimitiveDateTime::new(t.date(), t.time()))
}

fn fixed_digits<T: std::str::FromStr>(s: &str, len: usize) -> Option<T> {
    if s.len() == len && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

fn parse_date(s: &str) -> Option<Date> {
    let mut parts = s.split('-');
    let year: i32 = fixed_digits(parts.next()?, 4)?;
    let month: u8 = parts.next().map_or(Some(1), |m| fixed_digits(m, 2))?;
    let day: u8 = parts.next().map_or(Some(1), |d| fixed_digits(d, 2))?;
    if parts.next().is_some() {
        return None;
    }
    Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()
}

fn parse_clock(s: &str) -> Option<Time> {
    let (hms, fraction) = match s.split_once('.') {
        Some((hms, fraction)) if hms.len() == 8 && !fraction.is_empty() => (hms, fraction),
        Some(_) => return None,
        None => (s, ""),
    };
    let mut parts = hms.split(':');
    let hour: u8 = fixed_digits(parts.next()?, 2)?;
    let minute: u8 = parts.next().map_or(Some(0), |m| fixed_digits(m, 2))?;
    let second: u8 = parts.next().map_or(Some(0), |x| fixed_digits(x, 2))?;
    if parts.next().is_some() || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Milliseconds are the precision kept; further digits are dropped.
    let millis: String = fraction.chars().chain("000".chars()).take(3).collect();
    Time::from_hms_milli(hour, minute, second, millis.parse().ok()?).ok()
}

fn parse_zone(s: &str) -> Option<UtcOffset> {
    let sign: i8 = match s.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits = s[1..].replace(':', "");
    let hours: i8 = fixed_digits(digits.get(..2)?, 2)?;
    let minutes: i8 = fixed_digits(digits.get(2..)?, 2)?;
    if s[1..].contains(':') && s.len() != 6 {
        return None;
    }
    UtcOffset::from_hms(sign * hours, sign * minutes, 0).ok()
}

/// The wall-clock time at `ms` in the zone.
fn local_time(ms: i64, offset: UtcOffset) -> Option<PrimitiveDateTime> {
    let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()?
        .to_offset(offset);
    Some(PrimitiveDateTime::new(t.date(), t.time()))
}

fn to_epoch_ms(t: PrimitiveDateTime, offset: UtcOffset) -> Option<i64> {
    i64::try_from(
        t.assume_offset(offset)
            .unix_timestamp_nanos()
            .div_euclid(1_000_000),
    )
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn ms(t: OffsetDateTime) -> i64 {
        (t.unix_timestamp_nanos() / 1_000_000) as i64
    }

    /// Thursday 2020-03-26T15:12:56Z.
    const NOW: i64 = 1_585_235_576_000;
    /// Sunday 2020-07-26T15:12:56Z.
    const SUNDAY: i64 = 1_595_776_376_000;

    fn from(text: &str, now: i64) -> i64 {
        parse(text, now, false).unwrap_or_else(|e| panic!("{e}"))
    }

    fn to(text: &str, now: i64) -> i64 {
        parse(text, now, true).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn constants_are_the_dates_they_claim() {
        assert_eq!(ms(datetime!(2020-03-26 15:12:56 UTC)), NOW);
        assert_eq!(ms(datetime!(2020-07-26 15:12:56 UTC)), SUNDAY);
    }

    #[test]
    fn epoch_milliseconds_pass_through() {
        assert_eq!(from("1474973725473", NOW), 1_474_973_725_473);
        assert_eq!(to(" 1474975757930 ", NOW), 1_474_975_757_930);
        assert_eq!(from("-315619200000", NOW), -315_619_200_000);
        assert_eq!(from("0", NOW), 0);
    }

    #[test]
    fn now_and_relative_math() {
        assert_eq!(from("now", NOW), NOW);
        assert_eq!(to("now", NOW), NOW);
        assert_eq!(from("now-6h", NOW), NOW - 6 * 3_600_000);
        assert_eq!(from("now-3d", NOW), ms(datetime!(2020-03-23 15:12:56 UTC)));
        assert_eq!(to("now+3w", NOW), ms(datetime!(2020-04-16 15:12:56 UTC)));
        assert_eq!(from("now-h", NOW), NOW - 3_600_000);
        assert_eq!(from("now-90s", NOW), NOW - 90_000);
        assert_eq!(from("now-1y", NOW), ms(datetime!(2019-03-26 15:12:56 UTC)));
        assert_eq!(from("now-1Q", NOW), ms(datetime!(2019-12-26 15:12:56 UTC)));
        assert_eq!(from("now - 2m", NOW), NOW - 120_000);
    }

    #[test]
    fn bare_durations_mean_that_long_ago() {
        assert_eq!(from("5m", NOW), NOW - 300_000);
        assert_eq!(from("7d", NOW), NOW - 7 * 86_400_000);
        assert_eq!(from("1h30m", NOW), NOW - 5_400_000);
        assert_eq!(from("500ms", NOW), NOW - 500);
        assert_eq!(from("1M", NOW), NOW - 2_629_800_000);
        assert_eq!(from("-6h", NOW), NOW + 6 * 3_600_000);
        assert_eq!(from("+6h", NOW), NOW - 6 * 3_600_000);
    }

    #[test]
    fn rounding_goes_to_the_start_for_from_and_the_last_millisecond_for_to() {
        let cases = [
            ("now/d", "2020-03-26T00:00:00Z", "2020-03-26T23:59:59.999Z"),
            (
                "now-1d/d",
                "2020-03-25T00:00:00Z",
                "2020-03-25T23:59:59.999Z",
            ),
            ("now/h", "2020-03-26T15:00:00Z", "2020-03-26T15:59:59.999Z"),
            ("now/m", "2020-03-26T15:12:00Z", "2020-03-26T15:12:59.999Z"),
            ("now/s", "2020-03-26T15:12:56Z", "2020-03-26T15:12:56.999Z"),
            ("now/w", "2020-03-23T00:00:00Z", "2020-03-29T23:59:59.999Z"),
            ("now/M", "2020-03-01T00:00:00Z", "2020-03-31T23:59:59.999Z"),
            (
                "now-1M/M",
                "2020-02-01T00:00:00Z",
                "2020-02-29T23:59:59.999Z",
            ),
            ("now/Q", "2020-01-01T00:00:00Z", "2020-03-31T23:59:59.999Z"),
            ("now/y", "2020-01-01T00:00:00Z", "2020-12-31T23:59:59.999Z"),
            ("now/1d", "2020-03-26T00:00:00Z", "2020-03-26T23:59:59.999Z"),
            (
                "now/d+6h",
                "2020-03-26T06:00:00Z",
                "2020-03-27T05:59:59.999Z",
            ),
        ];
        for (text, want_from, want_to) in cases {
            assert_eq!(from(text, NOW), from(want_from, NOW), "from {text}");
            assert_eq!(to(text, NOW), from(want_to, NOW), "to {text}");
        }
    }

    #[test]
    fn weeks_start_on_monday_unless_told_otherwise() {
        let cases = [
            (
                Weekday::Monday,
                "2020-07-13T00:00:00Z",
                "2020-07-19T23:59:59.999Z",
            ),
            (
                Weekday::Sunday,
                "2020-07-19T00:00:00Z",
                "2020-07-25T23:59:59.999Z",
            ),
            (
                Weekday::Saturday,
                "2020-07-18T00:00:00Z",
                "2020-07-24T23:59:59.999Z",
            ),
        ];
        for (week_start, want_from, want_to) in cases {
            let options = ParseOptions {
                week_start,
                ..ParseOptions::new(SUNDAY)
            };
            let range = parse_range_with("now-1w/w", "now-1w/w", &options).unwrap();
            assert_eq!(range.from_ms, from(want_from, 0), "{week_start}");
            assert_eq!(range.to_ms, from(want_to, 0), "{week_start}");
        }
    }

    #[test]
    fn a_fixed_offset_moves_the_calendar_math() {
        // America/Chicago in July is UTC-5, as in Grafana's own cases.
        let options = ParseOptions {
            utc_offset_minutes: -300,
            ..ParseOptions::new(SUNDAY)
        };
        let month = parse_range_with("now-1M/M", "now-1M/M", &options).unwrap();
        assert_eq!(month.from_ms, from("2020-06-01T00:00:00-05:00", 0));
        assert_eq!(month.to_ms, from("2020-06-30T23:59:59.999-05:00", 0));
        let week = parse_range_with("now-1w/w", "now-1w/w", &options).unwrap();
        assert_eq!(week.from_ms, from("2020-07-13T00:00:00-05:00", 0));
        assert_eq!(week.to_ms, from("2020-07-19T23:59:59.999-05:00", 0));
        let hours = parse_range_with("now-3h", "now+2h", &options).unwrap();
        assert_eq!(hours.from_ms, from("2020-07-26T07:12:56-05:00", 0));
        assert_eq!(hours.to_ms, from("2020-07-26T12:12:56-05:00", 0));
        // A date without a zone is read in the offset's zone.
        assert_eq!(
            parse_with("2020-07-26T10:00:00", false, &options),
            Ok(from("2020-07-26T15:00:00Z", 0))
        );
    }

    #[test]
    fn an_impossible_offset_is_an_error() {
        let options = ParseOptions {
            utc_offset_minutes: i32::MAX,
            ..ParseOptions::new(NOW)
        };
        assert!(parse_with("now/d", false, &options).is_err());
    }

    #[test]
    fn months_overflow_like_gos_add_date() {
        let march_31 = from("2021-03-31T10:00:00Z", 0);
        assert_eq!(from("now-1M", march_31), from("2021-03-03T10:00:00Z", 0));
        let leap_day = from("2020-02-29T00:00:00Z", 0);
        assert_eq!(from("now+1y", leap_day), from("2021-03-01T00:00:00Z", 0));
    }

    #[test]
    fn absolute_dates_in_iso_8601() {
        let cases = [
            (
                "1960-02-01T07:00:00.000Z",
                ms(datetime!(1960-02-01 07:00:00 UTC)),
            ),
            (
                "1965-02-03T08:00:00.000Z",
                ms(datetime!(1965-02-03 08:00:00 UTC)),
            ),
            (
                "2024-01-02T15:04:05Z",
                ms(datetime!(2024-01-02 15:04:05 UTC)),
            ),
            (
                "2024-01-02T15:04:05.5Z",
                ms(datetime!(2024-01-02 15:04:05.5 UTC)),
            ),
            (
                "2024-01-02T15:04:05.123456789Z",
                ms(datetime!(2024-01-02 15:04:05.123 UTC)),
            ),
            (
                "2024-01-02T15:04:05+02:00",
                ms(datetime!(2024-01-02 13:04:05 UTC)),
            ),
            (
                "2024-01-02T15:04:05-0130",
                ms(datetime!(2024-01-02 16:34:05 UTC)),
            ),
            ("2024-01-02 15:04", ms(datetime!(2024-01-02 15:04:00 UTC))),
            ("2024-01-02T15", ms(datetime!(2024-01-02 15:00:00 UTC))),
            ("2024-01-02", ms(datetime!(2024-01-02 00:00:00 UTC))),
            ("2024-01", ms(datetime!(2024-01-01 00:00:00 UTC))),
        ];
        for (text, want) in cases {
            assert_eq!(from(text, NOW), want, "{text}");
        }
    }

    #[test]
    fn math_after_an_absolute_anchor() {
        assert_eq!(
            from("2024-01-02T15:04:05Z||+1h", NOW),
            ms(datetime!(2024-01-02 16:04:05 UTC))
        );
        assert_eq!(
            to("2024-01-02||/M", NOW),
            ms(datetime!(2024-01-31 23:59:59.999 UTC))
        );
        assert_eq!(from("2024||+1M", NOW), ms(datetime!(2024-02-01 00:00 UTC)));
        assert_eq!(
            from("1700000000000||/d", NOW),
            ms(datetime!(2023-11-14 00:00 UTC))
        );
    }

    #[test]
    fn bad_values_are_named_in_the_error() {
        for bad in [
            "",
            "asdf",
            "yesterday",
            "now-6x",
            "now-",
            "now/2d",
            "now*3",
            "now-1fy",
            "2024-13-01",
            "2024-02-30",
            "2024-1-2",
            "2024-01-02T25:00:00Z",
            "2024-01-02T10:00:00.Z",
            "5x",
            "now-99999999999999999999d",
            "now+9999999y",
        ] {
            let err = parse(bad, NOW, false).unwrap_err();
            assert!(err.contains(&format!("{bad:?}")), "{bad:?}: {err}");
        }
    }

    #[test]
    fn parse_range_checks_both_ends_and_their_order() {
        assert_eq!(
            parse_range("now-6h", "now", NOW),
            Ok(TimeRange {
                from_ms: NOW - 6 * 3_600_000,
                to_ms: NOW
            })
        );
        assert_eq!(
            parse_range("now/d", "now/d", NOW),
            Ok(TimeRange {
                from_ms: from("2020-03-26T00:00:00Z", 0),
                to_ms: from("2020-03-26T23:59:59.999Z", 0)
            })
        );
        let err = parse_range("now", "now-1h", NOW).unwrap_err();
        assert!(
            err.contains("\"now\"") && err.contains("\"now-1h\""),
            "{err}"
        );
        let err = parse_range("soon", "now", NOW).unwrap_err();
        assert!(
            err.starts_with("from: ") && err.contains("\"soon\""),
            "{err}"
        );
        let err = parse_range("now", "later", NOW).unwrap_err();
        assert!(
            err.starts_with("to: ") && err.contains("\"later\""),
            "{err}"
        );
    }

    #[test]
    fn json_values_may_be_numbers_or_strings() {
        let options = ParseOptions::new(NOW);
        let json = |v| parse_json(&v, false, &options);
        assert_eq!(
            json(serde_json::json!(1_700_000_000_000_i64)),
            Ok(1_700_000_000_000)
        );
        assert_eq!(
            json(serde_json::json!("1700000000000")),
            Ok(1_700_000_000_000)
        );
        assert_eq!(json(serde_json::json!("now-1m")), Ok(NOW - 60_000));
        assert!(json(serde_json::json!(null)).is_err());
        assert!(json(serde_json::json!(true)).is_err());
    }

    #[test]
    fn relative_values_are_recognised() {
        for text in ["now", "now-6h", "now/d", "6h", " now "] {
            assert!(is_relative(text), "{text}");
        }
        for text in ["1700000000000", "2024-01-02", "0", "asdf"] {
            assert!(!is_relative(text), "{text}");
        }
    }
}
