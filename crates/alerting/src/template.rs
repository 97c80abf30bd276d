//! The subset of Go's `text/template` that Grafana annotations and labels are written in.
//!
//! No maintained crate fits closely enough: `gtmpl` (MIT, passively maintained, last released in
//! 2021) reads `1.0` as an integer, so `{{ if gt $values.B.Value 1.0 }}` fails on a float, and
//! cannot print Grafana's types (`$labels` as `a=1, b=2`, a `$values` entry as its value). So this
//! module parses the subset itself:
//!
//! * text and actions `{{ ... }}`, trim markers `{{-` / `-}}`, comments `{{/* ... */}}`;
//! * pipelines `a | f b`, parenthesised pipelines, variables (`$x := ...`, `$x = ...`), fields
//!   (`.Labels.instance`, `$values.B.Value`), string, raw-string, number and bool literals, `nil`;
//! * `if` / `else if` / `else`, `range` (maps in key order, lists; `$k, $v :=`), `with`, `end`;
//! * functions: Go's `and or not len index print printf println eq ne lt le gt ge`,
//!   Prometheus' `humanize humanize1024 humanizePercentage humanizeDuration toUpper toLower title
//!   reReplaceAll match safeHtml stripPort stripDomain parseDuration`, and Grafana's
//!   `filterLabels filterLabelsRe removeLabels removeLabelsRe mergeLabelValues`.
//!
//! Printing follows Grafana: a missing label or refId prints `[no value]` (Grafana runs Go's
//! templates with `missingkey=invalid` and rewrites `<no value>`), `$labels` prints `a=1, b=2`,
//! `$values.B` prints its value with two significant digits, a refId without a number is NaN, and
//! comparisons with NaN are false.
//!
//! Not supported (a parse error says so): `define`, `template`, `block`, `break`, `continue`,
//! and the functions that need a query engine or URLs (`query`, `first`, `label`, `value`,
//! `graphLink`, `tableLink`, `externalURL`, `humanizeTimestamp`, ...).
//! `$labels`, `$values` and `$value` are defined, as Grafana defines them, along with `.Labels`,
//! `.Values` and `.Value`. `$value` prints as Grafana's evaluation string
//! (`[ var='B' labels={host=a} value=3 ]`) but is the condition's number wherever a function needs
//! a number, so `{{ humanize $value }}` works (in Grafana it is an error: an extension). Unknown functions and undefined variables are
//! parse errors, so they are reported when a rule is saved, as Go reports them.

use std::collections::BTreeMap;
use std::fmt;

use crate::labels::Labels;

/// A parse or execution error, with its line and column where known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError(pub String);

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TemplateError {}

/// The largest output one template may produce (a runaway `range` stops here).
const MAX_OUTPUT: usize = 64 * 1024;
/// The most nodes and range iterations one expansion may execute.
const MAX_STEPS: usize = 100_000;

/// A template value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Nil,
    /// A map key or field that is not there; prints as Grafana prints it, `[no value]`.
    Missing,
    Bool(bool),
    Number(f64),
    Str(String),
    Map(BTreeMap<String, Value>),
    List(Vec<Value>),
    /// A label set (`$labels`, `$values.B.Labels`); prints as `a=1, b=2`.
    Labels(Labels),
    /// One entry of `$values`: `.Labels` and `.Value`; prints its value with two significant
    /// digits, as Grafana does.
    Sample {
        labels: Labels,
        value: f64,
    },
    /// Grafana's `$value`: prints as `text`, computes as `number`.
    Eval {
        text: String,
        number: Option<f64>,
    },
}

impl Value {
    fn truthy(&self) -> bool {
        match self {
            Value::Nil | Value::Missing => false,
            Value::Bool(b) => *b,
            Value::Number(n) => *n != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::Map(m) => !m.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Labels(l) => !l.is_empty(),
            Value::Eval { .. } | Value::Sample { .. } => true,
        }
    }

    fn type_name(&self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::Missing => "no value",
            Value::Labels(_) => "Labels",
            Value::Sample { .. } => "Value",
            Value::Bool(_) => "bool",
            Value::Number(_) => "float64",
            Value::Str(_) => "string",
            Value::Map(_) => "map",
            Value::List(_) => "slice",
            Value::Eval { .. } => "string",
        }
    }

    fn as_number(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            Value::Eval { number, .. } => *number,
            Value::Sample { value, .. } => Some(*value),
            Value::Str(s) => s.trim().parse().ok(),
            Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Nil => Ok(()),
            Value::Missing => f.write_str("[no value]"),
            Value::Labels(l) => {
                let pairs: Vec<String> = l.iter().map(|(k, v)| format!("{k}={v}")).collect();
                f.write_str(&pairs.join(", "))
            }
            Value::Sample { value, .. } => f.write_str(&sample_text(*value)),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Number(n) => f.write_str(&format_float_g(*n, None)),
            Value::Str(s) => f.write_str(s),
            Value::Eval { text, .. } => f.write_str(text),
            Value::Map(m) => {
                f.write_str("map[")?;
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{k}:{v}")?;
                }
                f.write_str("]")
            }
            Value::List(l) => {
                f.write_str("[")?;
                for (i, v) in l.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
        }
    }
}

/// Grafana's printing of a `$values` entry: two significant digits for values below 100, none
/// after the point above (`0.87`, `1.0`, `97`, `1235`).
fn sample_text(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    if !v.is_finite() {
        return format_float_g(v, None);
    }
    let first_digit = v.abs().log10().floor() as i64 + 1;
    let precision = (2 - first_digit).max(0) as usize;
    format!("{v:.precision$}")
}

/// What a rule's templates see.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TemplateData {
    /// The instance's labels (`$labels`).
    pub labels: Labels,
    /// Each refId's number for this instance (`$values.B.Value`, `$values.B.Labels`).
    pub values: BTreeMap<String, (Labels, Option<f64>)>,
    /// Grafana's evaluation string (what `{{ $value }}` prints).
    pub value_text: String,
    /// The condition's value (what `{{ humanize $value }}` computes with).
    pub value: Option<f64>,
}

/// A [`TemplateData`] made ready for rendering: build it once per instance and render every
/// template of the instance with it.
#[derive(Debug, Clone, PartialEq)]
pub struct Context {
    root: Value,
    labels: Value,
    values: Value,
    value: Value,
}

impl Context {
    /// A context whose dot is `root`, for notification templates (`.Alerts`, `.CommonLabels`,
    /// ...); `$labels`, `$values` and `$value` are empty there.
    pub fn with_root(root: Value) -> Context {
        Context {
            root,
            labels: Value::Labels(Labels::new()),
            values: Value::Map(BTreeMap::new()),
            value: Value::Nil,
        }
    }
}

