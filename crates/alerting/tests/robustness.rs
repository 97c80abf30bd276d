//! Rules come from API clients: no input may panic the parsers or the evaluation. Random
//! sequences of the languages' own pieces (and stray bytes) are thrown at each of them.

use std::collections::BTreeMap;

use pharos_alerting::duration::parse_duration;
use pharos_alerting::expr::{math, Data, Number};
use pharos_alerting::template::{Template, TemplateData};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn text(&mut self, pieces: &[&str], max: usize) -> String {
        let n = (self.next() % max as u64) as usize;
        (0..n)
            .map(|_| pieces[(self.next() % pieces.len() as u64) as usize])
            .collect()
    }
}

#[test]
fn templates_never_panic() {
    let pieces = [
        "{{",
        "}}",
        "{{-",
        "-}}",
        " ",
        "$labels",
        "$value",
        "$values",
        ".B",
        ".Value",
        ".",
        "|",
        "(",
        ")",
        "if",
        "else",
        "end",
        "range",
        "with",
        "$x",
        ":=",
        "=",
        ",",
        "\"s\"",
        "`r`",
        "\"",
        "`",
        "1.5",
        "-2",
        "humanize",
        "printf",
        "\"%d %s %5.2f %\"",
        "index",
        "len",
        "eq",
        "lt",
        "and",
        "not",
        "/*",
        "*/",
        "µ",
        "é",
        "\n",
        "x",
        "0x",
        "1e",
        "reReplaceAll",
        "\"(\"",
        "toUpper",
        "title",
        "$",
        "{",
        "}",
    ];
    let data = TemplateData {
        labels: [("a".to_string(), "b".to_string())].into(),
        values: BTreeMap::from([("B".to_string(), (Default::default(), Some(2.0)))]),
        value_text: "[ var='B' labels={} value=2 ]".into(),
        value: Some(2.0),
    };
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut parsed = 0;
    for _ in 0..20_000 {
        let src = rng.text(&pieces, 16);
        if let Ok(t) = Template::parse(&src) {
            parsed += 1;
            let _ = t.render(&data);
        }
    }
    assert!(
        parsed > 100,
        "the generator should produce some valid templates ({parsed})"
    );
}

#[test]
fn math_never_panics() {
    let pieces = [
        "$A",
        "$B",
        "${A}",
        "${",
        "}",
        "1",
        "0x1f",
        "072",
        "1e",
        "1e5",
        ".5",
        "+",
        "-",
        "*",
        "/",
        "%",
        "**",
        "==",
        "!=",
        ">",
        ">=",
        "<",
        "<=",
        "&&",
        "||",
        "!",
        "(",
        ")",
        ",",
        "abs",
        "log",
        "nan()",
        "null()",
        "is_null",
        " ",
        "µ",
        "$",
        "9999999999999999999999",
    ];
    let a = Data::numbers(vec![
        Number {
            labels: [("h".to_string(), "1".to_string())].into(),
            value: Some(1.0),
        },
        Number {
            labels: Default::default(),
            value: None,
        },
    ]);
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let mut parsed = 0;
    for _ in 0..20_000 {
        let src = rng.text(&pieces, 12);
        if let Ok(expr) = math::parse(&src) {
            parsed += 1;
            let _ = math::evaluate(&expr, &|name| match name {
                "A" => Some(a.clone()),
                "B" => Some(Data::NoData),
                _ => None,
            });
        }
    }
    assert!(parsed > 100, "{parsed}");
}

#[test]
fn durations_never_panic() {
    let pieces = [
        "1",
        "0",
        ".",
        "5",
        "h",
        "m",
        "s",
        "ms",
        "µs",
        "d",
        "w",
        "y",
        " ",
        "-",
        "99999999999",
        "x",
        "é",
    ];
    let mut rng = Rng(42);
    for _ in 0..20_000 {
        let _ = parse_duration(&rng.text(&pieces, 8));
    }
}
