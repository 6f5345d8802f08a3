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

/// An indentless block sequence whose first item is a flow collection stays a
/// block sequence (go-yaml keeps each node's style: parserc.go emits a block
/// SEQUENCE-START for `- ` items, a flow one only for `[`).
#[test]
fn indentless_list_of_flow_collections_stays_a_block_list() {
    let input = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: q\nspec:\n  items:\n  - {topic: a, subscription: b}\n  - [c, d]\n  lists:\n  - [e, f]\n  - {g: h}\n";
    assert_kpt(input, input);
}
