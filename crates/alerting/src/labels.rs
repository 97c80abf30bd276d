//! Label sets and their fingerprints.
//!
//! An alert instance is identified by its labels. The fingerprint is a 64-bit FNV-1a hash of the
//! labels sorted by name, each name and value followed by a 0xff byte (a byte that never occurs in
//! UTF-8), so `{a="b,c"}` and `{a="b", c=""}` cannot collide by concatenation. The function is
//! written out here rather than taken from `std::hash`, whose output may change between Rust
//! releases: fingerprints are persisted and must stay the same across versions and replicas.

use std::collections::BTreeMap;
use std::fmt;

/// A label set, sorted by name.
pub type Labels = BTreeMap<String, String>;

/// A stable 64-bit identity of a label set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint(pub u64);

impl Fingerprint {
    /// The fingerprint of `labels` (order-independent: a `BTreeMap` iterates sorted).
    pub fn of(labels: &Labels) -> Fingerprint {
        const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
        const PRIME: u64 = 0x0000_0100_0000_01b3;
        let mut hash = OFFSET;
        let mut feed = |bytes: &[u8]| {
            for byte in bytes {
                hash ^= u64::from(*byte);
                hash = hash.wrapping_mul(PRIME);
            }
        };
        for (name, value) in labels {
            feed(name.as_bytes());
            feed(&[0xff]);
            feed(value.as_bytes());
            feed(&[0xff]);
        }
        Fingerprint(hash)
    }

    /// Parses the 16 hex digits `Display` writes.
    pub fn parse(text: &str) -> Option<Fingerprint> {
        if text.len() != 16 {
            return None;
        }
        u64::from_str_radix(text, 16).ok().map(Fingerprint)
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// `{a="1", b="2"}` as Grafana writes labels in evaluation strings (`{a=1, b=2}`).
pub fn format_labels(labels: &Labels) -> String {
    let inner: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{{{}}}", inner.join(", "))
}

/// Whether every label of `small` is in `big` with the same value.
pub fn is_subset(small: &Labels, big: &Labels) -> bool {
    small.iter().all(|(k, v)| big.get(k) == Some(v))
}

#[cfg(test)]
pub(crate) fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_stable_and_order_independent() {
        let a = labels(&[("instance", "a:9100"), ("job", "node")]);
        let mut b = Labels::new();
        b.insert("job".into(), "node".into());
        b.insert("instance".into(), "a:9100".into());
        assert_eq!(Fingerprint::of(&a), Fingerprint::of(&b));
        // Pinned: a persisted fingerprint must never change meaning.
        assert_eq!(
            Fingerprint::of(&Labels::new()).to_string(),
            "cbf29ce484222325"
        );
        // FNV-1a 64 of "a\xffb\xff" and of "instance\xffa:9100\xffjob\xffnode\xff".
        let pinned = Fingerprint::of(&labels(&[("a", "b")]));
        assert_eq!(pinned.to_string(), "d2b371819297f98a");
        assert_eq!(Fingerprint::of(&a).to_string(), "dd231e301311ecf8");
        assert_eq!(Fingerprint::parse(&pinned.to_string()), Some(pinned));
    }

    #[test]
    fn fingerprint_separates_names_and_values() {
        let one = labels(&[("a", "b,c")]);
        let two = labels(&[("a", "b"), (",c", "")]);
        let three = labels(&[("ab", "")]);
        let four = labels(&[("a", "b")]);
        assert_ne!(Fingerprint::of(&one), Fingerprint::of(&two));
        assert_ne!(Fingerprint::of(&three), Fingerprint::of(&four));
    }

    #[test]
    fn parse_rejects_garbage() {
        assert_eq!(Fingerprint::parse("xyz"), None);
        assert_eq!(Fingerprint::parse("00000000000000zz"), None);
    }

    #[test]
    fn subset_and_format() {
        let big = labels(&[("a", "1"), ("b", "2")]);
        assert!(is_subset(&labels(&[("a", "1")]), &big));
        assert!(!is_subset(&labels(&[("a", "2")]), &big));
        assert!(is_subset(&Labels::new(), &big));
        assert_eq!(format_labels(&big), "{a=1, b=2}");
    }
}
