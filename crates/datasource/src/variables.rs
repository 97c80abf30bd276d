//! Query variables: what a Prometheus variable query asks for, how Grafana turns the answers into
//! text (`query_result(...)` and series lines), and how a variable's options are filtered by its
//! regex, deduplicated and sorted. Pure functions; the source runs the requests.
//!
//! The rules are Grafana's (its Prometheus `metric_find_query`, variable query migration and the
//! scenes query-variable utilities). Two approximations, both in corners: the variable regex is
//! a JavaScript regex run by the `regex` crate (no look-around or backreferences; `\d`, `\w` and
//! `\b` are Unicode-aware), and natural sort approximates the browser's `Intl.Collator`
//! (numbers compared by value, letters case-insensitively, punctuation before digits before
//! letters).

use std::cmp::Ordering;
use std::collections::HashSet;
use std::sync::LazyLock;

use regex::{Captures, Regex, RegexBuilder};
use serde_json::Value;

/// A Prometheus variable query, after the dashboard's variables are interpolated into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrometheusVariableQuery {
    /// `label_names()`: every label name; `label_names(pattern)`: the label names of series whose
    /// metric name matches `.*pattern.*` (see [`label_names_selector`]).
    LabelNames { matching: Option<String> },
    /// `label_values(label)` or `label_values(selector, label)`: the label's values, of the series
    /// the selector picks when there is one.
    LabelValues {
        label: String,
        selector: Option<String>,
    },
    /// `metrics(pattern)`: metric names the (unanchored) regex matches; see
    /// [`filter_metric_names`].
    Metrics { pattern: String },
    /// `query_result(expr)`: an instant query whose results become text lines; see
    /// [`query_result_texts`].
    QueryResult { expr: String },
    /// Anything else is a series selector: the series it picks, as `name{label="value",...}`; see
    /// [`series_texts`].
    Series { selector: String },
}

/// `^label_names\((.*)\)\s*$` and friends, as Grafana matches them (`(?s)` so an expression may
/// span lines).
static LABEL_NAMES: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?s)^label_names\((.*)\)\s*$").expect("valid regex"));
static LABEL_VALUES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?s)^label_values\((?:(.+),\s*)?(.+)\)\s*$").expect("valid regex")
});
static METRICS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?s)^metrics\((.+)\)\s*$").expect("valid regex"));
static QUERY_RESULT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?s)^query_result\((.+)\)\s*$").expect("valid regex"));

/// Grafana's `PromVariableQueryType` numbers in the JSON form of a variable query.
const QUERY_TYPE_LABEL_NAMES: i64 = 0;
const QUERY_TYPE_LABEL_VALUES: i64 = 1;
const QUERY_TYPE_METRIC_NAMES: i64 = 2;
const QUERY_TYPE_QUERY_RESULT: i64 = 3;
const QUERY_TYPE_SERIES: i64 = 4;
const QUERY_TYPE_CLASSIC: i64 = 5;

impl PrometheusVariableQuery {
    /// Parses the text form (`label_values(up, job)`). An empty query, or an empty
    /// `label_values()`, `metrics()` or `query_result()` (for which Grafana shows no options), is
    /// an error naming the query.
    pub fn parse(query: &str) -> Result<Self, String> {
        let q = query.trim();
        if q.is_empty() {
            return Err("the variable query is empty".into());
        }
        if let Some(c) = LABEL_NAMES.captures(q) {
            let matching = c[1].trim();
            return Ok(PrometheusVariableQuery::LabelNames {
                matching: (!matching.is_empty()).then(|| matching.to_string()),
            });
        }
        if let Some(c) = LABEL_VALUES.captures(q) {
            let selector = c.get(1).map(|m| m.as_str().trim()).filter(|s| {
                // Grafana ignores a blank selector and the empty one, `{}`.
                let compact: String = s.chars().filter(|c| *c != ' ').collect();
                !compact.is_empty() && compact != "{}"
            });
            return Ok(PrometheusVariableQuery::LabelValues {
                label: c[2].trim().to_string(),
                selector: selector.map(str::to_string),
            });
        }
        if let Some(c) = METRICS.captures(q) {
            return Ok(PrometheusVariableQuery::Metrics {
                pattern: c[1].to_string(),
            });
        }
        if let Some(c) = QUERY_RESULT.captures(q) {
            return Ok(PrometheusVariableQuery::QueryResult {
                expr: c[1].to_string(),
            });
        }
        let compact: String = q.chars().filter(|c| !c.is_whitespace()).collect();
        if matches!(
            compact.as_str(),
            "label_values()" | "metrics()" | "query_result()"
        ) {
            return Err(format!("the variable query {query:?} names no argument"));
        }
        Ok(PrometheusVariableQuery::Series {
            selector: q.to_string(),
        })
    }