impl TemplateData {
    pub fn context(&self) -> Context {
        let labels = Value::Labels(self.labels.clone());
        let values = Value::Map(
            self.values
                .iter()
                .map(|(ref_id, (labels, value))| {
                    // A refId without a number (no data, an error) is NaN, as in Grafana.
                    let sample = Value::Sample {
                        labels: labels.clone(),
                        value: value.unwrap_or(f64::NAN),
                    };
                    (ref_id.clone(), sample)
                })
                .collect(),
        );
        let value = Value::Eval {
            text: self.value_text.clone(),
            number: self.value,
        };
        let root = Value::Map(BTreeMap::from([
            ("Labels".to_string(), labels.clone()),
            ("Values".to_string(), values.clone()),
            ("Value".to_string(), value.clone()),
        ]));
        Context {
            root,
            labels,
            values,
            value,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Lexing

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Field(Vec<String>),
    Var(String, Vec<String>),
    Ident(String),
    Str(String),
    Number(f64),
    Pipe,
    LParen,
    RParen,
    Declare,
    Assign,
    Comma,
}

#[derive(Debug, Clone)]
enum Piece {
    Text(String),
    Action { tokens: Vec<Tok>, at: String },
}

fn position(src: &str, byte: usize) -> String {
    let before = &src[..byte];
    let line = before.matches('\n').count() + 1;
    let col = before.rfind('\n').map_or(before.chars().count(), |nl| {
        before[nl + 1..].chars().count()
    }) + 1;
    format!("{line}:{col}")
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn split(src: &str) -> Result<Vec<Piece>, TemplateError> {
    let mut pieces = Vec::new();
    let mut rest_start = 0;
    let mut trim_next = false;
    while let Some(found) = src[rest_start..].find("{{") {
        let open = rest_start + found;
        let mut text = &src[rest_start..open];
        if trim_next {
            text = text.trim_start();
        }
        let mut i = open + 2;
        let trim_left = src[i..].starts_with("- ")
            || src[i..].starts_with("-\t")
            || src[i..].starts_with("-\n");
        if trim_left {
            text = text.trim_end();
            i += 1;
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text.to_string()));
        }
        let at = position(src, open);
        let err = |msg: String| TemplateError(format!("template: {at}: {msg}"));
        // Comment
        let inner = src[i..].trim_start();
        if inner.starts_with("/*") {
            let start = src.len() - inner.len();
            let end = src[start..]
                .find("*/")
                .ok_or_else(|| err("unclosed comment".into()))?
                + start
                + 2;
            let after = src[end..].trim_start();
            let (close_len, trim) = if let Some(rest) = after.strip_prefix("-}}") {
                (after.len() - rest.len(), true)
            } else if let Some(rest) = after.strip_prefix("}}") {
                (after.len() - rest.len(), false)
            } else {
                return Err(err("comment ends before closing delimiter".into()));
            };
            rest_start = src.len() - after.len() + close_len;
            trim_next = trim;
            continue;
        }
        let (tokens, end, trim_right) = lex_action(src, i).map_err(err)?;
        pieces.push(Piece::Action { tokens, at });
        rest_start = end;
        trim_next = trim_right;
    }
    let mut text = &src[rest_start..];
    if trim_next {
        text = text.trim_start();
    }
    if !text.is_empty() {
        pieces.push(Piece::Text(text.to_string()));
    }
    Ok(pieces)
}

/// Lexes one action from byte `start` to its `}}`; returns the tokens, the byte after the action
/// and whether it ended with `-}}`.
fn lex_action(src: &str, start: usize) -> Result<(Vec<Tok>, usize, bool), String> {
    let bytes = src.as_bytes();
    let mut tokens = Vec::new();
    let mut i = start;
    let fields = |i: &mut usize| -> Vec<String> {
        let mut out = Vec::new();
        while *i < src.len() && bytes[*i] == b'.' {
            let s = *i + 1;
            let mut e = s;
            while e < src.len() {
                let c = src[e..].chars().next().unwrap_or(' ');
                if !is_ident_char(c) {
                    break;
                }
                e += c.len_utf8();
            }
            if e == s {
                break;
            }
            out.push(src[s..e].to_string());
            *i = e;
        }
        out
    };
    loop {
        if i >= src.len() {
            return Err("unclosed action".into());
        }
        let c = src[i..].chars().next().unwrap_or(' ');
        if c.is_whitespace() {
            let rest = &src[i..];
            let trimmed = rest.trim_start();
            if let Some(after) = trimmed.strip_prefix("-}}") {
                return Ok((tokens, src.len() - after.len(), true));
            }
            i += rest.len() - trimmed.len();
            continue;
        }
        if src[i..].starts_with("}}") {
            return Ok((tokens, i + 2, false));
        }
        match c {
            '|' => {
                tokens.push(Tok::Pipe);
                i += 1;
            }
            '(' => {
                tokens.push(Tok::LParen);
                i += 1;
            }
            ')' => {
                tokens.push(Tok::RParen);
                i += 1;
                let f = fields(&mut i);
                if !f.is_empty() {
                    return Err("field access on a parenthesised pipeline is not supported".into());
                }
            }
            ',' => {
                tokens.push(Tok::Comma);
                i += 1;
            }
            ':' if src[i..].starts_with(":=") => {
                tokens.push(Tok::Declare);
                i += 2;
            }
            '=' => {
                tokens.push(Tok::Assign);
                i += 1;
            }
            '"' => {
                let mut out = String::new();
                let mut j = i + 1;
                loop {
                    let Some(ch) = src[j..].chars().next() else {
                        return Err("unterminated quoted string".into());
                    };
                    j += ch.len_utf8();
                    match ch {
                        '"' => break,
                        '\n' => return Err("unterminated quoted string".into()),
                        '\\' => {
                            let Some(esc) = src[j..].chars().next() else {
                                return Err("unterminated quoted string".into());
                            };
                            j += esc.len_utf8();
                            out.push(match esc {
                                'n' => '\n',
                                't' => '\t',
                                'r' => '\r',
                                '\\' => '\\',
                                '"' => '"',
                                '\'' => '\'',
                                other => return Err(format!("unknown escape sequence \\{other}")),
                            });
                        }
                        other => out.push(other),
                    }
                }
                tokens.push(Tok::Str(out));
                i = j;
            }
            '`' => {
                let end = src[i + 1..]
                    .find('`')
                    .ok_or("unterminated raw quoted string")?;
                tokens.push(Tok::Str(src[i + 1..i + 1 + end].to_string()));
                i += end + 2;
            }
            '.' => {
                let f = fields(&mut i);
                if f.is_empty() {
                    i += 1;
                }
                tokens.push(Tok::Field(f));
            }
            '$' => {
                let s = i + 1;
                let mut e = s;
                while e < src.len() {
                    let ch = src[e..].chars().next().unwrap_or(' ');
                    if !is_ident_char(ch) {
                        break;
                    }
                    e += ch.len_utf8();
                }
                let name = src[s..e].to_string();
                i = e;
                let f = fields(&mut i);
                tokens.push(Tok::Var(name, f));
            }
            c if c.is_ascii_digit()
                || ((c == '-' || c == '+') && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)) =>
            {
                let s = i;
                i += 1;
                while i < src.len()
                    && (bytes[i].is_ascii_alphanumeric()
                        || bytes[i] == b'.'
                        || bytes[i] == b'_'
                        || ((bytes[i] == b'-' || bytes[i] == b'+')
                            && matches!(bytes[i - 1], b'e' | b'E')))
                {
                    i += 1;
                }
                let text = src[s..i].replace('_', "");
                let (sign, digits) = match text.strip_prefix('-') {
                    Some(d) => (-1.0, d.to_string()),
                    None => (1.0, text.trim_start_matches('+').to_string()),
                };
                let value = if let Some(hex) = digits
                    .strip_prefix("0x")
                    .or_else(|| digits.strip_prefix("0X"))
                {
                    u64::from_str_radix(hex, 16).ok().map(|v| v as f64)
                } else {
                    digits.parse::<f64>().ok()
                };
                let value = value.ok_or_else(|| format!("bad number syntax: {:?}", &src[s..i]))?;
                tokens.push(Tok::Number(sign * value));
            }
            c if c.is_alphabetic() || c == '_' => {
                let s = i;
                while i < src.len() {
                    let ch = src[i..].chars().next().unwrap_or(' ');
                    if !is_ident_char(ch) {
                        break;
                    }
                    i += ch.len_utf8();
                }
                tokens.push(Tok::Ident(src[s..i].to_string()));
            }
            other => return Err(format!("unexpected {other:?} in action")),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing

#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Field(Vec<String>),
    Var(String, Vec<String>),
    Literal(Value),
    Func(String),
    Sub(Box<Pipeline>),
}

#[derive(Debug, Clone, PartialEq)]
struct Pipeline {
    /// Variables declared (`:=`) or assigned (`=`) by this pipeline.
    decl: Vec<String>,
    declare: bool,
    commands: Vec<Vec<Operand>>,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Text(String),
    Action(Pipeline),
    If {
        branches: Vec<(Pipeline, Vec<Node>)>,
        otherwise: Vec<Node>,
    },
    Range {
        pipe: Pipeline,
        body: Vec<Node>,
        otherwise: Vec<Node>,
    },
    With {
        pipe: Pipeline,
        body: Vec<Node>,
        otherwise: Vec<Node>,
    },
}

const FUNCTIONS: &[&str] = &[
    "and",
    "or",
    "not",
    "len",
    "index",
    "print",
    "printf",
    "println",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "humanize",
    "humanize1024",
    "humanizePercentage",
    "humanizeDuration",
    "toUpper",
    "toLower",
    "title",
    "reReplaceAll",
    "match",
    "filterLabels",
    "filterLabelsRe",
    "removeLabels",
    "removeLabelsRe",
    "mergeLabelValues",
    "safeHtml",
    "stripPort",
    "stripDomain",
    "parseDuration",
];

/// How deep blocks (`if`, `range`, `with`) and parentheses may nest.
const MAX_NESTING: usize = 32;

struct TemplateParser {
    pieces: Vec<Piece>,
    pos: usize,
    scopes: Vec<String>,
    depth: usize,
}

enum Terminator {
    Eof,
    End,
    Else(Vec<Tok>),
}

impl TemplateParser {
    fn list(&mut self) -> Result<(Vec<Node>, Terminator, String), TemplateError> {
        let mut nodes = Vec::new();
        while self.pos < self.pieces.len() {
            let piece = self.pieces[self.pos].clone();
            self.pos += 1;
            match piece {
                Piece::Text(t) => nodes.push(Node::Text(t)),
                Piece::Action { tokens, at } => {
                    let err = |m: String| TemplateError(format!("template: {at}: {m}"));
                    let keyword = match tokens.first() {
                        Some(Tok::Ident(k)) => k.as_str(),
                        _ => "",
                    };
                    match keyword {
                        "end" => {
                            if tokens.len() != 1 {
                                return Err(err("unexpected tokens after end".into()));
                            }
                            return Ok((nodes, Terminator::End, at));
                        }
                        "else" => return Ok((nodes, Terminator::Else(tokens[1..].to_vec()), at)),
                        "if" => {
                            self.enter().map_err(err)?;
                            nodes.push(self.if_(tokens[1..].to_vec(), &at)?);
                            self.depth -= 1;
                        }
                        "range" | "with" => {
                            self.enter().map_err(err)?;
                            let mark = self.scopes.len();
                            let pipe = self
                                .pipeline(&tokens[1..], keyword == "range")
                                .map_err(err)?;
                            let (body, end, _) = self.list()?;
                            let otherwise = match end {
                                Terminator::End => Vec::new(),
                                Terminator::Else(rest) if rest.is_empty() => {
                                    let (o, end, at2) = self.list()?;
                                    if !matches!(end, Terminator::End) {
                                        return Err(TemplateError(format!(
                                            "template: {at2}: expected end"
                                        )));
                                    }
                                    o
                                }
                                Terminator::Else(_) => {
                                    return Err(err(format!("unexpected else if in {keyword}")))
                                }
                                Terminator::Eof => {
                                    return Err(err(format!(
                                        "unexpected EOF: {keyword} has no end"
                                    )))
                                }
                            };
                            self.scopes.truncate(mark);
                            self.depth -= 1;
                            nodes.push(if keyword == "range" {
                                Node::Range {
                                    pipe,
                                    body,
                                    otherwise,
                                }
                            } else {
                                Node::With {
                                    pipe,
                                    body,
                                    otherwise,
                                }
                            });
                        }
                        "define" | "template" | "block" | "break" | "continue" => {
                            return Err(err(format!(
                                "{keyword} is not supported in alert templates"
                            )))
                        }
                        _ => {
                            if tokens.is_empty() {
                                return Err(err("missing value for command".into()));
                            }
                            nodes.push(Node::Action(self.pipeline(&tokens, false).map_err(err)?));
                        }
                    }
                }
            }
        }
        Ok((nodes, Terminator::Eof, String::new()))
    }

    fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(format!(
                "blocks or parentheses nest deeper than {MAX_NESTING} levels"
            ));
        }
        Ok(())
    }

