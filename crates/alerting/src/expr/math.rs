//! The `math` expression: a parser for Grafana's expression language (`$A * 2 > $B`,
//! `abs($A - $B) > 10 && $C == 0`) and its evaluation over labelled items.
//!
//! Operators, lowest precedence first: `||`; `&&`; `== != > >= < <=`; `+ -`; `* / %`; unary
//! `- !`; `**` (right-associative). Comparisons and logic give 1 or 0. Variables are `$A` or
//! `${A name}`. Numbers are decimal (`2.5`, `1e3`), hexadecimal (`0x1f`) or octal (`072`).
//! Functions: `abs log round ceil floor is_nan is_inf is_null is_number` of one argument and the
//! constants `nan() inf() infn() null()` — Grafana's set.
//!
//! Binary operations join the items of both sides by labels as Grafana does: items whose label
//! sets are equal, or one of which is empty, or one a subset of the other, are combined (the
//! result takes the larger set); others are dropped. When each side has exactly one item and they
//! do not match, they are combined anyway and the result has no labels. A series and a series are
//! combined point by point on equal timestamps; a series and a number apply the number to each
//! point. NaN spreads through arithmetic; `||` and `&&` decide on their left side first; null
//! (a missing point) gives null.

use std::collections::BTreeMap;

use super::data::{Data, Item, Number, Series};
use crate::labels::{is_subset, Labels};

/// A parsed math expression.
#[derive(Debug, Clone, PartialEq)]
pub enum MathExpr {
    Number(f64),
    Var(String),
    Unary(UnaryOp, Box<MathExpr>),
    Binary(BinaryOp, Box<MathExpr>, Box<MathExpr>),
    Call(Func, Vec<MathExpr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Neg,
    Not,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Or,
    And,
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    Abs,
    Log,
    Round,
    Ceil,
    Floor,
    IsNan,
    IsInf,
    IsNull,
    IsNumber,
    Nan,
    Inf,
    InfN,
    Null,
}

impl Func {
    fn by_name(name: &str) -> Option<Func> {
        Some(match name {
            "abs" => Func::Abs,
            "log" => Func::Log,
            "round" => Func::Round,
            "ceil" => Func::Ceil,
            "floor" => Func::Floor,
            "is_nan" => Func::IsNan,
            "is_inf" => Func::IsInf,
            "is_null" => Func::IsNull,
            "is_number" => Func::IsNumber,
            "nan" => Func::Nan,
            "inf" => Func::Inf,
            "infn" => Func::InfN,
            "null" => Func::Null,
            _ => return None,
        })
    }