    /// Parses a variable query as a dashboard stores it: a string, or an object. Of an object,
    /// the text in `query` wins (Grafana keeps it in step with the editor's fields); without it,
    /// the editor's fields by `qryType` (`label`, `metric`, `labelFilters`, `match`, `varQuery`,
    /// `seriesQuery`, `classicQuery`), then `expr`.
    pub fn from_json(value: &Value) -> Result<Self, String> {
        let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::trim);
        match value {
            Value::String(s) => return Self::parse(s),
            Value::Object(_) => {}
            other => {
                return Err(format!(
                    "invalid variable query {other}: expected a string or an object"
                ))
            }
        }
        if let Some(query) = text("query").filter(|q| !q.is_empty()) {
            return Self::parse(query);
        }
        if let Some(kind) = value.get("qryType").and_then(Value::as_i64) {
            return Self::parse(&Self::editor_text(kind, value)?);
        }
        match text("expr").filter(|q| !q.is_empty()) {
            Some(expr) => Self::parse(expr),
            None => Err(format!("the variable query {value} has no query")),
        }
    }

    /// The text form of the variable editor's fields, as Grafana writes it back.
    fn editor_text(kind: i64, value: &Value) -> Result<String, String> {
        let field = |key: &str| {
            value
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .trim()
                .to_string()
        };
        Ok(match kind {
            QUERY_TYPE_LABEL_NAMES => format!("label_names({})", field("match")),
            QUERY_TYPE_LABEL_VALUES => {
                let selector = editor_selector(&field("metric"), value.get("labelFilters"));
                if selector.is_empty() {
                    format!("label_values({})", field("label"))
                } else {
                    format!("label_values({selector},{})", field("label"))
                }
            }
            QUERY_TYPE_METRIC_NAMES => format!("metrics({})", field("metric")),
            QUERY_TYPE_QUERY_RESULT => {
                let expr: String = field("varQuery").replace(['\r', '\n'], "");
                format!("query_result({expr})")
            }
            QUERY_TYPE_SERIES => field("seriesQuery"),
            QUERY_TYPE_CLASSIC => field("classicQuery"),
            other => return Err(format!("unknown variable query type {other}")),
        })
    }
}

