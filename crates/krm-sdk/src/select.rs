//! Selecting items by apiVersion, kind, name and annotations.

use crate::object::ObjectExt;
use serde_json::Value;

/// Matches objects; an unset criterion matches everything.
#[derive(Debug, Clone, Default)]
pub struct Selector<'a> {
    /// Group of the apiVersion (`lummo.dev`), any version.
    pub group: Option<&'a str>,
    pub kinds: &'a [&'a str],
    pub name: Option<&'a str>,
    /// Annotation key and value that must be present.
    pub annotation: Option<(&'a str, &'a str)>,
}

impl<'a> Selector<'a> {
    /// Objects of any of these kinds, any group.
    pub fn kinds(kinds: &'a [&'a str]) -> Self {
        Selector {
            kinds,
            ..Self::default()
        }
    }

    pub fn matches(&self, object: &Value) -> bool {
        let group = object
            .api_version()
            .rsplit_once('/')
            .map(|(g, _)| g)
            .unwrap_or("");
        self.group.is_none_or(|g| g == group)
            && (self.kinds.is_empty() || self.kinds.contains(&object.kind()))
            && self.name.is_none_or(|n| n == object.name())
            && self
                .annotation
                .is_none_or(|(k, v)| object.annotation(k) == Some(v))
    }

    /// Indices of matching items, in input order.
    pub fn select<T: std::ops::Deref<Target = Value>>(&self, items: &[T]) -> Vec<usize> {
        (0..items.len())
            .filter(|&i| self.matches(&items[i]))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn selects_by_group_kind_name_and_annotation() {
        let items: Vec<crate::resource_list::Item> = vec![
            json!({"apiVersion": "a.dev/v1", "kind": "X", "metadata": {"name": "x", "annotations": {"k": "v"}}}),
            json!({"apiVersion": "b.dev/v1", "kind": "X", "metadata": {"name": "y"}}),
            json!({"apiVersion": "v1", "kind": "Y", "metadata": {"name": "x"}}),
        ]
        .into_iter()
        .map(Into::into)
        .collect();
        assert_eq!(Selector::kinds(&["X"]).select(&items), vec![0, 1]);
        assert_eq!(
            Selector {
                group: Some("a.dev"),
                ..Selector::kinds(&["X"])
            }
            .select(&items),
            vec![0]
        );
        assert_eq!(
            Selector {
                name: Some("x"),
                ..Selector::default()
            }
            .select(&items),
            vec![0, 2]
        );
        assert_eq!(
            Selector {
                annotation: Some(("k", "v")),
                ..Selector::default()
            }
            .select(&items),
            vec![0]
        );
    }
}
