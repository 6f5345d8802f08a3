//! Small inputs and what the real kpt (v1.0.0-beta.56, `kpt fn render` with a
//! Kptfile without pipeline) wrote for each, byte for byte: reduced from
//! differences found on real packages. `format` must give kpt's bytes and be a
//! fixed point on them.

fn assert_kpt(input: &str, kpt: &str) {
    let got = kyaml_format::format(input).unwrap();
    assert_eq!(got, kpt, "format differs from kpt for\n{input}");
    assert_eq!(kyaml_format::format(kpt).unwrap(), kpt, "not a fixed point");
}

/// go-yaml's scanner reads a comment up to the line break (scannerc.go
/// `yaml_parser_scan_comments` / `yaml_parser_scan_line_comment`), trailing blanks
/// included, and the emitter writes it back as read.
#[test]
fn comments_keep_their_trailing_whitespace() {
    let input = "# head of the document  \n\n# head of apiVersion \napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm # line comment  \ndata:\n  # head of a\t\n  a: b\n  list:\n  - x # item line \n  # foot of the list \n  c: d\n";
    assert_kpt(input, input);
}

/// A comment at the column of an indentless list's `- `, right below an item
/// mapping's last line and above a blank line, is no block's foot: go-yaml's
/// parser hands it to its next event, the first key of the next item, which
/// keeps it (`parser.mapping`), and the emitter writes it below that key with a
/// blank line (the real kpt reading its `-o stdout` back for `-o unwrap`; fuzz
/// seed 1 case 1). After a scalar item it stays that item's foot.
#[test]
fn a_foot_above_the_next_item_goes_to_its_first_key() {
    let input = "apiVersion: v1\nkind: L\nmetadata:\n  name: x\nitems:\n- x: 1\n  z:\n    q: 3\n# foot\n\n# head\n- y: 2\n  w: 4\n- s\n# foot of s\n\n- t\n";
    let kpt = "apiVersion: v1\nkind: L\nmetadata:\n  name: x\nitems:\n- x: 1\n  z:\n    q: 3\n# head\n- y: 2\n  # foot\n\n  w: 4\n- s\n# foot of s\n\n- t\n";
    assert_kpt(input, kpt);
}

/// A file whose last line is a comment and no line break: go-yaml's scanner
/// closes before the comment only the blocks indented deeper than that line
/// ends, so the comment is the foot of the innermost key still open there,
/// unless a comment stands at that block's own column (expected texts: the
/// real kpt writing each file in place; fuzz seed 71 case 78).
#[test]
fn a_comment_ending_the_file_without_a_line_break_stays_in_the_open_block() {
    let cases = [
        (
            "apiVersion: v1\nkind: C\nmetadata:\n  name: x\n  labels:\n    a: b\n# c1\n# c2",
            "apiVersion: v1\nkind: C\nmetadata:\n  name: x\n  labels:\n    a: b\n    # c1\n    # c2\n",
        ),
        (
            "apiVersion: v1\nkind: C\nmetadata:\n  name: x\n# c1\n\n# c2",
            "apiVersion: v1\nkind: C\nmetadata:\n  name: x\n  # c1\n\n# c2\n",
        ),
        // Ends before the blocks deeper than the line: `#` ends at column 1.
        (
            "apiVersion: v1\nkind: C\nmetadata:\n  name: x\n  labels:\n    a: b\n#",
            "apiVersion: v1\nkind: C\nmetadata:\n  name: x\n  labels:\n    a: b\n#\n",
        ),
        // A comment at a block's column closes it.
        (
            "apiVersion: v1\nkind: C\nmetadata:\n  name: x\n  # c1\n# c2",
            "apiVersion: v1\nkind: C\nmetadata:\n  name: x\n  # c1\n# c2\n",
        ),
        // A list's foot stays where it is.
        (
            "apiVersion: v1\nkind: C\nmetadata:\n  name: x\ndata:\n  - a\n# c1",
            "apiVersion: v1\nkind: C\nmetadata:\n  name: x\ndata:\n  - a\n# c1\n",
        ),
    ];
    for (input, kpt) in cases {
        assert_kpt(input, kpt);
    }
}