/// `metric{label op "value", ...}` from the editor's metric and label filters.
fn editor_selector(metric: &str, filters: Option<&Value>) -> String {
    let filters: Vec<String> = filters
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|f| {
                    let get = |k: &str| f.get(k).and_then(Value::as_str);
                    Some(format!(
                        "{}{}\"{}\"",
                        get("label")?,
                        get("op")?,
                        get("value")?
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    if filters.is_empty() {
        metric.to_string()
    } else {
        format!("{metric}{{{}}}", filters.join(", "))
    }
}

/// The series selector Grafana uses for `label_names(pattern)`.
pub fn label_names_selector(pattern: &str) -> String {
    format!("{{__name__=~\".*{pattern}.*\"}}")
}

/// `metrics(pattern)`: the names the pattern matches anywhere (JavaScript's `RegExp.test`).
pub fn filter_metric_names(names: &[String], pattern: &str) -> Result<Vec<String>, String> {
    let regex = Regex::new(pattern)
        .map_err(|e| format!("invalid metrics() pattern {pattern:?}: {}", first_line(&e)))?;
    Ok(names
        .iter()
        .filter(|n| regex.is_match(n))
        .cloned()
        .collect())
}

/// The texts Grafana makes of an instant query's answer for `query_result(...)`: one line per
/// vector element, `name{label="value",...} value timestamp_ms`, or the value of a scalar or
/// string. Accepts the answer's `data` object, or the whole answer.
pub fn query_result_texts(data: &Value) -> Result<Vec<String>, String> {
    let data = data.get("data").filter(|d| d.is_object()).unwrap_or(data);
    let kind = data.get("resultType").and_then(Value::as_str).unwrap_or("");
    let result = data.get("result").unwrap_or(&Value::Null);
    match kind {
        "scalar" | "string" => {
            let text = result.get(1).and_then(Value::as_str).unwrap_or_default();
            Ok(vec![text.to_string()])
        }
        "vector" => Ok(result
            .as_array()
            .map(|items| items.iter().map(vector_line).collect())
            .unwrap_or_default()),
        other => Err(format!("Unknown/Unhandled result type: [{other}]")),
    }
}

fn vector_line(item: &Value) -> String {
    let metric = item.get("metric").unwrap_or(&Value::Null);
    let sample = item.get("value").and_then(Value::as_array);
    let value = sample
        .and_then(|s| s.get(1))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let timestamp_ms = sample
        .and_then(|s| s.first())
        .and_then(Value::as_f64)
        .map_or_else(|| "NaN".to_string(), |t| js_number(t * 1000.0));
    format!("{} {value} {timestamp_ms}", series_text(metric))
}

/// A series' labels as Grafana writes them: `name{label="value",...}` in the answer's order
/// (Prometheus sorts them by name), values unescaped.
pub fn series_text(labels: &Value) -> String {
    let name = labels
        .get("__name__")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let pairs: Vec<String> = labels
        .as_object()
        .map(|map| {
            map.iter()
                .filter(|(k, _)| k.as_str() != "__name__")
                .map(|(k, v)| format!("{k}=\"{}\"", v.as_str().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    format!("{name}{{{}}}", pairs.join(","))
}

/// The series list of a `/api/v1/series` answer (its `data` array) as texts, for a series
/// query.
pub fn series_texts(series: &Value) -> Vec<String> {
    series
        .as_array()
        .map(|list| list.iter().map(series_text).collect())
        .unwrap_or_default()
}

/// A label's values from a series list, first occurrence kept, empty values left out (Grafana's
/// fallback for `label_values(selector, label)` when the server cannot filter label values).
pub fn label_values_from_series(series: &Value, label: &str) -> Vec<String> {
    let mut seen = HashSet::new();
    series
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.get(label).and_then(Value::as_str))
        .filter(|v| !v.is_empty() && seen.insert(v.to_string()))
        .map(str::to_string)
        .collect()
}

/// JavaScript's `String(number)` for the values Prometheus timestamps take.
fn js_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e21 {
        format!("{n:.0}")
    } else {
        n.to_string()
    }
}

/// One line of `query_result(...)` text, split back into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryResultLine {
    pub metric: String,
    pub labels: Vec<(String, String)>,
    pub value: String,
    pub timestamp_ms: String,
}

static LABEL_START: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"^,[A-Za-z_][A-Za-z0-9_]*=""#).expect("valid regex"));

/// Splits a `name{label="value",...} value timestamp` line. Label values are written unescaped,
/// so a value ends at the first `"` followed by `,label="` or by the closing brace.
pub fn parse_query_result_line(line: &str) -> Option<QueryResultLine> {
    let mut parts = line.rsplitn(3, ' ');
    let timestamp_ms = parts.next()?.to_string();
    let value = parts.next()?.to_string();
    let head = parts.next()?;
    let open = head.find('{')?;
    let body = head[open + 1..].strip_suffix('}')?;
    let mut labels = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let (key, after) = rest.split_once("=\"")?;
        let end = after
            .match_indices('"')
            .map(|(i, _)| i)
            .find(|&i| i + 1 == after.len() || LABEL_START.is_match(&after[i + 1..]))?;
        labels.push((key.to_string(), after[..end].to_string()));
        rest = after[end + 1..]
            .strip_prefix(',')
            .unwrap_or(&after[end + 1..]);
    }
    Some(QueryResultLine {
        metric: head[..open].to_string(),
        labels,
        value,
        timestamp_ms,
    })
}

/// One option of a variable.
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct VariableOption {
    pub text: String,
    pub value: String,
}

impl VariableOption {
    pub fn new(text: impl Into<String>, value: impl Into<String>) -> Self {
        VariableOption {
            text: text.into(),
            value: value.into(),
        }
    }

    /// An option whose text is its value, as a source's answer gives them.
    pub fn from_value(value: impl Into<String>) -> Self {
        let value = value.into();
        VariableOption::new(value.clone(), value)
    }
}

/// A variable's `sort` setting, numbered as in Grafana's dashboard JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VariableSort {
    #[default]
    Disabled = 0,
    AlphabeticalAsc = 1,
    AlphabeticalDesc = 2,
    NumericalAsc = 3,
    NumericalDesc = 4,
    AlphabeticalCaseInsensitiveAsc = 5,
    AlphabeticalCaseInsensitiveDesc = 6,
    NaturalAsc = 7,
    NaturalDesc = 8,
}

impl VariableSort {
    /// From Grafana's number; unknown numbers sort nothing.
    pub fn from_code(code: i64) -> Self {
        match code {
            1 => VariableSort::AlphabeticalAsc,
            2 => VariableSort::AlphabeticalDesc,
            3 => VariableSort::NumericalAsc,
            4 => VariableSort::NumericalDesc,
            5 => VariableSort::AlphabeticalCaseInsensitiveAsc,
            6 => VariableSort::AlphabeticalCaseInsensitiveDesc,
            7 => VariableSort::NaturalAsc,
            8 => VariableSort::NaturalDesc,
            _ => VariableSort::Disabled,
        }
    }

    /// From JSON: Grafana's number, or the name the v2 dashboard schema uses
    /// (`alphabeticalAsc`, ...).
    pub fn from_json(value: &Value) -> Self {
        match value {
            Value::Number(n) => n.as_i64().map_or(VariableSort::Disabled, Self::from_code),
            Value::String(name) => match name.as_str() {
                "alphabeticalAsc" => VariableSort::AlphabeticalAsc,
                "alphabeticalDesc" => VariableSort::AlphabeticalDesc,
                "numericalAsc" => VariableSort::NumericalAsc,
                "numericalDesc" => VariableSort::NumericalDesc,
                "alphabeticalCaseInsensitiveAsc" => VariableSort::AlphabeticalCaseInsensitiveAsc,
                "alphabeticalCaseInsensitiveDesc" => VariableSort::AlphabeticalCaseInsensitiveDesc,
                "naturalAsc" => VariableSort::NaturalAsc,
                "naturalDesc" => VariableSort::NaturalDesc,
                other => other
                    .parse()
                    .map_or(VariableSort::Disabled, Self::from_code),
            },
            _ => VariableSort::Disabled,
        }
    }
}

/// Which side of an option the variable's regex reads (Grafana's `regexApplyTo`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RegexApplyTo {
    #[default]
    Value,
    Text,
}

/// A variable's regex, compiled as Grafana's `stringToJsRegex` reads it: `/pattern/flags`
/// (flags `g`, `i`, `m`, `y`, `s`), or a bare pattern that must match the whole text.
#[derive(Debug, Clone)]
pub struct VariableRegex {
    regex: Regex,
    /// `g`: every match counts, not just the first.
    global: bool,
    /// `y`: each match must start where the previous one ended (the first at 0).
    sticky: bool,
}

static SLASHED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^/(.*?)/(g?i?m?y?s?)$").expect("valid regex"));

impl VariableRegex {
    /// Compiles the regex; an empty one is `None` (no filtering).
    pub fn new(text: &str) -> Result<Option<Self>, String> {
        if text.is_empty() {
            return Ok(None);
        }
        let (pattern, flags) = if text.starts_with('/') {
            let c = SLASHED
                .captures(text)
                .ok_or_else(|| format!("'{text}' is not a valid regular expression."))?;
            (c[1].to_string(), c[2].to_string())
        } else {
            (format!("^{text}$"), String::new())
        };
        let regex = RegexBuilder::new(&pattern)
            .case_insensitive(flags.contains('i'))
            .multi_line(flags.contains('m'))
            .dot_matches_new_line(flags.contains('s'))
            .build()
            .map_err(|e| format!("invalid regex {text:?}: {}", first_line(&e)))?;
        Ok(Some(VariableRegex {
            regex,
            global: flags.contains('g'),
            sticky: flags.contains('y'),
        }))
    }

    /// The matches JavaScript's `exec` loop finds: one, or with `g` all of them, stopping after
    /// an empty match.
    fn matches<'t>(&self, text: &'t str) -> Vec<Captures<'t>> {
        let mut found = Vec::new();
        let mut at = 0;
        while let Some(c) = self.regex.captures_at(text, at) {
            let whole = c.get(0).expect("group 0 always matches");
            if self.sticky && whole.start() != at {
                break;
            }
            let (end, empty) = (whole.end(), whole.is_empty());
            found.push(c);
            if !self.global || empty {
                break;
            }
            at = end;
        }
        found
    }

    fn has_groups(&self) -> bool {
        self.regex.captures_len() > 1
    }
}

