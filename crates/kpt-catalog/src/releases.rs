//! The releases lummo knows of each catalog function it runs in process, and
//! the newest kpt's `tag:` field of a pipeline step: a semver range
//! (`"0.4.1 - 0.4.3"`, `"~0.2"`) that kpt resolves to the newest released tag
//! matching it (kpt's e2e case `fn-render/basicpipeline-semver` resolves those
//! two to set-namespace v0.4.3 and set-labels v0.2.5).
//!
//! kpt lists the tags of the image in its registry; our machines reach no
//! registry, so the list is ours: the catalog's release tags
//! (`<fn>/vX.Y.Z` in kptdev/krm-functions-catalog) plus the releases the newest
//! kpt's e2e data resolves to. A range is read with the syntax of the
//! Masterminds semver constraints kpt uses: `||` alternatives, comparisons
//! joined by spaces or commas (`>=`, `>`, `<=`, `<`, `=`, `!=`), `~` (patch
//! releases; `~1` minor ones too), `^` (up to the next major, or minor below
//! 1.0), `A - B` (inclusive; a partial `B` covers its whole line) and `x`/`*`
//! wildcards. A prerelease never matches (no catalog release is one).

/// Every release lummo knows, by catalog name, oldest first.
const RELEASES: &[(&str, &[&str])] = &[
    (
        "set-namespace",
        &[
            "v0.1.0", "v0.1.1", "v0.1.2", "v0.1.3", "v0.1.4", "v0.2.0", "v0.3.0", "v0.3.1",
            "v0.3.2", "v0.3.3", "v0.3.4", "v0.4.0", "v0.4.1", "v0.4.3",
        ],
    ),
    (
        "set-labels",
        &["v0.1.3", "v0.1.4", "v0.1.5", "v0.2.0", "v0.2.1", "v0.2.5"],
    ),
    ("set-annotations", &["v0.1.3", "v0.1.4"]),
    ("set-image", &["v0.1.0", "v0.1.1"]),
    ("apply-setters", &["v0.1.0", "v0.1.1", "v0.2.0", "v0.2.1"]),
    ("upsert-resource", &["v0.1.0", "v0.2.0"]),
    ("remove-local-config-resources", &["v0.1.0"]),
    ("ensure-name-substring", &["v0.1.0", "v0.1.1", "v0.2.0"]),
    ("search-replace", &["v0.1.0", "v0.1.1", "v0.2.0"]),
    ("apply-replacements", &["v0.1.0", "v0.1.1", "v0.1.2"]),
    ("create-setters", &["v0.1.0"]),
    // kubeconform was never tagged in the catalog repository (it is built
    // from contrib/ as :latest); gcr.io/kpt-fn/kubeconform:v0.1.1 is what
    // kpt's package examples pin.
    ("kubeconform", &["v0.1.1"]),
    (
        "kubeval",
        &["v0.1.0", "v0.1.1", "v0.1.2", "v0.2.0", "v0.2.1", "v0.3.0"],
    ),
    ("set-project-id", &["v0.1.0", "v0.2.0"]),
    ("enable-gcp-services", &["v0.1.0"]),
    ("set-enforcement-action", &["v0.1.0"]),
    (
        "gatekeeper",
        &["v0.1.1", "v0.1.2", "v0.1.3", "v0.2.0", "v0.2.1"],
    ),
    (
        "starlark",
        &[
            "v0.1.0", "v0.1.1", "v0.1.2", "v0.2.0", "v0.2.1", "v0.2.2", "v0.3.0", "v0.4.0",
            "v0.4.1", "v0.4.2", "v0.4.3", "v0.5.0", "v0.5.1",
        ],
    ),
];

/// The releases lummo knows of a catalog function (empty for one it does not run).
pub fn releases(name: &str) -> &'static [&'static str] {
    RELEASES
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(&[], |(_, r)| r)
}

type Version = (u64, u64, u64);

/// The newest release of `name` that `range` admits, e.g. `v0.4.3`; the error
/// says why none does and names the releases lummo knows.
pub fn resolve(name: &str, range: &str) -> Result<&'static str, String> {
    let known = releases(name);
    if known.is_empty() {
        return Err(format!(
            "a `tag:` range is resolved against the releases lummo knows, and lummo runs no \
             catalog function `{name}` in process; write the tag into the image instead"
        ));
    }
    let range =
        parse_range(range).map_err(|why| format!("`{range}` is not a semver range ({why})"))?;
    known
        .iter()
        .rev()
        .copied()
        .find(|tag| {
            full(tag).is_some_and(|v| range.iter().any(|all| all.iter().all(|c| c.admits(v))))
        })
        .ok_or_else(|| {
            format!(
                "no release of {name} that lummo knows matches it; known: {}",
                known.join(", ")
            )
        })
}

