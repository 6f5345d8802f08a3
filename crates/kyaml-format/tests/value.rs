//! `format_value` for documents a function changed. Its output must be a fixed
//! point of `format` (so a later `kpt fn render` changes nothing), read back as the
//! new data, and keep the comments of keys and items that survive.
use serde_json::{json, Value};
use std::path::Path;

fn read(text: &str) -> Vec<Value> {
    krm_sdk::yaml::parse_documents(text, &krm_sdk::yaml::Limits::default()).unwrap()
}

fn check(original: Option<&str>, value: &Value) -> String {
    let indent = original.map_or(
        kyaml_format::SeqIndent::Compact,
        kyaml_format::derive_seq_indent,
    );
    let out = kyaml_format::format_value(original, value, indent);
    assert_eq!(
        kyaml_format::format(&out).unwrap(),
        out,
        "not a fixed point of format:\n{out}"
    );
    // kyaml's writer drops an empty `metadata.annotations`; nothing else changes.
    let mut expected = value.clone();
    if let Some(meta) = expected.get_mut("metadata").and_then(Value::as_object_mut) {
        if meta
            .get("annotations")
            .is_some_and(|a| a.as_object().is_some_and(|o| o.is_empty()))
        {
            meta.remove("annotations");
        }
    }
    assert_eq!(read(&out), vec![expected], "data differs:\n{out}");
    out
}

#[test]
fn unchanged_data_gives_kpts_bytes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/format");
    for case in std::fs::read_dir(dir).unwrap().flatten() {
        let input = std::fs::read_to_string(case.path().join("input.yaml")).unwrap();
        let expected = std::fs::read_to_string(case.path().join("kpt.yaml")).unwrap();
        let mut docs = Vec::new();
        let pieces = kyaml_format::split_documents(&input).unwrap();
        for piece in &pieces {
            for v in read(piece) {
                docs.push((piece.as_str(), v));
            }
        }
        let args: Vec<_> = docs
            .iter()
            .map(|(p, v)| (Some(*p), v, kyaml_format::derive_seq_indent(p)))
            .collect();
        assert_eq!(
            kyaml_format::format_values(&args),
            expected,
            "{}",
            case.path().display()
        );
    }
}

#[test]
fn surviving_fields_keep_their_comments() {
    let original = "\
# head of the document

apiVersion: v1 # line of apiVersion
kind: ConfigMap
metadata:
  # head of name
  name: x
  labels:
    # about a
    a: '1' # kept quoted
    gone: y # dropped with its key
data:
  list:
    - keep # stays
    - drop
";
    let value = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "x", "labels": {"a": "1", "new": "yes", "num": "123"}},
        "data": {"list": ["keep"], "added": "line one\nline two\n"}
    });
    let out = check(Some(original), &value);
    for kept in [
        "# head of the document",
        "# line of apiVersion",
        "# head of name",
        "# about a",
        "a: '1' # kept quoted",
        "- keep # stays",
    ] {
        assert!(out.contains(kept), "lost {kept:?}:\n{out}");
    }
    assert!(
        !out.contains("dropped"),
        "comment of a removed key kept:\n{out}"
    );
    assert!(
        out.contains("new: \"yes\"\n") && out.contains("num: \"123\"\n"),
        "strings that read as other types are quoted:\n{out}"
    );
    assert!(
        out.contains("  list:\n    - keep"),
        "the original's wide sequence indent is kept:\n{out}"
    );
    assert!(
        out.contains("added: |\n    line one\n"),
        "multi-line strings are literal blocks:\n{out}"
    );
}

/// An item is matched to the original of the same name by the name's data:
/// `name: true` is a bool, not the item named `'true'`, which keeps its own
/// quotes and comments (fuzz seed 110 case 259: it took the bool's comment and
/// lost its own).
#[test]
fn items_match_their_original_by_the_names_data_not_its_text() {
    let original = "\
apiVersion: example.com/v1
kind: Widget
metadata:
  name: w
spec:
  list:
    - ~
    - name: true # of the bool
    - args: plain # of args
      name: 'true'
";
    let value = json!({
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w", "labels": {"a": "b"}},
        "spec": {"list": [null, {"name": true}, {"args": "plain", "name": "true"}]}
    });
    let out = check(Some(original), &value);
    assert!(
        out.contains("    - args: plain # of args\n      name: 'true'\n"),
        "the item named 'true' lost its own comment or quotes:\n{out}"
    );
    assert_eq!(out.matches("# of the bool").count(), 1, "{out}");
}

#[test]
fn new_documents_use_kyaml_defaults() {
    let value = json!({"apiVersion": "v1", "kind": "List", "metadata": {"name": "demo", "annotations": {}},
        "items": [{"a": null, "b": true, "c": 1.5, "d": "", "e": " padded", "f": "- dash", "g": "on", "h": "n"}]});
    let out = check(None, &value.clone());
    assert_eq!(
        out,
        "apiVersion: v1\nkind: List\nmetadata:\n  name: demo\nitems:\n- a: null\n  b: true\n  c: 1.5\n  d: \"\"\n  e: ' padded'\n  f: '- dash'\n  g: \"on\"\n  h: \"n\"\n"
    );
}