/// Applies a variable's regex, drops options whose value was seen before, and sorts: Grafana's
/// `metricNamesToVariableValues`.
///
/// Options the regex does not match are left out. A named group `value` and/or `text` sets those
/// (each standing in for the other when alone); otherwise the first capture group becomes both;
/// with the `g` flag and several matches, each match's first group is an option of its own.
pub fn process_options(
    options: Vec<VariableOption>,
    regex: &str,
    apply_to: RegexApplyTo,
    sort: VariableSort,
) -> Result<Vec<VariableOption>, String> {
    let regex = VariableRegex::new(regex)?;
    let mut out = Vec::with_capacity(options.len());
    for option in options {
        match &regex {
            None => out.push(option),
            Some(regex) => out.extend(apply_regex(option, regex, apply_to)),
        }
    }
    let mut seen = HashSet::new();
    out.retain(|o| seen.insert(o.value.clone()));
    Ok(sort_options(out, sort))
}

fn apply_regex(
    option: VariableOption,
    regex: &VariableRegex,
    apply_to: RegexApplyTo,
) -> Vec<VariableOption> {
    let subject = match apply_to {
        RegexApplyTo::Value => &option.value,
        RegexApplyTo::Text => &option.text,
    };
    let matches = regex.matches(subject);
    if matches.is_empty() {
        return Vec::new();
    }
    let named = |name: &str| {
        matches
            .iter()
            .find_map(|c| c.name(name).map(|m| m.as_str()).filter(|s| !s.is_empty()))
    };
    let first_group = |c: &Captures| c.get(1).map_or("", |m| m.as_str()).to_string();
    let (value_group, text_group) = (named("value"), named("text"));
    if value_group.is_some() || text_group.is_some() {
        let value = value_group.or(text_group).unwrap_or_default();
        let text = text_group.or(value_group).unwrap_or_default();
        return vec![VariableOption::new(text, value)];
    }
    if !regex.has_groups() {
        return vec![option.clone()];
    }
    if matches.len() > 1 {
        return matches
            .iter()
            .map(|c| VariableOption::from_value(first_group(c)))
            .collect();
    }
    vec![VariableOption::from_value(first_group(&matches[0]))]
}

