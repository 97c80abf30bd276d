//! The notification policy tree, in the JSON shape of Grafana's provisioning API
//! (`GET`/`PUT /api/v1/provisioning/policies`), its validation, and routing: which receivers an
//! alert goes to, in which group, with which timing.
//!
//! Routing follows Alertmanager: the root matches every alert; an alert descends into the first
//! child whose `object_matchers` all match (and into later siblings too while the matched child
//! has `continue: true`); where no child matches, the route itself takes the alert. Children
//! inherit `receiver`, `group_by`, the three timings and `mute_time_intervals` they leave out.
//!
//! Supported: `receiver`, `group_by` (with `...` for every label), `object_matchers`, `continue`,
//! `group_wait`, `group_interval`, `repeat_interval`, `routes`. `mute_time_intervals` and
//! `active_time_intervals` are kept and inherited, but the time intervals themselves are not
//! evaluated yet. Fields Pharos does not know (`provenance`, ...) are kept in `extra`, so a
//! tree round-trips. The legacy matcher forms (`matchers` as strings, `match`, `match_re`) are
//! refused by validation rather than silently ignored.

use std::collections::BTreeSet;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::duration::parse_duration;
use crate::labels::Labels;
use crate::matcher::{MatchOp, Matcher};

/// Alertmanager's and Grafana's defaults.
pub const DEFAULT_GROUP_WAIT: Duration = Duration::from_secs(30);
pub const DEFAULT_GROUP_INTERVAL: Duration = Duration::from_secs(5 * 60);
pub const DEFAULT_REPEAT_INTERVAL: Duration = Duration::from_secs(4 * 3600);
/// `group_by: ["..."]` groups by every label.
pub const GROUP_BY_ALL: &str = "...";
/// How deep a policy tree may nest (a bound on recursion for client input).
const MAX_DEPTH: usize = 32;

/// One matcher in Grafana's `object_matchers` form: `["team", "=", "ops"]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMatcher {
    pub name: String,
    pub op: String,
    pub value: String,
}

impl Serialize for ObjectMatcher {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        [&self.name, &self.op, &self.value].serialize(s)
    }
}

impl<'de> Deserialize<'de> for ObjectMatcher {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ObjectMatcher, D::Error> {
        let [name, op, value] = <[String; 3]>::deserialize(d)?;
        Ok(ObjectMatcher { name, op, value })
    }
}

/// A policy (the root or a nested one), as Grafana's provisioning API writes it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Route {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiver: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_by: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub object_matchers: Vec<ObjectMatcher>,
    #[serde(default, rename = "continue", skip_serializing_if = "is_false")]
    pub continue_matching: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_wait: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_interval: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat_interval: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mute_time_intervals: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<Route>,
    /// Everything else (`provenance`, `active_time_intervals`, ...), kept for the round trip.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// When a group's notifications are due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timing {
    pub group_wait: Duration,
    pub group_interval: Duration,
    pub repeat_interval: Duration,
}

impl Default for Timing {
    fn default() -> Timing {
        Timing {
            group_wait: DEFAULT_GROUP_WAIT,
            group_interval: DEFAULT_GROUP_INTERVAL,
            repeat_interval: DEFAULT_REPEAT_INTERVAL,
        }
    }
}

/// Where one alert goes: one entry per matched policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Destination {
    pub receiver: String,
    /// `<route key>:<group labels>`, e.g. `{}/{team="ops"}:{alertname="Disk"}`: unique per
    /// policy and group, stable across replicas and versions (it keys persisted group state).
    pub group_key: String,
    /// The labels the group is made of (the `group_by` labels the alert has).
    pub group_labels: Labels,
    pub timing: Timing,
    pub mute_time_intervals: Vec<String>,
}

/// A validation error, for a 400 at save time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct RouteError {
    /// Where in the tree: `root`, `root.routes[1].routes[0]`.
    pub path: String,
    pub message: String,
}

#[derive(Debug, Clone)]
enum GroupBy {
    All,
    Labels(Vec<String>),
}