    fn if_(&mut self, cond: Vec<Tok>, at: &str) -> Result<Node, TemplateError> {
        let err = |m: String| TemplateError(format!("template: {at}: {m}"));
        let mark = self.scopes.len();
        let mut branches = Vec::new();
        let mut cond = cond;
        let otherwise;
        loop {
            let pipe = self.pipeline(&cond, false).map_err(err)?;
            let (body, end, at2) = self.list()?;
            branches.push((pipe, body));
            match end {
                Terminator::End => {
                    otherwise = Vec::new();
                    break;
                }
                Terminator::Else(rest) if rest.is_empty() => {
                    let (o, end, at3) = self.list()?;
                    if !matches!(end, Terminator::End) {
                        return Err(TemplateError(format!("template: {at3}: if has no end")));
                    }
                    otherwise = o;
                    break;
                }
                Terminator::Else(rest) => match rest.first() {
                    Some(Tok::Ident(k)) if k == "if" => cond = rest[1..].to_vec(),
                    _ => {
                        return Err(TemplateError(format!(
                            "template: {at2}: unexpected tokens after else"
                        )))
                    }
                },
                Terminator::Eof => return Err(err("unexpected EOF: if has no end".into())),
            }
        }
        self.scopes.truncate(mark);
        Ok(Node::If {
            branches,
            otherwise,
        })
    }

    fn pipeline(&mut self, tokens: &[Tok], range: bool) -> Result<Pipeline, String> {
        let mut decl = Vec::new();
        let mut declare = false;
        let mut body = tokens;
        // `$x :=`, `$x =`, or in range `$k, $v :=`
        let assign_at = tokens
            .iter()
            .position(|t| matches!(t, Tok::Declare | Tok::Assign));
        if let Some(at) = assign_at {
            let names = &tokens[..at];
            let vars: Vec<&Tok> = names.iter().filter(|t| !matches!(t, Tok::Comma)).collect();
            let well_formed = !vars.is_empty()
                && vars
                    .iter()
                    .all(|t| matches!(t, Tok::Var(_, f) if f.is_empty()))
                && (vars.len() == 1 || (range && vars.len() == 2 && names.len() == 3));
            if well_formed {
                declare = matches!(tokens[at], Tok::Declare);
                for v in vars {
                    if let Tok::Var(name, _) = v {
                        if !declare && !self.scopes.contains(name) {
                            return Err(format!("undefined variable: ${name}"));
                        }
                        decl.push(name.clone());
                    }
                }
                body = &tokens[at + 1..];
            }
        }
        if body.is_empty() {
            return Err("missing value for command".into());
        }
        let mut pos = 0;
        let pipe = self.commands(body, &mut pos)?;
        if pos != body.len() {
            return Err("unexpected ) in operand".into());
        }
        if declare {
            self.scopes.extend(decl.iter().cloned());
        }
        Ok(Pipeline {
            decl,
            declare,
            commands: pipe,
        })
    }

    fn commands(&mut self, tokens: &[Tok], pos: &mut usize) -> Result<Vec<Vec<Operand>>, String> {
        let mut commands = Vec::new();
        let mut current = Vec::new();
        while *pos < tokens.len() {
            let tok = &tokens[*pos];
            *pos += 1;
            match tok {
                Tok::Pipe => {
                    if current.is_empty() {
                        return Err("missing command before |".into());
                    }
                    commands.push(std::mem::take(&mut current));
                }
                Tok::RParen => {
                    *pos -= 1;
                    break;
                }
                Tok::LParen => {
                    self.enter()?;
                    let inner = self.commands(tokens, pos)?;
                    self.depth -= 1;
                    if tokens.get(*pos) != Some(&Tok::RParen) {
                        return Err("unclosed left paren".into());
                    }
                    *pos += 1;
                    if inner.is_empty() {
                        return Err("missing value in parentheses".into());
                    }
                    current.push(Operand::Sub(Box::new(Pipeline {
                        decl: vec![],
                        declare: false,
                        commands: inner,
                    })));
                }
                Tok::Field(f) => current.push(Operand::Field(f.clone())),
                Tok::Var(name, f) => {
                    if !name.is_empty() && !self.scopes.contains(name) {
                        return Err(format!("undefined variable \"${name}\""));
                    }
                    current.push(Operand::Var(name.clone(), f.clone()));
                }
                Tok::Str(s) => current.push(Operand::Literal(Value::Str(s.clone()))),
                Tok::Number(n) => current.push(Operand::Literal(Value::Number(*n))),
                Tok::Ident(name) => match name.as_str() {
                    "true" => current.push(Operand::Literal(Value::Bool(true))),
                    "false" => current.push(Operand::Literal(Value::Bool(false))),
                    "nil" => current.push(Operand::Literal(Value::Nil)),
                    f if FUNCTIONS.contains(&f) => current.push(Operand::Func(f.to_string())),
                    other => return Err(format!("function \"{other}\" not defined")),
                },
                Tok::Declare | Tok::Assign | Tok::Comma => {
                    return Err("unexpected := or , in command".into())
                }
            }
        }
        if current.is_empty() {
            if commands.is_empty() {
                return Ok(commands);
            }
            return Err("missing command after |".into());
        }
        commands.push(current);
        Ok(commands)
    }
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    nodes: Vec<Node>,
}

