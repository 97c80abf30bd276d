//! Grafana's template-variable interpolation: `$var`, `${var}`, `${var:format}`, `[[var]]` and
//! `[[var:format]]` replaced by the variable's value in one of Grafana's formats.
//!
//! The rules are those of Grafana's dashboards (the scenes interpolator and its format registry):
//! - a name that is not in the map is left as written, so built-ins such as `$__interval`,
//!   `$__rate_interval` or `$__range` survive for the sources to replace later;
//! - `${var.fieldPath}` is accepted and the field path ignored, as Grafana does for dashboard
//!   variables;
//! - an unknown format falls back to `glob`;
//! - a variable set to All expands to all its options' values, unless it has a custom all value:
//!   that is inserted as written (only `text`, `percentencode` and `queryparam` change it), and
//!   variables inside it are interpolated in turn;
//! - with no format, the datasource decides ([`DefaultFormat`]): `glob` in general, Prometheus'
//!   and InfluxQL's regex escaping for multi-value and All variables.
//!
//! The `date` format knows `ms`, `seconds`, `iso` and the common moment.js tokens (`YYYY`, `MM`,
//! `DD`, `HH`, `mm`, `ss`, `SSS`, `X`, `x`, `Z`, ...), always in UTC.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::{Captures, Regex};
use time::OffsetDateTime;

use crate::model::TimeRange;

/// Variables by name.
pub type Variables = BTreeMap<String, VariableValue>;

/// The text Grafana shows for All.
pub const ALL_TEXT: &str = "All";
/// The value Grafana stores (and puts in URLs) for All.
pub const ALL_VALUE: &str = "$__all";

/// How deep a custom all value may name variables whose values name variables.
const MAX_DEPTH: usize = 5;

/// One value, or a list of them (a multi-value variable's value is a list even with one item).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Single(String),
    Multi(Vec<String>),
}

impl Value {
    fn items(&self) -> &[String] {
        match self {
            Value::Single(s) => std::slice::from_ref(s),
            Value::Multi(items) => items,
        }
    }

    fn join(&self, separator: &str) -> String {
        self.items().join(separator)
    }
}

/// A variable's current state, as far as interpolation needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariableValue {
    /// The value(s) to insert; for All without a custom all value, every option's value.
    pub value: Value,
    /// The display text(s), used by the `text` format; `None` means the same as `value`.
    pub text: Option<Value>,
    /// The variable allows several values (Prometheus and InfluxQL escape such values).
    pub multi: bool,
    /// The variable offers All (Prometheus and InfluxQL escape such values too).
    pub include_all: bool,
    /// The current selection is All.
    pub is_all: bool,
    /// The variable's custom all value, inserted as written when All is selected.
    pub custom_all_value: Option<String>,
}

impl VariableValue {
    /// A single-value variable without All.
    pub fn single(value: impl Into<String>) -> Self {
        VariableValue {
            value: Value::Single(value.into()),
            text: None,
            multi: false,
            include_all: false,
            is_all: false,
            custom_all_value: None,
        }
    }

    /// A multi-value variable with these values selected.
    pub fn multi<S: Into<String>>(values: impl IntoIterator<Item = S>) -> Self {
        VariableValue {
            value: Value::Multi(values.into_iter().map(Into::into).collect()),
            multi: true,
            ..VariableValue::single("")
        }
    }

    /// A variable set to All: `options` are all its options' values; `custom_all_value` is the
    /// variable's `allValue`, if set.
    pub fn all<S: Into<String>>(
        options: impl IntoIterator<Item = S>,
        custom_all_value: Option<&str>,
    ) -> Self {
        VariableValue {
            include_all: true,
            is_all: true,
            custom_all_value: custom_all_value.map(str::to_string),
            ..VariableValue::multi(options)
        }
    }

    /// Sets the display text(s).
    pub fn with_text(mut self, text: Value) -> Self {
        self.text = Some(text);
        self
    }

    /// Marks the variable as offering All (it changes how Prometheus and InfluxQL escape).
    pub fn with_include_all(mut self) -> Self {
        self.include_all = true;
        self
    }
}

/// The format used when a reference names none: each datasource picks its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DefaultFormat {
    /// Grafana's generic default: the `glob` format (`{a,b}` for several values).
    #[default]
    Glob,
    /// The `regex` format for every variable (InfluxDB in Grafana's backend mode).
    Regex,
    /// Prometheus: a single-value variable is escaped for a PromQL string (`\` and `'`); a
    /// multi-value or All variable is regex-escaped for a PromQL string and joined as `(a|b)`.
    Prometheus,
    /// InfluxQL: a single-value variable is inserted as is; a multi-value or All variable is
    /// regex-escaped and joined as `(a|b)`, even when only one value is selected.
    InfluxQl,
}