/// A comment after a blank line at a block's column, where the next key is less
/// indented, closes that block: go-yaml's parser puts it on the block, and the
/// decoder on the key owning the block (past a list's items); the emitter writes
/// it at that key's column, a blank line after (fuzz seed 1 case 1: lummo put it
/// on the block's last key, and lost it with the annotations kpt adds there).
#[test]
fn comment_closing_a_block_goes_to_its_key() {
    let input = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  # foot of name\n\n  # foot of metadata\ndata:\n  a: b\nspec:\n  a:\n    b: 1\n    # c1\n\n    # c2\n  d: 2\n  e:\n  - f: 1\n    # c3\n\n    # c4\n  g: 1\n";
    let kpt = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  # foot of name\n# foot of metadata\n\ndata:\n  a: b\nspec:\n  a:\n    b: 1\n    # c1\n  # c2\n\n  d: 2\n  e:\n  - f: 1\n    # c3\n  # c4\n\n  g: 1\n";
    assert_kpt(input, kpt);
}

/// An indentless block sequence whose first item is a flow collection stays a
/// block sequence (go-yaml keeps each node's style: parserc.go emits a block
/// SEQUENCE-START for `- ` items, a flow one only for `[`).
#[test]
fn indentless_list_of_flow_collections_stays_a_block_list() {
    let input = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: q\nspec:\n  items:\n  - {topic: a, subscription: b}\n  - [c, d]\n  lists:\n  - [e, f]\n  - {g: h}\n";
    assert_kpt(input, input);
}

/// go-yaml v3 resolves a plain `0755` as Go's `strconv.ParseInt(s, 0, 64)` does:
/// octal 493 (resolve.go; YAML 1.1 octals kept "for compatibility"). A document a
/// function changed elsewhere keeps the node, as kyaml keeps every node whose
/// value is unchanged: `0755`, not `493` (nor `755`, which is another value).
#[test]
fn octal_integer_keeps_its_spelling() {
    let original = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: q\nspec:\n  volumes:\n  - name: v\n    configMap:\n      name: c\n      defaultMode: 0755\n      other: 0o17\n      hex: 0x1F\n";
    let limits = krm_sdk::yaml::Limits::default();
    let mut value = krm_sdk::yaml::parse_documents(original, &limits)
        .unwrap()
        .remove(0);
    assert_eq!(value["spec"]["volumes"][0]["configMap"]["defaultMode"], 493);
    value["metadata"]["namespace"] = "ns".into();
    let out = kyaml_format::format_value(Some(original), &value, kyaml_format::SeqIndent::Compact);
    assert_eq!(
        out,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: q\n  namespace: ns\nspec:\n  volumes:\n  - name: v\n    configMap:\n      name: c\n      defaultMode: 0755\n      other: 0o17\n      hex: 0x1F\n"
    );
    // The decimal 755 is another value: written afresh.
    value["spec"]["volumes"][0]["configMap"]["defaultMode"] = 755.into();
    let out = kyaml_format::format_value(Some(original), &value, kyaml_format::SeqIndent::Compact);
    assert!(out.contains("      defaultMode: 755\n"), "{out}");
}