/// A policy tree made ready for routing: settings inherited, matchers and durations parsed.
#[derive(Debug, Clone)]
pub struct RoutingTree {
    root: Node,
}

#[derive(Debug, Clone)]
struct Node {
    key: String,
    receiver: String,
    group_by: GroupBy,
    matchers: Vec<Matcher>,
    continue_matching: bool,
    timing: Timing,
    mute_time_intervals: Vec<String>,
    children: Vec<Node>,
}

impl Route {
    /// Validates the tree against the receivers (contact points) that exist and prepares it
    /// for routing.
    pub fn compile(&self, receivers: &BTreeSet<String>) -> Result<RoutingTree, RouteError> {
        let err = |message: String| RouteError {
            path: "root".into(),
            message,
        };
        if self.receiver.as_deref().unwrap_or("").is_empty() {
            return Err(err("the root policy needs a receiver".into()));
        }
        if !self.object_matchers.is_empty() {
            return Err(err("the root policy must not have matchers".into()));
        }
        if self.continue_matching {
            return Err(err("the root policy must not have continue".into()));
        }
        let parent = Node {
            key: String::new(),
            receiver: String::new(),
            group_by: GroupBy::Labels(Vec::new()),
            matchers: Vec::new(),
            continue_matching: false,
            timing: Timing::default(),
            mute_time_intervals: Vec::new(),
            children: Vec::new(),
        };
        let root = compile_node(self, &parent, "root", "{}".into(), receivers, 0)?;
        Ok(RoutingTree { root })
    }
}

fn duration_field(
    value: &Option<String>,
    name: &str,
    inherited: Duration,
    allow_zero: bool,
    path: &str,
) -> Result<Duration, RouteError> {
    let Some(text) = value.as_deref().filter(|t| !t.is_empty()) else {
        return Ok(inherited);
    };
    let d = parse_duration(text).ok_or_else(|| RouteError {
        path: path.to_string(),
        message: format!("{name} {text:?} is not a duration"),
    })?;
    if d.is_zero() && !allow_zero {
        return Err(RouteError {
            path: path.to_string(),
            message: format!("{name} must be greater than zero"),
        });
    }
    Ok(d)
}

fn compile_node(
    route: &Route,
    parent: &Node,
    path: &str,
    key: String,
    receivers: &BTreeSet<String>,
    depth: usize,
) -> Result<Node, RouteError> {
    let err = |message: String| RouteError {
        path: path.to_string(),
        message,
    };
    if depth > MAX_DEPTH {
        return Err(err(format!("policies nest deeper than {MAX_DEPTH}")));
    }
    for legacy in ["matchers", "match", "match_re"] {
        if route.extra.get(legacy).is_some_and(|v| !v.is_null()) {
            return Err(err(format!(
                "{legacy} is not supported; write the matchers as object_matchers"
            )));
        }
    }
    let receiver = match route.receiver.as_deref().filter(|r| !r.is_empty()) {
        Some(r) if !receivers.contains(r) => {
            return Err(err(format!("unknown receiver {r:?}")));
        }
        Some(r) => r.to_string(),
        None => parent.receiver.clone(),
    };
    let group_by = match &route.group_by {
        None => parent.group_by.clone(),
        Some(list) => {
            if list.iter().any(|l| l == GROUP_BY_ALL) {
                if list.len() > 1 {
                    return Err(err(
                        "group_by cannot have \"...\" together with other labels".into(),
                    ));
                }
                GroupBy::All
            } else {
                let mut seen = BTreeSet::new();
                for l in list {
                    if l.is_empty() {
                        return Err(err("group_by has an empty label name".into()));
                    }
                    if !seen.insert(l) {
                        return Err(err(format!("group_by has {l:?} twice")));
                    }
                }
                GroupBy::Labels(list.clone())
            }
        }
    };
    let mut matchers = Vec::new();
    for m in &route.object_matchers {
        let op = MatchOp::parse(&m.op)
            .ok_or_else(|| err(format!("unknown matcher operator {:?}", m.op)))?;
        matchers.push(Matcher::new(&m.name, op, &m.value).map_err(err)?);
    }
    let timing = Timing {
        group_wait: duration_field(
            &route.group_wait,
            "group_wait",
            parent.timing.group_wait,
            true,
            path,
        )?,
        group_interval: duration_field(
            &route.group_interval,
            "group_interval",
            parent.timing.group_interval,
            false,
            path,
        )?,
        repeat_interval: duration_field(
            &route.repeat_interval,
            "repeat_interval",
            parent.timing.repeat_interval,
            false,
            path,
        )?,
    };
    let mute_time_intervals = if route.mute_time_intervals.is_empty() {
        parent.mute_time_intervals.clone()
    } else {
        route.mute_time_intervals.clone()
    };
    let mut node = Node {
        key,
        receiver,
        group_by,
        matchers,
        continue_matching: route.continue_matching,
        timing,
        mute_time_intervals,
        children: Vec::new(),
    };
    for (i, child) in route.routes.iter().enumerate() {
        let inner: Vec<String> = child
            .object_matchers
            .iter()
            .map(|m| format!("{}{}{:?}", m.name, m.op, m.value))
            .collect();
        // The sibling index keeps two policies with the same matchers apart.
        let child_key = format!("{}/{i}{{{}}}", node.key, inner.join(","));
        let child_path = format!("{path}.routes[{i}]");
        node.children.push(compile_node(
            child,
            &node,
            &child_path,
            child_key,
            receivers,
            depth + 1,
        )?);
    }
    Ok(node)
}