/// An object kpt holds as read from `text`, styles kept, no annotations set.
fn kept_list_item<'a>(
    text: &'a str,
    value: &'a Value,
    document_head: bool,
) -> kyaml_format::ListItem<'a> {
    kyaml_format::ListItem {
        original: kyaml_format::Original::Text(text),
        value,
        restyled: kyaml_format::Restyle::Keep,
        document_head,
        reader_annotations: &[],
        added_annotations: &[],
        set_anew: &[],
    }
}

/// An object as an item of kpt's ResourceList, written inside the sequence as
/// go-yaml writes it (fuzz seed 1 cases 36, 177): the closing quote of a quoted
/// scalar that ends in a line break stays at column 0; and an object a function
/// held loses the `metadata` that only held kpt's annotations (a
/// kustomization.yaml; seed 1 cases 22, 153, 183).
#[test]
fn resource_list_items_are_written_inside_the_sequence() {
    let text = "resources:\n- r0.yaml\nnote: 'a\n\n  '\n";
    let value = json!({"resources": ["r0.yaml"], "note": "a\n", "metadata": {}});
    let item = kept_list_item(text, &value, true);
    let kyaml_format::SequenceItem { head, body, .. } = kyaml_format::format_sequence_item(&item);
    assert_eq!(head, "");
    assert_eq!(body, "- resources:\n  - r0.yaml\n  note: 'a\n\n'\n");
}

/// A document's head comment, once a mutator made it the object's, goes before
/// the item's `- ` with the blank lines between its blocks (the real kpt's
/// `-o stdout`; fuzz seed 1 case 1); the blank line below it goes.
#[test]
fn a_document_head_keeps_its_blank_lines_before_the_item() {
    let text = "# license\n# note\n\n# keep\n\napiVersion: v1\nkind: A\n";
    let value = json!({"apiVersion": "v1", "kind": "A"});
    let item = kept_list_item(text, &value, true);
    let kyaml_format::SequenceItem { head, body, .. } = kyaml_format::format_sequence_item(&item);
    assert_eq!(head, "# license\n# note\n\n# keep\n");
    assert_eq!(body, "- apiVersion: v1\n  kind: A\n");
}

/// A document that starts with an explicit `---`: go-yaml gives the comments
/// after it to the first key, blank lines and all, never to the document
/// (the real kpt, `-o stdout` and `-o unwrap`, mutated or not; fuzz seed 5
/// case 51).
#[test]
fn comments_after_an_explicit_document_start_belong_to_the_first_key() {
    let text =
        "---\n# note\n\n# keep\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\n";
    let value = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"}});
    for document_head in [false, true] {
        let item = kept_list_item(text, &value, document_head);
        let kyaml_format::SequenceItem { head, body, .. } =
            kyaml_format::format_sequence_item(&item);
        assert_eq!(head, "");
        assert_eq!(
            body,
            "- # note\n\n  # keep\n  apiVersion: apps/v1\n  kind: Deployment\n  metadata:\n    name: x\n"
        );
        let (head, body) = kyaml_format::format_list_item(&item, kyaml_format::SeqIndent::Compact);
        assert_eq!(
            head + &body,
            "# note\n\n# keep\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\n"
        );
    }
}

/// go-yaml sets a document's foot comment apart with a blank line, which under
/// a keep block scalar (`|+`) ending the document is one more empty line of
/// the value: kpt's text reads back as other data. The variant that keeps
/// values leaves that line out and is otherwise kpt's formatting (`key2: |`,
/// go-yaml's chomping indicator; fuzz seed 98 case 11).
#[test]
fn a_keep_scalar_above_a_document_foot_comment_keeps_its_value() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  key2: |+\n    # hash\n    echo $HOME\n  key3: |+\n    key: value\n\n# me me me do not edit\n# x do not edit beta TODO\n";
    let value = read(text).remove(0);
    let document = |restyled| kyaml_format::FileDocument {
        original: kyaml_format::Original::Text(text),
        value: &value,
        seq_indent: kyaml_format::SeqIndent::Compact,
        restyled,
        changed: false,
        set_annotations: &[],
        set_anew: &[],
    };
    let kpt = kyaml_format::format(text).unwrap();
    assert!(kpt.contains("  key2: |\n"));
    assert!(kpt.contains("key: value\n\n\n# me"));
    assert_ne!(read(&kpt), vec![value.clone()]);
    assert_eq!(
        kyaml_format::format_values_restyled(&[document(kyaml_format::Restyle::Keep)]),
        kpt
    );
    let kept = kyaml_format::format_values_restyled_keeping_values(&[document(
        kyaml_format::Restyle::Keep,
    )]);
    assert_eq!(
        kept,
        kpt.replace("key: value\n\n\n# me", "key: value\n\n# me")
    );
    assert_eq!(read(&kept), vec![value.clone()]);
}