/// Sorts options by their text as Grafana does; descending orders are the ascending order
/// reversed (ties included), and equal keys keep their order.
pub fn sort_options(mut options: Vec<VariableOption>, sort: VariableSort) -> Vec<VariableOption> {
    let by_text = |a: &VariableOption, b: &VariableOption| js_cmp(&a.text, &b.text);
    let by_number = |a: &VariableOption, b: &VariableOption| {
        number_key(&a.text).total_cmp(&number_key(&b.text))
    };
    let by_lower = |a: &VariableOption, b: &VariableOption| {
        js_cmp(&a.text.to_lowercase(), &b.text.to_lowercase())
    };
    let by_natural = |a: &VariableOption, b: &VariableOption| natural_cmp(&a.text, &b.text);
    match sort {
        VariableSort::Disabled => return options,
        VariableSort::AlphabeticalAsc | VariableSort::AlphabeticalDesc => options.sort_by(by_text),
        VariableSort::NumericalAsc | VariableSort::NumericalDesc => options.sort_by(by_number),
        VariableSort::AlphabeticalCaseInsensitiveAsc
        | VariableSort::AlphabeticalCaseInsensitiveDesc => options.sort_by(by_lower),
        VariableSort::NaturalAsc | VariableSort::NaturalDesc => options.sort_by(by_natural),
    }
    if matches!(
        sort,
        VariableSort::AlphabeticalDesc
            | VariableSort::NumericalDesc
            | VariableSort::AlphabeticalCaseInsensitiveDesc
            | VariableSort::NaturalDesc
    ) {
        options.reverse();
    }
    options
}

/// JavaScript's string order: by UTF-16 code units.
fn js_cmp(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// The numerical sort key: the first run of digits in the text, or -1 when there is none.
fn number_key(text: &str) -> f64 {
    let Some(start) = text.find(|c: char| c.is_ascii_digit()) else {
        return -1.0;
    };
    let digits = &text[start..];
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end].parse().unwrap_or(-1.0)
}

/// Natural order: runs of digits compare by value, other characters case-insensitively with
/// punctuation before digits before letters.
fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a, b);
    loop {
        match (a.chars().next(), b.chars().next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let (na, ra) = split_digits(a);
                let (nb, rb) = split_digits(b);
                let ord = compare_numbers(na, nb);
                if ord != Ordering::Equal {
                    return ord;
                }
                (a, b) = (ra, rb);
            }
            (Some(x), Some(y)) => {
                let ord = char_key(x).cmp(&char_key(y));
                if ord != Ordering::Equal {
                    return ord;
                }
                (a, b) = (&a[x.len_utf8()..], &b[y.len_utf8()..]);
            }
        }
    }
}

fn split_digits(s: &str) -> (&str, &str) {
    s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()))
}

