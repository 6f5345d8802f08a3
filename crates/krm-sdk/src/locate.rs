//! Where a field is in a YAML file: the line and column of the node that a result's
//! field path (`spec.containers[0].ports[1].port`) names, for messages. Reading
//! records no positions (it is the hot path); this re-reads one file only for a
//! result being reported.

use saphyr_parser::{Event, Parser};

/// A node of one document, with where it starts (1-based line and column).
enum Node {
    Scalar(String, (usize, usize)),
    Sequence(Vec<Node>, (usize, usize)),
    Mapping(Vec<(Node, Node)>, (usize, usize)),
}

impl Node {
    fn at(&self) -> (usize, usize) {
        match self {
            Node::Scalar(_, at) | Node::Sequence(_, at) | Node::Mapping(_, at) => *at,
        }
    }
}

/// One step of a field path.
#[derive(Debug, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

/// `a.b[0]['x.y'].c` → steps.
fn steps(path: &str) -> Vec<Step> {
    let mut out = Vec::new();
    let mut key = String::new();
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '.' => {
                if !key.is_empty() {
                    out.push(Step::Key(std::mem::take(&mut key)));
                }
            }
            '[' => {
                if !key.is_empty() {
                    out.push(Step::Key(std::mem::take(&mut key)));
                }
                let mut inside = String::new();
                match chars.peek().copied() {
                    Some(quote @ ('\'' | '"')) => {
                        chars.next();
                        inside.extend(chars.by_ref().take_while(|c| *c != quote));
                        chars.next(); // `]`
                        out.push(Step::Key(inside));
                    }
                    _ => {
                        inside.extend(chars.by_ref().take_while(|c| *c != ']'));
                        match inside.parse() {
                            Ok(index) => out.push(Step::Index(index)),
                            Err(_) => out.push(Step::Key(inside)),
                        }
                    }
                }
            }
            c => key.push(c),
        }
    }
    if !key.is_empty() {
        out.push(Step::Key(key));
    }
    out
}

/// The 1-based line and column of the node at `path` in document `index` of `text`
/// (kpt's `config.kubernetes.io/index`), or of the deepest node of the path that
/// exists (a missing field is reported where it would go). A mapping entry is found
/// at its key. Index 0 into a mapping stays on the mapping: a single item written
/// where a list is taken (`containers:` as one mapping) is the list's first item.
/// `None` when the text does not parse or has no such document.
pub fn field_position(text: &str, index: usize, path: &str) -> Option<(usize, usize)> {
    let root = document(text, index)?;
    let mut node = &root;
    let mut best = root.at();
    for step in steps(path) {
        match (step, node) {
            (Step::Key(key), Node::Mapping(entries, _)) => {
                let Some((k, v)) = entries
                    .iter()
                    .find(|(k, _)| matches!(k, Node::Scalar(text, _) if *text == key))
                else {
                    break;
                };
                best = k.at();
                node = v;
            }
            (Step::Index(i), Node::Sequence(items, _)) => {
                let Some(item) = items.get(i) else { break };
                best = item.at();
                node = item;
            }
            (Step::Index(0), Node::Mapping(..)) => {}
            _ => break,
        }
    }
    Some(best)
}

/// The field at 1-based `line` of `text`: the document's index (as
/// [`field_position`] counts them) and the path of the deepest mapping key or
/// list item starting on that line (`spec.containers[0].image`; a key a path
/// cannot spell plainly as `['app.kubernetes.io/name']`), or, on a line where
/// none starts (a block scalar's text), of the last one starting before it.
/// The inverse of [`field_position`]. `None` when the text does not parse or the
/// line is before the first field of any document or past the text.
pub fn field_at(text: &str, line: usize) -> Option<(usize, String)> {
    if line == 0 || line > text.lines().count() {
        return None;
    }
    let mut found = None;
    for index in 0.. {
        let Some(root) = document(text, index) else {
            break;
        };
        if root.at().0 > line {
            break;
        }
        found = Some((index, root));
    }
    let (index, root) = found?;
    let mut entries = Vec::new();
    entries_of(&root, String::new(), 0, &mut entries);
    let on_line = entries
        .iter()
        .filter(|(at, _, _)| *at == line)
        .max_by_key(|(_, _, depth)| *depth);
    // Only a line with text continues the field before it (not a comment,
    // a blank line or a document marker).
    let own_text = text
        .lines()
        .nth(line - 1)
        .map(str::trim)
        .is_some_and(|t| !t.is_empty() && !t.starts_with('#') && t != "---" && t != "...");
    let before = || {
        entries
            .iter()
            .rfind(|(at, _, _)| *at < line)
            .filter(|_| own_text)
    };
    let entry = on_line.or_else(before)?;
    Some((index, entry.1.clone()))
}