/// A named format, as written after the colon in `${var:format}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// `a,b`
    Csv,
    /// `a,name=b,name=c`
    Distributed,
    /// `"a","b"`, with `"` escaped as `\"`
    DoubleQuote,
    /// `{a,b}`, or the value alone
    Glob,
    /// HTML-escaped values joined with `, `
    Html,
    /// A JSON array of several values; a single value as is
    Json,
    /// Lucene-escaped; several values as `("a" OR "b")`
    Lucene,
    /// Percent-encoded (RFC 3986 unreserved kept); several values as an encoded `{a,b}`
    PercentEncode,
    /// `a|b`
    Pipe,
    /// `var-name=a&var-name=b`, All as `var-name=$__all`
    QueryParam,
    /// As is; several values joined with `,`
    Raw,
    /// Regex-escaped; several values as `(a|b)`
    Regex,
    /// `'a','b'`, with `'` escaped as `\'`
    SingleQuote,
    /// `'a','b'`, with `'` doubled and `"` escaped as `\"`
    SqlString,
    /// The display text; several joined with ` + `; All as `All`
    Text,
    /// Encoded as a URI (reserved characters kept)
    UriEncode,
    /// Values joined with the separator (`${var:join:;}`; `,` by default)
    Join(String),
    /// A timestamp in ms formatted as `ms`, `seconds`, `iso` or a moment.js pattern
    Date(String),
    /// `name=prefix<value>&...` (`${var:customqueryparam:name:prefix}`)
    CustomQueryParam {
        name: Option<String>,
        prefix: String,
    },
}

impl Format {
    /// Parses `id` or `id:arg:...`; `None` for an unknown id (Grafana then uses `glob`).
    pub fn parse(spec: &str) -> Option<Format> {
        let mut parts = spec.split(':');
        let id = parts.next().unwrap_or_default();
        let args: Vec<&str> = parts.collect();
        Some(match id {
            "csv" => Format::Csv,
            "distributed" => Format::Distributed,
            "doublequote" => Format::DoubleQuote,
            "glob" => Format::Glob,
            "html" => Format::Html,
            "json" => Format::Json,
            "lucene" => Format::Lucene,
            "percentencode" => Format::PercentEncode,
            "pipe" => Format::Pipe,
            "queryparam" => Format::QueryParam,
            "raw" => Format::Raw,
            "regex" => Format::Regex,
            "singlequote" => Format::SingleQuote,
            "sqlstring" => Format::SqlString,
            "text" => Format::Text,
            "uriencode" => Format::UriEncode,
            "join" => Format::Join(args.first().unwrap_or(&",").to_string()),
            "date" => Format::Date(if args.is_empty() {
                "iso".into()
            } else {
                args.join(":")
            }),
            "customqueryparam" => Format::CustomQueryParam {
                name: args
                    .first()
                    .filter(|s| !s.is_empty())
                    .map(|s| s.to_string()),
                prefix: args.get(1).unwrap_or(&"").to_string(),
            },
            _ => return None,
        })
    }

    /// Formats the variable `name`'s value.
    pub fn apply(&self, name: &str, var: &VariableValue) -> String {
        let value = &var.value;
        match self {
            Format::Csv | Format::Raw => value.join(","),
            Format::Pipe => value.join("|"),
            Format::Distributed => distributed(name, value),
            Format::DoubleQuote => quote_each(value, '"', r#"\""#),
            Format::SingleQuote => quote_each(value, '\'', r"\'"),
            Format::SqlString => sql_string(value),
            Format::Glob => glob(value),
            Format::Html => escape_html(&value.join(", ")),
            Format::Json => match value {
                Value::Single(s) => s.clone(),
                Value::Multi(items) => serde_json::to_string(items).unwrap_or_default(),
            },
            Format::Lucene => lucene(value),
            Format::PercentEncode => encode(&glob_braces(value), is_unreserved),
            Format::UriEncode => encode(&glob_braces(value), is_uri_kept),
            Format::Regex => regex_format(value),
            Format::Text => text(var),
            Format::QueryParam => query_param(name, var),
            Format::Join(separator) => value.join(separator),
            Format::Date(arg) => date(value, arg),
            Format::CustomQueryParam { name: key, prefix } => {
                let key = encode(key.as_deref().unwrap_or(name), is_unreserved);
                let prefix = encode(prefix, is_unreserved);
                let pairs: Vec<String> = value
                    .items()
                    .iter()
                    .map(|v| format!("{key}={prefix}{}", encode(v, is_unreserved)))
                    .collect();
                pairs.join("&")
            }
        }
    }
}

impl DefaultFormat {
    fn apply(self, name: &str, var: &VariableValue) -> String {
        match self {
            DefaultFormat::Glob => Format::Glob.apply(name, var),
            DefaultFormat::Regex => Format::Regex.apply(name, var),
            DefaultFormat::Prometheus => prometheus(var),
            DefaultFormat::InfluxQl => influxql(var),
        }
    }
}

/// Grafana's variable syntax: `$name`, `[[name]]`/`[[name:format]]`, `${name}`,
/// `${name.fieldPath}`, `${name:format}`, `${name.fieldPath:format}`; names are ASCII word
/// characters.
static VARIABLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"\$([A-Za-z0-9_]+)",
        r"|\[\[([A-Za-z0-9_]+?)(?::([A-Za-z0-9_]+))?\]\]",
        r"|\$\{([A-Za-z0-9_]+)(?:\.([^:^}]+))?(?::([^}]+))?\}",
    ))
    .expect("the variable syntax is a valid regex")
});

