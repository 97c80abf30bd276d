//! Label matchers as Alertmanager and Grafana have them: `=`, `!=`, `=~`, `!~`. A label that is
//! absent matches as the empty string; regular expressions are anchored (`^(?:re)$`).

use std::fmt;

use regex::Regex;

use crate::labels::Labels;

/// The longest pattern accepted, so a client cannot make the regex compiler work hard.
const MAX_PATTERN: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchOp {
    Equal,
    NotEqual,
    Regex,
    NotRegex,
}

impl MatchOp {
    pub fn parse(text: &str) -> Option<MatchOp> {
        Some(match text {
            "=" => MatchOp::Equal,
            "!=" => MatchOp::NotEqual,
            "=~" => MatchOp::Regex,
            "!~" => MatchOp::NotRegex,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::Regex => "=~",
            MatchOp::NotRegex => "!~",
        }
    }
}

/// One compiled matcher.
#[derive(Debug, Clone)]
pub struct Matcher {
    pub name: String,
    pub op: MatchOp,
    pub value: String,
    regex: Option<Regex>,
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Matcher) -> bool {
        self.name == other.name && self.op == other.op && self.value == other.value
    }
}

impl Matcher {
    /// A matcher; an error names a bad regular expression.
    pub fn new(name: &str, op: MatchOp, value: &str) -> Result<Matcher, String> {
        if name.is_empty() {
            return Err("a matcher needs a label name".into());
        }
        let regex = match op {
            MatchOp::Regex | MatchOp::NotRegex => {
                if value.len() > MAX_PATTERN {
                    return Err(format!("regular expression for {name} is too long"));
                }
                Some(
                    Regex::new(&format!("^(?:{value})$"))
                        .map_err(|e| format!("bad regular expression for {name}: {e}"))?,
                )
            }
            _ => None,
        };
        Ok(Matcher {
            name: name.to_string(),
            op,
            value: value.to_string(),
            regex,
        })
    }

    /// Whether `labels` satisfy this matcher (a missing label is the empty string).
    pub fn matches(&self, labels: &Labels) -> bool {
        let v = labels.get(&self.name).map(String::as_str).unwrap_or("");
        match self.op {
            MatchOp::Equal => v == self.value,
            MatchOp::NotEqual => v != self.value,
            MatchOp::Regex => self.regex.as_ref().is_some_and(|r| r.is_match(v)),
            MatchOp::NotRegex => !self.regex.as_ref().is_some_and(|r| r.is_match(v)),
        }
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{:?}", self.name, self.op.as_str(), self.value)
    }
}

/// Whether every matcher matches.
pub fn all_match(matchers: &[Matcher], labels: &Labels) -> bool {
    matchers.iter().all(|m| m.matches(labels))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::labels;

    #[test]
    fn operators_and_missing_labels() {
        let l = labels(&[("team", "ops"), ("sev", "critical")]);
        let m =
            |n: &str, op: &str, v: &str| Matcher::new(n, MatchOp::parse(op).unwrap(), v).unwrap();
        assert!(m("team", "=", "ops").matches(&l));
        assert!(!m("team", "!=", "ops").matches(&l));
        assert!(m("sev", "=~", "crit.*").matches(&l));
        assert!(!m("sev", "=~", "crit").matches(&l), "anchored");
        assert!(m("sev", "!~", "warn|info").matches(&l));
        assert!(m("missing", "=", "").matches(&l));
        assert!(m("missing", "!=", "x").matches(&l));
        assert!(m("missing", "=~", ".*").matches(&l));
        assert!(!m("missing", "=~", ".+").matches(&l));
        assert!(Matcher::new("a", MatchOp::Regex, "(").is_err());
        assert!(MatchOp::parse("==").is_none());
    }
}