impl Template {
    /// Parses `text`; errors name the line and column.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let pieces = split(text)?;
        let mut parser = TemplateParser {
            pieces,
            pos: 0,
            scopes: vec!["labels".into(), "values".into(), "value".into()],
            depth: 0,
        };
        let (nodes, end, at) = parser.list()?;
        match end {
            Terminator::Eof => Ok(Template { nodes }),
            Terminator::End => Err(TemplateError(format!("template: {at}: unexpected end"))),
            Terminator::Else(_) => Err(TemplateError(format!("template: {at}: unexpected else"))),
        }
    }

    /// Renders the template for one alert instance.
    pub fn render(&self, data: &TemplateData) -> Result<String, TemplateError> {
        self.render_in(&data.context())
    }

    /// Renders the template with a prepared context.
    pub fn render_in(&self, context: &Context) -> Result<String, TemplateError> {
        let mut state = Exec {
            base: context,
            vars: Vec::new(),
            out: String::new(),
            steps: 0,
        };
        state.nodes(&self.nodes, &context.root)?;
        Ok(state.out)
    }
}

/// Expands `text` for an instance; an error gives Prometheus' `<error expanding template: ...>`
/// text rather than losing the annotation.
pub fn expand(template: &Template, context: &Context) -> String {
    match template.render_in(context) {
        Ok(s) => s,
        Err(e) => format!("<error expanding template: {e}>"),
    }
}

// ---------------------------------------------------------------------------------------------
// Execution

struct Exec<'a> {
    /// `$`, `$labels`, `$values`, `$value` (unless a declaration shadows them).
    base: &'a Context,
    vars: Vec<(String, Value)>,
    out: String,
    /// Nodes and range iterations executed so far (nested ranges could otherwise run for ever
    /// without writing anything).
    steps: usize,
}

/// `value.f1.f2...`, walking by reference and cloning only what is returned.
fn field_of(value: &Value, fields: &[String]) -> Result<Value, String> {
    let Some((f, rest)) = fields.split_first() else {
        return Ok(value.clone());
    };
    match value {
        Value::Map(m) => match m.get(f) {
            Some(v) => field_of(v, rest),
            None => field_of(&Value::Missing, rest),
        },
        Value::Labels(l) => {
            let v = l.get(f).map_or(Value::Missing, |v| Value::Str(v.clone()));
            field_of(&v, rest)
        }
        Value::Sample { labels, value } => match f.as_str() {
            "Labels" => field_of(&Value::Labels(labels.clone()), rest),
            "Value" => field_of(&Value::Number(*value), rest),
            _ => Err(format!("can't evaluate field {f} in type Value")),
        },
        Value::Nil => Ok(Value::Nil),
        Value::Missing => Ok(Value::Missing),
        other => Err(format!(
            "can't evaluate field {f} in type {}",
            other.type_name()
        )),
    }
}

impl Exec<'_> {
    fn write(&mut self, text: &str) -> Result<(), TemplateError> {
        if self.out.len() + text.len() > MAX_OUTPUT {
            return Err(TemplateError(format!(
                "output longer than {MAX_OUTPUT} bytes"
            )));
        }
        self.out.push_str(text);
        Ok(())
    }

    fn step(&mut self) -> Result<(), TemplateError> {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return Err(TemplateError(format!(
                "template ran more than {MAX_STEPS} steps"
            )));
        }
        Ok(())
    }

    fn nodes(&mut self, nodes: &[Node], dot: &Value) -> Result<(), TemplateError> {
        for node in nodes {
            self.step()?;
            match node {
                Node::Text(t) => self.write(t)?,
                Node::Action(p) => {
                    let v = self.pipeline(p, dot)?;
                    if p.decl.is_empty() {
                        self.write(&v.to_string())?;
                    }
                }
                Node::If {
                    branches,
                    otherwise,
                } => {
                    let mark = self.vars.len();
                    let mut done = false;
                    for (cond, body) in branches {
                        if self.pipeline(cond, dot)?.truthy() {
                            self.nodes(body, dot)?;
                            done = true;
                            break;
                        }
                    }
                    if !done {
                        self.nodes(otherwise, dot)?;
                    }
                    self.vars.truncate(mark);
                }
                Node::With {
                    pipe,
                    body,
                    otherwise,
                } => {
                    let mark = self.vars.len();
                    let v = self.pipeline(pipe, dot)?;
                    if v.truthy() {
                        self.nodes(body, &v)?;
                    } else {
                        self.nodes(otherwise, dot)?;
                    }
                    self.vars.truncate(mark);
                }
                Node::Range {
                    pipe,
                    body,
                    otherwise,
                } => {
                    let mark = self.vars.len();
                    let value = self.eval_commands(&pipe.commands, dot)?;
                    let items: Vec<(Value, Value)> = match value {
                        Value::Map(m) => m.into_iter().map(|(k, v)| (Value::Str(k), v)).collect(),
                        Value::Labels(l) => l
                            .into_iter()
                            .map(|(k, v)| (Value::Str(k), Value::Str(v)))
                            .collect(),
                        Value::List(l) => l
                            .into_iter()
                            .enumerate()
                            .map(|(i, v)| (Value::Number(i as f64), v))
                            .collect(),
                        Value::Nil | Value::Missing => Vec::new(),
                        other => {
                            return Err(TemplateError(format!("range can't iterate over {other}")))
                        }
                    };
                    if items.is_empty() {
                        self.nodes(otherwise, dot)?;
                    }
                    for (key, item) in items {
                        self.step()?;
                        let inner = self.vars.len();
                        match pipe.decl.as_slice() {
                            [v] => self.vars.push((v.clone(), item.clone())),
                            [k, v] => {
                                self.vars.push((k.clone(), key));
                                self.vars.push((v.clone(), item.clone()));
                            }
                            _ => {}
                        }
                        self.nodes(body, &item)?;
                        self.vars.truncate(inner);
                    }
                    self.vars.truncate(mark);
                }
            }
        }
        Ok(())
    }

    fn var(&self, name: &str) -> Result<&Value, TemplateError> {
        if let Some((_, v)) = self.vars.iter().rev().find(|(n, _)| n == name) {
            return Ok(v);
        }
        match name {
            "" => Ok(&self.base.root),
            "labels" => Ok(&self.base.labels),
            "values" => Ok(&self.base.values),
            "value" => Ok(&self.base.value),
            _ => Err(TemplateError(format!("undefined variable: ${name}"))),
        }
    }

    fn pipeline(&mut self, p: &Pipeline, dot: &Value) -> Result<Value, TemplateError> {
        let value = self.eval_commands(&p.commands, dot)?;
        if let Some(name) = p.decl.first() {
            if p.declare {
                self.vars.push((name.clone(), value.clone()));
            } else if let Some(slot) = self.vars.iter_mut().rev().find(|(n, _)| n == name) {
                slot.1 = value.clone();
            } else {
                // Assigning to $labels, $values or $value shadows the built-in one.
                self.vars.push((name.clone(), value.clone()));
            }
        }
        Ok(value)
    }

    fn eval_commands(
        &mut self,
        commands: &[Vec<Operand>],
        dot: &Value,
    ) -> Result<Value, TemplateError> {
        let mut piped: Option<Value> = None;
        for command in commands {
            piped = Some(self.command(command, dot, piped.take())?);
        }
        Ok(piped.unwrap_or(Value::Nil))
    }

    fn operand(&mut self, op: &Operand, dot: &Value) -> Result<Value, TemplateError> {
        let e = |m: String| TemplateError(m);
        match op {
            Operand::Field(f) => field_of(dot, f).map_err(e),
            Operand::Var(name, f) => field_of(self.var(name)?, f).map_err(e),
            Operand::Literal(v) => Ok(v.clone()),
            Operand::Func(name) => call(name, Vec::new()).map_err(e),
            Operand::Sub(p) => self.eval_commands(&p.commands, dot),
        }
    }

    fn command(
        &mut self,
        command: &[Operand],
        dot: &Value,
        piped: Option<Value>,
    ) -> Result<Value, TemplateError> {
        if let Some(Operand::Func(name)) = command.first() {
            let mut args = Vec::with_capacity(command.len());
            for op in &command[1..] {
                args.push(self.operand(op, dot)?);
            }
            args.extend(piped);
            return call(name, args)
                .map_err(|m| TemplateError(format!("error calling {name}: {m}")));
        }
        if command.len() > 1 || piped.is_some() {
            return Err(TemplateError("can't give argument to non-function".into()));
        }
        match command.first() {
            Some(op) => self.operand(op, dot),
            None => Ok(Value::Nil),
        }
    }
}

