//! Silences in Alertmanager's v2 shape (the one Grafana's silence API uses): matchers
//! `{name, value, isRegex, isEqual}`, `startsAt`/`endsAt` (RFC 3339), `createdBy`, `comment`.
//! A silence mutes the alerts all of its matchers match while `startsAt <= now < endsAt`.

use serde::{Deserialize, Serialize};

use crate::labels::Labels;
use crate::matcher::{MatchOp, Matcher};
use crate::rfc3339;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SilenceMatcher {
    pub name: String,
    pub value: String,
    #[serde(default)]
    pub is_regex: bool,
    /// `false` negates (`!=`, `!~`); Alertmanager's default is `true`.
    #[serde(default = "yes")]
    pub is_equal: bool,
}

fn yes() -> bool {
    true
}

impl SilenceMatcher {
    pub fn op(&self) -> MatchOp {
        match (self.is_regex, self.is_equal) {
            (false, true) => MatchOp::Equal,
            (false, false) => MatchOp::NotEqual,
            (true, true) => MatchOp::Regex,
            (true, false) => MatchOp::NotRegex,
        }
    }
}

/// A silence as stored and served.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Silence {
    #[serde(default)]
    pub id: String,
    pub matchers: Vec<SilenceMatcher>,
    /// Epoch ms; RFC 3339 in JSON.
    #[serde(with = "rfc3339::serde_ms")]
    pub starts_at: i64,
    #[serde(with = "rfc3339::serde_ms")]
    pub ends_at: i64,
    #[serde(default)]
    pub created_by: String,
    #[serde(default)]
    pub comment: String,
}

/// A validated silence, ready to match.
#[derive(Debug, Clone)]
pub struct ActiveSilence {
    pub id: String,
    pub starts_at: i64,
    pub ends_at: i64,
    matchers: Vec<Matcher>,
}

impl Silence {
    /// Validates the silence: at least one matcher, valid regular expressions, an end after its
    /// start, and not a silence of everything (some matcher must refuse the empty label set,
    /// as Alertmanager requires).
    pub fn compile(&self) -> Result<ActiveSilence, String> {
        if self.matchers.is_empty() {
            return Err("a silence needs at least one matcher".into());
        }
        let matchers = self
            .matchers
            .iter()
            .map(|m| Matcher::new(&m.name, m.op(), &m.value))
            .collect::<Result<Vec<_>, _>>()?;
        if matchers.iter().all(|m| m.matches(&Labels::new())) {
            return Err("at least one matcher must not match the empty string".into());
        }
        if self.ends_at <= self.starts_at {
            return Err("endsAt must be after startsAt".into());
        }
        Ok(ActiveSilence {
            id: self.id.clone(),
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            matchers,
        })
    }
}

impl ActiveSilence {
    pub fn is_active(&self, now: i64) -> bool {
        self.starts_at <= now && now < self.ends_at
    }

    /// Whether this silence mutes an alert with `labels` at `now` (epoch ms).
    pub fn mutes(&self, labels: &Labels, now: i64) -> bool {
        self.is_active(now) && crate::matcher::all_match(&self.matchers, labels)
    }
}

/// The ids of the silences that mute `labels` at `now`; empty when none does.
pub fn silenced_by(silences: &[ActiveSilence], labels: &Labels, now: i64) -> Vec<String> {
    silences
        .iter()
        .filter(|s| s.mutes(labels, now))
        .map(|s| s.id.clone())
        .collect()
}

/// Whether any silence mutes `labels` at `now`.
pub fn is_silenced(silences: &[ActiveSilence], labels: &Labels, now: i64) -> bool {
    silences.iter().any(|s| s.mutes(labels, now))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::labels;
    use serde_json::json;

    fn silence(v: serde_json::Value) -> ActiveSilence {
        serde_json::from_value::<Silence>(v)
            .unwrap()
            .compile()
            .unwrap()
    }

    #[test]
    fn json_shape_round_trips() {
        let v = json!({
            "id": "s1",
            "matchers": [{"name": "team", "value": "ops", "isRegex": false, "isEqual": true}],
            "startsAt": "2026-01-01T00:00:00.000Z",
            "endsAt": "2026-01-01T01:00:00.000Z",
            "createdBy": "alice",
            "comment": "maintenance"
        });
        let s: Silence = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(s.ends_at - s.starts_at, 3_600_000);
        assert_eq!(serde_json::to_value(&s).unwrap(), v);
        // Offsets and missing isEqual are accepted.
        let s: Silence = serde_json::from_value(json!({
            "matchers": [{"name": "a", "value": "b"}],
            "startsAt": "2026-01-01T02:00:00+02:00", "endsAt": "2026-01-01T01:00:00Z"}))
        .unwrap();
        assert_eq!(s.starts_at, 1_767_225_600_000);
        assert!(s.matchers[0].is_equal);
    }

    #[test]
    fn matches_within_its_window_only() {
        let s = silence(json!({
            "id": "s1",
            "matchers": [
                {"name": "team", "value": "ops", "isRegex": false, "isEqual": true},
                {"name": "severity", "value": "info|warning", "isRegex": true, "isEqual": false}
            ],
            "startsAt": "1970-01-01T00:00:01Z", "endsAt": "1970-01-01T00:00:02Z"
        }));
        let crit = labels(&[("team", "ops"), ("severity", "critical")]);
        let warn = labels(&[("team", "ops"), ("severity", "warning")]);
        let silences = [s];
        assert!(!is_silenced(&silences, &crit, 999));
        assert!(is_silenced(&silences, &crit, 1000));
        assert!(is_silenced(&silences, &crit, 1999));
        assert!(!is_silenced(&silences, &crit, 2000), "endsAt is exclusive");
        assert!(!is_silenced(&silences, &warn, 1500));
        assert!(!is_silenced(&silences, &labels(&[("team", "dev")]), 1500));
        assert_eq!(silenced_by(&silences, &crit, 1500), ["s1"]);
    }

    #[test]
    fn bad_silences_are_refused() {
        let bad = |v: serde_json::Value| {
            serde_json::from_value::<Silence>(v)
                .unwrap()
                .compile()
                .unwrap_err()
        };
        let t = json!("2026-01-01T00:00:00Z");
        let t2 = json!("2026-01-02T00:00:00Z");
        assert!(bad(json!({"matchers": [], "startsAt": t, "endsAt": t2})).contains("at least one"));
        assert!(bad(
            json!({"matchers": [{"name": "a", "value": "(", "isRegex": true}],
            "startsAt": t, "endsAt": t2})
        )
        .contains("regular expression"));
        assert!(bad(
            json!({"matchers": [{"name": "a", "value": ".*", "isRegex": true}],
            "startsAt": t, "endsAt": t2})
        )
        .contains("empty string"));
        assert!(bad(json!({"matchers": [{"name": "a", "value": "b"}],
            "startsAt": t2, "endsAt": t}))
        .contains("after"));
        assert!(serde_json::from_value::<Silence>(json!({"matchers": [],
            "startsAt": "yesterday", "endsAt": t}))
        .is_err());
    }
}