impl RoutingTree {
    /// Every destination of an alert with `labels`, in tree order.
    pub fn route(&self, labels: &Labels) -> Vec<Destination> {
        let mut out = Vec::new();
        collect(&self.root, labels, &mut out);
        out
    }
}

fn collect(node: &Node, labels: &Labels, out: &mut Vec<Destination>) -> bool {
    if !crate::matcher::all_match(&node.matchers, labels) {
        return false;
    }
    let before = out.len();
    for child in &node.children {
        if collect(child, labels, out) && !child.continue_matching {
            break;
        }
    }
    if out.len() == before {
        let group_labels: Labels = match &node.group_by {
            GroupBy::All => labels.clone(),
            GroupBy::Labels(names) => names
                .iter()
                .filter_map(|n| labels.get(n).map(|v| (n.clone(), v.clone())))
                .collect(),
        };
        let inner: Vec<String> = group_labels
            .iter()
            .map(|(k, v)| format!("{k}={v:?}"))
            .collect();
        out.push(Destination {
            receiver: node.receiver.clone(),
            group_key: format!("{}:{{{}}}", node.key, inner.join(", ")),
            group_labels,
            timing: node.timing,
            mute_time_intervals: node.mute_time_intervals.clone(),
        });
    }
    true
}

/// The receivers a tree names (for "is this contact point in use" checks).
pub fn receivers_used(route: &Route) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    fn walk(r: &Route, out: &mut BTreeSet<String>) {
        if let Some(name) = &r.receiver {
            out.insert(name.clone());
        }
        r.routes.iter().for_each(|c| walk(c, out));
    }
    walk(route, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::labels;
    use serde_json::json;

    fn receivers(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    fn tree(value: serde_json::Value, names: &[&str]) -> RoutingTree {
        let route: Route = serde_json::from_value(value).unwrap();
        route.compile(&receivers(names)).unwrap()
    }

    fn summary(d: &[Destination]) -> Vec<(String, String)> {
        d.iter()
            .map(|d| (d.receiver.clone(), d.group_key.clone()))
            .collect()
    }

    #[test]
    fn grafana_json_round_trips() {
        let value = json!({
            "receiver": "grafana-default-email",
            "group_by": ["grafana_folder", "alertname"],
            "routes": [{
                "receiver": "ops-webhook",
                "object_matchers": [["team", "=", "ops"], ["severity", "=~", "critical|page"]],
                "continue": true,
                "group_wait": "10s",
                "mute_time_intervals": ["weekends"],
                "routes": [{"object_matchers": [["env", "!=", "dev"]], "repeat_interval": "1h"}]
            }],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "4h",
            "provenance": "api"
        });
        let route: Route = serde_json::from_value(value.clone()).unwrap();
        assert_eq!(route.routes[0].object_matchers[1].op, "=~");
        assert!(route.routes[0].continue_matching);
        assert_eq!(serde_json::to_value(&route).unwrap(), value);
    }

    /// The example of Grafana's notification policy docs: a default policy with a team policy
    /// that has a nested severity policy; alerts inherit the parent's settings.
    #[test]
    fn nested_policies_inherit_and_the_most_specific_wins() {
        let t = tree(
            json!({
                "receiver": "default",
                "group_by": ["grafana_folder", "alertname"],
                "routes": [
                    {"receiver": "team-a", "object_matchers": [["team", "=", "a"]],
                     "group_interval": "1m",
                     "routes": [{"receiver": "team-a-pager",
                                 "object_matchers": [["severity", "=", "critical"]],
                                 "group_by": ["alertname", "instance"]}]},
                    {"receiver": "team-b", "object_matchers": [["team", "=~", "b|c"]]}
                ]
            }),
            &["default", "team-a", "team-a-pager", "team-b"],
        );
        let crit = labels(&[
            ("alertname", "Disk"),
            ("team", "a"),
            ("severity", "critical"),
            ("instance", "h1"),
            ("grafana_folder", "Ops"),
        ]);
        let d = t.route(&crit);
        assert_eq!(
            summary(&d),
            [(
                "team-a-pager".to_string(),
                "{}/0{team=\"a\"}/0{severity=\"critical\"}:{alertname=\"Disk\", instance=\"h1\"}"
                    .to_string()
            )]
        );
        assert_eq!(
            d[0].timing.group_interval,
            Duration::from_secs(60),
            "inherited"
        );
        assert_eq!(d[0].timing.group_wait, DEFAULT_GROUP_WAIT);

        let warn = labels(&[
            ("alertname", "Disk"),
            ("team", "a"),
            ("severity", "warning"),
        ]);
        let d = t.route(&warn);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].receiver, "team-a");
        assert_eq!(d[0].group_labels, labels(&[("alertname", "Disk")]));

        let c = labels(&[("alertname", "X"), ("team", "c")]);
        assert_eq!(t.route(&c)[0].receiver, "team-b");

        let other = labels(&[("alertname", "X"), ("team", "z"), ("grafana_folder", "F")]);
        assert_eq!(
            summary(&t.route(&other)),
            [(
                "default".to_string(),
                "{}:{alertname=\"X\", grafana_folder=\"F\"}".to_string()
            )]
        );
    }

    #[test]
    fn continue_sends_to_later_siblings_too() {
        let t = tree(
            json!({
                "receiver": "default",
                "routes": [
                    {"receiver": "audit", "object_matchers": [["alertname", "=~", ".+"]], "continue": true},
                    {"receiver": "ops", "object_matchers": [["team", "=", "ops"]]},
                    {"receiver": "never", "object_matchers": [["team", "=", "ops"]]}
                ]
            }),
            &["default", "audit", "ops", "never"],
        );
        let d = t.route(&labels(&[("alertname", "A"), ("team", "ops")]));
        let names: Vec<&str> = d.iter().map(|d| d.receiver.as_str()).collect();
        assert_eq!(names, ["audit", "ops"]);
        // The continue policy matched, but as no policy without continue did, the parent
        // does not take the alert (Alertmanager's rule: any match stops the fallback).
        let d = t.route(&labels(&[("alertname", "A"), ("team", "dev")]));
        let names: Vec<&str> = d.iter().map(|d| d.receiver.as_str()).collect();
        assert_eq!(names, ["audit"]);
        let d = t.route(&labels(&[("team", "dev")]));
        assert_eq!(d[0].receiver, "default");
        // No group_by anywhere: every alert of a policy is in one group.
        assert_eq!(d[0].group_key, "{}:{}");
    }

    /// Grafana's documentation: a nested policy without matchers matches every alert, so later
    /// siblings see nothing unless it continues; the default policy handles what no nested
    /// policy matched.
    #[test]
    fn a_policy_without_matchers_catches_everything() {
        let route = |cont: bool| {
            tree(
                json!({"receiver": "default", "routes": [
                    {"receiver": "catch-all", "continue": cont},
                    {"receiver": "ops", "object_matchers": [["team", "=", "ops"]]}]}),
                &["default", "catch-all", "ops"],
            )
        };
        let ops = labels(&[("team", "ops")]);
        let names = |t: &RoutingTree| -> Vec<String> {
            t.route(&ops).into_iter().map(|d| d.receiver).collect()
        };
        assert_eq!(names(&route(false)), ["catch-all"]);
        assert_eq!(names(&route(true)), ["catch-all", "ops"]);
        let t = tree(
            json!({"receiver": "default", "routes": [
                {"receiver": "ops", "object_matchers": [["team", "=", "ops"]]}]}),
            &["default", "ops"],
        );
        assert_eq!(t.route(&labels(&[("team", "dev")]))[0].receiver, "default");
    }

    #[test]
    fn group_by_all_labels() {
        let t = tree(
            json!({"receiver": "r", "group_by": ["..."], "group_wait": "0s"}),
            &["r"],
        );
        let l = labels(&[("a", "1"), ("b", "2")]);
        let d = t.route(&l);
        assert_eq!(d[0].group_labels, l);
        assert_eq!(d[0].group_key, "{}:{a=\"1\", b=\"2\"}");
        assert_eq!(d[0].timing.group_wait, Duration::ZERO);
    }

    #[test]
    fn validation_names_the_mistake_and_where() {
        let check = |v: serde_json::Value| -> String {
            let r: Route = serde_json::from_value(v).unwrap();
            r.compile(&receivers(&["r"])).unwrap_err().to_string()
        };
        assert_eq!(
            check(json!({"receiver": "nope"})),
            "root: unknown receiver \"nope\""
        );
        assert_eq!(check(json!({})), "root: the root policy needs a receiver");
        assert!(check(json!({"receiver": "r", "routes": [
            {"object_matchers": [["a", "=~", "("]]}]}))
        .starts_with("root.routes[0]: bad regular expression for a"));
        assert_eq!(
            check(json!({"receiver": "r", "routes": [{}, {"group_wait": "soon"}]})),
            "root.routes[1]: group_wait \"soon\" is not a duration"
        );
        assert_eq!(
            check(json!({"receiver": "r", "repeat_interval": "0s"})),
            "root: repeat_interval must be greater than zero"
        );
        assert_eq!(
            check(json!({"receiver": "r", "routes": [{"object_matchers": [["a", "==", "b"]]}]})),
            "root.routes[0]: unknown matcher operator \"==\""
        );
        assert!(check(json!({"receiver": "r", "group_by": ["...", "a"]})).contains("\"...\""));
        assert!(
            check(json!({"receiver": "r", "routes": [{"matchers": ["a=b"]}]}))
                .contains("object_matchers")
        );
        assert!(
            check(json!({"receiver": "r", "object_matchers": [["a", "=", "b"]]}))
                .contains("must not have matchers")
        );
        // A matcher of the wrong arity is a JSON error.
        assert!(serde_json::from_value::<Route>(
            json!({"receiver": "r", "object_matchers": [["a", "="]]})
        )
        .is_err());
    }

    #[test]
    fn deep_trees_are_refused_not_overflowed() {
        let mut v = json!({"object_matchers": [["a", "=", "b"]]});
        for _ in 0..40 {
            v = json!({"routes": [v]});
        }
        v["receiver"] = json!("r");
        let r: Route = serde_json::from_value(v).unwrap();
        assert!(r
            .compile(&receivers(&["r"]))
            .unwrap_err()
            .message
            .contains("deeper"));
        assert_eq!(receivers_used(&r), receivers(&["r"]));
    }
}