fn number_arg(v: &Value) -> Result<f64, String> {
    v.as_number()
        .ok_or_else(|| format!("can't convert {} ({v}) to a number", v.type_name()))
}

/// Orders two values as Go's comparison functions do; `None` when a NaN is involved (every
/// comparison with NaN is false, except `ne`).
fn compare(a: &Value, b: &Value) -> Result<Option<std::cmp::Ordering>, String> {
    let numeric = |v: &Value| {
        matches!(
            v,
            Value::Number(_)
                | Value::Sample { .. }
                | Value::Eval {
                    number: Some(_),
                    ..
                }
        )
    };
    if numeric(a) && numeric(b) {
        let (x, y) = (number_arg(a)?, number_arg(b)?);
        return Ok(x.partial_cmp(&y));
    }
    let nothing = |v: &Value| matches!(v, Value::Nil | Value::Missing);
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => Ok(Some(x.cmp(y))),
        (Value::Bool(x), Value::Bool(y)) => Ok(Some(x.cmp(y))),
        (x, y) if nothing(x) && nothing(y) => Ok(Some(std::cmp::Ordering::Equal)),
        _ => Err(format!(
            "incompatible types for comparison: {} and {}",
            a.type_name(),
            b.type_name()
        )),
    }
}

fn arity(name: &str, args: &[Value], n: usize) -> Result<(), String> {
    if args.len() != n {
        return Err(format!(
            "wrong number of args for {name}: want {n} got {}",
            args.len()
        ));
    }
    Ok(())
}

fn call(name: &str, args: Vec<Value>) -> Result<Value, String> {
    use std::cmp::Ordering::*;
    Ok(match name {
        "and" => {
            if args.is_empty() {
                return Err("and needs arguments".into());
            }
            args.iter()
                .find(|a| !a.truthy())
                .unwrap_or(&args[args.len() - 1])
                .clone()
        }
        "or" => {
            if args.is_empty() {
                return Err("or needs arguments".into());
            }
            args.iter()
                .find(|a| a.truthy())
                .unwrap_or(&args[args.len() - 1])
                .clone()
        }
        "not" => {
            arity(name, &args, 1)?;
            Value::Bool(!args[0].truthy())
        }
        "len" => {
            arity(name, &args, 1)?;
            Value::Number(match &args[0] {
                Value::Str(s) => s.len(),
                Value::Map(m) => m.len(),
                Value::Labels(l) => l.len(),
                Value::List(l) => l.len(),
                Value::Eval { text, .. } => text.len(),
                other => return Err(format!("len of {}", other.type_name())),
            } as f64)
        }
        "index" => {
            let mut it = args.into_iter();
            let mut v = it.next().ok_or("index of nothing")?;
            for key in it {
                v = match (v, key) {
                    (Value::Map(mut m), k) => m.remove(&k.to_string()).unwrap_or(Value::Missing),
                    // Go's index of a map[string]string gives "" for a missing key.
                    (Value::Labels(l), k) => {
                        Value::Str(l.get(&k.to_string()).cloned().unwrap_or_default())
                    }
                    (Value::List(l), Value::Number(n)) if n >= 0.0 && (n as usize) < l.len() => {
                        l[n as usize].clone()
                    }
                    (Value::List(_), k) => return Err(format!("index {k} out of range")),
                    (Value::Nil, _) => Value::Nil,
                    (Value::Missing, _) => Value::Missing,
                    (other, _) => {
                        return Err(format!("can't index item of type {}", other.type_name()))
                    }
                };
            }
            v
        }
        "print" => {
            // Go's Sprint: spaces between operands when neither is a string.
            let mut out = String::new();
            for (i, a) in args.iter().enumerate() {
                let is_str = |v: &Value| matches!(v, Value::Str(_) | Value::Eval { .. });
                if i > 0 && !is_str(a) && !is_str(&args[i - 1]) {
                    out.push(' ');
                }
                out.push_str(&a.to_string());
            }
            Value::Str(out)
        }
        "println" => Value::Str(
            args.iter()
                .map(Value::to_string)
                .collect::<Vec<_>>()
                .join(" ")
                + "\n",
        ),
        "printf" => {
            let mut it = args.into_iter();
            let format = match it.next() {
                Some(Value::Str(f)) => f,
                Some(other) => {
                    return Err(format!(
                        "printf format must be a string, not {}",
                        other.type_name()
                    ))
                }
                None => return Err("printf needs a format".into()),
            };
            Value::Str(sprintf(&format, &it.collect::<Vec<_>>()))
        }
        "eq" => {
            if args.len() < 2 {
                return Err("eq needs at least 2 arguments".into());
            }
            let mut any = false;
            for other in &args[1..] {
                if compare(&args[0], other)? == Some(Equal) {
                    any = true;
                }
            }
            Value::Bool(any)
        }
        "ne" | "lt" | "le" | "gt" | "ge" => {
            arity(name, &args, 2)?;
            let ord = compare(&args[0], &args[1])?;
            Value::Bool(match (name, ord) {
                ("ne", ord) => ord != Some(Equal),
                (_, None) => false,
                ("lt", Some(o)) => o == Less,
                ("le", Some(o)) => o != Greater,
                ("gt", Some(o)) => o == Greater,
                (_, Some(o)) => o != Less,
            })
        }
        "humanize" => {
            arity(name, &args, 1)?;
            Value::Str(humanize(number_arg(&args[0])?))
        }
        "humanize1024" => {
            arity(name, &args, 1)?;
            Value::Str(humanize1024(number_arg(&args[0])?))
        }
        "humanizePercentage" => {
            arity(name, &args, 1)?;
            Value::Str(format!(
                "{}%",
                format_float_g(number_arg(&args[0])? * 100.0, Some(4))
            ))
        }
        "humanizeDuration" => {
            arity(name, &args, 1)?;
            Value::Str(humanize_duration(number_arg(&args[0])?))
        }
        "toUpper" | "toLower" | "title" => {
            arity(name, &args, 1)?;
            let s = args[0].to_string();
            Value::Str(match name {
                "toUpper" => s.to_uppercase(),
                "toLower" => s.to_lowercase(),
                _ => title(&s),
            })
        }
        "reReplaceAll" => {
            arity(name, &args, 3)?;
            let re = regex::Regex::new(&args[0].to_string()).map_err(|e| e.to_string())?;
            Value::Str(
                re.replace_all(&args[2].to_string(), args[1].to_string().as_str())
                    .into_owned(),
            )
        }
        "match" => {
            arity(name, &args, 2)?;
            let re = regex::Regex::new(&args[0].to_string()).map_err(|e| e.to_string())?;
            Value::Bool(re.is_match(&args[1].to_string()))
        }
        "filterLabels" | "removeLabels" | "filterLabelsRe" | "removeLabelsRe" => {
            arity(name, &args, 2)?;
            let Value::Labels(labels) = &args[0] else {
                return Err(format!("{name} needs labels, not {}", args[0].type_name()));
            };
            let pattern = args[1].to_string();
            let re = if name.ends_with("Re") {
                Some(regex::Regex::new(&pattern).map_err(|e| e.to_string())?)
            } else {
                None
            };
            let keep = name.starts_with("filter");
            Value::Labels(
                labels
                    .iter()
                    .filter(|(k, _)| {
                        let hit = re.as_ref().map_or(**k == pattern, |re| re.is_match(k));
                        hit == keep
                    })
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            )
        }
        "mergeLabelValues" => {
            arity(name, &args, 1)?;
            let Value::Map(values) = &args[0] else {
                return Err(format!("{name} needs $values, not {}", args[0].type_name()));
            };
            let mut merged: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
            for value in values.values() {
                if let Value::Sample { labels, .. } = value {
                    for (k, v) in labels {
                        merged.entry(k.clone()).or_default().insert(v.clone());
                    }
                }
            }
            Value::Labels(
                merged
                    .into_iter()
                    .map(|(k, vs)| (k, vs.into_iter().collect::<Vec<_>>().join(", ")))
                    .collect(),
            )
        }
        "safeHtml" => {
            arity(name, &args, 1)?;
            Value::Str(args[0].to_string())
        }
        "stripPort" => {
            arity(name, &args, 1)?;
            let text = args[0].to_string();
            Value::Str(split_host_port(&text).map_or(text.clone(), |(host, _)| host.to_string()))
        }
        "stripDomain" => {
            arity(name, &args, 1)?;
            let text = args[0].to_string();
            let (host, port) = split_host_port(&text).unwrap_or((&text, ""));
            if host.parse::<std::net::IpAddr>().is_ok() {
                Value::Str(text.clone())
            } else {
                let short = host.split('.').next().unwrap_or(host);
                Value::Str(if port.is_empty() {
                    short.to_string()
                } else {
                    format!("{short}:{port}")
                })
            }
        }
        "parseDuration" => {
            arity(name, &args, 1)?;
            let text = args[0].to_string();
            let d = crate::duration::parse_duration(&text)
                .ok_or_else(|| format!("{text:?} is not a duration"))?;
            Value::Number(d.as_secs_f64())
        }
        other => return Err(format!("function \"{other}\" not defined")),
    })
}