    fn arity(self) -> usize {
        match self {
            Func::Nan | Func::Inf | Func::InfN | Func::Null => 0,
            _ => 1,
        }
    }
}

impl MathExpr {
    /// The refIds the expression reads, in order of first use.
    pub fn variables(&self) -> Vec<String> {
        fn walk(e: &MathExpr, out: &mut Vec<String>) {
            match e {
                MathExpr::Number(_) => {}
                MathExpr::Var(v) => {
                    if !out.contains(v) {
                        out.push(v.clone());
                    }
                }
                MathExpr::Unary(_, a) => walk(a, out),
                MathExpr::Binary(_, a, b) => {
                    walk(a, out);
                    walk(b, out);
                }
                MathExpr::Call(_, args) => args.iter().for_each(|a| walk(a, out)),
            }
        }
        let mut out = Vec::new();
        walk(self, &mut out);
        out
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Number(f64),
    Var(String),
    Ident(String),
    Op(&'static str),
    LParen,
    RParen,
    Comma,
}

fn lex(text: &str) -> Result<Vec<(usize, Token)>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let at = i;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '$' {
            i += 1;
            if i < chars.len() && chars[i] == '{' {
                let start = i + 1;
                while i < chars.len() && chars[i] != '}' {
                    i += 1;
                }
                if i == chars.len() {
                    return Err(format!("unclosed ${{ at position {}", at + 1));
                }
                let name: String = chars[start..i].iter().collect();
                if name.is_empty() {
                    return Err(format!("empty variable name at position {}", at + 1));
                }
                tokens.push((at, Token::Var(name)));
                i += 1;
            } else {
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                if start == i {
                    return Err(format!(
                        "expected a variable name after $ at position {}",
                        at + 1
                    ));
                }
                tokens.push((at, Token::Var(chars[start..i].iter().collect())));
            }
            continue;
        }
        if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            let start = i;
            if c == '0' && matches!(chars.get(i + 1), Some('x') | Some('X')) {
                i += 2;
                while i < chars.len() && chars[i].is_ascii_hexdigit() {
                    i += 1;
                }
                let digits: String = chars[start + 2..i].iter().collect();
                let value = u64::from_str_radix(&digits, 16)
                    .map_err(|_| format!("bad number at position {}", at + 1))?;
                tokens.push((at, Token::Number(value as f64)));
                continue;
            }
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            if i < chars.len() && (chars[i] == 'e' || chars[i] == 'E') {
                let mut j = i + 1;
                if j < chars.len() && (chars[j] == '+' || chars[j] == '-') {
                    j += 1;
                }
                if j < chars.len() && chars[j].is_ascii_digit() {
                    i = j;
                    while i < chars.len() && chars[i].is_ascii_digit() {
                        i += 1;
                    }
                }
            }
            let literal: String = chars[start..i].iter().collect();
            let octal = literal.len() > 1
                && literal.starts_with('0')
                && literal.chars().all(|d| d.is_ascii_digit());
            let value = if octal {
                u64::from_str_radix(&literal[1..], 8).map(|v| v as f64).ok()
            } else {
                literal.parse::<f64>().ok()
            };
            let value =
                value.ok_or_else(|| format!("bad number {literal:?} at position {}", at + 1))?;
            tokens.push((at, Token::Number(value)));
            continue;
        }
        if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            tokens.push((at, Token::Ident(chars[start..i].iter().collect())));
            continue;
        }
        let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
        let op2 = ["||", "&&", "==", "!=", ">=", "<=", "**"]
            .into_iter()
            .find(|op| *op == two);
        if let Some(op) = op2 {
            tokens.push((at, Token::Op(op)));
            i += 2;
            continue;
        }
        let token = match c {
            '(' => Token::LParen,
            ')' => Token::RParen,
            ',' => Token::Comma,
            '+' => Token::Op("+"),
            '-' => Token::Op("-"),
            '*' => Token::Op("*"),
            '/' => Token::Op("/"),
            '%' => Token::Op("%"),
            '>' => Token::Op(">"),
            '<' => Token::Op("<"),
            '!' => Token::Op("!"),
            _ => return Err(format!("unexpected character {c:?} at position {}", at + 1)),
        };
        tokens.push((at, token));
        i += 1;
    }
    Ok(tokens)
}

/// Bounds that keep parsing and evaluation recursion shallow whatever a client sends.
const MAX_TOKENS: usize = 500;
const MAX_NESTING: usize = 32;