/// go-yaml writes a folded scalar with a line break before a more-indented
/// line that reads back into the value (`yaml_emitter_write_folded_scalar`
/// looks for the next line from the value's start); the variant that keeps
/// values leaves that break out and is otherwise kpt's text: a block scalar
/// at go-yaml's indentation, one space before a line comment (fuzz seed s1
/// case 39, a function's input).
#[test]
fn a_folded_scalar_before_a_more_indented_line_keeps_its_value() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  annotations:\n    note: |\n        indented\ndata:\n  key0: >\n    key: value\n    line one\n      indented\n  key1: \"q\"  # c\n";
    let value = read(text).remove(0);
    let document = kyaml_format::FileDocument {
        original: kyaml_format::Original::Text(text),
        value: &value,
        seq_indent: kyaml_format::SeqIndent::Compact,
        restyled: kyaml_format::Restyle::Keep,
        changed: false,
        set_annotations: &[],
        set_anew: &[],
    };
    let kpt = kyaml_format::format_values_restyled(&[document]);
    assert!(kpt.contains("  key0: >\n    key: value line one\n\n      indented\n"));
    assert_ne!(read(&kpt), vec![value.clone()]);
    let kept = kyaml_format::format_values_restyled_keeping_values(&[document]);
    assert_eq!(
        kept,
        kpt.replace("line one\n\n      indented", "line one\n      indented")
    );
    assert!(kept.contains("    note: |\n      indented\n") && kept.contains("key1: \"q\" # c\n"));
    assert_eq!(read(&kept), vec![value.clone()]);
}

/// kyaml's `SetAnnotation` drops an empty `annotations` field first
/// (`ClearEmptyAnnotations`) and adds a new block mapping at the end of
/// `metadata`: kpt gives a function `annotations: {}` that way, with its ids
/// (fuzz seed 104 case 2943: in flow style, lummo's text of the object was
/// refused and the function got it without its comments).
#[test]
fn an_empty_annotations_mapping_given_annotations_is_a_new_block_field() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  annotations: {}\n  name: x\ndata:\n  setting: on2\n# foot";
    let mut value = read(text).remove(0);
    value["metadata"]["annotations"]["config.k8s.io/id"] = "2".into();
    let written = kyaml_format::format_values_restyled(&[kyaml_format::FileDocument {
        original: kyaml_format::Original::Text(text),
        value: &value,
        seq_indent: kyaml_format::SeqIndent::Compact,
        restyled: kyaml_format::Restyle::Keep,
        changed: false,
        set_annotations: &["config.k8s.io/id"],
        set_anew: &[],
    }]);
    assert_eq!(
        written,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  annotations:\n    config.k8s.io/id: '2'\ndata:\n  setting: on2\n  # foot\n"
    );
}

/// A file ending in a comment without a line break: go-yaml reads it as the
/// foot of the last key (fuzz seed 119 case 461). go-yaml writes a blank line
/// after a `>` value's last line, and the comment below that blank line would
/// read back as the document's foot; `round_trip` leaves that line out, so its
/// text reads back as the file did.
#[test]
fn a_round_trip_reads_back_as_the_text_did() {
    let text = "a:\n  k: >\n    x\n    y\n# c";
    let written = kyaml_format::round_trip(text).unwrap();
    assert_eq!(written, "a:\n  k: >\n    x y\n  # c\n");
    assert_eq!(kyaml_format::format(&written), kyaml_format::format(text));
}

/// A step that round-trips its objects through JSON (set-namespace before
/// v0.3) respells `1.10` as `1.1`; kpt then gives a sequence item its comments
/// back only where the item's text is the same (kyaml `copier.VisitList`
/// compares `Value`), so the item loses its line comment while a mapping
/// value respelled the same way keeps its own (`VisitScalar` copies
/// regardless): fuzz seed i131 case 21, a later step's input.
#[test]
fn a_sequence_item_json_respells_loses_its_comments() {
    let text = "apiVersion: v1\nkind: A\nmetadata:\n  name: x\nspec:\n  items:\n  - 1.10  # respelled\n  - 'x'  # kept\n  - a: 1.10  # in a mapping\n  value: 1.10  # on a key\n";
    // the objects as the step gave them back, numbers as JSON spells them
    let value = read(&text.replace("1.10", "1.1")).remove(0);
    let document = kyaml_format::FileDocument {
        original: kyaml_format::Original::Text(text),
        value: &value,
        seq_indent: kyaml_format::SeqIndent::Compact,
        restyled: kyaml_format::Restyle::All,
        changed: false,
        set_annotations: &[],
        set_anew: &[],
    };
    assert_eq!(
        kyaml_format::format_values_restyled(&[document]),
        "apiVersion: v1\nkind: A\nmetadata:\n  name: x\nspec:\n  items:\n  - 1.1\n  - x # kept\n  - a: 1.1 # in a mapping\n  value: 1.1 # on a key\n"
    );
}