/// `host:port` or `[v6]:port` split as Go's `net.SplitHostPort`; `None` when there is no port.
fn split_host_port(text: &str) -> Option<(&str, &str)> {
    if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        return after.strip_prefix(':').map(|port| (host, port));
    }
    let (host, port) = text.rsplit_once(':')?;
    if host.contains(':') {
        return None;
    }
    Some((host, port))
}

fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut start = true;
    for c in s.chars() {
        if start && c.is_alphabetic() {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        start = !(c.is_alphanumeric() || c == '_' || c == '\'');
    }
    out
}

/// Prometheus' `humanize`: SI prefixes, four significant digits.
pub fn humanize(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format_float_g(v, Some(4));
    }
    let mut v = v;
    let mut prefix = "";
    if v.abs() >= 1.0 {
        for p in ["k", "M", "G", "T", "P", "E", "Z", "Y"] {
            if v.abs() < 1000.0 {
                break;
            }
            prefix = p;
            v /= 1000.0;
        }
    } else {
        for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
            if v.abs() >= 1.0 {
                break;
            }
            prefix = p;
            v *= 1000.0;
        }
    }
    format!("{}{prefix}", format_float_g(v, Some(4)))
}

/// Prometheus' `humanize1024`: binary prefixes.
pub fn humanize1024(v: f64) -> String {
    if v.abs() <= 1.0 || !v.is_finite() {
        return format_float_g(v, Some(4));
    }
    let mut v = v;
    let mut prefix = "";
    for p in ["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"] {
        if v.abs() < 1024.0 {
            break;
        }
        prefix = p;
        v /= 1024.0;
    }
    format!("{}{prefix}", format_float_g(v, Some(4)))
}

/// Prometheus' `humanizeDuration` of seconds: `1d 2h 3m 4s`, `1.5s`, `250ms`.
pub fn humanize_duration(v: f64) -> String {
    if !v.is_finite() {
        return format_float_g(v, Some(4));
    }
    if v == 0.0 {
        return "0s".into();
    }
    if v.abs() >= 1.0 {
        let sign = if v < 0.0 { "-" } else { "" };
        let a = v.abs();
        let total = a as i64;
        let (days, hours, minutes, seconds) = (
            total / 86_400,
            (total / 3600) % 24,
            (total / 60) % 60,
            total % 60,
        );
        if days != 0 {
            return format!("{sign}{days}d {hours}h {minutes}m {seconds}s");
        }
        if hours != 0 {
            return format!("{sign}{hours}h {minutes}m {seconds}s");
        }
        if minutes != 0 {
            return format!("{sign}{minutes}m {seconds}s");
        }
        return format!("{sign}{}s", format_float_g(a, Some(4)));
    }
    let mut v = v;
    let mut prefix = "";
    for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
        if v.abs() >= 1.0 {
            break;
        }
        prefix = p;
        v *= 1000.0;
    }
    format!("{}{prefix}s", format_float_g(v, Some(4)))
}

/// Go's `%g` (`precision` significant digits, or the shortest that round-trips), which is also
/// how Go prints a float64 with `%v`: `3.5`, `10`, `1e+06`, `1.5e-07`.
pub fn format_float_g(v: f64, precision: Option<usize>) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let sci = match precision {
        Some(p) => format!("{:.*e}", p.max(1) - 1, v),
        None => format!("{v:e}"),
    };
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let negative = mantissa.starts_with('-');
    let mut digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    while digits.len() > 1 && digits.ends_with('0') {
        digits.pop();
    }
    if v == 0.0 {
        digits = "0".into();
    }
    let nd = digits.len() as i32;
    let dp = exp + 1; // position of the decimal point relative to the digits
                      // Go: %e from exponent `precision` up (6 for the shortest form), so 1e6 prints as 1e+06.
    let mut eprec = match precision {
        Some(p) => p.max(1) as i32,
        None => 6,
    };
    if precision.is_some() && eprec > nd && nd >= dp {
        eprec = nd;
    }
    let sign = if negative { "-" } else { "" };
    if exp < -4 || exp >= eprec {
        let mut m = digits[..1].to_string();
        if nd > 1 {
            m.push('.');
            m.push_str(&digits[1..]);
        }
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{m}e{esign}{:02}", exp.abs());
    }
    if dp <= 0 {
        format!("{sign}0.{}{digits}", "0".repeat((-dp) as usize))
    } else if dp >= nd {
        format!("{sign}{digits}{}", "0".repeat((dp - nd) as usize))
    } else {
        format!(
            "{sign}{}.{}",
            &digits[..dp as usize],
            &digits[dp as usize..]
        )
    }
}