fn full(tag: &str) -> Option<Version> {
    let mut parts = tag.strip_prefix('v')?.split('.');
    let v = (
        parts.next()?.parse().ok()?,
        parts.next()?.parse().ok()?,
        parts.next()?.parse().ok()?,
    );
    parts.next().is_none().then_some(v)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Ge,
    Gt,
    Le,
    Lt,
    Eq,
    Ne,
}

#[derive(Debug, Clone, Copy)]
struct Comparison(Op, Version);

impl Comparison {
    fn admits(&self, v: Version) -> bool {
        match self.0 {
            Op::Ge => v >= self.1,
            Op::Gt => v > self.1,
            Op::Le => v <= self.1,
            Op::Lt => v < self.1,
            Op::Eq => v == self.1,
            Op::Ne => v != self.1,
        }
    }
}

/// A version as written in a range: how many of its parts are given (a
/// wildcard ends them).
struct Partial {
    parts: [u64; 3],
    given: usize,
}

impl Partial {
    fn floor(&self) -> Version {
        (self.parts[0], self.parts[1], self.parts[2])
    }

    /// The first version past what the given parts cover (`1.2` → `1.3.0`);
    /// `None` when nothing is given (`*`).
    fn ceiling(&self) -> Option<Version> {
        let [a, b, c] = self.parts;
        match self.given {
            0 => None,
            1 => Some((a + 1, 0, 0)),
            2 => Some((a, b + 1, 0)),
            _ => Some((a, b, c + 1)),
        }
    }
}

fn partial(text: &str) -> Result<Partial, String> {
    let text = text.strip_prefix(['v', 'V']).unwrap_or(text);
    if text.contains(['-', '+']) {
        return Err(format!(
            "`{text}`: prereleases and build metadata are not supported"
        ));
    }
    let mut parts = [0; 3];
    let mut given = 0;
    for (i, part) in text.split('.').enumerate() {
        if i == 3 {
            return Err(format!("`{text}` has more than three parts"));
        }
        if matches!(part, "x" | "X" | "*") {
            continue;
        }
        if given < i {
            return Err(format!("`{text}`: a number after a wildcard"));
        }
        parts[i] = part
            .parse()
            .map_err(|_| format!("`{part}` in `{text}` is not a number"))?;
        given += 1;
    }
    Ok(Partial { parts, given })
}

/// `||` alternatives, each a list of comparisons that must all hold.
fn parse_range(text: &str) -> Result<Vec<Vec<Comparison>>, String> {
    text.split("||").map(parse_and).collect()
}

fn parse_and(text: &str) -> Result<Vec<Comparison>, String> {
    let words: Vec<&str> = text
        .split([' ', ',', '\t'])
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() {
        return Err("an empty range".into());
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        if words.get(i + 1) == Some(&"-") {
            let (low, high) = (
                partial(words[i])?,
                partial(words.get(i + 2).ok_or("`-` without an upper bound")?)?,
            );
            out.push(Comparison(Op::Ge, low.floor()));
            match (high.given, high.ceiling()) {
                (3, _) => out.push(Comparison(Op::Le, high.floor())),
                (_, Some(ceiling)) => out.push(Comparison(Op::Lt, ceiling)),
                (_, None) => {}
            }
            i += 3;
            continue;
        }
        let mut word = words[i].to_string();
        // `>= 1.2`: an operator written apart from its version.
        if word
            .trim_start_matches(['>', '<', '=', '!', '~', '^'])
            .is_empty()
        {
            word.push_str(words.get(i + 1).ok_or("an operator without a version")?);
            i += 1;
        }
        comparisons(&word, &mut out)?;
        i += 1;
    }
    Ok(out)
}

