//! Whether two routes of different apps can match one request, and which one a
//! request they both match should reach.
//!
//! A rule is brought into disjunctive normal form over literals (a matcher or its
//! negation, `!` pushed down by De Morgan); two conjunctions can match one request
//! unless a pair of their literals cannot both hold (two different `Path`s, a `Path`
//! outside a `PathPrefix`, two methods, a literal and its negation, ...). Anything
//! not provably disjoint counts as overlapping (header and query matchers never
//! exclude each other: a request may carry several values), so the check errs
//! towards refusing, never towards a misroute.
//!
//! Hosts come from `domains`: two routes can only meet on a host both specs serve
//! (a `*.base` wildcard serves one label under `base`, as the generated
//! `HostRegexp` does).

use crate::rule::{Matcher, Rule};
use lummo_core::names::Hostname;

/// A matcher or its negation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Literal {
    pub positive: bool,
    pub matcher: Matcher,
    pub args: Vec<String>,
}

/// At most this many conjunctions per rule; a rule with more is taken as matching
/// every request on its hosts (its negations make it no narrower than that).
const MAX_TERMS: usize = 256;

/// The rule as a disjunction of conjunctions of literals.
pub fn terms(rule: &Rule) -> Vec<Vec<Literal>> {
    dnf(rule, false).unwrap_or_else(|| vec![Vec::new()])
}

fn dnf(rule: &Rule, negated: bool) -> Option<Vec<Vec<Literal>>> {
    let product = |left: Vec<Vec<Literal>>, right: Vec<Vec<Literal>>| {
        if left.len() * right.len() > MAX_TERMS {
            return None;
        }
        let mut out = Vec::new();
        for a in &left {
            for b in &right {
                out.push(a.iter().chain(b).cloned().collect());
            }
        }
        Some(out)
    };
    match (rule, negated) {
        (Rule::Match(matcher, args), _) => Some(vec![vec![Literal {
            positive: !negated,
            matcher: *matcher,
            args: args.clone(),
        }]]),
        (Rule::Not(inner), _) => dnf(inner, !negated),
        (Rule::And(l, r), false) | (Rule::Or(l, r), true) => {
            product(dnf(l, negated)?, dnf(r, negated)?)
        }
        (Rule::Or(l, r), false) | (Rule::And(l, r), true) => {
            let mut left = dnf(l, negated)?;
            left.extend(dnf(r, negated)?);
            (left.len() <= MAX_TERMS).then_some(left)
        }
    }
}

/// How specific a conjunction's paths are: exact and longer paths first; the
/// paths it excludes (`!Path`) do not count.
pub fn path_specificity(term: &[Literal]) -> usize {
    term.iter()
        .filter(|literal| literal.positive)
        .map(|literal| match literal.matcher {
            Matcher::Path => literal.args[0].len() * 2 + 1,
            Matcher::PathPrefix | Matcher::PathRegexp => literal.args[0].len() * 2,
            _ => 0,
        })
        .max()
        .unwrap_or(0)
}

/// The hosts on which specs serving `a` and `b` meet: one concrete host per
/// shared domain (a wildcard shared with a wildcard gives a sample label).
pub fn shared_hosts(a: &[Hostname], b: &[Hostname]) -> Vec<String> {
    let mut hosts = Vec::new();
    for x in a {
        for y in b {
            let host = match (x.wildcard_base(), y.wildcard_base()) {
                (None, None) => (x.eq_ignore_ascii_case(y)).then(|| x.to_ascii_lowercase()),
                (Some(base), None) => under(y, base).then(|| y.to_ascii_lowercase()),
                (None, Some(base)) => under(x, base).then(|| x.to_ascii_lowercase()),
                (Some(p), Some(q)) => p
                    .eq_ignore_ascii_case(q)
                    .then(|| format!("wildcard.{}", p.to_ascii_lowercase())),
            };
            if let Some(host) = host.filter(|h| !hosts.contains(h)) {
                hosts.push(host);
            }
        }
    }
    hosts
}

/// Whether `host` is one label under `base`, as `*.base` serves it.
fn under(host: &str, base: &str) -> bool {
    let host = host.to_ascii_lowercase();
    let base = base.to_ascii_lowercase();
    host.strip_suffix(&base)
        .and_then(|label| label.strip_suffix('.'))
        .is_some_and(|label| !label.is_empty() && !label.contains('.'))
}

/// Whether one request to `host` can satisfy both conjunctions.
pub fn can_meet(host: &str, a: &[Literal], b: &[Literal]) -> bool {
    let all: Vec<&Literal> = a.iter().chain(b).collect();
    if all.iter().any(|l| !host_allows(host, l)) {
        return false;
    }
    let positives: Vec<&Literal> = all.iter().copied().filter(|l| l.positive).collect();
    for (i, x) in positives.iter().enumerate() {
        if positives[i + 1..]
            .iter()
            .any(|y| excludes(x, y) || excludes(y, x))
        {
            return false;
        }
    }
    let negatives = all.iter().filter(|l| !l.positive);
    for negative in negatives {
        if positives.iter().any(|p| implies(p, negative)) {
            return false;
        }
    }
    true
}