/// A subset of Go's `Sprintf`: verbs `v s d f e g q x t %` with flags `-+ 0`, width and precision.
fn sprintf(format: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let mut chars = format.chars().peekable();
    let mut next_arg = 0;
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let (mut minus, mut plus, mut zero, mut space) = (false, false, false, false);
        while let Some(&f) = chars.peek() {
            match f {
                '-' => minus = true,
                '+' => plus = true,
                '0' => zero = true,
                ' ' => space = true,
                _ => break,
            }
            chars.next();
        }
        let mut width = String::new();
        while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            width.push(d);
            chars.next();
        }
        let mut precision: Option<usize> = None;
        if chars.peek() == Some(&'.') {
            chars.next();
            let mut p = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                p.push(d);
                chars.next();
            }
            precision = Some(p.parse().unwrap_or(0));
        }
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.get(next_arg) else {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        };
        next_arg += 1;
        let number = arg.as_number().filter(|_| {
            matches!(
                arg,
                Value::Number(_)
                    | Value::Sample { .. }
                    | Value::Eval {
                        number: Some(_),
                        ..
                    }
            )
        });
        let body = match (verb, number) {
            ('v', _) | ('s', _) => {
                let s = arg.to_string();
                match precision {
                    Some(p) if verb == 's' => s.chars().take(p).collect(),
                    _ => s,
                }
            }
            ('t', _) => match arg {
                Value::Bool(b) => b.to_string(),
                other => format!("%!t({}={other})", other.type_name()),
            },
            ('q', _) => format!("{:?}", arg.to_string()),
            ('d', Some(n)) if n.fract() == 0.0 && n.abs() < 9.2e18 => {
                let s = (n as i64).to_string();
                if plus && n >= 0.0 {
                    format!("+{s}")
                } else if space && n >= 0.0 {
                    format!(" {s}")
                } else {
                    s
                }
            }
            ('x', Some(n)) if n.fract() == 0.0 && n.abs() < 9.2e18 => {
                let i = n as i64;
                if i < 0 {
                    format!("-{:x}", -i)
                } else {
                    format!("{i:x}")
                }
            }
            ('x', None) if matches!(arg, Value::Str(_)) => arg
                .to_string()
                .bytes()
                .map(|b| format!("{b:02x}"))
                .collect(),
            ('f', Some(n)) | ('F', Some(n)) => {
                let s = if n.is_finite() {
                    format!("{:.*}", precision.unwrap_or(6), n)
                } else {
                    format_float_g(n, None)
                };
                if plus && n >= 0.0 {
                    format!("+{s}")
                } else if space && n >= 0.0 {
                    format!(" {s}")
                } else {
                    s
                }
            }
            ('e', Some(n)) => {
                let s = format!("{:.*e}", precision.unwrap_or(6), n);
                let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
                let e: i32 = e.parse().unwrap_or(0);
                format!("{m}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs())
            }
            ('g', Some(n)) => format_float_g(n, precision),
            (verb, _) => format!("%!{verb}({}={arg})", arg.type_name()),
        };
        let width: usize = width.parse().unwrap_or(0);
        let len = body.chars().count();
        if len >= width {
            out.push_str(&body);
        } else if minus {
            out.push_str(&body);
            out.push_str(&" ".repeat(width - len));
        } else if zero && number.is_some() {
            let (sign, digits) = match body.strip_prefix('-') {
                Some(d) => ("-", d.to_string()),
                None => ("", body.clone()),
            };
            out.push_str(sign);
            out.push_str(&"0".repeat(width - len));
            out.push_str(&digits);
        } else {
            out.push_str(&" ".repeat(width - len));
            out.push_str(&body);
        }
    }
    if next_arg < args.len() {
        let extra: Vec<String> = args[next_arg..]
            .iter()
            .map(|a| format!("{}={a}", a.type_name()))
            .collect();
        out.push_str(&format!("%!(EXTRA {})", extra.join(", ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::labels;

    fn data() -> TemplateData {
        TemplateData {
            labels: labels(&[("instance", "web-1:9100"), ("job", "node")]),
            values: BTreeMap::from([
                (
                    "B".to_string(),
                    (labels(&[("instance", "web-1:9100")]), Some(0.8734)),
                ),
                ("C".to_string(), (Labels::new(), Some(1.0))),
            ]),
            value_text: "[ var='B' labels={instance=web-1:9100} value=0.8734 ]".into(),
            value: Some(0.8734),
        }
    }

    fn render(src: &str) -> String {
        Template::parse(src)
            .unwrap_or_else(|e| panic!("{src}: {e}"))
            .render(&data())
            .unwrap_or_else(|e| panic!("{src}: {e}"))
    }

    #[test]
    fn grafana_variables() {
        assert_eq!(
            render("{{ $labels.instance }} on {{ $labels.job }}"),
            "web-1:9100 on node"
        );
        assert_eq!(
            render("{{ $value }}"),
            "[ var='B' labels={instance=web-1:9100} value=0.8734 ]"
        );
        assert_eq!(render("{{ $values.B.Value }}"), "0.8734");
        assert_eq!(render("{{ $values.B.Labels.instance }}"), "web-1:9100");
        assert_eq!(render("{{ .Labels.job }}/{{ .Values.C.Value }}"), "node/1");
        assert_eq!(render("[{{ $labels.missing }}]"), "[[no value]]");
        assert_eq!(render("[{{ $values.Z.Value }}]"), "[[no value]]");
        assert_eq!(render("{{ $labels }}"), "instance=web-1:9100, job=node");
        assert_eq!(render("{{ $values.B }} {{ $values.C }}"), "0.87 1.0");
        assert_eq!(render("{{ $values.B.Labels }}"), "instance=web-1:9100");
        assert_eq!(
            render("{{ index $labels \"nope\" }}|{{ len $labels }}"),
            "|2"
        );
    }

    #[test]
    fn humanize_functions() {
        assert_eq!(render("{{ humanize $value }}"), "873.4m");
        assert_eq!(render("{{ $value | humanize }}"), "873.4m");
        assert_eq!(render("{{ humanizePercentage $values.B.Value }}"), "87.34%");
        assert_eq!(humanize(1234567.0), "1.235M");
        assert_eq!(humanize(0.0), "0");
        assert_eq!(humanize(-1500.0), "-1.5k");
        assert_eq!(humanize(12.0), "12");
        assert_eq!(humanize1024(1024.0 * 1024.0 * 3.5), "3.5Mi");
        assert_eq!(humanize1024(0.5), "0.5");
        assert_eq!(humanize_duration(90061.0), "1d 1h 1m 1s");
        assert_eq!(humanize_duration(3725.0), "1h 2m 5s");
        assert_eq!(humanize_duration(65.0), "1m 5s");
        assert_eq!(humanize_duration(1.5), "1.5s");
        assert_eq!(humanize_duration(0.25), "250ms");
        assert_eq!(humanize_duration(0.0), "0s");
        assert_eq!(render("{{ humanizeDuration \"90\" }}"), "1m 30s");
    }

    #[test]
    fn grafana_value_printing() {
        assert_eq!(sample_text(0.0), "0");
        assert_eq!(sample_text(0.8734), "0.87");
        assert_eq!(sample_text(1.0), "1.0");
        assert_eq!(sample_text(97.3), "97");
        assert_eq!(sample_text(1234.4), "1234");
        assert_eq!(sample_text(-0.001234), "-0.0012");
        assert_eq!(sample_text(f64::NAN), "NaN");
        // A refId without a number is NaN; comparisons with NaN are false, as in Go.
        let mut d = data();
        d.values.insert("N".into(), (Labels::new(), None));
        let t = Template::parse(
            "{{ $values.N }} {{ gt $values.N.Value 1.0 }} {{ lt $values.N.Value 1.0 }} {{ eq $values.N.Value $values.N.Value }} {{ ne $values.N.Value 1.0 }}",
        )
        .unwrap();
        assert_eq!(t.render(&d).unwrap(), "NaN false false false true");
    }

    #[test]
    fn label_functions() {
        assert_eq!(render("{{ filterLabels $labels \"job\" }}"), "job=node");
        assert_eq!(
            render("{{ removeLabels $labels \"job\" }}"),
            "instance=web-1:9100"
        );
        assert_eq!(
            render("{{ filterLabelsRe $labels \"^inst\" }}"),
            "instance=web-1:9100"
        );
        assert_eq!(render("{{ removeLabelsRe $labels \"^inst\" }}"), "job=node");
        assert_eq!(
            render("{{ mergeLabelValues $values }}"),
            "instance=web-1:9100"
        );
        assert_eq!(render("{{ stripPort $labels.instance }}"), "web-1");
        assert_eq!(
            render("{{ stripPort \"[::1]:9090\" }} {{ stripPort \"::1\" }}"),
            "::1 ::1"
        );
        assert_eq!(
            render("{{ stripDomain \"db.example.com:5432\" }}"),
            "db:5432"
        );
        assert_eq!(render("{{ stripDomain \"10.0.0.1:80\" }}"), "10.0.0.1:80");
        assert_eq!(render("{{ parseDuration \"1m30s\" }}"), "90");
        assert_eq!(render("{{ safeHtml \"<b>\" }}"), "<b>");
        let err = Template::parse("{{ filterLabels $labels.job \"x\" }}")
            .unwrap()
            .render(&data())
            .unwrap_err();
        assert!(err.to_string().contains("needs labels"), "{err}");
    }

    #[test]
    fn go_float_printing() {
        assert_eq!(format_float_g(3.5, None), "3.5");
        assert_eq!(format_float_g(10.0, None), "10");
        assert_eq!(format_float_g(0.0001, None), "0.0001");
        assert_eq!(format_float_g(0.00001, None), "1e-05");
        assert_eq!(format_float_g(1e21, None), "1e+21");
        assert_eq!(format_float_g(1e6, None), "1e+06");
        assert_eq!(format_float_g(123456.0, None), "123456");
        assert_eq!(format_float_g(123456789.0, None), "1.23456789e+08");
        assert_eq!(format_float_g(-2.25, None), "-2.25");
        assert_eq!(format_float_g(f64::NAN, None), "NaN");
        assert_eq!(format_float_g(f64::NEG_INFINITY, None), "-Inf");
        assert_eq!(format_float_g(1234.5678, Some(4)), "1235");
        assert_eq!(format_float_g(100000.0, Some(4)), "1e+05");
        assert_eq!(format_float_g(12.0, Some(4)), "12");
        assert_eq!(format_float_g(0.5, Some(4)), "0.5");
    }

    #[test]
    fn control_flow_and_comparisons() {
        assert_eq!(
            render("{{ if gt $values.B.Value 0.8 }}high{{ else }}ok{{ end }}"),
            "high"
        );
        assert_eq!(
            render("{{ if gt $values.B.Value 1.0 }}high{{ else }}ok{{ end }}"),
            "ok"
        );
        assert_eq!(
            render("{{ if lt $value 0.5 }}a{{ else if lt $value 0.9 }}b{{ else }}c{{ end }}"),
            "b"
        );
        assert_eq!(
            render("{{ if eq $labels.job \"node\" \"other\" }}yes{{ end }}"),
            "yes"
        );
        assert_eq!(
            render("{{ if and (ne $labels.job \"x\") (not false) }}both{{ end }}"),
            "both"
        );
        assert_eq!(render("{{ or $labels.nothing \"fallback\" }}"), "fallback");
        assert_eq!(
            render("{{ range $k, $v := $labels }}{{ $k }}={{ $v }};{{ end }}"),
            "instance=web-1:9100;job=node;"
        );
        assert_eq!(
            render("{{ range $values }}{{ .Value }} {{ end }}"),
            "0.8734 1 "
        );
        assert_eq!(
            render("{{ with $labels.job }}job {{ . }}{{ end }}"),
            "job node"
        );
        assert_eq!(
            render("{{ with $labels.none }}x{{ else }}none{{ end }}"),
            "none"
        );
        assert_eq!(render("{{ $x := 3 }}{{ $x = 4 }}{{ $x }}"), "4");
    }

    #[test]
    fn strings_and_printf() {
        assert_eq!(render("{{ printf \"%.2f\" $values.B.Value }}"), "0.87");
        assert_eq!(
            render("{{ printf \"%s has %d%%\" $labels.job 5 }}"),
            "node has 5%"
        );
        assert_eq!(
            render("{{ printf \"%5.1f|%-4s|%03d\" 3.14159 \"ab\" 7 }}"),
            "  3.1|ab  |007"
        );
        assert_eq!(
            render("{{ printf \"%v %q %e\" true \"x\" 1500.0 }}"),
            "true \"x\" 1.500000e+03"
        );
        assert_eq!(render("{{ printf \"%d\" 1.5 }}"), "%!d(float64=1.5)");
        assert_eq!(render("{{ printf \"%s %s\" \"a\" }}"), "a %!s(MISSING)");
        assert_eq!(
            render("{{ toUpper $labels.job }} {{ title \"hello world\" }}"),
            "NODE Hello World"
        );
        assert_eq!(
            render("{{ reReplaceAll \":.*\" \"\" $labels.instance }}"),
            "web-1"
        );
        assert_eq!(
            render("{{ if match \"^web\" $labels.instance }}web{{ end }}"),
            "web"
        );
        assert_eq!(
            render("{{ index $labels \"job\" }} {{ len $labels }}"),
            "node 2"
        );
        assert_eq!(render("{{ print 1 2 \"a\" }}"), "1 2a");
        assert_eq!(render("{{ `raw {{ text` }}"), "raw {{ text");
        assert_eq!(render("{{ \"a\\tb\" }}"), "a\tb");
    }

    #[test]
    fn trim_markers_and_comments() {
        assert_eq!(render("a  {{- $labels.job -}}  b"), "anodeb");
        assert_eq!(render("a {{/* note */}} b"), "a  b");
        assert_eq!(render("a {{- /* note */ -}} b"), "ab");
        assert_eq!(render("no actions at all"), "no actions at all");
        assert_eq!(render("x{{-3}}"), "x-3");
    }

    #[test]
    fn parse_errors_are_located() {
        for (bad, expect) in [
            ("{{ $labels.x ", "1:1: unclosed action"),
            (
                "line\n  {{ nosuch 1 }}",
                "2:3: function \"nosuch\" not defined",
            ),
            ("{{ $nope }}", "undefined variable \"$nope\""),
            ("{{ if true }}x", "if has no end"),
            ("{{ end }}", "unexpected end"),
            ("{{ else }}", "unexpected else"),
            ("{{ \"abc }}", "unterminated quoted string"),
            ("{{ template \"x\" }}", "template is not supported"),
            ("{{ define \"x\" }}{{ end }}", "define is not supported"),
            ("{{ }}", "missing value for command"),
            ("{{ ( $value }}", "unclosed left paren"),
            ("{{ $value | }}", "missing command after |"),
            ("{{ range $labels }}x", "range has no end"),
            ("{{/* unclosed }}", "unclosed comment"),
            ("{{ 1.2.3 }}", "bad number syntax"),
            ("{{ # }}", "unexpected '#'"),
            ("{{ $x = 1 }}", "undefined variable: $x"),
        ] {
            let err = Template::parse(bad).unwrap_err().to_string();
            assert!(err.contains(expect), "{bad:?}: {err}");
        }
        // A variable declared inside an if is gone after its end.
        assert!(Template::parse("{{ if true }}{{ $x := 1 }}{{ end }}{{ $x }}").is_err());
    }

    #[test]
    fn execution_errors() {
        let run = |src: &str| {
            Template::parse(src)
                .unwrap()
                .render(&data())
                .unwrap_err()
                .to_string()
        };
        assert!(
            run("{{ $labels.job.deeper }}").contains("can't evaluate field deeper in type string")
        );
        assert!(run("{{ humanize $labels.job }}").contains("can't convert string"));
        assert!(run("{{ lt $labels.job 3 }}").contains("incompatible types"));
        assert!(run("{{ $labels.job 3 }}").contains("non-function"));
        assert!(run("{{ not 1 2 }}").contains("wrong number of args"));
        let t = Template::parse("{{ humanize $labels.job }}").unwrap();
        assert!(expand(&t, &data().context()).starts_with("<error expanding template: "));
    }

    #[test]
    fn nesting_is_bounded() {
        let ifs = format!("{}x{}", "{{ if true }}".repeat(40), "{{ end }}".repeat(40));
        assert!(Template::parse(&ifs)
            .unwrap_err()
            .to_string()
            .contains("nest deeper"));
        let parens = format!("{{{{ {}1{} }}}}", "(".repeat(40), ")".repeat(40));
        assert!(Template::parse(&parens)
            .unwrap_err()
            .to_string()
            .contains("nest deeper"));
        let fine = format!("{}x{}", "{{ if true }}".repeat(20), "{{ end }}".repeat(20));
        assert_eq!(
            Template::parse(&fine).unwrap().render(&data()).unwrap(),
            "x"
        );
    }

    #[test]
    fn work_is_bounded() {
        let mut d = data();
        d.labels = (0..20)
            .map(|i| (format!("l{i}"), "v".to_string()))
            .collect();
        let nested = format!(
            "{}{}",
            "{{ range $labels }}".repeat(6),
            "{{ end }}".repeat(6)
        );
        let err = Template::parse(&nested).unwrap().render(&d).unwrap_err();
        assert!(err.to_string().contains("more than 100000 steps"), "{err}");
    }

    #[test]
    fn output_is_bounded() {
        let long = "x".repeat(40_000);
        let src = format!("{{{{ range $labels }}}}{long}{{{{ end }}}}");
        let err = Template::parse(&src).unwrap().render(&data()).unwrap_err();
        assert!(err.to_string().contains("output longer than"));
    }
}