/// Compares digit strings by value, without overflow.
fn compare_numbers(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn char_key(c: char) -> (u8, String) {
    let class = if c.is_alphabetic() {
        2
    } else if c.is_numeric() {
        1
    } else {
        0
    };
    (class, c.to_lowercase().collect())
}

fn first_line(e: &regex::Error) -> String {
    e.to_string()
        .lines()
        .last()
        .unwrap_or_default()
        .trim_start_matches("error: ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use PrometheusVariableQuery as Q;

    fn parse(text: &str) -> Q {
        Q::parse(text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn opts(values: &[&str]) -> Vec<VariableOption> {
        values
            .iter()
            .map(|v| VariableOption::from_value(*v))
            .collect()
    }

    fn values(options: &[VariableOption]) -> Vec<&str> {
        options.iter().map(|o| o.value.as_str()).collect()
    }

    fn texts(options: &[VariableOption]) -> Vec<&str> {
        options.iter().map(|o| o.text.as_str()).collect()
    }

    #[test]
    fn prometheus_queries_parse_like_grafanas() {
        let label_values = |label: &str, selector: Option<&str>| Q::LabelValues {
            label: label.into(),
            selector: selector.map(str::to_string),
        };
        let cases = [
            ("label_names()", Q::LabelNames { matching: None }),
            (
                "label_names(node_)",
                Q::LabelNames {
                    matching: Some("node_".into()),
                },
            ),
            ("label_values(job)", label_values("job", None)),
            ("label_values(up, job)", label_values("job", Some("up"))),
            (
                r#"label_values(node_uname_info{job="node",instance=~"a|b"},  nodename) "#,
                label_values(
                    "nodename",
                    Some(r#"node_uname_info{job="node",instance=~"a|b"}"#),
                ),
            ),
            ("label_values({}, job)", label_values("job", None)),
            ("label_values( { } ,job)", label_values("job", None)),
            (
                "metrics(node_.*_bytes)",
                Q::Metrics {
                    pattern: "node_.*_bytes".into(),
                },
            ),
            (
                "query_result(topk(5, sum by (job) (up)))",
                Q::QueryResult {
                    expr: "topk(5, sum by (job) (up))".into(),
                },
            ),
            (
                "query_result(sum(\n  up))",
                Q::QueryResult {
                    expr: "sum(\n  up)".into(),
                },
            ),
            (
                r#"up{job="node"}"#,
                Q::Series {
                    selector: r#"up{job="node"}"#.into(),
                },
            ),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text), want, "{text}");
        }
        for bad in ["", "  ", "label_values()", "metrics()", "query_result()"] {
            assert!(Q::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn prometheus_queries_parse_from_json() {
        let from = |v: Value| Q::from_json(&v).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            from(json!("label_names()")),
            Q::LabelNames { matching: None }
        );
        assert_eq!(
            from(
                json!({"query": "label_values(job)", "refId": "PrometheusVariableQueryEditor-VariableQuery", "qryType": 1})
            ),
            Q::LabelValues {
                label: "job".into(),
                selector: None
            }
        );
        assert_eq!(
            from(json!({"qryType": 1, "label": "instance", "metric": "up",
                "labelFilters": [{"label": "job", "op": "=", "value": "node"}]})),
            Q::LabelValues {
                label: "instance".into(),
                selector: Some(r#"up{job="node"}"#.into())
            }
        );
        assert_eq!(
            from(json!({"qryType": 0, "match": "node"})),
            Q::LabelNames {
                matching: Some("node".into())
            }
        );
        assert_eq!(
            from(json!({"qryType": 2, "metric": "go_.*"})),
            Q::Metrics {
                pattern: "go_.*".into()
            }
        );
        assert_eq!(
            from(json!({"qryType": 3, "varQuery": "sum(up)\nby (job)"})),
            Q::QueryResult {
                expr: "sum(up)by (job)".into()
            }
        );
        assert_eq!(
            from(json!({"qryType": 4, "seriesQuery": "up"})),
            Q::Series {
                selector: "up".into()
            }
        );
        assert_eq!(
            from(json!({"qryType": 5, "classicQuery": "label_values(job)"})),
            Q::LabelValues {
                label: "job".into(),
                selector: None
            }
        );
        assert_eq!(
            from(json!({"expr": "metrics(up)", "refId": "A"})),
            Q::Metrics {
                pattern: "up".into()
            }
        );
        for bad in [
            json!(null),
            json!(3),
            json!({"refId": "A"}),
            json!({"qryType": 9}),
        ] {
            assert!(Q::from_json(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn label_names_and_metrics_helpers() {
        assert_eq!(label_names_selector("node"), r#"{__name__=~".*node.*"}"#);
        let names: Vec<String> = ["up", "node_load1", "go_gc_duration_seconds"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            filter_metric_names(&names, "load|gc").unwrap(),
            vec!["node_load1", "go_gc_duration_seconds"]
        );
        assert!(filter_metric_names(&names, "(").is_err());
    }

    #[test]
    fn query_result_lines_are_grafanas_text() {
        let answer = json!({"status": "success", "data": {"resultType": "vector", "result": [
            {"metric": {"__name__": "up", "instance": "a:9100", "job": "node"},
             "value": [1_700_000_000.123, "1"]},
            {"metric": {"job": "prom"}, "value": [1_700_000_000, "0.5"]}
        ]}});
        assert_eq!(
            query_result_texts(&answer).unwrap(),
            vec![
                r#"up{instance="a:9100",job="node"} 1 1700000000123"#,
                r#"{job="prom"} 0.5 1700000000000"#
            ]
        );
        let scalar = json!({"resultType": "scalar", "result": [1_700_000_000, "42"]});
        assert_eq!(query_result_texts(&scalar).unwrap(), vec!["42"]);
        let text = json!({"resultType": "string", "result": [1_700_000_000, "hello"]});
        assert_eq!(query_result_texts(&text).unwrap(), vec!["hello"]);
        let matrix = json!({"resultType": "matrix", "result": []});
        assert_eq!(
            query_result_texts(&matrix).unwrap_err(),
            "Unknown/Unhandled result type: [matrix]"
        );
    }

    #[test]
    fn query_result_lines_parse_back() {
        let line = parse_query_result_line(
            r#"node_uname_info{instance="a:9100",nodename="web 1",release="6.1, \"lts\""} 1 1700000000123"#,
        )
        .unwrap();
        assert_eq!(line.metric, "node_uname_info");
        assert_eq!(
            line.labels,
            vec![
                ("instance".to_string(), "a:9100".to_string()),
                ("nodename".to_string(), "web 1".to_string()),
                ("release".to_string(), r#"6.1, \"lts\""#.to_string()),
            ]
        );
        assert_eq!(line.value, "1");
        assert_eq!(line.timestamp_ms, "1700000000123");
        let bare = parse_query_result_line("{} 2 1700000000000").unwrap();
        assert_eq!((bare.metric.as_str(), bare.labels.len()), ("", 0));
        assert_eq!(parse_query_result_line("42"), None);
    }

    #[test]
    fn series_and_their_label_values() {
        let series = json!([
            {"__name__": "up", "instance": "a", "job": "node"},
            {"__name__": "up", "instance": "b", "job": "prom"},
            {"__name__": "up", "instance": "c", "job": "node"},
            {"__name__": "up", "instance": "d"},
            {"__name__": "up", "instance": "e", "job": ""}
        ]);
        assert_eq!(
            label_values_from_series(&series, "job"),
            vec!["node", "prom"]
        );
        assert_eq!(series_texts(&series)[0], r#"up{instance="a",job="node"}"#);
    }

    #[test]
    fn regex_filters_and_captures() {
        let run = |regex: &str, options: &[&str]| {
            process_options(
                opts(options),
                regex,
                RegexApplyTo::Value,
                VariableSort::Disabled,
            )
            .unwrap_or_else(|e| panic!("{e}"))
        };
        // A bare pattern must match the whole value.
        assert_eq!(values(&run("web.*", &["web1", "db1", "xweb"])), ["web1"]);
        assert_eq!(
            values(&run("/web/", &["web1", "db1", "xweb"])),
            ["web1", "xweb"]
        );
        assert_eq!(
            values(&run("/^WEB/i", &["web1", "Web2", "db"])),
            ["web1", "Web2"]
        );
        // The first capture group becomes text and value.
        let captured = run(
            r#"/instance="([^"]+)"/"#,
            &[r#"up{instance="a:9100",job="n"} 1 1"#],
        );
        assert_eq!(captured, vec![VariableOption::from_value("a:9100")]);
        // With g and several matches, each match is an option.
        assert_eq!(
            values(&run(r"/(\d+)/g", &["a1b22c333"])),
            ["1", "22", "333"]
        );
        // Named groups set text and value separately, or stand in for each other.
        let named = run(
            r"/(?<text>[^-]+)-(?<value>\d+)/",
            &["alpha-1", "beta-2", "nothing"],
        );
        assert_eq!(texts(&named), ["alpha", "beta"]);
        assert_eq!(values(&named), ["1", "2"]);
        let only_value = run(r"/id=(?<value>\w+)/", &["id=x7"]);
        assert_eq!(only_value, vec![VariableOption::new("x7", "x7")]);
        // No groups: the option stays as it was.
        let kept = process_options(
            vec![VariableOption::new("Web", "w1")],
            "/w/",
            RegexApplyTo::Value,
            VariableSort::Disabled,
        )
        .unwrap();
        assert_eq!(kept, vec![VariableOption::new("Web", "w1")]);
    }

    #[test]
    fn regex_may_read_the_text_instead() {
        let options = vec![
            VariableOption::new("Display1", "val1"),
            VariableOption::new("Display2", "val2"),
            VariableOption::new("Display11", "val11"),
        ];
        let by_text = process_options(
            options,
            "/^Display1/",
            RegexApplyTo::Text,
            VariableSort::Disabled,
        )
        .unwrap();
        assert_eq!(values(&by_text), ["val1", "val11"]);
    }

    #[test]
    fn regex_errors_are_clear() {
        let err = VariableRegex::new("/unclosed").unwrap_err();
        assert_eq!(err, "'/unclosed' is not a valid regular expression.");
        let err = VariableRegex::new("/(?=x)/").unwrap_err();
        assert!(err.contains("look-around"), "{err}");
        assert!(VariableRegex::new("").unwrap().is_none());
        // The flags are only g, i, m, y, s in that order; anything else is part of the pattern.
        assert!(VariableRegex::new("/a/x").is_err());
    }

    #[test]
    fn sticky_and_empty_matches_stop_the_loop() {
        let sticky = VariableRegex::new(r"/(\d)/gy").unwrap().unwrap();
        assert_eq!(sticky.matches("12a3").len(), 2);
        let empty = VariableRegex::new(r"/(x*)/g").unwrap().unwrap();
        assert_eq!(empty.matches("abc").len(), 1);
    }

    #[test]
    fn duplicates_keep_the_first() {
        let options = vec![
            VariableOption::new("Option 1", "opt1"),
            VariableOption::new("Option 1 again", "opt1"),
            VariableOption::new("Option 2", "opt2"),
        ];
        let out =
            process_options(options, "", RegexApplyTo::Value, VariableSort::Disabled).unwrap();
        assert_eq!(texts(&out), ["Option 1", "Option 2"]);
    }

    #[test]
    fn every_sort_order() {
        let input = ["b10", "B2", "a", "b1", "", "_x", "a"];
        let cases = [
            (0, vec!["b10", "B2", "a", "b1", "", "_x", "a"]),
            (1, vec!["", "B2", "_x", "a", "a", "b1", "b10"]),
            (2, vec!["b10", "b1", "a", "a", "_x", "B2", ""]),
            (3, vec!["a", "", "_x", "a", "b1", "B2", "b10"]),
            (4, vec!["b10", "B2", "b1", "a", "_x", "", "a"]),
            (5, vec!["", "_x", "a", "a", "b1", "b10", "B2"]),
            (6, vec!["B2", "b10", "b1", "a", "a", "_x", ""]),
            (7, vec!["", "_x", "a", "a", "b1", "B2", "b10"]),
            (8, vec!["b10", "B2", "b1", "a", "a", "_x", ""]),
        ];
        for (code, want) in cases {
            let sort = VariableSort::from_code(code);
            let out = sort_options(opts(&input), sort);
            // Values are unique here except "a", so compare texts.
            assert_eq!(texts(&out), want, "sort {code} ({sort:?})");
        }
    }

    #[test]
    fn natural_sort_compares_numbers_by_value() {
        let out = sort_options(
            opts(&["Item 10", "item 2", "Item 1", "Item 02b", "Item 9"]),
            VariableSort::NaturalAsc,
        );
        assert_eq!(
            texts(&out),
            ["Item 1", "item 2", "Item 02b", "Item 9", "Item 10"]
        );
        let out = sort_options(
            opts(&["10.0.0.10", "10.0.0.9", "10.0.0.100"]),
            VariableSort::NaturalAsc,
        );
        assert_eq!(texts(&out), ["10.0.0.9", "10.0.0.10", "10.0.0.100"]);
    }

    #[test]
    fn regex_then_sort() {
        let options = vec![
            VariableOption::new("Display3", "val3"),
            VariableOption::new("Display1", "val1"),
            VariableOption::new("Display2", "val2"),
            VariableOption::new("Display1a", "val1a"),
        ];
        let out = process_options(
            options,
            "/^Display1/",
            RegexApplyTo::Text,
            VariableSort::AlphabeticalAsc,
        )
        .unwrap();
        assert_eq!(values(&out), ["val1", "val1a"]);
    }

    #[test]
    fn sort_settings_parse_from_json() {
        assert_eq!(
            VariableSort::from_json(&json!(3)),
            VariableSort::NumericalAsc
        );
        assert_eq!(
            VariableSort::from_json(&json!("8")),
            VariableSort::NaturalDesc
        );
        assert_eq!(
            VariableSort::from_json(&json!("alphabeticalCaseInsensitiveDesc")),
            VariableSort::AlphabeticalCaseInsensitiveDesc
        );
        assert_eq!(VariableSort::from_json(&json!(42)), VariableSort::Disabled);
        assert_eq!(
            VariableSort::from_json(&json!(null)),
            VariableSort::Disabled
        );
        assert_eq!(VariableSort::NaturalDesc as i64, 8);
    }
}