/// Replaces every reference to a known variable in `text`; see the module documentation.
pub fn interpolate(text: &str, vars: &Variables, default_format: DefaultFormat) -> String {
    interpolate_at(text, vars, default_format, 0)
}

/// True when `text` refers to a variable by any of the syntaxes, known or not.
pub fn contains_variable(text: &str) -> bool {
    VARIABLE.is_match(text)
}

/// `__from` and `__to` as variables (epoch ms), so `${__from:date:iso}` and friends work.
pub fn builtin_time_vars(range: TimeRange) -> Variables {
    Variables::from([
        (
            "__from".to_string(),
            VariableValue::single(range.from_ms.to_string()),
        ),
        (
            "__to".to_string(),
            VariableValue::single(range.to_ms.to_string()),
        ),
    ])
}

fn interpolate_at(
    text: &str,
    vars: &Variables,
    default_format: DefaultFormat,
    depth: usize,
) -> String {
    VARIABLE
        .replace_all(text, |caps: &Captures| {
            let name = [1, 2, 4]
                .iter()
                .find_map(|&i| caps.get(i))
                .map_or("", |m| m.as_str());
            let format = caps.get(3).or_else(|| caps.get(6)).map(|m| m.as_str());
            match vars.get(name) {
                Some(var) => format_variable(name, var, format, default_format, vars, depth),
                None => caps[0].to_string(),
            }
        })
        .into_owned()
}

fn format_variable(
    name: &str,
    var: &VariableValue,
    format: Option<&str>,
    default_format: DefaultFormat,
    vars: &Variables,
    depth: usize,
) -> String {
    if let (true, Some(custom)) = (var.is_all, &var.custom_all_value) {
        let raw = match format {
            Some("text") => ALL_TEXT.to_string(),
            Some("percentencode") => encode(custom, is_unreserved),
            Some("queryparam") => Format::QueryParam.apply(name, var),
            _ => custom.clone(),
        };
        // Grafana interpolates a custom all value again (with the generic default format).
        return if depth < MAX_DEPTH {
            interpolate_at(&raw, vars, DefaultFormat::Glob, depth + 1)
        } else {
            raw
        };
    }
    match format {
        Some(spec) => Format::parse(spec).unwrap_or(Format::Glob).apply(name, var),
        None => default_format.apply(name, var),
    }
}

fn glob(value: &Value) -> String {
    match value.items() {
        [_, _, ..] => glob_braces(value),
        _ => value.join(","),
    }
}

/// `{a,b}` for a list (whatever its length), the value alone otherwise.
fn glob_braces(value: &Value) -> String {
    match value {
        Value::Single(s) => s.clone(),
        Value::Multi(items) => format!("{{{}}}", items.join(",")),
    }
}

fn distributed(name: &str, value: &Value) -> String {
    let parts: Vec<String> = value
        .items()
        .iter()
        .enumerate()
        .map(|(i, v)| {
            if i == 0 {
                v.clone()
            } else {
                format!("{name}={v}")
            }
        })
        .collect();
    parts.join(",")
}

fn quote_each(value: &Value, quote: char, escaped: &str) -> String {
    let quoted: Vec<String> = value
        .items()
        .iter()
        .map(|v| format!("{quote}{}{quote}", v.replace(quote, escaped)))
        .collect();
    quoted.join(",")
}

