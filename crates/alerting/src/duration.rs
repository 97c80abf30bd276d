//! Durations as Grafana writes them in alert rules: Prometheus' form (`5m`, `1h30m`, `1d`, `2w`,
//! `500ms`) and Go's `time.Duration` form (`5m0s`, `1.5h`, `90s`). Both are sequences of a number
//! and a unit; Go's allows fractions. `0` alone means zero.

use std::time::Duration;

/// Parses a duration; `None` when `text` is not one.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if text == "0" {
        return Some(Duration::ZERO);
    }
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut total_ns: u128 = 0;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
            i += 1;
        }
        let number = &text[start..i];
        if number.is_empty() || number.starts_with('.') || number.ends_with('.') {
            return None;
        }
        let unit_start = i;
        while i < bytes.len() && !(bytes[i].is_ascii_digit() || bytes[i] == b'.') {
            i += 1;
        }
        let unit_ns: u128 = match &text[unit_start..i] {
            "ns" => 1,
            "us" | "µs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "d" => 86_400_000_000_000,
            "w" => 604_800_000_000_000,
            "y" => 31_536_000_000_000_000,
            _ => return None,
        };
        let (whole, fraction) = match number.split_once('.') {
            Some((w, f)) => (w, f),
            None => (number, ""),
        };
        if fraction.contains('.') {
            return None;
        }
        let whole: u128 = whole.parse().ok()?;
        total_ns = total_ns.checked_add(whole.checked_mul(unit_ns)?)?;
        if !fraction.is_empty() {
            // Go accepts fractions; nine digits cover nanoseconds for every unit from seconds up.
            let digits = &fraction[..fraction.len().min(18)];
            let scale = 10u128.pow(digits.len() as u32);
            let frac: u128 = digits.parse().ok()?;
            total_ns = total_ns.checked_add(frac.checked_mul(unit_ns)? / scale)?;
        }
    }
    let secs = u64::try_from(total_ns / 1_000_000_000).ok()?;
    Some(Duration::new(secs, (total_ns % 1_000_000_000) as u32))
}

/// Writes a duration the way Prometheus does (`1h30m`, `5m`, `0s`), the form Grafana answers with.
pub fn format_duration(duration: Duration) -> String {
    let mut ms = duration.as_millis();
    if ms == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    for (unit, size) in [
        ("w", 604_800_000u128),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
    ] {
        if ms >= size {
            out.push_str(&format!("{}{unit}", ms / size));
            ms %= size;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_and_go_forms() {
        let s = Duration::from_secs;
        assert_eq!(parse_duration("5m"), Some(s(300)));
        assert_eq!(parse_duration("5m0s"), Some(s(300)));
        assert_eq!(parse_duration("1h30m"), Some(s(5400)));
        assert_eq!(parse_duration("1.5h"), Some(s(5400)));
        assert_eq!(parse_duration("1d"), Some(s(86_400)));
        assert_eq!(parse_duration("2w"), Some(s(1_209_600)));
        assert_eq!(parse_duration("0"), Some(Duration::ZERO));
        assert_eq!(parse_duration("0s"), Some(Duration::ZERO));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration(" 10s "), Some(s(10)));
    }

    #[test]
    fn rejects_what_is_not_a_duration() {
        for bad in [
            "",
            "5",
            "m",
            "5 minutes",
            "5x",
            "-5m",
            "1..5h",
            ".5h",
            "5.h",
            "1.2.3s",
            "abc",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad:?}");
        }
        assert_eq!(parse_duration("99999999999999999999999y"), None);
    }

    #[test]
    fn formats_like_prometheus() {
        assert_eq!(format_duration(Duration::ZERO), "0s");
        assert_eq!(format_duration(Duration::from_secs(5400)), "1h30m");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1s500ms");
        assert_eq!(format_duration(Duration::from_secs(86_400 + 60)), "1d1m");
    }
}