/// Two list items with the same `name`: each keeps its own styles and comments.
/// kpt keeps the nodes a function (kyaml-based, like apply-setters) left alone,
/// so nothing moves from one item to the other; the real kpt with apply-setters
/// setting `tag` left this document as it was, but for `v3`.
#[test]
fn list_items_with_the_same_name_keep_their_own_styles() {
    let original = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\nspec:\n  steps:\n    # head first\n    - name: builder # line first\n      id: \"first\" # id first\n    # head second\n    - name: builder # line second\n      id: \"second\"\n      args:\n        - \"x\"\n  tag: v2 # kpt-set: ${tag}\n";
    let limits = krm_sdk::yaml::Limits::default();
    let mut value = krm_sdk::yaml::parse_documents(original, &limits)
        .unwrap()
        .remove(0);
    value["spec"]["tag"] = "v3".into();
    let indent = kyaml_format::derive_seq_indent(original);
    let out = kyaml_format::format_value(Some(original), &value, indent);
    assert_eq!(out, original.replace("tag: v2", "tag: v3"));
    // Items reordered: matched by name, the n-th item of a name with the n-th
    // original of that name.
    let items = value["spec"]["steps"].as_array_mut().unwrap();
    items.insert(0, serde_json::json!({"name": "new"}));
    let out = kyaml_format::format_value(Some(original), &value, indent);
    assert!(out.contains("    # head first\n    - name: builder # line first\n      id: \"first\" # id first\n    # head second\n    - name: builder # line second\n      id: \"second\"\n"), "{out}");
}

/// A comment line less indented than the block it follows, and not at the column
/// of the comment above it, ends that comment: go-yaml's scanner makes the text so
/// far a foot comment (of the token before the run, whatever its column) and goes
/// on with a new text; a blank line inside a head comment stays; a comment at a
/// block's column after its last node is the foot of that block's last key.
#[test]
fn foot_comments_keep_their_own_columns() {
    let cases = [
        (
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\nspec:\n  ref:\n    external: a\n    # inner foot\n  # outer foot\n\n  # head of b\n  b: c\n",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\nspec:\n  ref:\n    external: a\n    # inner foot\n  # outer foot\n\n  # head of b\n  b: c\n",
        ),
        (
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  c: d\n  # map foot\n# doc foot\n",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  c: d\n  # map foot\n# doc foot\n",
        ),
        (
            "apiVersion: v1\nkind: A\nmetadata:\n  name: x\nspec:\n  m:\n    a: b\n  # x\n# y\n",
            "apiVersion: v1\nkind: A\nmetadata:\n  name: x\nspec:\n  m:\n    a: b\n    # x\n# y\n",
        ),
        (
            "apiVersion: v1\nkind: A\nmetadata:\n  name: x\nspec:\n  m:\n    a: b\n\n  # x\n# y\n\nz: 1\n",
            "apiVersion: v1\nkind: A\nmetadata:\n  name: x\nspec:\n  m:\n    a: b\n    # x\n# y\nz: 1\n",
        ),
        (
            "apiVersion: v1\nkind: A\nmetadata:\n  name: x\nz:\n  - a\n# foot\n",
            "apiVersion: v1\nkind: A\nmetadata:\n  name: x\nz:\n  - a\n# foot\n",
        ),
    ];
    for (input, kpt) in cases {
        assert_kpt(input, kpt);
    }
}

/// After the last node, comments directly below it are its foot (no blank line);
/// comments after a blank line are the document's foot comment (go-yaml's parser
/// turns the head comment left at the end into the DOCUMENT-END's foot), which the
/// emitter writes after a blank line, however deep the last node was.
#[test]
fn document_foot_after_a_blank_line_keeps_it() {
    let cases = [
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  annotations:\n    a: b\n\n# TODO at the end\n",
        "apiVersion: v1\nkind: A\nmetadata:\n  name: x\nz: 1\n# foot\n",
        "apiVersion: v1\nkind: A\nmetadata:\n  name: x\nz: 1\n# foot\n\n# foot2\n",
    ];
    for input in cases {
        assert_kpt(input, input);
    }
}

/// A comment at a list item's key column, less indented than the comments
/// before it, where the list's next item follows: only the item's mapping ends
/// there, and go-yaml's `parser.mapping` gives its foot to that mapping's last
/// key; kpt writes it back where it was (fuzz seed 107 case 140: lummo gave it
/// to the key owning the list and wrote it below the list; in `-o unwrap` it
/// was lost with the ResourceList's `items`).
#[test]
fn comment_closing_a_list_items_mapping_stays_with_the_item() {
    let input = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\nspec:\n- b: 1\n  c:\n    d: 1\n    # hash\n  # license\n- e: 2\n";
    assert_kpt(input, input);
}