struct Parser {
    tokens: Vec<(usize, Token)>,
    pos: usize,
    len: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos).map(|(_, t)| t)
    }

    fn where_(&self) -> String {
        match self.tokens.get(self.pos) {
            Some((at, _)) => format!("position {}", at + 1),
            None => format!("position {} (end)", self.len + 1),
        }
    }

    fn eat_op(&mut self, ops: &[&'static str]) -> Option<&'static str> {
        if let Some(Token::Op(op)) = self.peek() {
            if let Some(found) = ops.iter().find(|o| *o == op) {
                self.pos += 1;
                return Some(found);
            }
        }
        None
    }

    fn binary_level(
        &mut self,
        ops: &[&'static str],
        next: fn(&mut Parser) -> Result<MathExpr, String>,
    ) -> Result<MathExpr, String> {
        let mut left = next(self)?;
        while let Some(op) = self.eat_op(ops) {
            let right = next(self)?;
            left = MathExpr::Binary(binary_op(op), Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn or(&mut self) -> Result<MathExpr, String> {
        self.binary_level(&["||"], Parser::and)
    }
    fn and(&mut self) -> Result<MathExpr, String> {
        self.binary_level(&["&&"], Parser::comparison)
    }
    fn comparison(&mut self) -> Result<MathExpr, String> {
        self.binary_level(&["==", "!=", ">", ">=", "<", "<="], Parser::additive)
    }
    fn additive(&mut self) -> Result<MathExpr, String> {
        self.binary_level(&["+", "-"], Parser::multiplicative)
    }
    fn multiplicative(&mut self) -> Result<MathExpr, String> {
        self.binary_level(&["*", "/", "%"], Parser::unary)
    }

    fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(format!(
                "the expression nests deeper than {MAX_NESTING} levels"
            ));
        }
        Ok(())
    }

    fn unary(&mut self) -> Result<MathExpr, String> {
        if let Some(op) = self.eat_op(&["-", "!"]) {
            self.enter()?;
            let arg = self.unary()?;
            self.depth -= 1;
            let op = if op == "-" {
                UnaryOp::Neg
            } else {
                UnaryOp::Not
            };
            return Ok(MathExpr::Unary(op, Box::new(arg)));
        }
        self.power()
    }

    fn power(&mut self) -> Result<MathExpr, String> {
        let base = self.primary()?;
        if self.eat_op(&["**"]).is_some() {
            let exponent = self.unary()?;
            return Ok(MathExpr::Binary(
                BinaryOp::Pow,
                Box::new(base),
                Box::new(exponent),
            ));
        }
        Ok(base)
    }

    fn primary(&mut self) -> Result<MathExpr, String> {
        let where_ = self.where_();
        let Some((_, token)) = self.tokens.get(self.pos).cloned() else {
            return Err(format!("unexpected end of expression at {where_}"));
        };
        self.pos += 1;
        match token {
            Token::Number(n) => Ok(MathExpr::Number(n)),
            Token::Var(v) => Ok(MathExpr::Var(v)),
            Token::LParen => {
                self.enter()?;
                let inner = self.or()?;
                self.depth -= 1;
                match self.peek() {
                    Some(Token::RParen) => {
                        self.pos += 1;
                        Ok(inner)
                    }
                    _ => Err(format!("expected ) at {}", self.where_())),
                }
            }
            Token::Ident(name) => {
                let func = Func::by_name(&name)
                    .ok_or_else(|| format!("unknown function {name:?} at {where_}"))?;
                if self.peek() != Some(&Token::LParen) {
                    return Err(format!("expected ( after {name} at {}", self.where_()));
                }
                self.pos += 1;
                self.enter()?;
                let mut args = Vec::new();
                if self.peek() == Some(&Token::RParen) {
                    self.pos += 1;
                } else {
                    loop {
                        args.push(self.or()?);
                        match self.peek() {
                            Some(Token::Comma) => self.pos += 1,
                            Some(Token::RParen) => {
                                self.pos += 1;
                                break;
                            }
                            _ => return Err(format!("expected , or ) at {}", self.where_())),
                        }
                    }
                }
                self.depth -= 1;
                if args.len() != func.arity() {
                    return Err(format!(
                        "{name} takes {} argument(s), got {}",
                        func.arity(),
                        args.len()
                    ));
                }
                Ok(MathExpr::Call(func, args))
            }
            other => Err(format!("unexpected {} at {where_}", describe(&other))),
        }
    }
}

fn describe(token: &Token) -> String {
    match token {
        Token::Number(n) => format!("number {n}"),
        Token::Var(v) => format!("${v}"),
        Token::Ident(i) => i.clone(),
        Token::Op(op) => format!("operator {op}"),
        Token::LParen => "(".into(),
        Token::RParen => ")".into(),
        Token::Comma => ",".into(),
    }
}

fn binary_op(op: &str) -> BinaryOp {
    match op {
        "||" => BinaryOp::Or,
        "&&" => BinaryOp::And,
        "==" => BinaryOp::Eq,
        "!=" => BinaryOp::Ne,
        ">" => BinaryOp::Gt,
        ">=" => BinaryOp::Ge,
        "<" => BinaryOp::Lt,
        "<=" => BinaryOp::Le,
        "+" => BinaryOp::Add,
        "-" => BinaryOp::Sub,
        "*" => BinaryOp::Mul,
        "/" => BinaryOp::Div,
        "%" => BinaryOp::Mod,
        _ => BinaryOp::Pow,
    }
}

/// Parses a math expression; the error names what is wrong and where.
pub fn parse(text: &str) -> Result<MathExpr, String> {
    let tokens = lex(text)?;
    if tokens.is_empty() {
        return Err("the expression is empty".into());
    }
    if tokens.len() > MAX_TOKENS {
        return Err(format!("the expression is longer than {MAX_TOKENS} tokens"));
    }
    let mut parser = Parser {
        tokens,
        pos: 0,
        len: text.chars().count(),
        depth: 0,
    };
    let expr = parser.or()?;
    if parser.pos != parser.tokens.len() {
        let token = &parser.tokens[parser.pos].1;
        return Err(format!(
            "unexpected {} at {}",
            describe(token),
            parser.where_()
        ));
    }
    Ok(expr)
}

// ---------------------------------------------------------------------------------------------
// Evaluation

fn unary(op: UnaryOp, a: f64) -> f64 {
    if a.is_nan() {
        return f64::NAN;
    }
    match op {
        UnaryOp::Neg => -a,
        UnaryOp::Not => bool_f(a == 0.0),
    }
}

fn bool_f(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

fn binary(op: BinaryOp, a: f64, b: f64) -> f64 {
    match op {
        BinaryOp::Or if a != 0.0 => return 1.0, // NaN counts as true here, as in Go
        BinaryOp::And if a == 0.0 => return 0.0,
        _ => {}
    }
    if a.is_nan() || b.is_nan() {
        return f64::NAN;
    }
    match op {
        BinaryOp::Add => a + b,
        BinaryOp::Sub => a - b,
        BinaryOp::Mul => a * b,
        BinaryOp::Div => a / b,
        BinaryOp::Mod => a % b,
        BinaryOp::Pow => a.powf(b),
        BinaryOp::Eq => bool_f(a == b),
        BinaryOp::Ne => bool_f(a != b),
        BinaryOp::Gt => bool_f(a > b),
        BinaryOp::Ge => bool_f(a >= b),
        BinaryOp::Lt => bool_f(a < b),
        BinaryOp::Le => bool_f(a <= b),
        BinaryOp::Or => bool_f(a != 0.0 || b != 0.0),
        BinaryOp::And => bool_f(a != 0.0 && b != 0.0),
    }
}

fn binary_opt(op: BinaryOp, a: Option<f64>, b: Option<f64>) -> Option<f64> {
    Some(binary(op, a?, b?))
}

fn apply_func(func: Func, v: Option<f64>) -> Option<f64> {
    match func {
        Func::IsNull => return Some(bool_f(v.is_none())),
        Func::IsNan => return Some(bool_f(v.is_some_and(f64::is_nan))),
        Func::IsInf => return Some(bool_f(v.is_some_and(f64::is_infinite))),
        Func::IsNumber => return Some(bool_f(v.is_some_and(f64::is_finite))),
        _ => {}
    }
    let v = v?;
    Some(match func {
        Func::Abs => v.abs(),
        Func::Log => v.ln(),
        Func::Round => v.round(),
        Func::Ceil => v.ceil(),
        Func::Floor => v.floor(),
        _ => v,
    })
}

/// Maps every value of an item, keeping its kind and labels.
fn map_item(item: &Item, f: impl Fn(Option<f64>) -> Option<f64>) -> Item {
    match item {
        Item::Scalar(v) => Item::Scalar(f(*v)),
        Item::Number(n) => Item::Number(Number {
            labels: n.labels.clone(),
            value: f(n.value),
        }),
        Item::Series(s) => Item::Series(Series {
            labels: s.labels.clone(),
            points: s.points.iter().map(|(t, v)| (*t, f(*v))).collect(),
        }),
    }
}

/// Evaluates `expr` against the results of other refIds. A variable without a result is an error
/// (validation makes that impossible for a compiled rule).
pub fn evaluate(expr: &MathExpr, vars: &dyn Fn(&str) -> Option<Data>) -> Result<Data, String> {
    Ok(match expr {
        MathExpr::Number(n) => Data::scalar(Some(*n)),
        MathExpr::Var(name) => vars(name).ok_or_else(|| format!("no result for ${name}"))?,
        MathExpr::Unary(op, arg) => match evaluate(arg, vars)? {
            Data::NoData => Data::NoData,
            Data::Items(items) => Data::Items(
                items
                    .iter()
                    .map(|i| map_item(i, |v| v.map(|x| unary(*op, x))))
                    .collect(),
            ),
        },
        MathExpr::Call(func, args) => match args.first() {
            None => Data::scalar(match func {
                Func::Nan => Some(f64::NAN),
                Func::Inf => Some(f64::INFINITY),
                Func::InfN => Some(f64::NEG_INFINITY),
                _ => None,
            }),
            Some(arg) => match evaluate(arg, vars)? {
                Data::NoData => Data::NoData,
                Data::Items(items) => Data::Items(
                    items
                        .iter()
                        .map(|i| map_item(i, |v| apply_func(*func, v)))
                        .collect(),
                ),
            },
        },
        MathExpr::Binary(op, a, b) => {
            let a = evaluate(a, vars)?;
            let b = evaluate(b, vars)?;
            binary_data(*op, &a, &b)
        }
    })
}

static NO_LABELS: Labels = Labels::new();

fn labels_of(item: &Item) -> &Labels {
    item.labels().unwrap_or(&NO_LABELS)
}

/// The labels two items are joined under, or `None` when they do not join.
fn join_labels<'a>(la: &'a Labels, lb: &'a Labels) -> Option<&'a Labels> {
    if la == lb || lb.is_empty() {
        return Some(la);
    }
    if la.is_empty() {
        return Some(lb);
    }
    if la.len() == lb.len() {
        return None;
    }
    if is_subset(lb, la) {
        return Some(la);
    }
    if is_subset(la, lb) {
        return Some(lb);
    }
    None
}

/// Joins every item of the left side with every item of the right side that it joins with (see
/// the module's description), in the order of a nested loop over both, without comparing every
/// pair: right items are indexed by their labels, and only those with a different number of labels
/// need a subset test (none, usually, as both sides come from the same query).
fn binary_data(op: BinaryOp, a: &Data, b: &Data) -> Data {
    let (Data::Items(left), Data::Items(right)) = (a, b) else {
        return Data::NoData;
    };
    let mut exact: std::collections::HashMap<&Labels, Vec<usize>> =
        std::collections::HashMap::new();
    let mut by_len: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (j, y) in right.iter().enumerate() {
        let ly = labels_of(y);
        exact.entry(ly).or_default().push(j);
        by_len.entry(ly.len()).or_default().push(j);
    }
    let mut out = Vec::new();
    let mut matches: Vec<usize> = Vec::new();
    for x in left {
        let lx = labels_of(x);
        matches.clear();
        if lx.is_empty() {
            matches.extend(0..right.len());
        } else {
            for (len, group) in &by_len {
                if *len == lx.len() {
                    matches.extend(exact.get(lx).into_iter().flatten());
                } else if *len == 0 {
                    matches.extend(group);
                } else {
                    matches.extend(
                        group
                            .iter()
                            .filter(|j| join_labels(lx, labels_of(&right[**j])).is_some()),
                    );
                }
            }
            matches.sort_unstable();
        }
        for &j in &matches {
            let y = &right[j];
            if let Some(labels) = join_labels(lx, labels_of(y)) {
                out.push(combine(op, x, y, labels.clone()));
            }
        }
    }
    if out.is_empty() && left.len() == 1 && right.len() == 1 {
        out.push(combine(op, &left[0], &right[0], Labels::new()));
    }
    Data::from_items(out)
}

fn combine(op: BinaryOp, a: &Item, b: &Item, labels: Labels) -> Item {
    match (a, b) {
        (Item::Scalar(x), Item::Scalar(y)) => Item::Scalar(binary_opt(op, *x, *y)),
        (Item::Series(s), Item::Series(t)) => {
            let right: std::collections::HashMap<i64, Option<f64>> =
                t.points.iter().copied().collect();
            let points = s
                .points
                .iter()
                .filter_map(|(time, x)| right.get(time).map(|y| (*time, binary_opt(op, *x, *y))))
                .collect();
            Item::Series(Series { labels, points })
        }
        (Item::Series(s), other) => {
            let y = single(other);
            Item::Series(Series {
                labels,
                points: s
                    .points
                    .iter()
                    .map(|(t, x)| (*t, binary_opt(op, *x, y)))
                    .collect(),
            })
        }
        (other, Item::Series(s)) => {
            let x = single(other);
            Item::Series(Series {
                labels,
                points: s
                    .points
                    .iter()
                    .map(|(t, y)| (*t, binary_opt(op, x, *y)))
                    .collect(),
            })
        }
        (x, y) => Item::Number(Number {
            labels,
            value: binary_opt(op, single(x), single(y)),
        }),
    }
}

fn single(item: &Item) -> Option<f64> {
    match item {
        Item::Scalar(v) => *v,
        Item::Number(n) => n.value,
        Item::Series(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::labels;
    use std::collections::BTreeMap;

    fn num(pairs: &[(&str, &str)], v: f64) -> Item {
        Item::Number(Number {
            labels: labels(pairs),
            value: Some(v),
        })
    }

    fn run(text: &str, vars: BTreeMap<&str, Data>) -> Data {
        let expr = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        evaluate(&expr, &|name| vars.get(name).cloned()).unwrap()
    }

    fn scalar_of(text: &str) -> Option<f64> {
        match run(text, BTreeMap::new()) {
            Data::Items(items) => match items.as_slice() {
                [Item::Scalar(v)] => *v,
                other => panic!("{other:?}"),
            },
            Data::NoData => panic!("no data"),
        }
    }

    #[test]
    fn precedence_and_literals() {
        assert_eq!(scalar_of("1 + 2 * 3"), Some(7.0));
        assert_eq!(scalar_of("(1 + 2) * 3"), Some(9.0));
        assert_eq!(scalar_of("2 ** 3 ** 2"), Some(512.0));
        assert_eq!(scalar_of("-2 ** 2"), Some(-4.0));
        assert_eq!(scalar_of("10 % 4"), Some(2.0));
        assert_eq!(
            scalar_of("0x1f + 072 + 1e2 + .5"),
            Some(31.0 + 58.0 + 100.0 + 0.5)
        );
        assert_eq!(scalar_of("1 + 1 > 1 && 2 < 3"), Some(1.0));
        assert_eq!(scalar_of("1 > 2 || 0"), Some(0.0));
        assert_eq!(scalar_of("!0"), Some(1.0));
        assert_eq!(scalar_of("!3"), Some(0.0));
        assert_eq!(scalar_of("3 >= 3 == 1"), Some(1.0));
        assert_eq!(scalar_of("2 != 2"), Some(0.0));
    }

    #[test]
    fn functions_and_special_values() {
        assert_eq!(scalar_of("abs(-3)"), Some(3.0));
        assert_eq!(
            scalar_of("ceil(1.2) + floor(1.8) + round(2.5)"),
            Some(2.0 + 1.0 + 3.0)
        );
        assert!((scalar_of("log(10)").unwrap() - 10f64.ln()).abs() < 1e-12);
        assert!(scalar_of("nan()").unwrap().is_nan());
        assert_eq!(scalar_of("inf()"), Some(f64::INFINITY));
        assert_eq!(scalar_of("infn()"), Some(f64::NEG_INFINITY));
        assert_eq!(scalar_of("null()"), None);
        assert_eq!(scalar_of("is_null(null())"), Some(1.0));
        assert_eq!(scalar_of("is_nan(nan())"), Some(1.0));
        assert_eq!(scalar_of("is_nan(null())"), Some(0.0));
        assert_eq!(scalar_of("is_inf(infn())"), Some(1.0));
        assert_eq!(
            scalar_of("is_number(1) + is_number(nan()) + is_number(inf())"),
            Some(1.0)
        );
        // NaN spreads, but || and && decide on a known left side first.
        assert!(scalar_of("nan() + 1").unwrap().is_nan());
        assert_eq!(scalar_of("1 || nan()"), Some(1.0));
        assert_eq!(scalar_of("nan() || 0"), Some(1.0)); // Go: NaN != 0
        assert!(scalar_of("nan() && 1").unwrap().is_nan());
        assert_eq!(scalar_of("0 && nan()"), Some(0.0));
        assert!(scalar_of("nan() > 1").unwrap().is_nan());
        // Null gives null.
        assert_eq!(scalar_of("null() + 1"), None);
    }

    #[test]
    fn variables_and_braces() {
        let e = parse("${my query} * 2 + $B").unwrap();
        assert_eq!(e.variables(), vec!["my query".to_string(), "B".to_string()]);
        let e = parse("$A - $A").unwrap();
        assert_eq!(e.variables(), vec!["A".to_string()]);
    }

    #[test]
    fn parse_errors_say_where() {
        for (bad, expect) in [
            ("", "empty"),
            ("$A +", "end"),
            ("$A $B", "unexpected $B at position 4"),
            ("(1 + 2", "expected )"),
            ("sqrt($A)", "unknown function \"sqrt\""),
            ("abs($A, $B)", "takes 1 argument"),
            ("$", "variable name"),
            ("${A", "unclosed"),
            ("1 # 2", "unexpected character '#'"),
            ("abs", "expected ("),
            ("1 2", "unexpected number 2"),
        ] {
            let err = parse(bad).unwrap_err();
            assert!(err.contains(expect), "{bad:?}: {err}");
        }
    }

    #[test]
    fn numbers_join_on_labels() {
        let a = Data::Items(vec![
            num(&[("host", "a")], 10.0),
            num(&[("host", "b")], 20.0),
        ]);
        let b = Data::Items(vec![
            num(&[("host", "a")], 1.0),
            num(&[("host", "b")], 2.0),
            num(&[("host", "c")], 3.0),
        ]);
        let out = run("$A + $B", BTreeMap::from([("A", a.clone()), ("B", b)]));
        assert_eq!(
            out,
            Data::Items(vec![
                num(&[("host", "a")], 11.0),
                num(&[("host", "b")], 22.0)
            ])
        );
        // A subset joins the superset and takes its labels.
        let c = Data::Items(vec![num(&[("host", "a"), ("dc", "x")], 5.0)]);
        let out = run("$C * $A", BTreeMap::from([("A", a.clone()), ("C", c)]));
        assert_eq!(
            out,
            Data::Items(vec![num(&[("host", "a"), ("dc", "x")], 50.0)])
        );
        // A scalar applies to every item.
        let out = run("$A > 15", BTreeMap::from([("A", a)]));
        assert_eq!(
            out,
            Data::Items(vec![num(&[("host", "a")], 0.0), num(&[("host", "b")], 1.0)])
        );
    }

    #[test]
    fn single_items_join_without_labels_and_others_drop() {
        let a = Data::Items(vec![num(&[("host", "a")], 1.0)]);
        let b = Data::Items(vec![num(&[("disk", "sda")], 2.0)]);
        let out = run("$A + $B", BTreeMap::from([("A", a), ("B", b)]));
        assert_eq!(out, Data::Items(vec![num(&[], 3.0)]));
        let a = Data::Items(vec![num(&[("host", "a")], 1.0), num(&[("host", "b")], 1.0)]);
        let b = Data::Items(vec![num(&[("disk", "sda")], 2.0)]);
        assert_eq!(
            run("$A + $B", BTreeMap::from([("A", a), ("B", b)])),
            Data::NoData
        );
    }

    #[test]
    fn series_combine_by_timestamp_and_with_numbers() {
        let s = Data::Items(vec![Item::Series(Series {
            labels: labels(&[("host", "a")]),
            points: vec![(1000, Some(1.0)), (2000, None), (3000, Some(3.0))],
        })]);
        let t = Data::Items(vec![Item::Series(Series {
            labels: labels(&[("host", "a")]),
            points: vec![(2000, Some(5.0)), (3000, Some(5.0)), (4000, Some(5.0))],
        })]);
        let n = Data::Items(vec![num(&[("host", "a")], 10.0)]);
        let vars = BTreeMap::from([("S", s), ("T", t), ("N", n)]);
        assert_eq!(
            run("$S + $T", vars.clone()),
            Data::Items(vec![Item::Series(Series {
                labels: labels(&[("host", "a")]),
                points: vec![(2000, None), (3000, Some(8.0))],
            })])
        );
        assert_eq!(
            run("$N - $S", vars),
            Data::Items(vec![Item::Series(Series {
                labels: labels(&[("host", "a")]),
                points: vec![(1000, Some(9.0)), (2000, None), (3000, Some(7.0))],
            })])
        );
    }

    #[test]
    fn no_data_spreads() {
        let vars = BTreeMap::from([("A", Data::NoData), ("B", Data::scalar(Some(1.0)))]);
        assert_eq!(run("$A + $B", vars.clone()), Data::NoData);
        assert_eq!(run("abs($A)", vars.clone()), Data::NoData);
        assert_eq!(run("-$A", vars), Data::NoData);
    }

    #[test]
    fn indexed_join_equals_the_nested_loop() {
        // Random label sets over few keys and values, so equal, subset, superset, disjoint and
        // empty sets all occur; the indexed join must give what comparing every pair gives.
        let mut seed: u64 = 0x5eed;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..300 {
            let n = next() % 6;
            let m = next() % 6;
            let mut side = |n: u64| -> Vec<Item> {
                (0..n)
                    .map(|i| {
                        let mut l = Labels::new();
                        for key in ["a", "b", "c"] {
                            if next() % 2 == 0 {
                                l.insert(key.into(), (next() % 2).to_string());
                            }
                        }
                        if next() % 7 == 0 {
                            Item::Scalar(Some(i as f64))
                        } else {
                            Item::Number(Number {
                                labels: l,
                                value: Some(i as f64),
                            })
                        }
                    })
                    .collect()
            };
            let (left, right) = (side(n), side(m));
            let mut naive = Vec::new();
            for x in &left {
                for y in &right {
                    if let Some(l) = join_labels(labels_of(x), labels_of(y)) {
                        naive.push(combine(BinaryOp::Add, x, y, l.clone()));
                    }
                }
            }
            if naive.is_empty() && left.len() == 1 && right.len() == 1 {
                naive.push(combine(BinaryOp::Add, &left[0], &right[0], Labels::new()));
            }
            let fast = binary_data(
                BinaryOp::Add,
                &Data::Items(left.clone()),
                &Data::Items(right.clone()),
            );
            assert_eq!(fast, Data::from_items(naive), "{left:?} + {right:?}");
        }
    }

    #[test]
    fn size_and_nesting_are_bounded() {
        let deep = format!("{}1{}", "(".repeat(40), ")".repeat(40));
        assert!(parse(&deep).unwrap_err().contains("nests deeper"));
        assert!(parse(&"-".repeat(40)).unwrap_err().contains("nests deeper"));
        let nested_calls = format!("{}1{}", "abs(".repeat(40), ")".repeat(40));
        assert!(parse(&nested_calls).unwrap_err().contains("nests deeper"));
        let long = vec!["1"; 300].join(" + ");
        assert!(parse(&long).unwrap_err().contains("longer than 500 tokens"));
        let ok = format!("{}$A{}", "(".repeat(30), ")".repeat(30));
        assert!(parse(&ok).is_ok());
    }

    #[test]
    fn unknown_variable_is_an_error() {
        let expr = parse("$Z + 1").unwrap();
        let err = evaluate(&expr, &|_| None).unwrap_err();
        assert!(err.contains("$Z"), "{err}");
    }
}