/// Every mapping entry and list item below `node`: (line, path, depth), in
/// document order.
fn entries_of(node: &Node, path: String, depth: usize, out: &mut Vec<(usize, String, usize)>) {
    match node {
        Node::Mapping(entries, _) => {
            for (key, value) in entries {
                let Node::Scalar(key_text, at) = key else {
                    continue;
                };
                let step = if key_text.contains(['.', '[', ']', '\'']) || key_text.is_empty() {
                    format!("['{key_text}']")
                } else if path.is_empty() {
                    key_text.clone()
                } else {
                    format!(".{key_text}")
                };
                let path = format!("{path}{step}");
                out.push((at.0, path.clone(), depth + 1));
                entries_of(value, path, depth + 1, out);
            }
        }
        Node::Sequence(items, _) => {
            for (i, item) in items.iter().enumerate() {
                let path = format!("{path}[{i}]");
                out.push((item.at().0, path.clone(), depth + 1));
                entries_of(item, path, depth + 1, out);
            }
        }
        Node::Scalar(..) => {}
    }
}

/// Document `index` of `text` (empty documents not counted) as a tree.
fn document(text: &str, index: usize) -> Option<Node> {
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<(Node, Option<Node>)> = Vec::new();
    let mut seen = 0;
    let mut done: Option<Node> = None;
    while let Some(next) = parser.next_event() {
        let (event, span) = next.ok()?;
        let at = (span.start.line(), span.start.col() + 1);
        let node = match event {
            Event::DocumentStart(_) => {
                stack.clear();
                continue;
            }
            Event::DocumentEnd => {
                let empty = matches!(&done, None | Some(Node::Scalar(..)));
                if let Some(root) = done.take() {
                    if !empty {
                        if seen == index {
                            return Some(root);
                        }
                        seen += 1;
                    }
                }
                continue;
            }
            Event::Scalar(value, ..) => Node::Scalar(value.to_string(), at),
            Event::Alias(_) => Node::Scalar(String::new(), at),
            Event::SequenceStart(..) => {
                stack.push((Node::Sequence(Vec::new(), at), None));
                continue;
            }
            Event::MappingStart(..) => {
                stack.push((Node::Mapping(Vec::new(), at), None));
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => stack.pop()?.0,
            _ => continue,
        };
        match stack.last_mut() {
            None => done = Some(node),
            Some((Node::Sequence(items, _), _)) => items.push(node),
            Some((Node::Mapping(entries, _), pending)) => match pending.take() {
                None => *pending = Some(node),
                Some(key) => entries.push((key, node)),
            },
            Some((Node::Scalar(..), _)) => return None,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
apiVersion: v1
kind: ConfigMap
---
kind: LummoDeployment
spec:
  app: api
  containers:
    image: api:1.0.0
    ports:
    - {name: http, port: 70000}
    - name: grpc
      prot: 9000
  list:
  - a
  - b
metadata:
  labels: {tags.datadoghq.com/env: x}
";

    #[test]
    fn finds_the_field_not_the_document() {
        assert_eq!(field_position(TEXT, 1, "spec.app"), Some((6, 3)));
        assert_eq!(
            field_position(TEXT, 1, "spec.containers[0].ports[0].port"),
            Some((10, 20))
        );
        assert_eq!(
            field_position(TEXT, 1, "spec.containers[0].ports[1].prot"),
            Some((12, 7))
        );
        assert_eq!(field_position(TEXT, 1, "spec.list[1]"), Some((15, 5)));
        assert_eq!(
            field_position(TEXT, 1, "metadata.labels['tags.datadoghq.com/env']"),
            Some((17, 12))
        );
        // a missing field: where the mapping that lacks it is
        assert_eq!(
            field_position(TEXT, 1, "spec.containers[0].resources"),
            Some((7, 3))
        );
        assert_eq!(field_position(TEXT, 0, "kind"), Some((2, 1)));
        assert_eq!(field_position(TEXT, 2, "kind"), None);
        assert_eq!(field_position("a: [", 0, "a"), None);
    }

    #[test]
    fn finds_the_field_of_a_line() {
        assert_eq!(field_at(TEXT, 2), Some((0, "kind".into())));
        assert_eq!(field_at(TEXT, 6), Some((1, "spec.app".into())));
        assert_eq!(field_at(TEXT, 8), Some((1, "spec.containers.image".into())));
        // `- name: grpc`: the key, deeper than the item
        assert_eq!(
            field_at(TEXT, 11),
            Some((1, "spec.containers.ports[1].name".into()))
        );
        assert_eq!(field_at(TEXT, 14), Some((1, "spec.list[0]".into())));
        assert_eq!(
            field_at(TEXT, 17),
            Some((1, "metadata.labels['tags.datadoghq.com/env']".into()))
        );
        assert_eq!(field_at(TEXT, 3), None);
        assert_eq!(field_at(TEXT, 18), None);
        assert_eq!(field_at("a: |\n  one\n  two\n", 3), Some((0, "a".into())));
        assert_eq!(field_at(TEXT, 0), None);
        // every path it gives leads back to its line
        for line in 1..=17 {
            if let Some((index, path)) = field_at(TEXT, line) {
                assert_eq!(
                    field_position(TEXT, index, &path).map(|p| p.0),
                    Some(line),
                    "{path}"
                );
            }
        }
    }
}