fn sql_string(value: &Value) -> String {
    let quoted: Vec<String> = value
        .items()
        .iter()
        .map(|v| format!("'{}'", v.replace('\'', "''").replace('"', r#"\""#)))
        .collect();
    quoted.join(",")
}

fn regex_format(value: &Value) -> String {
    match value {
        Value::Single(s) => escape_regex(s),
        Value::Multi(items) if items.len() == 1 => escape_regex(&items[0]),
        Value::Multi(items) => regex_group(items.iter().map(|v| escape_regex(v))),
    }
}

fn regex_group(items: impl Iterator<Item = String>) -> String {
    format!("({})", items.collect::<Vec<_>>().join("|"))
}

/// Grafana's `escapeRegex`: a backslash before each of `\ ^ $ * + ? . ( ) | [ ] { } /`.
pub fn escape_regex(s: &str) -> String {
    escape_chars(s, |c| r"\^$*+?.()|[]{}/".contains(c), r"\")
}

fn escape_chars(s: &str, special: impl Fn(char) -> bool, prefix: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if special(c) {
            out.push_str(prefix);
        }
        out.push(c);
    }
    out
}

fn lucene(value: &Value) -> String {
    match value {
        Value::Single(s) => lucene_escape(s),
        Value::Multi(items) if items.is_empty() => "__empty__".into(),
        Value::Multi(items) => {
            let quoted: Vec<String> = items
                .iter()
                .map(|v| format!("\"{}\"", lucene_escape(v)))
                .collect();
            format!("({})", quoted.join(" OR "))
        }
    }
}

/// Grafana's lucene escaping: numbers stay as they are; otherwise a backslash before Lucene's
/// special characters and whitespace.
fn lucene_escape(s: &str) -> String {
    if is_js_number(s) {
        return s.to_string();
    }
    escape_chars(
        s,
        |c| r#"!*+-=<>&|()[]{}^~?:\/""#.contains(c) || is_js_whitespace(c),
        r"\",
    )
}

/// JavaScript's `\s`.
fn is_js_whitespace(c: char) -> bool {
    (c.is_whitespace() && c != '\u{85}') || c == '\u{feff}'
}

/// True when JavaScript's `+s` is a number (not NaN): blank, decimal, `Infinity`, or
/// `0x`/`0o`/`0b` integers.
fn is_js_number(s: &str) -> bool {
    let t = s.trim_matches(is_js_whitespace);
    if t.is_empty() {
        return true;
    }
    let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
    if unsigned == "Infinity" {
        return true;
    }
    let radix = match t.get(..2).map(str::to_ascii_lowercase).as_deref() {
        Some("0x") => 16,
        Some("0o") => 8,
        Some("0b") => 2,
        _ => 10,
    };
    if radix != 10 {
        let digits = &t[2..];
        return !digits.is_empty() && digits.chars().all(|c| c.is_digit(radix));
    }
    t.chars().all(|c| c.is_ascii_digit() || "+-.eE".contains(c)) && t.parse::<f64>().is_ok()
}

/// Prometheus' default: see [`DefaultFormat::Prometheus`].
fn prometheus(var: &VariableValue) -> String {
    if !var.multi && !var.include_all {
        return match &var.value {
            Value::Single(s) => s.replace('\\', r"\\").replace('\'', r"\\'"),
            Value::Multi(items) => items.join(","),
        };
    }
    match &var.value {
        Value::Single(s) => prometheus_regex_escape(s),
        Value::Multi(items) if items.len() == 1 => prometheus_regex_escape(&items[0]),
        Value::Multi(items) => regex_group(items.iter().map(|v| prometheus_regex_escape(v))),
    }
}

/// Grafana's `prometheusSpecialRegexEscape`: a value inside a PromQL string inside a regex, so
/// `\` becomes `\\\\` and each of `$ ^ * { } [ ] + ? . ( ) |` gets `\\` before it.
fn prometheus_regex_escape(s: &str) -> String {
    escape_chars(
        &s.replace('\\', r"\\\\"),
        |c| "$^*{}[]+?.()|".contains(c),
        r"\\",
    )
}

/// InfluxQL's default: see [`DefaultFormat::InfluxQl`].
fn influxql(var: &VariableValue) -> String {
    if !var.multi && !var.include_all {
        return var.value.join(",");
    }
    match &var.value {
        Value::Single(s) => escape_regex(s),
        Value::Multi(items) => regex_group(items.iter().map(|v| escape_regex(v))),
    }
}

fn text(var: &VariableValue) -> String {
    if var.is_all {
        return ALL_TEXT.into();
    }
    var.text.as_ref().unwrap_or(&var.value).join(" + ")
}

/// Grafana writes the variable's URL state: each value (or `$__all`) as `var-name=value`, encoded
/// as its URLs are (`@ : $ , ;` kept, spaces as `%20`).
fn query_param(name: &str, var: &VariableValue) -> String {
    let key = encode(&format!("var-{name}"), is_url_param_kept);
    let all = [ALL_VALUE.to_string()];
    let values = if var.is_all {
        &all[..]
    } else {
        var.value.items()
    };
    let pairs: Vec<String> = values
        .iter()
        .map(|v| format!("{key}={}", encode(v, is_url_param_kept)))
        .collect();
    pairs.join("&")
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\'', "&#39;")
        .replace('"', "&quot;")
}

/// Percent-encodes the UTF-8 bytes of every character `keep` rejects, in upper-case hex.
fn encode(s: &str, keep: fn(char) -> bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if keep(c) {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

/// RFC 3986 unreserved characters (Grafana's strict `encodeURIComponent`).
fn is_unreserved(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-_.~".contains(c)
}

/// What Grafana's strict `encodeURI` keeps: unreserved and reserved URI characters.
fn is_uri_kept(c: char) -> bool {
    is_unreserved(c) || ";,/?:@&=+$#".contains(c)
}

/// What Grafana's URL state encoding keeps (`encodeURIComponent` plus `@ : $ , ;`).
fn is_url_param_kept(c: char) -> bool {
    is_unreserved(c) || "!*'()@:$,;".contains(c)
}

/// The `date` format: the value is epoch ms (JavaScript's `parseInt`, so `12abc` is 12).
fn date(value: &Value, arg: &str) -> String {
    let Value::Single(s) = value else {
        return "NaN".into();
    };
    let Some(ms) = js_parse_int(s) else {
        return "NaN".into();
    };
    match arg {
        "ms" => s.clone(),
        "seconds" => ((ms as f64 / 1000.0) + 0.5).floor().to_string(),
        _ => {
            let Ok(t) = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
            else {
                return "Invalid date".into();
            };
            match arg {
                "" | "iso" => format_moment(t, "YYYY-MM-DD[T]HH:mm:ss.SSS[Z]"),
                pattern => format_moment(t, pattern),
            }
        }
    }
}

fn js_parse_int(s: &str) -> Option<i64> {
    let t = s.trim_start_matches(is_js_whitespace);
    let (sign, digits) = match t.as_bytes().first() {
        Some(b'-') => (-1, &t[1..]),
        Some(b'+') => (1, &t[1..]),
        _ => (1, t),
    };
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end].parse::<i64>().ok().map(|n| sign * n)
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const WEEKDAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// Formats `t` with a moment.js pattern: `[text]` is literal, the tokens below are replaced, and
/// any other character is kept.
fn format_moment(t: OffsetDateTime, pattern: &str) -> String {
    const TOKENS: [&str; 30] = [
        "YYYY", "MMMM", "dddd", "MMM", "ddd", "SSS", "YY", "MM", "DD", "HH", "hh", "mm", "ss",
        "SS", "ZZ", "M", "D", "d", "H", "h", "m", "s", "S", "A", "a", "X", "x", "Z", "Q", "E",
    ];
    let hour12 = match t.hour() % 12 {
        0 => 12,
        h => h,
    };
    let month = t.month() as usize;
    let weekday = t.weekday().number_days_from_sunday() as usize;
    let ms = t.millisecond();
    let mut out = String::new();
    let mut rest = pattern;
    while let Some(c) = rest.chars().next() {
        if c == '[' {
            if let Some(end) = rest.find(']') {
                out.push_str(&rest[1..end]);
                rest = &rest[end + 1..];
                continue;
            }
        }
        let Some(token) = TOKENS.iter().find(|tok| rest.starts_with(**tok)) else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
            continue;
        };
        let piece = match *token {
            "YYYY" => format!("{:04}", t.year()),
            "YY" => format!("{:02}", t.year().rem_euclid(100)),
            "Q" => ((month - 1) / 3 + 1).to_string(),
            "MMMM" => MONTHS[month - 1].to_string(),
            "MMM" => MONTHS[month - 1][..3].to_string(),
            "MM" => format!("{month:02}"),
            "M" => month.to_string(),
            "DD" => format!("{:02}", t.day()),
            "D" => t.day().to_string(),
            "dddd" => WEEKDAYS[weekday].to_string(),
            "ddd" => WEEKDAYS[weekday][..3].to_string(),
            "d" => weekday.to_string(),
            "E" => t.weekday().number_from_monday().to_string(),
            "HH" => format!("{:02}", t.hour()),
            "H" => t.hour().to_string(),
            "hh" => format!("{hour12:02}"),
            "h" => hour12.to_string(),
            "mm" => format!("{:02}", t.minute()),
            "m" => t.minute().to_string(),
            "ss" => format!("{:02}", t.second()),
            "s" => t.second().to_string(),
            "SSS" => format!("{ms:03}"),
            "SS" => format!("{:02}", ms / 10),
            "S" => (ms / 100).to_string(),
            "A" => if t.hour() < 12 { "AM" } else { "PM" }.to_string(),
            "a" => if t.hour() < 12 { "am" } else { "pm" }.to_string(),
            "X" => t.unix_timestamp().to_string(),
            "x" => (t.unix_timestamp_nanos() / 1_000_000).to_string(),
            "ZZ" => "+0000".to_string(),
            _ => "+00:00".to_string(),
        };
        out.push_str(&piece);
        rest = &rest[token.len()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(entries: &[(&str, VariableValue)]) -> Variables {
        entries
            .iter()
            .map(|(name, var)| (name.to_string(), var.clone()))
            .collect()
    }

    /// `${v:spec}` with `v` set to `var`.
    fn fmt(spec: &str, var: &VariableValue) -> String {
        interpolate(
            &format!("${{v:{spec}}}"),
            &vars(&[("v", var.clone())]),
            DefaultFormat::Glob,
        )
    }

    fn one() -> VariableValue {
        VariableValue::single("web-01.example.com")
    }

    fn two() -> VariableValue {
        VariableValue::multi(["web-01", "db.2"])
    }

    fn all() -> VariableValue {
        VariableValue::all(["a", "b", "c"], None)
    }

    fn custom_all() -> VariableValue {
        VariableValue::all(["a", "b"], Some(".*"))
    }

    /// Each row: format, then the expected text for one value, two values, All, and All with the
    /// custom all value `.*`.
    #[test]
    fn every_format_with_single_multi_and_all_values() {
        let rows: &[(&str, [&str; 4])] = &[
            ("csv", ["web-01.example.com", "web-01,db.2", "a,b,c", ".*"]),
            ("raw", ["web-01.example.com", "web-01,db.2", "a,b,c", ".*"]),
            ("pipe", ["web-01.example.com", "web-01|db.2", "a|b|c", ".*"]),
            (
                "regex",
                [r"web-01\.example\.com", r"(web-01|db\.2)", "(a|b|c)", ".*"],
            ),
            (
                "glob",
                ["web-01.example.com", "{web-01,db.2}", "{a,b,c}", ".*"],
            ),
            (
                "json",
                [
                    "web-01.example.com",
                    r#"["web-01","db.2"]"#,
                    r#"["a","b","c"]"#,
                    ".*",
                ],
            ),
            (
                "queryparam",
                [
                    "var-v=web-01.example.com",
                    "var-v=web-01&var-v=db.2",
                    "var-v=$__all",
                    "var-v=$__all",
                ],
            ),
            (
                "text",
                ["web-01.example.com", "web-01 + db.2", "All", "All"],
            ),
            (
                "doublequote",
                [
                    r#""web-01.example.com""#,
                    r#""web-01","db.2""#,
                    r#""a","b","c""#,
                    ".*",
                ],
            ),
            (
                "singlequote",
                [
                    "'web-01.example.com'",
                    "'web-01','db.2'",
                    "'a','b','c'",
                    ".*",
                ],
            ),
            (
                "sqlstring",
                [
                    "'web-01.example.com'",
                    "'web-01','db.2'",
                    "'a','b','c'",
                    ".*",
                ],
            ),
            (
                "percentencode",
                [
                    "web-01.example.com",
                    "%7Bweb-01%2Cdb.2%7D",
                    "%7Ba%2Cb%2Cc%7D",
                    ".%2A",
                ],
            ),
            (
                "uriencode",
                [
                    "web-01.example.com",
                    "%7Bweb-01,db.2%7D",
                    "%7Ba,b,c%7D",
                    ".*",
                ],
            ),
            (
                "lucene",
                [
                    r"web\-01.example.com",
                    r#"("web\-01" OR "db.2")"#,
                    r#"("a" OR "b" OR "c")"#,
                    ".*",
                ],
            ),
            (
                "distributed",
                ["web-01.example.com", "web-01,v=db.2", "a,v=b,v=c", ".*"],
            ),
            (
                "html",
                ["web-01.example.com", "web-01, db.2", "a, b, c", ".*"],
            ),
            (
                "join:;",
                ["web-01.example.com", "web-01;db.2", "a;b;c", ".*"],
            ),
            ("join", ["web-01.example.com", "web-01,db.2", "a,b,c", ".*"]),
            (
                "customqueryparam",
                [
                    "v=web-01.example.com",
                    "v=web-01&v=db.2",
                    "v=a&v=b&v=c",
                    ".*",
                ],
            ),
            (
                "customqueryparam:p-foo:x-",
                [
                    "p-foo=x-web-01.example.com",
                    "p-foo=x-web-01&p-foo=x-db.2",
                    "p-foo=x-a&p-foo=x-b&p-foo=x-c",
                    ".*",
                ],
            ),
            // Unknown formats (ids are case-sensitive) fall back to glob.
            (
                "nope",
                ["web-01.example.com", "{web-01,db.2}", "{a,b,c}", ".*"],
            ),
            (
                "CSV",
                ["web-01.example.com", "{web-01,db.2}", "{a,b,c}", ".*"],
            ),
        ];
        for (spec, [want_one, want_two, want_all, want_custom]) in rows {
            assert_eq!(fmt(spec, &one()), *want_one, "{spec} with one value");
            assert_eq!(fmt(spec, &two()), *want_two, "{spec} with two values");
            assert_eq!(fmt(spec, &all()), *want_all, "{spec} with All");
            assert_eq!(
                fmt(spec, &custom_all()),
                *want_custom,
                "{spec} with a custom All"
            );
        }
    }

    #[test]
    fn formats_escape_their_special_characters() {
        let single = VariableValue::single;
        let cases = [
            (
                "regex",
                single(r"a\b^$*+?.()|[]{}/c"),
                r"a\\b\^\$\*\+\?\.\(\)\|\[\]\{\}\/c",
            ),
            ("doublequote", single(r#"say "hi""#), r#""say \"hi\"""#),
            ("singlequote", single("it's"), r"'it\'s'"),
            ("sqlstring", single(r#"it's "x""#), r#"'it''s \"x\"'"#),
            (
                "percentencode",
                single("a b&c/é!'()*~"),
                "a%20b%26c%2F%C3%A9%21%27%28%29%2A~",
            ),
            ("uriencode", single("a b/c?d=e#f&g!"), "a%20b/c?d=e#f&g%21"),
            (
                "queryparam",
                single("a b/c:d,e@f;$"),
                "var-v=a%20b%2Fc:d,e@f;$",
            ),
            (
                "lucene",
                single(r#"a b:c!"d"/e\f"#),
                r#"a\ b\:c\!\"d\"\/e\\f"#,
            ),
            ("lucene", single("42"), "42"),
            ("lucene", single("-1.5e3"), "-1.5e3"),
            ("lucene", single("0x1F"), "0x1F"),
            ("lucene", single("1-2"), r"1\-2"),
            ("html", single(r#"<b>&"'"#), "&lt;b&gt;&amp;&quot;&#39;"),
            (
                "json",
                VariableValue::multi([r#"a"b"#, "c\\d"]),
                r#"["a\"b","c\\d"]"#,
            ),
            (
                "lucene",
                VariableValue::multi(Vec::<String>::new()),
                "__empty__",
            ),
            ("glob", VariableValue::multi(["only"]), "only"),
            ("regex", VariableValue::multi(["x.y"]), r"x\.y"),
            ("regex", VariableValue::multi(Vec::<String>::new()), "()"),
        ];
        for (spec, var, want) in cases {
            assert_eq!(fmt(spec, &var), want, "{spec} of {:?}", var.value);
        }
    }

    #[test]
    fn text_uses_the_display_text() {
        let single = VariableValue::single("w1").with_text(Value::Single("Web one".into()));
        assert_eq!(fmt("text", &single), "Web one");
        assert_eq!(fmt("csv", &single), "w1");
        let multi = VariableValue::multi(["w1", "d2"])
            .with_text(Value::Multi(vec!["Web one".into(), "DB two".into()]));
        assert_eq!(fmt("text", &multi), "Web one + DB two");
    }

    #[test]
    fn date_formats_a_timestamp() {
        let range = TimeRange {
            from_ms: 1_700_000_000_123,
            to_ms: 1_700_000_000_500,
        };
        let time_vars = builtin_time_vars(range);
        let run = |text: &str| interpolate(text, &time_vars, DefaultFormat::Glob);
        assert_eq!(run("$__from"), "1700000000123");
        assert_eq!(run("${__to}"), "1700000000500");
        assert_eq!(run("${__from:date}"), "2023-11-14T22:13:20.123Z");
        assert_eq!(run("${__from:date:iso}"), "2023-11-14T22:13:20.123Z");
        assert_eq!(run("${__from:date:ms}"), "1700000000123");
        assert_eq!(run("${__from:date:seconds}"), "1700000000");
        assert_eq!(run("${__to:date:seconds}"), "1700000001");
        assert_eq!(
            run("${__from:date:YYYY-MM-DD HH:mm:ss}"),
            "2023-11-14 22:13:20"
        );
        assert_eq!(
            run("${__from:date:ddd, D MMM YY h:mm A [at] x}"),
            "Tue, 14 Nov 23 10:13 PM at 1700000000123"
        );
        assert_eq!(run("${__from:date:X Z ZZ Q}"), "1700000000 +00:00 +0000 4");
        let word = vars(&[("v", VariableValue::single("soon"))]);
        assert_eq!(interpolate("${v:date}", &word, DefaultFormat::Glob), "NaN");
        assert_eq!(fmt("date:ms", &two()), "NaN");
    }

    #[test]
    fn every_syntax_is_recognised() {
        let v = vars(&[("host", two()), ("x", VariableValue::single("1"))]);
        let cases = [
            ("$host", "{web-01,db.2}"),
            ("${host}", "{web-01,db.2}"),
            ("[[host]]", "{web-01,db.2}"),
            ("[[host:csv]]", "web-01,db.2"),
            ("${host:csv}", "web-01,db.2"),
            ("${host.field}", "{web-01,db.2}"),
            ("${host.field:pipe}", "web-01|db.2"),
            ("a$x$x-b", "a11-b"),
            ("$xé", "1é"),
            ("$xy ${xy} [[xy]]", "$xy ${xy} [[xy]]"),
            ("$ ${ [[x $", "$ ${ [[x $"),
            ("cost: $5", "cost: $5"),
        ];
        for (text, want) in cases {
            assert_eq!(interpolate(text, &v, DefaultFormat::Glob), want, "{text}");
        }
    }

    #[test]
    fn builtins_stay_for_the_sources_unless_given() {
        let v = vars(&[("job", VariableValue::single("node"))]);
        let text =
            r#"rate(x{job="$job"}[$__rate_interval]) / $__interval ${__range_s} [[__interval_ms]]"#;
        assert_eq!(
            interpolate(text, &v, DefaultFormat::Prometheus),
            r#"rate(x{job="node"}[$__rate_interval]) / $__interval ${__range_s} [[__interval_ms]]"#
        );
        let given = vars(&[("__interval", VariableValue::single("1m"))]);
        assert_eq!(
            interpolate("$__interval", &given, DefaultFormat::Glob),
            "1m"
        );
        assert!(contains_variable("$__interval"));
        assert!(!contains_variable("no variables"));
    }

    #[test]
    fn prometheus_escapes_for_promql_strings_and_regexes() {
        let run =
            |var: VariableValue| interpolate("$v", &vars(&[("v", var)]), DefaultFormat::Prometheus);
        // A single-value variable without All: only \ and ' are escaped.
        assert_eq!(run(VariableValue::single(r"a\b'c.d")), r"a\\b\\'c.d");
        // Multi-value or All: regex metacharacters too, written for a PromQL string.
        assert_eq!(run(VariableValue::multi(["a.b", "c|d"])), r"(a\\.b|c\\|d)");
        assert_eq!(run(VariableValue::multi(["a.b"])), r"a\\.b");
        assert_eq!(run(VariableValue::multi([r"a\b"])), r"a\\\\b");
        assert_eq!(run(VariableValue::multi(["it's"])), "it's");
        assert_eq!(
            run(VariableValue::single("a.b").with_include_all()),
            r"a\\.b"
        );
        assert_eq!(run(all()), "(a|b|c)");
        assert_eq!(run(custom_all()), ".*");
        // An explicit format wins over the datasource's default.
        let explicit = interpolate(
            "${v:regex}",
            &vars(&[("v", two())]),
            DefaultFormat::Prometheus,
        );
        assert_eq!(explicit, r"(web-01|db\.2)");
    }

    #[test]
    fn influxql_escapes_multi_values_as_regex() {
        let run =
            |var: VariableValue| interpolate("$v", &vars(&[("v", var)]), DefaultFormat::InfluxQl);
        assert_eq!(run(VariableValue::single("a.b")), "a.b");
        assert_eq!(run(VariableValue::multi(["a.b"])), r"(a\.b)");
        assert_eq!(run(two()), r"(web-01|db\.2)");
        assert_eq!(
            run(VariableValue::single("a.b").with_include_all()),
            r"a\.b"
        );
        assert_eq!(run(all()), "(a|b|c)");
        assert_eq!(run(custom_all()), ".*");
    }

    #[test]
    fn the_generic_defaults() {
        let glob = |var| interpolate("$v", &vars(&[("v", var)]), DefaultFormat::Glob);
        assert_eq!(glob(one()), "web-01.example.com");
        assert_eq!(glob(two()), "{web-01,db.2}");
        assert_eq!(glob(all()), "{a,b,c}");
        let regex = |var| interpolate("$v", &vars(&[("v", var)]), DefaultFormat::Regex);
        assert_eq!(regex(one()), r"web-01\.example\.com");
        assert_eq!(regex(two()), r"(web-01|db\.2)");
    }

    #[test]
    fn a_custom_all_value_may_name_other_variables() {
        let v = vars(&[
            ("v", VariableValue::all(["a"], Some("$other|x"))),
            ("other", VariableValue::multi(["p", "q"])),
            ("me", VariableValue::all(["a"], Some("[$me]"))),
        ]);
        assert_eq!(interpolate("$v", &v, DefaultFormat::Prometheus), "{p,q}|x");
        // A value naming itself stops after a few rounds instead of looping.
        let looped = interpolate("$me", &v, DefaultFormat::Glob);
        assert!(
            looped.starts_with("[[[[[") && looped.contains("$me"),
            "{looped}"
        );
    }

    #[test]
    fn formats_parse_with_their_arguments() {
        assert_eq!(Format::parse("csv"), Some(Format::Csv));
        assert_eq!(Format::parse("join:-"), Some(Format::Join("-".into())));
        assert_eq!(Format::parse("date"), Some(Format::Date("iso".into())));
        assert_eq!(
            Format::parse("date:HH:mm"),
            Some(Format::Date("HH:mm".into()))
        );
        assert_eq!(
            Format::parse("customqueryparam::p"),
            Some(Format::CustomQueryParam {
                name: None,
                prefix: "p".into()
            })
        );
        assert_eq!(Format::parse("Csv"), None);
    }
}