fn comparisons(word: &str, out: &mut Vec<Comparison>) -> Result<(), String> {
    let ops = [">=", "<=", "!=", "=>", "=<", ">", "<", "=", "~>", "~", "^"];
    let op = ops
        .iter()
        .find(|op| word.starts_with(**op))
        .copied()
        .unwrap_or("");
    let v = partial(&word[op.len()..])?;
    let (floor, ceiling) = (v.floor(), v.ceiling());
    match op {
        ">=" | "=>" => out.push(Comparison(Op::Ge, floor)),
        ">" => match ceiling {
            // `>1.2` admits 1.3.0, not 1.2.5: past everything `1.2` covers.
            Some(c) if v.given < 3 => out.push(Comparison(Op::Ge, c)),
            _ => out.push(Comparison(Op::Gt, floor)),
        },
        "<" => out.push(Comparison(Op::Lt, floor)),
        "<=" | "=<" => match ceiling {
            Some(c) if v.given < 3 => out.push(Comparison(Op::Lt, c)),
            _ => out.push(Comparison(Op::Le, floor)),
        },
        "!=" => out.push(Comparison(Op::Ne, floor)),
        "~" | "~>" => {
            out.push(Comparison(Op::Ge, floor));
            let (a, b, _) = floor;
            out.push(Comparison(
                Op::Lt,
                if v.given <= 1 {
                    (a + 1, 0, 0)
                } else {
                    (a, b + 1, 0)
                },
            ));
        }
        "^" => {
            out.push(Comparison(Op::Ge, floor));
            let (a, b, c) = floor;
            let upper = match (a, b, v.given) {
                (0, 0, 3) => (0, 0, c + 1),
                (0, 0, _) => (0, 1, 0),
                (0, _, _) => (0, b + 1, 0),
                _ => (a + 1, 0, 0),
            };
            out.push(Comparison(Op::Lt, upper));
        }
        // A bare version: that release, or the whole line a partial one covers.
        _ => match ceiling {
            Some(c) if v.given < 3 => {
                out.push(Comparison(Op::Ge, floor));
                out.push(Comparison(Op::Lt, c));
            }
            Some(_) => out.push(Comparison(Op::Eq, floor)),
            None => {}
        },
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_resolve_to_the_newest_release_they_admit() {
        for (name, range, tag) in [
            // kpt's e2e case basicpipeline-semver.
            ("set-namespace", "0.4.1 - 0.4.3", "v0.4.3"),
            ("set-labels", "~0.2", "v0.2.5"),
            ("set-namespace", "0.3", "v0.3.4"),
            ("set-namespace", "v0.2.0", "v0.2.0"),
            ("set-namespace", ">= 0.2, < 0.4", "v0.3.4"),
            ("set-namespace", "^0.3.1", "v0.3.4"),
            ("set-namespace", "0.1.x", "v0.1.4"),
            ("set-namespace", "0.1 - 0.3", "v0.3.4"),
            ("set-namespace", "<=0.3", "v0.3.4"),
            ("set-namespace", ">0.3", "v0.4.3"),
            ("set-namespace", "~0.1.3 || ~0.2", "v0.2.0"),
            ("set-namespace", "*", "v0.4.3"),
            ("apply-setters", "!=0.2.1", "v0.2.0"),
            ("set-project-id", "~0.1", "v0.1.0"),
            ("enable-gcp-services", "0.1", "v0.1.0"),
            ("set-enforcement-action", "*", "v0.1.0"),
        ] {
            assert_eq!(resolve(name, range), Ok(tag), "{name} {range}");
        }
    }

    #[test]
    fn nothing_matching_names_the_known_releases() {
        assert_eq!(
            resolve("set-image", "~0.2"),
            Err(
                "no release of set-image that lummo knows matches it; known: v0.1.0, v0.1.1".into()
            )
        );
        assert!(resolve("set-image", "0.1.0-rc1")
            .unwrap_err()
            .contains("prereleases"));
        assert!(resolve("set-image", ">= ")
            .unwrap_err()
            .contains("without a version"));
        assert!(resolve("set-image", "1.x.2")
            .unwrap_err()
            .contains("after a wildcard"));
        assert_eq!(resolve("starlark", "~0.4"), Ok("v0.4.3"));
        assert_eq!(resolve("kubeval", "~0.1"), Ok("v0.1.2"));
        assert_eq!(resolve("gatekeeper", "~0.1"), Ok("v0.1.3"));
        assert!(resolve("generate-folders", "~0.1")
            .unwrap_err()
            .contains("no catalog function `generate-folders`"));
    }
}