/// Whether a literal can hold on a request to `host`.
fn host_allows(host: &str, literal: &Literal) -> bool {
    let holds = match literal.matcher {
        Matcher::Host => literal.args[0].eq_ignore_ascii_case(host),
        Matcher::HostRegexp => match regex_lite::Regex::new(&literal.args[0]) {
            Ok(re) => re.is_match(host),
            Err(_) => return true,
        },
        _ => return true,
    };
    holds == literal.positive
}

/// Whether positive `x` and positive `y` cannot hold on one request.
fn excludes(x: &Literal, y: &Literal) -> bool {
    let (p, q) = (&x.args[0], &y.args[0]);
    match (x.matcher, y.matcher) {
        (Matcher::Path, Matcher::Path) => p != q,
        (Matcher::Path, Matcher::PathPrefix) => !p.starts_with(q.as_str()),
        (Matcher::PathPrefix, Matcher::PathPrefix) => {
            !p.starts_with(q.as_str()) && !q.starts_with(p.as_str())
        }
        (Matcher::Path, Matcher::PathRegexp) => {
            regex_lite::Regex::new(q).is_ok_and(|re| !re.is_match(p))
        }
        (Matcher::Method, Matcher::Method) => !p.eq_ignore_ascii_case(q),
        _ => false,
    }
}

/// Whether every request positive `p` holds on is one `negative`'s matcher holds
/// on (so `negative` fails there).
fn implies(p: &Literal, negative: &Literal) -> bool {
    if p.matcher == negative.matcher && p.args == negative.args {
        return true;
    }
    let (value, excluded) = (&p.args[0], &negative.args[0]);
    match (p.matcher, negative.matcher) {
        (Matcher::Path | Matcher::PathPrefix, Matcher::PathPrefix) => {
            value.starts_with(excluded.as_str())
        }
        (Matcher::Path, Matcher::PathRegexp) => {
            regex_lite::Regex::new(excluded).is_ok_and(|re| re.is_match(value))
        }
        (Matcher::Method, Matcher::Method) => value.eq_ignore_ascii_case(excluded),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule::parse;

    fn meet(a: &str, b: &str) -> bool {
        let (a, b) = (
            terms(&parse(a).unwrap().rule),
            terms(&parse(b).unwrap().rule),
        );
        a.iter().any(|x| b.iter().any(|y| can_meet("a.test", x, y)))
    }

    #[test]
    fn paths_methods_and_negations() {
        assert!(meet("PathPrefix(`/`)", "PathPrefix(`/b`)"));
        assert!(meet("PathPrefix(`/b`)", "Path(`/b/c`)"));
        assert!(!meet("PathPrefix(`/a`)", "PathPrefix(`/b`)"));
        assert!(!meet("Path(`/a`)", "PathPrefix(`/a/`)"));
        assert!(!meet("Method(`GET`)", "Method(`POST`)"));
        assert!(
            meet("Header(`X`, `1`)", "Header(`X`, `2`)"),
            "a request may carry both values"
        );
        assert!(!meet(
            "PathPrefix(`/`) && !PathPrefix(`/b`)",
            "Path(`/b/c`)"
        ));
        assert!(meet("PathPrefix(`/`) && !PathPrefix(`/b`)", "Path(`/c`)"));
        assert!(!meet(
            "!(Method(`GET`) || Method(`POST`))",
            "Method(`POST`)"
        ));
        assert!(meet("!(Method(`GET`) && Path(`/a`))", "Method(`GET`)"));
        assert!(
            !meet("Host(`b.test`)", "PathPrefix(`/`)"),
            "the request's host is a.test"
        );
        assert!(!meet("PathRegexp(`^/v[0-9]+$`)", "Path(`/x`)"));
    }

    #[test]
    fn hosts_under_wildcards() {
        let h = |s: &str| Hostname::new(s).unwrap();
        assert_eq!(shared_hosts(&[h("*.x.com")], &[h("a.x.com")]), ["a.x.com"]);
        assert!(shared_hosts(&[h("*.x.com")], &[h("a.b.x.com")]).is_empty());
        assert_eq!(
            shared_hosts(&[h("a.x.com")], &[h("a.x.com"), h("b.x.com")]),
            ["a.x.com"]
        );
        assert_eq!(
            shared_hosts(&[h("*.x.com")], &[h("*.x.com")]),
            ["wildcard.x.com"]
        );
    }
}
